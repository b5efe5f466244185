// netascii (RFC 1350 §5, after RFC 764): line ends go out as CR LF, and a bare CR as CR NUL.
// Phones ask in octet mode; tftp-hpa's client defaults to netascii, so both are served.

const CR = 0x0d;
const LF = 0x0a;

export function toNetascii(bytes: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === CR || bytes[i] === LF) extra++;
  if (extra === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === LF) {
      out[j++] = CR;
      out[j++] = LF;
    } else if (c === CR) {
      out[j++] = CR;
      out[j++] = 0;
    } else out[j++] = c;
  }
  return out;
}
