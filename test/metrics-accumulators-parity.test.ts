// src/metrics/accumulators.ts counts requests its own way (plain arrays) instead of through
// prom-client's labelled inc/observe. Parity: the same observations give prom-client's own
// histogram's exposition values, bucket for bucket, sum and count, series by series.

import { Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram, REQUEST_SECONDS, type SampleValue } from '../src/metrics/accumulators.js';

const keyed = (vs: readonly SampleValue[]) =>
  new Map(vs.map((v) => [`${v.metricName}{${Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).sort().join(',')}}`, v.value]));

describe('BucketHistogram against prom-client Histogram', () => {
  it.each([1, 2, 3])('seed %i: 5,000 observations over 4 series, boundary values included', async (seed) => {
    // mulberry32, the bench's seeded generator: the same values on every run.
    const { prng } = await import('../bench/gen-root.js');
    const rnd = prng(seed).next;
    const ours = new BucketHistogram(REQUEST_SECONDS, 4);
    const theirs = new Histogram({ name: 'x', help: 'x', labelNames: ['s'], buckets: [...REQUEST_SECONDS], registers: [] });
    for (let i = 0; i < 5000; i++) {
      const s = Math.floor(rnd() * 3); // series 3 never observed: absent on both sides
      // A tenth land exactly on a bound (le is inclusive), the rest spread over 0..3 s.
      const v = rnd() < 0.1 ? REQUEST_SECONDS[Math.floor(rnd() * REQUEST_SECONDS.length)]! : rnd() ** 4 * 3;
      ours.observe(s, v);
      theirs.observe({ s: String(s) }, v);
    }
    const want = keyed((await theirs.get()).values as SampleValue[]);
    const got = keyed(ours.values('x', (s) => ({ s: String(s) })));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(got.get(k), k).toBeCloseTo(v, 9);
  });
});
