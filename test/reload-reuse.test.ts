// A reload reuses what its change cannot have touched: the devices of a root whose device
// files, models and site and group names are unchanged (a global or site edit), and the
// digests of unchanged files for the snapshot id. Each case here applies one edit to a root
// built with a parse cache, as the server's reloads do, and compares the result with a build
// of the same files from nothing: reuse must never be visible.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParseCache } from '../src/config/profiles.js';
import { formatDiagnostic } from '../src/check/diagnostics.js';
import { buildFromRoot, readRoot, type RootFiles } from '../src/io/load-root.js';
import { allTargets } from '../src/pipeline/request.js';
import { renderTarget } from '../src/render/render.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { SAMPLES } from './helpers/tmp-root.js';

let dir: string;
let start: RootFiles;

beforeAll(async () => {
  const { writeRoot } = await import('../bench/gen-root.js');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-reuse-'));
  await writeRoot(dir, 40, 3);
  start = await readRoot(dir);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Everything a build gives that a phone, a log or an admin could see. */
function seen(snap: Snapshot): unknown {
  const device = (d: { mac: string; model: { name: string }; site?: string; groups: string[]; profile: { ref: unknown }; authUser?: string }) => ({ mac: d.mac, model: d.model.name, site: d.site, groups: d.groups, ref: d.profile.ref, authUser: d.authUser });
  return {
    id: snap.id,
    diagnostics: snap.diagnostics.map(formatDiagnostic),
    devices: [...snap.profiles.devices.values()].map(device),
    placeholders: [...snap.profiles.placeholders.values()].map(device),
    secrets: [...snap.secrets].sort(),
    plaintext: snap.plaintextSecrets.map((p) => `${p.rel} ${p.key} ${JSON.stringify(p.loc)}`),
    files: snap.diagnostics.some((d) => d.severity === 'error') ? [] : allTargets(snap).map((t) => `${t.path}\n${renderTarget(snap.render, t).rendered?.bytes.toString('utf8')}`),
  };
}

/** The root's files with some replaced (a string) or removed (null). */
function edited(base: RootFiles, edits: Record<string, string | null | ((old: string) => string)>): RootFiles {
  const files = new Map(base.files);
  for (const [rel, e] of Object.entries(edits)) {
    if (e === null) files.delete(rel);
    else files.set(rel, typeof e === 'function' ? e(files.get(rel)!) : e);
  }
  return { ...base, files };
}

const firstDevice = (rf: RootFiles, site?: string): string =>
  [...rf.files.keys()].filter((k) => k.startsWith('profiles/devices/') && (!site || rf.files.get(k)!.includes(`site: ${site}`))).sort()[0]!;

describe('a reload reuses only what did not change', () => {
  it('a global edit reuses the devices, and gives what a build from nothing gives', async () => {
    const cache: ParseCache = new Map();
    const a = await buildFromRoot(start, cache);
    const next = edited(start, { 'profiles/global.yaml': (t) => t.replace(/"phone_setting\.backlight_time": \d+/, '"phone_setting.backlight_time": 77') });
    const b = await buildFromRoot(next, cache);
    expect(b.profiles.devices).toBe(a.profiles.devices);
    expect(b.id).not.toBe(a.id);
    expect(seen(b)).toEqual(seen(await buildFromRoot(next)));
    expect(JSON.stringify(seen(b))).toContain('backlight_time = 77');
  });

  it('follows every kind of change a device depends on, in any order', async () => {
    const cache: ParseCache = new Map();
    const device = firstDevice(start, 'lon');
    const steps: Array<[string, Record<string, string | null | ((old: string) => string)>]> = [
      ['a site that devices name is deleted', { 'profiles/sites/lon.yaml': null }],
      ['it comes back', { 'profiles/sites/lon.yaml': start.files.get('profiles/sites/lon.yaml')! }],
      ['a group no longer parses', { 'profiles/groups/sales.yaml': 'settings: [unclosed\n' }],
      ['it is fixed, and a device file changes its site', { 'profiles/groups/sales.yaml': start.files.get('profiles/groups/sales.yaml')!, [device]: (t) => t.replace('site: lon', 'site: nyc') }],
      ['a device names a site that does not exist', { [device]: (t) => t.replace('site: nyc', 'site: nowhere') }],
      ['a device file is deleted, a misplaced file and a stray one appear', { [device]: null, 'profiles/devices/sub/x.yaml': 'model: T46S\n', 'profiles/a.yaml': 'settings: {}\n', 'profiles/devices/notes.txt': 'hello\n' }],
      ['a model override in the root renames nothing, but a new group appears', { 'profiles/groups/night.yaml': 'settings: {}\n' }],
      ['the first device changes its password', { [firstDevice(start)]: (t) => t.replace(/password: "[^"]*"/, 'password: "n3w-Passw0rd-x"') }],
    ];
    let rf = start;
    await buildFromRoot(rf, cache);
    for (const [what, edits] of steps) {
      rf = edited(rf, edits);
      const reused = await buildFromRoot(rf, cache);
      expect(seen(reused), what).toEqual(seen(await buildFromRoot(rf)));
    }
    const last = await buildFromRoot(rf, cache);
    expect(last.secrets).toContain('n3w-Passw0rd-x');
  });

  it('the same files in another order have the same id; a removed file changes it back', async () => {
    const reversed = { ...start, files: new Map([...start.files].reverse()) };
    expect((await buildFromRoot(reversed)).id).toBe((await buildFromRoot(start)).id);
    const cache: ParseCache = new Map();
    const a = await buildFromRoot(start, cache);
    const added = edited(start, { 'profiles/groups/extra.yaml': 'settings: {}\n' });
    expect((await buildFromRoot(added, cache)).id).not.toBe(a.id);
    expect((await buildFromRoot(start, cache)).id).toBe(a.id);
  });

  it('device files with references are resolved again on every build', async () => {
    const samples = await readRoot(SAMPLES);
    const withRef = firstDevice(samples);
    const ref = edited(samples, { [withRef]: (t) => t.replace(/password: "[^"]*"/, 'password: "${env:DESKSET_REUSE_PW}"') });
    const cache: ParseCache = new Map();
    const env = new Map([['DESKSET_REUSE_PW', 'first-Secret-1']]);
    const lookup = (name: string) => env.get(name);
    const a = await buildFromRoot(ref, cache, undefined, ref.dir, lookup);
    expect(a.secrets).toContain('first-Secret-1');
    env.set('DESKSET_REUSE_PW', 'second-Secret-2');
    const next = edited(ref, { 'profiles/global.yaml': (t) => `${t}\n# touched\n` });
    const b = await buildFromRoot(next, cache, undefined, next.dir, lookup);
    expect(b.secrets).toContain('second-Secret-2');
    expect(b.secrets).not.toContain('first-Secret-1');
    expect(seen(b)).toEqual(seen(await buildFromRoot(next, undefined, undefined, next.dir, lookup)));
  });
});
