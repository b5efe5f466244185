// Issue 14.9: a reload builds and validates in slices on the serving thread, so phones are
// answered while it runs. Nothing here is timed: the build is shown to stop at many points,
// to give the same snapshot as an unsliced build, and requests are shown to be answered
// while a global reload of a 2,000-device root is still under way.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTarget } from '../src/render/render.js';
import { allTargets } from '../src/pipeline/request.js';
import { buildSnapshotSteps } from '../src/snapshot/snapshot.js';
import { runPaused, runSteps } from '../src/config/steps.js';
import { createLogger } from '../src/http/access-log.js';
import { buildFromRoot, readRoot } from '../src/io/load-root.js';
import { PACKAGE_ROOT } from '../src/io/package-root.js';
import { readTextTree } from '../src/io/read-tree.js';
import { startServer } from '../src/server.js';
import { collectIfBloated, withoutForcedCollections } from '../src/service/heap.js';

const DEVICES = 2000;
let dir: string;

beforeAll(async () => {
  const { writeRoot } = await import('../bench/gen-root.js');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-slices-'));
  await writeRoot(dir, DEVICES, 7);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the snapshot build in steps', () => {
  it('stops at least once per 200 profiles, and gives the same snapshot as a build straight through', async () => {
    const rf = await readRoot(dir);
    const shipped = (await readTextTree(PACKAGE_ROOT, ['templates'])).files;
    const input = { root: rf.files, shipped, version: '0.0.0-test' };
    let stops = 0;
    const sliced = await runPaused(buildSnapshotSteps(input), () => {
      stops++;
      return Promise.resolve();
    });
    const straight = runSteps(buildSnapshotSteps(input));
    expect(stops).toBeGreaterThanOrEqual(2 * (DEVICES / 200));
    expect(sliced.id).toBe(straight.id);
    expect([...sliced.profiles.devices.keys()]).toEqual([...straight.profiles.devices.keys()]);
    const etags = (s: typeof sliced) => allTargets(s).map((t) => renderTarget(s.render, t).rendered?.etag);
    expect(etags(sliced)).toEqual(etags(straight));
  });

  it('buildFromRoot with a pause waits where it is told to', async () => {
    const rf = await readRoot(dir);
    let stops = 0;
    const snap = await buildFromRoot(rf, undefined, () => {
      stops++;
      return undefined; // "go on": nothing awaited
    });
    expect(snap.profiles.devices.size).toBe(DEVICES);
    expect(stops).toBeGreaterThanOrEqual(DEVICES / 200);
  });
});

describe('forced collections during a reload', () => {
  it('collectIfBloated does nothing while a reload runs', async () => {
    let held: unknown[] = [];
    const v8 = await import('node:v8');
    const used = () => v8.getHeapStatistics().used_heap_size;
    await withoutForcedCollections(async () => {
      for (let i = 0; i < 160 * 8_000; i++) held.push({ i, s: `x${i}` });
      held = [];
      const before = used();
      collectIfBloated();
      // No full collection ran: the garbage is still counted.
      expect(used()).toBeGreaterThan(before - 1024 * 1024);
    });
  });
});

describe('a global reload of a 2,000-device root on a running server', () => {
  it('requests are answered while the reload is still building and validating', async () => {
    const running = await startServer({ root: dir, host: '127.0.0.1', port: 0, watch: false, log: createLogger({ write: () => undefined }) });
    try {
      const snap = running.provisioner.current();
      // A Yealink phone that inherits the global value (some set their own).
      let url = '';
      for (const d of snap.profiles.devices.values()) {
        if (d.model.vendor !== 'yealink') continue;
        url = `${running.url}/${d.mac}.cfg`;
        if ((await (await fetch(url)).text()).includes('phone_setting.backlight_time = 60')) break;
      }
      const global = path.join(dir, 'profiles/global.yaml');
      const text = await fs.readFile(global, 'utf8');
      await fs.writeFile(global, text.replace(/"phone_setting\.backlight_time": \d+/, '"phone_setting.backlight_time": 77'));
      let done = false;
      const reload = running.reloader.reload(['profiles/global.yaml']).then((r) => {
        done = true;
        return r;
      });
      // Sequential requests, each a full round trip over a real socket: before slicing, the
      // build and the validation of 2,000 devices ran between two of them.
      let answeredDuring = 0;
      while (!done) {
        const r = await fetch(url);
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        if (!done) answeredDuring++;
      }
      const outcome = await reload;
      expect([outcome.ok, outcome.checkedDevices]).toEqual([true, 'all']);
      expect(answeredDuring).toBeGreaterThanOrEqual(20);
      expect(await (await fetch(url)).text()).toContain('phone_setting.backlight_time = 77');
    } finally {
      await running.close();
    }
  });
});
