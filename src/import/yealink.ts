// Yealink .cfg and .boot files: `#!version:1.0.0.1` on line 1, `key = value` lines, `#`
// comments (`## key = value` is a key switched off, so it travels as a comment), and in boot
// files `include:config <file>` lines, later files overriding earlier ones.

import type { Diagnostic } from '../check/diagnostics.js';
import type { Dropped } from './types.js';
import { commentText } from './text.js';

export interface YealinkEntry {
  key: string;
  value: string;
  line: number;
  comments: string[];
}

export interface YealinkFile {
  header: boolean;
  entries: YealinkEntry[];
  includes: Array<{ target: string; line: number }>;
  /** Lines that were neither settings, comments nor includes. */
  junk: number;
  findings: Diagnostic[];
  dropped: Dropped[];
  lineCount: number;
}

const KEY_VALUE = /^([A-Za-z0-9_][A-Za-z0-9_.%\-[\]]*)\s*=\s?(.*)$/;
const INCLUDE = /^include:config\s+(?:"([^"]*)"|(\S+))\s*$/i;
// A key the renderer can write back (core/template-helpers.ts yealinkLine).
const WRITABLE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.%-]*$/;

export function parseYealink(lines: readonly string[], file: string): YealinkFile {
  const out: YealinkFile = { header: false, entries: [], includes: [], junk: 0, findings: [], dropped: [], lineCount: lines.length };
  const seen = new Map<string, number>();
  let comments: string[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (i === 0 && text.startsWith('#!version:')) {
      out.header = true;
      return;
    }
    if (text === '') {
      comments = [];
      return;
    }
    if (text.startsWith('#')) {
      const c = commentText(text, /^#+/);
      if (c !== '') comments.push(c);
      return;
    }
    const inc = INCLUDE.exec(text);
    if (inc) {
      out.includes.push({ target: inc[1] ?? inc[2]!, line });
      comments = [];
      return;
    }
    if (/^\[[^\]]*\]$/.test(text)) {
      out.dropped.push({ loc: { file, line, col: 1 }, key: text, reason: 'model sections of boot files are not imported: the lines below it apply to every model' });
      out.findings.push({ code: 'IMPORT_UNSUPPORTED', severity: 'warning', message: `boot file section ${text} is not imported; its lines are read as if for every model`, loc: { file, line, col: 1 } });
      return;
    }
    const m = KEY_VALUE.exec(text);
    if (!m) {
      out.junk++;
      // The line is quoted back only when it cannot hold a credential.
      const shown = /pass|pwd|pswd|secret|token|key/i.test(text) ? '(not quoted: it may hold a secret)' : JSON.stringify(text.slice(0, 60));
      out.findings.push({ code: 'IMPORT_NOT_A_SETTING', severity: 'warning', message: `not "key = value", a comment or include:config: ${shown} (skipped)`, loc: { file, line, col: 1 } });
      out.dropped.push({ loc: { file, line, col: 1 }, key: shown, reason: 'not a Yealink setting line' });
      comments = [];
      return;
    }
    const key = m[1]!;
    const value = m[2]!.trim();
    if (!WRITABLE_KEY.test(key)) {
      out.dropped.push({ loc: { file, line, col: 1 }, key, reason: 'key has characters deskset cannot write back ([ or ])' });
      out.findings.push({ code: 'IMPORT_DROPPED', severity: 'warning', message: `key ${key} has characters deskset cannot write back; not imported`, loc: { file, line, col: 1 } });
      comments = [];
      return;
    }
    const prev = seen.get(key);
    if (prev !== undefined) {
      out.findings.push({ code: 'IMPORT_DUPLICATE_KEY', severity: 'warning', message: `key ${key} appears again (first on line ${prev}); the last value is imported`, loc: { file, line, col: 1 } });
      out.dropped.push({ loc: { file, line: prev, col: 1 }, key, reason: `overridden by the same key on line ${line}` });
    }
    seen.set(key, line);
    out.entries.push({ key, value, line, comments });
    comments = [];
  });
  return out;
}

/** True for the text of a Yealink cfg/boot file: a version header or mostly key = value lines. */
export function isYealinkText(lines: readonly string[]): boolean {
  if ((lines[0] ?? '').trim().startsWith('#!version:')) return true;
  let kv = 0;
  let other = 0;
  for (const l of lines.slice(0, 200)) {
    const t = l.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (KEY_VALUE.test(t) || INCLUDE.test(t)) kv++;
    else other++;
  }
  return kv > 0 && other <= kv / 10;
}
