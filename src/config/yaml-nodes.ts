// The position-keeping tree that both YAML parsers build (yaml-tree.ts with `yaml`, yaml-fast.ts
// with js-yaml): nodes, the source text they point into, and plain-value helpers.

import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';

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
