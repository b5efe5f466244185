// The node:dgram edge: a listening socket for requests, one socket (a new TID, RFC 1350 §4)
// per transfer, timers, and the bytes. Every decision is the pure core's: packet.ts decodes,
// options.ts negotiates, transfer.ts says what to send and when, limits.ts who may start.

import dgram, { type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Admission, DEFAULT_LIMIT_CONFIG, Duplicates, type LimitConfig } from './limits.js';
import { toNetascii } from './netascii.js';
import { DEFAULT_LIMITS, negotiate, type Limits } from './options.js';
import { dataHeader, decode, encodeError, encodeOack, ERR, type Request } from './packet.js';
import { readAll, type FileBody, type LogFields, type Opened, type TftpSource } from './source.js';
import { blockRange, initialState, step, type Action, type Outcome, type TransferState } from './transfer.js';

/**
 * Receive buffer of the listening socket: a boot storm sends a thousand requests at once, and
 * the kernel's default (~200 KB) drops them past a few hundred. Capped by net.core.rmem_max.
 */
const RECV_BUFFER = 4 * 1024 * 1024;

/** Files translated to netascii are held whole in memory; larger ones must be fetched in octet mode. */
const MAX_NETASCII_BYTES = 16 * 1024 * 1024;

/** One line per request, as the HTTP access log writes one per response. */
export interface TransferRecord {
  ip: string;
  port: number;
  /** RRQ or WRQ (or BAD for an undecodable request). */
  op: string;
  path: string;
  status: number;
  /** Bytes the client acknowledged. */
  bytes: number;
  ms: number;
  mode?: string;
  options?: Record<string, string>;
  log: LogFields;
}

export interface TftpServerOptions {
  host: string;
  port: number;
  source: TftpSource;
  onRecord?: (r: TransferRecord) => void;
  /** Something unexpected (a socket error): logged by the caller, never thrown. */
  onProblem?: (what: string, err: unknown) => void;
  limits?: Partial<LimitConfig>;
  options?: Partial<Limits>;
}

export class TftpServer {
  private socket?: Socket;
  private readonly admission: Admission;
  private readonly optionLimits: Limits;
  private readonly transfers = new Set<Transfer>();
  /** Requests (client ip:port, file) running or just ended: a retransmitted RRQ is not a second transfer. */
  private readonly duplicates = new Duplicates();
  private address?: AddressInfo;

  constructor(private readonly opts: TftpServerOptions) {
    this.admission = new Admission({ ...DEFAULT_LIMIT_CONFIG, ...opts.limits });
    this.optionLimits = { ...DEFAULT_LIMITS, ...opts.options };
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  get activeTransfers(): number {
    return this.transfers.size;
  }

  listen(): Promise<number> {
    const type = this.opts.host.includes(':') ? 'udp6' : 'udp4';
    const s = dgram.createSocket({ type, reuseAddr: false });
    this.socket = s;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.opts.port, this.opts.host, () => {
        s.off('error', reject);
        s.on('error', (err) => this.opts.onProblem?.('tftp socket error', err));
        try {
          s.setRecvBufferSize(RECV_BUFFER);
        } catch (err) {
          this.opts.onProblem?.('tftp receive buffer not enlarged', err);
        }
        s.on('message', (msg, rinfo) => this.onRequest(msg, rinfo));
        this.address = s.address();
        resolve(this.address.port);
      });
    });
  }

  async close(): Promise<void> {
    for (const t of [...this.transfers]) t.abort();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private onRequest(msg: Buffer, rinfo: RemoteInfo): void {
    const started = performance.now();
    const d = decode(msg);
    if (!d.ok) {
      // Garbage gets no answer: a spoofed source must not turn us into a reflector.
      return;
    }
    const p = d.packet;
    // DATA/ACK/ERROR to the listening port belong to no transfer (RFC 1350 §4: unknown TID).
    if (p.op !== 'rrq' && p.op !== 'wrq') return;
    const ip = plainAddress(rinfo.address);
    const record = (status: number, log: LogFields, bytes = 0): void =>
      this.opts.onRecord?.({ ip, port: rinfo.port, op: p.op.toUpperCase(), path: p.filename, status, bytes, ms: round(performance.now() - started), mode: p.mode, options: p.options, log });
    if (p.op === 'wrq') {
      // Read-only: RFC 1350 §5 error 2, "Access violation".
      this.reply(rinfo, ERR.ACCESS_VIOLATION, 'Access violation: read-only server');
      return record(403, { reason: 'write refused' });
    }
    if (p.mode !== 'octet' && p.mode !== 'netascii') {
      // RFC 1350's "mail" mode is obsolete; anything else is not a mode.
      this.reply(rinfo, ERR.ILLEGAL_OPERATION, `Unsupported mode ${p.mode}`);
      return record(400, { reason: 'bad mode' });
    }
    // RFC 1350 leaves a retransmitted request to the server: answering it with a second
    // transfer (a second TID) doubles the traffic, and under load stale copies pile up.
    const key = `${rinfo.address}:${rinfo.port}\0${p.filename}`;
    const admitted = this.admission.admit(ip);
    if (!admitted.ok) return record(503, { reason: admitted.reason === 'rate' ? 'rate limited' : admitted.reason });
    if (this.duplicates.repeat(key)) return this.admission.release(ip);
    let released = false;
    // Held only after a transfer: a refusal may be asked again at once (its ERROR may have been lost).
    const release = (held = false) => {
      if (released) return;
      released = true;
      this.duplicates.end(key, held);
      this.admission.release(ip);
    };
    this.opts.source
      .open(p.filename, { address: ip, port: rinfo.port })
      .then((opened) => this.begin(p, rinfo, release, opened, record))
      .catch((err: unknown) => {
        // Nothing internal reaches the client: a bodiless error, the reason in the log.
        release();
        this.opts.onProblem?.('tftp request failed', err);
        this.reply(rinfo, ERR.NOT_DEFINED, 'Internal error');
        record(500, { reason: 'internal error' });
      });
  }

  private async begin(p: Request, rinfo: RemoteInfo, release: (held?: boolean) => void, opened: Opened, record: (status: number, log: LogFields, bytes?: number) => void): Promise<void> {
    if (!opened.ok) {
      release();
      this.reply(rinfo, opened.code, opened.message);
      return record(opened.status, opened.log);
    }
    let body = opened.body;
    let size = opened.size;
    if (p.mode === 'netascii') {
      if (size > MAX_NETASCII_BYTES) {
        if (!Buffer.isBuffer(body)) await body.close().catch(() => {});
        release();
        this.reply(rinfo, ERR.NOT_DEFINED, 'File too large for netascii; use octet mode');
        return record(413, { ...opened.log, reason: 'netascii too large' });
      }
      const raw = Buffer.isBuffer(body) ? body : await readAll(body, size).finally(() => (body as FileBody).close().catch(() => {}));
      body = toNetascii(raw);
      size = body.length;
    }
    const n = negotiate(p.options, size, this.optionLimits);
    const socket = dgram.createSocket(rinfo.family === 'IPv6' ? 'udp6' : 'udp4');
    const t = new Transfer(socket, body, initialState(size, n), n.oack, (outcome, acked) => {
      this.transfers.delete(t);
      release(true);
      const status = outcome.kind === 'complete' ? 200 : outcome.kind === 'timed-out' ? 408 : 499;
      const reason = outcome.kind === 'client-error' ? `client error ${outcome.code}` : outcome.kind === 'timed-out' ? 'timed out' : outcome.kind === 'unreachable' ? 'client gone' : opened.log.reason;
      record(status, { ...opened.log, reason }, acked);
    }, this.opts.onProblem);
    this.transfers.add(t);
    // A new ephemeral port on the address we listen on: the transfer's own TID. Connected to the
    // client, so the kernel drops datagrams from anyone else and reports a closed client port
    // (ICMP port unreachable) at once: a client that left (a retransmitted request answered
    // after it gave up, a phone rebooted) costs one datagram, not 30 s of retransmissions.
    socket.bind(0, this.opts.host, () => socket.connect(rinfo.port, rinfo.address, () => t.start()));
  }

  /** An error for a request, from the listening port (clients accept the first reply from any port). */
  private reply(rinfo: RemoteInfo, code: number, message: string): void {
    this.socket?.send(encodeError(code, message), rinfo.port, rinfo.address);
  }
}

/** One read transfer: feeds socket events and timer expiries to the state machine and carries out its actions. */
class Transfer {
  private timer?: NodeJS.Timeout;
  private finished = false;

  constructor(
    private readonly socket: Socket,
    private readonly body: Buffer | FileBody,
    private state: TransferState,
    private readonly oack: Record<string, string>,
    private readonly onEnd: (o: Outcome, ackedBytes: number) => void,
    private readonly onProblem?: (what: string, err: unknown) => void,
  ) {
    socket.on('message', (msg) => this.onMessage(msg));
    socket.on('error', (err) => this.failed(err));
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  abort(): void {
    this.end({ kind: 'timed-out' });
  }

  /** Only the client's own datagrams arrive (the socket is connected to it); RFC 1350 §4's ERROR 5 to strangers is left out. */
  private onMessage(msg: Buffer): void {
    const d = decode(msg);
    if (!d.ok) return;
    if (d.packet.op === 'ack') this.dispatch({ type: 'ack', block: d.packet.block });
    else if (d.packet.op === 'error') this.dispatch({ type: 'error', code: d.packet.code, message: d.packet.message });
  }

  private dispatch(e: Parameters<typeof step>[1]): void {
    if (this.finished) return;
    const { state, actions } = step(this.state, e);
    this.state = state;
    for (const a of actions) this.act(a);
  }

  private act(a: Action): void {
    switch (a.type) {
      case 'send-oack':
        return this.send(encodeOack(this.oack));
      case 'send-data':
        return this.sendBlocks(a.from, a.to);
      case 'arm':
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.dispatch({ type: 'timeout' }), a.ms);
        return;
      case 'finish':
        if (a.outcome.kind === 'timed-out') this.send(encodeError(ERR.NOT_DEFINED, 'Transfer timed out'));
        return this.end(a.outcome);
    }
  }

  private sendBlocks(from: number, to: number): void {
    const s = this.state;
    const first = blockRange(s, from).start;
    const last = blockRange(s, to).end;
    const put = (bytes: Buffer, base: number) => {
      if (this.finished) return;
      for (let b = from; b <= to; b++) {
        const { start, end } = blockRange(s, b);
        this.send([dataHeader(b), bytes.subarray(start - base, end - base)]);
      }
    };
    if (Buffer.isBuffer(this.body)) return put(this.body, 0);
    const got = this.body.read(first, last - first);
    if (Buffer.isBuffer(got)) return put(got, first);
    got.then(
      (bytes) => put(bytes, first),
      (err: unknown) => {
        this.onProblem?.('tftp read failed', err);
        this.send(encodeError(ERR.NOT_DEFINED, 'Read error'));
        this.end({ kind: 'timed-out' });
      },
    );
  }

  private send(msg: Buffer | Buffer[]): void {
    if (this.finished) return;
    // No per-datagram callback (it costs an allocation per block): a failed send, ICMP port
    // unreachable included, arrives as the socket's 'error' event.
    this.socket.send(msg);
  }

  /** ECONNREFUSED: the client's port is closed; anything else is worth a log line. Either way the transfer ends. */
  private failed(err: Error): void {
    if (this.finished) return;
    if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') this.onProblem?.('tftp transfer socket error', err);
    this.end({ kind: 'unreachable' });
  }

  private end(o: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const acked = Math.min(this.state.size, this.state.acked * this.state.blksize);
    // Let the final send (an ERROR, if any) leave before the socket closes.
    setImmediate(() => {
      try {
        this.socket.close();
      } catch {
        /* already closed */
      }
    });
    if (!Buffer.isBuffer(this.body)) void this.body.close().catch(() => {});
    this.onEnd(o, acked);
  }
}

/** An IPv4 client seen on a dual-stack socket (::ffff:10.0.0.5) is 10.0.0.5, as in the HTTP log. */
function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
