// Avaya's own template is Windows-1252 (smart quotes in its comments) while hand-edited
// files are ASCII or UTF-8, and nothing in the file says which. Phones only care about the
// ASCII statements, so a wrong guess can only garble comments and values — but those are
// what the linter quotes back, so guess well: valid UTF-8 is almost never accidental.

const UTF8_BOM = [0xef, 0xbb, 0xbf];

// Node's TextDecoder('windows-1252') decodes as ISO-8859-1 since 20.18.3/22.13.0
// (nodejs/node#60888, #56542): 0x93 comes out as U+0093 instead of “. So the 32 bytes
// where the two differ are mapped here, per the WHATWG table; the five bytes Windows-1252
// leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the same code point, as WHATWG does.
const CP1252_80_9F = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
  0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

export function decodeWindows1252(bytes: Uint8Array): string {
  const parts: string[] = [];
  // Chunked so a megabyte file does not build a megabyte argument list.
  const CHUNK = 8192;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    const codes = new Array<number>(end - start);
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      codes[i - start] = b >= 0x80 && b <= 0x9f ? CP1252_80_9F[b - 0x80]! : b;
    }
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

/** Text of a phone script: UTF-8 when the bytes are valid UTF-8, else Windows-1252. BOM dropped, line endings kept. Never throws. */
export function decodeScript(bytes: Uint8Array): string {
  const hasBom = bytes.length >= 3 && UTF8_BOM.every((b, i) => bytes[i] === b);
  const body = hasBom ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return decodeWindows1252(body);
  }
}
