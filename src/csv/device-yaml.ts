// Write a CSV row into a device file. `merge` edits the existing YAML document (the `yaml`
// package's Document API), so comments, key order and quoting stay; a value that already
// reads the same is not touched, and a file with nothing to change keeps its exact bytes.
// `overwrite` and new devices get a fresh document. Pure: texts in, text out.

import { type Document, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, YAMLMap, YAMLSeq } from 'yaml';

export type SettingValue = string | number;

/** What one row says about one device, already checked and typed. */
export interface DeviceEdit {
  model?: string;
  site?: string;
  groups?: string[];
  description?: string;
  /** Paths below `settings` (numbers are list indexes), in column order. */
  settings: Array<{ path: Array<string | number>; value: SettingValue }>;
  /** Paths whose existing value is kept (a masked secret `••••` in the row). */
  keep: Array<Array<string | number>>;
}

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false } as const;

/** The edited text, or the same string when nothing differs. */
export function mergeDevice(text: string, edit: DeviceEdit): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) {
    // An empty file: nothing to keep.
    return freshDevice(edit, undefined);
  }
  let changed = false;
  const setScalar = (path: Array<string | number>, value: SettingValue): void => {
    const cur = doc.getIn(path, true) as YamlNode | undefined;
    if (isScalar(cur) && cur.value !== null && String(cur.value) === String(value)) return;
    ensureParents(doc, path);
    if (isScalar(cur)) cur.value = value;
    else doc.setIn(path, value);
    changed = true;
  };
  if (edit.model !== undefined) setScalar(['model'], edit.model);
  if (edit.site !== undefined) setScalar(['site'], edit.site);
  if (edit.groups !== undefined) {
    const cur = doc.get('groups', true) as YamlNode | undefined;
    const now = isSeq(cur) ? cur.items.map((i) => (isScalar(i) ? String(i.value) : undefined)) : isScalar(cur) ? [String(cur.value)] : undefined;
    if (!now || now.length !== edit.groups.length || now.some((g, i) => g !== edit.groups![i])) {
      const seq = doc.createNode(edit.groups, { flow: true });
      doc.set('groups', seq);
      changed = true;
    }
  }
  if (edit.description !== undefined) setScalar(['description'], edit.description);
  for (const s of edit.settings) setScalar(['settings', ...s.path], s.value);
  return changed ? doc.toString(STRINGIFY) : text;
}

/**
 * A new device file (or the replacement for `--overwrite`), keeping `keep` paths from `old`.
 * Written by a small emitter rather than a yaml Document: a Document took 1 ms a file, most
 * of a 10,000-row import. Tests parse every output back.
 */
export function freshDevice(edit: DeviceEdit, old: string | undefined): string {
  const root: Record<string, unknown> = {};
  if (edit.model !== undefined) root.model = edit.model;
  if (edit.site !== undefined) root.site = edit.site;
  if (edit.groups !== undefined && edit.groups.length) root.groups = edit.groups;
  if (edit.description !== undefined) root.description = edit.description;
  const settings: Record<string, unknown> = {};
  for (const s of edit.settings) setPath(settings, s.path, s.value);
  if (edit.keep.length && old !== undefined) {
    const oldDoc = parseDocument(old);
    for (const p of edit.keep) {
      const v = oldDoc.getIn(['settings', ...p]);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') setPath(settings, p, v);
    }
  }
  if (Object.keys(settings).length) root.settings = settings;
  return emitMap(root, '');
}

function setPath(into: Record<string, unknown>, path: ReadonlyArray<string | number>, value: unknown): void {
  let node: Record<string | number, unknown> | unknown[] = into;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const wantList = typeof path[i + 1] === 'number';
    const slot = (node as Record<string | number, unknown>)[key];
    if (wantList ? !Array.isArray(slot) : slot === null || typeof slot !== 'object' || Array.isArray(slot)) {
      (node as Record<string | number, unknown>)[key] = wantList ? [] : {};
    }
    node = (node as Record<string | number, unknown>)[key] as Record<string, unknown> | unknown[];
    // A list index past the end pads with empty maps (`lines.2` before `lines.1`).
    if (Array.isArray(node) && typeof path[i + 1] === 'number') while (node.length < (path[i + 1] as number)) node.push({});
  }
  (node as Record<string | number, unknown>)[path[path.length - 1]!] = value;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PLAIN_TEXT = /^[A-Za-z_][A-Za-z0-9_ .@/()-]*$/;
const RESERVED = /^(y|n|yes|no|true|false|on|off|null)$/i;

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const t = String(v);
  // JSON's string syntax is YAML's double-quoted style.
  return PLAIN_TEXT.test(t) && !t.endsWith(' ') && !RESERVED.test(t) ? t : JSON.stringify(t);
}

function key(k: string): string {
  return PLAIN_KEY.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k);
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function emitMap(m: Record<string, unknown>, indent: string): string {
  let out = '';
  for (const [k, v] of Object.entries(m)) {
    if (isPlainMap(v)) out += Object.keys(v).length ? `${indent}${key(k)}:\n${emitMap(v, `${indent}  `)}` : `${indent}${key(k)}: {}\n`;
    else if (Array.isArray(v)) out += v.every((x) => !isPlainMap(x) && !Array.isArray(x)) ? `${indent}${key(k)}: [${v.map(scalar).join(', ')}]\n` : `${indent}${key(k)}:\n${emitList(v, `${indent}  `)}`;
    else out += `${indent}${key(k)}: ${scalar(v)}\n`;
  }
  return out;
}

function emitList(list: unknown[], indent: string): string {
  let out = '';
  for (const item of list) {
    if (isPlainMap(item)) {
      const body = Object.keys(item).length ? emitMap(item, `${indent}  `) : '';
      out += body ? `${indent}- ${body.slice(indent.length + 2)}` : `${indent}- {}\n`;
    } else if (Array.isArray(item)) out += `${indent}- [${item.map(scalar).join(', ')}]\n`;
    else out += `${indent}- ${scalar(item)}\n`;
  }
  return out;
}

/** The scalar at a settings path of a device text, if there is one (`••••` means "keep it"). */
export function settingIn(text: string | undefined, path: Array<string | number>): string | undefined {
  if (text === undefined) return undefined;
  const v = parseDocument(text).getIn(['settings', ...path]);
  return v === undefined || v === null || typeof v === 'object' ? undefined : String(v);
}

/**
 * Make every collection on the way to `path` exist with the right kind: a map for a name, a
 * list for an index, the list padded with empty maps up to the index (`lines.2` before
 * `lines.1` exists). doc.setIn alone would leave a null hole, or fail on a scalar in the way.
 */
function ensureParents(doc: Document, path: Array<string | number>): void {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const nextIsIndex = typeof path[i + 1] === 'number';
    const make = (): YAMLMap | YAMLSeq => (nextIsIndex ? new YAMLSeq() : new YAMLMap());
    if (isMap(node)) {
      let child: unknown = node.get(key, true);
      if (!(nextIsIndex ? isSeq(child) : isMap(child))) {
        child = make();
        node.set(key, child);
      }
      node = child;
    } else if (isSeq(node) && typeof key === 'number') {
      while (node.items.length <= key) node.items.push(new YAMLMap());
      let child: unknown = node.items[key];
      if (!(nextIsIndex ? isSeq(child) : isMap(child))) {
        child = make();
        node.items[key] = child;
      }
      node = child;
    } else return;
  }
  const last = path[path.length - 1];
  if (isSeq(node) && typeof last === 'number') while (node.items.length < last) node.items.push(new YAMLMap());
}
