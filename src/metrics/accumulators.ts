// Plain-number accumulators for the request path, and their translation into prom-client's
// exposition values at scrape time. prom-client's own `inc(labels)`/`observe(labels)` build a
// label-hash string (and, for histograms, a closure) on every call; here a request costs a
// few array increments and the formatting work happens only when Prometheus scrapes.

export type Labels = Record<string, string | number>;

export interface SampleValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** Upper bounds in seconds: a cached reply takes well under a millisecond, a cold render a few. */
export const REQUEST_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
export const RENDER_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Reloads: a one-file edit takes tens of ms, a global change at 100,000 devices tens of seconds. */
export const RELOAD_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * A fixed-bucket histogram over a small, fixed number of series (one per label combination,
 * chosen by the caller as an index). Counts are kept per bucket, not cumulative; `values`
 * makes them cumulative, as the exposition format wants.
 */
export class BucketHistogram {
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly totals: Float64Array;
  private readonly width: number;

  constructor(
    readonly bounds: readonly number[],
    readonly seriesCount = 1,
  ) {
    this.width = bounds.length + 1; // the last slot is +Inf
    this.counts = new Float64Array(this.width * seriesCount);
    this.sums = new Float64Array(seriesCount);
    this.totals = new Float64Array(seriesCount);
  }

  observe(series: number, value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[series * this.width + i]!++;
    this.sums[series] += value;
    this.totals[series]!++;
  }

  count(series = 0): number {
    return this.totals[series]!;
  }

  /** Exposition values for the series that saw at least one observation. */
  values(name: string, labelsOf: (series: number) => Labels): SampleValue[] {
    const out: SampleValue[] = [];
    for (let s = 0; s < this.seriesCount; s++) {
      if (this.totals[s] === 0) continue;
      const labels = labelsOf(s);
      let running = 0;
      for (let i = 0; i < this.width; i++) {
        running += this.counts[s * this.width + i]!;
        out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: running });
      }
      out.push({ metricName: `${name}_sum`, labels, value: this.sums[s]! });
      out.push({ metricName: `${name}_count`, labels, value: this.totals[s]! });
    }
    return out;
  }
}
