// Issue 14.9: a large root's reloads are rendered and validated on check threads (real
// worker threads running the compiled dist/), so the serving thread only builds its own
// snapshot. What must hold: the threads' verdict is the serving thread's verdict (same
// diagnostics, bad edits still rejected with the last good config serving), a failed thread
// never lets a reload through unchecked, and ${env:…} resolves the same on both.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSnapshot } from '../src/check/check.js';
import type { Diagnostic } from '../src/check/diagnostics.js';
import { createLogger } from '../src/http/access-log.js';
import { buildFromRoot, readRoot } from '../src/io/load-root.js';
import { createValidators } from '../src/io/validators.js';
import { startServer, type RunningServer } from '../src/server.js';
import { checkParts } from '../src/service/check-parts.js';
import { CheckThreads, type ThreadSession } from '../src/service/check-threads.js';
import { Provisioner } from '../src/service/provisioner.js';
import { Reloader } from '../src/service/reloader.js';
import { until } from './helpers/reload-root.js';

const DEVICES = 600; // above the threads' threshold of 500
const quiet = () => createLogger({ write: () => undefined });
let dir: string;
let fleet: Array<{ mac: string; vendor: string; model: string }>;
let yealink: string;

beforeAll(async () => {
  const { writeRoot } = await import('../bench/gen-root.js');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-threads-'));
  await writeRoot(dir, DEVICES, 11);
  fleet = JSON.parse(await fs.readFile(path.join(dir, 'bench-devices.json'), 'utf8'));
  yealink = fleet.find((d) => d.vendor === 'yealink')!.mac;
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A fresh copy of the generated root, so a test's edits stay its own. */
async function copyRoot(): Promise<string> {
  const to = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-threads-root-'));
  await fs.cp(dir, to, { recursive: true });
  return to;
}

const deviceFile = (root: string, mac: string) => path.join(root, 'profiles/devices', `${mac}.yaml`);
/** A Yealink params key that is not a parameter name: the device's file fails to render. */
const BAD_PARAMS = '  yealink:\n    params:\n      "bad key": 1\n';
const key = (d: Diagnostic) => JSON.stringify([d.code, d.severity, d.device, d.path, d.message, d.loc]);

async function addToSettings(file: string, block: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.replace(/^settings:\n/m, `settings:\n${block}`));
}

async function serve(root: string, checkThreads: number): Promise<RunningServer> {
  const running = await startServer({ root, host: '127.0.0.1', port: 0, watch: false, log: quiet(), checkThreads });
  if (checkThreads > 0) await until(() => running.reloader.status().reloadChecks?.ready, 'the check threads to be primed', 60_000, 100);
  return running;
}

describe('a check cut into parts', () => {
  it('the parts together find exactly what one whole check finds, file for file', async () => {
    const root = await copyRoot();
    try {
      await addToSettings(deviceFile(root, yealink), BAD_PARAMS);
      // An Avaya phone takes one line: a second is dropped, with a warning.
      const avaya = fleet.find((d) => d.vendor === 'avaya')!.mac;
      const text = await fs.readFile(deviceFile(root, avaya), 'utf8');
      await fs.writeFile(deviceFile(root, avaya), text.replace(/^ {2}lines:\n/m, '  lines:\n    - {extension: "9001", password: "pw-9001-abcdef"}\n'));
      const snap = await buildFromRoot(await readRoot(root));
      const v = createValidators({ root, resourceNames: new Set() });
      const whole = await checkSnapshot(snap, v, {});
      const parts = checkParts(snap.profiles.devices.keys());
      expect(parts.length).toBe(1 + Math.ceil(DEVICES / 250));
      const found: Diagnostic[] = [];
      let files = 0;
      for (const part of parts) {
        const r = await checkSnapshot(snap, v, { part });
        found.push(...r.diagnostics);
        files += r.files;
      }
      await v.close();
      expect(files).toBe(whole.files);
      expect(new Set(found.map(key))).toEqual(new Set(whole.diagnostics.map(key)));
      // Not an empty comparison: both found the render error and the dropped lines.
      expect(whole.diagnostics.map((d) => d.code)).toEqual(expect.arrayContaining(['RENDER', 'LINES_DROPPED']));
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

describe('reloads of a large root on check threads', () => {
  it('a global edit is checked on a thread and served; a bad device edit is rejected there, and the last good config keeps serving', async () => {
    const root = await copyRoot();
    const withThreads = await serve(root, 1);
    try {
      expect(withThreads.reloader.status().reloadChecks).toEqual({ threads: 1, ready: true });
      const url = `${withThreads.url}/${yealink}.cfg`;
      const global = path.join(root, 'profiles/global.yaml');
      await fs.writeFile(global, (await fs.readFile(global, 'utf8')).replace(/"phone_setting\.backlight_time": \d+/, '"phone_setting.backlight_time": 93'));
      const good = await withThreads.reloader.reload(['profiles/global.yaml']);
      expect([good.ok, good.checkedDevices, good.checkedOn]).toEqual([true, 'all', 'threads']);
      const served = await fetch(url);
      const before = await served.text();
      expect(before).toContain('phone_setting.backlight_time = 93');

      await addToSettings(deviceFile(root, yealink), BAD_PARAMS);
      const bad = await withThreads.reloader.reload([`profiles/devices/${yealink}.yaml`]);
      expect([bad.ok, bad.checkedDevices, bad.checkedOn]).toEqual([false, 1, 'threads']);
      expect(bad.errors.map((e) => [e.code, e.device, e.path])).toEqual([['RENDER', yealink, `${yealink}.cfg`]]);
      // The last good config keeps serving, byte for byte.
      expect(await (await fetch(url)).text()).toBe(before);
      expect((await fetch(`${withThreads.url}/healthz`)).status).toBe(503);
    } finally {
      await withThreads.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('the serving thread and a check thread reject the same bad global edit with the same diagnostics', async () => {
    const errorsFrom = async (threads: number) => {
      const root = await copyRoot();
      const running = await serve(root, threads);
      try {
        const global = path.join(root, 'profiles/global.yaml');
        await fs.writeFile(global, (await fs.readFile(global, 'utf8')).replace(/("phone_setting\.backlight_time": \d+\n)/, '$1      "bad key": 1\n'));
        const r = await running.reloader.reload(['profiles/global.yaml']);
        return { ok: r.ok, on: r.checkedOn, errors: r.errors.map((d) => key({ ...d, loc: d.loc && { ...d.loc, file: path.relative(root, d.loc.file) } })).sort() };
      } finally {
        await running.close();
        await fs.rm(root, { recursive: true, force: true });
      }
    };
    const threaded = await errorsFrom(1);
    const here = await errorsFrom(0);
    expect([threaded.ok, threaded.on, here.ok, here.on]).toEqual([false, 'threads', false, 'here']);
    // Every Yealink file fails to render (each device's, and the shared ones), the same on both.
    const yealinks = fleet.filter((d) => d.vendor === 'yealink').map((d) => d.mac);
    const devices = new Set(threaded.errors.map((e) => (JSON.parse(e) as unknown[])[2]));
    expect(yealinks.every((m) => devices.has(m))).toBe(true);
    expect(threaded.errors.every((e) => e.startsWith('["RENDER","error"'))).toBe(true);
    expect(threaded.errors).toEqual(here.errors);
  });

  it('an admin schema dropped in, then edited in place, then removed: each is applied on the thread', async () => {
    const root = await copyRoot();
    const running = await serve(root, 1);
    const xsd = path.join(root, 'schemas/polycom/polycomConfig.xsd');
    const rel = 'schemas/polycom/polycomConfig.xsd';
    const ACCEPT_ALL = '<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n  <xs:element name="polycomConfig"><xs:complexType><xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence><xs:anyAttribute processContents="skip"/></xs:complexType></xs:element>\n</xs:schema>\n';
    const REJECT_ALL = '<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n  <xs:element name="polycomConfig"><xs:complexType/></xs:element>\n</xs:schema>\n';
    try {
      await fs.mkdir(path.dirname(xsd), { recursive: true });
      await fs.writeFile(xsd, ACCEPT_ALL);
      const accepted = await running.reloader.reload([rel]);
      expect([accepted.ok, accepted.checkedOn]).toEqual([true, 'threads']);
      // Same path, new text: a schema compiled from the old text must not answer for it.
      await fs.writeFile(xsd, REJECT_ALL);
      const rejected = await running.reloader.reload([rel]);
      expect([rejected.ok, rejected.checkedOn]).toEqual([false, 'threads']);
      expect(rejected.errors.length).toBeGreaterThan(0);
      expect(rejected.errors.every((e) => e.code === 'XSD' && e.message.startsWith('XSD polycom/polycomConfig.xsd: '))).toBe(true);
      await fs.rm(xsd);
      const removed = await running.reloader.reload([rel]);
      expect([removed.ok, removed.checkedOn]).toEqual([true, 'threads']);
    } finally {
      await running.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('a thread that fails leaves the reload to the serving thread, which still rejects a bad edit', async () => {
    const root = await copyRoot();
    try {
      const rf = await readRoot(root);
      const provisioner = new Provisioner(await buildFromRoot(rf));
      const servedId = provisioner.current().id;
      const lines: string[] = [];
      const log = createLogger({ write: (l: string) => void lines.push(l) });
      class DyingThreads extends CheckThreads {
        override available(): boolean {
          return true;
        }
        override begin(): ThreadSession {
          return { check: () => Promise.reject(new Error('the thread stopped')), end: () => undefined };
        }
      }
      const reloader = new Reloader(rf, provisioner, log, undefined, { threads: new DyingThreads(1) });
      await addToSettings(deviceFile(root, yealink), BAD_PARAMS);
      const bad = await reloader.reload([`profiles/devices/${yealink}.yaml`]);
      expect([bad.ok, bad.checkedOn]).toEqual([false, 'here']);
      expect(bad.errors.map((e) => [e.code, e.device])).toEqual([['RENDER', yealink]]);
      expect(provisioner.current().id).toBe(servedId);
      expect(lines.some((l) => l.includes('"check_thread_failed"') && l.includes('the thread stopped'))).toBe(true);
      await reloader.close();
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('${env:…} in a profile resolves on the check thread as on the serving thread, set after start-up too', async () => {
    const root = await copyRoot();
    const name = `DESKSET_THREAD_TEST_${process.pid}`;
    const running = await serve(root, 1);
    try {
      const global = path.join(root, 'profiles/global.yaml');
      await fs.writeFile(global, (await fs.readFile(global, 'utf8')).replace(/admin_password: .*/, `admin_password: "\${env:${name}}"`));
      const missing = await running.reloader.reload(['profiles/global.yaml']);
      expect(missing.ok).toBe(false);
      expect(missing.errors.map((e) => e.code)).toContain('SECRET_REF_MISSING');
      process.env[name] = 'Thr3ad-Adm1n';
      const set = await running.reloader.reload(['profiles/global.yaml']);
      expect([set.ok, set.checkedOn]).toEqual([true, 'threads']);
    } finally {
      delete process.env[name];
      await running.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
