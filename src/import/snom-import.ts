// Snom folders: snom<model>.htm (every phone of the model reads it first), then
// snom<model>-<MAC>.htm (the phone's own), each either settings XML
// (`<settings><phone-settings><name idx="1" perm="R">value</name>`) or a `<setting-files>` list
// whose files (by base name, in the folder) stand in its place. A setting becomes the
// snom.settings key `name[idx]`, with `@perm` when its perm is not deskset's default R.

import { normalizeMac } from '../config/mac.js';
import { DEFAULT_PERM, settingKey } from '../vendors/snom/escape.js';
import { drop, readXmlFile, resolveRef, warn, type ImportContext } from './context.js';
import { flatSubjects, type FlatEntry, type FlatFile, type FlatRole } from './flat-import.js';
import { decodeLines } from './text.js';
import type { Subject } from './types.js';
import { baseName } from './yealink-import.js';

const MODEL_FILE = /^snom([A-Z]?\d{3}[A-Z]?)(?:-([0-9A-F]{12}))?\.htm$/i;

/** The snom.settings key of a setting as a file holds it; no perm attribute is read as RW (the user may change it). */
export function snomParamKey(name: string, idx: string | undefined, perm: string | undefined): string {
  const p = perm ?? 'RW';
  return `${settingKey(name, idx)}${p === DEFAULT_PERM ? '' : `@${p}`}`;
}

export function importSnom(ctx: ImportContext, names: string[]): Subject[] {
  const parsed = new Map<string, { entries: FlatEntry[]; chain: string[]; lines: number } | undefined>();
  const parse = (name: string) => {
    if (!parsed.has(name)) parsed.set(name, readSnom(ctx, name));
    return parsed.get(name);
  };
  const files: FlatFile[] = [];
  const reached = new Set<string>();
  /** A file and the files its <setting-files> list names, in order, all with the same role. */
  const add = (name: string, role: FlatRole, stack: string[]) => {
    const p = parse(name);
    if (!p || stack.includes(name)) return;
    reached.add(name);
    files.push({ name, role, entries: p.entries, lines: p.lines });
    for (const ref of p.chain) {
      const hit = resolveRef(ctx, name, ref.slice(ref.lastIndexOf('/') + 1));
      if (hit && names.includes(hit)) add(hit, role, [...stack, name]);
      else warn(ctx, 'IMPORT_INCLUDE_MISSING', `<setting-files> names ${ref}, which is not in the folder`, { file: name, line: 1, col: 1 });
    }
  };
  for (const name of names) {
    const m = MODEL_FILE.exec(baseName(name));
    const info = m ? ctx.catalog.find(m[1]!) : undefined;
    if (!m || info?.vendor !== 'snom') continue;
    if (m[2]) add(name, { kind: 'device', mac: normalizeMac(m[2])!, model: { name: info.name, from: baseName(name) } }, []);
    else add(name, { kind: 'model', model: info.name }, []);
  }
  for (const name of names) {
    if (reached.has(name)) continue;
    const mac = normalizeMac(baseName(name).replace(/\.(xml|htm)$/i, ''));
    const p = parse(name);
    if (!p) continue;
    reached.add(name);
    // <MAC>.xml (the file a phone's own .htm chains to) stands for that phone even when alone.
    files.push({ name, role: mac ? { kind: 'device', mac } : { kind: 'orphan', why: 'neither snom<model>.htm nor snom<model>-<MAC>.htm, and no such file names it in <setting-files>: no phone reads it' }, entries: p.entries, lines: p.lines });
  }
  return flatSubjects(ctx, 'snom', files);
}

function readSnom(ctx: ImportContext, name: string): { entries: FlatEntry[]; chain: string[]; lines: number } | undefined {
  const lines = decodeLines(ctx.files.get(name)!.bytes);
  const doc = readXmlFile(ctx, name, lines);
  if (!doc) return undefined;
  const entries: FlatEntry[] = [];
  const chain: string[] = [];
  const root = doc.elements[0]!;
  let section = '';
  for (const el of doc.elements) {
    const at = { file: name, line: el.line, col: 1 };
    if (el.depth === 1) section = el.name;
    if (root.name === 'setting-files') {
      if (el.depth === 1 && el.name === 'file') {
        const url = el.attrs.find((a) => a.name === 'url')?.value;
        if (url) chain.push(url);
      }
      continue;
    }
    if (root.name !== 'settings') {
      const why = root.name === 'firmware-settings' ? 'a firmware file: deskset writes firmware from its firmware policy' : `the root is <${root.name}>, not <settings>`;
      warn(ctx, 'IMPORT_NOT_LOADED', `${why}; not imported`, at);
      drop(ctx, at, '(whole file)', why);
      return undefined;
    }
    if (el.depth === 1 && el.name !== 'phone-settings') {
      const why = `<${el.name}> is not imported: deskset writes <phone-settings> only`;
      warn(ctx, 'IMPORT_DROPPED', why, at);
      drop(ctx, at, el.name, why);
    } else if (el.depth === 2 && section === 'phone-settings') {
      const attr = (n: string) => el.attrs.find((a) => a.name === n)?.value;
      if (el.parent || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(el.name) || (attr('idx') !== undefined && !/^\d{1,4}$/.test(attr('idx')!))) {
        drop(ctx, at, el.name, 'not a setting deskset can write back (nested elements, or a name or idx Snom does not use)');
        continue;
      }
      entries.push({ key: snomParamKey(el.name, attr('idx'), attr('perm')), value: el.text, line: el.line, col: 1, comments: el.comments });
    }
  }
  return { entries, chain, lines: lines.length };
}
