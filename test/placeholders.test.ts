// Placeholder devices (profiles/devices/placeholders/<name>.yaml): prepared without a MAC,
// checked and rendered like any device under a preview MAC, and never served until a code
// binds one to a phone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { makeTmpRoot, SAMPLES, type TmpRoot } from './helpers/tmp-root.js';
import { memoryLog, rawGet } from './helpers/e2e-http.js';
import { placeholderMac } from '../src/config/profiles.js';
import { loadRoot } from '../src/io/load-root.js';
import { placeholderTargets } from '../src/pipeline/request.js';
import { startServer } from '../src/server.js';

const RECEPTION = ['model: J179', 'site: nyc', 'groups: [support]', 'description: reception desk', 'settings:', '  lines:', '    - extension: "1999"', '      display_name: Reception', ''].join('\n');

describe('placeholderMac', () => {
  it('is locally administered, stable, and the same whatever the case of the name', () => {
    const mac = placeholderMac('BAT-reception');
    expect(mac).toMatch(/^02[0-9a-f]{10}$/);
    expect(placeholderMac('bat-RECEPTION')).toBe(mac);
    expect(placeholderMac('BAT-lobby')).not.toBe(mac);
  });
});

describe('placeholders in a root', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({ 'profiles/devices/placeholders/BAT-reception.yaml': RECEPTION });
  });
  afterAll(() => root?.cleanup());

  it('load as placeholders, not devices, with their model, site and groups', async () => {
    const snap = await loadRoot(root.dir);
    expect(snap.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect([...snap.profiles.devices.keys()]).not.toContain(placeholderMac('BAT-reception'));
    const p = snap.profiles.placeholders.get('BAT-reception');
    expect(p).toMatchObject({ placeholder: 'BAT-reception', mac: placeholderMac('BAT-reception'), site: 'nyc', groups: ['support'] });
    expect(p?.model.name).toBe('J179');
  });

  it('render like a device: the placeholder’s own line lands in its file', async () => {
    const snap = await loadRoot(root.dir);
    const { renderTarget } = await import('../src/render/render.js');
    const targets = placeholderTargets(snap);
    expect(targets.map((t) => t.path)).toContain(`${placeholderMac('BAT-reception')}.txt`);
    const texts = targets.map((t) => renderTarget(snap.render, t).rendered?.text ?? '');
    expect(texts.join('\n')).toContain('1999');
  });

  it('check renders and validates them and counts them', async () => {
    const r = await runCli(['check', root.dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const devices = (await readdir(path.join(root.dir, 'profiles', 'devices'))).filter((f) => f.endsWith('.yaml')).length;
    const m = /(\d+) devices, 1 placeholder, (\d+) files rendered and validated: 0 errors/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBe(devices);
    const json = JSON.parse((await runCli(['check', root.dir, '--json'])).stdout) as { devices: number; placeholders: number; files: number };
    expect(json).toMatchObject({ devices, placeholders: 1, files: Number(m![2]) });
    // The placeholder's own files are among them: a J179 has two device files.
    const without = JSON.parse((await runCli(['check', SAMPLES, '--json'])).stdout) as { files: number };
    expect(json.files - without.files).toBe(2);
  });

  it('are never served: the preview MAC is an unknown device to the server', async () => {
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    try {
      const r = await rawGet(srv.port, `/${placeholderMac('BAT-reception')}.txt`);
      expect(r.status).toBe(404);
    } finally {
      await srv.close();
    }
  });
});

describe('bad placeholders are errors at their file', () => {
  it.each([
    ['an unknown model', { 'profiles/devices/placeholders/lobby.yaml': 'model: VVX999\n' }, /placeholders\/lobby\.yaml:1:8: error UNKNOWN_MODEL/],
    ['no model at all', { 'profiles/devices/placeholders/lobby.yaml': 'site: nyc\n' }, /placeholders\/lobby\.yaml:1:1: error PROFILE: missing required key "model"/],
    ['an unknown site', { 'profiles/devices/placeholders/lobby.yaml': 'model: J179\nsite: mars\n' }, /placeholders\/lobby\.yaml:2:7: error UNKNOWN_SITE/],
    ['an unknown settings key', { 'profiles/devices/placeholders/lobby.yaml': 'model: J179\nsettings:\n  bogus: 1\n' }, /placeholders\/lobby\.yaml:3:3: error PROFILE/],
    ['a name that is not one', { 'profiles/devices/placeholders/lob by.yaml': 'model: J179\n' }, /error PLACEHOLDER_NAME/],
    ['the same name twice, by case', { 'profiles/devices/placeholders/Lobby.yaml': 'model: J179\n', 'profiles/devices/placeholders/lobby.yaml': 'model: J179\n' }, /error DUPLICATE_PLACEHOLDER/],
    ['a folder inside placeholders/', { 'profiles/devices/placeholders/x/lobby.yaml': 'model: J179\n' }, /error PROFILE_PLACE/],
  ])('%s', async (_name, edits, expected) => {
    const root = await makeTmpRoot(edits as Record<string, string>);
    try {
      const r = await runCli(['check', root.dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(expected);
    } finally {
      await root.cleanup();
    }
  });
});
