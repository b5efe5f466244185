// The js-yaml fast path must read every document it accepts exactly as the `yaml` path does
// (values, key order and every file:line:col), and must decline everything else.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlFast } from '../src/config/yaml-fast.js';
import { parseWithYaml, parseYamlTree, type PNode } from '../src/config/yaml-tree.js';

const REPO = path.resolve(import.meta.dirname, '..');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

/** A node as plain data with its positions spelled out, for comparing the two paths. */
function dump(n: PNode | undefined): unknown {
  if (!n) return n;
  if (n.kind === 'map') return { loc: n.loc, entries: [...n.entries].map(([k, e]) => [k, e.keyLoc, dump(e.node)]) };
  if (n.kind === 'list') return { loc: n.loc, items: n.items.map(dump) };
  return { loc: n.loc, value: n.value };
}

function same(text: string, file = 'x.yaml'): ReturnType<typeof parseYamlFast> {
  const fast = parseYamlFast(text, file);
  const slow = parseWithYaml(text, file);
  if (fast) {
    expect(slow.diagnostics).toEqual([]);
    expect(dump(fast.root)).toStrictEqual(dump(slow.root));
  }
  return fast;
}

describe('yaml fast path', () => {
  it('reads every shipped and sample YAML file exactly as yaml does, and answers for all of them', () => {
    const files = [...yamlFiles(path.join(REPO, 'samples')), ...yamlFiles(path.join(REPO, 'templates'))];
    expect(files.length).toBeGreaterThan(15);
    for (const f of files) {
      const fast = same(readFileSync(f, 'utf8'), f);
      expect(fast, f).toBeDefined();
    }
  });

  it("reads the bench generator's device files exactly as yaml does", async () => {
    // @ts-expect-error the bench is plain JavaScript
    const { generateFleet, deviceYaml } = await import('../bench/gen-root.js');
    const fleet = generateFleet(300, 7) as unknown[];
    for (const d of fleet) expect(same(deviceYaml(d) as string)).toBeDefined();
  });

  it.each([
    ['plain scalars through the core schema', 'a: 1\nb: -3\nc: +4\nd: 0o17\ne: 0x1F\nf: 1.5\ng: .5\nh: 1e3\ni: .inf\nj: -.Inf\nk: .nan\nl: ~\nm: Null\nn: TRUE\no: false\np: yes\nq: 1_000\nr: 0b101\ns: 012\nt: 1.0\nu: 2001-12-14\n'],
    ['quoted and block scalars stay strings', 'a: "1"\nb: \'true\'\nc: |\n  line 1\n  line 2\nd: >-\n  folded\n  text\ne: "multi\n  line"\n'],
    ['comments and blank lines', '# head\n\nmodel: T46S # trailing\n\n# between\nsettings:\n  # inside\n  time:\n\n    zone: Europe/Lisbon\n'],
    ['flow collections with empty values', 'groups: [a, b, ]\nlines:\n  - {extension: "1", x: , y: ~}\n  - [1, [2, 3]]\nempty: {}\nnone: []\n'],
    ['empty values in block maps', 'a:\nb:   \nc:  # note\nd:\n  e:\n'],
    ['block sequences of maps', 'lines:\n  - extension: "10"\n    password: x\n  -   extension: "11"\n  - - nested\n    - list\n'],
    ['numeric and boolean keys', '1: one\ntrue: yes\n0x10: hex\n"2": two\n'],
    ['multi-line plain scalars', 'a: one\n  two\n  three\nb: x\n'],
    ['CRLF line ends', 'a: 1\r\nb:\r\n  c: "x"\r\n'],
    ['a document start marker', '---\na: 1\n'],
    ['a scalar document', 'just text\n'],
    ['a list document', '- a\n- b: 1\n'],
    ['non-ASCII', 'name: "José Müller"\nlabel: 東京\n'],
    ['__proto__ as a key', '__proto__: 1\nsafe: 2\n'],
  ])('%s', (_name, text) => {
    expect(same(text)).toBeDefined();
  });

  it.each([
    ['an empty file', ''],
    ['only comments', '# nothing here\n# at all\n'],
  ])('%s has no contents on either path', (_name, text) => {
    expect(parseYamlTree(text, 'x.yaml').root).toBeUndefined();
    expect(same(text)?.root).toBeUndefined();
  });

  it.each([
    ['anchors and aliases', 'a: &x {b: 1}\nc: *x\n'],
    ['a tag', 'a: !!str 12\n'],
    ['a custom tag', 'a: !secret x\n'],
    ['a merge key', 'base: {a: 1}\nb:\n  <<: {a: 2}\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a byte-order mark', '\ufeffa: 1\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['a document end marker (js-yaml reports an extra empty node)', 'a: 1\n...\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a null key', '~: 1\n'],
    ['a complex key', '? [a, b]\n: 1\n'],
    ['a tab-indented block', 'a:\n\tb: 1\n'],
  ])('declines %s, and the yaml path decides', (_name, text) => {
    expect(parseYamlFast(text, 'x.yaml')).toBeUndefined();
    const via = parseYamlTree(text, 'x.yaml');
    const ref = parseWithYaml(text, 'x.yaml');
    expect(via.diagnostics).toStrictEqual(ref.diagnostics);
    expect(dump(via.root)).toStrictEqual(dump(ref.root));
  });

  it('keeps positions: a key and its value on a later line', () => {
    const r = same('# c\nsettings:\n  time:\n    zone: "Europe/Lisbon"\n', 'p.yaml')!;
    const settings = r.root!.kind === 'map' ? r.root!.entries.get('settings')! : undefined;
    expect(settings?.keyLoc).toEqual({ file: 'p.yaml', line: 2, col: 1 });
    const time = settings?.node.kind === 'map' ? settings.node.entries.get('time') : undefined;
    expect(time?.node.loc).toEqual({ file: 'p.yaml', line: 4, col: 5 });
  });
});

describe('a __proto__ key is data', () => {
  it('toPlain and redactTree keep it as an own property and never change a prototype', async () => {
    const { toPlain } = await import('../src/config/yaml-tree.js');
    const { redactTree } = await import('../src/config/redact.js');
    const plain = toPlain(parseYamlTree('params:\n  __proto__: {polluted: yes}\n  ok: 1\n', 'x.yaml').root!) as Record<string, Record<string, unknown>>;
    const params = plain.params!;
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(params, '__proto__')).toBe(true);
    expect((params as { polluted?: unknown }).polluted).toBeUndefined();
    const redacted = redactTree(plain) as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(redacted.params)).toBe(Object.prototype);
    expect(Object.keys(redacted.params!)).toEqual(['__proto__', 'ok']);
  });
});
