// Device trees are rebuilt on demand instead of kept (100,000 of them were most of a large
// root's memory). A rebuilt tree must be the tree the snapshot was built from: the same
// values and positions, and the same resolved secrets even if the secret file is gone.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromRoot, readRoot } from '../src/io/load-root.js';
import { SMALL_FLEET, type ParseCache } from '../src/config/profiles.js';
import { renderTarget } from '../src/render/render.js';
import { allTargets } from '../src/pipeline/request.js';
import type { PNode } from '../src/config/yaml-tree.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const dump = (n: PNode): unknown =>
  n.kind === 'map'
    ? { loc: n.loc, entries: [...n.entries].map(([k, e]) => [k, e.keyLoc, dump(e.node)]) }
    : n.kind === 'list'
      ? { loc: n.loc, items: n.items.map(dump) }
      : { loc: n.loc, value: n.value, fromRef: n.fromRef };

/** Empty the recent-trees cache, so the next read rebuilds from text (a test-only reach inside). */
function forget(devices: Iterable<{ profile: unknown }>): void {
  for (const d of devices) (d.profile as { trees: { recent: { clear(): void } } }).trees.recent.clear();
}

let root: TmpRoot;
beforeAll(async () => {
  root = await makeTmpRoot();
});
afterAll(async () => {
  await root.cleanup();
});

describe('device trees on demand', () => {
  it('a rebuilt tree equals the first one, positions and resolved references included', async () => {
    const snap = await buildFromRoot(await readRoot(root.dir));
    const d = snap.profiles.devices.get('c81fea83e85a')!;
    const first = dump(d.profile.tree);
    forget(snap.profiles.devices.values());
    expect(dump(d.profile.tree)).toStrictEqual(first);
    const line = JSON.stringify(first);
    expect(line).toContain('"fromRef":true');
    expect(line).toContain('"line":7');
  });

  it('renders the same bytes after the secret file is deleted: references resolve once per build', async () => {
    const snap = await buildFromRoot(await readRoot(root.dir));
    const before = allTargets(snap).map((t) => renderTarget(snap.render, t).rendered!.bytes.toString('utf8'));
    expect(before.join('\n')).toContain(await fs.readFile(root.file('secrets/line-1001'), 'utf8').then((s) => s.trim()));
    await fs.rm(root.file('secrets/line-1001'));
    try {
      forget(snap.profiles.devices.values());
      const after = allTargets(snap).map((t) => renderTarget(snap.render, t).rendered!.bytes.toString('utf8'));
      expect(after).toEqual(before);
    } finally {
      await fs.writeFile(root.file('secrets/line-1001'), 'restored\n');
    }
  });

  it('the parse cache keeps facts, not trees, for device files', async () => {
    const cache: ParseCache = new Map();
    const snap = await buildFromRoot(await readRoot(root.dir), cache);
    const entry = cache.get('profiles/devices/c81fea83e85a.yaml')!;
    expect(entry.root).toBeUndefined();
    expect(entry.device?.keys.has('settings')).toBe(true);
    expect(cache.get('profiles/global.yaml')!.root).toBeDefined();
    // A second build from the cache gives the same devices and files.
    const again = await buildFromRoot(await readRoot(root.dir), cache);
    expect([...again.profiles.devices.keys()]).toEqual([...snap.profiles.devices.keys()]);
    const bytes = (s: typeof snap) => allTargets(s).map((t) => renderTarget(s.render, t).rendered!.etag);
    expect(bytes(again)).toEqual(bytes(snap));
  });

  it('a fleet under the keep-all size keeps every parsed tree; not only the most recent ones', async () => {
    const { writeRoot } = await import('../bench/gen-root.js');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-trees-'));
    try {
      await writeRoot(dir, 1500, 3);
      const snap = await buildFromRoot(await readRoot(dir));
      expect(snap.profiles.devices.size).toBe(1500);
      expect(snap.profiles.devices.size).toBeLessThanOrEqual(SMALL_FLEET);
      for (const d of snap.profiles.devices.values()) expect(d.profile.tree.kind).toBe('map');
      const first = [...snap.profiles.devices.values()][0]!.profile as unknown as { trees: { recent: { size: number } } };
      expect(first.trees.recent.size).toBe(1500);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

