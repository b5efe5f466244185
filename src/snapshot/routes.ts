// The route table: request path -> which vendor file, and the MAC or model it names.
// Built once per snapshot. Exact names (shared files, model files, and every known
// device's own file names) sit in a Map, so a phone's request costs one lookup; the
// compiled patterns are only tried for names the Map does not know.

import { normalizeMac } from '../config/mac.js';
import type { FileSpec, ModelInfo } from '../vendors/manifest.js';

export interface RouteTarget {
  file: FileSpec;
  /** For model-scope files: the model this exact name was expanded for. */
  model?: ModelInfo;
  /** For device files precomputed for a known device. */
  mac?: string;
  /** ...and the name it is served under (canonicalPath for that device), worked out once. */
  path?: string;
}

export interface RouteMatch extends RouteTarget {
  /** A model named in the path (DES form `…/$MODEL4/$MACADDR/…`). */
  pathModel?: string;
}

interface CompiledPattern {
  regex: RegExp;
  file: FileSpec;
}

const MAC_RE = '(?<mac>[0-9a-fA-F]{12}|[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5})';
const MODEL_RE = '(?<model>[A-Za-z0-9_]{2,20})';
/** `{mac}` writes the MAC as deskset keeps it (lower case); `{MAC}` in upper case, for phones that ask so (SEP<MAC>.cnf.xml). */
const MAC_TOKEN = /\{(?:mac|MAC)\}/;
const hasMac = (p: string) => MAC_TOKEN.test(p);

export class RouteTable {
  private readonly exact = new Map<string, RouteTarget[]>();
  private readonly patterns: CompiledPattern[] = [];

  constructor(files: readonly FileSpec[], modelsOf: (vendor: string) => readonly ModelInfo[]) {
    for (const file of files) {
      for (const path of file.paths) {
        const placeholders = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        const fields = placeholders.filter((p) => !MAC_TOKEN.test(`{${p}}`) && p !== 'model');
        if (file.scope === 'model' && fields.length) {
          for (const model of modelsOf(file.vendor)) {
            const name = expandFields(path, model.fields);
            if (name !== undefined) this.addExact(name, { file, model });
          }
        } else if (placeholders.length === 0 && !path.startsWith('**/')) {
          this.addExact(path, { file });
        } else {
          this.patterns.push({ regex: compilePattern(path), file });
        }
      }
    }
  }

  private addExact(path: string, target: RouteTarget): void {
    const key = path.toLowerCase();
    const list = this.exact.get(key);
    if (list) list.push(target);
    else this.exact.set(key, [target]);
  }

  /** Precompute a known device's own file names so its requests skip the patterns. */
  addDevice(mac: string, vendor: string, model?: ModelInfo): void {
    for (const p of this.patterns) {
      if (p.file.vendor !== vendor) continue;
      const name = deviceNameOf(p.file, model)?.(mac);
      if (name) this.addExact(name, { file: p.file, mac, path: name });
    }
  }

  /** Every route that could answer `path` (leading slash stripped, already decoded). */
  match(path: string): RouteMatch[] {
    const key = path.toLowerCase();
    const hit = this.exact.get(key);
    if (hit) return hit;
    const out: RouteMatch[] = [];
    for (const p of this.patterns) {
      const m = p.regex.exec(path);
      if (!m) continue;
      const mac = m.groups?.mac ? normalizeMac(m.groups.mac) : undefined;
      out.push({ file: p.file, mac, pathModel: m.groups?.model });
    }
    return out;
  }

  /** Exact names known to the table (shared and model files), for `render`. */
  exactTargets(): Array<[string, RouteTarget[]]> {
    return [...this.exact.entries()].filter(([, ts]) => ts.some((t) => !t.mac));
  }
}

/** The name `render` writes a file under, and the name precomputed for a device. */
export function canonicalPath(file: FileSpec, mac?: string, model?: ModelInfo): string | undefined {
  // A device's file: the first pattern naming the MAC (a DES-form `**/` prefix written as
  // none). A shared rendering: the first pattern without one.
  const first = mac ? file.paths.find(hasMac) : file.paths.find((p) => !hasMac(p) && !p.startsWith('**/'));
  return first === undefined ? undefined : expandPath(first, mac, model);
}

/**
 * canonicalPath of a device's file as a function of its MAC, worked out once per file and
 * model: a snapshot names every device's files, and expanding each pattern anew was a fifth
 * of a build. Null when the file has no name for a device of that model.
 */
const deviceNames = new WeakMap<FileSpec, Map<string, ((mac: string) => string) | null>>();
const LOWER = '\u0001';
const UPPER = '\u0002';

function deviceNameOf(file: FileSpec, model?: ModelInfo): ((mac: string) => string) | null {
  let byModel = deviceNames.get(file);
  if (!byModel) deviceNames.set(file, (byModel = new Map()));
  const key = model?.name ?? '';
  let fn = byModel.get(key);
  if (fn === undefined) {
    const first = file.paths.find(hasMac);
    const name = first === undefined ? undefined : expandPath(first.replaceAll('{mac}', LOWER).replaceAll('{MAC}', UPPER), undefined, model);
    fn = name === undefined ? null : (mac: string) => name.replaceAll(LOWER, mac).replaceAll(UPPER, mac.toUpperCase());
    byModel.set(key, fn);
  }
  return fn;
}

/**
 * Every name a device's file answers to, the DES forms included (`J179/<mac>/46xxsettings.txt`
 * as well as `<mac>.txt`): what a static mirror must hold for the device.
 */
export function devicePaths(file: FileSpec, mac: string, model: ModelInfo): string[] {
  return file.paths.filter(hasMac).map((p) => expandPath(p, mac, model)).filter((p): p is string => p !== undefined);
}

/** One path pattern for one device or model: `**\/` written as no prefix, `{model}` as the model4 form. */
function expandPath(pattern: string, mac?: string, model?: ModelInfo): string | undefined {
  let out = pattern.replace(/^\*\*\//, '');
  if (hasMac(out)) {
    if (!mac) return undefined;
    out = out.replaceAll('{mac}', mac).replaceAll('{MAC}', mac.toUpperCase());
  }
  if (out.includes('{model}')) {
    if (!model) return undefined;
    out = out.replaceAll('{model}', String(model.fields.model4 ?? model.name));
  }
  if (model) {
    const e = expandFields(out, model.fields);
    if (e === undefined) return undefined;
    out = e;
  }
  if (/\{\w+\}/.test(out) || out.startsWith('**/')) return undefined;
  return out;
}

function expandFields(path: string, fields: Record<string, unknown>): string | undefined {
  let missing = false;
  const out = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'mac' || name === 'MAC' || name === 'model') return `{${name}}`;
    const v = fields[name];
    if (v === undefined || v === null) {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? undefined : out;
}

function compilePattern(path: string): RegExp {
  let src = '';
  let rest = path;
  if (rest.startsWith('**/')) {
    // "any prefix": zero or more leading directories, as the DES URL form allows.
    src += '(?:[^/]+/)*';
    rest = rest.slice(3);
  }
  src += rest
    .split(/(\{\w+\})/)
    .map((part) => {
      if (part === '{mac}' || part === '{MAC}') return MAC_RE;
      if (part === '{model}') return MODEL_RE;
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${src}$`, 'i');
}
