// Resource files (ringtones, backgrounds, directories, certificates, licences, language
// files) are served under the names phones ask for, with two conveniences:
//  - per-device first, shared fallback (Poly's rule): `<mac>-directory.xml` serves the
//    device's own file if present, else `000000000000-directory.xml`;
//  - device variables in names and text: a file named `{{model}}-wallpaper.png` answers
//    `J179-wallpaper.png`, and `{{mac}}` in a text resource becomes the asking phone's MAC.
// Tokens that belong to the phone pass through untouched: Poly's [PHONE_MAC_ADDRESS], and
// `$MACADDR`/`$MODEL4` inside an Avaya script (the phone expands those itself).

import { macForms, normalizeMac, ZERO_MAC } from '../config/mac.js';

export interface ResourceIdentity {
  mac?: string;
  model?: string;
  vendor?: string;
  site?: string;
}

export interface ResourceMatch {
  /** Path under resources/. */
  file: string;
  /** Variables for text substitution (empty when no device is identified). */
  vars: Record<string, string>;
}

/** deskset's own tokens, and the Avaya ones it expands where the phone would not. */
const TOKEN = /\{\{\s*(mac|MAC|mac_colon|MAC_colon|model|vendor|site)\s*\}\}/g;
const AVAYA_TOKEN = /\$(MACADDR|MODEL4)\b/g;
const NAME_TOKEN = /\{\{\s*(mac|model)\s*\}\}|\$(MACADDR|MODEL4)/g;

export const TEXT_EXTENSIONS = new Set(['txt', 'xml', 'cfg', 'csv', 'json', 'htm', 'html', 'ini']);

export function extensionOf(name: string): string {
  const m = /\.([A-Za-z0-9]+)$/.exec(name);
  return m ? m[1]!.toLowerCase() : '';
}

/**
 * The name a device asks for a resource whose name has tokens (`{{model}}-wallpaper.png` ->
 * `VVX450-wallpaper.png`, `$MODEL4` the Avaya model4 form); undefined for a name without any.
 */
export function resourceNameFor(file: string, who: { mac: string; model: string; model4: string }): string | undefined {
  NAME_TOKEN.lastIndex = 0;
  if (!NAME_TOKEN.test(file)) return undefined;
  NAME_TOKEN.lastIndex = 0;
  return file.replace(NAME_TOKEN, (_, own: string | undefined, avaya: string | undefined) => (own === 'mac' || avaya === 'MACADDR' ? who.mac : own === 'model' ? who.model : who.model4));
}

export class ResourceIndex {
  private readonly exact = new Map<string, string>();
  private readonly patterns: Array<{ regex: RegExp; file: string }> = [];

  constructor(files: Iterable<string>) {
    for (const f of files) {
      if (NAME_TOKEN.test(f)) {
        NAME_TOKEN.lastIndex = 0;
        this.patterns.push({ regex: namePattern(f), file: f });
      } else this.exact.set(f.toLowerCase(), f);
    }
  }

  /** Every file under resources/ that is served, by its name there. */
  files(): string[] {
    return [...this.exact.values(), ...this.patterns.map((p) => p.file)];
  }

  /** Which resource answers `path`; identity comes from the path's MAC or the request. */
  match(path: string, who: ResourceIdentity, lookup: (mac: string) => ResourceIdentity | undefined = () => undefined): ResourceMatch | undefined {
    const direct = this.exact.get(path.toLowerCase());
    const prefixed = /^([0-9a-fA-F]{12})-(.+)$/.exec(path);
    const pathMac = prefixed ? normalizeMac(prefixed[1]!) : undefined;
    // A MAC in the name is who is asking (a known device brings its model and site).
    const ident: ResourceIdentity = pathMac && pathMac !== ZERO_MAC ? { ...(lookup(pathMac) ?? {}), mac: pathMac } : who;
    if (direct) return { file: direct, vars: varsOf(ident) };
    if (prefixed && pathMac !== ZERO_MAC) {
      const fallback = this.exact.get(`${ZERO_MAC}-${prefixed[2]!}`.toLowerCase());
      if (fallback) return { file: fallback, vars: varsOf(ident) };
    }
    for (const p of this.patterns) {
      const m = p.regex.exec(path);
      if (!m) continue;
      const g = m.groups ?? {};
      const mac = g.mac ? normalizeMac(g.mac) : ident.mac;
      const known = g.mac && mac ? lookup(mac) : undefined;
      return { file: p.file, vars: varsOf({ ...ident, ...known, mac, model: g.model ?? known?.model ?? ident.model }) };
    }
    return undefined;
  }
}

function namePattern(file: string): RegExp {
  let src = '';
  let last = 0;
  for (const m of file.matchAll(NAME_TOKEN)) {
    src += escape(file.slice(last, m.index));
    const name = m[1] ?? m[2];
    src += name === 'mac' || name === 'MACADDR' ? '(?<mac>[0-9a-fA-F]{12})' : '(?<model>[A-Za-z0-9_]{2,20})';
    last = m.index! + m[0].length;
  }
  src += escape(file.slice(last));
  return new RegExp(`^${src}$`, 'i');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function varsOf(who: ResourceIdentity): Record<string, string> {
  const out: Record<string, string> = {};
  if (who.mac) Object.assign(out, macForms(who.mac));
  if (who.model) out.model = who.model;
  if (who.vendor) out.vendor = who.vendor;
  if (who.site) out.site = who.site;
  return out;
}

/**
 * Substitute deskset's tokens in a text resource. Unknown or unavailable tokens stay as
 * written (a file fetched without an identified device must not lose its placeholders).
 * `$MACADDR`/`$MODEL4` are expanded only when the file is not an Avaya script.
 */
export function substitute(text: string, vars: Record<string, string>, isAvayaScript: boolean): string {
  let out = text.replace(TOKEN, (all, name: string) => vars[name] ?? all);
  if (!isAvayaScript) {
    out = out.replace(AVAYA_TOKEN, (all, name: string) => (name === 'MACADDR' ? vars.mac : vars.model) ?? all);
  }
  return out;
}
