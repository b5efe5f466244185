// The grammar a Yealink .cfg must satisfy before a phone sees it:
//   line 1 is exactly `#!version:1.0.0.1`; then only `key = value` lines, comments (`#…`)
//   and blank lines; and no key twice (the phone keeps one of them, silently).

import type { Diagnostic } from '../../check/diagnostics.js';

const HEADER = '#!version:1.0.0.1';
const KEY_VALUE = /^([A-Za-z0-9_][A-Za-z0-9_.%\-[\]]*)\s*=\s?(.*)$/;

export function checkYealinkCfg(text: string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop();
  if ((lines[0] ?? '').trimEnd() !== HEADER) {
    out.push({ code: 'YEALINK_HEADER', severity: 'error', message: `line 1 must be "${HEADER}"`, loc: { file, line: 1, col: 1 } });
  }
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = KEY_VALUE.exec(trimmed);
    if (!m) {
      out.push({ code: 'YEALINK_SYNTAX', severity: 'error', message: `expected "key = value" or a # comment, got ${JSON.stringify(trimmed.slice(0, 60))}`, loc: { file, line: i + 1, col: 1 } });
      continue;
    }
    const key = m[1]!;
    const prev = seen.get(key);
    if (prev !== undefined) {
      out.push({ code: 'YEALINK_DUPLICATE_KEY', severity: 'error', message: `key "${key}" appears twice (first on line ${prev})`, loc: { file, line: i + 1, col: 1 } });
    } else seen.set(key, i + 1);
  }
  return out;
}
