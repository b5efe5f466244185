// The edge side of output validation: where schemas and vendors' catalogs live on disk,
// and which XSD engine runs. libxml2 (in-process, ~0.03 ms a document) is the default;
// Java Xerces (one JVM per call, ~190 ms) is the reference, for `check --strict-xsd`.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { VENDORS } from '../vendors/registry.js';
import type { OutputValidators, XsdFinding } from '../check/check-output.js';
import { createXsdEngine, forgetCompiledSchemas, validateSync, XsdSchemaError, type XsdEngine } from '../validate/xsd/index.js';
import { Confinement, isInside } from './confine.js';
import { PACKAGE_ROOT } from './package-root.js';
import { didYouMean } from '../check/suggest.js';

export interface ValidatorOptions {
  root: string;
  strictXsd?: boolean;
  resourceNames?: ReadonlySet<string>;
}

export interface Validators extends OutputValidators {
  catalogs: ReadonlyMap<string, ReadonlySet<string>>;
  close(): Promise<void>;
  /** Problems with schemas themselves, reported once rather than per device. */
  schemaProblems: string[];
}

/**
 * Our schema, then an admin's drop-in of the same name (e.g. Poly's own polycomConfig.xsd),
 * by its real path and only if that is inside the root: a drop-in that is a symlink out of
 * the root is not compiled.
 */
export function schemaPaths(root: string, key: string): string[] {
  const out = [path.join(PACKAGE_ROOT, 'schemas', key)];
  try {
    const realRoot = realpathSync(root);
    const own = realpathSync(path.join(realRoot, 'schemas', key));
    if (isInside(realRoot, own) && statSync(own).isFile()) out.push(own);
  } catch {
    /* no drop-in */
  }
  return out;
}

const MAX_CATALOG = 4 * 1024 * 1024;

/**
 * Each vendor's catalog of parameter names (`schemas/<id>/<file>`, e.g. the J100 parameter
 * list): ours, plus the names of the root's file of the same name.
 */
export function vendorCatalogs(root: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const v of VENDORS) {
    if (!v.catalog) continue;
    const rel = `schemas/${v.id}/${v.catalog.file}`;
    const names = v.catalog.parse(readFileSync(path.join(PACKAGE_ROOT, rel), 'utf8'));
    let own: string | undefined;
    try {
      const confine = new Confinement(root);
      own = confine.readTextSync(confine.at(rel), MAX_CATALOG);
    } catch {
      /* the root is gone */
    }
    if (own !== undefined) for (const n of v.catalog.parse(own)) names.add(n);
    out.set(v.id, names);
  }
  return out;
}

export function createValidators(opts: ValidatorOptions): Validators {
  const schemaProblems: string[] = [];
  const failedSchemas = new Set<string>();
  const pathsFor = new Map<string, string[]>();
  const paths = (key: string) => {
    let p = pathsFor.get(key);
    if (!p) pathsFor.set(key, (p = schemaPaths(opts.root, key)));
    return p;
  };
  const schemaFailed = (schemaPath: string, e: unknown): void => {
    if (!(e instanceof XsdSchemaError)) throw e;
    if (!failedSchemas.has(schemaPath)) schemaProblems.push(`${schemaPath}: ${e.message}`);
    failedSchemas.add(schemaPath);
  };
  let engine: XsdEngine | undefined;
  const validator = (pathsOf: (key: string) => string[]) =>
    opts.strictXsd
      ? async (xml: string, key: string): Promise<XsdFinding[]> => {
          engine ??= createXsdEngine('xerces');
          const out: XsdFinding[] = [];
          for (const p of pathsOf(key)) {
            if (failedSchemas.has(p)) continue;
            try {
              out.push(...mergeSamePlace((await engine.validate(xml, p)).issues));
            } catch (e) {
              schemaFailed(p, e);
            }
          }
          return out;
        }
      : (xml: string, key: string): XsdFinding[] => {
          const out: XsdFinding[] = [];
          for (const p of pathsOf(key)) {
            if (failedSchemas.has(p)) continue;
            try {
              out.push(...validateSync(xml, p).issues);
            } catch (e) {
              schemaFailed(p, e);
            }
          }
          return out;
        };
  // `<vendor>/<name>.xsd` → `<vendor>/<name>.advisory.xsd`, ours and the root's, where they exist.
  const advisoryPaths = new Map<string, string[]>();
  const advisory = (key: string) => {
    let p = advisoryPaths.get(key);
    if (!p) advisoryPaths.set(key, (p = schemaPaths(opts.root, key.replace(/\.xsd$/, '.advisory.xsd')).filter((f) => existsSync(f))));
    return p;
  };
  const xsd = rememberPasses(withSuggestions(validator(paths), paths));
  const xsdAdvisory = rememberPasses(withSuggestions(validator(advisory), advisory));
  const names = opts.resourceNames;
  return {
    xsd,
    xsdAdvisory,
    catalogs: vendorCatalogs(opts.root),
    resourceExists: names ? (n: string) => names.has(n) : undefined,
    schemaProblems,
    close: async () => {
      await engine?.close?.();
      // The next set may be for edited schema files: compiled ones are keyed by path only.
      forgetCompiledSchemas();
    },
  };
}

type XsdFn = (xml: string, key: string) => XsdFinding[] | Promise<XsdFinding[]>;

/** Documents remembered as valid, per validator set; past this, the oldest are forgotten. */
const MAX_PASSES = 100_000;

/**
 * A document that passed a schema passes it again: a reload re-renders every file a change
 * may touch, and most come out byte for byte as before (a Yealink-only edit in global.yaml
 * leaves every Poly and Avaya file as it was). Only passes are kept, by a digest of schema and
 * text; a finding is always computed afresh, so it is traced to the profile line of the day.
 * The set lives as long as this validator set, which a schema edit replaces.
 */
function rememberPasses(fn: XsdFn): XsdFn {
  const passed = new Set<string>();
  const remember = (digest: string, found: XsdFinding[]): XsdFinding[] => {
    if (found.length === 0) {
      if (passed.size >= MAX_PASSES) passed.delete(passed.values().next().value as string);
      passed.add(digest);
    }
    return found;
  };
  return (xml, key) => {
    const digest = createHash('sha1').update(key).update('\0').update(xml).digest('base64');
    if (passed.has(digest)) return [];
    const res = fn(xml, key);
    return Array.isArray(res) ? remember(digest, res) : res.then((r) => remember(digest, r));
  };
}

/**
 * "attribute 'CONFIG_FILE' is not allowed" gets "did you mean "CONFIG_FILES"?": the closest
 * attribute names the schemas declare (a typo in a Poly parameter an admin's XSD types, or
 * in a master config attribute).
 */
function withSuggestions(fn: XsdFn, pathsOf: (key: string) => string[]): XsdFn {
  const declared = new Map<string, string[]>();
  const namesFor = (key: string) => {
    let n = declared.get(key);
    if (!n) declared.set(key, (n = [...new Set(pathsOf(key).flatMap((p) => declaredAttributes(p, new Set())))]));
    return n;
  };
  const hint = (key: string, found: XsdFinding[]) =>
    found.map((f) => {
      const attr = /attribute '([^']+)'.*not allowed/.exec(f.message)?.[1];
      return attr ? { ...f, message: `${f.message}${didYouMean(attr, namesFor(key))}` } : f;
    });
  return (xml, key) => {
    const res = fn(xml, key);
    return Array.isArray(res) ? hint(key, res) : res.then((r) => hint(key, r));
  };
}

/** Attribute names a schema file (and what it includes) declares. */
function declaredAttributes(file: string, seen: Set<string>): string[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const own = [...text.matchAll(/<xs:attribute\s+name="([^"]+)"/g)].map((m) => m[1]!);
  const included = [...text.matchAll(/<xs:include\s+schemaLocation="([^"]+)"/g)].flatMap((m) => declaredAttributes(path.resolve(path.dirname(file), m[1]!), seen));
  return [...own, ...included];
}

/**
 * Xerces reports one bad attribute twice at the same place (the facet, e.g.
 * cvc-maxInclusive-valid, then cvc-attribute.3 naming the attribute); libxml2 reports it
 * once. One finding per place keeps the two engines' reports comparable.
 */
function mergeSamePlace(issues: XsdFinding[]): XsdFinding[] {
  const byPlace = new Map<string, XsdFinding>();
  for (const i of issues) {
    const k = `${i.line}:${i.col}`;
    const prev = byPlace.get(k);
    byPlace.set(k, prev ? { ...prev, message: `${prev.message} / ${i.message}` } : i);
  }
  return [...byPlace.values()];
}
