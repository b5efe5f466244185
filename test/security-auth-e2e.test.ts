// Access control end to end: real servers (startServer) on temp roots, asked over loopback
// the way phones and attackers ask. HTTP Basic at every layer, device lockout, no oracle for
// unknown MACs, plaintext/default credentials in `deskset check`, URL tokens issued by the
// real `deskset token` process, CIDR allow-lists and X-Forwarded-For.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DiagnosticsError } from '../src/check/diagnostics.js';
import { hashPassword } from '../src/security/password.js';
import { startServer, type RunningServer } from '../src/server.js';
import { spawn } from 'node:child_process';
import { BIN, collect, runCli, tryServe } from './helpers/cli.js';
import { appendYaml, basic, desksetYaml, get, memoryLog, settle, stable } from './helpers/e2e-http.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const POLY = '0004f2a1b2c3'; // VVX450, nyc, sales
const TRIO = '64167f0a8800'; // Trio8800, lisbon, support
const T46S = '805ec0123456'; // Yealink, lisbon, support
const T54W = '805ec0abcdef'; // Yealink, nyc, sales
const J179 = 'c81fea83e85a'; // Avaya, nyc, support
const J189 = 'c81fea9102aa'; // Avaya, nyc, sales + support
const SHARED = ['/000000000000.cfg', '/J100Supgrade.txt', '/y000000000066.cfg'];

const GLOBAL_USER = 'prov';
const GLOBAL_PW = 'Glob-Prov-8841';
const DEVICE_USER = 'phone1';
const DEVICE_PW = 'Dev-0004-Secret-55';
const ENV = { QA_AUTH_DEVICE_PW: DEVICE_PW, QA_AUTH_SALES_PW: 'Sales-Grp-3391', QA_PLCM_PW: 'PlcmSpIp' };

let globalHash: string;
let lisbonHash: string;
const LISBON_PW = 'Lis-Site-7720';

/** Security settings that keep the cool-down and lockout out of tests that are not about them. */
const RELAXED = ['security:', '  realm: Northwind QA', '  enumeration:', '    max_distinct: 1000', '  lockout:', '    attempts: 1000'].join('\n');

function authYaml(user: string, password: string): string {
  return `auth:\n  user: ${user}\n  password: "${password}"\n`;
}

beforeAll(async () => {
  Object.assign(process.env, ENV);
  [globalHash, lisbonHash] = await Promise.all([hashPassword(GLOBAL_PW), hashPassword(LISBON_PW)]);
});
afterAll(() => {
  for (const k of Object.keys(ENV)) delete process.env[k];
});

async function serve(root: TmpRoot, mem = memoryLog()): Promise<{ srv: RunningServer; base: string; mem: ReturnType<typeof memoryLog> }> {
  const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: mem.log, watch: false });
  return { srv, base: srv.url, mem };
}

describe('global auth (scrypt hash) and device-level auth (${env:} secret)', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let base: string;
  const globalCreds = () => basic(GLOBAL_USER, GLOBAL_PW);
  const deviceCreds = () => basic(DEVICE_USER, DEVICE_PW);

  beforeAll(async () => {
    root = await makeTmpRoot({
      'deskset.yaml': desksetYaml(RELAXED),
      'profiles/global.yaml': appendYaml(authYaml(GLOBAL_USER, globalHash)),
      [`profiles/devices/${POLY}.yaml`]: appendYaml(authYaml(DEVICE_USER, '${env:QA_AUTH_DEVICE_PW}')),
    });
    ({ srv, base } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('<mac>.cfg without credentials: 401, an empty body and a Basic challenge naming the realm', async () => {
    const r = await get(base, `/${TRIO}.cfg`);
    expect(r.status).toBe(401);
    expect(r.body.length).toBe(0);
    expect(r.headers['www-authenticate']).toMatch(/^Basic realm="Northwind QA"/);
    const h = await get(base, `/${TRIO}.cfg`, { method: 'HEAD' });
    expect(h.status).toBe(401);
    expect(h.headers['www-authenticate']).toBe(r.headers['www-authenticate']);
  });

  it('the right global credentials: 200 with the device file; wrong password or wrong user: 401', async () => {
    const ok = await get(base, `/${TRIO}.cfg`, { headers: globalCreds() });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain(`CONFIG_FILES="${TRIO}-settings.cfg"`);
    const settings = await get(base, `/${TRIO}-settings.cfg`, { headers: globalCreds() });
    expect(settings.status).toBe(200);
    for (const creds of [basic(GLOBAL_USER, 'wrong'), basic('someone', GLOBAL_PW), basic(GLOBAL_USER, `${GLOBAL_PW} `), basic(GLOBAL_USER.toUpperCase(), GLOBAL_PW)]) {
      const bad = await get(base, `/${TRIO}.cfg`, { headers: creds });
      expect(bad.status, creds.authorization).toBe(401);
      expect(bad.body.length).toBe(0);
      expect(bad.headers['www-authenticate']).toMatch(/^Basic realm=/);
    }
  });

  it('device-level auth: the device’s files need the device’s credentials (the global ones no longer open them)', async () => {
    for (const p of [`/${POLY}.cfg`, `/${POLY}-settings.cfg`]) {
      expect((await get(base, p)).status, p).toBe(401);
      const own = await get(base, p, { headers: deviceCreds() });
      expect(own.status, p).toBe(200);
      expect(own.body.length).toBeGreaterThan(0);
      expect((await get(base, p, { headers: globalCreds() })).status, `${p} with the global credentials`).toBe(401);
      expect((await get(base, p, { headers: basic(DEVICE_USER, 'nope') })).status, p).toBe(401);
    }
  });

  it('a device’s credentials do not open another device’s files (401, never 200)', async () => {
    for (const p of [`/${TRIO}.cfg`, `/${TRIO}-settings.cfg`, `/${T46S}.cfg`, `/${J179}.txt`]) {
      const r = await get(base, p, { headers: deviceCreds() });
      expect(r.status, p).not.toBe(200);
      expect(r.status, p).toBe(401);
      expect(r.body.length).toBe(0);
    }
  });

  it.each(SHARED)('shared %s: 401 without credentials, 200 with the global ones AND with a device’s own', async (p) => {
    expect((await get(base, p)).status).toBe(401);
    const viaGlobal = await get(base, p, { headers: globalCreds() });
    expect(viaGlobal.status).toBe(200);
    expect(viaGlobal.body.length).toBeGreaterThan(0);
    const viaDevice = await get(base, p, { headers: deviceCreds() });
    expect(viaDevice.status).toBe(200);
    expect(viaDevice.body.equals(viaGlobal.body)).toBe(true);
    expect((await get(base, p, { headers: basic(DEVICE_USER, 'not-it') })).status).toBe(401);
  });

  it.each([
    ['Poly', `/${TRIO}.cfg`, '/0004f2999999.cfg'],
    ['Poly, device-level auth', `/${POLY}.cfg`, '/64167f999999.cfg'],
    ['Yealink', `/${T46S}.cfg`, '/805ec0999999.cfg'],
    ['Avaya', `/${J179}.txt`, '/c81fea999999.txt'],
  ])('no oracle (%s): an unknown MAC answers exactly like a known one, without and with wrong credentials', async (_v, known, unknown) => {
    const noDate = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));
    for (const init of [{}, { headers: basic(GLOBAL_USER, 'wrong-pw') }, { headers: basic('x', 'y') }, { method: 'HEAD' }]) {
      const a = await get(base, known, init);
      const b = await get(base, unknown, init);
      expect(a.status, JSON.stringify(init)).toBe(401);
      expect(b.status, JSON.stringify(init)).toBe(a.status);
      expect(noDate(b.headers)).toEqual(noDate(a.headers));
      expect(a.body.length).toBe(0);
      expect(b.body.length).toBe(0);
    }
  });

  it('no oracle in the other ways a MAC is named: DES path, Avaya User-Agent, <mac>-directory.xml, Poly settings', async () => {
    const ua = (mac: string) => ({ 'user-agent': `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${mac})` });
    const pairs: Array<[string, RequestInit, string, RequestInit]> = [
      [`/x/J179/${J179}/46xxsettings.txt`, {}, '/x/J179/c81fea999999/46xxsettings.txt', {}],
      ['/46xxsettings.txt', { headers: ua(J179) }, '/46xxsettings.txt', { headers: ua('c81fea999999') }],
      [`/J179/${J179}/J100Supgrade.txt`, {}, '/J179/c81fea999999/J100Supgrade.txt', {}],
      [`/${POLY}-directory.xml`, {}, '/0004f2999999-directory.xml', {}],
      [`/${TRIO}-settings.cfg`, {}, '/64167f999999-settings.cfg', {}],
    ];
    const noDate = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));
    for (const [known, ki, unknown, ui] of pairs) {
      const a = await get(base, known, ki);
      const b = await get(base, unknown, ui);
      expect(a.status, known).toBe(401);
      expect([b.status, noDate(b.headers), b.body.length], unknown).toEqual([a.status, noDate(a.headers), 0]);
    }
  });
});

describe('site-level and group-level auth apply to their members only', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let base: string;
  const lis = () => basic('lis', LISBON_PW);
  const sales = () => basic('sales', ENV.QA_AUTH_SALES_PW);

  beforeAll(async () => {
    root = await makeTmpRoot({
      'deskset.yaml': desksetYaml(RELAXED),
      'profiles/sites/lisbon.yaml': appendYaml(authYaml('lis', lisbonHash)),
      'profiles/groups/sales.yaml': appendYaml(authYaml('sales', '${env:QA_AUTH_SALES_PW}')),
    });
    ({ srv, base } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it.each([`/${T46S}.cfg`, `/${TRIO}.cfg`, `/${TRIO}-settings.cfg`, '/2cf4c5001122.txt'])('site lisbon member %s: 401 bare, 200 with the site’s credentials, 401 with the group’s', async (p) => {
    expect((await get(base, p)).status).toBe(401);
    expect((await get(base, p, { headers: lis() })).status).toBe(200);
    expect((await get(base, p, { headers: sales() })).status).toBe(401);
  });

  it.each([`/${T54W}.cfg`, `/${POLY}.cfg`, `/${J189}.txt`])('group sales member %s: 401 bare, 200 with the group’s credentials, 401 with the site’s', async (p) => {
    expect((await get(base, p)).status).toBe(401);
    expect((await get(base, p, { headers: sales() })).status).toBe(200);
    expect((await get(base, p, { headers: lis() })).status).toBe(401);
  });

  it('a device in neither (J179 in nyc, group support) is served without credentials', async () => {
    const r = await get(base, `/${J179}.txt`);
    expect(r.status).toBe(200);
    expect(r.text).toContain('SET DISPLAY_NAME "Reception NYC"');
  });

  it('shared files are not covered by a site or group auth', async () => {
    for (const p of SHARED) expect((await get(base, p)).status, p).toBe(200);
  });
});

describe('device lockout (security.lockout defaults: 3 failures)', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let base: string;
  let mem: ReturnType<typeof memoryLog>;

  beforeAll(async () => {
    root = await makeTmpRoot({
      'profiles/global.yaml': appendYaml(authYaml(GLOBAL_USER, globalHash)),
      [`profiles/devices/${POLY}.yaml`]: appendYaml(authYaml(DEVICE_USER, await hashPassword(DEVICE_PW))),
    });
    ({ srv, base, mem } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('3 bad passwords lock the device: even the right password is refused, and one device_locked line is logged', async () => {
    expect((await get(base, `/${TRIO}.cfg`, { headers: basic(GLOBAL_USER, GLOBAL_PW) })).status).toBe(200);
    for (let i = 1; i <= 3; i++) {
      const r = await get(base, `/${TRIO}.cfg`, { headers: basic(GLOBAL_USER, `guess-${i}`) });
      expect(r.status, `attempt ${i}`).toBe(401);
    }
    for (const p of [`/${TRIO}.cfg`, `/${TRIO}-settings.cfg`]) {
      const locked = await get(base, p, { headers: basic(GLOBAL_USER, GLOBAL_PW) });
      expect(locked.status, p).toBe(401);
      expect(locked.body.length).toBe(0);
    }
    await settle();
    const events = mem.events('device_locked');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: 'warn', event: 'device_locked', ip: '127.0.0.1', mac: TRIO, failures: 3, lock_s: 600 });
    expect(mem.events('auth_failed').filter((e) => e.mac === TRIO).map((e) => e.failures)).toEqual([1, 2]);
    // The lock is per device: another phone with the same credentials is served.
    expect((await get(base, `/${T46S}.cfg`, { headers: basic(GLOBAL_USER, GLOBAL_PW) })).status).toBe(200);
    // A locked device is still refused with the same challenge (no oracle for the lock either).
    const lockedBare = await get(base, `/${TRIO}.cfg`);
    expect(lockedBare.headers['www-authenticate']).toMatch(/^Basic realm="deskset"/);
  });

  // BUG: src/http/gate.ts admit() records failures on shared files under the key 'shared'
  // (guard.recordAuthFailure(lockKey)), which emits `device_locked` with "mac":"shared" after 3,
  // but the lock is only ever checked when the file names a MAC (`if (mac && deviceLocked(mac))`).
  // So the global password can be guessed without limit through /000000000000.cfg (and the other
  // shared files), while the log claims a lock.
  it('after device_locked is logged for the shared files, the right password is refused there too (no unlimited guessing)', async () => {
    for (let i = 1; i <= 4; i++) expect((await get(base, '/000000000000.cfg', { headers: basic(GLOBAL_USER, `shared-guess-${i}`) })).status).toBe(401);
    await settle();
    // Shared credentials are locked per client (shared@<ip>), so one client cannot lock every phone out.
    expect(mem.events('device_locked').filter((e) => e.mac === 'shared@127.0.0.1')).toHaveLength(1);
    const right = await get(base, '/000000000000.cfg', { headers: basic(GLOBAL_USER, GLOBAL_PW) });
    expect(right.status).toBe(401);
  });

  // BUG: src/http/gate.ts deviceCredentialsMatch() (shared files accept a device's own
  // credentials) does not look at the device's lock: a locked device's password is still
  // confirmed (200 vs 401) through /000000000000.cfg, which defeats the lockout.
  it('a locked device’s password is not confirmed through the shared files either', async () => {
    for (let i = 1; i <= 3; i++) expect((await get(base, `/${POLY}.cfg`, { headers: basic(DEVICE_USER, `dev-guess-${i}`) })).status).toBe(401);
    await settle();
    expect(mem.events('device_locked').filter((e) => e.mac === POLY)).toHaveLength(1);
    expect((await get(base, `/${POLY}.cfg`, { headers: basic(DEVICE_USER, DEVICE_PW) })).status).toBe(401);
    const viaShared = await get(base, '/y000000000066.cfg', { headers: basic(DEVICE_USER, DEVICE_PW) });
    const wrongViaShared = await get(base, '/y000000000066.cfg', { headers: basic(DEVICE_USER, 'dev-guess-4') });
    expect(wrongViaShared.status).toBe(401);
    expect(viaShared.status, 'right vs wrong password of a locked device must look the same').toBe(wrongViaShared.status);
  });
});

describe('deskset check and serve on credentials', () => {
  const roots: TmpRoot[] = [];
  afterAll(async () => {
    for (const r of roots) await r.cleanup();
  });
  const newRoot = async (edits: Parameters<typeof makeTmpRoot>[0]) => {
    const r = await makeTmpRoot(edits);
    roots.push(r);
    return r;
  };

  // BUG: src/snapshot/snapshot.ts collectSecrets() puts every value held at a secret-looking key
  // (auth.password included) into snap.secrets, the set meant for redaction; then
  // src/config/security-profile.ts takes `secrets.has(value)` to mean "came from a ${env:}/${file:}
  // reference" and accepts the plaintext as a credential of kind 'secret'. So no AUTH_PLAINTEXT,
  // serve starts, and the plaintext password from git opens the files. The three tests below.
  const plaintextRoot = () => newRoot({ 'profiles/sites/nyc.yaml': appendYaml(authYaml('nyc', 'hunter2-plaintext')) });

  it('a plaintext auth.password: deskset check reports AUTH_PLAINTEXT at the profile line (exit 1), never quoting it', async () => {
    const root = await plaintextRoot();
    const c = await runCli(['check', root.dir]);
    expect(c.stdout + c.stderr).not.toContain('hunter2-plaintext');
    expect(c.stdout).toMatch(/sites\/nyc\.yaml:\d+:\d+: error AUTH_PLAINTEXT\b/);
    expect(c.code).toBe(1);
  });

  it('a plaintext auth.password: `deskset serve` and startServer refuse to start', async () => {
    const root = await plaintextRoot();
    const s = await tryServe(root.dir);
    expect(s.stderr + s.stdout).not.toContain('hunter2-plaintext');
    expect(s.started).toBe(false);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('AUTH_PLAINTEXT');
    await expect(startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false })).rejects.toBeInstanceOf(DiagnosticsError);
  });

  it('a plaintext auth.password is never a working credential (if a server runs at all)', async () => {
    const root = await plaintextRoot();
    let srv: RunningServer;
    try {
      srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    } catch (e) {
      expect(e).toBeInstanceOf(DiagnosticsError);
      return;
    }
    try {
      const r = await get(srv.url, `/${J179}.txt`, { headers: basic('nyc', 'hunter2-plaintext') });
      expect(r.status).not.toBe(200);
    } finally {
      await srv.close();
    }
  });

  it('PlcmSpIp/PlcmSpIp from ${env:}: check warns DEFAULT_CREDENTIAL', async () => {
    const root = await newRoot({ 'profiles/global.yaml': appendYaml(authYaml('PlcmSpIp', '${env:QA_PLCM_PW}')) });
    const c = await runCli(['check', root.dir], { env: { QA_PLCM_PW: 'PlcmSpIp' } });
    expect(c.stdout).toMatch(/warning DEFAULT_CREDENTIAL\b/);
    expect(c.code).toBe(0);
  });

  it('PlcmSpIp/PlcmSpIp as a scrypt hash: check warns DEFAULT_CREDENTIAL', async () => {
    const root = await newRoot({ 'profiles/global.yaml': appendYaml(authYaml('PlcmSpIp', await hashPassword('PlcmSpIp'))) });
    const c = await runCli(['check', root.dir]);
    expect(c.stdout).toMatch(/warning DEFAULT_CREDENTIAL\b/);
    expect(c.code).toBe(0);
  });

  it('control: PlcmSpIp with a strong password (hash) is not a default credential', async () => {
    const root = await newRoot({ 'profiles/global.yaml': appendYaml(authYaml('PlcmSpIp', globalHash)) });
    const c = await runCli(['check', root.dir]);
    expect(c.stdout).not.toContain('DEFAULT_CREDENTIAL');
    expect(c.code).toBe(0);
  });

  it('`deskset hash-password` (stdin) makes a hash the server accepts', async () => {
    const p = spawn(process.execPath, [BIN, 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin.end('Piped-Pw-4412\n');
    const out = await collect(p);
    expect(out.code, out.stderr).toBe(0);
    const hash = out.stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(out.stdout + out.stderr).not.toContain('Piped-Pw-4412');
    const root = await newRoot({ 'profiles/global.yaml': appendYaml(authYaml('piped', hash)) });
    const { srv, base } = await serve(root);
    try {
      expect((await get(base, `/${TRIO}.cfg`, { headers: basic('piped', 'Piped-Pw-4412') })).status).toBe(200);
      expect((await get(base, `/${TRIO}.cfg`, { headers: basic('piped', 'Piped-Pw-4412\n') })).status).toBe(401);
    } finally {
      await srv.close();
    }
  });
});

describe('URL tokens issued by the real `deskset token` process', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let base: string;
  let mem: ReturnType<typeof memoryLog>;
  let token: string;
  let revokedLater: string;

  const issue = async (mac: string): Promise<string> => {
    const r = await runCli(['token', 'issue', root.dir, mac, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { mac: string; token: string; path: string };
    expect(out.mac).toBe(mac);
    expect(out.path).toBe(`/p/${out.token}/`);
    expect(r.stderr).not.toContain(out.token);
    return out.token;
  };

  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(RELAXED), 'profiles/global.yaml': appendYaml(authYaml(GLOBAL_USER, globalHash)) });
    token = await issue(POLY);
    revokedLater = await issue(T46S);
    ({ srv, base, mem } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('/p/<token>/<mac>.cfg: 200 without Basic credentials, the same bytes Basic gets', async () => {
    expect((await get(base, `/${POLY}.cfg`)).status).toBe(401);
    for (const f of [`${POLY}.cfg`, `${POLY}-settings.cfg`]) {
      const viaToken = await get(base, `/p/${token}/${f}`);
      expect(viaToken.status, f).toBe(200);
      const viaBasic = await get(base, `/${f}`, { headers: basic(GLOBAL_USER, GLOBAL_PW) });
      expect(viaToken.body.equals(viaBasic.body), f).toBe(true);
    }
  });

  it('/p/<token>/<another mac>.cfg: refused as an unknown MAC is (the challenge), so the token tells nothing about other MACs', async () => {
    const unknown = await get(base, `/p/${token}/0004f2999999.cfg`);
    expect(unknown.status).toBe(401);
    for (const f of [`${TRIO}.cfg`, `${TRIO}-settings.cfg`, `${T46S}.cfg`, `${J179}.txt`]) {
      const r = await get(base, `/p/${token}/${f}`);
      expect(r.status, f).toBe(401);
      expect(stable(r.headers), f).toEqual(stable(unknown.headers));
      expect(r.body.length).toBe(0);
    }
  });

  it.each(SHARED)('shared %s through the token: 200', async (p) => {
    const r = await get(base, `/p/${token}${p}`);
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(0);
  });

  it('an unknown token (well-formed) is 404', async () => {
    const unknown = randomBytes(32).toString('base64url');
    const r = await get(base, `/p/${unknown}/${POLY}.cfg`);
    expect(r.status).toBe(404);
    expect(r.body.length).toBe(0);
  });

  it('a token revoked with `deskset token revoke` stops working (the server re-reads the store by itself)', async () => {
    expect((await get(base, `/p/${revokedLater}/${T46S}.cfg`)).status).toBe(200);
    const r = await runCli(['token', 'revoke', root.dir, T46S]);
    expect(r.code, r.stderr).toBe(0);
    // The server polls tokens.json every few seconds; bounded wait, no speed asserted.
    await vi.waitFor(async () => expect((await get(base, `/p/${revokedLater}/${T46S}.cfg`)).status).toBe(404), { timeout: 15_000, interval: 500 });
    // The other device's token is untouched.
    expect((await get(base, `/p/${token}/${POLY}.cfg`)).status).toBe(200);
  });

  it('the access log never holds a token: the path is logged as /p/••••/…', async () => {
    await get(base, `/p/${token}/${POLY}.cfg`);
    await get(base, `/p/${token}/${TRIO}.cfg`);
    await settle();
    const all = mem.lines.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(revokedLater);
    const paths = mem.access().map((a) => a.path);
    expect(paths).toContain(`/p/••••/${POLY}.cfg`);
    expect(paths).toContain(`/p/••••/${TRIO}.cfg`);
    expect(paths.filter((p) => String(p).startsWith('/p/')).every((p) => String(p).startsWith('/p/••••/'))).toBe(true);
  });

  // BUG: the token is matched on the DECODED path (provision.ts route -> decodeRequestPath) but
  // masked on the RAW one (listener.ts logPath -> tokens.ts redactTokenPath, /^\/?p\/[^/?]+/).
  // `/%70/<token>/…` and `/p%2F<token>/…` are served with the token and logged in clear.
  it('a percent-encoded token path is served or refused, but never logged with the token in clear', async () => {
    for (const p of [`/%70/${token}/${POLY}.cfg`, `/p%2F${token}/${POLY}.cfg`, `/p%2f${token}/${POLY}.cfg`]) {
      const r = await get(base, p);
      expect([200, 400, 404], p).toContain(r.status);
    }
    await settle();
    const leaked = mem.lines.filter((l) => l.includes(token));
    expect(leaked, leaked.join('\n')).toEqual([]);
  });
});

describe('IP allow-lists (access.allow at a site) and X-Forwarded-For', () => {
  const lisbonMembers = [`/${T46S}.cfg`, `/${TRIO}.cfg`, `/${TRIO}-settings.cfg`, '/2cf4c5001122.txt'];
  const others = [`/${POLY}.cfg`, `/${T54W}.cfg`, `/${J179}.txt`, ...SHARED];
  const allowLisbon = appendYaml('access:\n  allow: [10.0.0.0/8]\n');

  describe('no trusted proxies', () => {
    let root: TmpRoot;
    let srv: RunningServer;
    let base: string;
    let mem: ReturnType<typeof memoryLog>;
    beforeAll(async () => {
      root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(RELAXED), 'profiles/sites/lisbon.yaml': allowLisbon });
      ({ srv, base, mem } = await serve(root));
    });
    afterAll(async () => {
      await srv?.close();
      await root?.cleanup();
    });

    it.each(lisbonMembers)('site member %s: 403 from 127.0.0.1', async (p) => {
      const r = await get(base, p);
      expect(r.status).toBe(403);
      expect(r.body.length).toBe(0);
    });

    it.each(others)('not a member: %s is 200', async (p) => {
      expect((await get(base, p)).status).toBe(200);
    });

    it('X-Forwarded-For from an untrusted peer is ignored (still 403, logged as 127.0.0.1)', async () => {
      mem.lines.length = 0;
      for (const xff of ['10.1.2.3', '10.1.2.3, 10.4.5.6', '127.0.0.1, 10.1.2.3']) {
        const r = await get(base, `/${T46S}.cfg`, { headers: { 'x-forwarded-for': xff } });
        expect(r.status, xff).toBe(403);
      }
      await settle();
      const ips = mem.access().filter((a) => a.path === `/${T46S}.cfg`).map((a) => a.ip);
      expect(ips).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    });
  });

  describe('security.trusted_proxies: [127.0.0.1/32]', () => {
    let root: TmpRoot;
    let srv: RunningServer;
    let base: string;
    let mem: ReturnType<typeof memoryLog>;
    beforeAll(async () => {
      root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(`${RELAXED}\n  trusted_proxies: [127.0.0.1/32]`), 'profiles/sites/lisbon.yaml': allowLisbon });
      ({ srv, base, mem } = await serve(root));
    });
    afterAll(async () => {
      await srv?.close();
      await root?.cleanup();
    });

    it('X-Forwarded-For: 10.1.2.3 is believed: 200, and the access log’s ip is 10.1.2.3', async () => {
      mem.lines.length = 0;
      const r = await get(base, `/${T46S}.cfg`, { headers: { 'x-forwarded-for': '10.1.2.3' } });
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/^account\.1\.user_name = 2010$/m);
      await settle();
      const line = mem.access().find((a) => a.path === `/${T46S}.cfg`);
      expect(line).toMatchObject({ ip: '10.1.2.3', status: 200, mac: T46S });
    });

    it('without the header, or with an address outside the list, still 403', async () => {
      expect((await get(base, `/${T46S}.cfg`)).status).toBe(403);
      expect((await get(base, `/${T46S}.cfg`, { headers: { 'x-forwarded-for': '192.0.2.5' } })).status).toBe(403);
      // The client wrote the left part; the right-most untrusted hop is the client.
      expect((await get(base, `/${T46S}.cfg`, { headers: { 'x-forwarded-for': '10.9.9.9, 192.0.2.5' } })).status).toBe(403);
      expect((await get(base, `/${T46S}.cfg`, { headers: { 'x-forwarded-for': '192.0.2.5, 10.1.2.3, 127.0.0.1' } })).status).toBe(200);
    });

    it('responses for an allowed peer equal what a member gets directly from an allowed network (same bytes either way)', async () => {
      const a = await get(base, `/${TRIO}-settings.cfg`, { headers: { 'x-forwarded-for': '10.200.0.1' } });
      const b = await get(base, `/${TRIO}-settings.cfg`, { headers: { 'x-forwarded-for': '10.1.2.3' } });
      expect(a.status).toBe(200);
      expect(stable(a.headers)).toEqual(stable(b.headers));
      expect(a.body.equals(b.body)).toBe(true);
    });
  });
});
