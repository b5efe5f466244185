// Parser for the Avaya phone script language (46xxsettings.txt, 46xxspecials.txt,
// J100Supgrade.txt, 96xxupgrade.txt). The grammar is what phones do, not what a tidy
// language would do. Avaya's template states it: "Any line that does not begin with
// "SET ", "IF ", "GOTO ", "# " or "GET " is treated as a comment." So there are no
// comment markers: `##`, `#Comment` (mlrabbitt), prose and blank lines are all comments
// simply because they do not start with a keyword.
//
// Where phone behaviour is unknown we parse leniently and warn, so the rest of the lint
// still sees the line: indented statements and a tab after the keyword are parsed
// (NONSTANDARD_PREFIX), keywords are case-insensitive (Avaya's own 96xxupgrade.txt writes
// `goto`), and `ADD` is accepted (J100 appends to list parameters with it).

import type { Diagnostic, Severity } from '../../../check/diagnostics.js';

/** How a SET value's double quotes look; anything but `none`/`ok` is worth a warning. */
export type QuoteShape =
  | 'none' // unquoted, no `"` anywhere
  | 'ok' // "…" with nothing after the closing quote
  | 'unterminated' // opens with `"` and never closes
  | 'inner' // "…"…" — a quote inside a quoted value
  | 'trailing' // "…" followed by more text
  | 'stray'; // unquoted value that contains `"`

export interface SetStatement {
  kind: 'set';
  /** `ADD` appends to a list parameter instead of replacing it; otherwise identical. */
  keyword: 'SET' | 'ADD';
  line: number;
  col: number;
  name: string;
  nameCol: number;
  /** Everything after the name, trailing whitespace trimmed, quotes kept. '' when absent. */
  raw: string;
  /** The value as the phone should see it: quotes removed when quoted. */
  value: string;
  quoted: boolean;
  quote: QuoteShape;
  /** Column of `raw`; the column just past the name when there is no value. */
  valueCol: number;
}

export interface IfStatement {
  kind: 'if';
  line: number;
  col: number;
  /** As written, normally `$MODEL4` etc. */
  variable: string;
  operator: string;
  /** Compared value, outer quotes removed; may hold `|` alternatives. */
  value: string;
  label: string;
  labelCol: number;
}

export interface GotoStatement {
  kind: 'goto';
  line: number;
  col: number;
  label: string;
  labelCol: number;
}

export interface GetStatement {
  kind: 'get';
  line: number;
  col: number;
  /** May contain phone variables such as `$MACADDR`. */
  file: string;
  fileCol: number;
}

export interface LabelStatement {
  kind: 'label';
  line: number;
  col: number;
  name: string;
  nameCol: number;
}

export type Statement = SetStatement | IfStatement | GotoStatement | GetStatement | LabelStatement;

export interface ParsedScript {
  statements: Statement[];
  /** Malformed or doubtful statement lines; never thrown. */
  diagnostics: Diagnostic[];
  /** Source lines without their line terminators, index 0 = line 1. */
  lines: string[];
}

const KEYWORD = /^(SET|ADD|IF|GOTO|GET)(?=[ \t]|$)/i;
const WS = /[ \t]/;

/** Splits on CRLF, LF or lone CR: all three occur in real files. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  // A final terminator ends the last line rather than starting an empty one.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A whitespace-delimited token starting at `from` (which must not be whitespace), with the index after it. */
function tokenAt(s: string, from: number): { text: string; end: number } {
  let end = from;
  while (end < s.length && !WS.test(s[end]!)) end++;
  return { text: s.slice(from, end), end };
}

function skipWs(s: string, from: number): number {
  while (from < s.length && WS.test(s[from]!)) from++;
  return from;
}

export function analyzeQuotes(raw: string): { value: string; quoted: boolean; quote: QuoteShape } {
  if (!raw.startsWith('"')) return { value: raw, quoted: false, quote: raw.includes('"') ? 'stray' : 'none' };
  const close = raw.indexOf('"', 1);
  if (close === -1) return { value: raw.slice(1), quoted: true, quote: 'unterminated' };
  if (close === raw.length - 1) return { value: raw.slice(1, -1), quoted: true, quote: 'ok' };
  // A later closing quote at the very end means the author meant one value with a quote in it.
  if (raw.endsWith('"')) return { value: raw.slice(1, -1), quoted: true, quote: 'inner' };
  return { value: raw.slice(1, close), quoted: true, quote: 'trailing' };
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

export function parseAvayaScript(text: string, file = ''): ParsedScript {
  const lines = splitLines(text);
  const statements: Statement[] = [];
  const diagnostics: Diagnostic[] = [];
  const report = (code: string, severity: Severity, message: string, line: number, col: number) =>
    diagnostics.push({ code, severity, message, loc: { file, line, col } });

  lines.forEach((rawLine, idx) => {
    const line = idx + 1;
    const src = rawLine.trimEnd();
    const start = skipWs(src, 0);
    const col = start + 1;
    const rest = src.slice(start);

    if (rest.startsWith('# ')) {
      const nameAt = skipWs(src, start + 1);
      if (nameAt >= src.length) return; // "# " and nothing: an empty label nobody can jump to.
      if (start > 0) nonstandard(line, col, '#');
      const tok = tokenAt(src, nameAt);
      statements.push({ kind: 'label', line, col, name: tok.text, nameCol: nameAt + 1 });
      const extra = skipWs(src, tok.end);
      if (extra < src.length)
        report('TRAILING_TEXT', 'warning', `"# " starts a label, so this line defines label ${tok.text} and the rest of the line is ignored; write comments with "##"`, line, extra + 1);
      return;
    }

    const kw = KEYWORD.exec(rest);
    if (!kw) return; // A comment, by the phones' rule.
    const keyword = kw[1]!.toUpperCase();
    const afterKw = start + kw[1]!.length;
    if (start > 0 || (afterKw < src.length && src[afterKw] !== ' ')) nonstandard(line, col, keyword);
    const argAt = skipWs(src, afterKw);
    const missing = argAt >= src.length;

    switch (keyword) {
      case 'SET':
      case 'ADD': {
        if (missing) return malformed(line, col, `${keyword} needs a parameter name: ${keyword} NAME value`);
        const name = tokenAt(src, argAt);
        const valueAt = skipWs(src, name.end);
        const raw = src.slice(valueAt);
        statements.push({
          kind: 'set',
          keyword: keyword as 'SET' | 'ADD',
          line,
          col,
          name: name.text,
          nameCol: argAt + 1,
          raw,
          ...analyzeQuotes(raw),
          valueCol: valueAt + 1,
        });
        return;
      }
      case 'GOTO': {
        if (missing) return malformed(line, col, 'GOTO needs a label: GOTO LABEL');
        const label = tokenAt(src, argAt);
        statements.push({ kind: 'goto', line, col, label: label.text, labelCol: argAt + 1 });
        trailing(line, src, label.end, `label ${label.text}`);
        return;
      }
      case 'GET': {
        if (missing) return malformed(line, col, 'GET needs a file name: GET file');
        const f = tokenAt(src, argAt);
        statements.push({ kind: 'get', line, col, file: unquote(f.text), fileCol: argAt + 1 });
        trailing(line, src, f.end, `file name ${f.text}`);
        return;
      }
      case 'IF':
        return parseIf(line, col, src, argAt);
    }
  });

  function parseIf(line: number, col: number, src: string, from: number): void {
    const shape = 'IF $VARIABLE SEQ value GOTO LABEL';
    const variable = tokenAt(src, from);
    const opAt = skipWs(src, variable.end);
    const op = tokenAt(src, opAt);
    const valueAt = skipWs(src, op.end);
    // The value ends at the first standalone GOTO; values are phone properties, never "GOTO".
    const m = /^(.*?)[ \t]+GOTO(?:[ \t]+(.*))?$/i.exec(src.slice(valueAt));
    if (!variable.text || !op.text || !m || /^GOTO$/i.test(op.text))
      return malformed(line, col, `IF is incomplete; the shape is ${shape}`);
    if (m[2] === undefined) return malformed(line, col, `IF has no label after GOTO; the shape is ${shape}`);
    const labelAt = src.length - m[2].length;
    const label = tokenAt(src, labelAt);
    statements.push({
      kind: 'if',
      line,
      col,
      variable: variable.text,
      operator: op.text,
      value: unquote(m[1]!.trim()),
      label: label.text,
      labelCol: labelAt + 1,
    });
    if (!variable.text.startsWith('$'))
      report('IF_NOT_VARIABLE', 'warning', `IF compares the literal text ${variable.text}, not a phone property; did you mean $${variable.text}?`, line, from + 1);
    if (op.text.toUpperCase() !== 'SEQ')
      report('UNKNOWN_OPERATOR', 'warning', `IF operator ${op.text} is not SEQ, the only comparison Avaya documents`, line, opAt + 1);
    trailing(line, src, label.end, `label ${label.text}`);
  }

  function malformed(line: number, col: number, message: string): void {
    report('MALFORMED_STATEMENT', 'error', `${message}; phones skip this line`, line, col);
  }

  function nonstandard(line: number, col: number, keyword: string): void {
    const start = keyword === '#' ? '"# "' : `"${keyword} "`;
    report('NONSTANDARD_PREFIX', 'warning', `phones only act on lines that begin with ${start} (no indentation, one space after the keyword); this line may be ignored as a comment`, line, col);
  }

  function trailing(line: number, src: string, from: number, what: string): void {
    const extra = skipWs(src, from);
    if (extra < src.length) report('TRAILING_TEXT', 'warning', `text after ${what} is not part of the statement`, line, extra + 1);
  }

  return { statements, diagnostics, lines };
}
