// Parse a YAML file into a small tree that keeps a source position on every node.
// The merge, the schema checks and `explain` all need to say "file:line:col set this",
// so positions are kept from the start rather than recovered later.

import { parseDocument, isAlias, isMap, isScalar, isSeq, type Node as YamlNode, type Document } from 'yaml';
import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';
import { parseYamlFast } from './yaml-fast.js';
import { PEntry, PList, PMap, PScalar, SourceText, type ParsedYaml, type PNode } from './yaml-nodes.js';

// The nodes are defined in yaml-nodes.ts; importers may keep reading them from here.
export * from './yaml-nodes.js';

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
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const diagnostics: Diagnostic[] = [];
  // Nodes and diagnostics share one way of turning offsets into line:col.
  const src = new SourceText(file, text);
  const locAt = (offset: number): SourceLoc => src.locAt(offset);
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
        const child: PNode = valueNode == null ? new PScalar(null, src, keyStart) : walk(valueNode, d, keyStart);
        entries.set(String(key), new PEntry(child, src, keyStart));
      }
      return new PMap(entries, src, start);
    }
    if (isSeq(node)) {
      return new PList(node.items.map((it) => walk(it, d, start)), src, start);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return new PScalar(v, src, start);
      // Dates, binary and other tagged scalars: keep the source text, never a JS object.
      return new PScalar(String(node.source ?? v), src, start);
    }
    return new PScalar(null, src, start);
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
