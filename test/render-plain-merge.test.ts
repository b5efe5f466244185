// Rendering merges settings without provenance (src/config/plain-merge.ts). What templates see
// must be exactly plainOf of the provenance merge `explain` and `check` use: same values, same
// key order, nulls removed the same way, shared prefixes never modified by a device.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenLeaves, plainOf, type Layer, type LayerKind } from '../src/config/merge.js';
import { plainSettings } from '../src/config/plain-merge.js';
import type { ProfileSet } from '../src/config/profiles.js';
import { renderTarget, type RenderInputs, type RenderTarget } from '../src/render/render.js';
import { allTargets } from '../src/pipeline/request.js';
import { layersFor, resolveLayers, resolveSubject, type Subject } from '../src/config/resolve.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { parseYamlTree } from '../src/config/yaml-tree.js';
import { loadRoot } from '../src/io/load-root.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';

let samples: Snapshot;
let generated: Snapshot;
let genDir: string;

beforeAll(async () => {
  samples = buildSnapshot({ root: await sampleFiles(), shipped: await shippedFiles(), version: '0.0.0-test' });
  genDir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-plain-merge-'));
  const { writeRoot } = await import('../bench/gen-root.js');
  await writeRoot(genDir, 400, 7);
  generated = await loadRoot(genDir);
});

afterAll(async () => {
  if (genDir) await fs.rm(genDir, { recursive: true, force: true });
});

function subjectOfTarget(t: RenderTarget): Subject {
  return t.subject ?? { known: false, vendor: t.file.vendor, model: t.model, groups: [] };
}

/** The settings `plainOf` of the provenance merge gives (what rendering used to read). */
function provenanceSettings(snap: Snapshot, s: Subject): unknown {
  const node = resolveSubject(snap.profiles, snap.config.layers, s).children.get('settings');
  return node ? plainOf(node) : {};
}

/** Render every target, recording the `settings` each template was actually given. */
function renderRecording(snap: Snapshot, targets: readonly RenderTarget[]): Array<{ t: RenderTarget; settings: unknown; bytes?: Buffer }> {
  let seen: unknown;
  const templates = new Map(
    [...snap.render.templates].map(([k, v]) => [k, { source: v.source, fn: (ctx: unknown) => ((seen = (ctx as { settings: unknown }).settings), v.fn(ctx)) }]),
  );
  const inp: RenderInputs = { ...snap.render, templates };
  return targets.map((t) => {
    seen = undefined;
    const r = renderTarget(inp, t);
    return { t, settings: seen, bytes: r.rendered?.bytes };
  });
}

function expectSameSettings(snap: Snapshot): void {
  const targets = allTargets(snap);
  expect(targets.length).toBeGreaterThan(0);
  for (const { t, settings, bytes } of renderRecording(snap, targets)) {
    expect(bytes, t.path).toBeDefined();
    const want = provenanceSettings(snap, subjectOfTarget(t));
    expect(settings, t.path).toEqual(want);
    expect(JSON.stringify(settings), t.path).toBe(JSON.stringify(want));
  }
}

describe('templates see the same settings as plainOf(resolveSubject)', () => {
  it('every target of samples/', () => expectSameSettings(samples));
  it('every target of a generated 400-device root', () => expectSameSettings(generated));

  it('unknown subjects (shared and model files) never get lines or admin_password', () => {
    const unknown = allTargets(samples).filter((t) => !t.subject?.known);
    expect(unknown.length).toBeGreaterThan(0);
    for (const { settings } of renderRecording(samples, unknown)) {
      expect(Object.hasOwn(settings as object, 'lines')).toBe(false);
      expect(Object.hasOwn(settings as object, 'admin_password')).toBe(false);
    }
  });

  it('Rendered.effective is built on first read, once, and is the provenance merge', () => {
    const t = allTargets(samples).find((x) => x.subject?.known)!;
    const r = renderTarget(samples.render, t).rendered!;
    const want = resolveSubject(samples.profiles, samples.config.layers, t.subject!);
    const first = r.effective;
    expect(r.effective).toBe(first);
    expect(plainOf(first)).toEqual(plainOf(want));
    const locs = (e: typeof first) => flattenLeaves(e).map(({ path: p, leaf }) => `${p.join('.')}@${leaf.origin.loc.file}:${leaf.origin.loc.line}`);
    expect(locs(first)).toEqual(locs(want));
  });
});

describe('render errors still point at the profile line', () => {
  it('a bad device parameter is reported at its line in the device profile', async () => {
    const root = new Map(await sampleFiles());
    const file = 'profiles/devices/805ec0123456.yaml';
    const text = `${root.get(file)!.trimEnd()}\n  yealink:\n    params:\n      "features.x": "a\\nb"\n`;
    root.set(file, text);
    const snap = buildSnapshot({ root, shipped: await shippedFiles(), version: '0.0.0-test' });
    const t = allTargets(snap).find((x) => x.subject?.mac === '805ec0123456')!;
    const r = renderTarget(snap.render, t);
    expect(r.rendered).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === 'RENDER')!;
    expect(d.loc?.file).toMatch(/805ec0123456\.yaml$/);
    expect(d.loc?.line).toBe(text.split('\n').findIndex((l) => l.includes('features.x')) + 1);
  });
});

describe('the cached shared layers are never modified', () => {
  it('rendering every device twice leaves each prefix deep-frozen and unchanged', () => {
    const snap = generated;
    const prefixOf = (s: Subject) => {
      const shared = layersFor(snap.profiles, snap.config.layers, s).filter((l) => l.ref.kind !== 'device');
      return plainSettings(snap.profiles, shared, true);
    };
    const subjects = [...snap.profiles.devices.values()].map((d) => ({ known: true, mac: d.mac, vendor: d.model.vendor, model: d.model, site: d.site, groups: d.groups }));
    const before = new Map(subjects.map((s) => [s.mac, { value: prefixOf(s), json: JSON.stringify(prefixOf(s)) }]));
    for (const { value } of before.values()) expectDeepFrozen(value);
    const targets = allTargets(snap);
    renderTarget(snap.render, targets[0]!);
    for (let round = 0; round < 2; round++) for (const t of targets) expect(renderTarget(snap.render, t).rendered).toBeDefined();
    for (const s of subjects) {
      const now = prefixOf(s);
      expect(now).toBe(before.get(s.mac)!.value);
      expect(JSON.stringify(now)).toBe(before.get(s.mac)!.json);
    }
  });
});

function expectDeepFrozen(v: unknown): void {
  if (typeof v !== 'object' || v === null) return;
  expect(Object.isFrozen(v)).toBe(true);
  for (const x of Object.values(v)) expectDeepFrozen(x);
}

// ---------------------------------------------------------------------------------------------
// Hand-made layer trees: each case is YAML texts for global, group, site and device, in order.

const KINDS: LayerKind[] = ['global', 'group', 'site', 'device'];

function layersOf(texts: readonly (string | undefined)[]): Layer[] {
  const out: Layer[] = [];
  texts.forEach((text, i) => {
    if (text === undefined) return;
    const kind = KINDS[i]!;
    const file = `${kind}.yaml`;
    const parsed = parseYamlTree(text, file);
    expect(parsed.diagnostics).toEqual([]);
    out.push({ ref: { kind, name: kind, file }, tree: parsed.root! });
  });
  return out;
}

/** Both merges, twice for the plain one (the second from the prefix cache). */
function both(texts: readonly (string | undefined)[], known = true): { plain: unknown; want: unknown } {
  const layers = layersOf(texts);
  const node = resolveLayers(layers, known).children.get('settings');
  const want = node ? plainOf(node) : undefined;
  const profiles = {} as ProfileSet;
  const plain = plainSettings(profiles, layers, known);
  const again = plainSettings(profiles, layers, known);
  expect(JSON.stringify(again)).toBe(JSON.stringify(plain));
  expect(plain).toEqual(want);
  expect(JSON.stringify(plain)).toBe(JSON.stringify(want));
  return { plain, want };
}

describe('plain merge agrees with mergeLayers + plainOf on hostile trees', () => {
  it('null removes an inherited key at depth 1 and depth 3', () => {
    const { plain } = both(['settings: {a: 1, b: 2, c: 3}', undefined, 'settings: {x: {y: {z: 1}}}', 'settings: {b: null, x: {y: {z: null, w: 2}}}']);
    expect(plain).toEqual({ a: 1, c: 3, x: { y: { w: 2 } } });
    both(['settings: {x: {y: {z: 1, q: 2}}}', 'settings: {x: {y: {z: null}}}']);
  });

  it('nulls inside a map that is new in the layer are dropped, at any depth', () => {
    const { plain } = both(['settings: {a: 1}', undefined, undefined, 'settings: {n: {p: null, q: 1, r: {s: null, t: {u: null}}}}']);
    expect(plain).toEqual({ a: 1, n: { q: 1, r: { t: {} } } });
    // Also in a shared (cached) layer.
    both(['settings: {n: {p: null, q: [1, null, {k: null}]}}', 'settings: {n: {q: null}}']);
  });

  it('lists replace maps and keep their nulls; maps replace scalars; scalars replace maps', () => {
    const { plain } = both(['settings: {m: {a: 1}, s: 5, k: {x: 1}}', 'settings: {m: [1, null, {k: null}]}', 'settings: {s: {a: 1, b: null}}', 'settings: {k: x}']);
    expect(plain).toEqual({ m: [1, null, { k: null }], s: { a: 1 }, k: 'x' });
    both(['settings: {m: [1, 2]}', undefined, undefined, 'settings: {m: {a: null, b: 1}}']);
  });

  it('key order: replacing keeps the place, delete then re-add moves to the end', () => {
    const { plain } = both(['settings: {a: 1, b: 2, c: 3, n: {x: 1, y: 2}}', 'settings: {a: null, n: {x: null}}', 'settings: {a: 4, b: 5, n: {x: 3}}', 'settings: {c: null, d: 6, c2: 7}']);
    expect(JSON.stringify(plain)).toBe('{"b":5,"n":{"y":2,"x":3},"a":4,"d":6,"c2":7}');
    both(['settings: {a: 1, b: {c: 1}}', 'settings: {b: null}', undefined, 'settings: {b: {d: 1}, a: 2}']);
  });

  it('integer-like keys', () => {
    both(['settings: {b: 1, 10: x, 2: y, a: z}', 'settings: {1: w, b: null, "01": q, 4294967295: big}', undefined, 'settings: {10: null, b: again, 3: {1: a}}']);
  });

  it('__proto__ and Object.prototype names are plain keys, never prototypes', () => {
    const { plain, want } = both([
      'settings: {__proto__: {polluted: 1}, a: 1, constructor: c, l: [{__proto__: {x: 1}}]}',
      'settings: {toString: {a: 1}, hasOwnProperty: null}',
      undefined,
      'settings: {__proto__: {more: 2}, valueOf: 3}',
    ]);
    for (const v of [plain, want] as Array<Record<string, unknown>>) {
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.hasOwn(v, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')!.value).toEqual({ polluted: 1, more: 2 });
      const inList = (v.l as Array<Record<string, unknown>>)[0]!;
      expect(Object.getPrototypeOf(inList)).toBe(Object.prototype);
      expect(Object.hasOwn(inList, '__proto__')).toBe(true);
      expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    both(['settings: {__proto__: 1}', undefined, undefined, 'settings: {__proto__: null}']);
  });

  it('settings removed, replaced by a scalar, absent, or under a root that is not a map', () => {
    expect(both(['settings: {a: 1}', undefined, undefined, 'settings: null']).plain).toBeUndefined();
    expect(both(['settings: {a: 1}', 'settings: 7']).plain).toBe(7);
    expect(both(['settings: 7', undefined, 'settings: {a: null, b: 1}']).plain).toEqual({ b: 1 });
    expect(both(['other: 1']).plain).toBeUndefined();
    both(['- a\n- b', 'settings: {a: 1}']);
    both([]);
  });

  it('known: false drops lines and admin_password, without touching the cached prefix', () => {
    const texts = ['settings: {lines: [{extension: "1"}], admin_password: x, a: 1}', 'settings: {b: 2}'];
    const { plain } = both(texts, false);
    expect(plain).toEqual({ a: 1, b: 2 });
    expect(both(texts, true).plain).toEqual({ lines: [{ extension: '1' }], admin_password: 'x', a: 1, b: 2 });
  });

  it('a device layer never modifies the shared prefix it is merged onto', () => {
    const layers = layersOf(['settings: {a: {b: {c: 1}}, l: [1]}', 'settings: {a: {d: 2}}', undefined, 'settings: {a: {b: {c: null, e: 3}}, l: null}']);
    const profiles = {} as ProfileSet;
    const prefix = plainSettings(profiles, layers.slice(0, 2), true);
    const json = JSON.stringify(prefix);
    expectDeepFrozen(prefix);
    expect(plainSettings(profiles, layers, true)).toEqual({ a: { b: { e: 3 }, d: 2 } });
    expect(plainSettings(profiles, layers.slice(0, 2), true)).toBe(prefix);
    expect(JSON.stringify(prefix)).toBe(json);
  });
});
