// Secrets never reach logs, previews or error messages. A value is secret when the key
// that holds it looks like one: line passwords, admin passwords, Avaya PROCPSWD, ...

import { setKey } from './yaml-tree.js';

export const REDACTED = '••••';

const DEFAULT_SECRET_KEY = /(pass(word|wd)?|pswd|secret|token|private[_.]?key)$/i;

/** True when the last key of `path` names a secret (`settings.lines[0].password`, `PROCPSWD`). */
export function isSecretKey(key: string, extra?: RegExp): boolean {
  return defaultSecretKey(key) || (extra?.test(key) ?? false);
}

// The same few dozen keys are asked about for every one of 100,000 device files.
const knownKeys = new Map<string, boolean>();
function defaultSecretKey(key: string): boolean {
  let v = knownKeys.get(key);
  if (v === undefined) {
    const last = key.slice(key.lastIndexOf('.') + 1);
    v = DEFAULT_SECRET_KEY.test(last) || DEFAULT_SECRET_KEY.test(key);
    if (knownKeys.size > 10_000) knownKeys.clear();
    knownKeys.set(key, v);
  }
  return v;
}

/** Replace secrets in a plain value tree. Keys are checked at every depth. */
export function redactTree(value: unknown, extra?: RegExp, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactTree(v, extra, parentKey));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      setKey(out, k, isSecretKey(k, extra) && (v === null || typeof v !== 'object') ? REDACTED : redactTree(v, extra, k));
    }
    return out;
  }
  return value;
}
