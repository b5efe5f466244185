// Template errors that say where and why: the template's file:line:col, Handlebars' own
// explanation, and the source line with a caret under the spot. Pure: text and errors in,
// diagnostics out.

import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';

/** A position in a template, 1-based as editors show it. */
export interface TemplatePos {
  line: number;
  col: number;
}

/**
 * The source line and a caret under `col`, ready to print beneath a diagnostic:
 *   `  10 | {{sip.server}`
 *   `     |             ^`
 */
export function sourceExcerpt(text: string, pos: TemplatePos): string[] {
  const line = text.split(/\r?\n|\r/)[pos.line - 1];
  if (line === undefined) return [];
  const gutter = String(pos.line);
  // Tabs keep their width in the caret line so the caret stays under the character.
  const lead = line.slice(0, Math.max(0, pos.col - 1)).replace(/[^\t]/g, ' ');
  return [`${gutter} | ${line}`, `${' '.repeat(gutter.length)} | ${lead}^`];
}

/**
 * Where Handlebars' parser (jison) stopped. Its message gives the line and an excerpt: the 20
 * characters before the spot and the 20 from it, newlines removed, a caret between. The column
 * is the offset on that line where both halves match the text.
 */
export function parseErrorPos(text: string, message: string): TemplatePos | undefined {
  const m = /^Parse error on line (\d+):\n([^\n]*)\n(-*)\^/.exec(message);
  if (!m) return undefined;
  const line = Number(m[1]);
  const shown = m[2]!;
  const caret = m[3]!.length;
  const before = shown.slice(0, caret).replace(/^\.\.\./, '');
  const after = shown.slice(caret).replace(/\.\.\.$/, '');
  const flat = (s: string) => s.replace(/\n/g, '');
  const starts = lineStarts(text);
  const tryLine = (l: number): TemplatePos | undefined => {
    const start = starts[l - 1];
    if (start === undefined) return undefined;
    const end = starts[l] ?? text.length + 1;
    for (let o = start; o < end; o++) {
      if (flat(text.slice(Math.max(0, o - 20), o)) === before && flat(text.slice(o, o + 20)).startsWith(after)) return { line: l, col: o - start + 1 };
    }
    return undefined;
  };
  return tryLine(line) ?? { line, col: 1 };
}

function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') out.push(i + 1);
  return out;
}

/** A compile-time error (parse error, mismatched block) as a diagnostic at its place. */
export function templateSyntaxDiagnostic(text: string, file: string, e: unknown): Diagnostic {
  const message = e instanceof Error ? e.message : String(e);
  let pos = parseErrorPos(text, message);
  let explanation: string;
  if (pos) {
    // The last line is the parser's own explanation ("Expecting 'CLOSE', … got 'INVALID'").
    explanation = `${message.split('\n').pop()!}${unclosedHint(text, pos)}`;
  } else {
    // Handlebars' Exception carries lineNumber and a 0-based column when it knows the node.
    const ex = e as { lineNumber?: number; column?: number };
    pos = typeof ex.lineNumber === 'number' ? { line: ex.lineNumber, col: (ex.column ?? 0) + 1 } : { line: 1, col: 1 };
    explanation = message.split('\n')[0]!;
  }
  return { code: 'TEMPLATE_SYNTAX', severity: 'error', message: `template syntax: ${explanation}`, loc: { file, ...pos }, excerpt: sourceExcerpt(text, pos) };
}

/** The parser's token names are cryptic; say it in words when a `{{` on the line is not closed. */
function unclosedHint(text: string, pos: TemplatePos): string {
  const line = text.split(/\r?\n|\r/)[pos.line - 1] ?? '';
  const open = line.lastIndexOf('{{', pos.col - 1);
  if (open < 0) return '';
  const close = line.indexOf('}}', open);
  return close < 0 || close >= pos.col - 1 ? ' (a "{{" on this line is not closed by "}}")' : '';
}

// Runtime errors: the compiled template tags the error with the statement it came from, so
// the render can report the template's line rather than 1:1.
const TEMPLATE_POS = Symbol('deskset.templatePos');

/** Remember where in the template `e` was thrown (the innermost statement wins). */
export function tagTemplateError(e: unknown, pos: TemplatePos | undefined): unknown {
  if (pos && e !== null && typeof e === 'object' && !(TEMPLATE_POS in e)) {
    Object.defineProperty(e, TEMPLATE_POS, { value: pos, enumerable: false });
  }
  return e;
}

export function templateErrorPos(e: unknown): TemplatePos | undefined {
  return e !== null && typeof e === 'object' ? ((e as Record<symbol, TemplatePos | undefined>)[TEMPLATE_POS] ?? undefined) : undefined;
}

/** A Handlebars AST node's start, 1-based. */
export function nodePos(node: { loc?: { start?: { line: number; column: number } } | null }): TemplatePos | undefined {
  const s = node.loc?.start;
  return s ? { line: s.line, col: s.column + 1 } : undefined;
}

export function templateLoc(file: string, pos: TemplatePos): SourceLoc {
  return { file, line: pos.line, col: pos.col };
}
