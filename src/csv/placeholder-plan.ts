// From a Cisco BAT style CSV (`deskset codes issue --csv`) to placeholder files: one row per
// placeholder, `name` and `model` required, `mac` optional (it pins the row's code to one
// phone), the other columns read exactly as `devices import` reads them. Pure: the table and
// the root's names in; a plan and findings (with their lines) out. Nothing is written here.

import type { Diagnostic } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import { PLACEHOLDER_NAME, PLACEHOLDERS_DIR } from '../config/profiles.js';
import { classifyPlaceholderColumn } from './columns.js';
import { freshDevice } from './device-yaml.js';
import { cellOf, readHeader, rowEdit, rowError, rowFields, type ImportPlan, type RowContext } from './import-plan.js';
import type { CsvTable } from './read.js';

export interface PlaceholderContext extends RowContext {
  /** The CSV as messages name it. */
  file: string;
  /** Placeholder files there already, by lower-case name (names are compared without case). */
  existing: ReadonlyMap<string, { rel: string; text: string }>;
  /** Replace existing placeholders rather than refuse their rows. */
  overwrite: boolean;
  /** MACs that have a device file: a code cannot bind them. */
  devices: ReadonlySet<string>;
}

export interface PlaceholderPlan {
  name: string;
  /** The CSV line of its row. */
  line: number;
  rel: string;
  /** The phone its code is pinned to. */
  mac?: string;
  before?: string;
  after: string;
  /** Columns whose values were written as text although they look like secrets. */
  plaintextSecrets: string[];
}

export function planPlaceholders(table: CsvTable, ctx: PlaceholderContext): { placeholders: PlaceholderPlan[]; diagnostics: Diagnostic[]; ignored: ImportPlan['ignored'] } {
  const diagnostics: Diagnostic[] = [];
  const err = rowError(ctx.file, diagnostics);
  const { columns, width, ignored } = readHeader(table, classifyPlaceholderColumn, err);
  for (const required of ['name', 'model'] as const) {
    if (!columns.some((c) => c.col.kind === required)) err(table.header.line, 'CSV_HEADER', `no ${required} column: it is required (headers are case- and order-insensitive)`);
  }
  if (diagnostics.length) return { placeholders: [], diagnostics, ignored };

  const placeholders: PlaceholderPlan[] = [];
  const names = new Map<string, number>();
  const macs = new Map<string, number>();
  for (const row of table.rows) {
    const fields = rowFields(row, width, err);
    if (!fields) continue;
    const before = diagnostics.length;
    const name = cellOf(columns, fields, 'name');
    if (name === undefined || !PLACEHOLDER_NAME.test(name)) {
      err(row.line, 'CSV_NAME', name === undefined ? 'name is empty' : `"${name.slice(0, 80)}" is not a placeholder name: letters, digits, "-" or "_" (at most 64, starting with a letter or digit)`);
      continue;
    }
    const key = name.toLowerCase();
    const dup = names.get(key);
    if (dup !== undefined) {
      err(row.line, 'CSV_DUPLICATE_NAME', `placeholder "${name}" is on line ${dup} too (names are compared without case): one row per placeholder`);
      continue;
    }
    names.set(key, row.line);
    const existing = ctx.existing.get(key);
    if (existing && !ctx.overwrite) err(row.line, 'CSV_PLACEHOLDER_EXISTS', `${existing.rel} exists: --overwrite replaces it (a code already issued for it stays valid)`);
    const macText = cellOf(columns, fields, 'mac');
    const mac = macText === undefined ? undefined : normalizeMac(macText);
    if (macText !== undefined && !mac) err(row.line, 'CSV_MAC', `"${macText.slice(0, 40)}" is not a MAC address (12 hex digits, e.g. 0004F23EA4E1; colons, dashes and dots allowed)`);
    if (mac !== undefined) {
      const other = macs.get(mac);
      if (other !== undefined) err(row.line, 'CSV_DUPLICATE_MAC', `MAC ${mac} is on line ${other} too: a phone redeems one activation code`);
      else if (ctx.devices.has(mac)) err(row.line, 'CSV_MAC', `${mac} already has a device file: a code cannot bind it`);
      macs.set(mac, row.line);
    }
    const { edit, plaintextSecrets } = rowEdit(row.line, fields, columns, ctx, err, { id: name, existingText: existing?.text, noModel: `placeholder "${name}" names no model: the model column is required in every row` });
    if (diagnostics.length > before) continue;
    // Overwriting `bat-desk.yaml` from a row named BAT-desk keeps the file's name (and so the placeholder's).
    const fileName = existing ? existing.rel.slice(PLACEHOLDERS_DIR.length).replace(/\.ya?ml$/i, '') : name;
    placeholders.push({ name: fileName, line: row.line, rel: existing?.rel ?? `${PLACEHOLDERS_DIR}${name}.yaml`, ...(mac ? { mac } : {}), before: existing?.text, after: freshDevice(edit, existing?.text), plaintextSecrets });
  }
  if (table.rows.length === 0) err(table.header.line, 'CSV_EMPTY', 'the file has a header but no rows');
  return { placeholders, diagnostics, ignored };
}
