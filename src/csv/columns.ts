// What a CSV column means, Poly PDMS-E's conventions: a few named columns say who a device is,
// every other column is a setting. A setting is a path of the shared vocabulary
// (`lines.1.extension`, `sip.port`) when the settings schema knows it, else a vendor parameter
// (`reg.1.address`) that goes to the vendor map of the device's model (`polycom.params`).
// Pure: header text in, a column kind out.

import { settingsShape } from '../config/profile-schema.js';
import type { Shape } from '../config/shape.js';

export type Column =
  | { kind: 'mac' }
  /** A placeholder's name (`codes issue --csv`). */
  | { kind: 'name' }
  | { kind: 'description' }
  | { kind: 'groups' }
  | { kind: 'model' }
  | { kind: 'site' }
  /** PDMS-E or inventory columns deskset does not import (serial_number, last_seen…). */
  | { kind: 'ignored'; why: string }
  /** A vocabulary path below `settings`; numeric segments are list indexes (0-based here). */
  | { kind: 'setting'; path: Array<string | number>; leaf: Shape }
  /** A vendor parameter: its map is chosen per row, by the device's vendor. */
  | { kind: 'vendor'; name: string };

/** Column names of the identity part, as export writes them (import reads any case). */
export const MAC_COLUMN = 'mac_address';
export const NAMED_COLUMNS = { mac_address: 'mac', endpoint_name: 'description', endpoint_group: 'groups', model: 'model', site: 'site' } as const;
/** Filled from the inventory on export; read-only, so import skips them. */
export const INVENTORY_COLUMNS = ['last_seen', 'firmware', 'provision_result'] as const;
const PDMS_ONLY: Record<string, string> = {
  serial_number: 'deskset identifies phones by MAC address',
  endpoint_type: 'the model column says what a phone is',
};

/** Read a header cell. Named columns are case-insensitive; vendor parameters keep their case (Poly's are case-sensitive). */
export function classifyColumn(header: string): Column | { kind: 'error'; message: string } {
  const h = header.trim();
  const lower = h.toLowerCase();
  if (lower in NAMED_COLUMNS) return { kind: NAMED_COLUMNS[lower as keyof typeof NAMED_COLUMNS] };
  if ((INVENTORY_COLUMNS as readonly string[]).includes(lower)) return { kind: 'ignored', why: 'it comes from the inventory (export writes it, import skips it)' };
  if (lower in PDMS_ONLY) return { kind: 'ignored', why: PDMS_ONLY[lower]! };
  if (h === '') return { kind: 'error', message: 'a column has no name' };
  if (/[\s"]/.test(h)) return { kind: 'error', message: `column name "${h}" holds a space or a quote; settings are paths like lines.1.extension or vendor parameters like reg.1.address` };
  const path = vocabularyPath(h);
  if (path) return path;
  return { kind: 'vendor', name: h };
}

/**
 * A header cell of a placeholder CSV (`codes issue --csv`, Cisco BAT style): `name` names the
 * placeholder, `mac` (or `mac_address`) pins its code to one phone; the rest as for devices.
 */
export function classifyPlaceholderColumn(header: string): Column | { kind: 'error'; message: string } {
  const lower = header.trim().toLowerCase();
  if (lower === 'name') return { kind: 'name' };
  if (lower === 'mac') return { kind: 'mac' };
  return classifyColumn(header);
}

/**
 * `lines.1.extension` → ['lines', 0, 'extension'] when the settings schema has that leaf.
 * List indexes are 1-based in CSV (as PDMS-E's `reg.1.*`), 0-based in the path.
 */
export function vocabularyPath(dotted: string): { kind: 'setting'; path: Array<string | number>; leaf: Shape } | undefined {
  const segs = dotted.split('.');
  const path: Array<string | number> = [];
  let shape: Shape = settingsShape;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (shape.type === 'check') shape = shape.base;
    if (shape.type === 'map') {
      const field = Object.keys(shape.fields).find((f) => f.toLowerCase() === seg.toLowerCase());
      if (field !== undefined) {
        path.push(field);
        shape = shape.fields[field]!;
        continue;
      }
      // An open map (polycom.params) takes the rest as one key: vendor names hold dots.
      if (shape.open && seg !== '') {
        path.push(segs.slice(i).join('.'));
        return isLeaf(shape.open) ? { kind: 'setting', path, leaf: shape.open } : undefined;
      }
      return undefined;
    }
    if (shape.type === 'list') {
      if (!/^[1-9]\d{0,3}$/.test(seg)) return undefined;
      path.push(Number(seg) - 1);
      shape = shape.of;
      continue;
    }
    if (shape.type === 'any') {
      // custom.* is free-form: nested maps of whatever the admin's templates read.
      if (seg === '') return undefined;
      path.push(seg);
      continue;
    }
    return undefined;
  }
  return path.length > 0 && isLeaf(shape) ? { kind: 'setting', path, leaf: shape } : undefined;
}

function isLeaf(s: Shape): boolean {
  return s.type !== 'map' && s.type !== 'list';
}

/**
 * The vendor map of a vendor in the settings schema: `polycom` → ['polycom', 'params'].
 * Read from the schema, so a vendor added there needs no change here.
 */
export function vendorMapPath(vendor: string): [string, string] | undefined {
  if (settingsShape.type !== 'map') return undefined;
  const v = settingsShape.fields[vendor];
  if (!v || v.type !== 'map') return undefined;
  const inner = Object.entries(v.fields).find(([, s]) => s.type === 'map' && s.open);
  return inner ? [vendor, inner[0]] : undefined;
}

/** A vocabulary path as a column name: ['lines', 0, 'extension'] → `lines.1.extension`. */
export function columnOf(path: ReadonlyArray<string | number>): string {
  return path.map((p) => (typeof p === 'number' ? String(p + 1) : p)).join('.');
}
