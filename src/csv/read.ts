// Read a device CSV as PDMS-E writes them: comma, semicolon or tab (one per file, detected
// from the header line), fields quoted when they hold the separator, a quote or a newline,
// an optional UTF-8 BOM, LF or CRLF. Pure: text in, header and rows with line numbers out.

import { parse } from 'csv-parse/sync';
import type { Diagnostic } from '../check/diagnostics.js';

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
}

export interface CsvTable {
  separator: ',' | ';' | '\t';
  header: CsvRecord;
  rows: CsvRecord[];
}

const SEPARATORS = [',', ';', '\t'] as const;

/**
 * The separator of a file: the candidate found most often outside quotes on the header line.
 * A header with none of them is a one-column file (comma). Equal counts cannot be decided.
 */
export function detectSeparator(headerLine: string): (typeof SEPARATORS)[number] | { error: string } {
  const counts = new Map<string, number>(SEPARATORS.map((s) => [s, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  if (ranked[0]![1] === 0) return ',';
  if (ranked[0]![1] === ranked[1]![1]) {
    const names = ranked.filter(([, n]) => n === ranked[0]![1]).map(([s]) => (s === '\t' ? 'tab' : `"${s}"`));
    return { error: `the header line has as many ${names.join(' as ')} separators: use one separator per file` };
  }
  return ranked[0]![0] as (typeof SEPARATORS)[number];
}

/** The header line: up to the first line break outside quotes. */
function firstLine(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) return text.slice(0, i);
  }
  return text;
}

/** `required`: the column an empty file is told it lacks. */
export function readCsv(input: string, file: string, required = 'mac_address'): { table?: CsvTable; diagnostics: Diagnostic[] } {
  // CRLF and lone CR become LF first (also inside quoted fields), so that every line break
  // counts once and line numbers are the ones an editor shows.
  const text = (input.charCodeAt(0) === 0xfeff ? input.slice(1) : input).replace(/\r\n?/g, '\n');
  const at = (line: number, col = 1) => ({ file, line, col });
  if (text.trim() === '') return { diagnostics: [{ code: 'CSV_EMPTY', severity: 'error', message: `the file is empty: expected a header line with ${required}`, loc: at(1) }] };
  const sep = detectSeparator(firstLine(text));
  if (typeof sep !== 'string') return { diagnostics: [{ code: 'CSV_SEPARATOR', severity: 'error', message: sep.error, loc: at(1) }] };
  let records: Array<{ record: string[]; raw?: string }>;
  try {
    records = parse(text, {
      delimiter: sep,
      record_delimiter: '\n',
      raw: true,
      // Counts are checked per row below, so every bad row is reported, not the first.
      relax_column_count: true,
      // PDMS-E's own examples put a space after each comma.
      trim: true,
    }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { code?: string; lines?: number };
    // A quote left open is told where it opened, not where the file ended.
    const open = err.code === 'CSV_QUOTE_NOT_CLOSED' ? unclosedQuoteLine(text) : undefined;
    const message = open !== undefined ? 'a quoted field opens here and is never closed' : `${err.message.replace(/^Invalid [^:]*: /, '')}${err.code ? ` (${err.code})` : ''}`;
    return { diagnostics: [{ code: 'CSV_SYNTAX', severity: 'error', message, loc: at(open ?? err.lines ?? 1) }] };
  }
  // The raw records put together are the text: a record starts one line after the breaks
  // before it (a quoted field with newlines spans several lines). Blank lines are dropped.
  const out: CsvRecord[] = [];
  let line = 1;
  for (const r of records) {
    const raw = r.raw ?? '';
    if (r.record.some((f) => f !== '')) out.push({ line, fields: r.record });
    for (let i = raw.indexOf('\n'); i !== -1; i = raw.indexOf('\n', i + 1)) line++;
  }
  if (out.length === 0) return { diagnostics: [{ code: 'CSV_EMPTY', severity: 'error', message: `the file is empty: expected a header line with ${required}`, loc: at(1) }] };
  const [header, ...rows] = out;
  return { table: { separator: sep, header: header!, rows }, diagnostics: [] };
}

/** The line of the quote that is still open at the end of the text, if one is. */
function unclosedQuoteLine(text: string): number | undefined {
  let line = 1;
  let openedAt: number | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    else if (ch === '"') openedAt = openedAt === undefined ? line : undefined;
  }
  return openedAt;
}
