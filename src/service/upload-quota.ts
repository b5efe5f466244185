// Per-device accounting for uploads in flight, so temp files count against the quota too:
// what the device has on disk (as last measured, under the device lock) plus what every
// upload in flight has reserved must stay within the quota, and only so many uploads per
// device run at once; the next ones wait their turn without reading their body (a bounded
// queue: beyond it they are refused). Pure bookkeeping: no I/O, the store measures and calls in.
//
// Per process: with `--workers N` each worker keeps its own ledger (like the enumeration
// counters), so the bound on disk is up to N× the quota in the worst case.

interface Ledger {
  /** Committed bytes on disk, as measured by the last upload to start or finish. */
  onDisk: number;
  /** Bytes reserved by uploads in flight. */
  reserved: number;
  /** Bytes of files that uploads in flight will replace (each file credited once). */
  credited: number;
  creditedFiles: Set<string>;
  active: number;
  /** Uploads waiting for a slot, oldest first. */
  waiting: Array<() => void>;
}

/** How many uploads may wait for a slot, per slot: a phone sends a few files, not dozens. */
const WAITING_PER_SLOT = 16;

export class UploadQuota {
  private readonly devices = new Map<string, Ledger>();

  constructor(
    readonly maxDeviceBytes: number,
    readonly maxConcurrent: number,
  ) {}

  /**
   * A slot for one upload: at once while the device has fewer than maxConcurrent in flight,
   * else when one finishes; undefined when too many are already waiting.
   */
  async begin(mac: string): Promise<UploadSlot | undefined> {
    let l = this.devices.get(mac);
    if (!l) this.devices.set(mac, (l = { onDisk: 0, reserved: 0, credited: 0, creditedFiles: new Set(), active: 0, waiting: [] }));
    const ledger = l;
    const slot = () =>
      new UploadSlot(ledger, this.maxDeviceBytes, () => {
        // A finished upload hands its place to the oldest waiting one.
        const next = ledger.waiting.shift();
        if (next) return next();
        if (--ledger.active === 0) this.devices.delete(mac);
      });
    if (l.active < this.maxConcurrent) {
      l.active++;
      return slot();
    }
    if (l.waiting.length >= this.maxConcurrent * WAITING_PER_SLOT) return undefined;
    return new Promise((resolve) => ledger.waiting.push(() => resolve(slot())));
  }

  /** Bytes reserved by uploads in flight for a device (for tests and status). */
  reservedBy(mac: string): number {
    return this.devices.get(mac)?.reserved ?? 0;
  }
}

export class UploadSlot {
  private reserved = 0;
  private creditFile?: string;
  private creditBytes = 0;
  private done = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly max: number,
    private readonly onRelease: () => void,
  ) {}

  /** What the device holds on disk now (committed files only), measured under the device lock. */
  measured(onDisk: number): void {
    this.ledger.onDisk = onDisk;
  }

  /**
   * This upload replaces `file` of `bytes`: the final state will not hold both, so the old
   * size does not count (the temp file and the old one coexist for a moment: at most one
   * file's worth over the quota). Two uploads replacing the same file get the credit once.
   */
  replaces(file: string, bytes: number): void {
    if (this.creditFile !== undefined || this.ledger.creditedFiles.has(file)) return;
    this.ledger.creditedFiles.add(file);
    this.ledger.credited += bytes;
    this.creditFile = file;
    this.creditBytes = bytes;
  }

  /** Grow this upload's reservation by `bytes`; false (and nothing reserved) when it would not fit. */
  reserve(bytes: number): boolean {
    const l = this.ledger;
    if (l.onDisk - l.credited + l.reserved + bytes > this.max) return false;
    l.reserved += bytes;
    this.reserved += bytes;
    return true;
  }

  /** The upload is committed (or refused): `onDisk` is the device's usage now, when known. */
  release(onDisk?: number): void {
    if (this.done) return;
    this.done = true;
    if (onDisk !== undefined) this.ledger.onDisk = onDisk;
    this.ledger.reserved -= this.reserved;
    if (this.creditFile !== undefined) {
      this.ledger.creditedFiles.delete(this.creditFile);
      this.ledger.credited -= this.creditBytes;
    }
    this.onRelease();
  }
}
