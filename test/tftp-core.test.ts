// The TFTP protocol core as tables: packets (RFC 1350, 2347), option negotiation (RFC 2347,
// 2348, 2349, 7440), the transfer state machine (windows, duplicate ACKs, rollover, backoff),
// admission limits and netascii. No sockets here: tftp-e2e.test.ts runs real clients.

import { describe, expect, it } from 'vitest';
import { Admission, Duplicates } from '../src/tftp/limits.js';
import { toNetascii } from '../src/tftp/netascii.js';
import { negotiate } from '../src/tftp/options.js';
import { decode, encodeAck, encodeData, encodeError, encodeOack, encodeRequest, type Decoded } from '../src/tftp/packet.js';
import { refusalOf, targetOf } from '../src/tftp/deskset-source.js';
import { blockRange, initialState, MAX_RETRIES, step, type Action, type TransferEvent, type TransferState } from '../src/tftp/transfer.js';

const bytes = (...parts: Array<number[] | string>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('decode', () => {
  const cases: Array<[string, Buffer, Decoded]> = [
    ['RRQ, octet', bytes([0, 1], 'SEP001122334455.cnf.xml\0octet\0'), { ok: true, packet: { op: 'rrq', filename: 'SEP001122334455.cnf.xml', mode: 'octet', options: {} } }],
    // RFC 1350 §5: the mode is case-insensitive; RFC 2347 §2: so are option names (values are kept).
    ['RRQ, mode and option names case-folded', bytes([0, 1], 'a.cfg\0OCTET\0BlkSize\x001428\0TSIZE\x000\0'), { ok: true, packet: { op: 'rrq', filename: 'a.cfg', mode: 'octet', options: { blksize: '1428', tsize: '0' } } }],
    ['WRQ', bytes([0, 2], 'x\0netascii\0'), { ok: true, packet: { op: 'wrq', filename: 'x', mode: 'netascii', options: {} } }],
    ['a repeated option: the first wins', bytes([0, 1], 'a\0octet\0blksize\x00512\0blksize\x009000\0'), { ok: true, packet: { op: 'rrq', filename: 'a', mode: 'octet', options: { blksize: '512' } } }],
    ['an option without a value is dropped', bytes([0, 1], 'a\0octet\0blksize\0'), { ok: true, packet: { op: 'rrq', filename: 'a', mode: 'octet', options: {} } }],
    ['RRQ without its final NUL', bytes([0, 1], 'a\0octet'), { ok: false, reason: 'request strings not NUL-terminated' }],
    ['RRQ without a mode', bytes([0, 1], 'a\0'), { ok: false, reason: 'request without a mode' }],
    ['RRQ with an empty name', bytes([0, 1], '\0octet\0'), { ok: false, reason: 'empty file name' }],
    ['RRQ with a 1,025-byte name', bytes([0, 1], `${'a'.repeat(1025)}\0octet\0`), { ok: false, reason: 'file name too long' }],
    ['ACK 7', bytes([0, 4, 0, 7]), { ok: true, packet: { op: 'ack', block: 7 } }],
    ['ACK 65535', bytes([0, 4, 0xff, 0xff]), { ok: true, packet: { op: 'ack', block: 65535 } }],
    ['ACK cut short', bytes([0, 4, 0]), { ok: false, reason: 'ACK without a block number' }],
    ['ERROR with message', bytes([0, 5, 0, 1], 'File not found\0'), { ok: true, packet: { op: 'error', code: 1, message: 'File not found' } }],
    ['ERROR without its NUL', bytes([0, 5, 0, 8], 'no'), { ok: true, packet: { op: 'error', code: 8, message: 'no' } }],
    ['DATA', bytes([0, 3, 0, 1], '123456789'), { ok: true, packet: { op: 'data', block: 1, data: Buffer.from('123456789') } }],
    ['OACK', bytes([0, 6], 'blksize\x001428\0'), { ok: true, packet: { op: 'oack', options: { blksize: '1428' } } }],
    ['unknown opcode 9', bytes([0, 9]), { ok: false, reason: 'unknown opcode 9' }],
    ['one byte', bytes([1]), { ok: false, reason: 'shorter than an opcode' }],
    ['nothing', Buffer.alloc(0), { ok: false, reason: 'shorter than an opcode' }],
  ];
  it.each(cases)('%s', (_name, buf, want) => {
    expect(decode(buf)).toEqual(want);
  });

  it('encode → decode round trips', () => {
    expect(decode(encodeRequest('rrq', 'firmware/x.rom', 'octet', { blksize: '1428', windowsize: '8' }))).toMatchObject({ ok: true, packet: { op: 'rrq', filename: 'firmware/x.rom', options: { blksize: '1428', windowsize: '8' } } });
    expect(decode(encodeAck(65536 + 3))).toEqual({ ok: true, packet: { op: 'ack', block: 3 } });
    expect(decode(encodeData(65535, Buffer.from('x')))).toMatchObject({ ok: true, packet: { op: 'data', block: 65535 } });
    expect(decode(encodeOack({ tsize: '9' }))).toMatchObject({ ok: true, packet: { op: 'oack', options: { tsize: '9' } } });
  });

  it('an ERROR to a client is ASCII, NUL-terminated and short', () => {
    const e = encodeError(2, 'Zugriff verweigert: ü\n'.repeat(30));
    expect(e.length).toBeLessThanOrEqual(205);
    expect(e[e.length - 1]).toBe(0);
    expect([...e.subarray(4, -1)].every((b) => b >= 0x20 && b < 0x7f)).toBe(true);
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(Array.from({ length: rnd() % 40 }, rnd));
      // Most of them with a valid opcode, so the parsers behind it are reached.
      if (b.length >= 2) {
        b[0] = 0;
        b[1] = rnd() % 7;
      }
      expect(() => decode(b)).not.toThrow();
    }
  });
});

describe('negotiate', () => {
  const L = { maxBlksize: 65464, maxWindowsize: 64 };
  const cases: Array<[string, Record<string, string>, number, Partial<ReturnType<typeof negotiate>>]> = [
    // RFC 1350: no options, no OACK, 512-byte blocks, one block per ACK.
    ['none', {}, 100, { blksize: 512, windowsize: 1, timeoutS: 1, oack: {} }],
    ['blksize 1428', { blksize: '1428' }, 100, { blksize: 1428, oack: { blksize: '1428' } }],
    // RFC 2348: 8..65464; larger is answered with what we take, smaller than 8 is ignored.
    ['blksize 8 (the minimum)', { blksize: '8' }, 1, { blksize: 8, oack: { blksize: '8' } }],
    ['blksize 7: ignored', { blksize: '7' }, 1, { blksize: 512, oack: {} }],
    ['blksize 99999: capped at 65464', { blksize: '99999' }, 1, { blksize: 65464, oack: { blksize: '65464' } }],
    ['blksize "1e3": not a number, ignored', { blksize: '1e3' }, 1, { blksize: 512, oack: {} }],
    ['blksize " 512": not a number, ignored', { blksize: ' 512' }, 1, { oack: {} }],
    // RFC 2349: tsize 0 in an RRQ is answered with the size.
    ['tsize', { tsize: '0' }, 52428800, { oack: { tsize: '52428800' } }],
    ['tsize of an empty file', { tsize: '0' }, 0, { oack: { tsize: '0' } }],
    // RFC 2349: timeout 1..255, echoed as is.
    ['timeout 3', { timeout: '3' }, 1, { timeoutS: 3, oack: { timeout: '3' } }],
    ['timeout 0: ignored', { timeout: '0' }, 1, { timeoutS: 1, oack: {} }],
    ['timeout 256: ignored', { timeout: '256' }, 1, { timeoutS: 1, oack: {} }],
    // RFC 7440: 1..65535, the server may answer smaller.
    ['windowsize 8', { windowsize: '8' }, 1, { windowsize: 8, oack: { windowsize: '8' } }],
    ['windowsize 500: capped', { windowsize: '500' }, 1, { windowsize: 64, oack: { windowsize: '64' } }],
    ['windowsize 0: ignored', { windowsize: '0' }, 1, { windowsize: 1, oack: {} }],
    // RFC 2347 §3: options the server does not know are left out of the OACK.
    ['unknown options only: no OACK', { multicast: '', foo: 'bar' }, 1, { oack: {} }],
    ['all four', { blksize: '1428', windowsize: '8', tsize: '0', timeout: '2' }, 9, { blksize: 1428, windowsize: 8, timeoutS: 2, oack: { blksize: '1428', timeout: '2', tsize: '9', windowsize: '8' } }],
  ];
  it.each(cases)('%s', (_n, req, size, want) => expect(negotiate(req, size, L)).toMatchObject(want));

  it('a server limit smaller than the request wins', () => {
    expect(negotiate({ blksize: '1468', windowsize: '16' }, 1, { maxBlksize: 1024, maxWindowsize: 4 }).oack).toEqual({ blksize: '1024', windowsize: '4' });
  });
});

/** Run events through the machine; returns the final state and every action, flattened. */
function run(s: TransferState, events: TransferEvent[]): { state: TransferState; actions: Action[][] } {
  const all: Action[][] = [];
  for (const e of events) {
    const r = step(s, e);
    s = r.state;
    all.push(r.actions);
  }
  return { state: s, actions: all };
}

const sends = (a: Action[]) => a.filter((x) => x.type === 'send-data' || x.type === 'send-oack');

describe('transfer', () => {
  const plain = (size: number, windowsize = 1, blksize = 512) => initialState(size, { blksize, windowsize, timeoutS: 1, oack: {} });

  it('RFC 1350 §6: a file of exactly n blocks ends with an empty block', () => {
    expect(plain(1024).blocks).toBe(3);
    expect(blockRange(plain(1024), 3)).toEqual({ start: 1024, end: 1024 });
    expect(plain(0).blocks).toBe(1);
    expect(plain(1000).blocks).toBe(2);
  });

  it('lock-step: start sends 1, ACK n sends n+1, the last ACK finishes', () => {
    const r = run(plain(1000), [{ type: 'start' }, { type: 'ack', block: 1 }, { type: 'ack', block: 2 }]);
    expect(r.actions[0]).toEqual([{ type: 'send-data', from: 1, to: 1 }, { type: 'arm', ms: 1000 }]);
    expect(r.actions[1]).toEqual([{ type: 'send-data', from: 2, to: 2 }, { type: 'arm', ms: 1000 }]);
    expect(r.actions[2]).toEqual([{ type: 'finish', outcome: { kind: 'complete' } }]);
    expect(r.state.phase).toBe('done');
  });

  it('options: OACK first, DATA only after ACK 0 (RFC 2347 §3); a stray ACK 1 is ignored', () => {
    const s = initialState(3000, negotiate({ blksize: '1428', tsize: '0' }, 3000));
    const r = run(s, [{ type: 'start' }, { type: 'ack', block: 1 }, { type: 'ack', block: 0 }]);
    expect(r.actions[0]![0]).toEqual({ type: 'send-oack' });
    expect(r.actions[1]).toEqual([]);
    expect(r.actions[2]![0]).toEqual({ type: 'send-data', from: 1, to: 1 });
  });

  it("no Sorcerer's Apprentice: a duplicate ACK sends nothing (RFC 1123 §4.2.3.1)", () => {
    const r = run(plain(5000), [{ type: 'start' }, { type: 'ack', block: 1 }, { type: 'ack', block: 1 }, { type: 'ack', block: 1 }, { type: 'ack', block: 2 }]);
    expect(r.actions.map((a) => sends(a).length)).toEqual([1, 1, 0, 0, 1]);
  });

  it('an ACK for a block never sent is ignored', () => {
    const r = run(plain(5000), [{ type: 'start' }, { type: 'ack', block: 5 }]);
    expect(r.actions[1]).toEqual([]);
    expect(r.state.acked).toBe(0);
  });

  it('RFC 7440: windows of 8; an ACK inside the window restarts right after it', () => {
    const s = plain(100 * 512, 8); // 101 blocks
    const r = run(s, [{ type: 'start' }, { type: 'ack', block: 8 }, { type: 'ack', block: 12 }, { type: 'ack', block: 12 }]);
    expect(sends(r.actions[0]!)).toEqual([{ type: 'send-data', from: 1, to: 8 }]);
    expect(sends(r.actions[1]!)).toEqual([{ type: 'send-data', from: 9, to: 16 }]);
    expect(sends(r.actions[2]!)).toEqual([{ type: 'send-data', from: 13, to: 20 }]);
    expect(sends(r.actions[3]!)).toEqual([]);
  });

  it('the last window is cut at the last block and its ACK finishes', () => {
    const s = plain(10 * 512 + 5, 8); // 11 blocks
    const r = run(s, [{ type: 'start' }, { type: 'ack', block: 8 }, { type: 'ack', block: 11 }]);
    expect(sends(r.actions[1]!)).toEqual([{ type: 'send-data', from: 9, to: 11 }]);
    expect(r.actions[2]).toEqual([{ type: 'finish', outcome: { kind: 'complete' } }]);
  });

  it('block numbers roll over 65535 → 0 on the wire; ACKs map back to the block in flight', () => {
    const blocks = 70000;
    let s = plain((blocks - 1) * 512 + 1, 8);
    s = step(s, { type: 'start' }).state;
    let done = false;
    let acks = 0;
    while (!done) {
      const wire = s.sent & 0xffff;
      const r = step(s, { type: 'ack', block: wire });
      s = r.state;
      acks++;
      done = r.actions.some((a) => a.type === 'finish');
    }
    expect(s.acked).toBe(blocks);
    expect(acks).toBe(Math.ceil(blocks / 8));
    // Block 65536 goes out as 0, 65537 as 1: an ACK 0 then means 65536, not the OACK.
    let t = { ...plain(70000 * 512, 1), acked: 65535, sent: 65536 };
    t = step(t, { type: 'ack', block: 0 }).state;
    expect(t.acked).toBe(65536);
  });

  it('timeouts resend the window with doubling backoff, then give up', () => {
    const s = plain(100 * 512, 4);
    const events: TransferEvent[] = [{ type: 'start' }, { type: 'ack', block: 4 }, ...Array.from({ length: MAX_RETRIES + 1 }, () => ({ type: 'timeout' }) as const)];
    const r = run(s, events);
    const arms = r.actions.slice(2).map((a) => a.find((x) => x.type === 'arm'));
    expect(arms.slice(0, MAX_RETRIES).map((a) => (a as { ms: number }).ms)).toEqual([2000, 4000, 8000, 8000, 8000]);
    expect(r.actions.slice(2, 2 + MAX_RETRIES).every((a) => sends(a)[0]?.type === 'send-data' && (sends(a)[0] as { from: number }).from === 5)).toBe(true);
    expect(r.actions.at(-1)).toEqual([{ type: 'finish', outcome: { kind: 'timed-out' } }]);
  });

  it('progress resets the backoff', () => {
    const r = run(plain(100 * 512, 1), [{ type: 'start' }, { type: 'timeout' }, { type: 'timeout' }, { type: 'ack', block: 1 }]);
    expect(r.actions[3]!.find((a) => a.type === 'arm')).toEqual({ type: 'arm', ms: 1000 });
  });

  it('a lost OACK is sent again on timeout', () => {
    const s = initialState(10, negotiate({ tsize: '0' }, 10));
    const r = run(s, [{ type: 'start' }, { type: 'timeout' }]);
    expect(sends(r.actions[1]!)).toEqual([{ type: 'send-oack' }]);
  });

  it('a client ERROR ends the transfer; later events do nothing', () => {
    const r = run(plain(5000), [{ type: 'start' }, { type: 'error', code: 8, message: 'no' }, { type: 'ack', block: 1 }, { type: 'timeout' }]);
    expect(r.actions[1]).toEqual([{ type: 'finish', outcome: { kind: 'client-error', code: 8, message: 'no' } }]);
    expect(r.actions[2]).toEqual([]);
    expect(r.actions[3]).toEqual([]);
  });
});

describe('admission', () => {
  it('bounds transfers overall and per source, and releases', () => {
    let now = 0;
    const a = new Admission({ maxTransfers: 3, maxPerSource: 2, ratePerSource: 100, burstPerSource: 100 }, () => now);
    expect([a.admit('10.0.0.1'), a.admit('10.0.0.1'), a.admit('10.0.0.1')].map((x) => x.ok)).toEqual([true, true, false]);
    expect(a.admit('10.0.0.1')).toEqual({ ok: false, reason: 'source busy' });
    expect(a.admit('10.0.0.2').ok).toBe(true);
    expect(a.admit('10.0.0.3')).toEqual({ ok: false, reason: 'busy' });
    a.release('10.0.0.1');
    expect(a.admit('10.0.0.3').ok).toBe(true);
    expect(a.active).toBe(3);
  });

  it('rate per source: a burst, then the sustained rate', () => {
    let now = 0;
    const a = new Admission({ maxTransfers: 1000, maxPerSource: 1000, ratePerSource: 10, burstPerSource: 5 }, () => now);
    const first = Array.from({ length: 7 }, () => a.admit('10.0.0.9').ok);
    expect(first).toEqual([true, true, true, true, true, false, false]);
    expect(a.admit('10.0.0.8').ok).toBe(true); // another source is not affected
    now += 100; // 10/s: one more after 100 ms
    expect([a.admit('10.0.0.9').ok, a.admit('10.0.0.9').ok]).toEqual([true, false]);
  });
});

describe('duplicates', () => {
  it('a repeat is dropped while its transfer runs and for the hold time after; another file or port is not a repeat', () => {
    let now = 0;
    const d = new Duplicates(30_000, 3, () => now);
    expect(d.repeat('10.0.0.1:1000\0a')).toBe(false);
    expect(d.repeat('10.0.0.1:1000\0a')).toBe(true);
    expect(d.repeat('10.0.0.1:1000\0b')).toBe(false);
    expect(d.repeat('10.0.0.1:1001\0a')).toBe(false);
    d.end('10.0.0.1:1000\0a');
    now = 29_999;
    expect(d.repeat('10.0.0.1:1000\0a')).toBe(true);
    now = 30_000;
    expect(d.repeat('10.0.0.1:1000\0a')).toBe(false);
    // A refusal is not held: the client may ask again at once.
    d.end('10.0.0.1:1000\0a', false);
    expect(d.repeat('10.0.0.1:1000\0a')).toBe(false);
  });

  it('remembers at most maxEnded ended requests (oldest forgotten first)', () => {
    const d = new Duplicates(30_000, 2, () => 0);
    for (const k of ['a', 'b', 'c']) {
      d.repeat(k);
      d.end(k);
    }
    expect([d.repeat('a'), d.repeat('b'), d.repeat('c')]).toEqual([false, true, true]);
  });
});

describe('netascii and names', () => {
  it.each([
    ['a\nb', 'a\r\nb'],
    ['a\r\nb', 'a\r\0\r\nb'],
    ['a\rb', 'a\r\0b'],
    ['plain', 'plain'],
    ['', ''],
  ])('%j → %j', (inp, out) => expect(toNetascii(Buffer.from(inp, 'latin1')).toString('latin1')).toBe(out));

  it.each([
    ['SEP001122334455.cnf.xml', '/SEP001122334455.cnf.xml'],
    ['/SEP001122334455.cnf.xml', '/SEP001122334455.cnf.xml'],
    ['firmware/x y.rom', '/firmware/x%20y.rom'],
    ['100%.cfg', '/100%25.cfg'],
    ['../etc/passwd', '/../etc/passwd'],
  ])('name %j is the HTTP target %j', (name, target) => expect(targetOf(name)).toBe(target));

  it.each([
    [404, 1],
    [400, 1],
    [401, 2],
    [403, 2],
    [429, 0],
    [500, 0],
  ])('HTTP %i is TFTP error %i', (status, code) => expect(refusalOf(status).code).toBe(code));
});
