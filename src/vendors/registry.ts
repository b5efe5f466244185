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

/** Import every vendor folder under `dir`, checking each exports a `vendor` named like its folder. */
export async function loadVendorFolders(dir: string, ext: string): Promise<Vendor[]> {
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
      if (prev === undefined) {
        out.set(name, item);
        owner.set(name, v.id);
      } else if (!same(prev, item)) throw new VendorContractError(v.id, `${what} "${name}" is already defined by vendor ${owner.get(name)}`);
    }
  }
  return out;
}

export interface VendorTables {
  /** Helpers every template environment registers, beside the vendor-neutral ones. */
  helpers: ReadonlyMap<string, HelperDelegate>;
  /** `{{#params "<name>"}}` line writers (`xml` is built in). */
  paramWriters: ReadonlyMap<string, ParamWriter>;
  /** The vendors' own file formats, with the vendor that owns each (its catalog is consulted). */
  formats: ReadonlyMap<string, { vendor: Vendor; format: OutputFormat }>;
  /** Every `format:` a manifest may name: xml, the vendors' own, text (the order messages list them in). */
  formatNames: readonly string[];
  /** `<mac>-<kind>` files phones may PUT; two vendors may share a kind only if they store it alike. */
  uploadKinds: ReadonlyMap<string, UploadKindSpec>;
  /** Factory defaults of every vendor: a profile that uses one is as good as no password. */
  defaultCredentials: readonly DefaultCredential[];
  /** `$NAME` phone variables, by name, and the device field each stands for. */
  phoneVariables: ReadonlyMap<string, 'mac' | 'model' | 'model4'>;
}

const sameKind = (a: UploadKindSpec, b: UploadKindSpec) => a.storage === b.storage && a.override === b.override && a.contentType === b.contentType;
const isBuiltin = (name: string) => (BUILTIN_FORMATS as readonly string[]).includes(name);

/** What the vendors bring, merged; throws VendorContractError where two collide. Pure. */
export function vendorTables(vendors: readonly Vendor[]): VendorTables {
  const formats = merged(vendors, 'file format', (v) =>
    Object.fromEntries(
      Object.entries(v.formats ?? {}).map(([name, format]) => {
        if (isBuiltin(name)) throw new VendorContractError(v.id, `file format "${name}" is built in`);
        return [name, { vendor: v, format }];
      }),
    ),
  );
  for (const v of vendors) if (v.paramFormats && Object.hasOwn(v.paramFormats, 'xml')) throw new VendorContractError(v.id, 'params format "xml" is built in');
  return {
    helpers: merged(vendors, 'helper', (v) => v.helpers),
    paramWriters: merged(vendors, 'params format', (v) => v.paramFormats),
    formats,
    formatNames: [BUILTIN_FORMATS[0], ...formats.keys(), ...BUILTIN_FORMATS.slice(1)],
    uploadKinds: merged(vendors, 'upload kind', (v) => v.uploadKinds, sameKind),
    defaultCredentials: vendors.flatMap((v) => v.defaultCredentials ?? []),
    phoneVariables: merged(vendors, 'phone variable', (v) => v.phoneVariables?.names),
  };
}

/** Every vendor, in folder order. */
export const VENDORS: readonly Vendor[] = await loadVendorFolders(HERE, EXT);

export function vendorById(id: string): Vendor | undefined {
  return VENDORS.find((v) => v.id === id);
}

const TABLES = vendorTables(VENDORS);
export const VENDOR_HELPERS = TABLES.helpers;
export const PARAM_WRITERS = TABLES.paramWriters;
export const OUTPUT_FORMATS = TABLES.formats;
export const FORMAT_NAMES = TABLES.formatNames;
export const UPLOAD_KIND_SPECS = TABLES.uploadKinds;
export const DEFAULT_CREDENTIALS = TABLES.defaultCredentials;
export const PHONE_VARIABLES = TABLES.phoneVariables;

/** Will a phone expand the `$NAME` variables in this file itself (so deskset must leave them)? */
export function phoneExpandsItself(file: string, text: string): boolean {
  return VENDORS.some((v) => v.phoneVariables?.expandsItself(file, text) ?? false);
}
