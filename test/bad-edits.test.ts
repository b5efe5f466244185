// Issue 14.4, below the server: what the reader and `check` say about bytes that are not
// UTF-8 and about an empty global profile. (The same edits under a running server are in
// reload-e2e.test.ts, "silent bad edits are seen".)

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeUtf8, readTextTree } from '../src/io/read-tree.js';
import { runCli } from './helpers/cli.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const roots: TmpRoot[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => r.cleanup()));
});

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('decodeUtf8: the text, or the line and column of the first bad byte', () => {
  it.each([
    { name: 'cp1252 é', input: bytes('a: Caf', [0xe9], '\n'), at: { offset: 6, line: 1, col: 7 } },
    { name: 'a lone continuation byte on line 3', input: bytes('a: 1\nb: 2\nc: x', [0x80]), at: { offset: 14, line: 3, col: 5 } },
    { name: 'after multi-byte characters (columns count characters)', input: bytes('name: "João €', [0xff], '"'), at: { offset: 16, line: 1, col: 14 } },
    { name: 'an overlong encoding of "/"', input: bytes('p: ', [0xc0, 0xaf]), at: { offset: 3, line: 1, col: 4 } },
    { name: 'a UTF-16 surrogate encoded as UTF-8', input: bytes('s: ', [0xed, 0xa0, 0x80]), at: { offset: 3, line: 1, col: 4 } },
    { name: 'a sequence cut off at the end of the file', input: bytes('t: ok\nu: ', [0xe2, 0x82]), at: { offset: 9, line: 2, col: 4 } },
    { name: 'a code point past U+10FFFF', input: bytes('v: ', [0xf4, 0x90, 0x80, 0x80]), at: { offset: 3, line: 1, col: 4 } },
  ])('$name', ({ input, at }) => {
    expect(decodeUtf8(input)).toEqual(at);
  });

  it('valid UTF-8 (4-byte characters, a BOM) is decoded as is', () => {
    const text = '\uFEFFname: "João 😀 €"\n';
    expect(decodeUtf8(Buffer.from(text, 'utf8'))).toBe(text);
  });
});

describe('readTextTree reports invalid UTF-8 with its position and keeps the file known', () => {
  it('a profile with a cp1252 byte on line 2', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-utf8-'));
    try {
      await fs.mkdir(path.join(dir, 'profiles/sites'), { recursive: true });
      await fs.writeFile(path.join(dir, 'profiles/sites/lisbon.yaml'), bytes('settings:\n  language: "Portugu', [0xea], 's"\n'));
      const r = await readTextTree(dir, ['profiles']);
      expect(r.diagnostics.map((d) => [d.code, d.severity, d.loc])).toEqual([['INVALID_UTF8', 'error', { file: 'profiles/sites/lisbon.yaml', line: 2, col: 21 }]]);
      expect(r.files.has('profiles/sites/lisbon.yaml')).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('`deskset check` and an empty global profile', () => {
  it.each([
    { name: 'zero bytes', text: '' },
    { name: 'only blank lines and comments', text: '\n# emptied by an editor\n\n' },
  ])('$name: EMPTY_GLOBAL at profiles/global.yaml:1:1, exit 1', async ({ text }) => {
    const root = await makeTmpRoot({ 'profiles/global.yaml': text }, 'deskset-empty-');
    roots.push(root);
    const r = await runCli(['check', root.dir]);
    expect(r.stdout).toContain(`${path.join(root.dir, 'profiles/global.yaml')}:1:1: error EMPTY_GLOBAL: `);
    expect(r.code).toBe(1);
  });

  it('allow_empty_global: true in deskset.yaml accepts it (exit 0)', async () => {
    const root = await makeTmpRoot({ 'profiles/global.yaml': '' }, 'deskset-empty-');
    roots.push(root);
    await fs.appendFile(path.join(root.dir, 'deskset.yaml'), '\nallow_empty_global: true\n');
    const r = await runCli(['check', root.dir]);
    expect(r.stdout).not.toContain('EMPTY_GLOBAL');
    expect(r.code).toBe(0);
  });

  it('allow_empty_global must be true or false', async () => {
    const root = await makeTmpRoot({}, 'deskset-empty-');
    roots.push(root);
    await fs.appendFile(path.join(root.dir, 'deskset.yaml'), '\nallow_empty_global: sometimes\n');
    const r = await runCli(['check', root.dir]);
    expect(r.stdout).toMatch(/error CONFIG: allow_empty_global: expected true or false/);
    expect(r.code).toBe(1);
  });
});

describe('a file that changes while it is read', () => {
  it('is reported as FILE_CHANGING by a stable read (and never by the start-up read, which does not check)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-torn-'));
    const file = path.join(dir, 'profiles/groups/big.yaml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, `settings:\n  custom:\n${'    # padding\n'.repeat(250_000)}`);
    // Another process rewrites the file in place without pause, as a slow editor or a copy does.
    const { spawn } = await import('node:child_process');
    const writer = spawn(process.execPath, ['-e', `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'r+');const b=Buffer.from('    # rewrite\\n');for(let i=0;;i=(i+1)%250000)fs.writeSync(fd,b,0,b.length,21+i*14);`], { stdio: 'ignore' });
    try {
      let changing = 0;
      for (let i = 0; i < 100 && changing === 0; i++) {
        const r = await readTextTree(dir, ['profiles'], { stable: true });
        const d = r.diagnostics.find((x) => x.code === 'FILE_CHANGING');
        if (d) {
          changing++;
          expect(d.loc?.file).toBe('profiles/groups/big.yaml');
          expect(r.files.has('profiles/groups/big.yaml')).toBe(false);
        }
      }
      expect(changing).toBe(1);
      const plain = await readTextTree(dir, ['profiles']);
      expect(plain.diagnostics).toEqual([]);
    } finally {
      writer.kill('SIGKILL');
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
