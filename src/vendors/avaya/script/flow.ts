// Control flow of a phone script: which GOTOs land where, and which lines can run at all.
//
// The model, and why:
// - Execution starts at the first statement and runs down the file.
// - `GOTO L` jumps; nothing after it runs unless something jumps to a label below it.
// - `IF … GOTO L` either jumps or falls through.
// - `GET f` does NOT end the file for this analysis. Avaya's SDK documentation says the
//   phone stops the current file and parses `f`, but resumes the current file when `f`
//   cannot be fetched — so lines after a GET are a deliberate fallback, not dead code.
// - Labels compare case-insensitively (phones' behaviour is undocumented; a mismatch is
//   flagged instead of guessed). A jump to a duplicated label may land on any of them.
// - A GOTO to a missing label is reported once as an error; for reachability it is treated
//   as falling through, so one typo does not also produce a cascade of dead-code findings.
//
// Reported: UNREACHED_LABEL for each label no reachable statement leads to (neither jumped
// to nor entered by falling through from the line above), and UNREACHABLE_CODE once for
// each run of dead statements that does not begin with a label (code right after a GOTO);
// a dead run that begins with a label is already explained by that label's finding.

import type { Diagnostic } from '../../../check/diagnostics.js';
import type { LabelStatement, Statement } from './parse.js';

export function lintFlow(statements: readonly Statement[], file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (line: number, col: number) => ({ file, line, col });

  // Label index, case-insensitive, keeping every definition so duplicates can be reported.
  const labels = new Map<string, number[]>();
  statements.forEach((s, i) => {
    if (s.kind !== 'label') return;
    const key = s.name.toUpperCase();
    const seen = labels.get(key);
    if (!seen) return void labels.set(key, [i]);
    const first = statements[seen[0]!] as LabelStatement;
    const caseNote = first.name === s.name ? '' : ` (as ${first.name}; labels are compared ignoring case)`;
    out.push({
      code: 'DUPLICATE_LABEL',
      severity: 'warning',
      message: `label ${s.name} is already defined on line ${first.line}${caseNote}; which one a GOTO lands on is undefined`,
      loc: at(s.line, s.nameCol),
      related: [{ message: 'first definition', loc: at(first.line, first.nameCol) }],
    });
    seen.push(i);
  });

  // Successors of each statement; also the GOTO-side findings.
  const next: number[][] = statements.map((s, i) => {
    const fall = i + 1 < statements.length ? [i + 1] : [];
    if (s.kind !== 'goto' && s.kind !== 'if') return fall;
    const targets = labels.get(s.label.toUpperCase());
    if (!targets) {
      out.push({
        code: 'GOTO_MISSING_LABEL',
        severity: 'error',
        message: `no label ${s.label} in this file (a label is a line "# ${s.label}"; "## ${s.label}" or "#${s.label}" is a comment)`,
        loc: at(s.line, s.labelCol),
      });
      return fall;
    }
    const exact = targets.some((t) => (statements[t] as LabelStatement).name === s.label);
    if (!exact) {
      const def = statements[targets[0]!] as LabelStatement;
      out.push({
        code: 'LABEL_CASE_MISMATCH',
        severity: 'warning',
        message: `GOTO ${s.label} differs in case from label ${def.name} on line ${def.line}; phones may compare labels exactly`,
        loc: at(s.line, s.labelCol),
        related: [{ message: 'label definition', loc: at(def.line, def.nameCol) }],
      });
    }
    if (targets.some((t) => t <= i)) {
      out.push({
        code: 'BACKWARD_GOTO',
        severity: 'warning',
        message: `GOTO ${s.label} jumps backwards; Avaya scripts only jump forward, and since IF tests fixed phone properties a backward jump usually loops forever`,
        loc: at(s.line, s.labelCol),
      });
    }
    return s.kind === 'goto' ? [...targets] : [...fall, ...targets];
  });

  const reached = new Array<boolean>(statements.length).fill(false);
  const work = statements.length ? [0] : [];
  while (work.length) {
    const i = work.pop()!;
    if (reached[i]) continue;
    reached[i] = true;
    for (const n of next[i]!) if (!reached[n]) work.push(n);
  }

  const targetedFrom = new Map<string, number[]>();
  for (const s of statements)
    if (s.kind === 'goto' || s.kind === 'if') {
      const key = s.label.toUpperCase();
      const lines = targetedFrom.get(key);
      if (lines) lines.push(s.line);
      else targetedFrom.set(key, [s.line]);
    }

  statements.forEach((s, i) => {
    if (reached[i]) return;
    const runStart = reached[i - 1] === true;
    if (s.kind === 'label') {
      const from = targetedFrom.get(s.name.toUpperCase());
      const prev = statements[i - 1]!; // Statement 0 is always reached, so i > 0.
      const above = runStart ? `the GOTO on line ${prev.line} above it does not fall through` : 'the code above it is unreachable too';
      const why = from ? `it is only jumped to from unreachable line(s) ${from.join(', ')}` : `no GOTO or IF jumps to it and ${above}`;
      out.push({ code: 'UNREACHED_LABEL', severity: 'warning', message: `label ${s.name} is never reached: ${why}`, loc: at(s.line, s.nameCol) });
    } else if (runStart) {
      out.push({
        code: 'UNREACHABLE_CODE',
        severity: 'warning',
        message: `this line can never run: it follows the unconditional GOTO on line ${statements[i - 1]!.line} with no label in between to jump to`,
        loc: at(s.line, s.col),
      });
    }
  });

  return out;
}
