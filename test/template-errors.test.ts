// Template error positions: Handlebars' parse errors carry a line and an excerpt; the column is
// recovered from them, and every error prints the source line with a caret under the spot.

import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { parseErrorPos, sourceExcerpt, templateSyntaxDiagnostic } from '../src/render/template-errors.js';

function parseError(text: string): Error {
  try {
    Handlebars.parse(text);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseErrorPos', () => {
  it.each([
    ['a "}" missing on line 10', [...'abcdefghi'].join('\n') + '\n{{sip.server}\nk', 10, 13],
    ['unclosed at the end of the first line: at the last token', 'x {{ a', 1, 6],
    ['an empty partial name', 'line one\n{{> }}', 2, 5],
    ['past the 20-character excerpt, on a long line', `${'x'.repeat(50)}{{a b c}`, 1, 58],
    ['the excerpt spans a newline', 'aaaaaaaaaa\nbb {{ a.b }', 2, 11],
    ['CRLF line ends', 'one\r\ntwo\r\n{{a}\r\n', 3, 4],
  ] as Array<[string, string, number, number]>)('%s', (_why, text, line, col) => {
    expect(parseErrorPos(text, parseError(text).message)).toEqual({ line, col });
  });

  it('not a parse error: undefined', () => {
    expect(parseErrorPos('x', 'if doesn\'t match each - 2:3')).toBeUndefined();
  });
});

describe('templateSyntaxDiagnostic', () => {
  it('a mismatched block: Handlebars\' own line and column, the message, the excerpt', () => {
    const text = 'x\n{{#if a}}\n{{/each}}';
    const d = templateSyntaxDiagnostic(text, 't.hbs', parseError(text));
    expect(d).toMatchObject({ code: 'TEMPLATE_SYNTAX', severity: 'error', loc: { file: 't.hbs', line: 2, col: 4 } });
    expect(d.message).toContain("if doesn't match each");
    expect(d.excerpt).toEqual(['2 | {{#if a}}', '  |    ^']);
  });

  it('a parse error keeps the parser\'s explanation and says in words what is unclosed', () => {
    const text = 'a\n{{b c}\n';
    const d = templateSyntaxDiagnostic(text, 't.hbs', parseError(text));
    expect(d.loc).toEqual({ file: 't.hbs', line: 2, col: 6 });
    expect(d.message).toMatch(/Expecting .*, got 'INVALID' \(a "\{\{" on this line is not closed by "\}\}"\)$/);
  });
});

describe('sourceExcerpt', () => {
  it('caret under the column, tabs kept so it lines up', () => {
    expect(sourceExcerpt('one\n\t\t{{x}\n', { line: 2, col: 6 })).toEqual(['2 | \t\t{{x}', '  | \t\t   ^']);
  });
  it('a line past the end: nothing', () => {
    expect(sourceExcerpt('one', { line: 5, col: 1 })).toEqual([]);
  });
});
