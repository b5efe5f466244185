// Request resolution over the samples root: every file `render` writes is found again by its
// name, for the same device, under the same canonical name (precomputed in the route table for
// known devices), however the MAC in the name is spelled.

import { describe, expect, it } from 'vitest';
import { allTargets, resolveRequest } from '../src/pipeline/request.js';
import { canonicalPath } from '../src/snapshot/routes.js';
import { loadRoot } from '../src/io/load-root.js';

const snap = await loadRoot('samples');

describe('resolveRequest', () => {
  const devices = allTargets(snap).filter((t) => t.subject?.known);

  it('has device files to check', () => {
    expect(devices.length).toBeGreaterThanOrEqual(7);
  });

  it.each(devices.map((t) => [t.path, t] as const))('%s resolves to itself', (path, t) => {
    const mac = t.subject!.mac!;
    for (const asked of [path, path.replace(mac, mac.toUpperCase())]) {
      const r = resolveRequest(snap, { path: asked });
      expect(r.kind, asked).toBe('render');
      if (r.kind !== 'render') continue;
      expect(r.target.subject?.mac).toBe(mac);
      expect(r.target.file).toBe(t.file);
      // The precomputed name is the one canonicalPath gives for this device.
      expect(r.target.path).toBe(canonicalPath(t.file, mac, t.subject!.model));
      expect(r.target.path).toBe(path);
      expect(r.cacheKey).toBe(`${t.file.vendor}/${t.file.id}|${mac}|k|${t.subject!.model!.name}`);
    }
  });

  it('an unknown MAC in a device file name is not a known device', () => {
    const r = resolveRequest(snap, { path: '0004f2ffffff.cfg' });
    expect(r.kind === 'render' ? r.target.subject?.known : false).toBeFalsy();
  });
});
