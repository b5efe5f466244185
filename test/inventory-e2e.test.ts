// The inventory end to end: a real server on a copy of samples/, real requests with vendor
// User-Agents, and the SQLite store read back. Batches are flushed by hand (flush()), as the
// timer would.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { get, memoryLogger } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { appendYaml, basic } from './helpers/e2e-http.js';

const VVX = 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2945 Type/Application';
const MAC = '0004f2a1b2c3';

describe('inventory over real requests', () => {
  let root: TmpRoot;
  let srv: RunningServer | undefined;
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('records a phone, its files and ETags; ok after the whole boot sequence; unknown MACs only with a vendor User-Agent', async () => {
    root = await makeTmpRoot({ 'deskset.yaml': (t) => `${t}\ninventory: {flush_ms: 60000}\n` });
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLogger().log, watch: false });
    const ua = { 'User-Agent': VVX };
    const master = await get(srv, `/${MAC}.cfg`, ua);
    expect(master.status).toBe(200);
    await srv.inventory!.flush();
    let d = (await srv.store!.getDevice(MAC))!;
    expect(d).toMatchObject({ mac: MAC, vendor: 'polycom', model: 'VVX450', firmware: '6.4.6.2945', site: 'nyc', ip: '127.0.0.1', configured: true, result: 'stale' });
    expect(d.files).toEqual([{ name: `${MAC}.cfg`, fileId: 'master', status: 200, bytes: master.body.length, etag: master.headers.etag, at: d.lastSeen }]);

    const settings = await get(srv, `/${MAC}-settings.cfg`, ua);
    expect(settings.status).toBe(200);
    // A conditional re-fetch (304) still proves the phone has the current file.
    expect((await get(srv, `/${MAC}.cfg`, { ...ua, 'If-None-Match': master.headers.etag! })).status).toBe(304);
    // An unknown MAC from a Poly phone is recorded; one from a scanner (no vendor User-Agent) is not.
    expect((await get(srv, '/0004f2ffff01.cfg', ua)).status).toBe(404);
    expect((await get(srv, '/0004f2ffff02.cfg', { 'User-Agent': 'curl/8.0' })).status).toBe(404);
    await srv.inventory!.flush();
    d = (await srv.store!.getDevice(MAC))!;
    expect(d.result).toBe('ok');
    expect(d.files.map((f) => [f.name, f.status])).toEqual([
      [`${MAC}-settings.cfg`, 200],
      [`${MAC}.cfg`, 304],
    ]);
    expect(await srv.store!.getDevice('0004f2ff ff01'.replace(' ', ''))).toMatchObject({ configured: false, result: 'unknown', vendor: 'polycom' });
    expect(await srv.store!.getDevice('0004f2ffff02')).toBeUndefined();
    expect(await srv.store!.countByResult()).toMatchObject({ ok: 1, unknown: 1 });
    await srv.close();
    srv = undefined;
  });

  it('survives a restart, and a changed profile makes the phone stale until it fetches the changed file', async () => {
    await fs.writeFile(root.file(`profiles/devices/${MAC}.yaml`), (await fs.readFile(root.file(`profiles/devices/${MAC}.yaml`), 'utf8')).replace('Bob <sales>', 'Bob <moved desks>'));
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLogger().log, watch: false });
    const before = (await srv.store!.getDevice(MAC))!;
    const oldSettings = before.files.find((f) => f.name === `${MAC}-settings.cfg`)!;
    // The master file again (unchanged); the settings file it holds is from before the change.
    expect((await get(srv, `/${MAC}.cfg`, { 'User-Agent': VVX })).status).toBe(200);
    await srv.inventory!.flush();
    let d = (await srv.store!.getDevice(MAC))!;
    expect(d.firstSeen).toBe(before.firstSeen);
    expect(d.result).toBe('stale');
    const settings = await get(srv, `/${MAC}-settings.cfg`, { 'User-Agent': VVX });
    expect(settings.text).toContain('Bob &lt;moved desks&gt;');
    expect(settings.headers.etag).not.toBe(oldSettings.etag);
    await srv.inventory!.flush();
    d = (await srv.store!.getDevice(MAC))!;
    expect(d.result).toBe('ok');
    await srv.close();
    srv = undefined;
    // The database is a plain SQLite file in <root>/var, intact.
    const s = await openSqliteStore({ file: path.join(root.dir, 'var', 'deskset.db') });
    expect(s.integrityCheck()).toBe('ok');
    await s.close();
  });

  it('a 401 makes the phone failing; fetching its files with its credentials makes it ok', async () => {
    process.env.QA_INVENTORY_DEV_PW = 'desk-pw-1';
    const authRoot = await makeTmpRoot({ 'profiles/devices/0004f2a1b2c3.yaml': appendYaml('auth:\n  user: vvx\n  password: "${env:QA_INVENTORY_DEV_PW}"\n') });
    const s = await startServer({ root: authRoot.dir, host: '127.0.0.1', port: 0, log: memoryLogger().log, watch: false });
    try {
      const ua = { 'User-Agent': VVX };
      expect((await get(s, `/${MAC}.cfg`, ua)).status).toBe(401);
      await s.inventory!.flush();
      expect(await s.store!.getDevice(MAC)).toMatchObject({ result: 'failing', files: [{ name: `${MAC}.cfg`, status: 401 }] });
      for (const f of [`/${MAC}.cfg`, `/${MAC}-settings.cfg`]) expect((await get(s, f, { ...ua, ...basic('vvx', 'desk-pw-1') })).status).toBe(200);
      await s.inventory!.flush();
      expect((await s.store!.getDevice(MAC))!.result).toBe('ok');
      // A wrong password again: failing, whatever was fetched before.
      expect((await get(s, `/${MAC}-settings.cfg`, { ...ua, ...basic('vvx', 'nope') })).status).toBe(401);
      await s.inventory!.flush();
      expect((await s.store!.getDevice(MAC))!.result).toBe('failing');
    } finally {
      await s.close();
      await authRoot.cleanup();
      delete process.env.QA_INVENTORY_DEV_PW;
    }
  });
});
