// Firmware: the catalog built from what is on disk (release.yaml or the vendor's image-name
// convention), the per-model policy merged through the layers (latest | off | pinned), the
// generated upgrade directives (Avaya J100Supgrade.txt, Poly APP_FILE_PATH, Yealink
// firmware.url) agreeing with the disk, `deskset check` errors with file:line:col, and
// `deskset firmware [--json]`.
//
// The CLI cases run the real process and need dist/: run `npx tsc -p tsconfig.json` first.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../src/check/diagnostics.js';
import { buildFirmwareCatalog, chooseFirmware, choosePolicy, type FirmwareChoice } from '../src/render/firmware.js';
import { resolveSubject, subjectOf } from '../src/config/resolve.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { compareVersions } from '../src/render/version.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';
import { lineOf, makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

let shipped: Map<string, string>;
let samples: Map<string, string>;
/** The shipped vendor manifests and model catalog, as every snapshot has them. */
let base: Snapshot;

beforeAll(async () => {
  shipped = await shippedFiles();
  samples = await sampleFiles();
  base = buildSnapshot({ root: samples, shipped, version: '0.0.0-test' });
});

// Sample devices (samples/profiles/devices).
const J179_NYC = 'c81fea83e85a';
const J179_LIS = '2cf4c5001122';
const J189_NYC = 'c81fea9102aa';
const VVX450 = '0004f2a1b2c3';
const TRIO = '64167f0a8800';
const T46S = '805ec0123456';
const T54W = '805ec0abcdef';

const AV_OLD = 'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin';
const AV_NEW = 'firmware/avaya/4.1.13.0.1/FW_S_J179_R4_1_13_0_1.bin';
const AV_189 = 'firmware/avaya/4.1.13.0.1/FW_S_J189A_R4_1_13_0_1.bin';

// ---------------------------------------------------------------------------------------------
describe('compareVersions', () => {
  const sign = (n: number) => Math.sign(n);
  it.each([
    ['4.1.13', '4.1.3', 1],
    ['4.1.3', '4.1.13', -1],
    ['6.4.6.2945', '6.4.6', 1],
    ['6.4.6', '6.4.6.2945', -1],
    ['4.1.3.0.6', '4.1.3.0.6', 0],
    ['66.86.0.15', '66.86.0.15', 0],
    ['4.1.13.0.1', '4.1.3.0.6', 1],
    ['10.0', '9.9', 1],
    ['66.86.0.15', '66.86.0.9', 1],
    // Separators are interchangeable: Avaya writes R4_1_3 in names and 4.1.3 in releases.
    ['4_1_13', '4.1.3', 1],
    ['4-1-3', '4.1.3', 0],
    // Letters: compared as text where a part is not a number.
    ['4.1.3b', '4.1.3a', 1],
    ['4.1.3a', '4.1.3b', -1],
    ['4.1.3a', '4.1.3a', 0],
    ['4.1.3a', '4.1.3', 1],
  ])('compareVersions(%s, %s) has sign %i', (a, b, want) => {
    expect(sign(compareVersions(a, b))).toBe(want);
    // antisymmetric
    expect(sign(compareVersions(b, a))).toBe(-want || 0);
  });

  // "Numerically, part by part": a part that mixes digits and letters still has a number in
  // front, and R10 is newer than R9. (A plain string comparison puts "10a" before "9a".)
  it.each([
    ['4.1.10a', '4.1.9a', 1],
    ['R10', 'R9', 1],
    ['SIP_10.2', 'SIP_9.8', 1],
  ])('mixed digit/letter parts compare by their number: compareVersions(%s, %s) has sign %i', (a, b, want) => {
    expect(sign(compareVersions(a, b))).toBe(want);
  });

  it('sorting a list gives the numeric order, not the string order', () => {
    const list = ['4.1.3.0.6', '4.1.13.0.1', '4.1.2', '4.1.13.0.10', '4.1.13.0.9', '4.0.99'];
    expect([...list].sort(compareVersions)).toEqual(['4.0.99', '4.1.2', '4.1.3.0.6', '4.1.13.0.1', '4.1.13.0.9', '4.1.13.0.10']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('buildFirmwareCatalog', () => {
  const build = (files: string[], releases: Record<string, string> = {}) =>
    buildFirmwareCatalog(files, new Map(Object.entries(releases)), base.vendors, base.catalog);
  const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
  const imagesOf = (r: { images: Map<string, string> }) => Object.fromEntries([...r.images].sort(([a], [b]) => a.localeCompare(b)));

  it('Avaya convention: FW_S_<model>_R…bin serves that model, FW_S_J189A_… the J189', () => {
    const { firmware, diagnostics } = build([AV_OLD, AV_NEW, AV_189]);
    expect(errors(diagnostics)).toEqual([]);
    expect(firmware.releases.map((r) => `${r.vendor} ${r.version}`).sort()).toEqual(['avaya 4.1.13.0.1', 'avaya 4.1.3.0.6']);
    const newer = firmware.releases.find((r) => r.version === '4.1.13.0.1')!;
    expect(newer.dir).toBe('firmware/avaya/4.1.13.0.1');
    expect(imagesOf(newer)).toEqual({ J179: 'FW_S_J179_R4_1_13_0_1.bin', J189: 'FW_S_J189A_R4_1_13_0_1.bin' });
    // Newest first, by version number (string order would put 4.1.3 first).
    expect(firmware.forModel('J179').map((r) => r.version)).toEqual(['4.1.13.0.1', '4.1.3.0.6']);
    expect(firmware.forModel('J189').map((r) => r.version)).toEqual(['4.1.13.0.1']);
    expect(firmware.forModel('J139')).toEqual([]);
  });

  it('Poly: split images by part number serve their model; a combined sip.ld serves every model', () => {
    const split = build(['firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld', 'firmware/polycom/6.4.6.2945/3111-65290-001.sip.ld']);
    expect(errors(split.diagnostics)).toEqual([]);
    expect(imagesOf(split.firmware.releases[0]!)).toEqual({ Trio8800: '3111-65290-001.sip.ld', VVX450: '3111-48840-001.sip.ld' });
    expect(split.firmware.forModel('VVX310')).toEqual([]);

    const combined = build(['firmware/polycom/6.3.0.14929/sip.ld']);
    expect(errors(combined.diagnostics)).toEqual([]);
    const r = combined.firmware.releases[0]!;
    const polyModels = base.catalog.vendor('polycom')!.models.map((m) => m.name);
    expect([...r.images.keys()].sort()).toEqual([...polyModels].sort());
    expect(new Set(r.images.values())).toEqual(new Set(['sip.ld']));
    expect(combined.firmware.forModel('VVX310').map((x) => x.version)).toEqual(['6.3.0.14929']);
    // No other vendor's model is claimed.
    expect(r.images.has('J179')).toBe(false);
    expect(r.images.has('T46S')).toBe(false);
  });

  it('Poly: a split image beats the combined sip.ld of the same release for its model', () => {
    const { firmware } = build(['firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld', 'firmware/polycom/6.4.6.2945/sip.ld']);
    const r = firmware.releases[0]!;
    expect(r.images.get('VVX450')).toBe('3111-48840-001.sip.ld');
    expect(r.images.get('VVX310')).toBe('sip.ld');
  });

  it('Yealink: T46S(T48S,T42S,T41S)-66.86.0.15.rom serves four models; T54W-96.86.0.45(20211130).rom one', () => {
    const { firmware, diagnostics } = build([
      'firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom',
      'firmware/yealink/96.86.0.45/T54W-96.86.0.45(20211130).rom',
    ]);
    expect(errors(diagnostics)).toEqual([]);
    const r66 = firmware.releases.find((r) => r.version === '66.86.0.15')!;
    expect(imagesOf(r66)).toEqual({
      T41S: 'T46S(T48S,T42S,T41S)-66.86.0.15.rom',
      T42S: 'T46S(T48S,T42S,T41S)-66.86.0.15.rom',
      T46S: 'T46S(T48S,T42S,T41S)-66.86.0.15.rom',
      T48S: 'T46S(T48S,T42S,T41S)-66.86.0.15.rom',
    });
    const r96 = firmware.releases.find((r) => r.version === '96.86.0.45')!;
    expect(imagesOf(r96)).toEqual({ T54W: 'T54W-96.86.0.45(20211130).rom' });
  });

  it('release.yaml overrides the convention: only the models it maps are served, by the images it names', () => {
    const dir = 'firmware/avaya/4.1.13.0.1';
    const { firmware, diagnostics } = build(
      [`${dir}/release.yaml`, `${dir}/custom-j179.bin`, `${dir}/FW_S_J189A_R4_1_13_0_1.bin`],
      { [`${dir}/release.yaml`]: 'models:\n  J179: custom-j179.bin\nnotes: hand-built\n' },
    );
    expect(errors(diagnostics)).toEqual([]);
    const r = firmware.releases[0]!;
    expect(imagesOf(r)).toEqual({ J179: 'custom-j179.bin' });
    expect(r.source).toBe(`${dir}/release.yaml`);
    // The J189 image is on disk and named by convention, but release.yaml is the word.
    expect(firmware.forModel('J189')).toEqual([]);
  });

  it('release.yaml naming a missing image or an unknown model: errors at the key, file:line:col', () => {
    const dir = 'firmware/avaya/4.1.13.0.1';
    const yaml = '# hand-written\nmodels:\n  J179: FW_S_J179_R4_1_13_0_1.bin\n  J189: not-there.bin\n  J999: FW_S_J179_R4_1_13_0_1.bin\n  T46S: FW_S_J179_R4_1_13_0_1.bin\n';
    const { firmware, diagnostics } = build([`${dir}/release.yaml`, `${dir}/FW_S_J179_R4_1_13_0_1.bin`], { [`${dir}/release.yaml`]: yaml });
    const errs = errors(diagnostics);
    const missing = errs.find((d) => d.code === 'FIRMWARE_IMAGE_MISSING');
    expect(missing?.message).toContain('not-there.bin');
    expect(missing?.loc).toEqual({ file: `${dir}/release.yaml`, line: 4, col: 3 });
    const unknown = errs.filter((d) => d.code === 'FIRMWARE_UNKNOWN_MODEL');
    // J999 is nobody's model; T46S is a Yealink, not an Avaya model.
    expect(unknown.map((d) => d.loc)).toEqual([
      { file: `${dir}/release.yaml`, line: 5, col: 3 },
      { file: `${dir}/release.yaml`, line: 6, col: 3 },
    ]);
    expect(unknown[0]!.message).toContain('J999');
    // What was right is kept.
    expect(imagesOf(firmware.releases[0]!)).toEqual({ J179: 'FW_S_J179_R4_1_13_0_1.bin' });
  });

  it('a release that serves no known model is an error (convention and release.yaml)', () => {
    const byName = build(['firmware/avaya/5.0.0/README.bin', 'firmware/avaya/5.0.0/FW_S_J999_R5_0_0.bin']);
    const e1 = errors(byName.diagnostics).filter((d) => d.code === 'FIRMWARE_NO_MODEL');
    expect(e1).toHaveLength(1);
    expect(e1[0]!.loc?.file).toBe('firmware/avaya/5.0.0');
    expect(e1[0]!.message).toContain('5.0.0');
    expect(byName.firmware.releases).toEqual([]);

    const dir = 'firmware/yealink/66.86.0.15';
    const byYaml = build([`${dir}/release.yaml`, `${dir}/x.rom`], { [`${dir}/release.yaml`]: 'models:\n  T99Z: x.rom\n' });
    const codes = errors(byYaml.diagnostics).map((d) => d.code).sort();
    expect(codes).toEqual(['FIRMWARE_NO_MODEL', 'FIRMWARE_UNKNOWN_MODEL']);
    expect(errors(byYaml.diagnostics).find((d) => d.code === 'FIRMWARE_NO_MODEL')!.loc?.file).toBe(`${dir}/release.yaml`);
    expect(byYaml.firmware.releases).toEqual([]);
  });

  it('an unknown vendor directory is an error naming the vendor; files outside <vendor>/<version>/ are ignored with a warning', () => {
    const { firmware, diagnostics } = build(['firmware/acme/12.0/acme-9000.bin', 'firmware/stray.bin', AV_OLD]);
    const vendorErr = diagnostics.find((d) => d.code === 'FIRMWARE_VENDOR');
    expect(vendorErr?.severity).toBe('error');
    expect(vendorErr?.message).toContain('acme');
    expect(vendorErr?.loc?.file).toBe('firmware/acme/12.0');
    const layout = diagnostics.find((d) => d.code === 'FIRMWARE_LAYOUT');
    expect(layout?.severity).toBe('warning');
    expect(layout?.loc?.file).toBe('firmware/stray.bin');
    // The good release is still there.
    expect(firmware.releases.map((r) => r.version)).toEqual(['4.1.3.0.6']);
  });

  it('a malformed release.yaml is an error with its location, and the release is not used', () => {
    const dir = 'firmware/avaya/4.1.13.0.1';
    const { firmware, diagnostics } = build([`${dir}/release.yaml`, `${dir}/FW_S_J179_R4_1_13_0_1.bin`], { [`${dir}/release.yaml`]: 'models:\n  J179: [a, b]\n' });
    const e = errors(diagnostics);
    expect(e.length).toBeGreaterThan(0);
    expect(e[0]!.loc?.file).toBe(`${dir}/release.yaml`);
    expect(e[0]!.loc?.line).toBe(2);
    expect(firmware.releases).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('choosePolicy / chooseFirmware on in-memory roots (buildSnapshot)', () => {
  const FILES = [
    AV_OLD,
    AV_NEW,
    AV_189,
    'firmware/yealink/96.86.0.45/T53W-96.86.0.45.rom',
    'firmware/yealink/96.86.0.70/T53W-96.86.0.70.rom',
    'firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld',
  ];
  const T53W_DEV = '805ec0530053';
  const T53W_PROFILE = 'model: T53W\nsite: nyc\nsettings:\n  lines:\n    - {extension: "1053", password: "x-not-a-real-secret"}\n';

  /** samples/ plus `appends` added to the end of existing files and `files` replacing/adding files. */
  function snap(opts: { append?: Record<string, string>; files?: Record<string, string>; firmware?: string[] } = {}): Snapshot {
    const root = new Map(samples);
    for (const [k, v] of Object.entries(opts.append ?? {})) {
      const old = root.get(k);
      if (old === undefined) throw new Error(`no ${k} in samples`);
      root.set(k, `${old.replace(/\n*$/, '\n')}${v}`);
    }
    for (const [k, v] of Object.entries(opts.files ?? {})) root.set(k, v);
    return buildSnapshot({ root, shipped, version: '0.0.0-test', firmwareFiles: opts.firmware ?? FILES });
  }
  function choice(s: Snapshot, mac: string): FirmwareChoice {
    const errs = s.diagnostics.filter((d) => d.severity === 'error');
    if (errs.length) throw new Error(`snapshot has errors: ${errs.map((d) => `${d.code} ${d.message}`).join('; ')}`);
    const d = s.profiles.devices.get(mac);
    if (!d) throw new Error(`no device ${mac}`);
    const eff = resolveSubject(s.profiles, s.config.layers, subjectOf(d));
    return chooseFirmware(s.firmware, eff, d.model, s.config.publicUrl);
  }

  it('default is off: no policy anywhere means no image and no problem', () => {
    const s = snap();
    for (const mac of [J179_NYC, J189_NYC, VVX450]) {
      const c = choice(s, mac);
      expect(c.policy).toBe('off');
      expect(c.path).toBeUndefined();
      expect(c.problem).toBeUndefined();
      expect(c.setAt).toEqual([]);
    }
  });

  it('latest picks the newest release for the model (numerically: 4.1.13 over 4.1.3)', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  policy: latest\n' } });
    const c = choice(s, J179_NYC);
    expect(c.policy).toBe('latest');
    expect(c.version).toBe('4.1.13.0.1');
    expect(c.path).toBe(AV_NEW);
    expect(c.file).toBe('FW_S_J179_R4_1_13_0_1.bin');
    expect(c.setAt).toEqual([{ file: 'profiles/global.yaml', line: lineOf(samplesGlobalPlus('firmware:\n  policy: latest\n'), /^  policy: latest/), col: 3 }]);
    expect(choice(s, J189_NYC).path).toBe(AV_189);
    expect(choice(s, VVX450).path).toBe('firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld');
    // Nothing on disk for the Trio: latest says nothing, and that is not a problem.
    const trio = choice(s, TRIO);
    expect(trio.path).toBeUndefined();
    expect(trio.problem).toBeUndefined();
  });

  it('pinned picks exactly that version', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  policy: pinned\n  version: 4.1.3.0.6\n' } });
    const c = choice(s, J179_NYC);
    expect(c.policy).toBe('pinned');
    expect(c.version).toBe('4.1.3.0.6');
    expect(c.path).toBe(AV_OLD);
    expect(c.problem).toBeUndefined();
  });

  it('pinned to a version not on disk: a problem that names it, and no image', () => {
    const s = snap({ append: { 'profiles/sites/nyc.yaml': 'firmware:\n  policy: pinned\n  version: 4.2.0.0.1\n' } });
    const c = choice(s, J179_NYC);
    expect(c.path).toBeUndefined();
    expect(c.problem).toContain('4.2.0.0.1');
    expect(c.problem).toContain('J179');
    // ... located at the version key in the site profile
    expect(c.setAt.some((l) => l.file === 'profiles/sites/nyc.yaml')).toBe(true);
    // The Lisbon J179 does not inherit the nyc pin.
    expect(choice(s, J179_LIS).policy).toBe('off');
  });

  it('pinned to a version that exists for another model only is still missing for this one', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  policy: pinned\n  version: 4.1.3.0.6\n' } });
    const c = choice(s, J189_NYC);
    expect(c.path).toBeUndefined();
    expect(c.problem).toContain('4.1.3.0.6');
  });

  it('pinned with no version is a problem', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  policy: pinned\n' } });
    const c = choice(s, J179_NYC);
    expect(c.path).toBeUndefined();
    expect(c.problem).toBeTruthy();
  });

  it('off says nothing even with images on disk', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  policy: latest\n', 'profiles/sites/nyc.yaml': 'firmware:\n  policy: "off"\n' } });
    const c = choice(s, J179_NYC);
    expect(c.policy).toBe('off');
    expect(c.path).toBeUndefined();
    expect(c.problem).toBeUndefined();
    // Lisbon is not nyc: latest still applies there.
    expect(choice(s, J179_LIS).path).toBe(AV_NEW);
  });

  it('layers: a device layer beats its site, the site beats global', () => {
    const s = snap({
      append: {
        'profiles/global.yaml': 'firmware:\n  policy: latest\n',
        'profiles/sites/lisbon.yaml': 'firmware:\n  policy: pinned\n  version: 4.1.3.0.6\n',
        'profiles/devices/2cf4c5001122.yaml': 'firmware:\n  policy: "off"\n',
      },
    });
    expect(choice(s, J179_NYC).path).toBe(AV_NEW);
    expect(choice(s, J179_LIS).policy).toBe('off');
    const s2 = snap({
      append: {
        'profiles/global.yaml': 'firmware:\n  policy: latest\n',
        'profiles/sites/lisbon.yaml': 'firmware:\n  policy: pinned\n  version: 4.1.3.0.6\n',
      },
    });
    expect(choice(s2, J179_LIS).path).toBe(AV_OLD);
    expect(choice(s2, J179_LIS).setAt.map((l) => l.file)).toEqual(['profiles/sites/lisbon.yaml', 'profiles/sites/lisbon.yaml']);
  });

  it('a models.<name> entry beats the general policy, for that model only', () => {
    const s = snap({
      append: { 'profiles/global.yaml': 'firmware:\n  policy: latest\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n' },
    });
    expect(choice(s, J179_NYC).path).toBe(AV_OLD);
    expect(choice(s, J179_NYC).reason).toContain('firmware.models.J179');
    expect(choice(s, J189_NYC).path).toBe(AV_189);
  });

  it('layer order decides between a models.<name> entry and the general policy: a more specific layer wins', () => {
    const s = snap({
      append: {
        'profiles/global.yaml': 'firmware:\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n',
        'profiles/sites/nyc.yaml': 'firmware:\n  policy: "off"\n',
      },
    });
    expect(choice(s, J179_NYC).policy).toBe('off');
    expect(choice(s, J179_NYC).path).toBeUndefined();
    expect(choice(s, J179_NYC).setAt.map((l) => l.file)).toEqual(['profiles/sites/nyc.yaml']);
    expect(choice(s, J189_NYC).policy).toBe('off');
    // Lisbon has no general policy: the global per-model pin applies there.
    expect(choice(s, J179_LIS).path).toBe(AV_OLD);
  });

  it('a device-layer policy off beats a site-layer firmware.models.<MODEL> pin (issue 15 item 3)', () => {
    const s = snap({
      append: {
        'profiles/global.yaml': 'firmware:\n  policy: latest\n',
        'profiles/sites/lisbon.yaml': 'firmware:\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n',
        'profiles/devices/2cf4c5001122.yaml': 'firmware:\n  policy: "off"\n',
      },
    });
    const c = choice(s, J179_LIS);
    expect(c.policy).toBe('off');
    expect(c.path).toBeUndefined();
    expect(c.reason).toBe('policy off from firmware.policy');
    expect(c.setAt.map((l) => `${l.file}:${l.line}`)).toEqual(['profiles/devices/2cf4c5001122.yaml:10']);
    // Without the device's word, the site's pin stands, and in the same layer a per-model entry beats the general one.
    const s2 = snap({
      append: {
        'profiles/sites/lisbon.yaml': 'firmware:\n  policy: latest\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n',
      },
    });
    expect(choice(s2, J179_LIS).path).toBe(AV_OLD);
    expect(choice(s2, J179_LIS).reason).toContain('firmware.models.J179.policy');
  });

  it('a models.<name> entry with only a version takes the general policy', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  policy: pinned\n  version: 4.1.13.0.1\n  models:\n    J179: {version: 4.1.3.0.6}\n' } });
    expect(choice(s, J179_NYC).path).toBe(AV_OLD);
    expect(choice(s, J189_NYC).path).toBe(AV_189);
  });

  it('aliases: firmware.models.T53 applies to a T53W', () => {
    const s = snap({
      files: { [`profiles/devices/${T53W_DEV}.yaml`]: T53W_PROFILE },
      append: { 'profiles/global.yaml': 'firmware:\n  policy: latest\n  models:\n    T53: {policy: pinned, version: 96.86.0.45}\n' },
    });
    const c = choice(s, T53W_DEV);
    expect(c.version).toBe('96.86.0.45');
    expect(c.path).toBe('firmware/yealink/96.86.0.45/T53W-96.86.0.45.rom');
    // Without the alias entry latest would give .70: the entry really decided.
    const s2 = snap({ files: { [`profiles/devices/${T53W_DEV}.yaml`]: T53W_PROFILE }, append: { 'profiles/global.yaml': 'firmware:\n  policy: latest\n' } });
    expect(choice(s2, T53W_DEV).version).toBe('96.86.0.70');
  });

  it('aliases: a device-layer entry under the alias beats a global entry under the canonical name', () => {
    // Both entries are about the same model; the device layer is the more specific layer.
    const s = snap({
      files: { [`profiles/devices/${T53W_DEV}.yaml`]: `${T53W_PROFILE}firmware:\n  models:\n    T53: {policy: latest}\n` },
      append: { 'profiles/global.yaml': 'firmware:\n  models:\n    T53W: {policy: "off"}\n' },
    });
    const c = choice(s, T53W_DEV);
    expect(c.policy).toBe('latest');
    expect(c.version).toBe('96.86.0.70');
  });

  it('a model key spelled loosely (j179, as the catalog accepts it) applies, or is reported: never silently ignored', () => {
    const s = snap({ append: { 'profiles/global.yaml': 'firmware:\n  models:\n    j179: {policy: latest}\n' } });
    const errs = s.diagnostics.filter((d) => d.severity === 'error');
    if (errs.length === 0) {
      // Accepted by check (catalog.find is case/punctuation-insensitive): then it must apply.
      const d = s.profiles.devices.get(J179_NYC)!;
      const c = chooseFirmware(s.firmware, resolveSubject(s.profiles, s.config.layers, subjectOf(d)), d.model);
      expect(c.policy, 'firmware.models.j179 passed check but did not apply to the J179').toBe('latest');
      expect(c.path).toBe(AV_NEW);
    } else {
      expect(errs.some((e) => e.code === 'FIRMWARE_UNKNOWN_MODEL')).toBe(true);
    }
  });

  it('a pinned version written as a YAML number keeps its digits (4.10 is not 4.1), or is reported', () => {
    const files = ['firmware/avaya/4.1/FW_S_J179_R4_1.bin', 'firmware/avaya/4.10/FW_S_J179_R4_10.bin'];
    const s = snap({ firmware: files, append: { 'profiles/global.yaml': 'firmware:\n  policy: pinned\n  version: 4.10\n' } });
    const errs = s.diagnostics.filter((d) => d.severity === 'error');
    if (errs.length === 0) {
      const d = s.profiles.devices.get(J179_NYC)!;
      const c = chooseFirmware(s.firmware, resolveSubject(s.profiles, s.config.layers, subjectOf(d)), d.model);
      expect(c.version, 'version: 4.10 silently pinned a different release').toBe('4.10');
    } else {
      expect(errs[0]!.loc?.file).toBe('profiles/global.yaml');
    }
  });

  it('choosePolicy reports where the deciding keys were written', () => {
    const s = snap({ append: { 'profiles/sites/nyc.yaml': 'firmware:\n  models:\n    J179:\n      policy: pinned\n      version: 4.1.3.0.6\n' } });
    const d = s.profiles.devices.get(J179_NYC)!;
    const p = choosePolicy(resolveSubject(s.profiles, s.config.layers, subjectOf(d)), d.model);
    expect(p.policy).toBe('pinned');
    expect(p.version).toBe('4.1.3.0.6');
    const nyc = `${samples.get('profiles/sites/nyc.yaml')!.replace(/\n*$/, '\n')}firmware:\n  models:\n    J179:\n      policy: pinned\n      version: 4.1.3.0.6\n`;
    expect(p.setAt).toEqual([
      { file: 'profiles/sites/nyc.yaml', line: lineOf(nyc, /policy: pinned/), col: 7 },
      { file: 'profiles/sites/nyc.yaml', line: lineOf(nyc, /version: 4\.1\.3/), col: 7 },
    ]);
  });

  it('a policy naming an unknown model is an error at the key', () => {
    const s = snap({ append: { 'profiles/sites/nyc.yaml': 'firmware:\n  models:\n    J999: {policy: latest}\n' } });
    const e = s.diagnostics.find((d) => d.code === 'FIRMWARE_UNKNOWN_MODEL');
    expect(e?.severity).toBe('error');
    expect(e?.message).toContain('J999');
    expect(e?.loc?.file).toBe('profiles/sites/nyc.yaml');
    expect(e?.loc?.col).toBe(5);
  });

  it('url: built from public_url with each path part URL-encoded (Yealink)', () => {
    const files = ['firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom'];
    const s = snap({
      firmware: files,
      append: { 'deskset.yaml': 'public_url: "http://prov.example.net:8080/base/"\n', 'profiles/global.yaml': 'firmware:\n  policy: latest\n' },
    });
    const c = choice(s, T46S);
    expect(c.path).toBe(files[0]);
    expect(c.url).toBeDefined();
    const u = new URL(c.url!);
    expect(u.origin).toBe('http://prov.example.net:8080');
    // The URL names the same file: decoding it gives the path on disk back.
    expect(decodeURIComponent(u.pathname)).toBe(`/base/${files[0]}`);
    // The comma is not left bare inside a URL's path segment of a cfg value.
    expect(u.pathname).not.toContain(',');
    // No public_url: no URL (check then warns).
    expect(choice(snap({ firmware: files, append: { 'profiles/global.yaml': 'firmware:\n  policy: latest\n' } }), T46S).url).toBeUndefined();
    expect(choice(s, T54W).path).toBeUndefined();
  });
});

/** samples' global.yaml with `extra` appended, as the in-memory snapshots build it. */
function samplesGlobalPlus(extra: string): string {
  return `${samples.get('profiles/global.yaml')!.replace(/\n*$/, '\n')}${extra}`;
}

// ---------------------------------------------------------------------------------------------
describe('CLI on temp roots: check, render, firmware', () => {
  const roots: TmpRoot[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => r.cleanup()));
  });
  const IMAGES: Record<string, string> = {
    [AV_OLD]: 'fake J179 image 4.1.3.0.6\n',
    [AV_NEW]: 'fake J179 image 4.1.13.0.1\n',
    [AV_189]: 'fake J189 image 4.1.13.0.1\n',
    'firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld': 'fake VVX450 image\n',
    'firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom': 'fake T4xS image\n',
  };
  async function root(edits: Record<string, string | null | ((old: string) => string)> = {}, images = IMAGES): Promise<TmpRoot> {
    const r = await makeTmpRoot({ ...images, ...edits });
    roots.push(r);
    return r;
  }
  const append = (extra: string) => (old: string) => `${old.replace(/\n*$/, '\n')}${extra}`;
  /** Run in the root so every location is printed root-relative. */
  const cli = (r: TmpRoot, args: string[]): Promise<CliResult> => runCli(args, { cwd: r.dir });
  async function render(r: TmpRoot): Promise<{ res: CliResult; out: string; read: (rel: string) => Promise<string> }> {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-fw-render-'));
    roots.push({ dir: out, file: (x) => path.join(out, x), cleanup: () => fs.rm(out, { recursive: true, force: true }) });
    const res = await cli(r, ['render', '.', '--out', out]);
    return { res, out, read: (rel) => fs.readFile(path.join(out, rel), 'utf8') };
  }
  const avayaPolicies = 'firmware:\n  policy: latest\n  models:\n    J189: {policy: "off"}\n';

  describe('deskset check: exit 1 with file:line:col', () => {
    it('a pinned version that is not on disk', async () => {
      const r = await root({ 'profiles/sites/nyc.yaml': append('firmware:\n  models:\n    J179:\n      policy: pinned\n      version: 4.2.0.0.1\n') });
      const text = await fs.readFile(r.file('profiles/sites/nyc.yaml'), 'utf8');
      const res = await cli(r, ['check', '.']);
      expect(res.code, res.stdout + res.stderr).toBe(1);
      const line = lineOf(text, /version: 4\.2\.0\.0\.1/);
      expect(res.stdout).toMatch(new RegExp(`^profiles/sites/nyc\\.yaml:${line}:7: error FIRMWARE_PINNED_MISSING: .*4\\.2\\.0\\.0\\.1`, 'm'));
      // Once: only one nyc device is a J179, and shared files do not inherit a site.
      expect(res.stdout.match(/FIRMWARE_PINNED_MISSING/g)).toHaveLength(1);
    });

    it('a release that serves no known model', async () => {
      const r = await root({ 'firmware/avaya/5.0.0/notes.bin': 'not an image\n' });
      const res = await cli(r, ['check', '.']);
      expect(res.code, res.stdout + res.stderr).toBe(1);
      expect(res.stdout).toMatch(/^firmware\/avaya\/5\.0\.0(?:\/[^:]*)?:\d+:\d+: error FIRMWARE_NO_MODEL: /m);
    });

    it('a release.yaml naming an unknown model or a missing image', async () => {
      const r = await root({
        'firmware/avaya/4.1.13.0.1/release.yaml': 'models:\n  J179: FW_S_J179_R4_1_13_0_1.bin\n  J189: gone.bin\n  J199: FW_S_J179_R4_1_13_0_1.bin\n',
      });
      const res = await cli(r, ['check', '.']);
      expect(res.code, res.stdout + res.stderr).toBe(1);
      expect(res.stdout).toMatch(/^firmware\/avaya\/4\.1\.13\.0\.1\/release\.yaml:3:3: error FIRMWARE_IMAGE_MISSING: .*gone\.bin/m);
      expect(res.stdout).toMatch(/^firmware\/avaya\/4\.1\.13\.0\.1\/release\.yaml:4:3: error FIRMWARE_UNKNOWN_MODEL: .*J199/m);
    });

    it('a policy naming an unknown model', async () => {
      const r = await root({ 'profiles/groups/sales.yaml': append('firmware:\n  models:\n    J999:\n      policy: latest\n') });
      const text = await fs.readFile(r.file('profiles/groups/sales.yaml'), 'utf8');
      const res = await cli(r, ['check', '.']);
      expect(res.code, res.stdout + res.stderr).toBe(1);
      expect(res.stdout).toMatch(new RegExp(`^profiles/groups/sales\\.yaml:${lineOf(text, /J999:/)}:5: error FIRMWARE_UNKNOWN_MODEL: .*J999`, 'm'));
    });

    it('a clean root with firmware and policies passes', async () => {
      const r = await root({ 'profiles/global.yaml': append(avayaPolicies), 'deskset.yaml': append('public_url: http://prov.example:8080\n') });
      const res = await cli(r, ['check', '.']);
      expect(res.stdout).not.toMatch(/ error /);
      expect(res.code, res.stdout + res.stderr).toBe(0);
    });
  });

  describe('deskset render: directives agree with policy and disk', () => {
    it('J100Supgrade.txt: a branch per model; SET APPNAME exactly for models with an image and a policy other than off', async () => {
      const r = await root({ 'profiles/global.yaml': append(avayaPolicies) });
      const { res, read, out } = await render(r);
      expect(res.code, res.stderr).toBe(0);
      const text = await read('J100Supgrade.txt');
      const models = base.catalog.vendor('avaya')!.models.map((m) => String(m.fields.model4 ?? m.name));
      for (const m of models) expect(text).toMatch(new RegExp(`^IF \\$MODEL4 SEQ ${m} GOTO ${m}_SW$`, 'm'));
      const sets = [...text.matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1]);
      // J179: latest; J189: off despite its image; the others: no image.
      expect(sets).toEqual([AV_NEW]);
      const j179 = text.slice(text.indexOf('# J179_SW'));
      expect(j179.split('\n').slice(0, 3)).toEqual(['# J179_SW', `SET APPNAME ${AV_NEW}`, 'GOTO GETSET']);
      // The generated script passes the Avaya linter (labels, GOTOs, quoting).
      const lint = await runCli(['lint', path.join(out, 'J100Supgrade.txt')]);
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    });

    it('per-device DES form <MODEL4>/<mac>/J100Supgrade.txt follows a per-site pin; the other site keeps latest', async () => {
      const r = await root({
        'profiles/global.yaml': append('firmware:\n  policy: latest\n'),
        'profiles/sites/lisbon.yaml': append('firmware:\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n'),
      });
      const { res, read } = await render(r);
      expect(res.code, res.stderr).toBe(0);
      const lis = await read(`J179/${J179_LIS}/J100Supgrade.txt`);
      expect([...lis.matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_OLD]);
      expect(lis).toMatch(/^IF \$MODEL4 SEQ J179 GOTO J179_SW$/m);
      expect(lis).not.toMatch(/SEQ J189/);
      const nyc = await read(`J179/${J179_NYC}/J100Supgrade.txt`);
      expect([...nyc.matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_NEW]);
      const j189 = await read(`J189/${J189_NYC}/J100Supgrade.txt`);
      expect([...j189.matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_189]);
      // The shared script is built from global and model layers only: no site pin there.
      const shared = await read('J100Supgrade.txt');
      expect([...shared.matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_NEW, AV_189]);
      // Every APPNAME names a file that is on disk.
      for (const p of [AV_OLD, AV_NEW, AV_189]) await expect(fs.stat(r.file(p))).resolves.toBeTruthy();
    });

    it('Poly: APP_FILE_PATH in <mac>.cfg and an APPLICATION_<MODEL> child per served model in 000000000000.cfg', async () => {
      const r = await root({ 'profiles/global.yaml': append('firmware:\n  policy: latest\n') }, {
        ...IMAGES,
        'firmware/polycom/6.4.6.2945/3111-65290-001.sip.ld': 'fake Trio image\n',
        'firmware/polycom/6.4.0.1/3111-48840-001.sip.ld': 'older VVX450 image\n',
        // VVX 310: an image, but its model layer says off.
        'firmware/polycom/6.4.6.2945/3111-46161-001.sip.ld': 'fake VVX310 image\n',
        'profiles/models/VVX310.yaml': 'firmware:\n  policy: "off"\n',
      });
      const { res, read } = await render(r);
      expect(res.code, res.stderr).toBe(0);
      const mac = await read(`${VVX450}.cfg`);
      expect(mac).toContain('APP_FILE_PATH="firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld"');
      const master = await read('000000000000.cfg');
      const children = [...master.matchAll(/<APPLICATION_(\w+) APP_FILE_PATH_(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2], m[3]]);
      expect(children).toEqual([
        ['VVX450', 'VVX450', 'firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld'],
        ['Trio8800', 'Trio8800', 'firmware/polycom/6.4.6.2945/3111-65290-001.sip.ld'],
      ].sort((a, b) => master.indexOf(`APPLICATION_${a[0]}`) - master.indexOf(`APPLICATION_${b[0]}`)));
      // [PHONE_MAC_ADDRESS] is the phone's to fill in.
      expect(master).toContain('CONFIG_FILES="[PHONE_MAC_ADDRESS]-settings.cfg"');
      expect(master).not.toMatch(/APPLICATION_VVX310/);
    });

    it('Yealink: static.firmware.url from public_url, naming a file the server has; firmware.url for older models', async () => {
      const r = await root({
        'profiles/global.yaml': append('firmware:\n  policy: latest\n'),
        'deskset.yaml': append('public_url: http://prov.example:8080/\n'),
        'profiles/devices/805ec0462046.yaml': 'model: T46G\nsite: nyc\nsettings:\n  lines:\n    - {extension: "1046", password: "not-a-real-secret-1046"}\n',
        'firmware/yealink/28.83.0.50/T46G-28.83.0.50.rom': 'fake T46G image\n',
      });
      const { res, read } = await render(r);
      expect(res.code, res.stderr).toBe(0);
      const cfg = await read(`${T46S}.cfg`);
      const m = /^static\.firmware\.url = (.*)$/m.exec(cfg);
      expect(m, cfg).toBeTruthy();
      const u = new URL(m![1]!);
      expect(u.origin).toBe('http://prov.example:8080');
      expect(decodeURIComponent(u.pathname)).toBe('/firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom');
      expect(m![1]).not.toMatch(/\s/);
      // The model's common file, read by every T46S whatever its own policy, says nothing about firmware.
      const common = await read('y000000000066.cfg');
      expect(common).not.toMatch(/firmware\.url/);
      // A T54W with no image gets no URL.
      expect(await read(`${T54W}.cfg`)).not.toMatch(/firmware\.url/);
      // The T46G's template key is firmware.url (pre-V81 firmware).
      const t46g = await read('805ec0462046.cfg');
      expect(t46g).toMatch(/^firmware\.url = http:\/\/prov\.example:8080\/firmware\/yealink\/28\.83\.0\.50\/T46G-28\.83\.0\.50\.rom$/m);
      expect(t46g).not.toMatch(/static\.firmware\.url/);
    });

    it('Yealink without public_url: no URL is written and check warns', async () => {
      const r = await root({ 'profiles/global.yaml': append('firmware:\n  policy: latest\n') });
      const { read } = await render(r);
      expect(await read(`${T46S}.cfg`)).not.toMatch(/firmware\.url/);
      const res = await cli(r, ['check', '.']);
      expect(res.stdout).toMatch(/warning FIRMWARE_NEEDS_PUBLIC_URL/);
    });

    it('policy off (the default): no directive anywhere, although images are on disk', async () => {
      const r = await root({ 'deskset.yaml': append('public_url: http://prov.example:8080/\n') });
      const { res, out } = await render(r);
      expect(res.code, res.stderr).toBe(0);
      const all: string[] = [];
      const walk = async (d: string): Promise<void> => {
        for (const e of await fs.readdir(d, { withFileTypes: true })) {
          if (e.isDirectory()) await walk(path.join(d, e.name));
          else all.push(await fs.readFile(path.join(d, e.name), 'utf8'));
        }
      };
      await walk(out);
      expect(all.length).toBeGreaterThan(5);
      const text = all.join('\n');
      expect(text).not.toMatch(/SET APPNAME/);
      expect(text).not.toMatch(/firmware\.url/);
      expect(text).not.toMatch(/APP_FILE_PATH(_\w+)?="[^"]+"/);
      expect(text).not.toMatch(/^[^#!<].*firmware\/(avaya|polycom|yealink)\/\d/m);
    });

    it('removing an image from disk removes its directive; a pin on it then fails check', async () => {
      const r = await root({ 'profiles/global.yaml': append('firmware:\n  policy: latest\n') });
      let { read } = await render(r);
      expect([...(await read('J100Supgrade.txt')).matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_NEW, AV_189]);
      await fs.rm(r.file(AV_NEW));
      ({ read } = await render(r));
      // latest falls back to what is left on disk for the J179; the J189 release stays.
      expect([...(await read('J100Supgrade.txt')).matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_OLD, AV_189]);
      await fs.rm(r.file(AV_OLD));
      ({ read } = await render(r));
      expect([...(await read('J100Supgrade.txt')).matchAll(/^SET APPNAME (.*)$/gm)].map((x) => x[1])).toEqual([AV_189]);
      expect(await read(`J179/${J179_NYC}/J100Supgrade.txt`)).not.toMatch(/SET APPNAME/);

      // Poly too: the image gone, APP_FILE_PATH is empty.
      await fs.rm(r.file('firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld'));
      ({ read } = await render(r));
      expect(await read(`${VVX450}.cfg`)).toContain('APP_FILE_PATH=""');
      expect(await read('000000000000.cfg')).not.toMatch(/APPLICATION_VVX450/);

      // Pin the J189 to its release, check passes; remove the image, check fails at the pin.
      await fs.appendFile(r.file('profiles/models/J189.yaml'), 'firmware:\n  policy: pinned\n  version: 4.1.13.0.1\n');
      expect((await cli(r, ['check', '.'])).code).toBe(0);
      await fs.rm(r.file(AV_189));
      const text = await fs.readFile(r.file('profiles/models/J189.yaml'), 'utf8');
      const res = await cli(r, ['check', '.']);
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(new RegExp(`^profiles/models/J189\\.yaml:${lineOf(text, /version: 4\.1\.13/)}:3: error FIRMWARE_PINNED_MISSING`, 'm'));
    });
  });

  describe('deskset firmware', () => {
    const policies = {
      'profiles/global.yaml': append('firmware:\n  policy: latest\n'),
      'profiles/sites/lisbon.yaml': append('firmware:\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n'),
      'profiles/devices/805ec0abcdef.yaml': append('firmware:\n  policy: "off"\n'),
    };
    type Report = Array<{
      model: string;
      vendor: string;
      releases: Array<{ version: string; image: string; source: string }>;
      devices: Array<{ mac: string; policy: string; version: string | null; image: string | null; why: string; setAt: string[]; problem: string | null }>;
    }>;

    it('--json: per model the releases on disk (newest first) and each device with its version and why', async () => {
      const r = await root(policies);
      const res = await cli(r, ['firmware', '.', '--json']);
      expect(res.code, res.stderr).toBe(0);
      const report = JSON.parse(res.stdout) as Report;
      const by = (m: string) => report.find((x) => x.model === m)!;
      expect(report.map((x) => x.model)).toEqual(expect.arrayContaining(['J179', 'J189', 'VVX450', 'Trio8800', 'T46S', 'T54W', 'T48S', 'T42S', 'T41S']));
      const j179 = by('J179');
      expect(j179.vendor).toBe('avaya');
      expect(j179.releases).toEqual([
        { version: '4.1.13.0.1', image: AV_NEW, source: 'firmware/avaya/4.1.13.0.1' },
        { version: '4.1.3.0.6', image: AV_OLD, source: 'firmware/avaya/4.1.3.0.6' },
      ]);
      const lis = j179.devices.find((d) => d.mac === J179_LIS)!;
      expect(lis).toMatchObject({ policy: 'pinned', version: '4.1.3.0.6', image: AV_OLD, problem: null });
      expect(lis.setAt.every((l) => /^profiles\/sites\/lisbon\.yaml:\d+:\d+$/.test(l))).toBe(true);
      expect(lis.why).toMatch(/firmware\.models\.J179/);
      const nyc = j179.devices.find((d) => d.mac === J179_NYC)!;
      expect(nyc).toMatchObject({ policy: 'latest', version: '4.1.13.0.1', image: AV_NEW, problem: null });
      expect(nyc.setAt).toEqual([expect.stringMatching(/^profiles\/global\.yaml:\d+:\d+$/)]);
      expect(by('T54W').devices).toEqual([expect.objectContaining({ mac: T54W, policy: 'off', version: null, image: null })]);
      expect(by('T54W').releases).toEqual([]);
      expect(by('T46S').devices[0]).toMatchObject({ mac: T46S, version: '66.86.0.15', image: 'firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom' });
      // Models served on disk but with no device are listed with their releases.
      expect(by('T41S').devices).toEqual([]);
      expect(by('T41S').releases.map((x) => x.version)).toEqual(['66.86.0.15']);
      expect(by('Trio8800').devices[0]).toMatchObject({ policy: 'latest', version: null, image: null, problem: null });
    });

    it('text: one block per model, each device with its version and the file:line that decided', async () => {
      const r = await root(policies);
      const res = await cli(r, ['firmware', '.']);
      expect(res.code, res.stderr).toBe(0);
      const lines = res.stdout.split('\n');
      const at = lines.indexOf('avaya J179');
      expect(at).toBeGreaterThanOrEqual(0);
      expect(lines[at + 1]).toBe('  on disk: 4.1.13.0.1, 4.1.3.0.6');
      const lis = lines.find((l) => l.trimStart().startsWith(J179_LIS))!;
      expect(lis).toMatch(/4\.1\.3\.0\.6/);
      expect(lis).toMatch(/profiles\/sites\/lisbon\.yaml:\d+:\d+/);
      const t54 = lines.find((l) => l.trimStart().startsWith(T54W))!;
      expect(t54).toMatch(/no upgrade/);
      expect(t54).toMatch(/profiles\/devices\/805ec0abcdef\.yaml:\d+:\d+/);
    });

    it('a pinned version not on disk: ERROR in text, problem in JSON, and the same non-zero exit both ways', async () => {
      const r = await root({ 'profiles/sites/nyc.yaml': append('firmware:\n  policy: pinned\n  version: 9.9.9\n') });
      const text = await cli(r, ['firmware', '.']);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(new RegExp(`${J179_NYC}\\s+ERROR\\s+.*9\\.9\\.9`));
      const json = await cli(r, ['firmware', '.', '--json']);
      const report = JSON.parse(json.stdout) as Report;
      const d = report.find((x) => x.model === 'J179')!.devices.find((x) => x.mac === J179_NYC)!;
      expect(d.problem).toContain('9.9.9');
      expect(d.image).toBeNull();
      expect(json.code, 'firmware --json exits 0 although the text mode exits 1 for the same problem').toBe(text.code);
    });

    it('a root with load errors (an unknown vendor under firmware/) prints them and exits 1', async () => {
      const r = await root({ 'firmware/acme/1.0/x.bin': 'x' });
      const res = await cli(r, ['firmware', '.']);
      expect(res.code).toBe(1);
      expect(res.stdout + res.stderr).toMatch(/firmware\/acme\/1\.0:\d+:\d+: error FIRMWARE_VENDOR/);
    });
  });
});
