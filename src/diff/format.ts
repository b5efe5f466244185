// The diff report as text (a terminal, a CI log), as Markdown (a pull-request comment, with a
// size cap) and as counts (--stat). JSON is the report itself (cli/diff.ts).

import { formatDiagnostic } from '../check/diagnostics.js';
import type { CauseChunk, DeviceGroup, DiffReport, FileChange, FirmwareChange } from './compare.js';

export function hasChanges(r: DiffReport): boolean {
  return r.inputs.length > 0 && (r.groups.length > 0 || r.firmware.length > 0);
}

export function summaryLine(r: DiffReport): string {
  const d = r.devices;
  const devs = new Set([...d.added, ...d.removed, ...d.changed]).size;
  const f = r.files;
  const files = f.added + f.removed + f.changed;
  if (!hasChanges(r)) return `${r.from} → ${r.to}: no phone's files change${r.inputs.length ? ` (${plural(r.inputs.length, 'input file')} changed)` : ''}`;
  return `${r.from} → ${r.to}: ${plural(devs, 'device')} change (${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed), ${plural(files, 'file')} (${f.changed} changed, ${f.added} added, ${f.removed} removed)${r.firmware.length ? `, ${plural(r.firmware.reduce((n, c) => n + c.devices.length, 0), 'firmware change')}` : ''}`;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** "14 J179 will upgrade to 4.1.4.0.1 (from 4.1.3.0.2)". */
export function firmwareLine(c: FirmwareChange): string {
  const n = `${c.devices.length} ${c.model}`;
  switch (c.direction) {
    case 'upgrade':
      return `${n} will upgrade to ${c.to} (from ${c.from})`;
    case 'downgrade':
      return `${n} will downgrade to ${c.to} (from ${c.from})`;
    case 'start':
      return `${n} will be offered ${c.to} (no image before)`;
    case 'stop':
      return `${n} will no longer be offered firmware (was ${c.from})`;
  }
}

export function causeLines(cause: readonly CauseChunk[]): string[] {
  const out: string[] = [];
  for (const c of cause) {
    out.push(c.line > 0 ? `${c.file}:${c.line}` : c.file);
    for (const l of c.removed) out.push(`- ${l}`);
    for (const l of c.added) out.push(`+ ${l}`);
  }
  return out;
}

const causeTitle = (cause: readonly CauseChunk[]): string => {
  const locs = [...new Set(cause.map((c) => (c.line > 0 ? `${c.file}:${c.line}` : c.file)))];
  return locs.length <= 3 ? locs.join(', ') : `${locs.slice(0, 3).join(', ')} and ${locs.length - 3} more`;
};

/** Files of a group whose diffs are the same, printed once: a global change is one diff for thousands of phones. */
export function sameDiffs(files: readonly FileChange[]): Array<{ first: FileChange; others: FileChange[] }> {
  const by = new Map<string, { first: FileChange; others: FileChange[] }>();
  for (const f of files) {
    const key = `${f.status}\0${f.diff.join('\n')}`;
    const g = by.get(key);
    if (g) g.others.push(f);
    else by.set(key, { first: f, others: [] });
  }
  return [...by.values()];
}

function fileHeader(f: FileChange): string[] {
  return [`--- ${f.status === 'added' ? '/dev/null' : `a/${f.path}`}`, `+++ ${f.status === 'removed' ? '/dev/null' : `b/${f.path}`}`];
}

const listed = (items: readonly string[], max: number) => (items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`);

function groupTitle(g: DeviceGroup): string {
  const devs = g.devices.length;
  const others = g.shared.length;
  const who = [devs ? plural(devs, 'device') : '', others ? plural(others, 'shared file') : ''].filter(Boolean).join(' and ');
  return `${who}: ${causeTitle(g.cause)}`;
}

export function formatText(r: DiffReport): string {
  const out: string[] = [summaryLine(r)];
  if (r.firmware.length) out.push('', 'Firmware:', ...r.firmware.map((c) => `  ${firmwareLine(c)}`));
  if (r.devices.added.length) out.push('', `New devices: ${r.devices.added.join(', ')}`);
  if (r.devices.removed.length) out.push('', `Removed devices: ${r.devices.removed.join(', ')}`);
  for (const g of r.groups) {
    out.push('', `== ${groupTitle(g)}`, ...(g.devices.length ? [`   devices: ${listed(g.devices, 20)}`] : []), ...(g.shared.length ? [`   shared files: ${listed(g.shared, 20)}`] : []), '   because of:', ...causeLines(g.cause).map((l) => `     ${l}`));
    for (const { first, others } of sameDiffs(g.files)) {
      out.push('', ...fileHeader(first), ...first.diff);
      if (others.length) out.push(`(the same change in ${plural(others.length, 'more file')}: ${listed(others.map((o) => o.path), 10)})`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function formatStat(r: DiffReport): string {
  const out = [summaryLine(r)];
  for (const c of r.firmware) out.push(`  firmware: ${firmwareLine(c)}`);
  for (const g of r.groups) out.push(`  ${String(g.files.length).padStart(6)} files  ${groupTitle(g)}`);
  return `${out.join('\n')}\n`;
}

/** A fence longer than any backtick run in the text, so a file cannot close it early. */
function fence(lines: readonly string[], lang: string): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const f = '`'.repeat(longest + 1);
  return [`${f}${lang}`, ...lines, f];
}

const escapeMd = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);

/**
 * A pull-request comment: summary, firmware call-outs, errors, then one collapsed section per
 * device group. Sections that would pass `maxChars` (GitHub refuses comments over 65,536) are
 * counted in "and N more" instead.
 */
export function formatMarkdown(r: DiffReport, errors: readonly string[], maxChars = 60_000): string {
  const head: string[] = [`### deskset diff: \`${r.from}\` → \`${r.to}\``, '', `**${escapeMd(summaryLine(r).replace(/^.*?: /, ''))}**`];
  if (errors.length) head.push('', `**✖ ${plural(errors.length, 'error')}** (the diff may be incomplete):`, '', ...fence(errors, 'text'));
  if (r.firmware.length) head.push('', '**Firmware**', '', ...r.firmware.map((c) => `- ${escapeMd(firmwareLine(c))}`));
  if (r.devices.added.length) head.push('', `**New devices:** ${listed(r.devices.added.map((m) => `\`${m}\``), 50)}`);
  if (r.devices.removed.length) head.push('', `**Removed devices:** ${listed(r.devices.removed.map((m) => `\`${m}\``), 50)}`);
  let text = head.join('\n');
  let shownGroups = 0;
  for (const g of r.groups) {
    const section = groupSection(g, maxChars - text.length - 200);
    if (section === undefined) break;
    text += `\n\n${section}`;
    shownGroups++;
  }
  const rest = r.groups.slice(shownGroups);
  if (rest.length) {
    const devs = new Set(rest.flatMap((g) => g.devices)).size;
    text += `\n\n…and ${plural(rest.length, 'more device group')} (${plural(devs, 'device')}) not shown: the comment's size limit. Run \`deskset diff ${r.from} ${r.to === 'working tree' ? '' : r.to}\` for all of it.`;
  }
  return `${text}\n`;
}

/** One group as a <details> section within `budget` characters, its file diffs cut with "and N more"; undefined when not even its head fits. */
function groupSection(g: DeviceGroup, budget: number): string | undefined {
  const head = [`<details><summary>${escapeMd(groupTitle(g))}</summary>`, '', ...(g.devices.length ? [`Devices: ${listed(g.devices.map((d) => `\`${d}\``), 30)}`, ''] : []), ...(g.shared.length ? [`Shared files: ${listed(g.shared.map((d) => `\`${d}\``), 30)}`, ''] : []), 'Because of:', '', ...fence(causeLines(g.cause), 'diff'), ''];
  let text = head.join('\n');
  const tail = '\n</details>';
  if (text.length + tail.length > budget) return undefined;
  const diffs = sameDiffs(g.files);
  let shown = 0;
  for (const { first, others } of diffs) {
    const block = [...fence([...fileHeader(first), ...first.diff], 'diff'), ...(others.length ? [`The same change in ${plural(others.length, 'more file')}: ${listed(others.map((o) => `\`${o.path}\``), 10)}`] : []), ''].join('\n');
    if (text.length + block.length + tail.length + 100 > budget) break;
    text += `\n${block}`;
    shown++;
  }
  if (shown < diffs.length) text += `\n…and ${plural(diffs.slice(shown).reduce((n, d) => n + 1 + d.others.length, 0), 'more file')} in this group not shown.\n`;
  return text + tail;
}

export function formatErrors(r: DiffReport): string[] {
  return r.errors.map((e) => `[${e.side}] ${formatDiagnostic(e)}`);
}
