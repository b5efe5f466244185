// Secrets from ${env:} and ${file:} references never leave deskset except in the files phones
// fetch and in `render --show-secrets`: not in previews, explain, check (even when an error
// message quotes the value), nor in the access log. References that try to leave the root are
// refused without reading anything.

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '../src/config/redact.js';
import { startServer, type RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { appendYaml, basic, get, memoryLog, settle } from './helpers/e2e-http.js';
import { makeTmpRoot, replaceOnce, sampleSecrets, type TmpRoot } from './helpers/tmp-root.js';

const ENV = {
  QA_LEAK_LINE_PW: 'EnvLine-5521-qa',
  QA_LEAK_GLOBAL_PW: 'GlobEnv-7781-qa',
  QA_LEAK_NOTE: 'NoteSec-3310-qa',
};
const FILE_SECRET = 'FileSec-8812-qa';
const DEVICES = ['0004f2a1b2c3', '2cf4c5001122', '64167f0a8800', '805ec0123456', '805ec0abcdef', 'c81fea83e85a', 'c81fea9102aa'];

let SECRETS: string[] = [];
let root: TmpRoot;
const outDirs: string[] = [];

beforeAll(async () => {
  root = await makeTmpRoot({
    'secrets/qa-file-secret': `${FILE_SECRET}\n`,
    'profiles/devices/805ec0123456.yaml': replaceOnce('"${file:secrets/line-2010}"', '"${env:QA_LEAK_LINE_PW}"'),
    'profiles/devices/0004f2a1b2c3.yaml': appendYaml('auth:\n  user: vvx\n  password: "${file:secrets/qa-file-secret}"\n'),
    'profiles/global.yaml': appendYaml('  custom:\n    note: "${env:QA_LEAK_NOTE}"\nauth:\n  user: prov\n  password: "${env:QA_LEAK_GLOBAL_PW}"\n'),
  });
  SECRETS = [...Object.values(ENV), FILE_SECRET, ...(await sampleSecrets())];
  expect(SECRETS).toContain('rc9-Tq2m');
  expect(SECRETS).toContain('Nw-Adm1n-2024');
});
afterAll(async () => {
  await root?.cleanup();
  for (const d of outDirs) await fs.rm(d, { recursive: true, force: true });
});

const leaks = (text: string, secrets: readonly string[] = SECRETS): string[] => secrets.filter((s) => text.includes(s));

async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, await fs.readFile(path.join(abs, e.name), 'utf8'));
    }
  };
  await walk(dir, '');
  return out;
}

async function renderTo(args: string[]): Promise<{ code: number | null; files: Map<string, string>; output: string }> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-qa-render-'));
  outDirs.push(out);
  const r = await runCli(['render', root.dir, '--out', out, ...args], { env: ENV });
  return { code: r.code, files: await readTree(out), output: r.stdout + r.stderr };
}

describe('deskset render', () => {
  it('without a flag: no secret in any file nor on the terminal, •••• where they were', async () => {
    const r = await renderTo([]);
    expect(r.code, r.output).toBe(0);
    expect(r.files.size).toBeGreaterThan(10);
    for (const [name, text] of r.files) expect(leaks(text), name).toEqual([]);
    expect(leaks(r.output)).toEqual([]);
    expect(r.files.get('805ec0123456.cfg')).toMatch(new RegExp(`^account\\.1\\.password = ${REDACTED}$`, 'm'));
    expect(r.files.get('0004f2a1b2c3-settings.cfg')).toContain(`reg.1.auth.password="${REDACTED}"`);
    expect(r.files.get('c81fea83e85a.txt')).toMatch(new RegExp(`^SET ADMIN_PASSWORD ${REDACTED}$`, 'm'));
  });

  it('--show-secrets: the real values are in the files', async () => {
    const r = await renderTo(['--show-secrets']);
    expect(r.code, r.output).toBe(0);
    expect(r.files.get('805ec0123456.cfg')).toMatch(/^account\.1\.password = EnvLine-5521-qa$/m);
    expect(r.files.get('0004f2a1b2c3-settings.cfg')).toContain('reg.1.auth.password="Vv-45-ab"');
    expect(r.files.get('c81fea83e85a.txt')).toMatch(/^SET ADMIN_PASSWORD Nw-Adm1n-2024$/m);
    const all = [...r.files.values()].join('\n');
    expect(all).not.toContain(REDACTED);
    expect(leaks(r.output)).toEqual([]);
  });
});

describe('deskset explain', () => {
  it.each(DEVICES)('%s, text and --json, with and without a key: no secret', async (mac) => {
    for (const extra of [[], ['--json']]) {
      const r = await runCli(['explain', root.dir, mac, ...extra], { env: ENV });
      expect(r.code, r.stderr).toBe(0);
      expect(leaks(r.stdout + r.stderr), `${mac} ${extra.join(' ')}`).toEqual([]);
      expect(r.stdout).toContain(REDACTED);
      for (const key of ['lines', 'custom.note', 'custom', 'admin_password', 'auth', 'auth.password']) {
        const k = await runCli(['explain', root.dir, mac, key, ...extra], { env: ENV });
        expect(leaks(k.stdout + k.stderr), `${mac} ${key} ${extra.join(' ')}`).toEqual([]);
      }
    }
  });

  it('the auth password and a secret under a key that does not look secret are shown as ••••', async () => {
    const r = await runCli(['explain', root.dir, '0004f2a1b2c3'], { env: ENV });
    expect(r.stdout).toMatch(/^auth\.password = "••••"$/m);
    expect(r.stdout).toMatch(/^settings\.custom\.note = "••••"$/m);
  });

  describe('a key removed with null whose inherited value was a secret', () => {
    let rm: TmpRoot;
    const RM_ENV = { QA_LEAK_RM: 'RmSecret-9910-qa', QA_LEAK_SITE_PW: 'SiteLine-4410-qa' };
    beforeAll(async () => {
      rm = await makeTmpRoot({
        'profiles/global.yaml': appendYaml('  custom:\n    app_file_path: "${env:QA_LEAK_RM}"\n'),
        'profiles/sites/nyc.yaml': appendYaml('  lines:\n    - {extension: "9000", password: "${env:QA_LEAK_SITE_PW}"}\n'),
        'profiles/devices/c81fea83e85a.yaml': appendYaml('  custom:\n    app_file_path: null\n'),
        'profiles/devices/c81fea9102aa.yaml': replaceOnce(/ {2}lines:\n(?: {4}- .*\n)+/, '  lines: null\n'),
      });
    });
    afterAll(async () => {
      await rm?.cleanup();
    });

    it('control: explain of the whole device masks the removed values', async () => {
      for (const mac of ['c81fea83e85a', 'c81fea9102aa']) {
        const r = await runCli(['explain', rm.dir, mac], { env: RM_ENV });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/\(removed\)/);
        expect(leaks(r.stdout, Object.values(RM_ENV))).toEqual([]);
      }
    });

    // BUG: src/config/explain.ts removalOf() (the path taken when KEY names a removed key) prints
    // `was` values with only `isSecretKey(key) ? REDACTED : p.value`: no secrets set, no
    // recursion into lists/maps. `deskset explain ROOT c81fea83e85a custom.app_file_path`
    // prints "RmSecret-9910-qa"; `explain ROOT c81fea9102aa lines` prints the site line password.
    it.each([
      ['c81fea83e85a', 'custom.app_file_path'],
      ['c81fea9102aa', 'lines'],
    ])('explain %s %s (text and --json) never shows the removed secret', async (mac, key) => {
      for (const extra of [[], ['--json']]) {
        const r = await runCli(['explain', rm.dir, mac, key, ...extra], { env: RM_ENV });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/removed/);
        expect(leaks(r.stdout + r.stderr, Object.values(RM_ENV)), `${key} ${extra.join(' ')}`).toEqual([]);
      }
    });
  });
});

/** The Poly master template with APP_FILE_PATH from settings.custom.app_file_path (ours has an XSD pattern for it). */
const MASTER_OVERRIDE = [
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
  '<!-- test override of the Poly master config -->',
  '<APPLICATION APP_FILE_PATH="{{xml (default settings.custom.app_file_path "")}}" CONFIG_FILES="{{xml device.mac}}-settings.cfg">',
  '</APPLICATION>',
  '',
].join('\n');

describe('deskset check', () => {
  it('on the root: text and --json show no secret', async () => {
    for (const extra of [[], ['--json']]) {
      const r = await runCli(['check', root.dir, ...extra], { env: ENV });
      expect(r.code, r.stdout).toBe(0);
      expect(leaks(r.stdout + r.stderr)).toEqual([]);
    }
  });

  describe('an XSD error whose message quotes a value that is a secret', () => {
    let xsd: TmpRoot;
    beforeAll(async () => {
      xsd = await makeTmpRoot({
        'templates/polycom/master.cfg.hbs': MASTER_OVERRIDE,
        'profiles/devices/0004f2a1b2c3.yaml': appendYaml('  custom:\n    app_file_path: "${env:QA_LEAK_XSD}"\n'),
      });
    });
    afterAll(async () => {
      await xsd?.cleanup();
    });

    it.each(['Xsd Secret-4471', 'Amp&Sec <x>-4473', 'Quote"Sec ret-4474', 'Back\\slash Sec-4472'])('text output: %s is masked where the message quotes it', async (secret) => {
      const r = await runCli(['check', xsd.dir], { env: { QA_LEAK_XSD: secret } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/error XSD: .*APP_FILE_PATH/);
      expect(r.stdout).toContain(`'${REDACTED}'`);
      expect(leaks(r.stdout + r.stderr, [secret])).toEqual([]);
    });

    it.each(['Xsd Secret-4471', 'Amp&Sec <x>-4473'])('--json output: %s is masked', async (secret) => {
      const r = await runCli(['check', xsd.dir, '--json'], { env: { QA_LEAK_XSD: secret } });
      expect(r.code).toBe(1);
      const json = JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; message: string }> };
      expect(json.diagnostics.some((d) => d.code === 'XSD' && d.message.includes(`'${REDACTED}'`))).toBe(true);
      expect(leaks(r.stdout + r.stderr, [secret])).toEqual([]);
    });

    // BUG: src/cli/check.ts --json runs redactSecrets over JSON.stringify(...) output, where a
    // secret containing `\` or `"` (or a control character) is already escaped (`\\`, `\"`), so it
    // no longer matches and is printed. Redact the values before serialising.
    it.each(['Back\\slash Sec-4472', 'Quote"Sec ret-4474'])('--json output: %s (JSON-escaped in the output) is masked too', async (secret) => {
      const r = await runCli(['check', xsd.dir, '--json'], { env: { QA_LEAK_XSD: secret } });
      expect(r.code).toBe(1);
      const json = JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; message: string }> };
      const messages = json.diagnostics.map((d) => d.message).join('\n');
      expect(leaks(messages, [secret])).toEqual([]);
      expect(leaks(r.stdout, [JSON.stringify(secret).slice(1, -1)])).toEqual([]);
    });
  });

  it('a ${file:} secret holding a control character: a render error that does not quote it', async () => {
    const SECRET = 'Ctl\u0001Secret-5531';
    const ctl = await makeTmpRoot({ 'secrets/line-1020': `${SECRET}\n` });
    try {
      for (const extra of [[], ['--json']]) {
        const r = await runCli(['check', ctl.dir, ...extra]);
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/RENDER/);
        expect(leaks(r.stdout + r.stderr, [SECRET, 'Secret-5531', JSON.stringify(SECRET).slice(1, -1)])).toEqual([]);
      }
      const s = await runCli(['render', ctl.dir, '--out', path.join(ctl.dir, 'out')]);
      expect(leaks(s.stdout + s.stderr, [SECRET, 'Secret-5531'])).toEqual([]);
    } finally {
      await ctl.cleanup();
    }
  });
});

describe('the access log of a run with Basic credentials and URL tokens', () => {
  let srv: RunningServer;
  let mem: ReturnType<typeof memoryLog>;
  let token: string;

  beforeAll(async () => {
    const t = await runCli(['token', 'issue', root.dir, '805ec0abcdef', '--json'], { env: ENV });
    expect(t.code, t.stderr).toBe(0);
    token = (JSON.parse(t.stdout) as { token: string }).token;
    Object.assign(process.env, ENV);
    mem = memoryLog();
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: mem.log, watch: false });
  });
  afterAll(async () => {
    await srv?.close();
    for (const k of Object.keys(ENV)) delete process.env[k];
  });

  it('holds no secret, no Authorization value, no token', async () => {
    const creds = [basic('prov', ENV.QA_LEAK_GLOBAL_PW), basic('vvx', FILE_SECRET), basic('prov', 'wrong-Guess-1'), basic('vvx', 'rc9-Tq2m'), basic('EnvLine-5521-qa', 'x')];
    // The credentials really work (checked first: the wrong ones below lock devices after 3 tries).
    expect((await get(srv.url, '/805ec0123456.cfg', { headers: creds[0] })).text).toContain(ENV.QA_LEAK_LINE_PW);
    const statuses: number[] = [];
    for (const c of creds) {
      for (const p of ['/805ec0123456.cfg', '/0004f2a1b2c3-settings.cfg', '/000000000000.cfg', '/0004f2999999.cfg', '/logo.txt']) {
        statuses.push((await get(srv.url, p, { headers: c })).status);
      }
    }
    for (const p of ['/805ec0abcdef.cfg', '/y000000000096.cfg', '/805ec0123456.cfg', '/nothing.xml']) statuses.push((await get(srv.url, `/p/${token}${p}`)).status);
    statuses.push((await get(srv.url, `/p/${token}/805ec0abcdef.cfg?x=${token}`)).status);
    // The log is of successful requests too.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(6);
    await settle();
    const all = mem.lines.join('\n');
    expect(mem.access().length).toBeGreaterThanOrEqual(30);
    expect(leaks(all)).toEqual([]);
    for (const c of creds) {
      expect(all).not.toContain(c.authorization.slice('Basic '.length));
    }
    expect(all).not.toMatch(/authorization/i);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.slice(0, 16));
  });
});

describe('${file:} references that leave the root', () => {
  let outside: string;
  const MARK = `outside-marker-${process.pid}-${Date.now()}`;
  const roots: TmpRoot[] = [];
  beforeAll(async () => {
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-qa-outside-'));
    await fs.writeFile(path.join(outside, 'secret.txt'), `${MARK}\n`);
  });
  afterAll(async () => {
    for (const r of roots) await r.cleanup();
    await fs.rm(outside, { recursive: true, force: true });
  });
  const useRef = (ref: string) => ({ 'profiles/devices/805ec0123456.yaml': replaceOnce('"${file:secrets/line-2010}"', `"${ref}"`) });

  it('${file:../…}: check error SECRET_REF_ESCAPES, the file not read, serve refuses', async () => {
    const r = await makeTmpRoot(useRef('${file:../outside-secret.txt}'));
    roots.push(r);
    await fs.writeFile(path.join(path.dirname(r.dir), 'outside-secret.txt'), `${MARK}\n`).catch(() => undefined);
    try {
      const c = await runCli(['check', r.dir]);
      expect(c.code).toBe(1);
      expect(c.stdout + c.stderr).toMatch(/error SECRET_REF_ESCAPES\b/);
      expect(c.stdout + c.stderr).not.toContain(MARK);
      const out = await runCli(['render', r.dir, '--out', path.join(r.dir, 'out'), '--show-secrets']);
      expect(out.code).toBe(1);
      expect(out.stdout + out.stderr).not.toContain(MARK);
      await expect(startServer({ root: r.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false })).rejects.toThrow();
    } finally {
      await fs.rm(path.join(path.dirname(r.dir), 'outside-secret.txt'), { force: true });
    }
  });

  it('${file:../fifo}: refused without even opening it (a named pipe would block any read)', async () => {
    const r = await makeTmpRoot(useRef('${file:../qa-fifo}'));
    roots.push(r);
    const fifo = path.join(path.dirname(r.dir), 'qa-fifo');
    await fs.rm(fifo, { force: true });
    execFileSync('mkfifo', [fifo]);
    try {
      const c = await runCli(['check', r.dir], { killAfterMs: 20_000 });
      expect(c.signal).toBeNull();
      expect(c.code).toBe(1);
      expect(c.stdout).toMatch(/error SECRET_REF_ESCAPES\b/);
    } finally {
      await fs.rm(fifo, { force: true });
    }
  });

  it('a symlink inside the root pointing outside: not read, an error', async () => {
    const r = await makeTmpRoot(useRef('${file:secrets/linked}'));
    roots.push(r);
    await fs.symlink(path.join(outside, 'secret.txt'), r.file('secrets/linked'));
    const c = await runCli(['check', r.dir]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/error SECRET_REF_\w+\b.*secrets\/linked/);
    expect(c.stdout + c.stderr).not.toContain(MARK);
    const e = await runCli(['explain', r.dir, '805ec0123456']);
    expect(e.stdout + e.stderr).not.toContain(MARK);
    const out = await runCli(['render', r.dir, '--out', path.join(r.dir, 'out'), '--show-secrets']);
    expect(out.code).toBe(1);
    expect(out.stdout + out.stderr).not.toContain(MARK);
    await expect(fs.readdir(path.join(r.dir, 'out')).then((f) => f.length).catch(() => 0)).resolves.toBe(0);
  });

  it('a symlink inside the root pointing at a named pipe outside: refused without blocking', async () => {
    const r = await makeTmpRoot(useRef('${file:secrets/pipe}'));
    roots.push(r);
    const fifo = path.join(outside, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await fs.symlink(fifo, r.file('secrets/pipe'));
    const c = await runCli(['check', r.dir], { killAfterMs: 20_000 });
    expect(c.signal).toBeNull();
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/error SECRET_REF_\w+\b/);
  });

  it('control: the same reference to a file inside the root is read', async () => {
    const r = await makeTmpRoot({ ...useRef('${file:secrets/inside}'), 'secrets/inside': 'Inside-Pw-2231\n' });
    roots.push(r);
    const c = await runCli(['check', r.dir]);
    expect(c.code, c.stdout).toBe(0);
    const out = await runCli(['render', r.dir, '--out', path.join(r.dir, 'out'), '--show-secrets', '--device', '805ec0123456']);
    expect(out.code, out.stderr).toBe(0);
    expect(await fs.readFile(path.join(r.dir, 'out', '805ec0123456.cfg'), 'utf8')).toMatch(/^account\.1\.password = Inside-Pw-2231$/m);
  });
});
