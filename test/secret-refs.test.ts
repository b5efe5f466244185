import { describe, expect, it } from 'vitest';
import { redactSecrets, resolveSecretRefs, type SecretRefContext } from '../src/config/secret-refs.js';
import { parseYamlTree, toPlain, type PNode } from '../src/config/yaml-tree.js';

const FILE = 'profiles/devices/c81fea83e85a.yaml';

function tree(text: string): PNode {
  const p = parseYamlTree(text, FILE);
  expect(p.diagnostics).toEqual([]);
  return p.root!;
}

function ctx(env: Record<string, string> = {}, files: Record<string, string> = {}): SecretRefContext & { reads: string[] } {
  const reads: string[] = [];
  return {
    env: (n) => (Object.hasOwn(env, n) ? env[n] : undefined),
    readFile: (rel) => {
      reads.push(rel);
      return Object.hasOwn(files, rel) ? files[rel] : undefined;
    },
    file: FILE,
    reads,
  };
}

/** The node at a dotted path (`lines.0.password`). */
function at(node: PNode, p: string): PNode {
  let n = node;
  for (const k of p.split('.')) {
    if (n.kind === 'map') n = n.entries.get(k)!.node;
    else if (n.kind === 'list') n = n.items[Number(k)]!;
    else throw new Error(`no ${p}`);
  }
  return n;
}

const YAML = [
  'lines:', //                                   1
  '  - user: "1001"', //                         2
  '    password: ${env:LINE1_PW}', //            3
  '  - user: "1002"', //                         4
  '    password: ${file:secrets/line2.txt}', //  5
  'admin_password: "${env:ADMIN_PW}"', //        6
  'label: plain text', //                        7
  'port: 5060', //                               8
  '',
].join('\n');

describe('resolveSecretRefs', () => {
  it('resolves env and file references, keeping each value at its loc', () => {
    const root = tree(YAML);
    const r = resolveSecretRefs(root, ctx({ LINE1_PW: 'env-secret', ADMIN_PW: '4711' }, { 'secrets/line2.txt': 'file-secret\n' }));
    expect(r.diagnostics).toEqual([]);
    expect(toPlain(r.tree)).toEqual({
      lines: [
        { user: '1001', password: 'env-secret' },
        { user: '1002', password: 'file-secret' },
      ],
      admin_password: '4711',
      label: 'plain text',
      port: 5060,
    });
    expect(at(r.tree, 'lines.0.password').loc).toEqual({ file: FILE, line: 3, col: 15 });
    expect(at(r.tree, 'lines.1.password').loc).toEqual(at(root, 'lines.1.password').loc);
    expect(r.secrets).toEqual(new Set(['env-secret', 'file-secret', '4711']));
  });

  it('never mutates the input tree', () => {
    const root = tree(YAML);
    const before = JSON.stringify(toPlain(root));
    const r = resolveSecretRefs(root, ctx({ LINE1_PW: 'a-secret', ADMIN_PW: 'b-secret' }, { 'secrets/line2.txt': 'c-secret' }));
    expect(JSON.stringify(toPlain(root))).toBe(before);
    expect(r.tree).not.toBe(root);
    expect(at(root, 'lines.0.password')).not.toBe(at(r.tree, 'lines.0.password'));
    expect(at(root, 'lines.0.password').kind === 'scalar' && (at(root, 'lines.0.password') as { value: unknown }).value).toBe('${env:LINE1_PW}');
  });

  it('a missing env var or file is an error at the exact line:col, naming the reference and no value', () => {
    const r = resolveSecretRefs(tree(YAML), ctx({ ADMIN_PW: 'present-value' }));
    expect(r.diagnostics).toEqual([
      { code: 'SECRET_REF_MISSING', severity: 'error', message: '${env:LINE1_PW}: environment variable LINE1_PW is not set', loc: { file: FILE, line: 3, col: 15 } },
      { code: 'SECRET_REF_MISSING', severity: 'error', message: '${file:secrets/line2.txt}: file secrets/line2.txt does not exist in the config root', loc: { file: FILE, line: 5, col: 15 } },
    ]);
    expect(JSON.stringify(r.diagnostics)).not.toContain('present-value');
    // Unresolved references stay as written; nothing unresolved is a secret.
    expect((at(r.tree, 'lines.0.password') as { value: unknown }).value).toBe('${env:LINE1_PW}');
    expect(r.secrets).toEqual(new Set(['present-value']));
  });

  it.each([
    ['/etc/shadow'],
    ['../outside.txt'],
    ['secrets/../../outside.txt'],
    ['a/b/../../../x'],
    ['..'],
    ['C:/Windows/x'],
    ['secrets\\..\\..\\x'],
    ['secrets/\u0000x'],
  ])('file reference %j escapes the config root', (p) => {
    const c = ctx({}, { 'outside.txt': 'x' });
    const r = resolveSecretRefs(tree(`pw: ${JSON.stringify(`\${file:${p}}`)}\n`), c);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'SECRET_REF_ESCAPES', severity: 'error', loc: { file: FILE, line: 1, col: 5 } });
    expect(r.diagnostics[0]!.message).toMatch(/escapes the config root/);
    expect(c.reads).toEqual([]);
  });

  it('normalises harmless paths before reading', () => {
    const c = ctx({}, { 'secrets/pw.txt': 'ok' });
    const r = resolveSecretRefs(tree('pw: ${file:./secrets//x/../pw.txt}\n'), c);
    expect(r.diagnostics).toEqual([]);
    expect(c.reads).toEqual(['secrets/pw.txt']);
    expect(toPlain(r.tree)).toEqual({ pw: 'ok' });
  });

  it('trims exactly one trailing newline from file contents', () => {
    const files = { a: 'x\n\n', b: 'y\r\n', c: 'z', d: ' w \n' };
    const r = resolveSecretRefs(tree('a: ${file:a}\nb: ${file:b}\nc: ${file:c}\nd: ${file:d}\n'), ctx({}, files));
    expect(toPlain(r.tree)).toEqual({ a: 'x\n', b: 'y', c: 'z', d: ' w ' });
  });

  it('empty values, bad names and unknown kinds are errors', () => {
    const r = resolveSecretRefs(tree('a: ${env:EMPTY}\nb: ${file:empty.txt}\nc: ${env:BAD-NAME}\nd: ${vault:x}\n'), ctx({ EMPTY: '' }, { 'empty.txt': '\n' }));
    expect(r.diagnostics.map((d) => [d.code, d.loc?.line])).toEqual([
      ['SECRET_REF_EMPTY', 1],
      ['SECRET_REF_EMPTY', 2],
      ['SECRET_REF_INVALID', 3],
      ['SECRET_REF_INVALID', 4],
    ]);
    expect(r.secrets.size).toBe(0);
  });

  it('only whole-value references resolve; embedded ones warn and stay text; $${ escapes', () => {
    const r = resolveSecretRefs(tree('url: "sip:${env:PW}@host"\nlit: "$${env:PW}"\nother: "${notaref"\n'), ctx({ PW: 'secret' }));
    expect(toPlain(r.tree)).toEqual({ url: 'sip:${env:PW}@host', lit: '${env:PW}', other: '${notaref' });
    expect(r.diagnostics).toEqual([{ code: 'SECRET_REF_EMBEDDED', severity: 'warning', message: expect.stringMatching(/whole value/), loc: { file: FILE, line: 1, col: 6 } }]);
    expect(r.secrets.size).toBe(0);
  });

  it('resolves inside lists and leaves keys alone', () => {
    const r = resolveSecretRefs(tree('${env:K}:\n  - ${env:K}\n  - 3\n  - null\n'), ctx({ K: 'v4lue' }));
    expect(toPlain(r.tree)).toEqual({ '${env:K}': ['v4lue', 3, null] });
  });

  it('a scalar root works too', () => {
    const r = resolveSecretRefs(tree('${env:K}\n'), ctx({ K: 'v' }));
    expect(r.tree).toMatchObject({ kind: 'scalar', value: 'v', loc: { line: 1, col: 1 } });
  });
});

describe('redactSecrets', () => {
  it('masks every occurrence, longest first', () => {
    expect(redactSecrets('pw=abc123 again abc123 and abc', new Set(['abc', 'abc123']))).toBe('pw=•••• again •••• and ••••');
    expect(redactSecrets('nothing here', new Set())).toBe('nothing here');
  });
});
