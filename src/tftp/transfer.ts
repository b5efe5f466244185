// One read transfer as a state machine: events in (start, ACK, timeout, client ERROR), actions
// out (send OACK, send blocks a..b, arm the timer, finish). Pure: the edge (server.ts) owns the
// socket, the timer and the bytes. Blocks are numbered absolutely from 1 here; only the wire
// number wraps (block & 0xffff), so files past 65,535 blocks go on as 65535, 0, 1, …
// (the rollover tftp-hpa, atftp and most phones' loaders expect).

import type { Negotiated } from './options.js';

export interface TransferState {
  phase: 'oack' | 'data' | 'done';
  size: number;
  blksize: number;
  windowsize: number;
  /**
   * Blocks in the file. RFC 1350 §6: a block shorter than blksize ends the transfer, so a file
   * whose size is a multiple of blksize (0 included) ends with an empty block.
   */
  blocks: number;
  /** Highest block the client acknowledged (0: none yet). */
  acked: number;
  /** Highest block sent. */
  sent: number;
  /** Retransmissions since the last progress. */
  retries: number;
  baseTimeoutMs: number;
}

export type TransferEvent = { type: 'start' } | { type: 'ack'; block: number } | { type: 'timeout' } | { type: 'error'; code: number; message: string };

export type Outcome =
  | { kind: 'complete' }
  | { kind: 'timed-out' }
  | { kind: 'client-error'; code: number; message: string }
  /** The edge learned the client's port is closed (ICMP port unreachable): nobody is listening any more. */
  | { kind: 'unreachable' };

export type Action =
  | { type: 'send-oack' }
  /** Send blocks from..to (absolute, inclusive). */
  | { type: 'send-data'; from: number; to: number }
  | { type: 'arm'; ms: number }
  | { type: 'finish'; outcome: Outcome };

/** Retransmissions without progress before the transfer is given up (then ~31 s at the 1 s default). */
export const MAX_RETRIES = 5;
/** Backoff doubles per retransmission up to this multiple of the base timeout. */
const MAX_BACKOFF = 8;

export function initialState(size: number, n: Pick<Negotiated, 'blksize' | 'windowsize' | 'timeoutS' | 'oack'>): TransferState {
  return {
    phase: Object.keys(n.oack).length ? 'oack' : 'data',
    size,
    blksize: n.blksize,
    windowsize: n.windowsize,
    blocks: Math.floor(size / n.blksize) + 1,
    acked: 0,
    sent: 0,
    retries: 0,
    baseTimeoutMs: n.timeoutS * 1000,
  };
}

/** Byte range of an absolute block. */
export function blockRange(s: Pick<TransferState, 'size' | 'blksize'>, block: number): { start: number; end: number } {
  const start = (block - 1) * s.blksize;
  return { start, end: Math.min(s.size, start + s.blksize) };
}

export function step(s: TransferState, e: TransferEvent): { state: TransferState; actions: Action[] } {
  if (s.phase === 'done') return { state: s, actions: [] };
  switch (e.type) {
    case 'start':
      // RFC 2347 §3: options accepted → OACK, and the client's ACK 0 starts the data; none → DATA 1.
      return s.phase === 'oack' ? { state: s, actions: [{ type: 'send-oack' }, arm(s)] } : sendWindow(s);
    case 'error':
      // RFC 1350 §7: an error packet ends the transfer; it is never acknowledged or retransmitted.
      return { state: { ...s, phase: 'done' }, actions: [{ type: 'finish', outcome: { kind: 'client-error', code: e.code, message: e.message } }] };
    case 'timeout':
      if (s.retries >= MAX_RETRIES) return { state: { ...s, phase: 'done' }, actions: [{ type: 'finish', outcome: { kind: 'timed-out' } }] };
      {
        const next = { ...s, retries: s.retries + 1 };
        if (s.phase === 'oack') return { state: next, actions: [{ type: 'send-oack' }, arm(next)] };
        // RFC 7440 §4: on timeout the sender sends the window again from the first block not acknowledged.
        return sendWindow(next);
      }
    case 'ack':
      return onAck(s, e.block);
  }
}

function onAck(s: TransferState, wire: number): { state: TransferState; actions: Action[] } {
  if (s.phase === 'oack') {
    // RFC 2347 §3: the client acknowledges the OACK with ACK 0. Anything else is stale.
    if (wire !== 0) return { state: s, actions: [] };
    return sendWindow({ ...s, phase: 'data', retries: 0 });
  }
  // Which absolute block this wire number names: the one in flight (acked, sent] it matches.
  const delta = (wire - (s.acked & 0xffff)) & 0xffff;
  const block = s.acked + delta;
  // A repeat of an acknowledged block (delta 0), or one never sent: ignored, not answered.
  // Answering a duplicate ACK with DATA is the Sorcerer's Apprentice bug (RFC 1123 §4.2.3.1):
  // every later block would then go out twice. Only the timer retransmits.
  if (delta === 0 || block > s.sent) return { state: s, actions: [] };
  const next = { ...s, acked: block, retries: 0 };
  if (block === s.blocks) return { state: { ...next, phase: 'done' }, actions: [{ type: 'finish', outcome: { kind: 'complete' } }] };
  // RFC 7440 §4: an ACK for a block inside the window means the rest was lost: the next window
  // starts right after it (an ACK for the window's last block is the ordinary case).
  return sendWindow(next);
}

/** Send the next window from the first unacknowledged block; arm the timer. */
function sendWindow(s: TransferState): { state: TransferState; actions: Action[] } {
  const from = s.acked + 1;
  const to = Math.min(s.blocks, s.acked + s.windowsize);
  const next = { ...s, sent: Math.max(s.sent, to) };
  return { state: next, actions: [{ type: 'send-data', from, to }, arm(next)] };
}

function arm(s: TransferState): Action {
  return { type: 'arm', ms: s.baseTimeoutMs * Math.min(MAX_BACKOFF, 2 ** s.retries) };
}
