// The closure back end for templates (src/render/template-compile.ts) must render exactly what
// the Handlebars runtime renders for the same text, compile options and helpers: same bytes,
// or the same error (class and message). Every case here compiles the text both ways:
//   reference = env.compile(text, TEMPLATE_OPTIONS)
//   fast      = tryCompileFast(env, text, TEMPLATE_OPTIONS, reference)
// and renders both over a table of contexts. The reference handed to the fast path is wrapped
// in a counter, so a case can also say whether the fast path answered on its own or fell back
// to the runtime (it must only do that for the "two leading non-strings" concatenation).
//
// Sections: content and whitespace, paths and depths, built-in helpers, deskset's helpers,
// adjacent values, partials, constructs that must stay with the runtime, the shipped
// templates over the samples and a generated root, and a seeded random fuzz.

import { promises as fs, readdirSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Handlebars from 'handlebars';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allTargets } from '../src/pipeline/request.js';
import { compileTemplate, createTemplateEnv, renderTarget, TEMPLATE_OPTIONS, type CompiledTemplate, type RenderTarget } from '../src/render/render.js';
import type { TemplateFn } from '../src/render/template-compile.js';
import { compileFast, registerPartialSource, tryCompileFast } from '../src/render/template-compile.js';
import { RenderValueError } from '../src/render/template-helpers.js';
import { loadRoot } from '../src/io/load-root.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';

const REPO = path.resolve(import.meta.dirname, '..');
const OPTS = TEMPLATE_OPTIONS as unknown as Record<string, unknown>;
type HB = typeof Handlebars;
type Ctx = [name: string, value: unknown];

// The runtime logs (console.error) the first denied prototype access of each property name.
// That is the reference's noise, not a result: keep the run silent.
beforeAll(() => {
  const original = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Handlebars: Access has been denied')) return;
    original(...args);
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// Harness

type Outcome = { out: string } | { threw: string; renderValueError: boolean; message: string };

function outcome(fn: TemplateFn, ctx: unknown): Outcome {
  try {
    return { out: fn(ctx) };
  } catch (e) {
    const err = e as Error;
    return { threw: err?.constructor?.name ?? typeof e, renderValueError: e instanceof RenderValueError, message: String(err?.message ?? e) };
  }
}

/** A context as JSON, with what JSON cannot say spelled out, for failure messages. */
function show(v: unknown): string {
  const seen = new WeakSet<object>();
  const out = JSON.stringify(v, function (_k, x: unknown) {
    if (x === undefined) return '<undefined>';
    if (typeof x === 'function') return `<function ${x.name || 'anonymous'}>`;
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' || x === null) return x;
    if (typeof x !== 'object') return String(x);
    if (seen.has(x)) return '<cycle>';
    seen.add(x);
    if (x instanceof Map) return { '<Map>': [...x] };
    if (x instanceof Set) return { '<Set>': [...x] };
    if (Array.isArray(x)) return Array.from({ length: x.length }, (_, i) => (i in x ? x[i] : '<hole>'));
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return { '<own>': { ...x }, '<prototype>': proto };
    return x;
  });
  return out ?? String(v);
}

interface Compiled {
  reference: TemplateFn;
  result: ReturnType<typeof tryCompileFast>;
  /** How many renders of the fast function handed over to the reference. */
  fallbacks: () => number;
}

function compileBoth(text: string, env: HB = ENV): Compiled {
  const reference = env.compile(text, OPTS) as TemplateFn;
  let fallbacks = 0;
  const counted: TemplateFn = (ctx) => {
    fallbacks++;
    return reference(ctx);
  };
  return { reference, result: tryCompileFast(env, text, OPTS, counted), fallbacks: () => fallbacks };
}

interface Run {
  outcomes: Array<{ name: string; outcome: Outcome }>;
  fallbacks: number;
}

/**
 * Render `text` both ways over every context and require the same outcome. By default the fast
 * path must answer every context itself (no fallback); `mayFallBack` allows the runtime to
 * answer some (never all) of them.
 */
function expectSame(text: string, contexts: readonly Ctx[] = STANDARD, opts: { env?: HB; mayFallBack?: boolean } = {}): Run {
  const c = compileBoth(text, opts.env);
  if (!('fn' in c.result)) throw new Error(`${JSON.stringify(text)}: expected the fast path, got unsupported (${c.result.unsupported})`);
  const fast = c.result.fn;
  const outcomes: Run['outcomes'] = [];
  for (const [name, ctx] of contexts) {
    const want = outcome(c.reference, ctx);
    const before = c.fallbacks();
    const got = outcome(fast, ctx);
    expect(got, `template ${JSON.stringify(text)}\ncontext ${name}: ${show(ctx)}`).toEqual(want);
    if (!opts.mayFallBack) expect(c.fallbacks() - before, `template ${JSON.stringify(text)} fell back to the runtime for context ${name}`).toBe(0);
    outcomes.push({ name, outcome: want });
  }
  if (contexts.length > 1) expect(c.fallbacks(), `template ${JSON.stringify(text)}: every context fell back`).toBeLessThan(contexts.length);
  return { outcomes, fallbacks: c.fallbacks() };
}

function outOf(run: Run, name: string): Outcome {
  const o = run.outcomes.find((x) => x.name === name);
  if (!o) throw new Error(`no context ${name}`);
  return o.outcome;
}

function expectUnsupported(text: string, env: HB = ENV): string {
  const c = compileBoth(text, env);
  expect('unsupported' in c.result, `${JSON.stringify(text)} should stay with the runtime`).toBe(true);
  expect(compileFast(env, text, OPTS, c.reference)).toBeUndefined();
  const ct = compileTemplate(env, text, 'test.hbs');
  expect(ct.diagnostics).toEqual([]);
  expect(ct.template?.engine).toBe('handlebars');
  expect(ct.template?.fn).toBe(ct.template?.handlebars);
  return (c.result as { unsupported: string }).unsupported;
}

// ---------------------------------------------------------------------------------------------
// Contexts

/** A context function: what it says depends only on what both back ends agree to pass it. */
function lambda(this: unknown, ...args: unknown[]): string {
  const last = args[args.length - 1] as { name?: unknown } | undefined;
  const self = this === null ? 'null' : this === undefined ? 'undefined' : Array.isArray(this) ? 'array' : typeof this;
  return `λ(this=${self}, args=${args.length}, name=${last && typeof last === 'object' ? String(last.name) : '-'})`;
}

const protoKeys = (): unknown => JSON.parse('{"__proto__":{"a":"proto-a","c":"proto-c"},"constructor":"own-constructor","toString":"own-toString","a":"own-a"}');
const inherited = (): unknown => Object.create({ a: 'inherited-a', x: 'inherited-x', b: { c: 'inherited-c' }, length: 9, l: ['inherited'] });

// eslint-disable-next-line no-sparse-arrays
const sparse = (): unknown[] => ['s0', , 's2', , ];

const VALUES: Ctx[] = [
  ['string', 'hello'],
  ['empty string', ''],
  ['zero', 0],
  ['number', 42],
  ['negative float', -1.5],
  ['true', true],
  ['false', false],
  ['null', null],
  ['undefined', undefined],
  ['empty array', []],
  ['empty object', {}],
  ['nested map', { a: 'na', b: { c: 'nbc', d: 0 }, x: 'nx', l: ['n0', 'n1'], '0': 'zero-key' }],
  ['array of maps', [{ a: 'm0', x: 'x0', b: { c: 'c0' } }, { a: 'm1', b: null }, { a: 0 }]],
  ['array of strings', ['s0', 's1', 's2']],
  ['JSON __proto__/constructor/toString keys', protoKeys()],
  ['inherited values', inherited()],
  ['function', lambda],
  ['Map', new Map<string, unknown>([['a', 'map-a'], ['b', 2]])],
  ['Set', new Set(['u', 'v'])],
  ['sparse array', sparse()],
];

/** Every name a template in this file reads, all holding `v`, plus a few fixed values. */
function spread(v: unknown): Record<string, unknown> {
  return {
    a: v,
    b: v,
    c: v,
    x: v,
    l: v,
    m: v,
    k: 'a',
    s: 'str',
    n: 3,
    z: 0,
    o: { a: v, x: 'ox', b: { c: v }, l: [v, 'second'] },
    arr: [v, { a: v, x: 'arr-x' }, 'arr-2'],
    'weird key': v,
  };
}

const MIXED: Record<string, unknown> = {
  a: 'A',
  b: { c: { d: 'D' }, e: 'E' },
  c: 0,
  x: 'X',
  s: 'Text',
  n: 3,
  z: 0,
  k: 'p',
  t: true,
  f: false,
  nil: null,
  l: ['p', 'q', 'r'],
  m: { p: 'mp', q: 0, 'r-s': 'rs' },
  o: { a: 'oa', x: 'ox', b: { c: 'obc' }, l: [{ a: 'l0' }, { a: 'l1', x: 'l1x' }, 'l2'] },
  arr: [{ a: 'first', x: 'ax' }, { a: 'second' }, 'third'],
  'weird key': 'W',
  sparse: sparse(),
  map: new Map<string, unknown>([['p', 1], ['q', 'two']]),
  set: new Set(['one', 'two']),
  proto: protoKeys(),
  inh: inherited(),
  fn: lambda,
};

/** A context whose list holds the context itself (`../` must not climb when item == parent). */
const SELF: Record<string, unknown> = { x: 'self-x', a: 'self-a', n: 1 };
SELF.l = [SELF, 'other', SELF];
SELF.o = SELF;

const STANDARD: Ctx[] = [
  ...VALUES.map(([n, v]): Ctx => [`every key = ${n}`, spread(v)]),
  ...VALUES.map(([n, v]): Ctx => [`root = ${n}`, v]),
  ['mixed', MIXED],
  ['self-referencing', SELF],
];

const ENV = createTemplateEnv();

// ---------------------------------------------------------------------------------------------

describe('content, comments and whitespace', () => {
  const cases = [
    '',
    'plain text, no mustaches\n',
    'a {{! a comment }} b',
    'a {{!-- a comment with }} and -- inside --}} b',
    'x\n{{! standalone comment }}\ny\n',
    'x\n  {{!-- standalone\n  multi-line comment --}}\ny\n',
    '  {{~a~}}  \n {{~s}} | {{s~}}  z',
    '[ {{~#if a~}} yes {{~else~}} no {{~/if~}} ]',
    'line1\n{{#if a}}\n  yes {{a}}\n{{else}}\n  no\n{{/if}}\nend\n',
    'line1\r\n{{#if a}}\r\n  yes {{s}}\r\n{{else}}\r\n  no\r\n{{/if}}\r\nend\r\n',
    'list:\n  {{#each l}}\n  - {{this}}\n  {{/each}}\ndone',
    'no newline at the end {{s}}',
    'ends with a block\n{{#each l}}\n- {{this}}\n{{/each}}',
    'ends with a comment\n{{! bye }}',
  ];
  it.each(cases.map((t) => [JSON.stringify(t), t]))('%s', (_, text) => {
    expectSame(text);
  });

  it('standalone lines vanish and content is kept byte for byte (sanity of the reference)', () => {
    const run = expectSame('line1\n{{#if a}}\n  yes {{a}}\n{{else}}\n  no\n{{/if}}\nend\n', [['mixed', MIXED], ['empty', {}]]);
    expect(outOf(run, 'mixed')).toEqual({ out: 'line1\n  yes A\nend\n' });
    expect(outOf(run, 'empty')).toEqual({ out: 'line1\n  no\nend\n' });
    const crlf = expectSame('line1\r\n{{#if a}}\r\n  yes\r\n{{/if}}\r\nend\r\n', [['mixed', MIXED]]);
    expect(outOf(crlf, 'mixed')).toEqual({ out: 'line1\r\n  yes\r\nend\r\n' });
    const ws = expectSame('  {{~a~}}  \n {{~s}} | {{s~}}  z', [['mixed', MIXED]]);
    expect(outOf(ws, 'mixed')).toEqual({ out: 'AText | Textz' });
  });
});

describe('paths', () => {
  const cases = [
    '{{a}}|{{b.c}}|{{b.c.d}}|{{o.b.c}}',
    '{{missing.b.c}}|{{nil.x}}|{{a.b.c}}',
    '{{this}}',
    '{{.}}',
    '<{{this.x}}|{{./x}}|{{this.a.b}}>',
    '{{[weird key]}}|{{m.[r-s]}}|{{this.[weird key]}}',
    '{{arr.[0]}}|{{arr.[1].a}}|{{arr.[1].x}}|{{l.[0]}}|{{o.l.[1].x}}',
    '{{l.length}}|{{s.length}}|{{a.length}}|{{arr.length}}|{{sparse.length}}',
    '{{@root.x}}|{{@root.o.x}}|{{@root}}',
    '{{#with o}}{{@root.a}}|{{../x}}|{{x}}|{{../o.x}}{{/with}}',
    '{{#with o}}{{#each l}}{{#if this}}[{{../a}}/{{../../x}}/{{a}}]{{/if}}{{/each}}{{/with}}',
    '{{#with o}}{{#each l}}{{#if a}}[{{../x}}|{{../../x}}|{{@root.x}}]{{else}}({{../b.c}}){{/if}}{{/each}}{{/with}}',
    '{{#each arr}}{{#each ../arr}}{{../../n}}|{{../a}},{{/each}};{{/each}}',
    '{{#if a}}{{#with o}}{{../x}}|{{x}}{{/with}}{{/if}}',
    '{{#each l}}{{#with ../o}}{{../../x}}|{{../x}}|{{x}}{{/with}}{{/each}}',
    '{{#each l}}{{#if true}}{{#if 1}}<{{../x}}|{{../../x}}>{{/if}}{{/if}}{{/each}}',
    '{{#if true}}{{../x}}{{/if}}|{{#with a}}{{../x}}{{/with}}|{{../x}}|{{../../x}}',
    '{{#each l}}[{{../x}}]{{/each}}',
    '{{#with o}}{{#with this}}{{../x}}{{/with}}{{/with}}',
    '{{toString}}|{{constructor}}|{{__proto__.a}}|{{a.constructor}}|{{a.toString}}|{{a.__proto__.c}}|{{hasOwnProperty}}',
    '{{fn}}|{{o.a}}|{{a}}|{{this.a}}|{{./a}}',
  ];
  it.each(cases.map((t) => [JSON.stringify(t), t]))('%s', (_, text) => {
    expectSame(text);
  });

  it('values inherited from a prototype render empty', () => {
    const run = expectSame('<{{a}}|{{x}}|{{b.c}}|{{length}}|{{l.[0]}}|{{lookup this "a"}}|{{#each l}}{{this}}{{/each}}>', [['inherited', inherited()]]);
    expect(outOf(run, 'inherited')).toEqual({ out: '<||||||>' });
    const own = expectSame('{{a}}|{{constructor}}|{{toString}}|{{__proto__.a}}', [['JSON keys', protoKeys()]]);
    expect(outOf(own, 'JSON keys')).toEqual({ out: 'own-a|own-constructor|own-toString|proto-a' });
  });

  it('../ does not climb when an #each item equals (==) its parent', () => {
    // Item 1 == the #with context "1": no new depth, so ../x is the root's x. Item 2 pushes one.
    const ctx = { a: '1', x: 'root-x', l: [1, 2] };
    const run = expectSame('{{#with a}}{{#each ../l}}[{{../x}}]{{/each}}{{/with}}', [['loose equality', ctx]]);
    expect(outOf(run, 'loose equality')).toEqual({ out: '[root-x][]' });
    const self = expectSame('{{#each l}}[{{../x}}|{{x}}]{{/each}}', [['self-referencing', SELF]]);
    expect(outOf(self, 'self-referencing')).toEqual({ out: '[|self-x][self-x|][|self-x]' });
  });

  it('#if pushes no depth: ../ inside #if inside #each inside #with', () => {
    const ctx = { x: 'root', o: { x: 'with', l: [{ x: 'item', ok: true }] } };
    const run = expectSame('{{#with o}}{{#each l}}{{#if ok}}{{x}}/{{../x}}/{{../../x}}{{/if}}{{/each}}{{/with}}', [['nested', ctx]]);
    expect(outOf(run, 'nested')).toEqual({ out: 'item/with/root' });
  });
});

describe('built-in helpers', () => {
  const cases = [
    '{{#if a}}A{{else if b}}B{{else if x}}X{{else}}none{{/if}}',
    '{{#if a}}A{{else if c}}C{{/if}}|{{#if nil}}{{else}}else-only{{/if}}',
    '{{#unless a}}not{{else}}yes{{/unless}}|{{#unless z}}zero is falsy{{/unless}}',
    '{{#if a includeZero=true}}T{{else}}F{{/if}}|{{#if z includeZero=true}}T{{else}}F{{/if}}|{{#if z includeZero=false}}T{{else}}F{{/if}}',
    '{{#each l}}[{{@index}}/{{@key}}/{{#if @first}}first{{/if}}/{{#if @last}}last{{/if}}:{{this}}]{{else}}empty{{/each}}',
    '{{#each arr}}{{@index}}={{a}}{{x}};{{else}}none{{/each}}',
    '{{#each sparse}}{{@index}}:{{this}}{{#if @last}}!{{/if}} {{/each}}',
    '{{#each m}}{{@key}}={{this}}@{{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}};{{/each}}',
    '{{#each o}}{{@key}};{{/each}}|{{#each b}}{{@key}}:{{#each this}}{{@key}}{{/each}};{{/each}}',
    '{{#each map}}{{@key}}={{this}};{{/each}}|{{#each set}}{{@index}}={{this}};{{/each}}',
    '{{#each s}}iterated{{else}}string: no iteration{{/each}}|{{#each n}}iterated{{else}}number: no iteration{{/each}}',
    '{{#each a}}{{this}},{{else}}E{{/each}}',
    '{{#each fn}}{{this}}{{else}}E{{/each}}',
    '{{#with o}}{{a}}|{{x}}{{else}}nothing{{/with}}|{{#with nil}}x{{else}}no nil{{/with}}|{{#with a}}{{this}}{{else}}no a{{/with}}',
    '{{lookup l 1}}|{{lookup m k}}|{{lookup arr 0}}|{{lookup o "x"}}|{{lookup this k}}|{{lookup l n}}|{{lookup nil "x"}}',
    '{{#with (lookup arr 1)}}{{a}}{{else}}no item{{/with}}|{{lookup (lookup o "b") "c"}}',
    '{{lookup a "length"}}|{{lookup a "constructor"}}|{{lookup proto "constructor"}}|{{lookup inh "a"}}',
    '{{#each l}}{{#each ../arr}}{{@index}}{{/each}}-{{@index}} {{/each}}',
    '{{if}}',
    '{{if a}}',
    '{{if a b}}',
    '{{#if a b}}x{{/if}}',
    '{{#unless a b}}x{{/unless}}',
    '{{#with a b}}x{{/with}}',
    '{{each}}',
    '{{lookup}}|{{lookup a}}',
  ];
  it.each(cases.map((t) => [JSON.stringify(t), t]))('%s', (_, text) => {
    // Block results ({{#with a}}{{this}}{{/with}} with a number) can lead a program: allowed.
    expectSame(text, STANDARD, { mayFallBack: true });
  });

  it('wrong argument counts throw the same error', () => {
    const run = expectSame('{{#if a b}}x{{/if}}', [['mixed', MIXED]]);
    expect(outOf(run, 'mixed')).toMatchObject({ message: '#if requires exactly one argument', renderValueError: false });
    const bare = expectSame('{{if}}', [['mixed', MIXED]]);
    expect(outOf(bare, 'mixed')).toMatchObject({ message: '#if requires exactly one argument' });
    // A block with no arguments at all is a section for the runtime; the fast path declines it.
    expectUnsupported('{{#if}}x{{/if}}');
    expect(() => ENV.compile('{{#if}}x{{/if}}', OPTS)({})).toThrow('#if requires exactly one argument');
  });

  it('runs pristine if/unless/with/each inline, and an overridden one as registered', () => {
    const text = '{{#if a}}A{{/if}}{{#unless z}}U{{/unless}}{{#with o}}{{x}}{{/with}}{{#each l}}{{this}}{{/each}}';
    const ctx = { a: 1, z: 0, o: { x: 'w' }, l: [1, 2] };
    type Helper = (this: unknown, ...a: unknown[]) => unknown;
    const counting = (env: HB, calls: string[], disguise: boolean): void => {
      for (const name of ['if', 'unless', 'with', 'each']) {
        const original = (env.helpers as Record<string, Helper>)[name]!;
        const f: Helper = function (this: unknown, ...args: unknown[]) {
          calls.push(name);
          return original.apply(this, args);
        };
        // Built-ins are recognised by their source text: one that shows the original's is taken for it.
        if (disguise) f.toString = () => String(original);
        env.registerHelper(name, f as Handlebars.HelperDelegate);
      }
    };
    // Taken for the built-ins: run inline, the registered functions are never called.
    const inlineCalls: string[] = [];
    const disguised = createTemplateEnv();
    counting(disguised, inlineCalls, true);
    expect(compileFast(disguised, text, OPTS, disguised.compile(text, OPTS))!(ctx)).toBe('AUw12');
    expect(inlineCalls).toEqual([]);
    // Really overridden: the registered helper runs for every block that names it, and `unless`
    // calls the environment's `if`, overridden too.
    const calls: string[] = [];
    const env = createTemplateEnv();
    counting(env, calls, false);
    expect(compileFast(env, text, OPTS, env.compile(text, OPTS))!(ctx)).toBe('AUw12');
    expect(calls).toEqual(['if', 'unless', 'if', 'with', 'each']);
    expectSame(text, [['mixed', MIXED], ['ctx', ctx]], { env });
  });

  it('iterates Map, Set and sparse arrays as the runtime does (sanity of the reference)', () => {
    const run = expectSame('{{#each map}}{{@key}}={{this}};{{/each}}|{{#each set}}{{this}};{{/each}}|{{#each sparse}}{{@index}}{{/each}}', [['mixed', MIXED]]);
    expect(outOf(run, 'mixed')).toEqual({ out: '0=p,1;1=q,two;|one;two;|02' });
  });
});

describe("deskset's helpers", () => {
  const cases = [
    '<p{{#params "xml"}}{{set "a" a}}{{set "s" s}}{{set "n" (inc n)}}{{set "dup" 1}}{{set "dup" 2}}{{set_all m}}{{/params}}/>',
    '<p\n{{#params "xml" indent="    "}}\n{{set "k.v" (concat s "-" n)}}\n{{set "a" (default a "fallback")}}\n{{/params}}\n/>',
    '{{#params "avaya"}}\n{{set "SIP_CONTROLLER_LIST" (concat s ":" n ";transport=tls")}}\n{{set "EMPTY" ""}}\n{{set "A" a}}\n{{#each l}}\n{{set (concat "L" @index) this}}\n{{/each}}\n{{/params}}\n',
    '{{#params "yealink"}}\n{{set "account.1.label" (default a s)}}\n{{set_all o}}\n{{#with o}}{{set "from.with" ../s}}{{/with}}\n{{/params}}\n',
    '{{#params "yealink"}}{{set_all a}}{{/params}}',
    '{{#params "nope"}}{{/params}}',
    '{{#params a}}{{set "x" 1}}{{/params}}',
    '{{first l}}|{{join l "-"}}|{{join l}}|{{join s ","}}|{{upper s}}|{{lower "MiXeD"}}|{{lower a}}|{{xml a}}',
    '{{#if (eq a "hello")}}eq{{/if}}|{{#if (eq n "3")}}eq3{{/if}}|{{#if (or a b)}}or{{/if}}|{{#if (and a s)}}and{{/if}}|{{#if (not a)}}not{{/if}}|{{or nil z}}|{{and a}}',
    '{{concat}}|{{concat a}}|{{concat s "-" n "-" z}}|{{concat (inc n) (default nil "d")}}',
    '{{inc n}}|{{inc a}}|{{inc z}}|{{default a "d"}}|{{default nil "d"}}|{{default "" "empty"}}',
    '<x{{xml_attrs m indent="    "}}/>|<y{{xml_attrs o}}/>|<z{{xml_attrs a indent=s}}/>',
    '{{tz_offset_hours "Europe/London"}}|{{tz_offset_hours "America/New_York"}}|{{tz_offset_hours "Asia/Kolkata"}}',
    '{{#with (dst "Europe/London")}}{{start.month}}/{{start.week}}/{{start.weekday}}/{{start.hour}} → {{end.month}}/{{end.week}} ({{saveMinutes}}){{else}}no dst{{/with}}',
    '{{#with (dst "Asia/Singapore")}}dst{{else}}no dst{{/with}}',
    '{{avaya_set "NAME" a}}|{{avaya_set "EMPTY" ""}}|{{avaya_set "SPACED" "a b"}}',
    '{{yealink "k.v" a}}|{{yealink "n" n}}',
    '{{#each l}}{{@first}}|{{@last}};{{/each}}',
    '{{@first}}|{{@index}}|{{@key}}',
  ];
  it.each(cases.map((t) => [JSON.stringify(t), t]))('%s', (_, text) => {
    expectSame(text, STANDARD, { mayFallBack: true });
  });

  it('renders params blocks in all three formats (sanity of the reference)', () => {
    const ctx = { a: 'v&<"', s: 'S', n: 3, l: ['x', 'y'], m: { p: 1 }, o: { 'k.one': 'one' } };
    const xml = expectSame('<p{{#params "xml"}}{{set "a" a}}{{set "n" (inc n)}}{{set "a" "again"}}{{set_all m}}{{/params}}/>', [['ctx', ctx]]);
    expect(outOf(xml, 'ctx')).toEqual({ out: '<p  a="again"\n  n="4"\n  p="1"/>' });
    const avaya = expectSame('{{#params "avaya"}}{{set "A" s}}{{#each l}}{{set (concat "L" @index) this}}{{/each}}{{set "E" ""}}{{/params}}', [['ctx', ctx]]);
    expect(outOf(avaya, 'ctx')).toEqual({ out: 'SET A S\nSET L0 x\nSET L1 y\nSET E ""' });
    const yealink = expectSame('{{#params "yealink"}}{{set_all o}}{{/params}}', [['ctx', ctx]]);
    expect(outOf(yealink, 'ctx')).toEqual({ out: 'k.one = one' });
  });

  it('set outside params throws the same RenderValueError', () => {
    const run = expectSame('{{set "k" a}}', [['mixed', MIXED], ['undefined value', {}]]);
    expect(outOf(run, 'mixed')).toEqual({ threw: 'RenderValueError', renderValueError: true, message: '"set" used outside a {{#params}} block' });
    // undefined means "not set": nothing to collect, so no error.
    expect(outOf(run, 'undefined value')).toEqual({ out: '' });
    const all = expectSame('{{set_all m}}', [['mixed', MIXED]]);
    expect(outOf(all, 'mixed')).toMatchObject({ renderValueError: true });
  });

  const BAD: Ctx[] = [
    ['newline', { a: 'line\nbreak' }],
    ['carriage return', { a: 'line\rbreak' }],
    ['NUL', { a: 'nul\u0000' }],
    ['double quote', { a: 'say "hi"' }],
    ['control character', { a: 'bell\u0007' }],
    ['a list', { a: ['x'] }],
    ['a map', { a: { x: 1 } }],
    ['fine', { a: 'fine value' }],
  ];
  const rejecting: Array<[string, string, string]> = [
    ['{{#params "yealink"}}{{set "k.v" a}}{{/params}}', 'newline', 'k.v: value contains a line break or NUL, which would inject a new line into the file'],
    ['{{yealink "k.v" a}}', 'carriage return', 'k.v: value contains a line break or NUL, which would inject a new line into the file'],
    ['{{#params "avaya"}}{{set "NAME" a}}{{/params}}', 'double quote', 'NAME: Avaya values cannot contain a double quote'],
    ['{{avaya_set "NAME" a}}', 'NUL', 'NAME: value contains a line break or NUL, which would inject a new line into the file'],
    ['{{#params "xml"}}{{set "name" a}}{{/params}}', 'control character', 'a value holds a control character that XML cannot carry'],
    ['{{xml a}}', 'control character', 'a value holds a control character that XML cannot carry'],
    ['<x{{xml_attrs this}}/>', 'control character', 'a value holds a control character that XML cannot carry'],
    ['{{concat a}}', 'a map', 'expected a single value, got a map'],
    ['{{#params "xml"}}{{set "bad name" "v"}}{{/params}}', 'fine', '"bad name" is not a valid XML attribute name'],
  ];
  it.each(rejecting)('%s rejects (%s) with the same error', (text, ctxName, message) => {
    const run = expectSame(text, BAD);
    expect(outOf(run, ctxName)).toEqual({ threw: 'RenderValueError', renderValueError: true, message });
  });

  it('{{@first}} inside #each calls the helper named first, as the runtime does', () => {
    const run = expectSame('{{#each l}}<{{@first}}|{{@last}}|{{@index}}>{{/each}}', [['mixed', MIXED]]);
    // `first` is a helper: called with only its options it returns them; `last` is not one.
    expect(outOf(run, 'mixed')).toEqual({ out: '<[object Object]|false|0><[object Object]|false|1><[object Object]|true|2>' });
  });
});

describe('adjacent values', () => {
  it('{{a}}{{b}} with two numbers: the runtime adds them, and the fast path hands that render over', () => {
    const c = compileBoth('{{a}}{{b}}');
    expect('fn' in c.result).toBe(true);
    const fast = (c.result as { fn: TemplateFn }).fn;
    for (const ctx of [{ a: 1, b: 2 }, { a: true, b: 1 }, { a: [1], b: [2] }, { a: 0, b: 0 }]) {
      const before = c.fallbacks();
      expect(outcome(fast, ctx), show(ctx)).toEqual(outcome(c.reference, ctx));
      expect(c.fallbacks() - before).toBe(1);
    }
  });

  it.each([
    ['two strings', { a: 'x', b: 'y' }],
    ['number then string', { a: 1, b: 'y' }],
    ['string then number', { a: 'x', b: 2 }],
    ['null then number', { a: null, b: 2 }],
    ['number then missing', { a: 1 }],
    ['empty strings', { a: '', b: '' }],
  ])('{{a}}{{b}} with %s renders without the runtime', (_, ctx) => {
    expectSame('{{a}}{{b}}', [['ctx', ctx]]);
  });

  it('adjacency after content, across blocks, and in block bodies', () => {
    const ctxs: Ctx[] = [
      ['numbers', { x: true, n: 1, m: 2, l: [1, 2], a: 5, b: 6 }],
      ['falsy condition', { x: false, n: 1, m: 2, l: [], a: 5, b: 6 }],
      ['strings', { x: 'yes', n: 'n', m: 'm', l: ['p', 'q'], a: 'a', b: 'b' }],
    ];
    for (const text of [
      '{{#if x}}{{n}}{{/if}}{{m}}',
      '{{#with n}}{{this}}{{/with}}{{m}}',
      'c{{a}}{{b}}',
      '{{a}}{{b}}{{n}}{{m}}',
      '{{#each l}}{{this}}{{this}}{{/each}}',
      '{{#each l}}{{#if @first}}{{this}}{{/if}}{{this}}{{/each}}',
      '{{#if x}}{{a}}{{b}}{{else}}{{n}}{{m}}{{/if}}',
      '{{a}}{{!-- comment --}}{{b}}',
      '{{a~}}   {{~b}}',
    ]) {
      const run = expectSame(text, ctxs, { mayFallBack: true });
      expect(run.outcomes.every((o) => 'out' in o.outcome), text).toBe(true);
    }
  });

  it('two helpers that always return numbers: every render is the runtime\'s', () => {
    const c = compileBoth('{{inc n}}{{inc m}}');
    expect('fn' in c.result).toBe(true);
    const fast = (c.result as { fn: TemplateFn }).fn;
    for (const ctx of [{ n: 1, m: 2 }, { n: 'x' }, {}]) expect(outcome(fast, ctx), show(ctx)).toEqual(outcome(c.reference, ctx));
    expect(c.fallbacks()).toBe(3);
    expect(fast({ n: 1, m: 2 })).toBe(c.reference({ n: 1, m: 2 }));
  });
});

describe('partials', () => {
  // A fresh environment per case: the runtime caches a partial it compiled in env.partials,
  // replacing the registered string (see "known divergences").
  const partialEnv = (): HB => {
    const env = createTemplateEnv();
    env.registerPartial('p', 'P[{{a}}|{{x}}]\n');
    env.registerPartial('inline', '<{{x}}>');
    env.registerPartial('up', '{{../x}}|{{x}}|{{@root.x}}');
    env.registerPartial('setter', '{{set "from.partial" a}}\n{{set "partial.n" (inc n)}}\n');
    env.registerPartial('rec', '{{#if a}}{{> rec}}{{/if}}');
    env.registerPartial('indexed', '{{@index}}:{{this}}{{#if @last}}.{{/if}}');
    env.registerPartial('outer', 'O\n  {{> p}}\nend-O\n');
    env.registerPartial('multi', 'line one {{a}}\nline two\n');
    env.registerPartial('numbers', '{{n}}{{z}}');
    return env;
  };

  const cases = [
    'before\n  {{> p}}\nafter\n',
    'before\n    {{> multi}}\nafter\n',
    'a {{> inline}} b',
    '{{> inline}}{{> inline}}',
    '{{#with o}}{{> up}}{{/with}}|{{> up}}',
    '{{#each l}}{{> up}};{{/each}}',
    '{{#with o}}{{../x}}:{{> up}}{{/with}}',
    '{{#each arr}}{{#with ../o}}{{> up}}/{{../../x}}{{/with}};{{/each}}',
    '{{#params "yealink"}}\n{{> setter}}\n{{set "own" 1}}\n{{/params}}\n',
    '{{#params "xml"}}\n  {{> setter}}\n{{/params}}',
    '{{#each l}}{{> indexed}} {{/each}}',
    '{{> outer}}',
    '{{#each arr}}\n  {{> p}}\n{{/each}}',
  ];
  it.each(cases.map((t) => [JSON.stringify(t), t]))('%s', (_, text) => {
    expectSame(text, STANDARD, { env: partialEnv() });
  });

  it('two leading numbers inside a partial hand the render over to the runtime', () => {
    const run = expectSame('[{{> numbers}}]', STANDARD, { env: partialEnv(), mayFallBack: true });
    expect(outOf(run, 'mixed')).toEqual({ out: '[3]' });
    expect(run.fallbacks).toBeGreaterThan(0);
  });

  it('a standalone indented partial gets its indent once (sanity of the reference)', () => {
    const run = expectSame('before\n    {{> multi}}\nafter\n', [['mixed', MIXED]], { env: partialEnv() });
    expect(outOf(run, 'mixed')).toEqual({ out: 'before\n    line one A\nline two\nafter\n' });
    const setter = expectSame('{{#params "yealink"}}\n{{> setter}}\n{{set "own" 1}}\n{{/params}}\n', [['mixed', MIXED]], { env: partialEnv() });
    expect(outOf(setter, 'mixed')).toEqual({ out: 'from.partial = A\npartial.n = 4\nown = 1' });
  });

  it('a partial runs with a fresh depth stack: ../ at its top level is empty', () => {
    const run = expectSame('{{#with o}}{{> up}}{{/with}}', [['mixed', MIXED]], { env: partialEnv() });
    expect(outOf(run, 'mixed')).toEqual({ out: '|ox|X' });
    // Also when the caller keeps a depth stack of its own.
    const deep = expectSame('{{#with o}}{{../x}}:{{> up}}{{/with}}', [['mixed', MIXED]], { env: partialEnv() });
    expect(outOf(deep, 'mixed')).toEqual({ out: 'X:|ox|X' });
  });

  it('stays with the runtime for missing, recursive and parameterised partials', () => {
    for (const text of ['{{> nope}}', '{{#if a}}{{> nope}}{{/if}}', '{{> rec}}', '{{#each l}}{{> rec}}{{/each}}', '{{> p o}}', '{{> p x="1"}}', '{{> p this}}']) {
      expectUnsupported(text, partialEnv());
    }
  });
});

describe('constructs outside the subset stay with the runtime', () => {
  const PENV = createTemplateEnv();
  PENV.registerPartial('p', 'P');
  it.each([
    ['block params', '{{#each l as |item i|}}{{item}}{{/each}}'],
    ['block params on with', '{{#with o as |obj|}}{{obj.x}}{{/with}}'],
    ['decorator', '{{* d}}x'],
    ['inline partial decorator block', '{{#* inline "q"}}y{{/inline}}{{> q}}'],
    ['partial block', '{{#> p}}default{{/p}}'],
    ['dynamic partial', '{{> (a)}}'],
    ['dynamic partial via lookup', '{{> (lookup . "k")}}'],
    ['@../ data path', '{{#each l}}{{@../index}}{{/each}}'],
    ['section without args', '{{#section}}x{{/section}}'],
    ['section on a helper name without args', '{{#each}}x{{/each}}'],
    ['string literal head', '{{"x"}}'],
    ['number literal head', '{{1}}'],
    ['boolean literal head', '{{true}}'],
    ['path call with args', '{{o.a x}}'],
  ])('%s: %s', (_, text) => {
    const reason = expectUnsupported(text, PENV);
    expect(reason.length).toBeGreaterThan(0);
  });

  // A profile value is never a function, so a call of a name that is no helper can only fail
  // ("Missing helper"): the fast compiler declines it, and compileTemplate reports it, with its place.
  it.each([
    ['unknown helper with args', '{{nohelper a}}', 3],
    ['unknown helper in a subexpression', '{{concat (nohelper a)}}', 11],
    ['unknown block helper', '{{#nohelper a}}x{{/nohelper}}', 4],
  ] as Array<[string, string, number]>)('%s: %s is unsupported, and a TEMPLATE_HELPER error', (_, text, col) => {
    const c = compileBoth(text, PENV);
    expect('unsupported' in c.result).toBe(true);
    const ct = compileTemplate(PENV, text, 'test.hbs');
    expect(ct.template).toBeUndefined();
    expect(ct.diagnostics).toMatchObject([{ code: 'TEMPLATE_HELPER', severity: 'error', message: 'Missing helper: "nohelper"', loc: { file: 'test.hbs', line: 1, col } }]);
  });

  it('declines compile options it does not implement', () => {
    const ref = ENV.compile('{{a}}', OPTS) as TemplateFn;
    expect(tryCompileFast(ENV, '{{a}}', { ...OPTS, noEscape: false }, ref)).toEqual({ unsupported: 'compile options' });
    expect(tryCompileFast(ENV, '{{a}}', { ...OPTS, strict: true }, ref)).toEqual({ unsupported: 'compile options' });
    expect(tryCompileFast(ENV, '{{a}}', { ...OPTS, compat: true }, ref)).toEqual({ unsupported: 'compile options' });
    expect('fn' in tryCompileFast(ENV, '{{a}}', OPTS, ref)).toBe(true);
  });

  it('compileTemplate picks the fast engine for the subset', () => {
    const ct = compileTemplate(ENV, '{{#if a}}{{a}}{{/if}}', 'test.hbs');
    expect(ct.template?.engine).toBe('fast');
    expect(ct.template?.fn).not.toBe(ct.template?.handlebars);
    expect(ct.template?.fn(MIXED)).toBe(ct.template?.handlebars(MIXED));
  });
});

// Divergences the first version of the fast path had, found while writing this suite.
describe('former divergences', () => {
  it('a context function called as {{a}} gets the same options object (loc, no lookupProperty)', () => {
    const keys = function (...args: unknown[]): string {
      return Object.keys(args[args.length - 1] as object).sort().join(',');
    };
    expectSame('{{a}}', [['function a', { a: keys }]]);
  });

  it('{{helperMissing}} / {{blockHelperMissing}} are left to the runtime (it moves them out of the helpers and fails)', () => {
    for (const t of ['{{#blockHelperMissing a}}x{{/blockHelperMissing}}', '{{helperMissing}}', '{{helperMissing a}}', '{{upper (helperMissing)}}']) {
      expect(expectUnsupported(t)).toMatch(/helperMissing|blockHelperMissing/);
    }
  });

  it('a block body that never climbs compares no contexts (the runtime passes depths only to programs that use ../)', () => {
    // The fast path keeps a depth stack in every program once any `../` appears, and pushing a
    // depth compares `context != depths[0]`: with a primitive on one side, the object on the
    // other is converted, and a map with an own "toString" key (JSON, YAML) cannot be: TypeError.
    const ctx = { a: JSON.parse('{"toString":"t"}') };
    expectSame('{{#with a}}{{#with 1}}{{/with}}{{/with}}{{../x}}', [['own toString key', ctx]]);
  });

  it('a template compiled after the runtime rendered a partial of the same env still takes the fast path', () => {
    const env = createTemplateEnv();
    registerPartialSource(env, 'p', 'P{{a}}');
    // The runtime compiles the partial on first use and stores the function in env.partials.p.
    expect(compileTemplate(env, 'x {{> p}}', 'a.hbs').template!.handlebars({ a: 1 })).toBe('x P1');
    expect(compileTemplate(env, 'y {{> p}}', 'b.hbs').template!.engine).toBe('fast');
  });
});

// ---------------------------------------------------------------------------------------------
// Shipped templates

const VENDORS = readdirSync(path.join(REPO, 'templates'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function vendorEnv(vendor: string): HB {
  const env = createTemplateEnv();
  const dir = path.join(REPO, 'templates', vendor, 'partials');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) if (f.endsWith('.hbs')) env.registerPartial(f.slice(0, -'.hbs'.length), readFileSync(path.join(dir, f), 'utf8'));
  }
  return env;
}

interface Parity {
  compared: number;
  rendered: number;
  differences: string[];
}

/** Render every target of a root with the fast functions, then with the runtime's, and compare. */
function parity(snap: Snapshot): Parity {
  const templates = [...snap.templates.values()];
  expect(templates.length).toBeGreaterThan(0);
  for (const t of templates) {
    expect(t.engine, t.source).toBe('fast');
    expect(t.fn, t.source).not.toBe(t.handlebars);
  }
  const targets: RenderTarget[] = allTargets(snap);
  const redact = { redact: { secrets: snap.secrets, extraKeys: snap.secretKeys } };
  const view = (t: RenderTarget): string[] =>
    [renderTarget(snap.render, t), renderTarget(snap.render, t, redact)].map((r) =>
      JSON.stringify({ bytes: r.rendered?.bytes.toString('utf8') ?? null, diagnostics: r.diagnostics.map((d) => `${d.code} ${d.message}`) }),
    );
  const fast = targets.map(view);
  const saved = new Map<CompiledTemplate, TemplateFn>(templates.map((t) => [t, t.fn]));
  let reference: string[][];
  try {
    for (const t of templates) t.fn = t.handlebars;
    reference = targets.map(view);
  } finally {
    for (const [t, fn] of saved) t.fn = fn;
  }
  for (const t of templates) expect(t.fn).toBe(saved.get(t));
  const differences: string[] = [];
  let rendered = 0;
  targets.forEach((t, i) => {
    if (fast[i]!.every((v) => JSON.parse(v).bytes !== null)) rendered++;
    for (let j = 0; j < 2; j++) {
      if (fast[i]![j] !== reference[i]![j]) differences.push(`${t.path}${j ? ' (redacted)' : ''}:\n  fast    ${fast[i]![j]!.slice(0, 400)}\n  runtime ${reference[i]![j]!.slice(0, 400)}`);
    }
  });
  return { compared: targets.length, rendered, differences };
}

describe('shipped templates', () => {
  it('every shipped template (with its vendor partials) compiles to the fast path', () => {
    let count = 0;
    for (const vendor of VENDORS) {
      for (const f of readdirSync(path.join(REPO, 'templates', vendor)).filter((n) => n.endsWith('.hbs'))) {
        const env = vendorEnv(vendor);
        const text = readFileSync(path.join(REPO, 'templates', vendor, f), 'utf8');
        const c = compileBoth(text, env);
        expect('fn' in c.result ? 'fast' : `unsupported: ${c.result.unsupported}`, `templates/${vendor}/${f}`).toBe('fast');
        expect(compileTemplate(env, text, f).template?.engine).toBe('fast');
        // Over the generic contexts too: mostly errors (no settings), which must match.
        expectSame(text, STANDARD, { env, mayFallBack: true });
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(7);
  });

  it('renders every sample target byte for byte as the runtime does', async () => {
    const snap = await loadRoot(path.join(REPO, 'samples'));
    const r = parity(snap);
    expect(r.differences).toEqual([]);
    expect(r.compared).toBeGreaterThan(5);
    expect(r.rendered).toBeGreaterThan(5);
  });

  describe('over a generated root of 300 devices', () => {
    let dir: string | undefined;
    afterAll(async () => {
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    });
    it('renders every target byte for byte as the runtime does', async () => {
      // @ts-expect-error the bench is plain JavaScript
      const { writeRoot } = await import('../bench/gen-root.js');
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-tc-'));
      await (writeRoot as (out: string, n: number, seed: number) => Promise<unknown>)(dir, 300, 11);
      const snap = await loadRoot(dir);
      const r = parity(snap);
      expect(r.differences).toEqual([]);
      expect(r.compared).toBeGreaterThan(300);
      expect(r.rendered).toBeGreaterThan(300);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz

const KEYS = ['a', 'b', 'c', 'l', 'm'];
const SCALARS: unknown[] = ['', 'x', 'two words', '0', 0, 1, 2, -1, 2.5, true, false, null, undefined];
const CONTENT = [' ', '-', 'txt', '\n', ' | ', '  \n', '\r\n', '='];
const LITERALS = ['"lit"', '"a"', '""', '0', '1', '2', 'true', 'false', 'null'];

class Gen {
  constructor(private readonly rnd: () => number) {}

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  key(): string {
    return this.pick(KEYS);
  }

  value(depth: number): unknown {
    const r = this.rnd();
    if (depth >= 3 || r < 0.45) return this.pick(SCALARS);
    if (r < 0.65) return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
    if (r < 0.93) {
      const o: Record<string, unknown> = {};
      for (const k of KEYS) if (this.chance(0.5)) o[k] = this.value(depth + 1);
      return o;
    }
    return this.pick([protoKeys, inherited, () => new Map<string, unknown>([['a', 1], ['b', 'mb']]), sparse, () => new Set(['u']), () => lambda])();
  }

  context(): unknown {
    if (this.chance(0.05)) return this.pick(SCALARS);
    const o: Record<string, unknown> = {};
    for (const k of KEYS) if (this.chance(0.85)) o[k] = this.value(1);
    return o;
  }

  path(): string {
    const k = () => this.key();
    switch (this.int(18)) {
      case 0:
        return `${k()}.${k()}`;
      case 1:
        return `${k()}.${k()}.${k()}`;
      case 2:
        return this.pick(['this', '.']);
      case 3:
        return `this.${k()}`;
      case 4:
        return `./${k()}`;
      case 5:
        return `${k()}.[${this.int(3)}]`;
      case 6:
        return `${k()}.[1].${k()}`;
      case 7:
        return `${k()}.length`;
      case 8:
        return `@root.${k()}`;
      case 9:
        return this.pick(['@index', '@key', '@first', '@last', '@root']);
      case 10:
      case 11:
        return `../${k()}`;
      case 12:
        return `../../${k()}`;
      case 13:
        return `../${k()}.${k()}`;
      default:
        return k();
    }
  }

  param(budget: number): string {
    const r = this.rnd();
    if (budget > 0 && r < 0.25) return `(${this.call(budget - 1)})`;
    if (r < 0.4) return this.pick(LITERALS);
    return this.path();
  }

  call(budget: number): string {
    const p = () => this.param(budget);
    switch (this.int(11)) {
      case 0:
        return `concat ${Array.from({ length: 1 + this.int(3) }, p).join(' ')}`;
      case 1:
        return `default ${p()} ${p()}`;
      case 2:
        return `inc ${p()}`;
      case 3:
        return `lookup ${p()} ${this.chance(0.5) ? this.pick(['"a"', '"b"', '0', '1', '"length"']) : p()}`;
      case 4:
        return `eq ${p()} ${p()}`;
      case 5:
        return `not ${p()}`;
      case 6:
        return `or ${p()} ${p()}`;
      case 7:
        return `and ${p()} ${p()}`;
      case 8:
        return `first ${p()}`;
      case 9:
        return `join ${p()} ${this.pick(['","', '"-"', p()])}`;
      default:
        return `upper ${p()}`;
    }
  }

  mustache(): string {
    if (this.chance(0.06)) return this.pick(['{{> fp}}', '\n  {{> fp}}\n', '{{> fq}}']);
    const open = this.chance(0.15) ? '{{~' : '{{';
    const close = this.chance(0.15) ? '~}}' : '}}';
    return `${open}${this.chance(0.6) ? this.path() : this.call(2)}${close}`;
  }

  block(depth: number): string {
    const nl = this.chance(0.3) ? '\n' : '';
    const cond = this.param(1);
    const body = () => `${nl}${this.body(depth + 1)}${nl}`;
    const tag = (t: string) => `${this.chance(0.1) ? '{{~' : '{{'}${t}${this.chance(0.1) ? '~}}' : '}}'}`;
    switch (this.int(9)) {
      case 0:
        return `${tag(`#if ${cond}`)}${body()}${tag('/if')}${nl}`;
      case 1:
        return `${tag(`#if ${cond}`)}${body()}${tag('else')}${body()}${tag('/if')}${nl}`;
      case 2:
        return `${tag(`#if ${cond}`)}${body()}${tag(`else if ${this.param(1)}`)}${body()}${tag('else')}${body()}${tag('/if')}${nl}`;
      case 3:
        return `${tag(`#if ${cond} includeZero=${this.pick(['true', 'false'])}`)}${body()}${tag('/if')}`;
      case 4:
        return `${tag(`#unless ${cond}`)}${body()}${this.chance(0.3) ? `${tag('else')}${body()}` : ''}${tag('/unless')}${nl}`;
      case 5:
      case 6:
        return `${tag(`#each ${cond}`)}${body()}${this.chance(0.4) ? `${tag('else')}${body()}` : ''}${tag('/each')}${nl}`;
      default:
        return `${tag(`#with ${cond}`)}${body()}${this.chance(0.4) ? `${tag('else')}${body()}` : ''}${tag('/with')}${nl}`;
    }
  }

  body(depth: number): string {
    let out = '';
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) {
      const r = this.rnd();
      if (r < 0.3) out += this.pick(CONTENT);
      else if (r < 0.7 || depth >= 3) out += this.mustache();
      else out += this.block(depth);
    }
    return out;
  }
}

/** Fresh per template: the runtime replaces a partial's string by its compiled function on first use. */
function fuzzEnv(): HB {
  const env = createTemplateEnv();
  env.registerPartial('fp', '[{{a}}|{{../b}}|{{@index}}|{{#each l}}{{../c}}{{/each}}]\n');
  env.registerPartial('fq', '{{#if a}}{{b}}{{/if}}{{c}}');
  return env;
}

describe('random templates (seeded fuzz)', () => {
  it('300 random templates render the same both ways', async () => {
    // mulberry32, the bench's seeded generator.
    const { prng } = await import('../bench/gen-root.js');
    const gen = new Gen(prng(20261130).next);
    let renders = 0;
    let answeredAlone = 0;
    let nonEmpty = 0;
    let threw = 0;
    for (let i = 0; i < 300; i++) {
      const text = gen.body(0);
      const contexts = [gen.context(), gen.context(), gen.context()];
      const c = compileBoth(text, fuzzEnv());
      expect('fn' in c.result ? 'fast' : `unsupported: ${c.result.unsupported}`, `template #${i} ${JSON.stringify(text)}`).toBe('fast');
      const fast = (c.result as { fn: TemplateFn }).fn;
      for (const ctx of contexts) {
        const want = outcome(c.reference, ctx);
        const before = c.fallbacks();
        const got = outcome(fast, ctx);
        expect(got, `template #${i}: ${JSON.stringify(text)}\ncontext: ${show(ctx)}`).toEqual(want);
        renders++;
        if (c.fallbacks() === before) answeredAlone++;
        if ('out' in want && want.out.trim() !== '') nonEmpty++;
        if ('threw' in want) threw++;
      }
    }
    expect(renders).toBe(900);
    // The fuzz must exercise the fast path itself, with output worth comparing.
    expect(answeredAlone).toBeGreaterThan(renders * 0.7);
    expect(nonEmpty).toBeGreaterThan(renders * 0.3);
    expect(threw).toBeGreaterThan(0);
  });
});
