// Live reload end to end, over real sockets: a server on a temp copy of samples/ with the
// watcher on (50 ms debounce). A good edit is served; a bad edit keeps the last good
// snapshot serving while /healthz says 503 and why (file:line); a fix recovers; bursts are
// coalesced; /-/status and ETags follow the snapshot; and a request never sees a mix.
// No fixed sleeps: every wait is a bounded poll.

import { promises as fs, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { etagOf } from '../src/render/render.js';
import { createLogger } from '../src/http/access-log.js';
import { buildFromRoot, readRoot } from '../src/io/load-root.js';
import { WATCHED } from '../src/io/watch.js';
import { startServer, type RunningServer } from '../src/server.js';
import { Provisioner } from '../src/service/provisioner.js';
import { PACKAGE_DIR, sampleFile, until } from './helpers/reload-root.js';
import { makeTmpRoot, SAMPLE_DEVICES, type TmpRoot } from './helpers/tmp-root.js';

const YEALINK = '805ec0123456';
const YEALINK_FILE = `profiles/devices/${YEALINK}.yaml`;
const POLY = '0004f2a1b2c3';

interface Harness {
  root: string;
  running: RunningServer;
  log: string[];
}

let current: { tmp: TmpRoot; running?: RunningServer } | undefined;
let extraRoots: TmpRoot[] = [];

afterEach(async () => {
  const h = current;
  current = undefined;
  try {
    await h?.running?.close();
  } finally {
    await h?.tmp.cleanup();
    await Promise.all(extraRoots.map((r) => r.cleanup()));
    extraRoots = [];
  }
});

/**
 * A server on a fresh copy of samples/; `prepare` edits the root before it starts.
 *
 * By default every watched directory is created first (empty): with chokidar 4 a watched
 * path that does not exist makes 'ready' (and so `running.watching`) fire before the
 * existing directories are watched, and edits made right after are lost. That bug has its
 * own test below (`allDirs: false`); the other tests should not all fail because of it.
 */
async function start(prepare?: (root: string) => void, opts: { allDirs?: boolean; validateSyncMax?: number } = {}): Promise<Harness> {
  const tmp = await makeTmpRoot({}, 'deskset-reload-');
  current = { tmp };
  const root = tmp.dir;
  const log: string[] = [];
  if (opts.allDirs !== false) for (const e of WATCHED) if (!e.includes('.')) mkdirSync(path.join(root, e), { recursive: true });
  prepare?.(root);
  const logger = createLogger({ write: (s: string) => void log.push(...s.split('\n').filter(Boolean)) });
  const running = await startServer({ root, host: '127.0.0.1', port: 0, watch: true, debounceMs: 50, log: logger, validateSyncMax: opts.validateSyncMax });
  current.running = running;
  await running.watching;
  return { root, running, log };
}

interface Got {
  status: number;
  body: Buffer;
  text: string;
  etag: string | null;
}

async function get(h: Harness, p: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await fetch(`${h.running.url}${p}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, text: body.toString('utf8'), etag: res.headers.get('etag') };
}

interface Status {
  snapshot: string;
  loadedAt: string;
  devices: number;
  files: number;
  healthy: boolean;
  lastReload?: { ok: boolean; changed: string[] };
}
const status = async (h: Harness): Promise<Status> => JSON.parse((await get(h, '/-/status')).text) as Status;

interface HealthBody {
  ok: false;
  errors: Array<{ code: string; message: string; at?: string; device?: string; path?: string }>;
}

/** Write a root file the way an editor does: a temp file, then an atomic rename. */
async function writeAtomic(h: Harness, rel: string, text: string): Promise<void> {
  const abs = path.join(h.root, rel);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, abs);
}

const reloadedCount = (lines: string[]) => lines.filter((l) => l.includes('"event":"reloaded"')).length;

function yealinkDevice(displayName: string, extra = ''): string {
  return `model: T46S\nsite: lisbon\ngroups: [support]\nsettings:\n  lines:\n    - {extension: "2010", auth_user: "2010", password: "T46-pq7z", display_name: "${displayName}"}\n${extra}`;
}

async function servedDisplayName(h: Harness): Promise<string | undefined> {
  const r = await get(h, `/${YEALINK}.cfg`);
  return /^account\.1\.display_name = (.*)$/m.exec(r.text)?.[1];
}

describe('live reload', () => {
  it('a device edit is served; invalid YAML keeps the old value with /healthz 503 naming file:line; a fix recovers', async () => {
    const h = await start();
    expect(await servedDisplayName(h)).toBe('João Silva');
    const health0 = await get(h, '/healthz');
    expect([health0.status, health0.text]).toEqual([200, 'ok\n']);

    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('Maria Santos'));
    await until(async () => (await servedDisplayName(h)) === 'Maria Santos', 'the edited display_name to be served');

    // Line 4, column 13: `language: en: fr` is a nested mapping in a compact one.
    await fs.writeFile(path.join(h.root, YEALINK_FILE), 'model: T46S\nsite: lisbon\nsettings:\n  language: en: fr\n');
    const bad = await until(async () => {
      const r = await get(h, '/healthz');
      return r.status === 503 ? r : undefined;
    }, '/healthz to turn 503');
    expect(bad.text.startsWith('{')).toBe(true);
    const body = JSON.parse(bad.text) as HealthBody;
    expect(body.ok).toBe(false);
    expect(body.errors.map((e) => e.at)).toContain(`${path.join(h.root, YEALINK_FILE)}:4:13`);
    expect(body.errors.every((e) => e.code.startsWith('YAML_'))).toBe(true);
    // Still the last good snapshot.
    expect(await servedDisplayName(h)).toBe('Maria Santos');

    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('Fixed Name'));
    await until(async () => (await get(h, '/healthz')).status === 200, '/healthz to recover');
    const ok = await get(h, '/healthz');
    expect(ok.text).toBe('ok\n');
    expect(await servedDisplayName(h)).toBe('Fixed Name');
  });

  it('an edit that parses but fails to render for its device is rejected (only that device is re-checked)', async () => {
    const h = await start();
    const before = await get(h, `/${YEALINK}.cfg`);
    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('X', '  yealink:\n    params:\n      "bad key": 1\n'));
    const bad = await until(async () => {
      const r = await get(h, '/healthz');
      return r.status === 503 ? (JSON.parse(r.text) as HealthBody) : undefined;
    }, '/healthz to turn 503');
    expect(bad.errors.map((e) => [e.code, e.device, e.path])).toEqual([['RENDER', YEALINK, `${YEALINK}.cfg`]]);
    expect((await get(h, `/${YEALINK}.cfg`)).body.equals(before.body)).toBe(true);
    // The reload of one device file validated one device; a global edit validates all.
    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('Y'));
    const one = await h.running.reloader.reload([YEALINK_FILE]);
    expect([one.ok, one.checkedDevices]).toEqual([true, 1]);
    const all = await h.running.reloader.reload(['profiles/global.yaml']);
    expect([all.ok, all.checkedDevices]).toEqual([true, 'all']);
  });

  it('deleting a device file 404s its files; adding one serves it', async () => {
    const h = await start();
    expect((await get(h, `/${YEALINK}.cfg`)).status).toBe(200);
    await fs.rm(path.join(h.root, YEALINK_FILE));
    await until(async () => (await get(h, `/${YEALINK}.cfg`)).status === 404, 'the deleted device to 404');
    expect((await status(h)).devices).toBe(SAMPLE_DEVICES - 1);

    const added = '805ec0000001';
    expect((await get(h, `/${added}.cfg`)).status).toBe(404);
    await fs.writeFile(path.join(h.root, `profiles/devices/${added}.yaml`), 'model: T46S\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "2099", display_name: "New Desk"}\n');
    const r = await until(async () => {
      const g = await get(h, `/${added}.cfg`);
      return g.status === 200 ? g : undefined;
    }, 'the added device to be served');
    expect(r.text).toContain('account.1.display_name = New Desk');
    expect((await status(h)).devices).toBe(SAMPLE_DEVICES);
  });

  it('a burst of 200 new device files is coalesced into a handful of reloads, and all 200 are served', async () => {
    const h = await start();
    const macs = Array.from({ length: 200 }, (_, i) => `805ec0ff${i.toString(16).padStart(4, '0')}`);
    const mark = h.log.length;
    for (const mac of macs) {
      await fs.writeFile(path.join(h.root, `profiles/devices/${mac}.yaml`), `model: T46S\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "${mac.slice(-4)}"}\n`);
    }
    await until(async () => (await status(h)).devices === SAMPLE_DEVICES + 200, 'all 200 devices to be loaded', 15_000);
    // Count only once the log has been quiet for a while (a straggling batch would show up).
    let last = -1;
    let quiet = 0;
    await until(() => {
      const c = reloadedCount(h.log.slice(mark));
      quiet = c === last ? quiet + 1 : 0;
      last = c;
      return quiet >= 6;
    }, 'the reload log to settle', 10_000, 100);
    const reloads = reloadedCount(h.log.slice(mark));
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(5);
    for (let i = 0; i < macs.length; i += 25) {
      const got = await Promise.all(macs.slice(i, i + 25).map((m) => get(h, `/${m}.cfg`)));
      got.forEach((g, j) => {
        expect(g.status, macs[i + j]).toBe(200);
        expect(g.text).toContain(`## ${macs[i + j]}.cfg for T46S`);
        expect(g.text).toContain(`account.1.user_name = ${macs[i + j]!.slice(-4)}`);
      });
    }
  });

  it('a broken template keeps the old bytes served and /healthz names the template; fixing it serves the new one', async () => {
    const shippedMac = readFileSync(path.join(PACKAGE_DIR, 'templates/yealink/mac.cfg.hbs'), 'utf8');
    const rel = 'templates/yealink/mac.cfg.hbs';
    const h = await start((root) => {
      mkdirSync(path.join(root, 'templates/yealink'), { recursive: true });
      writeFileSync(path.join(root, rel), shippedMac);
    });
    const before = await get(h, `/${YEALINK}.cfg`);
    expect(before.status).toBe(200);
    const id = (await status(h)).snapshot;

    await fs.writeFile(path.join(h.root, rel), `${shippedMac}{{#if device}}\nunclosed\n`);
    const bad = await until(async () => {
      const r = await get(h, '/healthz');
      return r.status === 503 ? (JSON.parse(r.text) as HealthBody) : undefined;
    }, '/healthz to turn 503');
    const tplErr = bad.errors.find((e) => e.code === 'TEMPLATE_SYNTAX');
    expect(tplErr, JSON.stringify(bad)).toBeDefined();
    expect(tplErr!.at).toMatch(new RegExp(`^${path.join(h.root, rel).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+$`));
    const during = await get(h, `/${YEALINK}.cfg`);
    expect(during.status).toBe(200);
    expect(during.body.equals(before.body)).toBe(true);
    expect((await status(h)).snapshot).toBe(id);

    await fs.writeFile(path.join(h.root, rel), shippedMac.replace('Do not edit', 'TEMPLATE FIXED. Do not edit'));
    await until(async () => (await get(h, `/${YEALINK}.cfg`)).text.includes('TEMPLATE FIXED'), 'the fixed template to be served');
    expect((await get(h, '/healthz')).status).toBe(200);
  });

  // BUG (src/io/watch.ts + chokidar 4.0.3): when any WATCHED entry is missing from the root
  // (samples/ has no templates/, schemas/, resources/ or firmware/), chokidar emits 'ready'
  // before it has attached to the directories that do exist, so `running.watching` resolves
  // early and a change made right after it is never seen: here the deleted device keeps
  // being served (200) indefinitely.
  it('`watching` resolves only once the root is really watched (root without templates/ etc.)', async () => {
    const h = await start(undefined, { allDirs: false });
    await fs.rm(path.join(h.root, YEALINK_FILE));
    await until(async () => (await get(h, `/${YEALINK}.cfg`)).status === 404, 'the deleted device to 404');
  });

  /** Wait until the watcher demonstrably reacts (rewriting on each poll: early edits can be lost). */
  async function watcherLive(h: Harness): Promise<void> {
    let n = 0;
    await until(async () => {
      if ((await servedDisplayName(h))?.startsWith('Watcher Live')) return true;
      await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice(`Watcher Live ${++n}`));
      return false;
    }, 'a device edit to be served', 10_000, 250);
  }

  // An admin schema no rendered settings file can satisfy: no attributes at all.
  const REJECT_ALL_XSD = '<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n  <xs:element name="polycomConfig"><xs:complexType/></xs:element>\n</xs:schema>\n';

  it('a templates/ directory created after start is picked up', async () => {
    const h = await start(undefined, { allDirs: false });
    await watcherLive(h);
    const shippedMac = readFileSync(path.join(PACKAGE_DIR, 'templates/yealink/mac.cfg.hbs'), 'utf8');
    mkdirSync(path.join(h.root, 'templates/yealink'), { recursive: true });
    writeFileSync(path.join(h.root, 'templates/yealink/mac.cfg.hbs'), shippedMac.replace('Do not edit', 'NEW OVERRIDE. Do not edit'));
    await until(async () => (await get(h, `/${YEALINK}.cfg`)).text.includes('NEW OVERRIDE'), 'the new template override to be served');
  });

  it('an admin XSD dropped into schemas/ at run time is applied: a config it rejects turns /healthz 503, removing it recovers', async () => {
    const h = await start();
    const before = await get(h, `/${POLY}-settings.cfg`);
    const xsd = path.join(h.root, 'schemas/polycom/polycomConfig.xsd');
    mkdirSync(path.dirname(xsd), { recursive: true });
    writeFileSync(xsd, REJECT_ALL_XSD);
    const bad = await until(async () => {
      const r = await get(h, '/healthz');
      return r.status === 503 ? (JSON.parse(r.text) as HealthBody) : undefined;
    }, '/healthz to turn 503 on the admin XSD');
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors.every((e) => e.code === 'XSD' && /^XSD polycom\/polycomConfig\.xsd: /.test(e.message))).toBe(true);
    expect(bad.errors.map((e) => e.path)).toContain(`${POLY}-settings.cfg`);
    expect((await get(h, `/${POLY}-settings.cfg`)).body.equals(before.body)).toBe(true);
    await fs.rm(xsd);
    await until(async () => (await get(h, '/healthz')).status === 200, '/healthz to recover');
  });

  // BUG (src/io/watch.ts + chokidar 4.0.3): of the WATCHED entries missing at start, only the
  // FIRST one in the list (templates/ for samples/) is watched for creation; schemas/,
  // resources/ and firmware/ created after start are never seen. Here an admin XSD dropped
  // into a new schemas/ directory is never applied (/healthz stays 200, no reload logged),
  // while the same drop into an existing schemas/ (previous test) is.
  it('a schemas/ directory created after start is picked up', async () => {
    const h = await start(undefined, { allDirs: false });
    await watcherLive(h);
    const xsd = path.join(h.root, 'schemas/polycom/polycomConfig.xsd');
    mkdirSync(path.dirname(xsd), { recursive: true });
    writeFileSync(xsd, REJECT_ALL_XSD);
    await until(async () => (await get(h, '/healthz')).status === 503, '/healthz to turn 503 on the admin XSD in a new schemas/ dir');
  });

  it('/-/status: the snapshot id moves on a good reload, not on a bad one; device and file counts', async () => {
    const h = await start();
    const s0 = await status(h);
    expect(s0.snapshot).toMatch(/^[0-9a-f]{6,}$/);
    expect(s0.devices).toBe(SAMPLE_DEVICES);
    expect(s0.files).toBeGreaterThanOrEqual(13);
    expect(Number.isNaN(Date.parse(s0.loadedAt))).toBe(false);
    expect(s0.healthy).toBe(true);

    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('Status Check'));
    const s1 = await until(async () => {
      const s = await status(h);
      return s.snapshot !== s0.snapshot ? s : undefined;
    }, 'a new snapshot id');
    expect(Date.parse(s1.loadedAt)).toBeGreaterThanOrEqual(Date.parse(s0.loadedAt));
    expect(s1.devices).toBe(SAMPLE_DEVICES);
    expect(s1.healthy).toBe(true);
    expect(s1.lastReload?.ok).toBe(true);

    await fs.writeFile(path.join(h.root, YEALINK_FILE), 'model: [unclosed\n');
    const s2 = await until(async () => {
      const s = await status(h);
      return s.healthy === false ? s : undefined;
    }, 'the bad reload to be reported');
    expect(s2.snapshot).toBe(s1.snapshot);
    expect(s2.loadedAt).toBe(s1.loadedAt);
    expect(s2.devices).toBe(SAMPLE_DEVICES);
    expect(s2.lastReload?.ok).toBe(false);
    expect(s2.lastReload?.changed).toEqual([YEALINK_FILE]);
  });

  it('ETag follows the content: 304 for the current one, 200 with a new ETag after an edit', async () => {
    const h = await start();
    const first = await get(h, `/${YEALINK}.cfg`);
    expect(first.etag).toBe(etagOf(first.body));
    expect((await get(h, `/${YEALINK}.cfg`, { 'If-None-Match': first.etag! })).status).toBe(304);

    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('Etag Change'));
    const changed = await until(async () => {
      const r = await get(h, `/${YEALINK}.cfg`);
      return r.etag !== first.etag ? r : undefined;
    }, 'a new ETag');
    expect(changed.text).toContain('account.1.display_name = Etag Change');
    expect(changed.etag).toBe(etagOf(changed.body));
    const withOld = await get(h, `/${YEALINK}.cfg`, { 'If-None-Match': first.etag! });
    expect(withOld.status).toBe(200);
    expect(withOld.body.equals(changed.body)).toBe(true);
    expect((await get(h, `/${YEALINK}.cfg`, { 'If-None-Match': changed.etag! })).status).toBe(304);
  });

  it('the render cache belongs to the snapshot: a cached file changes after a global edit', async () => {
    const h = await start();
    const p = `/${POLY}-settings.cfg`;
    const a = await get(h, p);
    const b = await get(h, p); // now cached
    expect(b.body.equals(a.body)).toBe(true);
    expect(a.text).toContain('dialplan.digitmap="[2-9]xxxxxxxxx|1xxxxxxxxxx|xxxx"');
    const global = readFileSync(path.join(h.root, 'profiles/global.yaml'), 'utf8');
    await fs.writeFile(path.join(h.root, 'profiles/global.yaml'), global.replace('"[2-9]xxxxxxxxx|1xxxxxxxxxx|xxxx"', '"xxxx|9xxxxxxx"'));
    await until(async () => (await get(h, p)).text.includes('dialplan.digitmap="xxxx|9xxxxxxx"'), 'the new global value in the cached file');
  });

  it('consistency: while a global value flips many times, every response is exactly one of the two valid renders', async () => {
    const paths = [`${POLY}.cfg`, `${POLY}-settings.cfg`];
    const globalText = readFileSync(sampleFile('profiles/global.yaml'), 'utf8');
    // Two values far apart in the file and in the render: a torn read would mix them.
    const variant = (v: 'a' | 'b') =>
      globalText.replace('domain: northwind.example', `domain: ${v}.northwind.example`).replace('"[2-9]xxxxxxxxx|1xxxxxxxxxx|xxxx"', `"${v === 'a' ? '1xxx' : '2xxx'}"`);
    expect(variant('a')).not.toBe(globalText);

    // The two expected renders, computed in-process from a root in each state.
    const expected = new Map<string, Set<string>>(paths.map((p) => [p, new Set()]));
    const settingsVariants: string[] = [];
    for (const v of ['a', 'b'] as const) {
      const probe = await makeTmpRoot({ 'profiles/global.yaml': variant(v) }, 'deskset-reload-probe-');
      extraRoots.push(probe);
      const prov = new Provisioner(await buildFromRoot(await readRoot(probe.dir)));
      for (const p of paths) {
        const served = prov.serve({ path: p });
        expect(served.rendered, p).toBeDefined();
        const text = served.rendered!.bytes.toString('utf8');
        expected.get(p)!.add(text);
        if (p.endsWith('-settings.cfg')) settingsVariants.push(text);
      }
    }
    expect(settingsVariants[0]).not.toBe(settingsVariants[1]);
    expect(settingsVariants[0]).toContain('voIpProt.SIP.domain="a.northwind.example"');
    expect(settingsVariants[0]).toContain('dialplan.digitmap="1xxx"');

    const h = await start((root) => writeFileSync(path.join(root, 'profiles/global.yaml'), variant('a')));
    let done = false;
    const flipper = (async () => {
      try {
        for (let i = 1; i <= 40; i++) {
          await writeAtomic(h, 'profiles/global.yaml', variant(i % 2 ? 'b' : 'a'));
          const r = await h.running.reloader.reload(['profiles/global.yaml']);
          expect(r.ok).toBe(true);
        }
      } finally {
        done = true;
      }
    })();
    const results: Array<{ p: string } & Got> = [];
    const hammer = (async () => {
      while (!done) {
        const batch = await Promise.all(Array.from({ length: 16 }, (_, i) => paths[i % 2]!).map(async (p) => ({ p, ...(await get(h, `/${p}`)) })));
        results.push(...batch);
      }
    })();
    await Promise.all([flipper, hammer]);

    expect(results.length).toBeGreaterThanOrEqual(64);
    const seen = new Set<string>();
    for (const r of results) {
      expect(r.status, r.p).toBe(200);
      expect(expected.get(r.p)!.has(r.text), `${r.p}: a body that is neither valid render:\n${r.text}`).toBe(true);
      expect(r.etag).toBe(etagOf(r.body));
      if (r.p.endsWith('-settings.cfg')) seen.add(r.text);
    }
    // Both states were actually served while flipping.
    expect(seen.size).toBe(2);
  }, 180_000); // 40 validated reloads: 45 s at load 6 on two cores

  // profiles/devices is watched as one directory (chokidar would stat and watch every file:
  // 12 s and 390 MB at 100,000 devices). These are the edits that directory sees.
  describe('the devices directory', () => {
    const NEW = '805ec0777777';

    it('an editor-style save (temp file, then rename) of a device is served', async () => {
      const h = await start();
      await writeAtomic(h, YEALINK_FILE, yealinkDevice('Atomic Save'));
      await until(async () => (await servedDisplayName(h)) === 'Atomic Save', 'the renamed-into-place edit to be served');
    });

    it('a device file added after start is served, and removing it answers 404 again', async () => {
      const h = await start();
      expect((await get(h, `/${NEW}.cfg`)).status).toBe(404);
      await fs.writeFile(path.join(h.root, `profiles/devices/${NEW}.yaml`), yealinkDevice('Brand New'));
      await until(async () => /display_name = Brand New$/m.test((await get(h, `/${NEW}.cfg`)).text), 'the new device to be served');
      await fs.rm(path.join(h.root, `profiles/devices/${NEW}.yaml`));
      await until(async () => (await get(h, `/${NEW}.cfg`)).status === 404, 'the removed device to 404');
    });

    it('the whole directory replaced (as a checkout or rsync does) is read again, and still watched after', async () => {
      const h = await start();
      const devices = path.join(h.root, 'profiles/devices');
      const staged = path.join(h.root, 'profiles/.devices-new');
      await fs.cp(devices, staged, { recursive: true });
      await fs.writeFile(path.join(staged, `${YEALINK}.yaml`), yealinkDevice('Replaced Dir'));
      await fs.rm(devices, { recursive: true });
      await fs.rename(staged, devices);
      await until(async () => (await servedDisplayName(h)) === 'Replaced Dir', 'the replaced directory to be read');
      // The new directory is watched too.
      await fs.writeFile(path.join(devices, `${YEALINK}.yaml`), yealinkDevice('After Replace'));
      await until(async () => (await servedDisplayName(h)) === 'After Replace', 'an edit inside the new directory to be served');
    });
  });
});

// Issue 14.3: every snapshot that serves is valid for every device it serves. A rejected
// file stays on disk, so the next build carries it too: that build must be checked against
// everything changed since the last good snapshot, not only its own event.
describe('a rejected edit never goes live with a later, unrelated edit', () => {
  const POLY_FILE = `profiles/devices/${POLY}.yaml`;
  const AVAYA = 'c81fea83e85a';
  const AVAYA_FILE = `profiles/devices/${AVAYA}.yaml`;

  /** The next reload outcome logged for `rel` (accepted or rejected), after `seen` earlier ones. */
  async function outcomeFor(h: Harness, rel: string): Promise<'reloaded' | 'reload_rejected'> {
    return until(() => {
      for (const l of [...h.log].reverse()) {
        const e = JSON.parse(l) as { event?: string; changed?: string[] };
        if ((e.event === 'reloaded' || e.event === 'reload_rejected') && e.changed?.includes(rel)) return e.event;
      }
      return undefined;
    }, `a reload of ${rel}`);
  }

  it('the reproduction: bad Poly key (503), then João→Joao elsewhere: still 503, the Poly file keeps its last good bytes', async () => {
    const h = await start();
    const polyBefore = await get(h, `/${POLY}-settings.cfg`);
    expect(polyBefore.status).toBe(200);
    const polyText = readFileSync(path.join(h.root, POLY_FILE), 'utf8');
    await fs.writeFile(path.join(h.root, POLY_FILE), polyText.replace('"reg.1.label": "Bob <sales>"', '"bad name<>": "1"'));
    expect(await outcomeFor(h, POLY_FILE)).toBe('reload_rejected');
    expect((await get(h, '/healthz')).status).toBe(503);

    const yealinkText = readFileSync(path.join(h.root, YEALINK_FILE), 'utf8');
    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkText.replace('João', 'Joao'));
    expect(await outcomeFor(h, YEALINK_FILE)).toBe('reload_rejected');
    const health = await get(h, '/healthz');
    expect(health.status).toBe(503);
    expect((JSON.parse(health.text) as HealthBody).errors.some((e) => e.device === POLY)).toBe(true);
    const polyAfter = await get(h, `/${POLY}-settings.cfg`);
    expect([polyAfter.status, polyAfter.body.equals(polyBefore.body)]).toEqual([200, true]);
    expect(await servedDisplayName(h)).toBe('João Silva');

    // Fixing the bad file lets both edits through at once.
    await fs.writeFile(path.join(h.root, POLY_FILE), polyText.replace('Bob <sales>', 'Bob (sales)'));
    await until(async () => (await get(h, '/healthz')).status === 200, '/healthz to recover');
    expect(await servedDisplayName(h)).toBe('Joao Silva');
    expect((await get(h, `/${POLY}-settings.cfg`)).text).toContain('Bob (sales)');
  });

  it('an Avaya value with a newline, then an edit to a site file: still rejected, the Avaya file unchanged', async () => {
    const h = await start();
    const before = await get(h, `/${AVAYA}.txt`);
    expect(before.status).toBe(200);
    const text = readFileSync(path.join(h.root, AVAYA_FILE), 'utf8');
    await fs.writeFile(path.join(h.root, AVAYA_FILE), `${text}  avaya:\n    settings:\n      SIPDOMAIN: "a\\nSET ADMIN_PASSWORD 0000"\n`);
    expect(await outcomeFor(h, AVAYA_FILE)).toBe('reload_rejected');
    // The Lisbon site has no Avaya device in common with this one: its own event touches
    // none of the rejected file's devices.
    const site = 'profiles/sites/lisbon.yaml';
    const siteText = readFileSync(path.join(h.root, site), 'utf8');
    await fs.writeFile(path.join(h.root, site), siteText.replace('language: pt', 'language: en'));
    expect(await outcomeFor(h, site)).toBe('reload_rejected');
    expect((await get(h, '/healthz')).status).toBe(503);
    const after = await get(h, `/${AVAYA}.txt`);
    expect([after.status, after.body.equals(before.body)]).toEqual([200, true]);
    expect(after.text).not.toContain('ADMIN_PASSWORD 0000');
  });

  it('a rejected file deleted again: the next good build serves, and the rest of the fleet is unaffected', async () => {
    const h = await start();
    const extra = 'profiles/devices/0004f2999999.yaml';
    await fs.writeFile(path.join(h.root, extra), 'model: VVX450\nsite: nyc\nsettings:\n  polycom:\n    params:\n      "bad name<>": "1"\n');
    expect(await outcomeFor(h, extra)).toBe('reload_rejected');
    expect((await get(h, '/0004f2999999-settings.cfg')).status).toBe(404);
    await fs.rm(path.join(h.root, extra));
    await until(async () => (await get(h, '/healthz')).status === 200, '/healthz to recover');
    expect((await get(h, '/0004f2999999-settings.cfg')).status).toBe(404);
  });

  it('a large root validated in the background: a device found invalid keeps answering 500 after an unrelated good reload', async () => {
    // validateSyncMax 0: validated in slices after start, as a root over 20,000 devices is.
    const h = await start((root) => {
      const f = path.join(root, POLY_FILE);
      writeFileSync(f, readFileSync(f, 'utf8').replace('"reg.1.label": "Bob <sales>"', '"bad name<>": "1"'));
    }, { validateSyncMax: 0 });
    await until(async () => (await get(h, '/healthz')).status === 503, 'background validation to find the bad device');
    expect((await get(h, `/${POLY}-settings.cfg`)).status).toBe(500);
    const yealinkText = readFileSync(path.join(h.root, YEALINK_FILE), 'utf8');
    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkText.replace('João', 'Joao'));
    expect(await outcomeFor(h, YEALINK_FILE)).toBe('reloaded');
    expect(await servedDisplayName(h)).toBe('Joao Silva');
    const poly = await get(h, `/${POLY}-settings.cfg`);
    expect(poly.status).toBe(500);
    expect(poly.text).not.toContain('bad name');
    await until(async () => (await get(h, '/healthz')).status === 503, 'the new snapshot to be validated in the background too');
  });
});

// Issue 14.4: edits that used to pass silently.
describe('silent bad edits are seen', () => {
  const healthBody = async (h: Harness): Promise<{ status: number; body: { ok: boolean; errors?: HealthBody['errors']; warnings?: HealthBody['errors'] } | 'ok' }> => {
    const r = await get(h, '/healthz');
    return { status: r.status, body: r.text === 'ok\n' ? 'ok' : (JSON.parse(r.text) as { ok: boolean }) };
  };

  it('a site profile emptied by a reload is served but is a warning on /healthz and in the log, until it has content again', async () => {
    const h = await start();
    const site = 'profiles/sites/lisbon.yaml';
    const text = readFileSync(path.join(h.root, site), 'utf8');
    await fs.writeFile(path.join(h.root, site), '');
    const warned = await until(async () => {
      const b = await healthBody(h);
      return b.status === 200 && b.body !== 'ok' ? b.body : undefined;
    }, '/healthz to show a warning');
    expect(warned.ok).toBe(true);
    expect(warned.warnings?.map((w) => [w.code, w.at])).toEqual([['EMPTY_PROFILE', `${path.join(h.root, site)}:1:1`]]);
    expect(warned.warnings?.[0]?.message).toMatch(/had \d+ lines in the last good config/);
    expect(h.log.some((l) => l.includes('"event":"profile_emptied"') && l.includes('lisbon.yaml'))).toBe(true);
    // An unrelated good edit keeps the warning: the file is still empty.
    await fs.writeFile(path.join(h.root, YEALINK_FILE), yealinkDevice('Still Warned'));
    await until(async () => (await servedDisplayName(h)) === 'Still Warned', 'the unrelated edit to be served');
    expect((await healthBody(h)).body).not.toBe('ok');
    await fs.writeFile(path.join(h.root, site), text);
    await until(async () => (await healthBody(h)).body === 'ok', '/healthz to be plain ok again');
  });

  it('an empty global.yaml is rejected (EMPTY_GLOBAL) and the admin password keeps being served', async () => {
    const h = await start();
    const before = await get(h, `/${YEALINK}.cfg`);
    expect(before.text).toMatch(/static\.security\.user_password = \S+/);
    await fs.writeFile(path.join(h.root, 'profiles/global.yaml'), '');
    const bad = await until(async () => {
      const b = await healthBody(h);
      return b.status === 503 && b.body !== 'ok' ? b.body : undefined;
    }, '/healthz to turn 503');
    expect(bad.errors?.map((e) => [e.code, e.at])).toEqual([['EMPTY_GLOBAL', `${path.join(h.root, 'profiles/global.yaml')}:1:1`]]);
    expect((await get(h, `/${YEALINK}.cfg`)).body.equals(before.body)).toBe(true);
  });

  it('with allow_empty_global: true an empty global.yaml is served, with an EMPTY_PROFILE warning', async () => {
    const h = await start((root) => writeFileSync(path.join(root, 'deskset.yaml'), `${readFileSync(path.join(root, 'deskset.yaml'), 'utf8')}\nallow_empty_global: true\n`));
    await fs.writeFile(path.join(h.root, 'profiles/global.yaml'), '# nothing company-wide for now\n');
    const warned = await until(async () => {
      const b = await healthBody(h);
      return b.status === 200 && b.body !== 'ok' ? b.body : undefined;
    }, '/healthz to show the warning');
    expect(warned.warnings?.map((w) => w.code)).toEqual(['EMPTY_PROFILE']);
    expect((await get(h, `/${YEALINK}.cfg`)).text).not.toMatch(/static\.security\.user_password/);
  });

  it('invalid UTF-8 in a device file is an error at file:line:col; the last good bytes keep serving', async () => {
    const h = await start();
    const before = await get(h, `/${YEALINK}.cfg`);
    const text = readFileSync(path.join(h.root, YEALINK_FILE));
    // "João" saved as cp1252: 0xE3 where UTF-8 has C3 A3.
    const bad = Buffer.from(text.toString('utf8').replace('João', 'Jo\u0000o'), 'utf8');
    bad[bad.indexOf(0)] = 0xe3;
    await fs.writeFile(path.join(h.root, YEALINK_FILE), bad);
    const line = text.toString('utf8').split('\n').findIndex((l) => l.includes('João')) + 1;
    const col = text.toString('utf8').split('\n')[line - 1]!.indexOf('João') + 3;
    const health = await until(async () => {
      const b = await healthBody(h);
      return b.status === 503 && b.body !== 'ok' ? b.body : undefined;
    }, '/healthz to turn 503');
    expect(health.errors?.map((e) => [e.code, e.at])).toEqual([['INVALID_UTF8', `${path.join(h.root, YEALINK_FILE)}:${line}:${col}`]]);
    const after = await get(h, `/${YEALINK}.cfg`);
    expect(after.body.equals(before.body)).toBe(true);
    expect(after.text).not.toContain('\uFFFD');
  });

  it('invalid UTF-8 in a template override is an error at file:line:col', async () => {
    const h = await start();
    const tpl = 'templates/yealink/common.cfg.hbs';
    await fs.mkdir(path.join(h.root, 'templates/yealink'), { recursive: true });
    await fs.writeFile(path.join(h.root, tpl), Buffer.concat([Buffer.from('#!version:1.0.0.1\n## caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const health = await until(async () => {
      const b = await healthBody(h);
      return b.status === 503 && b.body !== 'ok' ? b.body : undefined;
    }, '/healthz to turn 503');
    expect(health.errors?.map((e) => [e.code, e.at])).toEqual([['INVALID_UTF8', `${path.join(h.root, tpl)}:2:7`]]);
  });

  it('a large group file written in place, slowly, in chunks, is never served as a truncated prefix', async () => {
    const h = await start();
    const group = path.join(h.root, 'profiles/groups/support.yaml');
    const params = (v: string, padding: string) => `settings:\n  yealink:\n    params:\n      "a.first": "${v}"\n${padding}      "z.last": "${v}"\n`;
    await fs.writeFile(group, params('v1', ''));
    const both = (t: string, v: string) => t.includes(`a.first = ${v}`) && t.includes(`z.last = ${v}`);
    await until(async () => both((await get(h, `/${YEALINK}.cfg`)).text, 'v1'), 'v1 to be served');
    // About 2.5 MB, cut only at line ends: every prefix is valid YAML (the case).
    const padding = Array.from({ length: 40_000 }, (_, i) => `      # padding line ${String(i).padStart(6, '0')} ${'x'.repeat(40)}\n`).join('');
    const full = Buffer.from(params('v2', padding));
    const lines: number[] = [];
    for (let i = full.indexOf(10); i !== -1; i = full.indexOf(10, i + 1)) lines.push(i + 1);
    const CHUNKS = 50;
    const fd = await fs.open(group, 'w'); // truncates in place, as a non-atomic editor does
    const seen: string[] = [];
    let writing = true;
    const poll = (async () => {
      while (writing) {
        const t = (await get(h, `/${YEALINK}.cfg`)).text;
        if (!both(t, 'v1') && !both(t, 'v2')) seen.push(t);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      let at = 0;
      for (let c = 1; c <= CHUNKS; c++) {
        const end = c === CHUNKS ? full.length : lines[Math.floor((lines.length * c) / CHUNKS)]!;
        await fd.write(full, at, end - at, at);
        at = end;
        // 50 ms between chunks, 2.5 s in all: longer than the watcher's longest batch wait.
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await fd.close();
    }
    await until(async () => both((await get(h, `/${YEALINK}.cfg`)).text, 'v2'), 'the complete file to be served', 15_000);
    writing = false;
    await poll;
    expect(seen.map((t) => t.match(/^(a\.first|z\.last) = .*$/gm))).toEqual([]);
  }, 30_000);
});
