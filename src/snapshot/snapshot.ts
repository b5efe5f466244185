// A snapshot is everything needed to answer phones, built from one consistent read of a
// config root and checked before use. It is never mutated: a reload builds a new one.

import { unknownNameHint } from '../check/suggest.js';
import { createHash, hash } from 'node:crypto';
import type { Diagnostic } from '../check/diagnostics.js';
import { buildFirmwareCatalog, type FirmwareCatalog } from '../render/firmware.js';
import type { SecretRefContext } from '../config/secret-refs.js';
import { allProfiles, loadProfilesSteps, SMALL_FLEET, type ParseCache, type PlaintextSecret, type ProfileSet } from '../config/profiles.js';
import { registerPartialSource } from '../render/template-compile.js';
import { templateSyntaxDiagnostic } from '../render/template-errors.js';
import { compileTemplate, createTemplateEnv, templateKey, type CompiledTemplate, type RenderInputs } from '../render/render.js';
import { parseRootConfig, type RootConfig } from '../config/root-config.js';
import { RouteTable } from './routes.js';
import { isBlankYaml } from '../config/yaml-fast.js';
import { runSteps, STEP_ITEMS, type Steps } from '../config/steps.js';
import { ResourceIndex } from '../render/resources.js';
import { ModelCatalog, parseVendorManifest, type FileSpec, type ModelInfo, type VendorManifest } from '../vendors/manifest.js';
import { buildSubnetTable, type SubnetTable } from '../sites/subnets.js';
import type { PNode } from '../config/yaml-tree.js';

/** File texts by path relative to their root, with forward slashes. */
export type FileMap = ReadonlyMap<string, string>;

export interface BuildInput {
  /** The config root's text files: deskset.yaml, profiles/**, templates/** (overrides). */
  root: FileMap;
  /** The package's shipped vendor data: templates/<vendor>/**. */
  shipped: FileMap;
  version: string;
  /** Root-relative paths of every file under firmware/ (release.yaml texts are in `root`). */
  firmwareFiles?: readonly string[];
  /** Their sizes in bytes, so images the server would refuse are never named to a phone. */
  firmwareSizes?: ReadonlyMap<string, number>;
  /** Relative names of the files under resources/. */
  resources?: ReadonlySet<string>;
  /** Absolute path of the root on disk, when there is one. */
  rootDir?: string;
  /** Resolves ${env:…} and ${file:…} references (file paths already confined to the root). */
  secretRefs?: Omit<SecretRefContext, 'file'>;
  /** Reused between builds of the same root (live reload). */
  parseCache?: ParseCache;
  /** How messages name a root file: defaults to the root-relative path. */
  display?: (rel: string) => string;
}

export interface Snapshot {
  id: string;
  /** Absolute path of the config root ('' when built from memory). */
  rootDir: string;
  /** How messages name a root file. */
  display: (rel: string) => string;
  loadedAt: Date;
  config: RootConfig;
  vendors: VendorManifest[];
  catalog: ModelCatalog;
  profiles: ProfileSet;
  /** Sites' subnets: the site of a device that names none, by its request's address. */
  subnets: SubnetTable;
  routes: RouteTable;
  templates: Map<string, CompiledTemplate>;
  render: RenderInputs;
  firmware: FirmwareCatalog;
  /** Root-relative paths of every file under firmware/, served as-is. */
  firmwareFiles: Set<string>;
  /** Names of the files under the root's resources/ (served as-is; see resources.ts). */
  resources: Set<string>;
  resourceIndex: ResourceIndex;
  /**
   * Every secret value this snapshot knows (from references, and at secret-looking keys), so
   * logs, previews and error messages can mask them wherever they appear.
   */
  secrets: Set<string>;
  /** security.secret_keys compiled once: extra keys whose values are secrets. */
  secretKeys?: RegExp;
  /** Passwords written into profiles as text; `check` warns when such a file is in git. */
  plaintextSecrets: PlaintextSecret[];
  /** Everything found while building: errors mean the snapshot must not be served. */
  diagnostics: Diagnostic[];
}

export function buildSnapshot(input: BuildInput): Snapshot {
  return runSteps(buildSnapshotSteps(input));
}

/** buildSnapshot in steps (see steps.ts): the per-profile and per-device loops yield. */
export function* buildSnapshotSteps(input: BuildInput): Steps<Snapshot> {
  const diagnostics: Diagnostic[] = [];
  const display = input.display ?? ((r: string) => r);
  const { config, diagnostics: cd, secrets: configSecrets } = parseRootConfig(input.root.get('deskset.yaml'), display('deskset.yaml'), input.secretRefs);
  diagnostics.push(...cd);

  const vendors = yield* loadVendors(input, diagnostics);
  const catalog = catalogOf(vendors);
  const secretKeys = secretKeyPattern(config.security.secretKeys);
  const { profiles, diagnostics: pd, secrets, plaintextSecrets } = yield* loadProfilesSteps(input.root, catalog, display, input.parseCache, input.secretRefs, secretKeys);
  yield;
  for (const d of pd) diagnostics.push(d);
  for (const v of configSecrets) secrets.add(v);
  if (!config.allowEmptyGlobal) diagnostics.push(...emptyGlobal(input.root, display));
  const { table: subnets, diagnostics: sd } = buildSubnetTable(siteSubnetInputs(profiles.siteSubnets));
  for (const d of sd) diagnostics.push(d);

  const brokenTemplates = new Set<string>();
  const templates = yield* compileVendorTemplates(vendors, input, diagnostics, display, brokenTemplates);
  yield;

  const { firmware, diagnostics: fd } = buildFirmwareCatalog(input.firmwareFiles ?? [], input.root, vendors, catalog, display, {
    extensions: config.serveExtensions,
    maxBytes: config.maxFileBytes,
    sizeOf: (p) => input.firmwareSizes?.get(p),
  });
  diagnostics.push(...fd, ...firmwarePolicyProblems(profiles, catalog));

  const modelsByVendor = new Map<string, ModelInfo[]>(vendors.map((v) => [v.vendor, v.models]));
  const modelsOf = (vendor: string): readonly ModelInfo[] => modelsByVendor.get(vendor) ?? [];
  const routes = yield* routeTable(vendors, profiles, modelsOf);
  const id = yield* contentId(input);

  return {
    id,
    rootDir: input.rootDir ?? '',
    display,
    loadedAt: new Date(),
    config,
    vendors,
    catalog,
    profiles,
    subnets,
    routes,
    templates,
    secrets,
    secretKeys,
    plaintextSecrets,
    resources: new Set(input.resources ?? []),
    resourceIndex: new ResourceIndex(input.resources ?? []),
    firmware,
    firmwareFiles: new Set(input.firmwareFiles ?? []),
    render: { config, profiles, templates, brokenTemplates, modelsOf, firmware, vendorData: (v) => catalog.vendor(v)?.data ?? {}, version: input.version },
    diagnostics,
  };
}

/**
 * One Handlebars environment per vendor, so partials (templates/<vendor>/partials/*.hbs)
 * of one vendor cannot shadow another's. The root's templates/ override shipped files.
 */
function* compileVendorTemplates(vendors: readonly VendorManifest[], input: BuildInput, diagnostics: Diagnostic[], display: (rel: string) => string, broken: Set<string>): Steps<Map<string, CompiledTemplate>> {
  const templates = new Map<string, CompiledTemplate>();
  const pick = (path: string): { text: string; source: string } | undefined => {
    const own = input.root.get(path);
    if (own !== undefined) return { text: own, source: display(path) };
    const shipped = input.shipped.get(path);
    return shipped === undefined ? undefined : { text: shipped, source: `(shipped) ${path}` };
  };
  // The template files, listed once: a root's keys are mostly its 10,000 device profiles.
  const templateFiles = [...new Set([...input.shipped.keys(), ...input.root.keys()].filter((p) => p.startsWith('templates/')))];
  for (const v of vendors) {
    yield;
    const prefix = `templates/${v.vendor}/partials/`;
    const partialPaths = templateFiles.filter((p) => p.startsWith(prefix) && p.endsWith('.hbs')).sort();
    const keys = [...new Set(v.files.map(templateKey))].filter((k) => !templates.has(k));
    const signature = createHash('sha256').update(JSON.stringify([partialPaths.map((p) => [p, pick(p)]), keys.map((k) => [k, pick(`templates/${k}`)])])).digest('hex');
    const cached = compiledVendors.get(v.vendor);
    if (cached?.signature === signature) {
      for (const [k, t] of cached.templates) templates.set(k, t);
      for (const k of cached.broken) broken.add(k);
      // Copies: a snapshot's diagnostics are its own to annotate.
      for (const d of cached.diagnostics) diagnostics.push({ ...d });
      continue;
    }
    const own = { signature, templates: [] as Array<[string, CompiledTemplate]>, broken: [] as string[], diagnostics: [] as Diagnostic[] };
    const env = createTemplateEnv();
    const partials = new Map<string, { text: string; source: string }>();
    for (const path of partialPaths) {
      yield;
      const src = pick(path)!;
      const name = path.slice(prefix.length, -'.hbs'.length);
      try {
        env.parse(src.text);
        registerPartialSource(env, name, src.text);
        partials.set(name, src);
      } catch (e) {
        own.diagnostics.push(templateSyntaxDiagnostic(src.text, src.source, e));
      }
    }
    for (const f of v.files) {
      const key = templateKey(f);
      if (templates.has(key) || own.templates.some(([k]) => k === key) || own.broken.includes(key)) continue;
      const src = pick(`templates/${key}`);
      if (!src) {
        own.diagnostics.push({ code: 'TEMPLATE_MISSING', severity: 'error', message: `vendor ${v.vendor} file "${f.id}" names template ${f.template}, which does not exist`, loc: { file: `templates/${v.vendor}/vendor.yaml`, line: 1, col: 1 } });
        continue;
      }
      yield; // a template takes milliseconds to compile
      const { template, diagnostics: td } = compileTemplate(env, src.text, src.source, partials);
      own.diagnostics.push(...td);
      if (template) own.templates.push([key, template]);
      else own.broken.push(key);
    }
    compiledVendors.set(v.vendor, own);
    for (const [k, t] of own.templates) templates.set(k, t);
    for (const k of own.broken) broken.add(k);
    for (const d of own.diagnostics) diagnostics.push({ ...d });
  }
  return templates;
}

/**
 * Each vendor's last compile, by a digest of every template and partial text that went in:
 * a reload that changed no template compiles none (recompiling all six vendors was a tenth
 * of a reload's time). Compiled templates are pure functions of their text, so sharing one
 * between snapshots cannot carry anything over but the compile.
 */
const compiledVendors = new Map<string, { signature: string; templates: Array<[string, CompiledTemplate]>; broken: string[]; diagnostics: Diagnostic[] }>();

function* loadVendors(input: BuildInput, diagnostics: Diagnostic[]): Steps<VendorManifest[]> {
  const byVendor = new Map<string, VendorManifest>();
  // Shipped first, then the root's own manifests, which replace a shipped vendor whole.
  const display = input.display ?? ((r: string) => r);
  for (const [label, files] of [[(p: string) => `(shipped) ${p}`, input.shipped], [display, input.root]] as const) {
    for (const path of [...files.keys()].filter((p) => /^templates\/[^/]+\/vendor\.ya?ml$/.test(p)).sort()) {
      const text = files.get(path)!;
      yield;
      const { manifest, diagnostics: md } = parsedManifest(text, label(path));
      for (const d of md) diagnostics.push({ ...d });
      if (manifest) byVendor.set(manifest.vendor, manifest);
    }
  }
  const vendors = [...byVendor.values()];
  // A file name two vendors could both answer is fine only when the device decides
  // (e.g. <mac>.cfg); an exact name claimed twice is a manifest error.
  const claimed = new Map<string, FileSpec>();
  for (const v of vendors) {
    for (const f of v.files) {
      for (const p of f.paths) {
        if (p.includes('{')) continue;
        const prev = claimed.get(p.toLowerCase());
        if (prev) diagnostics.push({ code: 'MANIFEST_CONFLICT', severity: 'error', message: `${p} is claimed by both ${prev.vendor}/${prev.id} and ${v.vendor}/${f.id}`, loc: { file: `templates/${v.vendor}/vendor.yaml`, line: 1, col: 1 } });
        claimed.set(p.toLowerCase(), f);
      }
    }
  }
  return vendors;
}

/**
 * The last model catalog and its manifests: the same manifests (parsedManifest) give the same
 * catalog, so a reload that changed no manifest can tell its devices' models are unchanged
 * by identity (loadProfilesSteps then reuses the last build's devices).
 */
let lastCatalog: ModelCatalog | undefined;

function catalogOf(vendors: readonly VendorManifest[]): ModelCatalog {
  if (lastCatalog && sameItems(lastCatalog.vendors, vendors)) return lastCatalog;
  return (lastCatalog = new ModelCatalog(vendors));
}

/** The same objects in the same order. */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The last route table built and what it was built from. A reload that changed profiles but
 * neither a manifest nor which devices exist with which model (a global edit) gets the same
 * table: naming 10,000 devices' files again was a third of such a build on the serving
 * thread. A table is never changed once built, so snapshots may share one.
 */
let lastRoutes: { vendors: readonly VendorManifest[]; devices: ProfileSet['devices']; macs: string[]; models: ModelInfo[]; table: RouteTable } | undefined;

function* routeTable(vendors: readonly VendorManifest[], profiles: ProfileSet, modelsOf: (vendor: string) => readonly ModelInfo[]): Steps<RouteTable> {
  const last = lastRoutes;
  const sameVendors = last && sameItems(last.vendors, vendors);
  if (sameVendors && last.devices === profiles.devices) return last.table;
  if (sameVendors && last.macs.length === profiles.devices.size) {
    let i = 0;
    let same = true;
    for (const d of profiles.devices.values()) {
      if (last.macs[i] !== d.mac || last.models[i] !== d.model) {
        same = false;
        break;
      }
      i++;
    }
    if (same) return last.table;
  }
  const table = new RouteTable(vendors.flatMap((v) => v.files), modelsOf);
  const macs: string[] = [];
  const models: ModelInfo[] = [];
  let step = 0;
  for (const d of profiles.devices.values()) {
    table.addDevice(d.mac, d.model.vendor, d.model);
    macs.push(d.mac);
    models.push(d.model);
    if (++step % STEP_ITEMS === 0) yield;
  }
  lastRoutes = { vendors, devices: profiles.devices, macs, models, table };
  return table;
}

/**
 * Manifests as last parsed, by label and text: every reload read all of them again (a fifth
 * of a global reload's build on the serving thread). A manifest is plain data no snapshot
 * changes, so snapshots may share one.
 */
const parsedManifests = new Map<string, ReturnType<typeof parseVendorManifest>>();

function parsedManifest(text: string, label: string): ReturnType<typeof parseVendorManifest> {
  const key = `${label}\0${text}`;
  let hit = parsedManifests.get(key);
  if (!hit) {
    // Edited manifests leave their old texts behind: start afresh rather than grow.
    if (parsedManifests.size >= 64) parsedManifests.clear();
    parsedManifests.set(key, (hit = parseVendorManifest(text, label)));
  }
  return hit;
}

/**
 * The snapshot's id: a digest of every file, the same for the same files in any order (so
 * caches and ETags can be keyed by content, not by time). Each file's digest is kept by path
 * (per parse cache, i.e. per root a server keeps building), so a reload hashes only the files
 * that changed: hashing all 10,000 device files again was a sixth of a global edit's build on
 * the serving thread.
 */
function* contentId(input: BuildInput): Steps<string> {
  const keep = !!input.parseCache && input.root.size <= KEEP_DIGESTS_UP_TO;
  const last = keep ? fileDigests.get(input.parseCache!) : undefined;
  // Kept digests are updated in place: builds of one root run one after another.
  const kept: FileDigests = last ?? { root: new Map(), shipped: input.shipped, shippedSum: undefined };
  // The digests are added up in 32-bit lanes: a sum needs no sorting, and any changed file
  // changes it. The shipped files are the same map from build to build: summed once.
  const sum = new Uint32Array(5);
  let step = 0;
  for (const [rel, text] of input.root) {
    let d = kept.root.get(rel);
    if (d?.text !== text) {
      d = fileDigest('r', rel, text);
      if (keep) kept.root.set(rel, d);
    }
    for (let i = 0; i < 5; i++) sum[i] = (sum[i]! + d.lanes[i]!) >>> 0;
    if (++step % STEP_ITEMS === 0) yield;
  }
  // Files gone since: forget them, so the map stays the size of the root.
  if (kept.root.size > input.root.size) for (const rel of [...kept.root.keys()]) if (!input.root.has(rel)) kept.root.delete(rel);
  if (kept.shipped !== input.shipped || !kept.shippedSum) {
    kept.shipped = input.shipped;
    kept.shippedSum = new Uint32Array(5);
    for (const [rel, text] of input.shipped) for (let i = 0; i < 5; i++) kept.shippedSum[i] = (kept.shippedSum[i]! + fileDigest('s', rel, text).lanes[i]!) >>> 0;
  }
  for (let i = 0; i < 5; i++) sum[i] = (sum[i]! + kept.shippedSum[i]!) >>> 0;
  if (keep) fileDigests.set(input.parseCache!, kept);
  return createHash('sha1').update(Buffer.from(sum.buffer)).update(`${input.root.size}\0${input.shipped.size}\0${input.version}`).digest('hex').slice(0, 12);
}

interface FileDigest {
  text: string;
  lanes: number[];
}

function fileDigest(side: string, rel: string, text: string): FileDigest {
  // The one-shot hash: a Hash object per file was half the cost at 100,000 files.
  const digest = hash('sha1', `${side}:${rel}\0${text}`, 'buffer');
  return { text, lanes: [0, 1, 2, 3, 4].map((i) => digest.readUInt32LE(i * 4)) };
}

interface FileDigests {
  root: Map<string, FileDigest>;
  shipped: FileMap;
  shippedSum: Uint32Array | undefined;
}
/** Past this many files the digests are not worth their memory (a large root's parse cache is dropped too). */
const KEEP_DIGESTS_UP_TO = 2 * SMALL_FLEET;
const fileDigests = new WeakMap<ParseCache, FileDigests>();

/**
 * An empty global.yaml (`: > profiles/global.yaml`, an editor that truncated it) would drop
 * every company-wide setting, admin password and dial plan included, without a word.
 */
function emptyGlobal(root: FileMap, display: (rel: string) => string): Diagnostic[] {
  for (const rel of ['profiles/global.yaml', 'profiles/global.yml']) {
    const text = root.get(rel);
    if (text !== undefined && isBlankYaml(text)) {
      return [{ code: 'EMPTY_GLOBAL', severity: 'error', message: 'the global profile is empty, so no company-wide setting would apply; restore it, or set allow_empty_global: true in deskset.yaml if that is meant', loc: { file: display(rel), line: 1, col: 1 } }];
    }
  }
  return [];
}

/** `firmware.models.<name>` must name a known model (a typo would silently never apply). */
function firmwarePolicyProblems(profiles: ProfileSet, catalog: ModelCatalog): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of allProfiles(profiles)) {
    if (!p.keys.has('firmware') || p.tree.kind !== 'map') continue;
    const fw = p.tree.entries.get('firmware')?.node;
    const models = fw?.kind === 'map' ? fw.entries.get('models')?.node : undefined;
    if (models?.kind !== 'map') continue;
    for (const [name, e] of models.entries) {
      if (!catalog.find(name)) out.push({ code: 'FIRMWARE_UNKNOWN_MODEL', severity: 'error', message: `firmware policy for unknown model "${name}"${unknownNameHint(name, catalog.names(), 'models')}`, loc: e.keyLoc });
    }
  }
  return out;
}

/** security.secret_keys as one expression (a bad pattern is reported by the config check). */
function secretKeyPattern(keys: readonly string[]): RegExp | undefined {
  try {
    return keys.length ? new RegExp(keys.join('|'), 'i') : undefined;
  } catch {
    return undefined;
  }
}

/** Each site's `subnets:` list (a single string is a list of one), in site-name order. */
function siteSubnetInputs(nodes: ReadonlyMap<string, PNode> | undefined): Array<{ site: string; items: Array<{ text: unknown; loc: PNode['loc'] }> }> {
  const out: Array<{ site: string; items: Array<{ text: unknown; loc: PNode['loc'] }> }> = [];
  for (const [site, node] of [...(nodes ?? new Map<string, PNode>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const items = node.kind === 'list' ? node.items : [node];
    out.push({ site, items: items.map((n) => ({ text: n.kind === 'scalar' ? n.value : undefined, loc: n.loc })) });
  }
  return out;
}
