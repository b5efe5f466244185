// The edge side of output validation: where schemas and the Avaya catalog live on disk,
// and which XSD engine runs. libxml2 (in-process, ~0.03 ms a document) is the default;
// Java Xerces (one JVM per call, ~190 ms) is the reference, for `check --strict-xsd`.

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadCatalogText } from '../vendors/avaya/script/index.js';
import type { OutputValidators, XsdFinding } from '../check/check-output.js';
import { createXsdEngine, validateSync, XsdSchemaError, type XsdEngine } from '../validate/xsd/index.js';
import { Confinement, isInside } from './confine.js';
import { PACKAGE_ROOT } from './package-root.js';
import { didYouMean } from '../check/suggest.js';

export interface ValidatorOptions {
  root: string;
  strictXsd?: boolean;
  resourceNames?: ReadonlySet<string>;
}

export interface Validators extends OutputValidators {
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

export function avayaCatalog(root: string): Set<string> {
  const names = loadCatalogText(readFileSync(path.join(PACKAGE_ROOT, 'schemas/avaya/parameters.txt'), 'utf8'));
  let own: string | undefined;
  try {
    const confine = new Confinement(root);
    own = confine.readTextSync(confine.at('schemas/avaya/parameters.txt'), MAX_CATALOG);
  } catch {
    /* the root is gone */
  }
  if (own !== undefined) for (const n of loadCatalogText(own)) names.add(n);
  return names;
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
  // `polycom/master.xsd` → `polycom/master.advisory.xsd`, ours and the root's, where they exist.
  const advisoryPaths = new Map<string, string[]>();
  const advisory = (key: string) => {
    let p = advisoryPaths.get(key);
    if (!p) advisoryPaths.set(key, (p = schemaPaths(opts.root, key.replace(/\.xsd$/, '.advisory.xsd')).filter((f) => existsSync(f))));
    return p;
  };
  const xsd = withSuggestions(validator(paths), paths);
  const xsdAdvisory = withSuggestions(validator(advisory), advisory);
  const names = opts.resourceNames;
  return {
    xsd,
    xsdAdvisory,
    avayaCatalog: avayaCatalog(opts.root),
    resourceExists: names ? (n: string) => names.has(n) : undefined,
    schemaProblems,
    close: async () => {
      await engine?.close?.();
    },
  };
}

type XsdFn = (xml: string, key: string) => XsdFinding[] | Promise<XsdFinding[]>;

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
