// Write a CSV row into a device file. `merge` edits the existing YAML document (the `yaml`
// package's Document API), so comments, key order and quoting stay; a value that already
// reads the same is not touched, and a file with nothing to change keeps its exact bytes.
// `overwrite` and new devices get a fresh document. Pure: texts in, text out.

import { Document, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, YAMLMap, YAMLSeq } from 'yaml';

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

/** A new device file (or the replacement for `--overwrite`), keeping `keep` paths from `old`. */
export function freshDevice(edit: DeviceEdit, old: string | undefined, comment?: string): string {
  const doc = new Document({});
  const oldDoc = old === undefined ? undefined : parseDocument(old);
  if (edit.model !== undefined) doc.set('model', edit.model);
  if (edit.site !== undefined) doc.set('site', edit.site);
  if (edit.groups !== undefined && edit.groups.length) doc.set('groups', doc.createNode(edit.groups, { flow: true }));
  if (edit.description !== undefined) doc.set('description', edit.description);
  for (const s of edit.settings) {
    ensureParents(doc, ['settings', ...s.path]);
    doc.setIn(['settings', ...s.path], s.value);
  }
  for (const p of edit.keep) {
    const v = oldDoc?.getIn(['settings', ...p]);
    if (v === undefined || v === null || typeof v === 'object') continue;
    ensureParents(doc, ['settings', ...p]);
    doc.setIn(['settings', ...p], v);
  }
  if (comment) doc.commentBefore = ` ${comment}`;
  return doc.toString(STRINGIFY);
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
