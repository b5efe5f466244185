// Parse a YAML file into a small tree that keeps a source position on every node.
// The merge, the schema checks and `explain` all need to say "file:line:col set this",
// so positions are kept from the start rather than recovered later.

import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, type Node as YamlNode, type Document } from 'yaml';
import type { Diagnostic, SourceLoc } from './diagnostics.js';
import { parseYamlFast } from './yaml-fast.js';

export type Scalar = string | number | boolean | null;

export type PNode =
  | { kind: 'map'; entries: Map<string, PEntry>; loc: SourceLoc }
  | { kind: 'list'; items: PNode[]; loc: SourceLoc }
  | { kind: 'scalar'; value: Scalar; loc: SourceLoc; fromRef?: true };

/** A map entry keeps where its key was written: that is the line an admin edits. */
export interface PEntry {
  keyLoc: SourceLoc;
  node: PNode;
}

export interface ParsedYaml {
  root?: PNode;
  diagnostics: Diagnostic[];
}

/** Aliases can expand exponentially ("billion laughs"); past this many expansions we stop. */
const MAX_ALIAS_EXPANSIONS = 1000;

export function parseYamlTree(text: string, file: string): ParsedYaml {
  const fast = parseYamlFast(text, file);
  return fast ? { root: fast.root, diagnostics: [] } : parseWithYaml(text, file);
}

/**
 * The reference reader, and the only one that reports problems: `yaml` with positions.
 * parseYamlFast answers first for the documents it can prove it reads identically.
 */
export function parseWithYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const diagnostics: Diagnostic[] = [];
  const locAt = (offset: number): SourceLoc => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  for (const e of doc.errors) {
    diagnostics.push({ code: `YAML_${e.code}`, severity: 'error', message: firstLine(e.message), loc: locAt(e.pos[0]) });
  }
  if (diagnostics.length) return { diagnostics };
  let expansions = 0;
  const walk = (node: unknown, d: Document, fallback: number): PNode => {
    if (isAlias(node)) {
      if (++expansions > MAX_ALIAS_EXPANSIONS) throw new AliasBomb(locAt(node.range?.[0] ?? fallback));
      return walk(node.resolve(d), d, node.range?.[0] ?? fallback);
    }
    const start = (node as YamlNode | null)?.range?.[0] ?? fallback;
    const loc = locAt(start);
    if (isMap(node)) {
      const entries = new Map<string, PEntry>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyStart = keyNode?.range?.[0] ?? start;
        const key = isScalar(keyNode) ? keyNode.value : keyNode;
        if (key === null || typeof key === 'object') {
          diagnostics.push({ code: 'YAML_KEY_NOT_SCALAR', severity: 'error', message: 'map keys must be plain strings', loc: locAt(keyStart) });
          continue;
        }
        if (key === '<<') {
          diagnostics.push({ code: 'YAML_MERGE_KEY', severity: 'error', message: 'YAML merge keys (<<) are not supported; use layers instead', loc: locAt(keyStart) });
          continue;
        }
        const valueNode = pair.value;
        const child: PNode = valueNode == null
          ? { kind: 'scalar', value: null, loc: locAt(keyStart) }
          : walk(valueNode, d, keyStart);
        entries.set(String(key), { keyLoc: locAt(keyStart), node: child });
      }
      return { kind: 'map', entries, loc };
    }
    if (isSeq(node)) {
      return { kind: 'list', items: node.items.map((it) => walk(it, d, start)), loc };
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        return { kind: 'scalar', value: v, loc };
      }
      // Dates, binary and other tagged scalars: keep the source text, never a JS object.
      return { kind: 'scalar', value: String(node.source ?? v), loc };
    }
    return { kind: 'scalar', value: null, loc };
  };
  try {
    const root = doc.contents == null ? undefined : walk(doc.contents, doc, 0);
    return { root, diagnostics };
  } catch (e) {
    if (e instanceof AliasBomb) {
      diagnostics.push({ code: 'YAML_ALIAS_LIMIT', severity: 'error', message: `more than ${MAX_ALIAS_EXPANSIONS} alias expansions`, loc: e.loc });
      return { diagnostics };
    }
    throw e;
  }
}

class AliasBomb extends Error {
  constructor(readonly loc: SourceLoc) {
    super('alias bomb');
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Plain JavaScript value of a node, for templates. */
export function toPlain(node: PNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'list':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) out[k] = toPlain(e.node);
      return out;
    }
  }
}

export function describeKind(node: PNode): string {
  if (node.kind === 'scalar') return node.value === null ? 'null' : typeof node.value;
  return node.kind;
}
