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
// File: `<stateDir>/tokens.json`, mode 0600, written atomically (temp file, fsync, rename,
// fsync dir), so a crash never leaves a half-written store, and a reader never sees one.
// The server only reads it (load/refresh); `deskset token …` writes it.

import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { normalizeMac, ZERO_MAC } from '../config/mac.js';

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

  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Read the store from disk; a missing file is an empty store. A corrupt file throws (never overwritten). */
  async load(): Promise<void> {
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
      await this.load();
      const token = crypto.randomBytes(TOKEN_BYTES).toString('base64url');
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
    await writeFileAtomic(this.file, `${JSON.stringify(body, null, 2)}\n`);
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
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const tokens = (raw as Partial<StoreFile> | null)?.tokens;
  if ((raw as Partial<StoreFile> | null)?.version !== 1 || !tokens || typeof tokens !== 'object' || Array.isArray(tokens)) {
    throw new Error(`${file}: expected {"version":1,"tokens":{…}}`);
  }
  const out = new Map<string, TokenEntry>();
  const seen = new Set<string>();
  for (const [h, e] of Object.entries(tokens)) {
    const mac = typeof e?.mac === 'string' ? normalizeMac(e.mac) : undefined;
    if (!/^[0-9a-f]{64}$/.test(h) || !mac || typeof e.issuedAt !== 'string') throw new Error(`${file}: bad entry ${JSON.stringify(h.slice(0, 16))}`);
    // One token per device: a second one for the same MAC means the file was edited by hand.
    if (seen.has(mac)) throw new Error(`${file}: more than one token for ${mac}`);
    seen.add(mac);
    out.set(h, { mac, issuedAt: e.issuedAt });
  }
  return out;
}

/** temp file (0600, O_EXCL) in the same directory, fsync, rename over the target, fsync the directory. */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    // The umask cannot widen 0600, but an inherited ACL could; say it explicitly.
    await fh.chmod(0o600);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  // The rename is durable only once the directory entry is; some filesystems refuse to fsync a directory.
  const dh = await fsp.open(dir, 'r').catch(() => undefined);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
  }
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
