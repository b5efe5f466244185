// XSD validation of the XML files deskset renders (Poly master configs and
// polycomConfig parameter files). Two engines behind one contract (types.ts):
//   libxml2 - in-process WebAssembly, compiled-schema cache, synchronous fast path; default.
//   xerces  - Java Xerces via xsd-schema-validator, one JVM per call; the reference.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Libxml2XsdEngine } from './libxml2.js';
import { XercesXsdEngine, type XercesEngineOptions } from './xerces.js';
import type { XsdEngine } from './types.js';

export { XsdSchemaError, type XsdEngine, type XsdIssue, type XsdResult } from './types.js';
export { forgetCompiledSchemas, Libxml2XsdEngine, validateSync } from './libxml2.js';
export { XercesXsdEngine, type XercesEngineOptions } from './xerces.js';

export type XsdEngineKind = 'libxml2' | 'xerces';

/** A new engine of the given kind. Each has its own state (libxml2: its schema cache). */
export function createXsdEngine(kind: XsdEngineKind, options: XercesEngineOptions = {}): XsdEngine {
  switch (kind) {
    case 'libxml2':
      return new Libxml2XsdEngine();
    case 'xerces':
      return new XercesXsdEngine(options);
    default: {
      const never: never = kind;
      throw new Error(`unknown XSD engine ${String(never)}`);
    }
  }
}

/**
 * deskset's built-in schemas directory (`<package>/schemas`). Resolved from this file so
 * it is right both from src/ (tests) and dist/ (installed): both sit three levels down.
 */
export const BUILTIN_SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schemas');

/** Absolute path of a built-in schema, e.g. `builtinSchemaPath('polycom/master.xsd')`. */
export function builtinSchemaPath(relative: string): string {
  return path.join(BUILTIN_SCHEMA_DIR, relative);
}
