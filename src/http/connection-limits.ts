// Connection-level limits, for the HTTP and HTTPS listeners alike: how long a connection may
// sit without sending (a socket that never sends a byte, a keep-alive connection nobody
// reuses, a TLS handshake that never finishes) and how many connections one source address
// may hold at once. Without them, 1,100 idle sockets from one client took every file
// descriptor of a server with `ulimit -n 1024`, and phones could not connect.
//
// The per-address count is on the TCP peer, before any request is parsed: X-Forwarded-For
// cannot be known yet, so trusted proxies (which concentrate many phones) are exempt.

import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';

/**
 * The default per-address cap: a quarter of the process's open-file limit (at least 16), so
 * one address can never hold the descriptors every other phone needs. 256 with `ulimit -n
 * 1024`; 5,000 with 20,000. Read once at start, from /proc on Linux (1024 assumed elsewhere).
 */
export function defaultMaxPerAddress(limitsFile = '/proc/self/limits'): number {
  let soft = 1024;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(limitsFile, 'utf8'));
    if (m) soft = m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    /* not Linux: keep the common default */
  }
  return Math.max(16, Math.floor(soft / 4));
}

export interface ConnectionGuardOptions {
  maxPerAddress: number;
  /** Addresses never capped (trusted reverse proxies). */
  exempt?: (address: string) => boolean;
  /** Called once per address each time it first goes over the cap (for one log line, not one per socket). */
  onRefused?: (address: string, max: number) => void;
}

/** Counts open connections per source address, shared by every listener it is attached to. */
export class ConnectionGuard {
  private readonly open = new Map<string, number>();
  /** Addresses refused since their count was last below the cap: logged once, not per socket. */
  private readonly reported = new Set<string>();

  constructor(private readonly opts: ConnectionGuardOptions) {}

  /**
   * Watch `server`'s connections: cap them per address, and close any that stays silent
   * for `idleTimeoutMs`. For a TLS server the TCP socket is counted before the handshake,
   * and `handshakeTimeout` (set by the caller) bounds a handshake that never finishes.
   */
  attach(server: Server, idleTimeoutMs: number): void {
    // Inactivity timeout on every socket, from accept: Node's http server applies
    // `server.timeout` to the connection and destroys it when nobody handles 'timeout'.
    (server as Server & { timeout: number }).timeout = idleTimeoutMs;
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** Open connections from `address` (for tests and status). */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }

  private admit(socket: Socket): void {
    const address = peer(socket.remoteAddress);
    if (address === undefined) return;
    const n = this.open.get(address) ?? 0;
    if (n >= this.opts.maxPerAddress && !this.opts.exempt?.(address)) {
      if (!this.reported.has(address)) {
        this.reported.add(address);
        this.opts.onRefused?.(address, this.opts.maxPerAddress);
      }
      socket.destroy();
      return;
    }
    this.open.set(address, n + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
      if (left < this.opts.maxPerAddress) this.reported.delete(address);
    });
  }
}

/** `::ffff:10.0.0.1` is 10.0.0.1: a dual-stack listener must not count one client twice. */
function peer(remote: string | undefined): string | undefined {
  if (!remote) return undefined;
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
