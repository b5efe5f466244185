// Secrets never reach logs, previews or error messages. A value is secret when the key
// that holds it looks like one: line passwords, admin passwords, Avaya PROCPSWD, ...

export const REDACTED = '••••';

const DEFAULT_SECRET_KEY = /(pass(word|wd)?|pswd|secret|token|private[_.]?key)$/i;

/** True when the last key of `path` names a secret (`settings.lines[0].password`, `PROCPSWD`). */
export function isSecretKey(key: string, extra?: RegExp): boolean {
  const last = key.split('.').pop() ?? key;
  return DEFAULT_SECRET_KEY.test(last) || DEFAULT_SECRET_KEY.test(key) || (extra?.test(key) ?? false);
}

/** Replace secrets in a plain value tree. Keys are checked at every depth. */
export function redactTree(value: unknown, extra?: RegExp, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactTree(v, extra, parentKey));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k, extra) && (v === null || typeof v !== 'object') ? REDACTED : redactTree(v, extra, k);
    }
    return out;
  }
  return value;
}
