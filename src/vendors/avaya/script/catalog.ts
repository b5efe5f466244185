// The parameter catalog: every name Avaya's template mentions. The template documents
// almost every parameter as a commented-out example (`## SET NAME value`), so live
// statements alone would miss nearly all of them.

import { parseAvayaScript } from './parse.js';

// In commented lines the keyword must be upper case and the name upper-case letters,
// digits and underscores: the template's prose says "Set this to 3…" and "## set them
// here", and those must not contribute names like "the".
const COMMENTED = /^[ \t]*#+[ \t]*(?:SET|ADD)[ \t]+([A-Z0-9][A-Z0-9_]*)(?=[ \t]|$)/;
// A few parameters are documented ("## SOFTKEY_SCA_IDLE specifies …") but their only
// example line is misspelt (SOFTKEY_SCA_ILDE, "SOFTKEY_SCA_ INCOMING") or missing; the
// description heading is the other reliable place a name appears.
const DESCRIBED = /^##[ \t]*([A-Z0-9][A-Z0-9_]*[A-Z0-9])[ \t]+specifies[ \t]/;

/** Sorted, unique parameter names from a template's `SET`/`ADD` statements, `## SET`/`## ADD` examples and `## NAME specifies` descriptions. */
export function extractCatalog(text: string): string[] {
  const parsed = parseAvayaScript(text);
  const names = new Set<string>();
  for (const s of parsed.statements) if (s.kind === 'set') names.add(s.name);
  for (const line of parsed.lines) {
    const m = COMMENTED.exec(line) ?? DESCRIBED.exec(line);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Reads a catalog file: one name per line; `#` starts a comment; blank lines ignored. */
export function loadCatalogText(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split(/\r\n|\r|\n/)) {
    const hash = line.indexOf('#');
    const name = (hash === -1 ? line : line.slice(0, hash)).trim();
    if (name) names.add(name);
  }
  return names;
}
