// The default XSD engine: libxml2 compiled to WebAssembly, in process.
//
// Why this one by default: no JVM, no native build, and once a schema is compiled a
// document validates in well under a millisecond, which is what a 10,000-device check
// needs. Xerces (xerces.ts) stays as the reference implementation the agreement test
// compares against.
//
// Two libxml2-wasm facts shape this file:
//  * Its objects live in wasm linear memory, which the JS GC does not reclaim: every
//    XmlDocument / XsdValidator must be dispose()d, on every path, or the heap only grows.
//  * It has no file system of its own. A schema that xs:include/xs:imports a sibling
//    needs an input provider (xmlRegisterInputProvider) and a base URL on the schema
//    document so libxml2 can resolve the relative schemaLocation.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ParseOption,
  XmlDocument,
  XmlError,
  XmlLibError,
  XsdValidator,
  xmlRegisterInputProvider,
  type ErrorDetail,
  type XmlInputProvider,
} from 'libxml2-wasm';
import { fsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { XsdSchemaError, type XsdEngine, type XsdIssue, type XsdResult } from './types.js';

/**
 * Parse options for validated documents.
 * - BIG_LINES: without it libxml2 caps node line numbers at 65535, and issues in long
 *   rendered files would point at the wrong line.
 * - NONET / NO_XXE: a rendered file is data, never a reason to fetch something.
 * Entity expansion stays off (the default), so external entities are not read either.
 */
const DOC_PARSE_OPTIONS =
  ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/**
 * File access for libxml2, limited to *.xsd files: includes and imports are the only
 * reason we give it a file system, and a document's DOCTYPE or entity pointing at
 * /etc/passwd must keep failing. The registration is process-wide (libxml2 keeps one
 * provider list), hence the module-level guard.
 */
const schemaFileProvider: XmlInputProvider = {
  match: (filename) => /\.xsd$/i.test(filename) && fsInputProviders.match(filename),
  open: (filename) => fsInputProviders.open(filename),
  read: (fd, buf) => fsInputProviders.read(fd, buf),
  close: (fd) => fsInputProviders.close(fd),
};
let providerRegistered = false;
function ensureSchemaFileProvider(): void {
  if (!providerRegistered) providerRegistered = xmlRegisterInputProvider(schemaFileProvider);
}

interface CompiledSchema {
  /** Kept alive with the validator: libxml2's compiled schema may point into its source tree. */
  readonly doc: XmlDocument;
  readonly validator: XsdValidator;
}

function toIssues(details: readonly ErrorDetail[]): XsdIssue[] {
  return details.map((d) => ({
    line: d.line > 0 ? d.line : 0,
    col: d.col > 0 ? d.col : 0,
    // libxml2 ends every message with "\n"; keep its wording otherwise.
    message: d.message.trim(),
  }));
}

function errorIssues(err: unknown, fallback: string): XsdIssue[] {
  if (err instanceof XmlLibError && err.details.length > 0) return toIssues(err.details);
  const message = err instanceof Error ? err.message.trim() : String(err);
  return [{ line: 0, col: 0, message: message || fallback }];
}

export class Libxml2XsdEngine implements XsdEngine {
  readonly name = 'libxml2';
  /** Compiled schemas by absolute path. Never evicted on its own: see {@link invalidate}. */
  private readonly cache = new Map<string, CompiledSchema>();
  private compiles = 0;

  /** How many schema compilations this engine has done (cache misses); for tests and metrics. */
  get compileCount(): number {
    return this.compiles;
  }

  /** Absolute paths of the schemas currently compiled and cached. */
  get cachedSchemas(): string[] {
    return [...this.cache.keys()];
  }

  /**
   * Synchronous validation, for the hot path: checking thousands of rendered files
   * should not allocate a promise per file. Schema problems throw {@link XsdSchemaError}.
   *
   * Memory: the wasm side of each document is freed before this returns. The small JS
   * wrapper (~100 bytes) is another matter: libxml2-wasm tracks wrappers with WeakRefs,
   * and V8 keeps every WeakRef target alive until the current job ends, so one
   * synchronous loop over N documents holds N wrappers until it yields (10,000 devices:
   * about 1 MB, harmless; a million in one tick would be ~100 MB, so chunk such loops).
   */
  validateSync(xml: string, schemaPath: string): XsdResult {
    const schema = this.schemaFor(path.resolve(schemaPath));

    let doc: XmlDocument;
    try {
      // encoding 'utf-8': the JS string reaches libxml2 as UTF-8 bytes whatever the XML
      // declaration says, so the declaration must not be allowed to re-decode it.
      doc = XmlDocument.fromString(xml, { encoding: 'utf-8', option: DOC_PARSE_OPTIONS });
    } catch (err) {
      if (err instanceof XmlError) return { valid: false, issues: errorIssues(err, 'document is not well-formed') };
      throw err;
    }

    try {
      schema.validator.validate(doc);
      return { valid: true, issues: [] };
    } catch (err) {
      // XmlValidateError: the verdict. A bare XmlError means libxml2 returned an internal
      // error for this document; report it as invalid rather than throw, so one odd
      // document cannot abort a check of ten thousand.
      if (err instanceof XmlError) return { valid: false, issues: errorIssues(err, 'schema validation failed') };
      throw err;
    } finally {
      doc.dispose();
    }
  }

  async validate(xml: string, schemaPath: string): Promise<XsdResult> {
    return this.validateSync(xml, schemaPath);
  }

  /**
   * Drop compiled schemas (one path, or all) so the next validation recompiles from disk.
   * Call it when a schema file changes (an admin dropped a new polycomConfig.xsd into the
   * config root). The cache is keyed by the top-level file only; after editing an
   * included file, invalidate everything.
   */
  invalidate(schemaPath?: string): void {
    const keys = schemaPath === undefined ? [...this.cache.keys()] : [path.resolve(schemaPath)];
    for (const key of keys) {
      const entry = this.cache.get(key);
      if (!entry) continue;
      this.cache.delete(key);
      entry.validator.dispose();
      entry.doc.dispose();
    }
  }

  close(): void {
    this.invalidate();
  }

  private schemaFor(absPath: string): CompiledSchema {
    const hit = this.cache.get(absPath);
    if (hit) return hit;

    let text: string;
    try {
      text = readFileSync(absPath, 'utf8');
    } catch (err) {
      throw new XsdSchemaError(absPath, errorIssues(err, 'cannot read schema'));
    }

    ensureSchemaFileProvider();
    let doc: XmlDocument;
    try {
      // url = the schema's own path: the base against which libxml2 resolves the
      // schemaLocation of xs:include / xs:import.
      doc = XmlDocument.fromString(text, { url: absPath, encoding: 'utf-8' });
    } catch (err) {
      throw new XsdSchemaError(absPath, errorIssues(err, 'schema is not well-formed'));
    }

    let validator: XsdValidator;
    try {
      validator = XsdValidator.fromDoc(doc);
    } catch (err) {
      doc.dispose();
      // Warnings are kept: for a missing include the *warning* says why ("No such file").
      throw new XsdSchemaError(absPath, errorIssues(err, 'invalid XML schema'));
    }

    const compiled: CompiledSchema = { doc, validator };
    this.cache.set(absPath, compiled);
    this.compiles++;
    return compiled;
  }
}

let sharedEngine: Libxml2XsdEngine | undefined;

/**
 * Validate with a process-wide libxml2 engine (one schema cache for the whole process),
 * synchronously. This is the call for hot loops; use an engine from `createXsdEngine`
 * where the engine must be swappable.
 */
export function validateSync(xml: string, schemaPath: string): XsdResult {
  sharedEngine ??= new Libxml2XsdEngine();
  return sharedEngine.validateSync(xml, schemaPath);
}

/** Drop the process-wide engine's compiled schemas: an edited schema file is read afresh. */
export function forgetCompiledSchemas(): void {
  sharedEngine?.invalidate();
}
