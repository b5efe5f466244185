// Admission of new read requests: a bound on concurrent transfers, a bound per source
// address, and a per-source request rate (token bucket). Pure over an injected clock, so
// the table tests need no timers. A refused request is dropped without an answer: a phone
// retransmits its request after its own timeout, a flood gets nothing back to amplify.

export interface LimitConfig {
  /** Transfers running at once, all sources. */
  maxTransfers: number;
  /** Transfers running at once from one address. */
  maxPerSource: number;
  /** Requests per second one address may start (sustained). */
  ratePerSource: number;
  /** Requests one address may start in a burst (a phone asks for a handful of files at boot). */
  burstPerSource: number;
}

export const DEFAULT_LIMIT_CONFIG: LimitConfig = { maxTransfers: 1024, maxPerSource: 8, ratePerSource: 20, burstPerSource: 40 };

export type Admit = { ok: true } | { ok: false; reason: 'busy' | 'source busy' | 'rate' };

interface Bucket {
  tokens: number;
  at: number;
  running: number;
}

/** Buckets idle this long are full again and forgotten (the map cannot grow without end). */
const FORGET_MS = 60_000;

export class Admission {
  private running = 0;
  private readonly sources = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    private readonly cfg: LimitConfig,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get active(): number {
    return this.running;
  }

  /** Take a slot for a transfer from `ip`; call release(ip) when it ends. */
  admit(ip: string): Admit {
    const t = this.now();
    this.sweep(t);
    let b = this.sources.get(ip);
    if (!b) this.sources.set(ip, (b = { tokens: this.cfg.burstPerSource, at: t, running: 0 }));
    b.tokens = Math.min(this.cfg.burstPerSource, b.tokens + ((t - b.at) / 1000) * this.cfg.ratePerSource);
    b.at = t;
    if (b.tokens < 1) return { ok: false, reason: 'rate' };
    // A request that finds no room still costs a token: retrying faster than the rate gains nothing.
    b.tokens -= 1;
    if (this.running >= this.cfg.maxTransfers) return { ok: false, reason: 'busy' };
    if (b.running >= this.cfg.maxPerSource) return { ok: false, reason: 'source busy' };
    b.running++;
    this.running++;
    return { ok: true };
  }

  release(ip: string): void {
    const b = this.sources.get(ip);
    if (b && b.running > 0) b.running--;
    if (this.running > 0) this.running--;
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < FORGET_MS) return;
    this.lastSweep = t;
    for (const [ip, b] of this.sources) if (b.running === 0 && t - b.at > FORGET_MS) this.sources.delete(ip);
  }
}

/**
 * Retransmitted requests. A client that hears nothing within its timeout sends its RRQ again
 * from the same port; under load the copies queue up behind the first and arrive after it was
 * answered, even after the client gave up. Each would cost a lookup and a transfer to a port
 * nobody reads. So a request (client ip:port and file name) is taken once: repeats are dropped
 * while its transfer runs and for `holdMs` after it ended.
 */
export class Duplicates {
  private readonly active = new Set<string>();
  /** Ended requests and when they may be asked again, oldest first (Map keeps insertion order). */
  private readonly ended = new Map<string, number>();

  constructor(
    private readonly holdMs = 30_000,
    private readonly maxEnded = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True when `key` is a repeat; otherwise it is marked as running. */
  repeat(key: string): boolean {
    if (this.active.has(key)) return true;
    const t = this.now();
    this.expire(t);
    const until = this.ended.get(key);
    if (until !== undefined && until > t) return true;
    this.active.add(key);
    return false;
  }

  /** The request is over; `held`: repeats stay dropped for holdMs (after a transfer, not after a refusal). */
  end(key: string, held = true): void {
    if (!this.active.delete(key) || !held) return;
    this.ended.delete(key);
    if (this.ended.size >= this.maxEnded) this.ended.delete(this.ended.keys().next().value!);
    this.ended.set(key, this.now() + this.holdMs);
  }

  private expire(t: number): void {
    for (const [k, until] of this.ended) {
      if (until > t) break;
      this.ended.delete(k);
    }
  }
}
