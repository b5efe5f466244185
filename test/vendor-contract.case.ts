// The contract suite every vendor folder passes (src/vendors/contract.ts). test/vendors.test.ts
// runs it once per vendor the registry discovers, so a new folder is held to it without a
// line of test code: its manifest and data folders, its routes for every model, its files
// through its own validator, hostile values through its own escaping and reader, the
// real User-Agents that name it, and a device of it in samples/.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRendered } from '../src/check/check-output.js';
import { formatDiagnostic, type Diagnostic } from '../src/check/diagnostics.js';
import { createValidators, type Validators } from '../src/io/validators.js';
import { allTargets, deviceTargets, resolveRequest, sharedTargets } from '../src/pipeline/request.js';
import { parseUserAgent } from '../src/pipeline/user-agent.js';
import { renderTarget, type RenderTarget } from '../src/render/render.js';
import { canonicalPath, devicePaths } from '../src/snapshot/routes.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { BUILTIN_FORMATS, MANIFEST_FILE, type Vendor } from '../src/vendors/contract.js';
import { parseVendorManifest, type ModelInfo, type VendorManifest } from '../src/vendors/manifest.js';
import { OUTPUT_FORMATS, VENDORS } from '../src/vendors/registry.js';
import { REPO } from './helpers/cli.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';
import { FIXTURES, HAVE_REALWORLD, REALWORLD } from './helpers/shared.js';
import { SAMPLES } from './helpers/tmp-root.js';

/**
 * Values a profile may hold that a careless writer would turn into a new parameter, a broken
 * file or mojibake. Each either reaches the phone exactly (read back by the vendor's reader)
 * or, where the format cannot carry it (`escaping.carries`), is refused at render.
 */
export const HOSTILE_VALUES: readonly string[] = [
  `O'Neil "the boss"`,
  'a <b> & c</b> &amp; &#10;',
  'Zoë Ærøskøbing 日本語 ☎',
  '#not a comment',
  '  padded  ',
  'tab\there',
  '{{device.mac}} $MACADDR [PHONE_MAC_ADDRESS]',
  'back\\slash; x=y',
  'line one\nSET ADMIN_PASSWORD 1\naccount.1.password = p',
  'cr\rinjected = 1',
  'bell\u0007',
];

/** A MAC of the vendor's own: its first OUI and a serial. */
function macOf(manifest: VendorManifest, n: number): string {
  const oui = [...manifest.oui][0] ?? '0200aa';
  return `${oui}${n.toString(16).padStart(6, '0')}`;
}

/** One device per model of the vendor, added to samples/: `profiles/devices/<mac>.yaml`. */
function generatedDevices(manifest: VendorManifest, displayName: string): Array<{ mac: string; model: ModelInfo; file: string; text: string }> {
  return manifest.models.map((model, i) => {
    const mac = macOf(manifest, 0xc0de00 + i);
    // JSON is YAML: the value is written as a double-quoted YAML scalar, escapes and all.
    const text = `model: ${model.name}\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "4${String(i).padStart(3, '0')}", password: "pw-${i}", display_name: ${JSON.stringify(displayName)}}\n`;
    return { mac, model, file: `profiles/devices/${mac}.yaml`, text };
  });
}

/** `\x17` as the UA files write it -> the byte the phone sends. */
function decodeUa(ua: string): string {
  return ua.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function uaLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => decodeUa(l.split('\t')[0]!));
}

const errorsOf = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity === 'error').map(formatDiagnostic);

export function vendorContract(vendor: Vendor): void {
  const id = vendor.id;

  describe(`vendor ${id}: its folders and manifest`, () => {
    const manifestPath = path.join(REPO, 'templates', id, MANIFEST_FILE);

    it(`has templates/${id}/${MANIFEST_FILE}, valid, naming itself`, () => {
      expect(existsSync(manifestPath), manifestPath).toBe(true);
      const { manifest, diagnostics } = parseVendorManifest(readFileSync(manifestPath, 'utf8'), `templates/${id}/${MANIFEST_FILE}`);
      expect(diagnostics.map(formatDiagnostic)).toEqual([]);
      expect(manifest!.vendor).toBe(id);
      expect(manifest!.models.length).toBeGreaterThan(0);
      expect(manifest!.oui.size).toBeGreaterThan(0);
    });

    it('names only formats that are built in or its own, and schemas in its own schemas/ folder', () => {
      const { manifest } = parseVendorManifest(readFileSync(manifestPath, 'utf8'), MANIFEST_FILE);
      for (const f of manifest!.files) {
        const own = OUTPUT_FORMATS.get(f.format)?.vendor.id;
        expect((BUILTIN_FORMATS as readonly string[]).includes(f.format) || own === id, `${f.id}: format ${f.format}`).toBe(true);
        expect(existsSync(path.join(REPO, 'templates', id, f.template)), `${f.id}: templates/${id}/${f.template}`).toBe(true);
        if (f.schema !== undefined) {
          expect(f.schema.startsWith(`${id}/`), `${f.id}: schema ${f.schema}`).toBe(true);
          expect(existsSync(path.join(REPO, 'schemas', f.schema)), `schemas/${f.schema}`).toBe(true);
        }
      }
      if (vendor.catalog) expect(existsSync(path.join(REPO, 'schemas', id, vendor.catalog.file))).toBe(true);
    });

    it('its code imports only the contract, the shared building blocks and its own modules, and names no other vendor', () => {
      const own = path.join(REPO, 'src', 'vendors', id);
      const allowed = (abs: string) =>
        abs.startsWith(`${own}${path.sep}`) ||
        ['vendors/contract.ts', 'vendors/values.ts', 'vendors/xml-check.ts', 'render/timezone.ts', 'check/diagnostics.ts', 'check/suggest.ts'].some((f) => abs === path.join(REPO, 'src', f)) ||
        abs.startsWith(path.join(REPO, 'src', 'config') + path.sep);
      const others = VENDORS.map((v) => v.id).filter((v) => v !== id);
      const bad: string[] = [];
      for (const file of readdirSync(own, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
        const abs = path.join(own, file);
        const text = readFileSync(abs, 'utf8');
        for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gms)) {
          const spec = m[1]!;
          if (!spec.startsWith('.')) continue; // a package
          const target = path.resolve(path.dirname(abs), spec).replace(/\.js$/, '.ts');
          if (!allowed(target)) bad.push(`${file} imports ${spec}`);
        }
        for (const other of others) if (new RegExp(`\\b${other}\\b`, 'i').test(text)) bad.push(`${file} names vendor ${other}`);
      }
      expect(bad).toEqual([]);
    });

    it.skipIf(!vendor.schemaModels)('declares every manifest model in the model list its schemas are generated from', () => {
      const { manifest } = parseVendorManifest(readFileSync(manifestPath, 'utf8'), MANIFEST_FILE);
      const missing = manifest!.models.map((m) => m.name).filter((m) => !vendor.schemaModels!.includes(m));
      expect(missing).toEqual([]);
    });
  });

  describe(`vendor ${id}: a generated device of every model`, () => {
    let snap: Snapshot;
    let manifest: VendorManifest;
    let devices: ReturnType<typeof generatedDevices>;
    let validators: Validators;
    let shipped: Map<string, string>;
    let samples: Map<string, string>;

    beforeAll(async () => {
      shipped = await shippedFiles();
      samples = await sampleFiles();
      manifest = parseVendorManifest(shipped.get(`templates/${id}/${MANIFEST_FILE}`)!, MANIFEST_FILE).manifest!;
      devices = generatedDevices(manifest, 'Plain Name');
      const root = new Map(samples);
      for (const d of devices) root.set(d.file, d.text);
      snap = buildSnapshot({ root, shipped, version: '0.0.0-test' });
      validators = createValidators({ root: SAMPLES, resourceNames: snap.resources });
    });
    afterAll(async () => {
      await validators?.close();
    });

    it('builds with no findings', () => {
      expect(snap.diagnostics.map(formatDiagnostic)).toEqual([]);
      for (const d of devices) expect(snap.profiles.devices.get(d.mac)?.model.name, d.mac).toBe(d.model.name);
    });

    it("every model's routes resolve to that file, for that device or model", () => {
      const misses: string[] = [];
      const expectRender = (p: string, file: string, want: { mac?: string; model?: string }) => {
        const r = resolveRequest(snap, { path: p });
        if (r.kind !== 'render') return misses.push(`${p}: ${r.reason}`);
        if (`${r.target.file.vendor}/${r.target.file.id}` !== file) return misses.push(`${p}: answered by ${r.target.file.vendor}/${r.target.file.id}, not ${file}`);
        if (want.mac !== undefined && r.target.subject?.mac !== want.mac) misses.push(`${p}: for ${r.target.subject?.mac}, not ${want.mac}`);
        if (want.model !== undefined && (r.target.subject?.model ?? r.target.model)?.name !== want.model) misses.push(`${p}: for model ${(r.target.subject?.model ?? r.target.model)?.name}, not ${want.model}`);
        return undefined;
      };
      for (const f of manifest.files) {
        const file = `${id}/${f.id}`;
        if (f.scope === 'shared' || f.fallback === 'shared') expectRender(canonicalPath(f)!, file, {});
        for (const d of devices) {
          if (f.scope === 'device') for (const p of devicePaths(f, d.mac, d.model)) expectRender(p, file, { mac: d.mac, model: d.model.name });
          if (f.scope === 'model') expectRender(canonicalPath(f, undefined, d.model)!, file, { model: d.model.name });
        }
      }
      expect(misses).toEqual([]);
    });

    it("every rendered file passes the vendor's own validator", async () => {
      const targets: RenderTarget[] = [...sharedTargets(snap), ...deviceTargets(snap, devices.map((d) => d.mac))].filter((t) => t.file.vendor === id);
      // Every file of the manifest is among them: shared, model and device files alike.
      expect(new Set(targets.map((t) => t.file.id))).toEqual(new Set(manifest.files.map((f) => f.id)));
      const found: string[] = [];
      for (const t of targets) {
        const { rendered, diagnostics } = renderTarget(snap.render, t);
        found.push(...errorsOf(diagnostics));
        if (rendered) found.push(...errorsOf(await validateRendered(rendered, t.subject?.mac, validators)));
      }
      expect(found).toEqual([]);
      expect(validators.schemaProblems).toEqual([]);
    });

    it("a validator that can fail: a broken file of each of the vendor's formats is caught", async () => {
      const formats = new Set(manifest.files.map((f) => f.format).filter((f) => f !== 'text'));
      for (const format of formats) {
        const t = allTargets(snap).find((x) => x.file.vendor === id && x.file.format === format)!;
        const { rendered } = renderTarget(snap.render, t);
        // Stray lines no format of ours accepts (not XML, not `key = value`, a GOTO to no
        // label), before the file's last line.
        const lines = rendered!.text.trimEnd().split('\n');
        lines.splice(lines.length - 1, 0, '<<<"broken" = = SET', 'GOTO NO_SUCH_LABEL');
        // The same rendered file (its provenance included) with other text.
        const broken = Object.assign(Object.create(rendered!) as typeof rendered, { text: `${lines.join('\n')}\n` })!;
        expect(errorsOf(await validateRendered(broken, t.subject?.mac, validators)).length, `${format}: ${t.path}`).toBeGreaterThan(0);
      }
    });

    it("an admin's templates/<vendor>/… in the root wins over the shipped template, file by file", () => {
      const root = new Map(samples);
      for (const d of devices) root.set(d.file, d.text);
      for (const f of manifest.files) root.set(`templates/${id}/${f.template}`, `${shipped.get(`templates/${id}/${f.template}`)!}\nADMIN OVERRIDE ${f.id}\n`);
      const s = buildSnapshot({ root, shipped, version: '0.0.0-test' });
      expect(errorsOf(s.diagnostics)).toEqual([]);
      const seen = new Set<string>();
      for (const t of allTargets(s).filter((x) => x.file.vendor === id)) {
        const { rendered } = renderTarget(s.render, t);
        expect(rendered?.text, t.path).toContain(`ADMIN OVERRIDE ${t.file.id}`);
        seen.add(t.file.id);
      }
      expect(seen).toEqual(new Set(manifest.files.map((f) => f.id)));
    });

    describe('escaping: hostile display names reach the phone exactly, or are refused', () => {
      const render = (value: string) => {
        const root = new Map(samples);
        const d = generatedDevices(manifest, value)[0]!;
        root.set(d.file, d.text);
        const s = buildSnapshot({ root, shipped, version: '0.0.0-test' });
        expect(errorsOf(s.diagnostics)).toEqual([]);
        return deviceTargets(s, [d.mac]).map((t) => ({ t, ...renderTarget(s.render, t) }));
      };
      const read = async (f: { rendered?: { text: string }; t: RenderTarget }) => (f.rendered ? await vendor.escaping.read(f.rendered.text, f.t.file.format) : new Map<string, string>());
      /** The device file that carries the display name, and what it reads back as. */
      const displayFile = async (value: string) => {
        for (const f of render(value)) {
          const values = await read(f);
          if (values.has(vendor.escaping.displayNameParam)) return { f, values };
        }
        return undefined;
      };

      it(`the display name is read back as ${vendor.escaping.displayNameParam}`, async () => {
        const carrier = await displayFile('Plain Name');
        expect(carrier, 'a device file that carries the display name').toBeDefined();
        expect(carrier!.values.get(vendor.escaping.displayNameParam)).toBe('Plain Name');
      });

      for (const value of HOSTILE_VALUES) {
        it(`${JSON.stringify(value)} ${vendor.escaping.carries(value) ? 'round-trips' : 'is refused'}`, async () => {
          const plain = (await displayFile('Plain Name'))!;
          const same = render(value).find((f) => f.t.file.id === plain.f.t.file.id)!;
          if (vendor.escaping.carries(value)) {
            expect(same.diagnostics.map(formatDiagnostic)).toEqual([]);
            const values = await read(same);
            expect(values.get(vendor.escaping.displayNameParam)).toBe(value);
            // Nothing injected: the same parameters as with a plain name.
            expect([...values.keys()].sort()).toEqual([...plain.values.keys()].sort());
          } else {
            expect(same.rendered).toBeUndefined();
            expect(same.diagnostics.map((d) => d.code)).toEqual(['RENDER']);
          }
        });
      }
    });
  });

  describe(`vendor ${id}: User-Agents that name it are identified with model and firmware`, () => {
    const sources = [
      { name: 'test/fixtures/user-agents.txt', file: path.join(FIXTURES, 'user-agents.txt'), run: true },
      { name: '../shared/realworld/user-agents.txt', file: path.join(REALWORLD, 'user-agents.txt'), run: HAVE_REALWORLD },
    ];
    for (const src of sources) {
      it.skipIf(!src.run)(`${src.name}${src.run ? '' : ' (skipped: absent)'}`, async () => {
        const vendors = [...parseVendorsOf(await shippedFiles())];
        const names = new RegExp(`\\b${id}`, 'i');
        const mine = uaLines(src.file).filter((ua) => names.test(ua));
        const claimed = uaLines(src.file).filter((ua) => parseUserAgent(ua, vendors)?.vendor === id);
        expect(claimed.length, 'lines this vendor claims').toBeGreaterThan(0);
        const bad: string[] = [];
        for (const ua of new Set([...mine, ...claimed])) {
          const info = parseUserAgent(ua, vendors);
          if (info?.vendor !== id) bad.push(`${JSON.stringify(ua)}: vendor ${info?.vendor}`);
          else if (!info.firmware || !(info.model ?? info.family)) bad.push(`${JSON.stringify(ua)}: model ${info.model ?? info.family}, firmware ${info.firmware}`);
        }
        expect(bad).toEqual([]);
      });
    }
  });

  describe(`vendor ${id}: samples/`, () => {
    it('has at least one device of the vendor, and check renders it', async () => {
      const snap = buildSnapshot({ root: await sampleFiles(), shipped: await shippedFiles(), version: '0.0.0-test' });
      const own = [...snap.profiles.devices.values()].filter((d) => d.model.vendor === id);
      expect(own.length).toBeGreaterThan(0);
      for (const t of deviceTargets(snap, own.map((d) => d.mac))) expect(errorsOf(renderTarget(snap.render, t).diagnostics)).toEqual([]);
    });
  });
}

/** The shipped manifests, as the server loads them. */
function* parseVendorsOf(shipped: Map<string, string>): Generator<VendorManifest> {
  for (const [p, text] of [...shipped].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!p.endsWith(`/${MANIFEST_FILE}`)) continue;
    yield parseVendorManifest(text, p).manifest!;
  }
}
