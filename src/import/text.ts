// Bytes of a vendor file to lines. Real folders hold CRLF, lone CR, UTF-8 with and without a
// BOM and Windows-1252 (Avaya's own template): the same decoding the Avaya linter uses.

import { decodeScript } from '../vendors/avaya/script/decode.js';
import { splitLines } from '../vendors/avaya/script/parse.js';

export function decodeLines(bytes: Uint8Array): string[] {
  return splitLines(decodeScript(bytes));
}

/** Binary data is no config: NUL bytes, or many control characters in the first 4 KB. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) control++;
  }
  return n > 0 && control / n > 0.05;
}

/** The text of a comment line without its markers: "## Time zone" -> "Time zone". */
export function commentText(line: string, marker: RegExp): string {
  return line.replace(marker, '').trim();
}
