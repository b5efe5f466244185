// TFTP packets in and out, as plain values (RFC 1350 §5, RFC 2347 §2-3). Pure: no sockets.
// decode() never throws: a hostile datagram is a tagged `{ ok: false }`, never an exception.

export const OPCODE = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 §5 error codes (and RFC 2347's 8). */
export const ERR = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** No phone file name comes close; a longer request is refused before any work (as HTTP's MAX_PATH). */
export const MAX_FILENAME = 1024;

export type Request = {
  op: 'rrq' | 'wrq';
  filename: string;
  /** Lowercased: RFC 1350 says the mode is case-insensitive. */
  mode: string;
  /** Option names lowercased (RFC 2347 §2: case-insensitive); the first of a repeated name wins. */
  options: Record<string, string>;
};

export type Packet =
  | Request
  | { op: 'data'; block: number; data: Buffer }
  | { op: 'ack'; block: number }
  | { op: 'error'; code: number; message: string }
  | { op: 'oack'; options: Record<string, string> };

export type Decoded = { ok: true; packet: Packet } | { ok: false; reason: string };

export function decode(buf: Buffer): Decoded {
  if (buf.length < 2) return { ok: false, reason: 'shorter than an opcode' };
  const op = buf.readUInt16BE(0);
  switch (op) {
    case OPCODE.RRQ:
    case OPCODE.WRQ:
      return decodeRequest(buf, op === OPCODE.RRQ ? 'rrq' : 'wrq');
    case OPCODE.DATA:
      // RFC 1350 §5: | 03 | block # | data (0-512 bytes, or blksize) |
      if (buf.length < 4) return { ok: false, reason: 'DATA without a block number' };
      return { ok: true, packet: { op: 'data', block: buf.readUInt16BE(2), data: buf.subarray(4) } };
    case OPCODE.ACK:
      // | 04 | block # |; bytes after it are ignored, as every server does.
      if (buf.length < 4) return { ok: false, reason: 'ACK without a block number' };
      return { ok: true, packet: { op: 'ack', block: buf.readUInt16BE(2) } };
    case OPCODE.ERROR: {
      // | 05 | ErrorCode | ErrMsg | 0 |; a missing final NUL is tolerated (the message ends the datagram).
      if (buf.length < 4) return { ok: false, reason: 'ERROR without a code' };
      const end = buf.indexOf(0, 4);
      return { ok: true, packet: { op: 'error', code: buf.readUInt16BE(2), message: buf.toString('latin1', 4, end === -1 ? buf.length : end) } };
    }
    case OPCODE.OACK: {
      const strings = nulStrings(buf, 2);
      if (!strings || strings.length % 2) return { ok: false, reason: 'malformed OACK' };
      return { ok: true, packet: { op: 'oack', options: pairs(strings) } };
    }
    default:
      return { ok: false, reason: `unknown opcode ${op}` };
  }
}

function decodeRequest(buf: Buffer, op: 'rrq' | 'wrq'): Decoded {
  // RFC 1350 §5: | 01/02 | Filename | 0 | Mode | 0 |, RFC 2347 §2: then | opt1 | 0 | value1 | 0 | …
  const strings = nulStrings(buf, 2);
  if (!strings) return { ok: false, reason: 'request strings not NUL-terminated' };
  if (strings.length < 2) return { ok: false, reason: 'request without a mode' };
  const [filename, mode, ...rest] = strings as [string, string, ...string[]];
  if (filename === '') return { ok: false, reason: 'empty file name' };
  if (filename.length > MAX_FILENAME) return { ok: false, reason: 'file name too long' };
  // An option without its value: RFC 2347 has no such thing; the dangling name is dropped.
  if (rest.length % 2) rest.pop();
  return { ok: true, packet: { op, filename, mode: mode.toLowerCase(), options: pairs(rest) } };
}

/** NUL-terminated strings from `start` to the end; undefined when the last one has no NUL. */
function nulStrings(buf: Buffer, start: number): string[] | undefined {
  const out: string[] = [];
  let i = start;
  while (i < buf.length) {
    const end = buf.indexOf(0, i);
    if (end === -1) return undefined;
    // latin1: one byte, one character, so no name is changed by decoding (phones send ASCII).
    out.push(buf.toString('latin1', i, end));
    i = end + 1;
  }
  return out;
}

function pairs(strings: string[]): Record<string, string> {
  const o: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < strings.length; i += 2) {
    const name = strings[i]!.toLowerCase();
    if (!(name in o)) o[name] = strings[i + 1]!;
  }
  return o;
}

/** Opcode and block number: an ACK whole, or a DATA packet's header. */
function opcodeAndBlock(opcode: number, block: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16BE(opcode, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

/** The 4-byte DATA header; the payload is sent beside it (no copy of the file's bytes). */
export function dataHeader(block: number): Buffer {
  return opcodeAndBlock(OPCODE.DATA, block);
}

export function encodeData(block: number, data: Buffer): Buffer {
  return Buffer.concat([dataHeader(block), data]);
}

export function encodeAck(block: number): Buffer {
  return opcodeAndBlock(OPCODE.ACK, block);
}

export function encodeError(code: number, message: string): Buffer {
  // ASCII only, and short: the message goes to an unauthenticated peer.
  const text = Buffer.from(message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200), 'latin1');
  const b = Buffer.alloc(5 + text.length);
  b.writeUInt16BE(OPCODE.ERROR, 0);
  b.writeUInt16BE(code, 2);
  text.copy(b, 4);
  return b;
}

export function encodeOack(options: Record<string, string>): Buffer {
  return Buffer.concat([u16(OPCODE.OACK), ...Object.entries(options).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`, 'latin1')])]);
}

export function encodeRequest(op: 'rrq' | 'wrq', filename: string, mode: string, options: Record<string, string> = {}): Buffer {
  const opts = Object.entries(options).map(([k, v]) => `${k}\0${v}\0`).join('');
  return Buffer.concat([u16(op === 'rrq' ? OPCODE.RRQ : OPCODE.WRQ), Buffer.from(`${filename}\0${mode}\0${opts}`, 'latin1')]);
}

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n, 0);
  return b;
}
