// Runs device templates 1.9–2.4x faster than the Handlebars runtime (bench TW, 10,000 devices).
// Rendering every file is 1.46–1.8x faster with it. Handlebars' own parser (with its
// whitespace control) builds the AST; this module turns the AST into plain closures that call
// the very same helper functions (ours and Handlebars' built-in if/unless/each/with/lookup),
// with the runtime's rules for lookups, depths (`../`), data frames (`@index`, `@root`) and output.
//
// Why faster: the runtime builds a fresh helper table (every helper wrapped in a new closure)
// on each call and copies each helper's options object before calling it; a device file calls
// 30–60 helpers. The closures do the same work without that bookkeeping.
//
// Anything outside the common subset (block params, decorators, partial blocks, dynamic or
// parameterised partials, `@../`, helpers that do not exist, and the one spot where the
// runtime adds values numerically) makes `compileFast` return undefined, and the caller keeps
// Handlebars' own compiled function. test/template-compile.test.ts holds the two to the same
// output, byte for byte, over the shipped templates and a corpus of edge cases.

import Handlebars from 'handlebars';
import { nodePos, tagTemplateError } from './template-errors.js';

/** A compiled template: the render context in, the file's text out. */
export type TemplateFn = (ctx: unknown) => string;

type HB = typeof Handlebars;
type Data = Record<string, unknown>;
type Depths = unknown[] | undefined;
/** One compiled statement or expression, evaluated against a context, its depths and data frame. */
type Eval = (ctx: unknown, depths: Depths, data: Data) => unknown;
/** What a helper receives as options.fn / options.inverse, as in the Handlebars runtime. */
type Program = (context?: unknown, opts?: { data?: Data }) => unknown;
type HelperFn = (this: unknown, ...args: unknown[]) => unknown;

/** The AST as Handlebars' parser hands it out; only the fields read here. */
interface Node {
  type: string;
  [k: string]: unknown;
}
interface PathNode extends Node {
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface CallNode extends Node {
  path: Node;
  params: Node[];
  hash?: { pairs: Array<{ key: string; value: Node }> };
}
interface ProgramNode extends Node {
  body: Node[];
  blockParams?: string[];
}

/** Thrown inside the compiler when a construct is outside the subset; caught by compileFast. */
class Unsupported extends Error {}

/** Thrown while rendering when only the runtime knows the answer; that render is redone by it. */
const AMBIGUOUS_CONCAT = Symbol('ambiguous concatenation');

const hasOwn = Object.prototype.hasOwnProperty;

/** The runtime's `lookupProperty`: own properties only, and never a prototype's constructor. */
function lookupProperty(parent: unknown, name: unknown): unknown {
  const result = (parent as Record<string, unknown>)[name as string];
  if (result == null) return result;
  if (hasOwn.call(parent, name as string) && !(name === 'constructor' && typeof result === 'function' && parent === (result as { prototype?: unknown }).prototype)) return result;
  return undefined;
}

/** The runtime's `this` for helpers called on a null or undefined context. */
const NULL_CONTEXT = Object.seal({});
const noop: Program = () => '';
/** The hash of a call without one. Shared and frozen: helpers read options.hash, none writes it. */
const EMPTY_HASH: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

const partialSources = new WeakMap<HB, Map<string, string>>();

// The runtime's own rules for "empty" and for a block's data frame, so inlined blocks cannot
// drift from the helpers they stand in for.
const { isEmpty } = Handlebars.Utils;
const createFrame = Handlebars.createFrame as (data: Data) => Data;

/**
 * Handlebars' own block helpers, as a fresh environment has them. `if`, `unless`, `with` and
 * `each` run for nearly every block of a device file; when an environment still has these very
 * functions (the same source text: each environment gets its own closures), their blocks are
 * run inline below, by the helpers' own rules, without an options object or program closures.
 */
const PRISTINE = Handlebars.create().helpers as unknown as Record<string, HelperFn>;
type Builtin = 'if' | 'unless' | 'with' | 'each';

function builtinBlock(helpers: Record<string, HelperFn>, name: string, fn: HelperFn): Builtin | undefined {
  if (name !== 'if' && name !== 'unless' && name !== 'with' && name !== 'each') return undefined;
  const same = (n: string) => hasOwn.call(helpers, n) && String(helpers[n]) === String(PRISTINE[n]);
  if (fn !== helpers[name] || !same(name)) return undefined;
  // `unless` calls the environment's `if` when it runs.
  if (name === 'unless' && !same('if')) return undefined;
  return name;
}

/** What `options.fn(context)` does for a block body (wrapProgram without the closure). */
function enter(body: Eval, context: unknown, depths: Depths, data: Data): unknown {
  let d = depths;
  if (d && context != d[0] && !(context === NULL_CONTEXT && d[0] === null)) d = [context, ...d];
  return body(context, d, data);
}

/** Register a partial with `env`, remembering its text for compileFast. */
export function registerPartialSource(env: HB, name: string, text: string): void {
  let m = partialSources.get(env);
  if (!m) partialSources.set(env, (m = new Map()));
  m.set(name, text);
  env.registerPartial(name, text);
}

/**
 * Compile `text` for `env` (its helpers and string partials), with the options templates are
 * compiled with. `reference` is Handlebars' own function for the same text and options: it
 * renders the rare input whose output only the runtime can decide. Returns undefined when the
 * template needs the Handlebars runtime throughout.
 */
export function compileFast(env: HB, text: string, options: Record<string, unknown>, reference: TemplateFn): TemplateFn | undefined {
  const r = tryCompileFast(env, text, options, reference);
  return 'fn' in r ? r.fn : undefined;
}

/** compileFast, saying why a template stays with the Handlebars runtime (for tests and tools). */
export function tryCompileFast(env: HB, text: string, options: Record<string, unknown>, reference: TemplateFn): { fn: TemplateFn } | { unsupported: string } {
  if (options.noEscape !== true || options.strict || options.compat || options.knownHelpersOnly || options.data === false) return { unsupported: 'compile options' };
  let main: (ctx: unknown, data: Data) => string;
  try {
    main = compileTemplateBody(env, text, options, []);
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.message };
    throw e;
  }
  return {
    fn: (ctx: unknown) => {
      try {
        return main(ctx, { root: ctx });
      } catch (e) {
        if (e === AMBIGUOUS_CONCAT) return reference(ctx);
        throw e;
      }
    },
  };
}

/** A template or partial: its body, run the way the runtime's `ret` runs it. */
function compileTemplateBody(env: HB, text: string, options: Record<string, unknown>, partialStack: string[]): (ctx: unknown, data: Data) => string {
  const ast = env.parse(text, options) as unknown as ProgramNode;
  const c = new Compiler(env, options, partialStack);
  const { ev: body, scope } = c.program(ast);
  return (ctx, data) => '' + (body(ctx, scope.useDepths ? [ctx] : undefined, data) as string);
}

/**
 * Per program (a template's main body or a block's body): does it, or any block inside it,
 * climb with `../`? Only then does the runtime keep a depth stack in it and hand that stack to
 * its blocks; a block body handed none compares no contexts when it runs.
 */
interface Scope {
  useDepths: boolean;
}

class Compiler {
  private readonly helpers: Record<string, HelperFn>;
  /** The program being compiled, innermost last. */
  private readonly scopes: Scope[] = [];

  constructor(
    private readonly env: HB,
    private readonly options: Record<string, unknown>,
    private readonly partialStack: string[],
  ) {
    this.helpers = env.helpers as unknown as Record<string, HelperFn>;
  }

  private helper(name: string): HelperFn | undefined {
    // The runtime moves these two out of the helper table on every render: calls to them by
    // name fail there, so they are not imitated here.
    if (name === 'helperMissing' || name === 'blockHelperMissing') throw new Unsupported(name);
    return hasOwn.call(this.helpers, name) ? this.helpers[name] : undefined;
  }

  private get scope(): Scope {
    return this.scopes[this.scopes.length - 1]!;
  }

  /** A statement list, and whether it keeps a depth stack. */
  program(node: ProgramNode | undefined): { ev: Eval; scope: Scope } {
    const scope: Scope = { useDepths: false };
    if (!node) return { ev: () => '', scope };
    if (node.blockParams?.length) throw new Unsupported('block params');
    const pieces: Array<{ ev: Eval; content: boolean }> = [];
    this.scopes.push(scope);
    try {
      for (const st of node.body) {
        const p = this.statement(st);
        if (p) pieces.push(...p);
      }
    } finally {
      this.scopes.pop();
    }
    // A body that climbs makes every program around it keep depths.
    if (scope.useDepths && this.scopes.length) this.scope.useDepths = true;
    return { ev: joinPieces(pieces), scope };
  }

  private statement(st: Node): Array<{ ev: Eval; content: boolean }> | undefined {
    switch (st.type) {
      case 'ContentStatement': {
        const value = st.value as string;
        // The runtime skips content that whitespace control emptied.
        return value ? [{ ev: () => value, content: true }] : undefined;
      }
      case 'CommentStatement':
        return undefined;
      case 'MustacheStatement': {
        const ev = this.callOrValue(st as CallNode, false);
        return [{ ev: located(st, (ctx, depths, data) => emptyIfNull(ev(ctx, depths, data))), content: false }];
      }
      case 'BlockStatement':
        return [{ ev: located(st, this.block(st as CallNode)), content: false }];
      case 'PartialStatement':
        return this.partial(st);
      default:
        // DecoratorBlock, Decorator, PartialBlockStatement.
        throw new Unsupported(st.type);
    }
  }

  /**
   * `{{name params hash}}`, `(name params hash)` or `{{name}}`, classified as the Handlebars
   * compiler does: a call (arguments, or any subexpression) must name a helper; a bare simple
   * name is "ambiguous" (a helper if one exists, else a value); any other path is a value, and
   * a function found there is called.
   */
  private callOrValue(node: CallNode, subexpression: boolean): Eval {
    const p = this.head(node);
    const simple = isSimple(p);
    if (subexpression || node.params.length > 0 || node.hash !== undefined) {
      // An unknown helper is the runtime's "Missing helper" error (or a call of a value).
      const fn = simple ? this.helper(p.parts[0]!) : undefined;
      if (!fn) throw new Unsupported(`no helper ${p.original}`);
      return this.helperCall(fn, p.parts[0]!, node, undefined, undefined);
    }
    const value = this.path(p);
    if (simple) {
      const name = p.parts[0]!;
      const fn = this.helper(name);
      if (fn) return this.helperCall(fn, name, node, undefined, undefined);
      // Not a helper (helpers are fixed per environment), so a value; a missing one is empty.
      const loc = locOf(node);
      return (ctx, depths, data) => {
        const v = value(ctx, depths, data);
        return typeof v === 'function' ? (v as HelperFn).call(thisOf(ctx), helperOptions(name, EMPTY_HASH, data, undefined, undefined, loc, false)) : v;
      };
    }
    return (ctx, depths, data) => {
      const v = value(ctx, depths, data);
      return typeof v === 'function' ? (v as HelperFn).call(ctx) : v;
    };
  }

  private head(node: CallNode): PathNode {
    // A literal head ({{"name"}}, {{true}}) is looked up as a name by the runtime: rare, left to it.
    if (node.path.type !== 'PathExpression') throw new Unsupported('literal in head position');
    return node.path as PathNode;
  }

  private helperCall(fn: HelperFn, name: string, node: CallNode, program: ProgramNode | undefined, inverse: ProgramNode | undefined): Eval {
    const params = node.params.map((n) => this.param(n));
    // The runtime evaluates hash values last to first and builds the hash in that order.
    const pairs = [...(node.hash?.pairs ?? [])].reverse().map((pair) => ({ key: pair.key, ev: this.param(pair.value) }));
    const isBlock = program !== undefined || inverse !== undefined;
    const fnBody = program ? this.program(program).ev : undefined;
    const invBody = inverse ? this.program(inverse).ev : undefined;
    // Read when the call runs: the enclosing program's scope is complete by then.
    const enclosing = this.scope;
    const loc = locOf(node);
    const builtin = isBlock && params.length === 1 && pairs.length === 0 ? builtinBlock(this.helpers, name, fn) : undefined;
    const options = (ctx: unknown, depths: Depths, data: Data): Record<string, unknown> => {
      let hash = EMPTY_HASH;
      if (pairs.length) {
        hash = {};
        for (const pair of pairs) hash[pair.key] = pair.ev(ctx, depths, data);
      }
      let fnProg: Program | undefined;
      let invProg: Program | undefined;
      if (isBlock) {
        const passed = enclosing.useDepths ? depths : undefined;
        fnProg = fnBody ? wrapProgram(fnBody, passed, data) : noop;
        invProg = invBody ? wrapProgram(invBody, passed, data) : noop;
      }
      return helperOptions(name, hash, data, fnProg, invProg, loc, true);
    };
    // Parameters are evaluated first, then the hash (inside `options`), as in the runtime.
    // Calls with up to three parameters (nearly all of them) skip the argument array.
    const [p0, p1, p2] = params;
    if (builtin) return inlineBuiltin(builtin, p0!, fnBody, invBody, enclosing, (v, ctx, depths, data) => fn.call(thisOf(ctx), v, options(ctx, depths, data)));
    switch (params.length) {
      case 0:
        return (ctx, depths, data) => fn.call(thisOf(ctx), options(ctx, depths, data));
      case 1:
        return (ctx, depths, data) => {
          const a0 = p0!(ctx, depths, data);
          return fn.call(thisOf(ctx), a0, options(ctx, depths, data));
        };
      case 2:
        return (ctx, depths, data) => {
          const a0 = p0!(ctx, depths, data);
          const a1 = p1!(ctx, depths, data);
          return fn.call(thisOf(ctx), a0, a1, options(ctx, depths, data));
        };
      case 3:
        return (ctx, depths, data) => {
          const a0 = p0!(ctx, depths, data);
          const a1 = p1!(ctx, depths, data);
          const a2 = p2!(ctx, depths, data);
          return fn.call(thisOf(ctx), a0, a1, a2, options(ctx, depths, data));
        };
      default:
        return (ctx, depths, data) => {
          const args: unknown[] = new Array(params.length + 1);
          for (let i = 0; i < params.length; i++) args[i] = params[i]!(ctx, depths, data);
          args[params.length] = options(ctx, depths, data);
          return fn.apply(thisOf(ctx), args);
        };
    }
  }

  private block(node: CallNode): Eval {
    const p = this.head(node);
    // {{#name}} without arguments is a section over a value (blockHelperMissing) or an
    // ambiguous helper with the runtime's buffer quirks: left to Handlebars.
    if (node.params.length === 0 && node.hash === undefined) throw new Unsupported('block without arguments');
    const fn = isSimple(p) ? this.helper(p.parts[0]!) : undefined;
    if (!fn) throw new Unsupported(`block ${p.original} is not a helper`);
    const call = this.helperCall(fn, p.parts[0]!, node, (node.program as ProgramNode | null) ?? undefined, (node.inverse as ProgramNode | null) ?? undefined);
    return (ctx, depths, data) => emptyIfNull(call(ctx, depths, data));
  }

  /** `{{> name}}`: the partial runs on the current context and data, with a fresh depth stack. */
  private partial(st: Node): Array<{ ev: Eval; content: boolean }> {
    const nameNode = st.name as Node;
    if ((st.params as Node[]).length || st.hash) throw new Unsupported('partial with a context or hash');
    if (nameNode.type !== 'PathExpression' && nameNode.type !== 'StringLiteral' && nameNode.type !== 'NumberLiteral') throw new Unsupported('dynamic partial');
    const name = String(nameNode.original);
    const partials = this.env.partials as Record<string, unknown>;
    // The runtime swaps a registered string for its compiled function on first use; the text
    // recorded at registration keeps later compiles independent of what has rendered since.
    const registered = hasOwn.call(partials, name) ? partials[name] : undefined;
    const source = typeof registered === 'string' ? registered : partialSources.get(this.env)?.get(name);
    if (typeof source !== 'string' || this.partialStack.includes(name)) throw new Unsupported(`partial ${name}`);
    const body = compileTemplateBody(this.env, source, this.options, [...this.partialStack, name]);
    const pieces: Array<{ ev: Eval; content: boolean }> = [];
    // With preventIndent the runtime writes a standalone partial's indent once, as content.
    const indent = (st.indent as string | undefined) ?? '';
    if (indent && this.options.preventIndent) pieces.push({ ev: () => indent, content: true });
    else if (indent) throw new Unsupported('indented partial');
    pieces.push({ ev: (ctx, _depths, data) => body(ctx, data), content: false });
    return pieces;
  }

  /** A parameter or hash value: literals, paths (no lambda call), subexpressions. */
  private param(n: Node): Eval {
    switch (n.type) {
      case 'StringLiteral':
      case 'NumberLiteral':
      case 'BooleanLiteral': {
        const v = n.value;
        return () => v;
      }
      case 'UndefinedLiteral':
        return () => undefined;
      case 'NullLiteral':
        return () => null;
      case 'PathExpression':
        return this.path(n as PathNode);
      case 'SubExpression':
        return this.callOrValue(n as CallNode, true);
      default:
        throw new Unsupported(n.type);
    }
  }

  /** A path's value: `@data` paths chain with `&&`, context paths with `!= null`, as the runtime does. */
  private path(p: PathNode): Eval {
    const parts = p.parts;
    if (p.data) {
      if (p.depth) throw new Unsupported('@../');
      return (_ctx, _depths, data) => {
        let v: unknown = data;
        for (let i = 0; i < parts.length; i++) v = v && lookupProperty(v, parts[i]);
        return v;
      };
    }
    const depth = p.depth;
    if (depth) this.scope.useDepths = true;
    const walk = (start: unknown): unknown => {
      let v = start;
      for (let i = 0; i < parts.length; i++) v = v != null ? lookupProperty(v, parts[i]) : v;
      return v;
    };
    if (depth === 0) {
      if (parts.length === 1) {
        const name = parts[0]!;
        return (ctx) => (ctx != null ? lookupProperty(ctx, name) : ctx);
      }
      return (ctx) => walk(ctx);
    }
    return (_ctx, depths) => walk(depths![depth]);
  }
}

/**
 * A statement that, when it throws, tags the error with its place in the template, so a
 * render error names the template's line and column. The innermost statement tags first.
 */
function located(node: Node, ev: Eval): Eval {
  const pos = nodePos(node as Parameters<typeof nodePos>[0]);
  return (ctx, depths, data) => {
    try {
      return ev(ctx, depths, data);
    } catch (e) {
      throw tagTemplateError(e, pos);
    }
  };
}

/**
 * `{{#if x}}`, `{{#unless x}}`, `{{#with x}}` and `{{#each list}}` (one parameter, no hash), run
 * as Handlebars' built-in helpers run them. `each` over anything but an array calls the helper
 * itself (`call`) with the parameter already evaluated.
 */
function inlineBuiltin(kind: Builtin, param: Eval, fnBody: Eval | undefined, invBody: Eval | undefined, enclosing: Scope, call: (v: unknown, ctx: unknown, depths: Depths, data: Data) => unknown): Eval {
  // A block without a body or an inverse runs the runtime's noop program: ''.
  const run = (body: Eval | undefined, context: unknown, depths: Depths, data: Data): unknown => (body ? enter(body, context, enclosing.useDepths ? depths : undefined, data) : '');
  switch (kind) {
    case 'if':
    case 'unless': {
      const [yes, no] = kind === 'if' ? [fnBody, invBody] : [invBody, fnBody];
      return (ctx, depths, data) => {
        let v = param(ctx, depths, data);
        const self = thisOf(ctx);
        if (typeof v === 'function') v = (v as HelperFn).call(self);
        return run(!v || isEmpty(v) ? no : yes, self, depths, data);
      };
    }
    case 'with':
      return (ctx, depths, data) => {
        let v = param(ctx, depths, data);
        const self = thisOf(ctx);
        if (typeof v === 'function') v = (v as HelperFn).call(self);
        return isEmpty(v) ? run(invBody, self, depths, data) : run(fnBody, v, depths, data);
      };
    case 'each':
      return (ctx, depths, data) => {
        const list = param(ctx, depths, data);
        if (!Array.isArray(list)) return call(list, ctx, depths, data);
        const frame = createFrame(data);
        let ret: unknown = '';
        let i = 0;
        for (const n = list.length; i < n; i++) {
          if (!(i in list)) continue;
          frame.key = i;
          frame.index = i;
          frame.first = i === 0;
          frame.last = i === list.length - 1;
          ret = (ret as string) + (run(fnBody, list[i], depths, frame) as string);
        }
        if (i === 0) ret = run(invBody, thisOf(ctx), depths, data);
        return ret;
      };
  }
}

/**
 * The compiler's simpleId: one part, no `../`, not scoped. `this.x` and `./x` mean "from the
 * context, never a helper" (the same regex as Handlebars' scopedId). Data paths count: the
 * runtime resolves {{@first}} to a helper named `first` when there is one.
 */
function isSimple(p: PathNode): boolean {
  return p.parts.length === 1 && !p.depth && !/^\.|this\b/.test(p.original);
}

function emptyIfNull(v: unknown): unknown {
  return v != null ? v : '';
}

function thisOf(ctx: unknown): unknown {
  return ctx != null ? ctx : NULL_CONTEXT;
}

/** The options object the runtime builds for a call: helpers also get `lookupProperty`. */
function helperOptions(name: string, hash: Record<string, unknown>, data: Data, fn: Program | undefined, inverse: Program | undefined, loc: unknown, isHelper: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { name, hash };
  if (fn) {
    o.fn = fn;
    o.inverse = inverse;
  }
  o.data = data;
  o.loc = loc;
  if (isHelper) o.lookupProperty = lookupProperty;
  return o;
}

/** The call's source position as the runtime passes it ({start, end}), or undefined. */
function locOf(node: Node): unknown {
  const loc = node.loc as { start?: unknown; end?: unknown } | undefined;
  return loc ? { start: loc.start, end: loc.end } : undefined;
}

/** The runtime's wrapProgram: a new context pushes a depth; options.data replaces the frame. */
function wrapProgram(body: Eval, depths: Depths, data: Data): Program {
  return (context?: unknown, opts?: { data?: Data }) => enter(body, context, depths, opts?.data || data);
}

/** A program's output from its pieces. One piece returns its raw value, as the runtime's single-statement programs do. */
function joinPieces(pieces: Array<{ ev: Eval; content: boolean }>): Eval {
  if (pieces.length === 0) return () => '';
  if (pieces.length === 1) return pieces[0]!.ev;
  const evs = pieces.map((p) => p.ev);
  return (ctx, depths, data) => {
    const first = evs[0]!(ctx, depths, data);
    const second = evs[1]!(ctx, depths, data);
    // The runtime joins a program's pieces with `+`, sometimes after a leading "" and
    // sometimes not: two leading non-strings ({{a}}{{b}} with numbers) may be added as
    // numbers. Once either is a string, both ways give the same string.
    if (typeof first !== 'string' && typeof second !== 'string') throw AMBIGUOUS_CONCAT;
    let out = '' + (first as string) + (second as string);
    for (let i = 2; i < evs.length; i++) out += evs[i]!(ctx, depths, data);
    return out;
  };
}
