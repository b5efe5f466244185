// The inventory's hot-path side: observe() only pushes onto an array; a timer turns the
// array into observations and writes them to the state store in one batch every
// `inventory.flush_ms`. The phone never waits for the database. A crash loses what was
// observed since the last flush: at most one interval.

import type { Logger } from 'pino';
import type { AccessRecord } from '../pipeline/access.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Observation, ObservationWriter, StateStore } from '../store/contract.js';
import type { Required } from '../store/provision-result.js';
import { judgeFor, requiredFiles } from './judge.js';
import { observationOf, type Seen } from './observation.js';
import { Repeats } from './repeats.js';
import { timeSlices } from '../service/slices.js';

/** Requests kept between flushes at most; beyond, they are counted and dropped (the store is down or slow). */
export const MAX_BUFFERED = 200_000;

/** Observations per transaction. */
const WRITE_SLICE = 500;

export interface InventoryOptions {
  store: StateStore;
  /** The snapshot requests are judged against (the server's current one). */
  snapshot: () => Snapshot;
  /** The ETag the current snapshot serves at a path (through the server's render cache). */
  etagOf: (path: string) => string | undefined;
  flushMs: number;
  /** A fetch that repeats the last one written within this time is not written again (repeats.ts). */
  touchMs: number;
  maxUnknown: number;
  log: Logger;
}

export class Inventory {
  private buffer: Seen[] = [];
  private dropped = 0;
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly repeats: Repeats;
  /** Where the store has one, batches are written on its own thread. */
  private readonly writer: ObservationWriter | undefined;
  /** Observations written since start (for tests and /-/status). */
  written = 0;

  constructor(private readonly opts: InventoryOptions) {
    this.repeats = new Repeats(opts.touchMs);
    this.writer = opts.store.observationWriter?.();
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
    this.timer.unref();
  }

  /** Called beside logAccess for every request; cheap: no parsing, no I/O. */
  observe(r: AccessRecord, userAgent: string | undefined, etag: string | undefined): void {
    if (r.mac === undefined) return;
    if (this.buffer.length >= MAX_BUFFERED) {
      this.dropped++;
      return;
    }
    this.buffer.push({ r, userAgent, etag, t: Date.now() });
  }

  /** Write what is buffered (one flush at a time; a tick during a slow flush waits for the next). */
  flush(): Promise<void> {
    if (this.running) return this.running;
    if (!this.buffer.length) return Promise.resolve();
    const taken = this.buffer;
    this.buffer = [];
    this.running = this.write(taken).finally(() => (this.running = undefined));
    return this.running;
  }

  private async write(taken: Seen[]): Promise<void> {
    const snap = this.opts.snapshot();
    const batch = [];
    for (const s of taken) {
      if (this.repeats.isRepeat(s, snap.id)) continue;
      const o = observationOf(s, snap);
      if (o) batch.push(o);
    }
    const judge = judgeFor(snap, this.opts.etagOf);
    try {
      // In slices, each its own transaction, with the event loop free between them: a boot
      // storm's batch must not hold up the phones for the whole write.
      for (let i = 0; i < batch.length; i += WRITE_SLICE) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        const slice = batch.slice(i, i + WRITE_SLICE);
        if (this.writer?.alive()) await this.writer.record(slice, await requiredFor(snap, slice, this.opts.etagOf), this.opts.maxUnknown);
        else await this.opts.store.recordObservations(slice, { judge, maxUnknown: this.opts.maxUnknown });
        this.written += slice.length;
      }
    } catch (e) {
      this.repeats.forget();
      // The store is unreachable (PostgreSQL restarting): keep the batch for the next tick, within the cap.
      this.opts.log.warn({ event: 'inventory_write_failed', err: (e as Error).message, requests: taken.length }, 'inventory: could not write a batch; retrying next interval');
      const room = MAX_BUFFERED - this.buffer.length;
      if (room > 0) this.buffer = taken.slice(-room).concat(this.buffer);
      this.dropped += Math.max(0, taken.length - Math.max(0, room));
    }
    if (this.dropped) {
      this.opts.log.warn({ event: 'inventory_dropped', requests: this.dropped }, `inventory: ${this.dropped} requests were not recorded (buffer full)`);
      this.dropped = 0;
    }
  }

  /** Stop the timer and write what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.flush();
    await this.writer?.close();
  }
}

/**
 * What the writer thread judges with: each MAC's boot files and the ETags the snapshot serves
 * for them. An ETag the render cache does not hold is a render here, on the serving thread:
 * after a reload (every cache empty) a slice's worth was a 50 ms stall each flush, so this
 * goes in time slices that let phones be answered between them.
 */
async function requiredFor(snap: Snapshot, batch: readonly Observation[], etagOf: (path: string) => string | undefined): Promise<Map<string, Required[] | null>> {
  const out = new Map<string, Required[] | null>();
  const pause = timeSlices();
  for (const o of batch) {
    if (out.has(o.mac)) continue;
    out.set(o.mac, requiredFiles(snap, o.mac, etagOf));
    const p = pause();
    if (p) await p;
  }
  return out;
}
