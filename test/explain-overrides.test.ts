// A phone's uploaded override files (<mac>-phone.cfg, <mac>-web.cfg, <mac>-local.cfg) carry
// values that beat ours on the phone: `deskset explain` lists them as phone-side overrides.
// The upload goes through the real server (startServer); explain is the real process.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { get, raw, serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const VVX = '0004f2a1b2c3';
const T46S = '805ec0123456';
const J179 = 'c81fea83e85a';
const PHONE_CFG = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="1"/></PHONE_CONFIG>\n');
const LOCAL_CFG = Buffer.from('#!version:1.0.0.1\nphone_setting.backlight_time = 0\n');

interface ExplainJson {
  device: { mac: string; model: string };
  phoneOverrides: Array<{ name: string; bytes: number; modified: string }>;
}

for (const variant of [
  { name: 'default state dir', edits: {} as Record<string, (old: string) => string> },
  { name: 'state_dir set in deskset.yaml', edits: { 'deskset.yaml': (old: string) => `${old}state_dir: phone-state\n` } },
]) {
  describe(`deskset explain lists phone-side overrides (${variant.name})`, () => {
    let root: TmpRoot;
    let server: RunningServer;
    beforeAll(async () => {
      root = await makeTmpRoot(variant.edits);
      server = await serveRoot(root.dir);
      const put = await raw(server, 'PUT', `/${VVX}-phone.cfg`, { 'Content-Type': 'application/xml' }, PHONE_CFG);
      expect([201, 204]).toContain(put.status);
      const local = await raw(server, 'PUT', `/${T46S}-local.cfg`, {}, LOCAL_CFG);
      expect([201, 204]).toContain(local.status);
      // Uploads that are not overrides: a log and a contact directory.
      expect([201, 204]).toContain((await raw(server, 'PUT', `/${VVX}-app.log`, {}, Buffer.from('boot ok\n'))).status);
      expect([201, 204]).toContain((await raw(server, 'PUT', `/${VVX}-directory.xml`, {}, Buffer.from('<directory/>\n'))).status);
      // The server hands the override back.
      const back = await get(server, `/${VVX}-phone.cfg`);
      expect(back.status).toBe(200);
      expect(back.body.equals(PHONE_CFG)).toBe(true);
    });
    afterAll(async () => {
      await server?.close();
      await root?.cleanup();
    });

    it('text: a "Phone-side overrides" section naming <mac>-phone.cfg with its size', async () => {
      const r = await runCli(['explain', root.dir, VVX]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      const at = lines.findIndex((l) => /^Phone-side overrides/.test(l));
      expect(at, r.stdout).toBeGreaterThanOrEqual(0);
      const section: string[] = [];
      for (const l of lines.slice(at + 1)) {
        if (!l.startsWith('  ')) break;
        section.push(l);
      }
      expect(section).toHaveLength(1);
      expect(section[0]).toMatch(new RegExp(`^  ${VVX}-phone\\.cfg\\s+${PHONE_CFG.length} bytes`));
      // Logs and directories are uploads but not overrides.
      expect(section.join('\n')).not.toMatch(/app\.log|directory\.xml/);
    });

    it('--json: phoneOverrides with name, bytes and modified', async () => {
      const r = await runCli(['explain', root.dir, VVX, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as ExplainJson;
      expect(j.device.mac).toBe(VVX);
      expect(j.phoneOverrides).toHaveLength(1);
      expect(j.phoneOverrides[0]).toMatchObject({ name: `${VVX}-phone.cfg`, bytes: PHONE_CFG.length });
      expect(Number.isNaN(Date.parse(j.phoneOverrides[0]!.modified))).toBe(false);
    });

    it('a Yealink <mac>-local.cfg is listed for that phone', async () => {
      const j = JSON.parse((await runCli(['explain', root.dir, T46S, '--json'])).stdout) as ExplainJson;
      expect(j.phoneOverrides.map((o) => o.name)).toEqual([`${T46S}-local.cfg`]);
    });

    it('a device that uploaded nothing: no section, empty phoneOverrides; another phone\'s uploads are not listed', async () => {
      const text = await runCli(['explain', root.dir, J179]);
      expect(text.code).toBe(0);
      expect(text.stdout).not.toMatch(/Phone-side overrides/);
      expect(text.stdout).not.toContain(`${VVX}-phone.cfg`);
      const j = JSON.parse((await runCli(['explain', root.dir, J179, '--json'])).stdout) as ExplainJson;
      expect(j.phoneOverrides).toEqual([]);
    });

    it('with a KEY, explain still lists the overrides', async () => {
      const r = await runCli(['explain', root.dir, VVX, 'settings.sip.server']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Phone-side overrides[^\\n]*\\n  ${VVX}-phone\\.cfg`));
    });
  });
}
