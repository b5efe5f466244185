// Device files back to the CSV `devices import` reads, so that export → import --merge
// changes nothing. Pure: device texts in, rows out (csv-stringify writes them).

import { parseDocument } from 'yaml';
import { isSecretKey, REDACTED } from '../config/redact.js';
import { isSecretRef } from '../config/secret-refs.js';
import { classifyColumn, columnOf, INVENTORY_COLUMNS, vendorMapPath } from './columns.js';

/** What the inventory knows of a phone; wired to the state store by the server. */
export interface InventoryFacts {
  last_seen?: string | Date;
  firmware?: string;
  provision_result?: string;
}
export type InventoryLookup = (mac: string) => InventoryFacts | undefined;

export interface ExportDevice {
  mac: string;
  /** The device file's text. */
  text: string;
  /** Its model's vendor (decides which vendor map's names are written bare). */
  vendor?: string;
}

export interface ExportOptions {
  showSecrets?: boolean;
  extraSecretKeys?: RegExp;
  inventory?: InventoryLookup;
}

export interface ExportTable {
  header: string[];
  rows: string[][];
  /** Values no column can carry (a list of maps under custom, a key with a dot in it…). */
  skipped: Array<{ mac: string; key: string }>;
}

const IDENTITY_HEADER = ['mac_address', 'model', 'endpoint_name', 'endpoint_group', 'site'];

export function exportDevices(devices: readonly ExportDevice[], opts: ExportOptions = {}): ExportTable {
  const settingColumns: string[] = [];
  const known = new Set<string>();
  const skipped: ExportTable['skipped'] = [];
  const perDevice = devices.map((d) => {
    const values = new Map<string, string>();
    const doc = parseDocument(d.text).toJS() as Record<string, unknown> | null;
    const obj = doc && typeof doc === 'object' ? doc : {};
    const identity = [
      d.mac.toUpperCase(),
      scalarText(obj.model),
      scalarText(obj.description),
      Array.isArray(obj.groups) ? obj.groups.map(scalarText).join('|') : scalarText(obj.groups),
      scalarText(obj.site),
    ];
    const vendorMap = d.vendor ? vendorMapPath(d.vendor) : undefined;
    const put = (column: string, key: string, v: unknown): void => {
      let text = scalarText(v);
      if (isSecretKey(key, opts.extraSecretKeys) && text !== '' && !isSecretRef(text) && !opts.showSecrets) text = REDACTED;
      if (!known.has(column)) {
        known.add(column);
        settingColumns.push(column);
      }
      values.set(column, text);
    };
    const walk = (v: unknown, path: Array<string | number>): void => {
      if (v === null || v === undefined) return; // an explicit null (removal) has no cell
      if (Array.isArray(v)) return v.forEach((item, i) => walk(item, [...path, i]));
      if (typeof v === 'object') {
        for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
          // The device's own vendor parameters go by their bare names, as PDMS-E writes them.
          if (vendorMap && path.length === 1 && path[0] === vendorMap[0] && k === vendorMap[1] && child && typeof child === 'object' && !Array.isArray(child)) {
            for (const [name, pv] of Object.entries(child as Record<string, unknown>)) {
              if (pv === null || pv === undefined) continue;
              const bare = classifyColumn(name);
              put(bare.kind === 'vendor' && bare.name === name ? name : `${vendorMap.join('.')}.${name}`, name, pv);
            }
            continue;
          }
          walk(child, [...path, k]);
        }
        return;
      }
      // Only a column that reads back as this very path can carry the value.
      const column = columnOf(path);
      const back = classifyColumn(column);
      if (back.kind !== 'setting' || back.path.join('\0') !== path.join('\0')) {
        skipped.push({ mac: d.mac, key: `settings.${column}` });
        return;
      }
      put(column, String(path[path.length - 1]), v);
    };
    if (obj.settings && typeof obj.settings === 'object') walk(obj.settings, []);
    return { mac: d.mac, identity, values };
  });
  const header = [...IDENTITY_HEADER, ...settingColumns, ...(opts.inventory ? INVENTORY_COLUMNS : [])];
  const rows = perDevice.map((p) => {
    const inv = opts.inventory?.(p.mac);
    const tail = opts.inventory ? INVENTORY_COLUMNS.map((c) => scalarText(inv?.[c])) : [];
    return [...p.identity, ...settingColumns.map((c) => p.values.get(c) ?? ''), ...tail];
  });
  return { header, rows, skipped };
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return '';
  return String(v);
}
