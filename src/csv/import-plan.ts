// From CSV rows to device files: which file each row writes, with what text, and every
// reason a row cannot be imported (with its line). Pure: the table, the root's names and
// the existing device texts in; a plan and findings out. Nothing is written here.

import type { Diagnostic } from '../check/diagnostics.js';
import { unknownNameHint } from '../check/suggest.js';
import { normalizeMac } from '../config/mac.js';
import { isSecretKey, REDACTED } from '../config/redact.js';
import { isSecretRef } from '../config/secret-refs.js';
import type { Shape } from '../config/shape.js';
import { classifyColumn, vendorMapPath, type Column } from './columns.js';
import { freshDevice, mergeDevice, settingIn, type DeviceEdit, type SettingValue } from './device-yaml.js';
import type { CsvRecord, CsvTable } from './read.js';

export type ImportMode = 'create' | 'merge' | 'overwrite';

export interface ExistingDevice {
  /** Root-relative path of its file (any MAC notation the admin used). */
  rel: string;
  text: string;
  model?: string;
}

export interface ImportContext {
  /** The CSV as messages name it. */
  file: string;
  mode: ImportMode;
  /** A model name as written → its canonical name and vendor (the vendor catalog). */
  findModel: (name: string) => { name: string; vendor: string } | undefined;
  modelNames: readonly string[];
  groups: ReadonlySet<string>;
  sites: ReadonlySet<string>;
  existing: ReadonlyMap<string, ExistingDevice>;
  /** `--model`: the model of new devices whose row names none (PDMS-E files have no model column). */
  defaultModel?: string;
  /** `--secrets-as-env PREFIX`: secrets become `${env:PREFIX_<MAC>_<COLUMN>}` references. */
  secretsAsEnv?: string;
  extraSecretKeys?: RegExp;
}

export interface DevicePlan {
  mac: string;
  /** The CSV line of its row. */
  line: number;
  rel: string;
  action: 'create' | 'update' | 'unchanged' | 'skip';
  before?: string;
  after?: string;
  /** Columns whose values were written as text although they look like secrets. */
  plaintextSecrets: string[];
  /** Environment variables the written references need, with the values the CSV gave. */
  envRefs: Array<{ name: string; value: string; column: string }>;
}

export interface ImportPlan {
  devices: DevicePlan[];
  diagnostics: Diagnostic[];
  /** Columns read but not imported, with why (once per column). */
  ignored: Array<{ column: string; why: string }>;
}

const ENV_PREFIX = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function planImport(table: CsvTable, ctx: ImportContext): ImportPlan {
  const diagnostics: Diagnostic[] = [];
  const err = rowError(ctx.file, diagnostics);
  if (ctx.secretsAsEnv !== undefined && !ENV_PREFIX.test(ctx.secretsAsEnv)) {
    err(1, 'CSV_ENV_PREFIX', `--secrets-as-env "${ctx.secretsAsEnv}": a prefix is letters, digits and _ (e.g. DESKSET)`);
    return { devices: [], diagnostics, ignored: [] };
  }
  const { columns, width, ignored } = readHeader(table, classifyColumn, err);
  if (!columns.some((c) => c.col.kind === 'mac')) err(table.header.line, 'CSV_HEADER', 'no mac_address column: it is required (headers are case- and order-insensitive)');
  if (diagnostics.length) return { devices: [], diagnostics, ignored };

  const devices: DevicePlan[] = [];
  const firstLine = new Map<string, number>();
  for (const row of table.rows) {
    const fields = rowFields(row, width, err);
    if (!fields) continue;
    const before = diagnostics.length;
    const macText = cellOf(columns, fields, 'mac');
    const mac = macText === undefined ? undefined : normalizeMac(macText);
    if (!mac) {
      err(row.line, 'CSV_MAC', macText === undefined ? 'mac_address is empty' : `"${macText}" is not a MAC address (12 hex digits, e.g. 0004F23EA4E1; colons, dashes and dots allowed)`);
      continue;
    }
    const dup = firstLine.get(mac);
    if (dup !== undefined) {
      err(row.line, 'CSV_DUPLICATE_MAC', `MAC ${mac} is on line ${dup} too: one row per device`);
      continue;
    }
    firstLine.set(mac, row.line);
    const existing = ctx.existing.get(mac);
    const rel = existing?.rel ?? `profiles/devices/${mac}.yaml`;
    if (existing && ctx.mode === 'create') {
      devices.push({ mac, line: row.line, rel, action: 'skip', plaintextSecrets: [], envRefs: [] });
      continue;
    }
    const { edit, plaintextSecrets, envRefs } = rowEdit(row.line, fields, columns, ctx, err, {
      id: mac,
      existingText: existing?.text,
      inheritedModel: existing?.model ?? ctx.defaultModel,
      noModel: `${mac} is a new device and the row names no model: add a model column, or give --model for such rows`,
      // A model spelt another way (vvx450) is the same model: merge leaves the file alone.
      mergeModel: ctx.mode === 'merge' ? existing?.model : undefined,
    });
    if (diagnostics.length > before) continue;
    const after = existing && ctx.mode === 'merge' ? mergeDevice(existing.text, edit) : freshDevice(edit, existing?.text);
    devices.push({
      mac,
      line: row.line,
      rel,
      action: !existing ? 'create' : after === existing.text ? 'unchanged' : 'update',
      before: existing?.text,
      after,
      plaintextSecrets,
      envRefs,
    });
  }
  if (table.rows.length === 0) err(table.header.line, 'CSV_EMPTY', 'the file has a header but no rows');
  return { devices, diagnostics, ignored };
}

/** Reports a finding at a CSV line. */
export type RowError = (line: number, code: string, message: string) => void;

/**
 * Findings at column 1 of the row's line: a quoted field's character column is not what an
 * admin looks for in a spreadsheet; messages name the CSV column (number and header) instead.
 */
export function rowError(file: string, into: Diagnostic[]): RowError {
  return (line, code, message) => void into.push({ code, severity: 'error', message, loc: { file, line, col: 1 } });
}

export interface HeaderColumn {
  name: string;
  col: Column;
}

/** The header's columns, classified by `classify`; a bad or repeated column is reported. */
export function readHeader(table: CsvTable, classify: (header: string) => Column | { kind: 'error'; message: string }, err: RowError): { columns: HeaderColumn[]; width: number; ignored: ImportPlan['ignored'] } {
  // A trailing separator on the header line (PDMS-E's own examples have one) is no column.
  const names = table.header.fields;
  let width = names.length;
  while (width > 0 && names[width - 1]!.trim() === '') width--;
  const columns: HeaderColumn[] = [];
  const ignored: ImportPlan['ignored'] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < width; i++) {
    const name = names[i]!.trim();
    const col = classify(name);
    if (col.kind === 'error') {
      err(table.header.line, 'CSV_HEADER', `column ${i + 1}: ${col.message}`);
      continue;
    }
    const key = col.kind === 'setting' ? `s:${col.path.join('\0')}` : col.kind === 'vendor' ? `v:${col.name}` : col.kind === 'ignored' ? `i:${name.toLowerCase()}` : col.kind;
    const prev = seen.get(key);
    if (prev !== undefined) err(table.header.line, 'CSV_HEADER', `column ${i + 1} "${name}" repeats column ${prev + 1} "${names[prev]!.trim()}"`);
    seen.set(key, i);
    if (col.kind === 'ignored') ignored.push({ column: name, why: col.why });
    columns.push({ name, col });
  }
  return { columns, width, ignored };
}

/** A row's fields, or undefined (reported) when it has more or fewer than the header. Extra fields are allowed only when empty (a trailing separator). */
export function rowFields(row: CsvRecord, width: number, err: RowError): string[] | undefined {
  const fields = row.fields;
  if (fields.length >= width && fields.slice(width).every((f) => f === '')) return fields;
  err(row.line, 'CSV_COLUMNS', `${fields.length} fields where the header has ${width} columns (quote a value that holds the separator)`);
  return undefined;
}

/** The row's value in the column of `kind`; undefined when there is no such column or the cell is empty. */
export function cellOf(columns: readonly HeaderColumn[], fields: readonly string[], kind: Column['kind']): string | undefined {
  const i = columns.findIndex((c) => c.col.kind === kind);
  const v = i === -1 ? undefined : fields[i];
  return v === undefined || v === '' ? undefined : v;
}

/** Who a row describes, for its model and messages. */
export interface RowSubject {
  /** The MAC (devices) or name (placeholders), as messages and `--secrets-as-env` names use it. */
  id: string;
  /** The file the row replaces or merges into, for masked secrets. */
  existingText?: string;
  /** The model when the row names none. */
  inheritedModel?: string;
  /** Why a row without a model (and nothing to inherit) is refused. */
  noModel: string;
  /** Merge: the file's model, left unwritten when the row names the same one. */
  mergeModel?: string;
}

export type RowContext = Pick<ImportContext, 'findModel' | 'modelNames' | 'groups' | 'sites' | 'secretsAsEnv' | 'extraSecretKeys'>;

export interface RowEdit {
  edit: DeviceEdit;
  plaintextSecrets: string[];
  envRefs: DevicePlan['envRefs'];
}

/** What a row says about a device (model, site, groups, description, settings), checked and typed; problems are reported at its line. */
export function rowEdit(line: number, fields: readonly string[], columns: readonly HeaderColumn[], ctx: RowContext, err: RowError, who: RowSubject): RowEdit {
  const cell = (kind: Column['kind']) => cellOf(columns, fields, kind);
  const modelText = cell('model');
  const model = modelText !== undefined ? ctx.findModel(modelText) : who.inheritedModel !== undefined ? ctx.findModel(who.inheritedModel) : undefined;
  if (modelText !== undefined && !model) err(line, 'CSV_MODEL', `unknown model "${modelText}"${unknownNameHint(modelText, ctx.modelNames, 'models')}`);
  if (modelText === undefined && !model) err(line, 'CSV_MODEL', who.noModel);
  const site = cell('site');
  if (site !== undefined && !ctx.sites.has(site)) err(line, 'CSV_SITE', `site "${site}" does not exist (no profiles/sites/${site}.yaml)${unknownNameHint(site, [...ctx.sites], 'sites')}`);
  const groupsText = cell('groups');
  const groups = groupsText === undefined ? undefined : groupsText.split('|').map((g) => g.trim()).filter((g) => g !== '');
  for (const g of groups ?? []) if (!ctx.groups.has(g)) err(line, 'CSV_GROUP', `group "${g}" does not exist (no profiles/groups/${g}.yaml)${unknownNameHint(g, [...ctx.groups], 'groups')}`);

  const sameModel = who.mergeModel !== undefined && who.mergeModel === model?.name;
  const edit: DeviceEdit = { model: sameModel ? undefined : model?.name, site, groups, description: cell('description'), settings: [], keep: [] };
  const plaintextSecrets: string[] = [];
  const envRefs: DevicePlan['envRefs'] = [];
  columns.forEach(({ name, col }, i) => {
    const raw = fields[i]!;
    if (raw === '' || (col.kind !== 'setting' && col.kind !== 'vendor')) return;
    let path: Array<string | number>;
    let leaf: Shape = { type: 'scalar' };
    if (col.kind === 'setting') {
      path = col.path;
      leaf = col.leaf;
    } else {
      const map = model && vendorMapPath(model.vendor);
      if (!model) return; // already reported
      if (!map) return err(line, 'CSV_VENDOR', `column ${i + 1} "${name}": ${model.vendor} has no vendor parameter map; use a settings path`);
      path = [...map, col.name];
    }
    const key = String(path[path.length - 1]);
    const secret = isSecretKey(key, ctx.extraSecretKeys);
    if (secret && raw === REDACTED) {
      // Export masks secrets; the mask means "the value already there".
      if (settingIn(who.existingText, path) === undefined) err(line, 'CSV_MASKED_SECRET', `column ${i + 1} "${name}" is ${REDACTED} (a masked secret) but ${who.id} has no value to keep: give the value, or export with --show-secrets`);
      else edit.keep.push(path);
      return;
    }
    const typed = typedValue(raw, leaf);
    if (typeof typed === 'object') return err(line, 'CSV_VALUE', `column ${i + 1} "${name}": ${typed.error}`);
    if (secret && !isSecretRef(raw) && !raw.startsWith('scrypt$')) {
      if (ctx.secretsAsEnv !== undefined) {
        const envName = `${ctx.secretsAsEnv}_${who.id.toUpperCase()}_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
        envRefs.push({ name: envName, value: raw, column: name });
        edit.settings.push({ path, value: `\${env:${envName}}` });
        return;
      }
      plaintextSecrets.push(name);
    }
    edit.settings.push({ path, value: typed });
  });
  return { edit, plaintextSecrets, envRefs };
}

/** A cell as the schema wants it: integers as numbers, the rest as text. */
function typedValue(raw: string, shape: Shape): SettingValue | { error: string } {
  if (shape.type === 'check') {
    const why = shape.test(raw);
    return why ? { error: why } : typedValue(raw, shape.base);
  }
  if (shape.type === 'integer') {
    if (!/^-?\d{1,15}$/.test(raw)) return { error: `"${raw}" is not a whole number` };
    const n = Number(raw);
    if ((shape.min !== undefined && n < shape.min) || (shape.max !== undefined && n > shape.max)) return { error: `${n} is outside ${shape.min ?? '…'}..${shape.max ?? '…'}` };
    return n;
  }
  if (shape.type === 'enum' && !shape.values.includes(raw)) return { error: `"${raw}" is not one of ${shape.values.join(', ')}` };
  return raw;
}
