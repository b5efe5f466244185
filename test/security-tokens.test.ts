import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../src/cli/token.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { hashToken, parseTokenPath, redactTokenPath, TokenStore } from '../src/security/tokens.js';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAC = 'c81fea83e85a';
const MAC2 = '0004f2aabbcc';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'deskset-tokens-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('TokenStore', () => {
  it('issues a 32-byte base64url token once and stores only its hash, mode 0600', async () => {
    const file = path.join(dir, 'var', 'tokens.json');
    const store = new TokenStore(file);
    await store.load();
    const token = await store.issue('C8:1F:EA:83:E8:5A');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url').length).toBe(32);
    expect(store.lookup(token)).toBe(MAC);
    const text = await fsp.readFile(file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain(hashToken(token));
    expect(JSON.parse(text).tokens[hashToken(token)].mac).toBe(MAC);
    expect((await fsp.stat(file)).mode & 0o777).toBe(0o600);
    // No temp files left behind.
    expect(await fsp.readdir(path.dirname(file))).toEqual(['tokens.json']);
  });

  it('re-issuing revokes the previous token of the device', async () => {
    const store = new TokenStore(path.join(dir, 'tokens.json'));
    const first = await store.issue(MAC);
    const other = await store.issue(MAC2);
    const second = await store.issue(MAC);
    expect(second).not.toBe(first);
    expect(store.lookup(first)).toBeUndefined();
    expect(store.lookup(second)).toBe(MAC);
    expect(store.lookup(other)).toBe(MAC2);
    expect(store.list().map((e) => e.mac)).toEqual([MAC2, MAC]);
  });

  it('revokes', async () => {
    const store = new TokenStore(path.join(dir, 'tokens.json'));
    const t = await store.issue(MAC);
    expect(await store.revoke(MAC)).toBe(true);
    expect(store.lookup(t)).toBeUndefined();
    expect(await store.revoke(MAC)).toBe(false);
    const again = new TokenStore(store.file);
    await again.load();
    expect(again.list()).toEqual([]);
  });

  it('persists across instances and refresh() picks up another writer', async () => {
    const file = path.join(dir, 'tokens.json');
    const server = new TokenStore(file);
    await server.load();
    expect(await server.refresh()).toBe(false);
    const cli = new TokenStore(file, () => new Date('2026-01-02T03:04:05Z'));
    const t = await cli.issue(MAC);
    expect(server.lookup(t)).toBeUndefined();
    expect(await server.refresh()).toBe(true);
    expect(server.lookup(t)).toBe(MAC);
    expect(server.list()).toEqual([{ mac: MAC, issuedAt: '2026-01-02T03:04:05.000Z' }]);
    expect(await server.refresh()).toBe(false);
  });

  it('serialises concurrent issues in one process', async () => {
    const store = new TokenStore(path.join(dir, 'tokens.json'));
    const macs = Array.from({ length: 10 }, (_, i) => `0004f2aabb${i.toString(16).padStart(2, '0')}`);
    const tokens = await Promise.all(macs.map((m) => store.issue(m)));
    const fresh = new TokenStore(store.file);
    await fresh.load();
    tokens.forEach((t, i) => expect(fresh.lookup(t)).toBe(macs[i]));
  });

  it('refuses bad MACs and the all-zero MAC', async () => {
    const store = new TokenStore(path.join(dir, 'tokens.json'));
    await expect(store.issue('not-a-mac')).rejects.toThrow(TypeError);
    await expect(store.issue('000000000000')).rejects.toThrow(TypeError);
  });

  it('lookup refuses malformed tokens without hashing them', async () => {
    const store = new TokenStore(path.join(dir, 'tokens.json'));
    const t = await store.issue(MAC);
    expect(store.lookup(`${t}x`)).toBeUndefined();
    expect(store.lookup(t.slice(1))).toBeUndefined();
    expect(store.lookup('')).toBeUndefined();
    expect(store.lookup('x'.repeat(100_000))).toBeUndefined();
    expect(store.lookup(hashToken(t))).toBeUndefined(); // the stored hash is not a token
  });

  it('a corrupt file throws on load and is never overwritten', async () => {
    const file = path.join(dir, 'tokens.json');
    await fsp.writeFile(file, '{"version":1,"tokens":{"zz":{}}}');
    const store = new TokenStore(file);
    await expect(store.load()).rejects.toThrow(/tokens\.json/);
    await expect(store.issue(MAC)).rejects.toThrow();
    expect(await fsp.readFile(file, 'utf8')).toBe('{"version":1,"tokens":{"zz":{}}}');
    await fsp.writeFile(file, 'not json');
    await expect(store.load()).rejects.toThrow(/not valid JSON/);
  });
});

describe('parseTokenPath', () => {
  const tok = 'A'.repeat(20) + '_-' + 'b'.repeat(21);
  it.each([
    [`p/${tok}/000000000000.cfg`, { token: tok, rest: '000000000000.cfg' }],
    [`p/${tok}/${MAC}.cfg`, { token: tok, rest: `${MAC}.cfg` }],
    [`p/${tok}/firmware/sip.ld`, { token: tok, rest: 'firmware/sip.ld' }],
  ])('%s', (p, expected) => {
    expect(tok).toHaveLength(43);
    expect(parseTokenPath(p)).toEqual(expected);
  });

  it.each([
    [`/p/${tok}/x.cfg`], // leading slash: callers pass decodeRequestPath's form
    [`p/${tok}/`],
    [`p/${tok}`],
    [`p/${tok.slice(1)}/x.cfg`],
    [`p/${tok}x/x.cfg`],
    [`p/${tok.slice(1)}+/x.cfg`],
    [`q/${tok}/x.cfg`],
    ['p//x.cfg'],
    [`${MAC}.cfg`],
  ])('%s -> undefined', (p) => {
    expect(parseTokenPath(p)).toBeUndefined();
  });

  it('redactTokenPath masks the token segment for logs', () => {
    expect(redactTokenPath(`/p/${tok}/${MAC}.cfg`)).toBe(`/p/••••/${MAC}.cfg`);
    expect(redactTokenPath(`p/${tok}/x`)).toBe('p/••••/x');
    expect(redactTokenPath('/p/wrong-guess/x')).toBe('/p/••••/x');
    expect(redactTokenPath(`/${MAC}.cfg`)).toBe(`/${MAC}.cfg`);
  });
});

/** Capture what run() writes. */
async function runCaptured(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await run(args);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

/** The MAC a token belongs to, read from the root's SQLite state store as a server would. */
async function lookupIn(root: string, token: string, stateDir = 'var'): Promise<string | undefined> {
  const db = await openSqliteStore({ file: path.join(root, stateDir, 'deskset.db') });
  try {
    const store = TokenStore.onStore(db);
    await store.load();
    return store.lookup(token);
  } finally {
    await db.close();
  }
}

describe('deskset token (in process)', () => {
  it('issue prints the token and the URL path once; the store has only the hash', async () => {
    const r = await runCaptured(['issue', dir, 'c8-1f-ea-83-e8-5a']);
    expect(r.code).toBe(0);
    const token = /^ {2}([A-Za-z0-9_-]{43})$/m.exec(r.stdout)?.[1];
    expect(token).toBeDefined();
    expect(r.stdout).toContain(`provisioning URL path: /p/${token}/`);
    expect(r.stdout.split(token!).length - 1).toBe(2); // the token line and the path line
    expect(r.stderr).not.toContain(token!);
    expect(await lookupIn(dir, token!)).toBe(MAC);
  });

  it('honours state_dir and public_url from deskset.yaml, and --json', async () => {
    await fsp.writeFile(path.join(dir, 'deskset.yaml'), 'state_dir: state\npublic_url: https://prov.example.com/\n');
    const r = await runCaptured(['issue', dir, MAC, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { mac: string; token: string; path: string; url: string; replaced: boolean };
    expect(out).toMatchObject({ mac: MAC, path: `/p/${out.token}/`, url: `https://prov.example.com/p/${out.token}/`, replaced: false });
    // The tokens live in the state store, under state_dir.
    expect(existsSync(path.join(dir, 'state', 'deskset.db'))).toBe(true);
    expect(await lookupIn(dir, out.token, 'state')).toBe(MAC);
    const again = JSON.parse((await runCaptured(['issue', dir, MAC, '--json'])).stdout) as { replaced: boolean };
    expect(again.replaced).toBe(true);
  });

  it('list and revoke', async () => {
    await runCaptured(['issue', dir, MAC]);
    const l = await runCaptured(['list', dir, '--json']);
    expect(l.code).toBe(0);
    expect((JSON.parse(l.stdout) as Array<{ mac: string }>).map((e) => e.mac)).toEqual([MAC]);
    expect(l.stdout).not.toMatch(/[A-Za-z0-9_-]{43}/);
    expect((await runCaptured(['revoke', dir, MAC])).code).toBe(0);
    const r = await runCaptured(['revoke', dir, MAC]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no token/);
    expect((await runCaptured(['list', dir])).stdout).toMatch(/no tokens/);
  });

  it('usage errors exit 2', async () => {
    expect((await runCaptured(['issue', dir, 'nope'])).code).toBe(2);
    expect((await runCaptured(['issue', dir, '000000000000'])).code).toBe(2);
    expect((await runCaptured(['frobnicate'])).code).toBe(2);
    expect((await runCaptured([])).code).toBe(2);
  });

  it('a missing ROOT or a broken deskset.yaml exits 1 and writes nothing', async () => {
    expect((await runCaptured(['issue', path.join(dir, 'typo'), MAC])).code).toBe(1);
    expect(existsSync(path.join(dir, 'typo'))).toBe(false);
    await fsp.writeFile(path.join(dir, 'deskset.yaml'), 'state_dir: [1, 2\n');
    const r = await runCaptured(['issue', dir, MAC]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/deskset\.yaml:\d+:\d+/);
    expect(existsSync(path.join(dir, 'var'))).toBe(false);
  });
});

const DIST_TOKEN = path.join(PACKAGE_DIR, 'dist', 'cli', 'token.js');

describe.skipIf(!existsSync(DIST_TOKEN))('deskset token (real process, dist/)', () => {
  function node(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('node bin/deskset.js token issue ROOT MAC', async () => {
    const r = await node([path.join(PACKAGE_DIR, 'bin', 'deskset.js'), 'token', 'issue', dir, MAC]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const token = /provisioning URL path: \/p\/([A-Za-z0-9_-]{43})\//.exec(r.stdout)?.[1];
    expect(token).toBeDefined();
    expect(await lookupIn(dir, token!)).toBe(MAC);
    expect((await fsp.stat(path.join(dir, 'var', 'deskset.db'))).mode & 0o777).toBe(0o600);
  });
});

describe.skipIf(!existsSync(DIST_TOKEN))('dist/cli/token.js (real process, without the dispatcher)', () => {
  it('issues through the compiled module', async () => {
    const script = `import { run } from ${JSON.stringify(new URL(`file://${DIST_TOKEN}`).href)}; process.exitCode = await run(process.argv.slice(1));`;
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'issue', dir, MAC], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const token = /provisioning URL path: \/p\/([A-Za-z0-9_-]{43})\//.exec(r.stdout)?.[1];
    expect(await lookupIn(dir, token!)).toBe(MAC);
  });
});
