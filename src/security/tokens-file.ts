// The old URL-token file, <state_dir>/tokens.json ({"version":1,"tokens":{sha256hex:{mac,issuedAt}}}),
// read once by the state store's migration 0002 that imports it.

import fs from 'node:fs';
import { normalizeMac } from '../config/mac.js';

export interface FileTokenEntry {
  hash: string;
  mac: string;
  issuedAt: string;
}

/** The entries, or undefined when there is no file. A corrupt file throws, naming it. */
export function readTokensFile(file: string): FileTokenEntry[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseTokensFile(text, file);
}

export function parseTokensFile(text: string, file: string): FileTokenEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const tokens = (raw as { version?: unknown; tokens?: unknown } | null)?.tokens as Record<string, { mac?: unknown; issuedAt?: unknown }> | undefined;
  if ((raw as { version?: unknown } | null)?.version !== 1 || !tokens || typeof tokens !== 'object' || Array.isArray(tokens)) {
    throw new Error(`${file}: expected {"version":1,"tokens":{…}}`);
  }
  const out: FileTokenEntry[] = [];
  const seen = new Set<string>();
  for (const [h, e] of Object.entries(tokens)) {
    const mac = typeof e?.mac === 'string' ? normalizeMac(e.mac) : undefined;
    if (!/^[0-9a-f]{64}$/.test(h) || !mac || typeof e.issuedAt !== 'string') throw new Error(`${file}: bad entry ${JSON.stringify(h.slice(0, 16))}`);
    // One token per device: a second one for the same MAC means the file was edited by hand.
    if (seen.has(mac)) throw new Error(`${file}: more than one token for ${mac}`);
    seen.add(mac);
    out.push({ hash: h, mac, issuedAt: e.issuedAt });
  }
  return out;
}
