// Fetches that tell the inventory nothing new. A phone that asks for the same file again with
// the same answer, address and User-Agent, under the same snapshot, within `inventory.touch_s`
// of the fetch last written, changes only the times: it is not written again. This is what
// keeps a busy server's database work proportional to what changes, not to its request rate;
// `last_seen` is then exact to touch_s.

import type { Seen } from './observation.js';

/** Fetches remembered at most (about 100 bytes each); the oldest are forgotten first. */
const MAX_REMEMBERED = 200_000;

export class Repeats {
  private readonly last = new Map<string, { t: number; facts: string }>();

  constructor(private readonly touchMs: number) {}

  /**
   * False for a fetch worth writing, which is then remembered as written; true for a repeat.
   * `snapshotId` is part of the facts: after a reload every phone's next fetch is written.
   */
  isRepeat(s: Seen, snapshotId: string): boolean {
    if (this.touchMs <= 0 || s.r.mac === undefined) return false;
    const key = `${s.r.mac}\0${s.r.path}`;
    const facts = `${snapshotId}\0${s.r.status}\0${s.etag ?? ''}\0${s.r.ip}\0${s.userAgent ?? ''}`;
    const had = this.last.get(key);
    if (had && had.facts === facts && s.t - had.t < this.touchMs) return true;
    this.last.delete(key);
    this.last.set(key, { t: s.t, facts });
    if (this.last.size > MAX_REMEMBERED) this.last.delete(this.last.keys().next().value as string);
    return false;
  }

  /** After a failed write: nothing is known to be written. */
  forget(): void {
    this.last.clear();
  }
}
