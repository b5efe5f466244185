// A small declarative checker for YAML trees that keeps source positions.
// Used for profile files, deskset.yaml and vendor manifests, so every type error
// comes out as file:line:col with the same shape.

import { didYouMean } from '../check/suggest.js';
import type { Diagnostic } from '../check/diagnostics.js';
import { describeKind, type PEntry, type PNode } from './yaml-tree.js';

export type Shape =
  | { type: 'string' | 'text' | 'number' | 'boolean' | 'scalar' | 'any' }
  | { type: 'integer'; min?: number; max?: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; of: Shape; orSingle?: boolean }
  | { type: 'map'; fields: Record<string, Shape>; required?: readonly string[]; open?: Shape; severityUnknown?: 'error' | 'warning' }
  | { type: 'check'; base: Shape; test: (value: unknown) => string | undefined };

export const str: Shape = { type: 'string' };
export const text: Shape = { type: 'text' };
export const scalar: Shape = { type: 'scalar' };
export const bool: Shape = { type: 'boolean' };
export const any: Shape = { type: 'any' };
export const int = (min?: number, max?: number): Shape => ({ type: 'integer', min, max });
export const oneOf = (...values: string[]): Shape => ({ type: 'enum', values });
export const listOf = (of: Shape, orSingle = false): Shape => ({ type: 'list', of, orSingle });
export const mapOf = (fields: Record<string, Shape>, extra: Partial<Extract<Shape, { type: 'map' }>> = {}): Shape => ({ type: 'map', fields, ...extra });
export const openMap = (of: Shape): Shape => ({ type: 'map', fields: {}, open: of });

/**
 * Names every JavaScript object already answers to (`constructor`, `__proto__`, `toString`…).
 * No setting, vendor parameter or template value is called this; as a key it could only read
 * or shadow the built-in, so it is refused wherever it appears, open maps and `any` included.
 */
const BUILT_IN_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

function builtInKey(k: string, childPath: string, loc: PEntry['keyLoc'], code: string): Diagnostic {
  return { code, severity: 'error', message: `${childPath}: "${k}" is the name of a built-in object property and cannot be used as a key`, loc };
}

/** Built-in names anywhere below a free-form (`any`) value. */
function builtInKeysBelow(node: PNode, path: string, code: string, out: Diagnostic[]): void {
  if (node.kind === 'list') node.items.forEach((it, i) => builtInKeysBelow(it, `${path}[${i}]`, code, out));
  if (node.kind !== 'map') return;
  for (const [k, entry] of node.entries) {
    const childPath = path ? `${path}.${k}` : k;
    if (BUILT_IN_NAMES.has(k)) out.push(builtInKey(k, childPath, entry.keyLoc, code));
    builtInKeysBelow(entry.node, childPath, code, out);
  }
}

/** Check `node` against `shape`; `path` names the key for messages. Returns all problems, not the first. */
export function checkShape(node: PNode, shape: Shape, path: string, code = 'SCHEMA'): Diagnostic[] {
  const out: Diagnostic[] = [];
  const bad = (message: string, at: PNode = node): void => {
    out.push({ code, severity: 'error', message: path ? `${path}: ${message}` : message, loc: at.loc });
  };
  const isScalar = node.kind === 'scalar';
  const v = isScalar ? node.value : undefined;
  switch (shape.type) {
    case 'any':
      builtInKeysBelow(node, path, code, out);
      break;
    case 'string':
      // Numbers are accepted where strings are expected: YAML reads `1001` as a number,
      // and forcing admins to quote every extension would be hostile.
      if (!isScalar || v === null || typeof v === 'boolean') bad(`expected a string, got ${describeKind(node)}`);
      break;
    case 'text':
      // Where a number would lose information (OUIs like 001565), insist on a quoted string.
      if (!isScalar || typeof v !== 'string') bad(`expected a quoted string, got ${describeWithValue(node)}`);
      break;
    case 'scalar':
      if (!isScalar) bad(`expected a single value (string, number or boolean), got ${describeKind(node)}`);
      break;
    case 'number':
      if (!isScalar || typeof v !== 'number') bad(`expected a number, got ${describeWithValue(node)}`);
      break;
    case 'boolean':
      if (!isScalar || typeof v !== 'boolean') bad(`expected true or false, got ${describeWithValue(node)}`);
      break;
    case 'integer':
      if (!isScalar || typeof v !== 'number' || !Number.isInteger(v)) bad(`expected an integer, got ${describeWithValue(node)}`);
      else if ((shape.min !== undefined && v < shape.min) || (shape.max !== undefined && v > shape.max)) {
        bad(`${v} is out of range ${shape.min ?? '-∞'}..${shape.max ?? '∞'}`);
      }
      break;
    case 'enum':
      if (!isScalar || typeof v !== 'string' || !shape.values.includes(v)) {
        bad(`expected one of ${shape.values.join(', ')}, got ${describeWithValue(node)}`);
      }
      break;
    case 'list':
      if (node.kind === 'list') node.items.forEach((it, i) => out.push(...checkShape(it, shape.of, `${path}[${i}]`, code)));
      else if (shape.orSingle) out.push(...checkShape(node, shape.of, path, code));
      else bad(`expected a list, got ${describeKind(node)}`);
      break;
    case 'map':
      if (node.kind !== 'map') {
        bad(`expected a map, got ${describeKind(node)}`);
        break;
      }
      for (const [k, entry] of node.entries) {
        const childPath = path ? `${path}.${k}` : k;
        if (BUILT_IN_NAMES.has(k)) {
          out.push(builtInKey(k, childPath, entry.keyLoc, code));
          continue;
        }
        // Own properties only: `fields.constructor` would otherwise find Object's.
        const sub = Object.hasOwn(shape.fields, k) ? shape.fields[k] : shape.open;
        if (!sub) {
          out.push({
            code,
            severity: shape.severityUnknown ?? 'error',
            message: `${childPath}: unknown key${didYouMean(k, Object.keys(shape.fields))} (known: ${Object.keys(shape.fields).join(', ') || 'none'})`,
            loc: entry.keyLoc,
          });
          continue;
        }
        // null is always allowed below the top: it means "remove the inherited value".
        if (entry.node.kind === 'scalar' && entry.node.value === null) continue;
        out.push(...checkShape(entry.node, sub, childPath, code));
      }
      for (const r of shape.required ?? []) {
        const e = node.entries.get(r);
        if (!e) bad(`missing required key "${r}"`);
        else if (e.node.kind === 'scalar' && e.node.value === null) bad(`"${r}" is required and may not be null`, e.node);
      }
      break;
    case 'check': {
      const before = out.length;
      out.push(...checkShape(node, shape.base, path, code));
      if (out.length === before) {
        const msg = shape.test(isScalar ? v : undefined);
        if (msg) bad(msg);
      }
      break;
    }
  }
  return out;
}

function describeWithValue(node: PNode): string {
  return node.kind === 'scalar' ? JSON.stringify(node.value) : describeKind(node);
}
