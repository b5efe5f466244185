// No oracle for which MACs exist, end to end over a real server with the recommended setup
// (auth on site nyc only, none global; a shared resource 000000000000-directory.xml). For
// every path family that carries a MAC, a client without valid credentials must get the same
// status, headers (but Date) and body length for a known MAC as for an unknown one, cause the
// same server work (counted scrypt checks, not wall-clock), and reach the cool-down alike.
// Clients are told apart by their loopback source address (127.0.x.y), so each case starts
// with a clean enumeration count.

import crypto from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRootConfig } from '../src/config/root-config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { appendYaml, basic, desksetYaml, memoryLog, settle, stable } from './helpers/e2e-http.js';
import { makeTmpRoot, replaceOnce, type TmpRoot, SAMPLE_DEVICES } from './helpers/tmp-root.js';

const POLY = '0004f2a1b2c3'; // VVX450, nyc
const T54W = '805ec0abcdef'; // Yealink, nyc
const J179 = 'c81fea83e85a'; // Avaya, nyc
const T46S = '805ec0123456'; // Yealink, lisbon
const NYC_USER = 'nyc';
const NYC_PW = 'Nyc-Site-Pw-5521';
const AVAYA_UA = (mac: string) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${mac})`;

/** A scrypt hash at N=2^14, not the default 2^15: decoys must mirror the configured cost. */
function hashAt14(password: string): string {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, 32, { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return `scrypt$16384$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}
const NYC_COST = 'scrypt:16384:8:1:32';

let unknownCounter = 0;
/** A MAC with this vendor OUI that no profile has (a fresh one on every call). */
const unknownMac = (oui: string) => `${oui}${(0xa00000 + ++unknownCounter).toString(16)}`;

let addressCounter = 0;
/** A loopback source address no earlier request used: a client with a clean count. */
const freshClient = () => {
  const n = ++addressCounter;
  return `127.0.${10 + (n >> 8)}.${n & 255}`;
};

interface Answer {
  status: number;
  headers: Record<string, string>;
  length: number;
  body: string;
}

interface Ask {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request from a chosen source address, on its own connection. */
function ask(port: number, from: string, q: Ask): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(q.headers ?? {}) };
    if (q.body !== undefined) headers['content-length'] = String(Buffer.byteLength(q.body));
    const req = http.request({ host: '127.0.0.1', port, localAddress: from, method: q.method ?? 'GET', path: q.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: h, length: body.length, body: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${q.path}`)));
    req.end(q.body);
  });
}

/** What must not differ between a known and an unknown MAC. */
const observable = (a: Answer) => ({ status: a.status, headers: stable(a.headers), length: a.length });

interface Family {
  name: string;
  known: string;
  oui: string;
  req: (mac: string) => Ask;
}

let token = '';
const families: Family[] = [
  { name: 'Poly /<mac>.cfg', known: POLY, oui: '0004f2', req: (m) => ({ path: `/${m}.cfg` }) },
  { name: 'Poly /<mac>-settings.cfg', known: POLY, oui: '0004f2', req: (m) => ({ path: `/${m}-settings.cfg` }) },
  { name: 'HEAD Poly /<mac>.cfg', known: POLY, oui: '0004f2', req: (m) => ({ method: 'HEAD', path: `/${m}.cfg` }) },
  { name: 'Yealink /<mac>.cfg', known: T54W, oui: '805ec0', req: (m) => ({ path: `/${m}.cfg` }) },
  { name: 'Avaya /<mac>.txt', known: J179, oui: 'c81fea', req: (m) => ({ path: `/${m}.txt` }) },
  { name: "an Avaya MAC under another vendor's name, /<mac>.cfg", known: J179, oui: 'c81fea', req: (m) => ({ path: `/${m}.cfg` }) },
  { name: 'DES /J179/<mac>/J100Supgrade.txt', known: J179, oui: 'c81fea', req: (m) => ({ path: `/J179/${m}/J100Supgrade.txt` }) },
  { name: 'DES /J179/<mac>/46xxsettings.txt', known: J179, oui: 'c81fea', req: (m) => ({ path: `/J179/${m}/46xxsettings.txt` }) },
  { name: 'J100Supgrade.txt by User-Agent (MAC:…)', known: J179, oui: 'c81fea', req: (m) => ({ path: '/J100Supgrade.txt', headers: { 'user-agent': AVAYA_UA(m) } }) },
  { name: '46xxsettings.txt by User-Agent (MAC:…)', known: J179, oui: 'c81fea', req: (m) => ({ path: '/46xxsettings.txt', headers: { 'user-agent': AVAYA_UA(m) } }) },
  { name: 'resource /<mac>-directory.xml with a 000000000000 fallback', known: POLY, oui: '0004f2', req: (m) => ({ path: `/${m}-directory.xml` }) },
  { name: 'URL token for another device, /p/<token>/<mac>.cfg', known: T54W, oui: '805ec0', req: (m) => ({ path: `/p/${token}/${m}.cfg` }) },
  { name: 'upload PUT /<mac>-app.log', known: POLY, oui: '0004f2', req: (m) => ({ method: 'PUT', path: `/${m}-app.log`, body: 'boot ok\n' }) },
];

const withCreds = (q: Ask, user: string, pass: string): Ask => ({ ...q, headers: { ...(q.headers ?? {}), ...basic(user, pass) } });

describe('recommended setup: auth on site nyc only, a shared 000000000000-directory.xml', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let port: number;

  beforeAll(async () => {
    root = await makeTmpRoot({
      'deskset.yaml': desksetYaml(),
      'profiles/sites/nyc.yaml': appendYaml(`auth:\n  user: ${NYC_USER}\n  password: "${hashAt14(NYC_PW)}"\n`),
      'resources/000000000000-directory.xml': '<directory><item_list/></directory>\n',
    });
    // Tokens are read at start: issue one for the Poly before serving.
    const issued = await runCli(['token', 'issue', root.dir, POLY, '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    token = (JSON.parse(issued.stdout) as { token: string }).token;
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    port = srv.port;
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('control: with the site credentials every known MAC is served, and the shared files need none', async () => {
    const from = freshClient();
    for (const f of families.filter((x) => x.req(x.known).method !== 'PUT' && !x.name.includes("another vendor's") && !x.name.includes('URL token'))) {
      const r = await ask(port, from, withCreds(f.req(f.known), NYC_USER, NYC_PW));
      expect(r.status, f.name).toBe(200);
    }
    expect((await ask(port, from, { path: `/p/${token}/${POLY}.cfg` })).status).toBe(200);
    for (const p of ['/000000000000.cfg', '/J100Supgrade.txt', '/000000000000-directory.xml']) expect((await ask(port, from, { path: p })).status, p).toBe(200);
  });

  it.each(families.map((f) => [f.name, f] as const))('%s: known and unknown MACs answer alike without credentials', async (_name, f) => {
    const from = freshClient();
    const known = await ask(port, from, f.req(f.known));
    const unknown = await ask(port, from, f.req(unknownMac(f.oui)));
    expect(observable(known)).toEqual(observable(unknown));
    expect(known.length).toBe(0);
    if (f.req(f.known).method !== 'PUT') {
      expect(known.status).toBe(401);
      expect(known.headers['www-authenticate']).toMatch(/^Basic realm="deskset"/);
    }
  });

  it.each(families.map((f) => [f.name, f] as const))('%s: a wrong password costs one check of the configured cost, known MAC or not', async (_name, f) => {
    const from = freshClient();
    const checks = srv.gate.verifier.checks;
    const before = checks.get(NYC_COST) ?? 0;
    const known = await ask(port, from, withCreds(f.req(f.known), NYC_USER, 'guess-1'));
    expect((checks.get(NYC_COST) ?? 0) - before, 'known MAC, wrong password').toBe(1);
    const unknown = await ask(port, from, withCreds(f.req(unknownMac(f.oui)), NYC_USER, 'guess-1'));
    expect((checks.get(NYC_COST) ?? 0) - before, 'unknown MAC, any password').toBe(2);
    expect(observable(known)).toEqual(observable(unknown));
    // A wrong user name costs the same too.
    await ask(port, from, withCreds(f.req(f.known), 'not-nyc', 'guess-2'));
    expect((checks.get(NYC_COST) ?? 0) - before, 'known MAC, wrong user').toBe(3);
    // Nothing else was checked at another cost (the default scrypt, a plain secret).
    expect([...checks.keys()].filter((k) => k !== NYC_COST)).toEqual([]);
  });

  it.each(families.map((f) => [f.name, f] as const))('%s: 20 misses, then a known MAC gets the 429 an unknown one gets; 40 distinct unknown MACs are cooled down', async (_name, f) => {
    const run = async (last: string) => {
      const from = freshClient();
      for (let i = 1; i <= 20; i++) expect((await ask(port, from, f.req(unknownMac(f.oui)))).status, `miss ${i}`).not.toBe(429);
      const r21 = await ask(port, from, f.req(last));
      const after: Answer[] = [];
      for (let i = 22; i <= 40; i++) after.push(await ask(port, from, f.req(unknownMac(f.oui))));
      return { r21, after, known: await ask(port, from, f.req(f.known)) };
    };
    const viaKnown = await run(f.known);
    const viaUnknown = await run(unknownMac(f.oui));
    expect(observable(viaKnown.r21)).toEqual(observable(viaUnknown.r21));
    // The request that trips the cool-down is itself answered 429, uploads included.
    expect(viaKnown.r21.status).toBe(429);
    expect(Number(viaKnown.r21.headers['retry-after'])).toBeGreaterThan(0);
    for (const r of [...viaKnown.after, ...viaUnknown.after, viaKnown.known, viaUnknown.known]) expect(observable(r)).toEqual(observable(viaUnknown.after[0]!));
    expect(viaUnknown.after[0]!.status).toBe(429);
  });

  it('a phone challenged before it sends its credentials does not count as a miss', async () => {
    const from = freshClient();
    for (let i = 1; i <= 20; i++) await ask(port, from, { path: `/${unknownMac('0004f2')}.cfg` });
    // The real phone's first request is challenged (a miss), its second authenticates: forgiven.
    expect((await ask(port, from, { path: `/${POLY}.cfg` })).status).toBe(429);
    const other = freshClient();
    for (let i = 1; i <= 19; i++) await ask(port, other, { path: `/${unknownMac('0004f2')}.cfg` });
    expect((await ask(port, other, { path: `/${POLY}.cfg` })).status).toBe(401);
    expect((await ask(port, other, withCreds({ path: `/${POLY}.cfg` }, NYC_USER, NYC_PW))).status).toBe(200);
    expect((await ask(port, other, { path: `/${unknownMac('0004f2')}.cfg` })).status).toBe(401);
  });

  it('3 bad passwords from one address lock the device for that address only: the real phone elsewhere is served', async () => {
    const attacker = freshClient();
    const phone = freshClient();
    const q = { path: `/${J179}.txt` };
    for (let i = 1; i <= 3; i++) expect((await ask(port, attacker, withCreds(q, NYC_USER, `guess-${i}`))).status).toBe(401);
    const checks = srv.gate.verifier.checks;
    const before = checks.get(NYC_COST) ?? 0;
    // Locked for the attacker: even the right password is refused, with the same work as a guess.
    const locked = await ask(port, attacker, withCreds(q, NYC_USER, NYC_PW));
    expect(locked.status).toBe(401);
    expect((checks.get(NYC_COST) ?? 0) - before).toBe(1);
    const phoneGot = await ask(port, phone, withCreds(q, NYC_USER, NYC_PW));
    expect(phoneGot.status).toBe(200);
    expect(phoneGot.body).toContain('SET DISPLAY_NAME "Reception NYC"');
  });
});

describe('unknown MACs answer like refused known ones under other access settings', () => {
  const roots: TmpRoot[] = [];
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const r of roots) await r.cleanup();
  });
  async function serve(edits: Parameters<typeof makeTmpRoot>[0]): Promise<RunningServer> {
    const root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(), ...edits });
    roots.push(root);
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    servers.push(srv);
    return srv;
  }

  it('mutual TLS only (client_cert: required on nyc, no auth anywhere): 403 for both', async () => {
    const srv = await serve({ 'profiles/sites/nyc.yaml': appendYaml('access:\n  client_cert: required\n') });
    const from = freshClient();
    for (const [known, unknown] of [
      [`/${J179}.txt`, `/${unknownMac('c81fea')}.txt`],
      [`/${POLY}.cfg`, `/${unknownMac('0004f2')}.cfg`],
      [`/J179/${J179}/J100Supgrade.txt`, `/J179/${unknownMac('c81fea')}/J100Supgrade.txt`],
    ]) {
      const k = await ask(srv.port, from, { path: known! });
      const u = await ask(srv.port, from, { path: unknown! });
      expect(k.status, known).toBe(403);
      expect(observable(k), known).toEqual(observable(u));
    }
    // Lisbon sets no access: its phones are served to anyone, as configured.
    expect((await ask(srv.port, from, { path: `/${T46S}.cfg` })).status).toBe(200);
  });

  it('an allow-listed site (lisbon) beside auth on nyc: a refused address gets the challenge for both, at the same cost', async () => {
    const srv = await serve({
      'profiles/sites/nyc.yaml': appendYaml(`auth:\n  user: ${NYC_USER}\n  password: "${hashAt14(NYC_PW)}"\n`),
      'profiles/sites/lisbon.yaml': appendYaml('access:\n  allow: [10.99.0.0/16]\n'),
    });
    const from = freshClient();
    const known = await ask(srv.port, from, { path: `/${T46S}.cfg` });
    const unknown = await ask(srv.port, from, { path: `/${unknownMac('805ec0')}.cfg` });
    expect(known.status).toBe(401);
    expect(observable(known)).toEqual(observable(unknown));
    const checks = srv.gate.verifier.checks;
    const before = checks.get(NYC_COST) ?? 0;
    const knownCreds = await ask(srv.port, from, withCreds({ path: `/${T46S}.cfg` }, NYC_USER, 'guess'));
    const unknownCreds = await ask(srv.port, from, withCreds({ path: `/${unknownMac('805ec0')}.cfg` }, NYC_USER, 'guess'));
    expect(observable(knownCreds)).toEqual(observable(unknownCreds));
    expect((checks.get(NYC_COST) ?? 0) - before).toBe(2);
  });
});

describe('/healthz and /-/status: details for operators only (security.operators: [127.0.0.1/32])', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  const OPERATOR = '127.0.0.1';
  const STRANGER = '127.0.0.2';

  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': desksetYaml('security:\n  operators: [127.0.0.1/32]') });
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('security.operators defaults to loopback; an entry that is no address or CIDR is an error at its line', () => {
    expect(parseRootConfig('listen: {port: 1}\n').config.security.operators).toEqual(['127.0.0.0/8', '::1/128']);
    const bad = parseRootConfig('security:\n  operators: [10.0.0.0/8, nyc-office]\n');
    expect(bad.diagnostics.map((d) => [d.severity, d.loc?.line])).toEqual([['error', 2]]);
    expect(bad.diagnostics[0]!.message).toContain('nyc-office');
  });

  it('healthy: 200 "ok" for everyone; status details only for the operator', async () => {
    for (const from of [OPERATOR, STRANGER]) {
      const h = await ask(srv.port, from, { path: '/healthz' });
      expect([h.status, h.body]).toEqual([200, 'ok\n']);
    }
    const op = JSON.parse((await ask(srv.port, OPERATOR, { path: '/-/status' })).body) as Record<string, unknown>;
    expect(op).toMatchObject({ healthy: true, devices: SAMPLE_DEVICES });
    const other = await ask(srv.port, STRANGER, { path: '/-/status' });
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body)).toEqual({ healthy: true });
  });

  it('after a bad reload: the operator sees the device and the file, a stranger the status code and nothing that names either', async () => {
    const rel = `profiles/devices/${J179}.yaml`;
    const { writeFile, readFile } = await import('node:fs/promises');
    await writeFile(root.file(rel), replaceOnce('model: J179', 'model: J999')(await readFile(root.file(rel), 'utf8')));
    await srv.reloader.reload([rel]);
    await settle();
    const op = await ask(srv.port, OPERATOR, { path: '/healthz' });
    expect(op.status).toBe(503);
    expect(op.body).toContain(J179);
    const opStatus = await ask(srv.port, OPERATOR, { path: '/-/status' });
    expect(opStatus.body).toContain(J179);
    for (const path of ['/healthz', '/-/status']) {
      const r = await ask(srv.port, STRANGER, { path });
      expect(r.status, path).toBe(path === '/healthz' ? 503 : 200);
      for (const secret of [J179, 'c8:1f:ea', root.dir, 'profiles/', '.yaml']) expect(r.body.toLowerCase(), `${path} names ${secret}`).not.toContain(secret.toLowerCase());
    }
    expect((await ask(srv.port, STRANGER, { path: '/healthz' })).body).toBe('unhealthy\n');
    expect(JSON.parse((await ask(srv.port, STRANGER, { path: '/-/status' })).body)).toEqual({ healthy: false });
  });
});
