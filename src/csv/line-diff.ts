// A unified diff of two texts, line by line, for `devices import --dry-run`: what a device
// file and its rendered files would become. Pure. The diff and its hunks are `deskset diff`'s
// (diff/lines.ts); lines are split here byte for byte, so a carriage return or a missing final
// newline shows as a change.

import { diffLines, formatHunks, hunks } from '../diff/lines.js';

const CONTEXT = 2;

export function unifiedDiff(before: string, after: string, nameA: string, nameB: string): string {
  if (before === after) return '';
  return [`--- ${nameA}`, `+++ ${nameB}`, ...formatHunks(hunks(diffLines(exactLines(before), exactLines(after)), CONTEXT))].join('\n') + '\n';
}

function exactLines(t: string): string[] {
  if (t === '') return [];
  const lines = t.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}
