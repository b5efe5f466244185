// Parse a YAML file into a small tree that keeps a source position on every node.
// The merge, the schema checks and `explain` all need to say "file:line:col set this",
// so positions are kept from the start rather than recovered later.

import { parseDocument, isAlias, isMap, isScalar, isSeq, type Node as YamlNode, type Document } from 'yaml';
import type { Diagnostic, SourceLoc } from './diagnostics.js';
import { parseYamlFast } from './yaml-fast.js';

export type Scalar = string | number | boolean | null;

/**
 * Where a node's offsets point. Positions are worked out when asked for (a diagnostic, an
 * explain), not stored per node: at 100,000 devices a {file, line, col} object on every
 * node and key was a third of the parsed trees' memory.
 */
export interface LocSource {
  locAt(offset: number): SourceLoc;
}

/** A parsed file's text. Small files are scanned on demand; big ones get a line table once. */
export class SourceText implements LocSource {
  private starts?: number[];
  constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  locAt(offset: number): SourceLoc {
    if (this.text.length <= 4096) {
      let line = 1;
      let lineStart = 0;
      for (let i = this.text.indexOf('\n'); i !== -1 && i < offset; i = this.text.indexOf('\n', i + 1)) {
        line++;
        lineStart = i + 1;
      }
      return { file: this.file, line, col: offset - lineStart + 1 };
    }
    const starts = (this.starts ??= lineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - starts[lo]! + 1 };
  }
}

function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** A position that is not in a parsed text (an empty profile, a node made up in code). */
export function fixedLoc(loc: SourceLoc): LocSource {
  return { locAt: () => loc };
}

abstract class Located {
  constructor(
    readonly src: LocSource,
    readonly off: number,
  ) {}

  get loc(): SourceLoc {
    return this.src.locAt(this.off);
  }
}

export class PMap extends Located {
  readonly kind = 'map';
  constructor(
    readonly entries: Map<string, PEntry>,
    src: LocSource,
    off: number,
  ) {
    super(src, off);
  }
}

export class PList extends Located {
  readonly kind = 'list';
  constructor(
    readonly items: PNode[],
    src: LocSource,
    off: number,
  ) {
    super(src, off);
  }
}

export class PScalar extends Located {
  readonly kind = 'scalar';
  /** Set when the value was resolved from a ${env:…}/${file:…} reference. */
  readonly fromRef?: true;
  constructor(
    readonly value: Scalar,
    src: LocSource,
    off: number,
    fromRef?: boolean,
  ) {
    super(src, off);
    if (fromRef) this.fromRef = true;
  }
}

export type PNode = PMap | PList | PScalar;

/** A map entry keeps where its key was written: that is the line an admin edits. */
export class PEntry {
  constructor(
    readonly node: PNode,
    readonly src: LocSource,
    readonly keyOff: number,
  ) {}

  get keyLoc(): SourceLoc {
    return this.src.locAt(this.keyOff);
  }
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

/** `out[k] = v`, except that a `__proto__` key becomes an own property, never a new prototype. */
export function setKey(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
  else out[k] = v;
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
      for (const [k, e] of node.entries) setKey(out, k, toPlain(e.node));
      return out;
    }
  }
}

export function describeKind(node: PNode): string {
  if (node.kind === 'scalar') return node.value === null ? 'null' : typeof node.value;
  return node.kind;
}
