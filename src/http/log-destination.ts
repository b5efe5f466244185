// Where the access log goes by default: the lines of one event-loop turn, written together at
// its end with one synchronous write to stdout. Every write happens on the main thread, in
// order, and whatever is pending when the process exits (process.exit() included) is written
// then. pino's asynchronous destination wrote from libuv's thread pool instead: a batch still
// queued there at exit landed after the final flush, so lines were reordered (5 % of runs on
// a quiet machine, over a third under load).

import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import { TurnWriter } from './turn-writer.js';

/** Destinations with lines not yet written, flushed by the one exit handler. */
const live = new Set<TurnBatchedDestination>();
let exitHook = false;

export class TurnBatchedDestination implements DestinationStream {
  private pending: string[] = [];
  private readonly turns: TurnWriter;
  private failed = false;

  constructor(private readonly fd = 1) {
    // A log that cannot be written (stdout closed) must not take the server down: said once on stderr.
    this.turns = new TurnWriter((err) => this.fail(err));
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const d of live) d.flush();
      });
    }
  }

  write(line: string): void {
    if (this.pending.length === 0) {
      live.add(this);
      this.turns.defer(() => this.flush());
    }
    this.pending.push(line);
  }

  /** Write everything pending now. */
  flush(): void {
    live.delete(this);
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''));
    this.pending = [];
    if (this.failed) return;
    try {
      writeAllSync(this.fd, bytes);
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    process.stderr.write(`deskset: the access log cannot be written (${err instanceof Error ? err.message : String(err)}); further lines are dropped\n`);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The whole buffer; a non-blocking descriptor that is full (EAGAIN) is retried after 1 ms. */
function writeAllSync(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
