// Per-device URL tokens, as in tancredi (NethServer) and wazo-provd: the phone is given a
// provisioning URL `https://host/p/<token>/`, and asks for `/p/<token>/<mac>.cfg`. A MAC in a
// URL is not authentication (one OUI is 16.7M guessable addresses); 32 random bytes are.
//
// The token is shown once, when issued. The store keeps only SHA-256(token): a leaked
// tokens.json (backups, a support bundle) grants nothing. Lookups hash the presented token and
// look the digest up in a Map: the only timing signal is about digests, which says nothing
// about any valid token (that would need a SHA-256 preimage), so no constant-time compare is
// needed.
//
// Where: the state store (SQLite or PostgreSQL, table url_tokens; store/contract.ts) when
// there is one: several servers on one PostgreSQL then share their tokens. With `state: off`,
// `<stateDir>/tokens.json`, mode 0600, written atomically (temp file, fsync, rename, fsync
// dir), so a crash never leaves a half-written store, and a reader never sees one. Either
// way the server only reads (load/refresh, into memory: lookups stay synchronous on the hot
// path); `deskset token …` writes.

import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import { normalizeMac, ZERO_MAC } from '../config/mac.js';
import type { StateStore } from '../store/contract.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { parseTokensFile } from './tokens-file.js';

/** 32 random bytes in base64url without padding. */
export const TOKEN_BYTES = 32;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export interface TokenEntry {
  mac: string;
  /** ISO 8601, UTC. */
  issuedAt: string;
}

interface StoreFile {
  version: 1;
  /** sha256(token) hex -> entry */
  tokens: Record<string, TokenEntry>;
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isTokenSyntax(token: string): boolean {
  return typeof token === 'string' && token.length === 43 && TOKEN_RE.test(token);
}

export class TokenStore {
  private byHash = new Map<string, TokenEntry>();
  private byMac = new Map<string, string>();
  /** Mutations are serialised, so two concurrent issue() calls in one process cannot lose one. */
  private queue: Promise<unknown> = Promise.resolve();
  /** What the last load saw on disk, for refresh(). */
  private stamp = '';

  /**
   * `file` is tokens.json (with `state: off`), or, with `backend`, only how messages name
   * where the tokens are.
   */
  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
    private readonly backend?: StateStore,
  ) {}

  /** Tokens kept in a state store rather than a file. */
  static onStore(store: StateStore, now?: () => Date): TokenStore {
    return new TokenStore(`${store.where} (state store)`, now, store);
  }

  /** Read the store from disk; a missing file is an empty store. A corrupt file throws (never overwritten). */
  async load(): Promise<void> {
    if (this.backend) {
      const entries = await this.backend.listUrlTokens();
      this.replace(new Map(entries.map((e) => [e.hash, { mac: e.mac, issuedAt: e.issuedAt }])), entries.map((e) => e.hash).join());
      return;
    }
    let text: string;
    let stamp: string;
    try {
      const st = await fsp.stat(this.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      text = await fsp.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.replace(new Map(), '');
      return;
    }
    this.replace(parseStore(text, this.file), stamp);
  }

  /**
   * Reload when the file changed since the last load (another process, `deskset token`, wrote it).
   * Cheap (one stat); a server can call it on a timer or before answering a token miss.
   * Returns true when it reloaded. A corrupt file keeps the current tokens and throws.
   */
  async refresh(): Promise<boolean> {
    if (this.backend) {
      const before = this.stamp;
      await this.load();
      return this.stamp !== before;
    }
    let stamp = '';
    try {
      const st = await fsp.stat(this.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (stamp === this.stamp) return false;
    await this.load();
    return true;
  }

  /**
   * A new token for `mac`, returned this once. Any previous token of the device stops working.
   * Re-reads the file first, so a long-running process does not write back a stale store.
   */
  async issue(mac: string): Promise<string> {
    const m = deviceMac(mac); // async: a bad MAC is a rejection, like every other failure here
    return this.serial(async () => {
      const token = crypto.randomBytes(TOKEN_BYTES).toString('base64url');
      if (this.backend) {
        // One statement replaces the device's previous token, whoever else writes the store.
        await this.backend.putUrlToken({ hash: hashToken(token), mac: m, issuedAt: this.now().toISOString() });
        await this.load();
        return token;
      }
      await this.load();
      const next = new Map(this.byHash);
      const old = this.byMac.get(m);
      if (old !== undefined) next.delete(old);
      next.set(hashToken(token), { mac: m, issuedAt: this.now().toISOString() });
      await this.save(next);
      return token;
    });
  }

  /** Revoke the device's token. False when it had none. */
  async revoke(mac: string): Promise<boolean> {
    const m = deviceMac(mac);
    return this.serial(async () => {
      if (this.backend) {
        const gone = await this.backend.deleteUrlToken(m);
        await this.load();
        return gone;
      }
      await this.load();
      const old = this.byMac.get(m);
      if (old === undefined) return false;
      const next = new Map(this.byHash);
      next.delete(old);
      await this.save(next);
      return true;
    });
  }

  /** The MAC a token belongs to, or undefined. Malformed tokens are refused before hashing. */
  lookup(token: string): string | undefined {
    if (!isTokenSyntax(token)) return undefined;
    return this.byHash.get(hashToken(token))?.mac;
  }

  /** Every device with a token, by MAC. Never the tokens (they are not stored). */
  list(): TokenEntry[] {
    return [...this.byHash.values()].map((e) => ({ ...e })).sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private replace(byHash: Map<string, TokenEntry>, stamp: string): void {
    const byMac = new Map<string, string>();
    for (const [h, e] of byHash) byMac.set(e.mac, h);
    this.byHash = byHash;
    this.byMac = byMac;
    this.stamp = stamp;
  }

  private async save(byHash: Map<string, TokenEntry>): Promise<void> {
    const body: StoreFile = { version: 1, tokens: Object.fromEntries([...byHash].sort(([a], [b]) => (a < b ? -1 : 1))) };
    // Secrets' digests: 0600 in a 0700 directory, and the rename made durable before we say done.
    await writeFileAtomic(this.file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700, syncDir: true });
    const st = await fsp.stat(this.file);
    this.replace(byHash, `${st.ino}:${st.size}:${st.mtimeMs}`);
  }
}

function deviceMac(mac: string): string {
  const m = normalizeMac(mac);
  if (!m) throw new TypeError(`not a MAC address: ${JSON.stringify(String(mac).slice(0, 40))}`);
  // 000000000000 is Poly's "any phone" name, never one device.
  if (m === ZERO_MAC) throw new TypeError('000000000000 is not a device');
  return m;
}

function parseStore(text: string, file: string): Map<string, TokenEntry> {
  return new Map(parseTokensFile(text, file).map((e) => [e.hash, { mac: e.mac, issuedAt: e.issuedAt }]));
}

/**
 * `p/<token>/<file>` (a request path without its leading slash, as decodeRequestPath gives it)
 * split into the token and the file the phone asked for. Undefined unless the token has the
 * exact issued shape and a file name follows.
 */
export function parseTokenPath(p: string): { token: string; rest: string } | undefined {
  if (typeof p !== 'string' || !p.startsWith('p/')) return undefined;
  const slash = p.indexOf('/', 2);
  if (slash === -1) return undefined;
  const token = p.slice(2, slash);
  const rest = p.slice(slash + 1);
  if (!isTokenSyntax(token) || rest === '') return undefined;
  return { token, rest };
}

/** The same path with the token masked, for access logs: a token in a log file is a leaked credential. */
export function redactTokenPath(p: string): string {
  // Any first segment after `p/` is masked, valid or not: a near-miss is often a typo of a real token.
  return p.replace(/^(\/?)p\/[^/?]+/, '$1p/••••');
}
