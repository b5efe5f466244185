// Profile lines quoted as the cause of a change must not show a secret: a value at a secret
// key (`password: hunter2`) is masked, and so is any known secret value anywhere on the line.
// A reference (`${file:secrets/line-1001}`) names where a secret is, not the secret: shown.

import { isSecretKey, REDACTED } from '../config/redact.js';
import { redactSecrets } from '../config/secret-refs.js';

// `  key: value`, `- key: value`, `"key": value`; the value up to a trailing comment.
const KEY_VALUE = /^(\s*(?:-\s+)*)(["']?)([^"'#:{}[\],]+?)\2(\s*:[ \t]+)(.*?)(\s+#.*)?$/;

export function maskYamlLine(line: string, secrets: ReadonlySet<string>, extraKeys?: RegExp): string {
  const m = KEY_VALUE.exec(line);
  let out = line;
  if (m) {
    const [, lead, q, key, sep, value, comment] = m;
    if (value !== '' && isSecretKey(key!.trim(), extraKeys) && !/^["']?\$\{(env|file):[^}]*\}["']?$/.test(value!) && value !== '|' && value !== '>') {
      out = `${lead}${q}${key}${q}${sep}${REDACTED}${comment ?? ''}`;
    }
  }
  return redactSecrets(out, secrets);
}
