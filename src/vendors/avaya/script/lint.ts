// Lint for Avaya phone scripts. Pure: file access is the caller's, via `resourceExists`.
// Rule of the house: a message may name a parameter but never quotes a SET value, except
// file names of resource parameters, so a secret cannot leak through any finding.

import { suggest } from '../../../check/suggest.js';
import type { Diagnostic, Severity } from '../../../check/diagnostics.js';
import { parseAvayaScript, type SetStatement, type GetStatement } from './parse.js';
import { lintFlow } from './flow.js';
import { isSecretName, isVariableOnly, REDACTED, RESOURCE_PARAMETERS, resourceNames, URL_WITH_CREDENTIALS } from './values.js';

export interface LintOptions {
  /** Shown in every finding's location. */
  file: string;
  /** Known parameter names; UNKNOWN_PARAMETER is only checked when given. */
  catalog?: ReadonlySet<string>;
  /** Whether the file server has a file; MISSING_RESOURCE is only checked when given. */
  resourceExists?: (name: string) => boolean;
  /** Extra parameter-name patterns to treat as secrets, on top of the built-in ones. */
  secretPatterns?: RegExp[];
  /** The script is one device's own (its credentials are meant to be there): no PLAINTEXT_SECRET. */
  perDevice?: boolean;
}

export function lintAvayaScript(text: string, opts: LintOptions): Diagnostic[] {
  const { file } = opts;
  const parsed = parseAvayaScript(text, file);
  const active = parsed.statements.some((s) => s.kind !== 'label') || parsed.diagnostics.some((d) => d.code === 'MALFORMED_STATEMENT');
  if (!active) {
    // Labels alone do nothing; a file without SET/IF/GOTO/GET is most likely some other
    // format whose "# comment" lines would otherwise each be reported as a label.
    return [{
      code: 'NO_STATEMENTS',
      severity: 'info',
      message: 'no SET, ADD, IF, GOTO or GET lines: a phone would ignore this whole file (is it an Avaya script?)',
      loc: { file, line: 1, col: 1 },
    }];
  }

  const out: Diagnostic[] = [...parsed.diagnostics, ...lintFlow(parsed.statements, file)];
  const push = (code: string, severity: Severity, message: string, line: number, col: number) =>
    out.push({ code, severity, message, loc: { file, line, col } });

  for (const s of parsed.statements) {
    if (s.kind === 'set') lintSet(s);
    else if (s.kind === 'get') lintGet(s);
  }

  function lintSet(s: SetStatement): void {
    const secret = isSecretName(s.name, opts.secretPatterns);

    if (opts.catalog && !opts.catalog.has(s.name)) {
      const upper = s.name.toUpperCase();
      const hint = opts.catalog.has(upper) ? `; the template spells it ${upper}` : closest(upper, opts.catalog);
      push('UNKNOWN_PARAMETER', 'warning', `${s.name} is not a parameter in the Avaya template catalog${hint}`, s.line, s.nameCol);
    }

    if (s.raw === '') {
      const next = parsed.lines[s.line] ?? '';
      if (next.trimStart().startsWith('"'))
        push('WRAPPED_VALUE', 'warning', `${s.keyword} ${s.name} has no value and line ${s.line + 1} starts with a quote: the value seems wrapped onto the next line, which phones read as a comment; keep it on one line`, s.line, s.valueCol);
      else
        push('MISSING_VALUE', 'warning', `${s.keyword} ${s.name} has no value; write "" to set it empty`, s.line, s.valueCol);
      return;
    }

    lintQuotes(s);
    if (!s.quoted && /[ \t]/.test(s.value))
      push('UNQUOTED_SPACES', 'warning', `the value of ${s.name} contains spaces but is not in double quotes; phones need "…" around values with spaces`, s.line, s.valueCol);

    if (opts.perDevice) {
      // A device's own file carries its credentials by design; who may fetch it is guarded.
    } else if (secret && s.value !== '' && !isVariableOnly(s.value))
      push('PLAINTEXT_SECRET', 'warning', `${s.name} is set to a plaintext secret (${REDACTED}) that every client able to fetch this file can read; keep credentials out of shared scripts or serve them per device over authenticated HTTPS`, s.line, s.valueCol);
    else if (URL_WITH_CREDENTIALS.test(s.raw))
      push('PLAINTEXT_SECRET', 'warning', `the URL in ${s.name} embeds credentials (${REDACTED}@host) that every client able to fetch this file can read`, s.line, s.valueCol);

    const kind = RESOURCE_PARAMETERS.get(s.name.toUpperCase());
    if (kind && opts.resourceExists && !secret) {
      for (const name of resourceNames(kind, s.value)) {
        if (opts.resourceExists(name)) continue;
        const at = s.raw.indexOf(name);
        push('MISSING_RESOURCE', 'warning', `${s.name} names ${name}, which is not on the file server`, s.line, s.valueCol + Math.max(at, 0));
      }
    }
  }

  function lintQuotes(s: SetStatement): void {
    const { line, valueCol: col } = s;
    const quotes = (s.raw.match(/"/g) ?? []).length;
    if (s.quote === 'unterminated' || (s.quote === 'stray' && quotes % 2 === 1))
      push('UNBALANCED_QUOTES', 'warning', `the value of ${s.name} has an unmatched double quote`, line, col);
    else if (s.quote === 'inner' || s.quote === 'stray')
      push('QUOTE_IN_VALUE', 'warning', `the value of ${s.name} contains a double quote inside the value; phones cannot escape quotes, so where the value ends is a guess`, line, col);
    else if (s.quote === 'trailing')
      push('QUOTE_TRAILING_TEXT', 'warning', `text after the closing quote of ${s.name}'s value is not part of the value (the template's "# Password"-style notes must not be copied into live lines)`, line, col);
    if (/^[\u201C\u201D\u201E]|[\u201C\u201D\u201E]$/.test(s.raw))
      push('SMART_QUOTES', 'warning', `the value of ${s.name} is delimited by a typographic quote (“ or ”); phones only treat the ASCII double quote " as a delimiter`, line, col);
  }

  function lintGet(s: GetStatement): void {
    if (!opts.resourceExists) return;
    for (const name of resourceNames('one', s.file))
      if (!opts.resourceExists(name))
        push('MISSING_RESOURCE', 'warning', `GET ${name}: no such file on the file server (the phone will carry on with the rest of this file)`, s.line, s.fileCol);
  }

  return out.sort((a, b) => a.loc!.line - b.loc!.line || a.loc!.col - b.loc!.col);
}

/** `; did you mean SIPDOMAIN?` for the closest catalog names (the catalog is upper case). */
function closest(name: string, catalog: ReadonlySet<string>): string {
  const names = suggest(name, catalog);
  return names.length ? `; did you mean ${names.join(' or ')}?` : '';
}
