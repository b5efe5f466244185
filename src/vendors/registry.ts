// Every vendor deskset knows, found by reading this directory: each src/vendors/<id>/index.ts
// (dist/vendors/<id>/index.js at run time) that exports `vendor`. Adding a vendor is adding
// a folder; no list here to edit. The tables below merge what the vendors bring, and refuse
// at start-up what two of them would bring differently (a helper, a format, an upload kind).
//
// Loaded with top-level await, so a vendor folder must not import this module (or anything
// that does): its code is the leaf, the shared code asks here.

import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HelperDelegate } from 'handlebars';
import { BUILTIN_FORMATS, VendorContractError, type DefaultCredential, type OutputFormat, type ParamWriter, type UploadKindSpec, type Vendor } from './contract.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// `.ts` under vitest (the sources run), `.js` from dist/.
const EXT = path.extname(fileURLToPath(import.meta.url));

/** The vendor folders under `dir`, by name: those with an index module. */
export function vendorFolders(dir: string = HERE, ext: string = EXT): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, `index${ext}`)))
    .map((e) => e.name)
    .sort();
}

async function load(dir: string, ext: string): Promise<Vendor[]> {
  const out: Vendor[] = [];
  for (const folder of vendorFolders(dir, ext)) {
    const mod = (await import(pathToFileURL(path.join(dir, folder, `index${ext}`)).href)) as { vendor?: Vendor };
    const v = mod.vendor;
    if (!v || typeof v !== 'object') throw new VendorContractError(folder, `src/vendors/${folder}/index exports no \`vendor\``);
    if (v.id !== folder) throw new VendorContractError(folder, `its id is "${v.id}", but its folder is ${folder}/ (they must match: templates/${folder}/, schemas/${folder}/)`);
    out.push(v);
  }
  return out;
}

/** Merge one table of every vendor; the same name from two vendors must be the same thing. */
function merged<T>(vendors: readonly Vendor[], what: string, pick: (v: Vendor) => Readonly<Record<string, T>> | undefined, same: (a: T, b: T) => boolean = (a, b) => a === b): Map<string, T> {
  const out = new Map<string, T>();
  const owner = new Map<string, string>();
  for (const v of vendors) {
    for (const [name, item] of Object.entries(pick(v) ?? {})) {
      const prev = out.get(name);
      if (prev !== undefined && !same(prev, item)) throw new VendorContractError(v.id, `${what} "${name}" is already defined by vendor ${owner.get(name)}`);
      out.set(name, item);
      if (!owner.has(name)) owner.set(name, v.id);
    }
  }
  return out;
}

/** Every vendor, in folder order. */
export const VENDORS: readonly Vendor[] = await load(HERE, EXT);

export function vendorById(id: string): Vendor | undefined {
  return VENDORS.find((v) => v.id === id);
}

/** Helpers every template environment registers, beside the vendor-neutral ones. */
export const VENDOR_HELPERS: ReadonlyMap<string, HelperDelegate> = merged(VENDORS, 'helper', (v) => v.helpers);

/** `{{#params "<name>"}}` line writers (`xml` is built in). */
export const PARAM_WRITERS: ReadonlyMap<string, ParamWriter> = merged(VENDORS, 'params format', (v) => v.paramFormats);

/** The vendors' own file formats, with the vendor that owns each (its catalog is consulted). */
export const OUTPUT_FORMATS: ReadonlyMap<string, { vendor: Vendor; format: OutputFormat }> = merged(VENDORS, 'file format', (v) =>
  Object.fromEntries(Object.entries(v.formats ?? {}).map(([name, format]) => {
    if ((BUILTIN_FORMATS as readonly string[]).includes(name)) throw new VendorContractError(v.id, `file format "${name}" is built in`);
    return [name, { vendor: v, format }];
  })),
);

/** Every `format:` a manifest may name: xml, the vendors' own, text (the order messages list them in). */
export const FORMAT_NAMES: readonly string[] = [BUILTIN_FORMATS[0], ...OUTPUT_FORMATS.keys(), ...BUILTIN_FORMATS.slice(1)];

const sameKind = (a: UploadKindSpec, b: UploadKindSpec) => a.storage === b.storage && a.override === b.override && a.contentType === b.contentType;

/** `<mac>-<kind>` files phones may PUT; two vendors may share a kind only if they store it alike. */
export const UPLOAD_KIND_SPECS: ReadonlyMap<string, UploadKindSpec> = merged(VENDORS, 'upload kind', (v) => v.uploadKinds, sameKind);

/** Factory defaults of every vendor: a profile that uses one is as good as no password. */
export const DEFAULT_CREDENTIALS: readonly DefaultCredential[] = VENDORS.flatMap((v) => v.defaultCredentials ?? []);

/** `$NAME` phone variables, by name, and the device field each stands for. */
export const PHONE_VARIABLES: ReadonlyMap<string, 'mac' | 'model' | 'model4'> = merged(VENDORS, 'phone variable', (v) => v.phoneVariables?.names);

/** Will a phone expand the `$NAME` variables in this file itself (so deskset must leave them)? */
export function phoneExpandsItself(file: string, text: string): boolean {
  return VENDORS.some((v) => v.phoneVariables?.expandsItself(file, text) ?? false);
}
