// Grandstream folders: cfg<mac>.xml (`<gs_provision><config version="1"><Pnnn>`), the legacy
// name cfg<mac>, and the old text form (`P2 = admin`). A phone asks for its own file first and
// falls back to cfg<model>.xml, then cfg.xml, only when its own is missing (vendor-facts §4.3).
// No file says a phone's model: the folder may, else --model.

import { normalizeMac } from '../config/mac.js';
import { drop, readXmlFile, warn, type ImportContext } from './context.js';
import { flatSubjects, type FlatEntry, type FlatFile, type FlatRole } from './flat-import.js';
import { commentText, decodeLines } from './text.js';
import type { Subject } from './types.js';
import { baseName } from './yealink-import.js';

const P_NAME = /^P\d{1,6}$/;
const TEXT_LINE = /^(P\d{1,6})\s*=\s?(.*)$/;

/** True for the text form: every statement a `Pnnn = value` line. */
export function isGrandstreamText(lines: readonly string[]): boolean {
  let p = 0;
  for (const l of lines.slice(0, 400)) {
    const t = l.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (!TEXT_LINE.test(t)) return false;
    p++;
  }
  return p > 0;
}

export function importGrandstream(ctx: ImportContext, names: string[]): Subject[] {
  const files: FlatFile[] = [];
  for (const name of names) {
    const lines = decodeLines(ctx.files.get(name)!.bytes);
    const first = lines.find((l) => l.trim() !== '')?.trim() ?? '';
    const parsed = first.startsWith('<') ? readGsXml(ctx, name, lines) : readGsText(ctx, name, lines);
    if (!parsed) continue;
    files.push({ name, role: roleOf(ctx, name, parsed.mac), entries: parsed.entries, lines: lines.length });
  }
  return flatSubjects(ctx, 'grandstream', files);
}

function roleOf(ctx: ImportContext, name: string, inFile: string | undefined): FlatRole {
  const base = baseName(name);
  const m = /^cfg([0-9a-f]{12}|[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5})(\.xml|\.txt)?$/i.exec(base);
  const fromName = m ? normalizeMac(m[1]!) : undefined;
  if (inFile && fromName && inFile !== fromName) warn(ctx, 'IMPORT_MAC_MISMATCH', `<mac>${inFile}</mac> is not the MAC of the file name (${fromName}): the phone ${fromName} refuses it; imported for ${inFile}`, { file: name, line: 1, col: 1 });
  const mac = inFile ?? fromName;
  if (mac) return { kind: 'device', mac };
  if (/^cfg\.xml$/i.test(base)) return { kind: 'fallback' };
  const model = /^cfg([a-z]{2,4}\d{3,4}[a-z0-9]*)\.xml$/i.exec(base);
  const info = model ? ctx.catalog.find(model[1]!) : undefined;
  if (info?.vendor === 'grandstream') return { kind: 'fallback', model: info.name };
  return { kind: 'orphan', why: 'neither cfg<mac>.xml, cfg<model>.xml nor cfg.xml and no <mac> inside: no phone asks for it' };
}

function readGsXml(ctx: ImportContext, name: string, lines: string[]): { mac?: string; entries: FlatEntry[] } | undefined {
  const doc = readXmlFile(ctx, name, lines);
  if (!doc) return undefined;
  const entries: FlatEntry[] = [];
  let mac: string | undefined;
  let config: { depth: number; version: string } | undefined;
  for (const el of doc.elements) {
    const at = { file: name, line: el.line, col: 1 };
    if (el.depth === 1 && el.name === 'mac') mac = normalizeMac(el.text.trim());
    else if (el.depth === 1 && el.name === 'config') config = { depth: 1, version: el.attrs.find((a) => a.name === 'version')?.value ?? '1' };
    else if (el.depth === 2 && config) {
      if (config.version === '1' && P_NAME.test(el.name) && !el.parent) entries.push({ key: el.name, value: el.text, line: el.line, col: 1, comments: el.comments });
      else {
        const key = el.name === 'item' ? (el.attrs.find((a) => a.name === 'name')?.value ?? 'item') : el.name;
        const why = config.version !== '1' ? `<config version="${config.version}"> items are not P-values; deskset writes version 1` : `<${el.name}> is not a P-value: the phone ignores it`;
        drop(ctx, at, key, why);
        warn(ctx, 'IMPORT_DROPPED', `${key}: ${why}; not imported`, at);
      }
    } else if (el.depth === 1 || (el.depth === 0 && el.name !== 'gs_provision')) {
      const why = el.depth === 0 ? `the root is <${el.name}>, not <gs_provision>: not a Grandstream config` : `<${el.name}> is not part of <gs_provision>: the phone ignores it`;
      warn(ctx, 'IMPORT_DROPPED', why, at);
      drop(ctx, at, el.name, why);
      if (el.depth === 0) return undefined;
    }
  }
  return { mac, entries };
}

function readGsText(ctx: ImportContext, name: string, lines: string[]): { mac?: string; entries: FlatEntry[] } {
  const entries: FlatEntry[] = [];
  let comments: string[] = [];
  lines.forEach((raw, i) => {
    const t = raw.trim();
    if (t === '') comments = [];
    else if (t.startsWith('#')) comments.push(commentText(t, /^#+/));
    else {
      const m = TEXT_LINE.exec(t);
      if (m) entries.push({ key: m[1]!, value: m[2]!.trim(), line: i + 1, col: 1, comments: comments.filter((c) => c !== '') });
      else {
        const at = { file: name, line: i + 1, col: 1 };
        warn(ctx, 'IMPORT_NOT_A_SETTING', 'not a "Pnnn = value" line (skipped)', at);
        drop(ctx, at, `line ${i + 1}`, 'not a Grandstream P-value line');
      }
      comments = [];
    }
  });
  return { entries };
}
