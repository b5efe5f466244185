// The server's Prometheus metrics: one registry per running server, fed by small record…
// functions that each event's single call site invokes (the access-log call of both request
// paths, the reloader, the gate, the upload handler, the render cache), and read by a scrape
// (`text()`). Recording is plain arithmetic on preallocated numbers; everything Prometheus
// needs (label sets, cumulative buckets, strings) is built at scrape time. Gauges whose
// truth lives elsewhere (the snapshot, the guard's tables, the inventory) are read through
// callbacks at scrape time, so they can never drift from what they report.

import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { BucketHistogram, RELOAD_SECONDS, RENDER_SECONDS, REQUEST_SECONDS, type Labels, type SampleValue } from './accumulators.js';
import { KINDS, MAX_VENDORS, STATUS_SLOTS, kindIndex, statusLabel, statusSlot, vendorLabel } from './labels.js';

export interface SnapshotView {
  id: string;
  loadedAt: Date;
  devices: number;
}

/** What the server's other parts tell the metrics at scrape time. All optional: absent means no series. */
export interface MetricSources {
  snapshot?: () => SnapshotView;
  /** Whether the serving config is healthy (the last reload was accepted, nothing degraded). */
  healthy?: () => boolean;
  /** Clients cooling down and devices locked right now (EnumerationGuard.stats()). */
  guard?: () => { coolingDown: number; locked: number };
  /** Rendered files held by the serving snapshot's cache. */
  cachedFiles?: () => number;
}

/**
 * Devices in the inventory by their last provision result (`ok`, `auth_failed`, …). The state
 * store owns the inventory; the server wires it with `setInventorySource` (see docs/monitoring.md).
 */
export type InventorySource = () => Record<string, number> | Promise<Record<string, number>>;

/** Distinct inventory results shown; a store with more would be a bug, not a fleet. */
const MAX_RESULTS = 32;
/** A store slower than this (a database gone away) must not hang the scrape: no series this time. */
const INVENTORY_TIMEOUT_MS = 2000;

export type ReloadResult = 'accepted' | 'rejected' | 'failed';

type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event-loop lag, GC). Default true. */
  process?: boolean;
  /** Wall clock for ages, injectable for tests. */
  now?: () => number;
}

/**
 * Node's process metrics, collected once per process however many servers it runs (tests run
 * dozens): each collectDefaultMetrics call starts its own event-loop monitor and GC observer.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly withProcess: boolean;
  private readonly now: () => number;
  private sources: MetricSources = {};
  private inventory?: InventorySource;

  /** vendor → counts at [kind * STATUS_SLOTS + status slot]. */
  private readonly requests = new Map<string, Float64Array>();
  private readonly requestSeconds = new BucketHistogram(REQUEST_SECONDS, KINDS.length);
  private readonly renderSeconds = new Map<string, BucketHistogram>();
  private cacheHits = 0;
  private cacheMisses = 0;
  private renderFailures = 0;

  private readonly reloads = { accepted: 0, rejected: 0, failed: 0 };
  private readonly reloadSeconds = new BucketHistogram(RELOAD_SECONDS, 2);
  private lastReloadSuccess?: number;
  private lastReloadFailure?: number;
  /** When the first change the serving snapshot lacks was refused; undefined while up to date. */
  private behindSince?: number;

  private cooldowns = 0;
  private authFailures = 0;
  private lockouts = 0;
  private blocked = 0;

  private inventoryErrors = 0;
  /** Read from the store at the start of each scrape (text()), so both inventory metrics agree. */
  private inventoryCounts?: Record<string, number>;
  private uploadBytes = 0;
  private uploadsAccepted = 0;
  private readonly uploadRejections = new Float64Array(STATUS_SLOTS);

  constructor(opts: MetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.withProcess = opts.process !== false;
    if (this.withProcess) processMetrics();
    this.define();
  }

  /** Connect the gauges read at scrape time (the server calls this once it has its parts). */
  wire(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The inventory gauge's feed; until set, `deskset_inventory_devices` has no series. */
  setInventorySource(source: InventorySource | undefined): void {
    this.inventory = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text a scrape gets: this server's metrics, then the process's. */
  async text(): Promise<string> {
    this.inventoryCounts = this.inventory ? await this.readInventory(this.inventory) : undefined;
    return (this.withProcess ? Registry.merge([this.registry, processMetrics()]) : this.registry).metrics();
  }

  // ---- record… : one call site per event ---------------------------------------------------

  /** A request answered (both request paths, where the access line is written). */
  recordRequest(vendor: string | undefined, kind: string | undefined, status: number, ms: number): void {
    const k = kindIndex(kind);
    let row = this.requests.get(vendor ?? '');
    if (row === undefined) row = this.addVendor(vendor ?? '');
    row[k * STATUS_SLOTS + statusSlot(status)]!++;
    this.requestSeconds.observe(k, ms / 1000);
  }

  /** A rendered file came from the snapshot's cache. */
  recordCacheHit(): void {
    this.cacheHits++;
  }

  /** A cache miss: a template ran for `ms`; `ok` false when it failed or did not validate. */
  recordRender(vendor: string | undefined, ms: number, ok: boolean): void {
    this.cacheMisses++;
    if (!ok) this.renderFailures++;
    const v = vendorLabel(vendor);
    const key = this.renderSeconds.has(v) || this.renderSeconds.size < MAX_VENDORS ? v : 'other';
    let h = this.renderSeconds.get(key);
    if (h === undefined) this.renderSeconds.set(key, (h = new BucketHistogram(RENDER_SECONDS)));
    h.observe(0, ms / 1000);
  }

  /** A reload finished: accepted (swapped in), rejected (invalid, last good kept), failed (threw). */
  recordReload(result: ReloadResult, ms?: number): void {
    this.reloads[result]++;
    const now = this.now();
    if (ms !== undefined && result !== 'failed') this.reloadSeconds.observe(result === 'accepted' ? 0 : 1, ms / 1000);
    if (result === 'accepted') {
      this.lastReloadSuccess = now;
      this.behindSince = undefined;
    } else {
      this.lastReloadFailure = now;
      this.behindSince ??= now;
    }
  }

  /** The enumeration guard's events (gate.ts hands each one over as it logs it). */
  recordGuardEvent(event: 'mac_enumeration' | 'auth_failed' | 'device_locked'): void {
    if (event === 'mac_enumeration') this.cooldowns++;
    else if (event === 'auth_failed') this.authFailures++;
    else {
      // The failure that locks is a failure too.
      this.authFailures++;
      this.lockouts++;
    }
  }

  /** A request refused with 429 because its client is cooling down. */
  recordBlocked(): void {
    this.blocked++;
  }

  /** A PUT finished: 2xx stores `bytes`, anything else is a rejection. */
  recordUpload(status: number, bytes: number | undefined): void {
    if (status >= 200 && status < 300) {
      this.uploadsAccepted++;
      if (typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0) this.uploadBytes += bytes;
    } else {
      this.uploadRejections[statusSlot(status)]!++;
    }
  }

  // ---- definitions -------------------------------------------------------------------------

  private addVendor(vendor: string): Float64Array {
    // Vendors come from the snapshot's own manifests, so they are few; the cap is a backstop.
    const key = this.requests.size < MAX_VENDORS ? vendor : 'other';
    let row = this.requests.get(key);
    if (!row) this.requests.set(key, (row = new Float64Array(KINDS.length * STATUS_SLOTS)));
    return row;
  }

  private define(): void {
    const m = (name: string, help: string, type: MetricType, values: () => SampleValue[] | Promise<SampleValue[]>) => this.collected(name, help, type, values);
    const one = (value: number | undefined, labels: Labels = {}): SampleValue[] => (value === undefined ? [] : [{ value, labels }]);

    m('deskset_requests_total', 'Requests answered, by vendor, file kind and HTTP status.', 'counter', () => {
      const out: SampleValue[] = [];
      for (const [vendor, row] of this.requests) {
        for (let i = 0; i < row.length; i++) {
          if (row[i] === 0) continue;
          const kind = KINDS[Math.floor(i / STATUS_SLOTS)]!;
          out.push({ value: row[i]!, labels: { vendor: vendorLabel(vendor), kind, status: statusLabel(i % STATUS_SLOTS) } });
        }
      }
      return out;
    });
    m('deskset_request_duration_seconds', 'Time from a request arriving to its reply being written, by file kind.', 'histogram', () =>
      this.requestSeconds.values('deskset_request_duration_seconds', (k) => ({ kind: KINDS[k]! })),
    );
    m('deskset_render_duration_seconds', 'Time to render one file from its template (cache misses only), by vendor.', 'histogram', () =>
      [...this.renderSeconds].flatMap(([vendor, h]) => h.values('deskset_render_duration_seconds', () => ({ vendor }))),
    );
    m('deskset_render_cache_hits_total', 'Rendered files answered from the snapshot cache.', 'counter', () => one(this.cacheHits));
    m('deskset_render_cache_misses_total', 'Rendered files that had to be rendered (not in the cache).', 'counter', () => one(this.cacheMisses));
    m('deskset_render_failures_total', 'Renders that failed or did not validate (the phone got a 500).', 'counter', () => one(this.renderFailures));
    m('deskset_render_cache_files', 'Rendered files held in the serving snapshot cache.', 'gauge', () => one(this.sources.cachedFiles?.()));

    m('deskset_snapshot_info', 'The serving snapshot (its id as a label; always 1).', 'gauge', () => {
      const s = this.sources.snapshot?.();
      return s ? [{ value: 1, labels: { id: s.id } }] : [];
    });
    m('deskset_snapshot_devices', 'Devices in the serving snapshot.', 'gauge', () => one(this.sources.snapshot?.().devices));
    m('deskset_snapshot_loaded_timestamp_seconds', 'When the serving snapshot was built (Unix time).', 'gauge', () => {
      const s = this.sources.snapshot?.();
      return one(s && s.loadedAt.getTime() / 1000);
    });
    m('deskset_snapshot_age_seconds', 'Seconds since the serving snapshot was built.', 'gauge', () => {
      const s = this.sources.snapshot?.();
      return one(s && Math.max(0, (this.now() - s.loadedAt.getTime()) / 1000));
    });
    m('deskset_snapshot_behind_seconds', 'Seconds since a change on disk was first refused and is still not live (0 when the snapshot is current).', 'gauge', () =>
      one(this.behindSince === undefined ? 0 : Math.max(0, (this.now() - this.behindSince) / 1000)),
    );
    m('deskset_config_healthy', '1 when the last reload was accepted and nothing is degraded, else 0 (as /healthz).', 'gauge', () => {
      const h = this.sources.healthy?.();
      return one(h === undefined ? undefined : h ? 1 : 0);
    });
    m('deskset_reloads_total', 'Reloads by result: accepted (swapped in), rejected (invalid, last good kept), failed (could not run).', 'counter', () =>
      (['accepted', 'rejected', 'failed'] as const).map((result) => ({ value: this.reloads[result], labels: { result } })),
    );
    m('deskset_reload_duration_seconds', 'Time to build and validate a new snapshot, by result.', 'histogram', () =>
      this.reloadSeconds.values('deskset_reload_duration_seconds', (s) => ({ result: s === 0 ? 'accepted' : 'rejected' })),
    );
    m('deskset_reload_last_success_timestamp_seconds', 'When a reload was last accepted (Unix time).', 'gauge', () => one(this.lastReloadSuccess && this.lastReloadSuccess / 1000));
    m('deskset_reload_last_failure_timestamp_seconds', 'When a reload was last rejected or failed (Unix time).', 'gauge', () => one(this.lastReloadFailure && this.lastReloadFailure / 1000));

    m('deskset_enumeration_cooldowns_total', 'Clients cooled down for asking for too many different MACs.', 'counter', () => one(this.cooldowns));
    m('deskset_enumeration_blocked_requests_total', 'Requests refused (429) because their client was cooling down.', 'counter', () => one(this.blocked));
    m('deskset_auth_failures_total', 'Failed device authentications.', 'counter', () => one(this.authFailures));
    m('deskset_device_lockouts_total', 'Device locks after repeated failed authentications from one client.', 'counter', () => one(this.lockouts));
    m('deskset_enumeration_clients_cooling_down', 'Clients cooling down right now.', 'gauge', () => one(this.sources.guard?.().coolingDown));
    m('deskset_devices_locked', 'Device and client pairs locked right now.', 'gauge', () => one(this.sources.guard?.().locked));

    m('deskset_upload_bytes_total', 'Bytes accepted from phone uploads (PUT).', 'counter', () => one(this.uploadBytes));
    m('deskset_uploads_total', 'Phone uploads accepted (2xx).', 'counter', () => one(this.uploadsAccepted));
    m('deskset_upload_rejections_total', 'Phone uploads refused, by HTTP status.', 'counter', () => {
      const out: SampleValue[] = [];
      this.uploadRejections.forEach((v, i) => v && out.push({ value: v, labels: { status: statusLabel(i) } }));
      return out;
    });

    m('deskset_inventory_devices', 'Devices in the inventory by their last provision result (absent while no inventory is wired).', 'gauge', () => {
      const counts = this.inventoryCounts;
      if (!counts) return [];
      return Object.entries(counts)
        .filter(([, n]) => typeof n === 'number' && Number.isFinite(n))
        .slice(0, MAX_RESULTS)
        .map(([result, value]) => ({ value, labels: { result } }));
    });
    m('deskset_inventory_errors_total', 'Scrapes that could not read the inventory (the store failed or took over 2 s).', 'counter', () => one(this.inventoryErrors));
  }

  /** The inventory's counts, or undefined (counted) when the store fails or is too slow. */
  private async readInventory(source: InventorySource): Promise<Record<string, number> | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), INVENTORY_TIMEOUT_MS)));
    try {
      const counts = await Promise.race([Promise.resolve().then(source), late]);
      if (counts === undefined) this.inventoryErrors++;
      return counts;
    } catch {
      this.inventoryErrors++;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A metric whose values are computed at scrape time. prom-client formats any registered
   * object with name, help, type and get(); its own classes would need a label hash per record.
   */
  private collected(name: string, help: string, type: MetricType, values: () => SampleValue[] | Promise<SampleValue[]>): void {
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: await values() }),
    };
    this.registry.registerMetric(metric as unknown as Metric);
  }
}
