// What a template can read, and the names it reads that nothing supplies. A walk over the
// Handlebars AST, following the context the way the runtime does (`#each` and `#with` enter
// a new context, `../` climbs out of it, `@root` is the top), compared with a tree of the
// names that exist: the template context's fields, the settings vocabulary and every key any
// profile sets. Also finds calls of helpers that do not exist. Pure: AST and trees in.

import type { Shape } from '../config/shape.js';
import { suggest } from '../check/suggest.js';
import { nodePos, type TemplatePos } from './template-errors.js';
import type { PNode } from '../config/yaml-tree.js';

/** The names under a value: map keys, a list's element, or `open` (anything may be there). */
export interface Names {
  keys: Map<string, Names>;
  element?: Names;
  open?: boolean;
}

const OPEN: Names = { keys: new Map(), open: true };

export function unionNames(a: Names, b: Names): Names {
  const keys = new Map(a.keys);
  for (const [k, v] of b.keys) keys.set(k, keys.has(k) ? unionNames(keys.get(k)!, v) : v);
  const element = a.element && b.element ? unionNames(a.element, b.element) : (a.element ?? b.element);
  return { keys, element, open: a.open || b.open };
}

/** Names of a plain value (a sample template context). */
export function namesOfValue(v: unknown): Names {
  if (v === null || v === undefined) return OPEN;
  if (Array.isArray(v)) return { keys: new Map(), element: v.map(namesOfValue).reduce(unionNames, { keys: new Map() }) };
  if (typeof v === 'object') return { keys: new Map(Object.entries(v).map(([k, x]) => [k, namesOfValue(x)])) };
  return { keys: new Map() };
}

/**
 * Add the names of a parsed profile subtree (every key written, at any depth) to `into`, in
 * place: a 100,000-device root adds one tree per profile, and copying would be quadratic.
 */
export function addTreeNames(into: Names, n: PNode): void {
  if (n.kind === 'list') {
    into.element ??= { keys: new Map() };
    for (const item of n.items) addTreeNames(into.element, item);
  } else if (n.kind === 'map') {
    for (const [k, e] of n.entries) {
      let child = into.keys.get(k);
      if (!child) into.keys.set(k, (child = { keys: new Map() }));
      addTreeNames(child, e.node);
    }
  } else if (n.value === null) into.open = true;
}

/**
 * Names a vocabulary shape declares. Open maps (vendor parameters) and free-form values
 * declare none of their own: only what profiles write there exists.
 */
export function namesOfShape(s: Shape): Names {
  switch (s.type) {
    case 'map':
      return { keys: new Map(Object.entries(s.fields).map(([k, f]) => [k, namesOfShape(f)])) };
    case 'list':
      return { keys: new Map(), element: namesOfShape(s.of) };
    case 'check':
      return namesOfShape(s.base);
    default:
      return { keys: new Map() };
  }
}

export interface TemplateFinding {
  kind: 'missing-helper' | 'unknown-name';
  pos: TemplatePos;
  message: string;
  /** The partial the finding is in (its position is in the partial's text), if not the template itself. */
  partial?: string;
}

interface AstNode {
  type: string;
  loc?: { start: { line: number; column: number } } | null;
  [k: string]: unknown;
}
interface PathNode extends AstNode {
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface CallNode extends AstNode {
  path: AstNode;
  params: AstNode[];
  hash?: { pairs: Array<{ value: AstNode }> };
  program?: { body: AstNode[] } | null;
  inverse?: { body: AstNode[] } | null;
}

export interface LintTemplateInput {
  /** Handlebars' parsed template (`env.parse(text)`). */
  ast: hbs.AST.Program;
  helpers: ReadonlySet<string>;
  /** What the template context holds; without it only helpers are checked. */
  root?: Names;
  /** A partial's parsed body, walked where it is included. */
  partial?: (name: string) => hbs.AST.Program | undefined;
}

/**
 * Block helpers whose body runs on the same context (`{{#params}}` collects parameters over
 * `this`). Any other block helper's body is taken to run on a context we cannot know.
 */
const SAME_CONTEXT_BLOCKS = new Set(['if', 'unless', 'params']);

/** Helpers that do not exist (errors), and, given `root`, names nothing supplies (warnings). */
export function lintTemplate(input: LintTemplateInput): TemplateFinding[] {
  const found: TemplateFinding[] = [];
  const root = input.root;
  const seenPartials = new Set<string>();
  let inPartial: string | undefined;
  const out = { push: (f: TemplateFinding) => found.push(inPartial ? { ...f, partial: inPartial } : f) };
  const isHelper = (p: AstNode): p is PathNode => p.type === 'PathExpression' && isSimple(p as PathNode) && input.helpers.has((p as PathNode).parts[0]!);

  /** The names at a path, or undefined when it cannot be known; reports the first unknown part. */
  const resolve = (p: PathNode, stack: Array<Names | undefined>): Names | undefined => {
    if (!root) return undefined;
    let at: Names | undefined;
    let parts = p.parts;
    if (p.data) {
      if (parts[0] !== 'root') return undefined; // @index, @key, @first, @last
      at = root;
      parts = parts.slice(1);
    } else {
      at = stack[stack.length - 1 - p.depth];
    }
    for (let i = 0; i < parts.length; i++) {
      if (!at || at.open) return undefined;
      const part = parts[i]!;
      if (at.element && (/^\d+$/.test(part) || part === 'length')) {
        at = part === 'length' ? undefined : at.element;
        continue;
      }
      const next = at.keys.get(part);
      if (!next) {
        const shown = parts.slice(0, i + 1).join('.');
        const known = [...at.keys.keys()].map((k) => [...parts.slice(0, i), k].join('.'));
        const hint = suggest(shown, known);
        out.push({
          kind: 'unknown-name',
          pos: nodePos(p) ?? { line: 1, col: 1 },
          message: `the template reads "${p.original}", but no profile, vocabulary key or template field supplies ${shown === p.original.replace(/^(\.\.\/)+|^@/, '') ? 'it' : `"${shown}"`}; it renders empty${hint.length ? ` (did you mean ${hint.map((h) => `"${h}"`).join(', ')}?)` : ''}`,
        });
        return undefined;
      }
      at = next;
    }
    return at;
  };

  const expr = (n: AstNode, stack: Array<Names | undefined>): Names | undefined => {
    if (n.type === 'PathExpression') return resolve(n as PathNode, stack);
    if (n.type === 'SubExpression') {
      call(n as CallNode, stack, true);
      return undefined; // a helper's result: its shape is not known
    }
    return undefined;
  };

  const missingHelper = (p: PathNode) => {
    const hint = suggest(p.original, input.helpers);
    out.push({ kind: 'missing-helper', pos: nodePos(p) ?? { line: 1, col: 1 }, message: `Missing helper: "${p.original}"${hint.length ? ` (did you mean ${hint.map((h) => `"${h}"`).join(', ')}?)` : ''}` });
  };

  const args = (n: CallNode, stack: Array<Names | undefined>) => {
    for (const a of n.params) expr(a, stack);
    for (const pair of n.hash?.pairs ?? []) expr(pair.value, stack);
  };

  /** `{{name args}}` or `(name args)`: a call must name a helper; a bare name may be a value. */
  const call = (n: CallNode, stack: Array<Names | undefined>, sub: boolean) => {
    const head = n.path;
    const hasArgs = sub || n.params.length > 0 || n.hash !== undefined;
    if (head.type === 'PathExpression') {
      const p = head as PathNode;
      if (isHelper(p)) {
        /* a helper */
      } else if (hasArgs) {
        if (isSimple(p)) missingHelper(p);
        else resolve(p, stack); // a function stored at a path, called with arguments
      } else resolve(p, stack);
    }
    args(n, stack);
  };

  const block = (n: CallNode, stack: Array<Names | undefined>) => {
    const head = n.path as PathNode;
    const name = head.type === 'PathExpression' && isSimple(head) ? head.parts[0]! : undefined;
    let inner: Names | undefined;
    let enters = true;
    if (name && input.helpers.has(name)) {
      args(n, stack);
      const first = n.params[0];
      if (SAME_CONTEXT_BLOCKS.has(name)) enters = false;
      else if (name === 'with' && first) inner = expr(first, stack);
      else if (name === 'each' && first) {
        const list = expr(first, stack);
        // A list's element; a map's values (any of them).
        inner = list?.element ?? (list && !list.open ? [...list.keys.values()].reduce(unionNames, { keys: new Map() }) : undefined);
        if (list && !list.element && list.keys.size === 0) inner = undefined;
      }
    } else if (n.params.length || n.hash) {
      if (head.type === 'PathExpression' && isSimple(head)) missingHelper(head);
      args(n, stack);
    } else if (head.type === 'PathExpression') {
      // {{#value}}…{{/value}}: a section over a value; its body sees the value (or its items).
      const v = resolve(head, stack);
      inner = v?.element ?? v;
    }
    const bodyStack = enters ? [...stack, inner] : stack;
    if (n.program) program(n.program.body, bodyStack);
    if (n.inverse) program(n.inverse.body, stack);
  };

  const program = (body: AstNode[], stack: Array<Names | undefined>) => {
    for (const st of body) {
      switch (st.type) {
        case 'MustacheStatement':
          call(st as CallNode, stack, false);
          break;
        case 'BlockStatement':
          block(st as CallNode, stack);
          break;
        case 'PartialStatement': {
          const nameNode = st.name as AstNode;
          const name = nameNode.type === 'PathExpression' ? (nameNode as PathNode).original : String(nameNode.value ?? '');
          // A partial with its own context argument, or seen already on this path: not followed.
          if ((st.params as AstNode[]).length || seenPartials.has(name)) break;
          const partial = input.partial?.(name);
          if (!partial) break;
          seenPartials.add(name);
          const outer = inPartial;
          inPartial = name;
          program(partial.body as unknown as AstNode[], stack);
          inPartial = outer;
          seenPartials.delete(name);
          break;
        }
        default:
          break;
      }
    }
  };

  program(input.ast.body as unknown as AstNode[], [root]);
  // A partial included twice reports its findings once.
  const seen = new Set<string>();
  return found.filter((f) => {
    const k = `${f.partial ?? ''}:${f.pos.line}:${f.pos.col}:${f.message}`;
    return !seen.has(k) && !!seen.add(k);
  });
}

function isSimple(p: PathNode): boolean {
  return !p.data && p.depth === 0 && p.parts.length === 1 && !/^(this|\.)/.test(p.original);
}
