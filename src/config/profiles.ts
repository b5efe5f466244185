// Turn the profile files of a config root into layers: global, per model, per group,
// per site and per device. Pure: takes file texts, returns profiles and diagnostics.

import { createHash } from 'node:crypto';
import { unknownNameHint } from '../check/suggest.js';
import { LRUCache } from 'lru-cache';
import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';
import { normalizeMac } from './mac.js';
import type { LayerKind, LayerRef } from './merge.js';
import { checkProfile } from './profile-schema.js';
import { isSecretRef, resolveSecretRefs, type SecretRefContext } from './secret-refs.js';
import { isSecretKey } from './redact.js';
import { runSteps, STEP_ITEMS, type Steps } from './steps.js';
import type { ModelCatalog, ModelInfo } from '../vendors/manifest.js';
import { fixedLoc, parseYamlTree, PMap, type PNode } from './yaml-tree.js';

export interface Profile {
  ref: LayerRef;
  /** The mergeable part: the profile minus its identity keys. */
  readonly tree: PNode;
  /** The tree's top-level keys, known without building a device's tree again. */
  readonly keys: ReadonlySet<string>;
}

export interface DeviceEntry {
  /** The phone's MAC; for a placeholder, its preview MAC (placeholderMac). */
  mac: string;
  /** Set for a placeholder: the name of profiles/devices/placeholders/<name>.yaml. */
  placeholder?: string;
  model: ModelInfo;
  site?: string;
  groups: string[];
  profile: Profile;
  /** auth.user of the device's own profile, for matching credentials to a device. */
  authUser?: string;
}

export interface ProfileSet {
  global?: Profile;
  models: Map<string, Profile>;
  groups: Map<string, Profile>;
  sites: Map<string, Profile>;
  devices: Map<string, DeviceEntry>;
  /**
   * Devices prepared without a MAC (profiles/devices/placeholders/<name>.yaml), by name. An
   * activation code binds one to a phone; until then nothing is served for them.
   */
  placeholders: Map<string, DeviceEntry>;
  /** Each site's `subnets:` node, for the subnet table (sites/subnets.ts). */
  siteSubnets?: Map<string, PNode>;
}

/** A placeholder's name: what `codes issue --placeholder` and the file name use. */
export const PLACEHOLDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * The MAC a placeholder is checked and previewed under: locally administered (0x02 first
 * octet), so it is never a real phone's, and derived from the name, so it is stable.
 */
export function placeholderMac(name: string): string {
  return `02${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 10)}`;
}

/** Every profile of every layer, global first. */
export function allProfiles(profiles: ProfileSet): Profile[] {
  const out: Profile[] = profiles.global ? [profiles.global] : [];
  for (const m of [profiles.models, profiles.groups, profiles.sites]) for (const p of m.values()) out.push(p);
  for (const d of profiles.devices.values()) out.push(d.profile);
  for (const d of profiles.placeholders.values()) out.push(d.profile);
  return out;
}

/** Keys that say who a device is; they are not merged. */
const IDENTITY_KEYS = new Set(['model', 'site', 'groups', 'description', 'subnets']);

/** Where placeholder files live (root-relative). */
export const PLACEHOLDERS_DIR = 'profiles/devices/placeholders/';

const DIRS: Array<[LayerKind, string]> = [
  ['model', 'profiles/models/'],
  ['group', 'profiles/groups/'],
  ['site', 'profiles/sites/'],
  ['device', 'profiles/devices/'],
];

/**
 * `display` turns a root-relative path into what messages show (e.g. `samples/profiles/x.yaml`),
 * so file:line:col is clickable from where the command ran.
 */
/**
 * Parsed-and-checked profile files by path. A reload re-parses only files whose text changed,
 * which keeps a one-file edit on a 10,000-device root far under a second. Safe to share:
 * parsed trees are never mutated.
 */
export type ParseCache = Map<string, ParseCacheEntry>;

export interface ParseCacheEntry {
  text: string;
  /** The checked tree; for device files only when it is needed again (see DeviceFacts). */
  root?: PNode;
  /** Set for a device file that parsed and passed the schema. */
  device?: DeviceFacts;
  diagnostics: Diagnostic[];
  /** Derived once per text: passwords typed as text, and values at secret-looking keys. */
  plaintext?: PlaintextSecret[];
  keySecrets?: { pattern: string; values: string[] };
}

export interface LoadedProfiles {
  profiles: ProfileSet;
  diagnostics: Diagnostic[];
  secrets: Set<string>;
  plaintextSecrets: PlaintextSecret[];
}

export function loadProfiles(...args: Parameters<typeof loadProfilesSteps>): LoadedProfiles {
  return runSteps(loadProfilesSteps(...args));
}

/** loadProfiles in steps: yields every STEP_ITEMS files, so a server can answer phones meanwhile. */
export function* loadProfilesSteps(
  files: ReadonlyMap<string, string>,
  catalog: ModelCatalog,
  display: (rel: string) => string = (r) => r,
  cache?: ParseCache,
  secretRefs?: Omit<SecretRefContext, 'file'>,
  extraSecretKeys?: RegExp,
): Steps<LoadedProfiles> {
  // Every value to mask in output: resolved references and values at secret-looking keys.
  const secrets = new Set<string>();
  const plaintextSecrets: PlaintextSecret[] = [];
  const diagnostics: Diagnostic[] = [];
  const all: FileSink = { diagnostics, secrets, plaintext: plaintextSecrets };
  const profiles: ProfileSet = { models: new Map(), groups: new Map(), sites: new Map(), devices: new Map(), placeholders: new Map() };
  const deviceFiles = new Map<string, string>();
  const pending: Array<{ kind: LayerKind; name: string; file: string; root: PNode }> = [];
  let devicesPending: DevicePending[] = [];
  // Every reference is resolved once per build; a device tree rebuilt later gets the same
  // values without touching the disk or the environment again.
  const refs = secretRefs && rememberRefs(secretRefs);
  // Files that exist but failed to load: a device naming one is not told it "does not exist".
  const broken = { site: new Set<string>(), group: new Set<string>() };

  /** One profile file: parsed (or found in the cache), checked, and queued as a layer or a device. */
  const loadFile = (rel: string, out: FileSink): void => {
    const text = files.get(rel)!;
    const file = display(rel);
    if (!/\.ya?ml$/i.test(file)) {
      out.diagnostics.push({ code: 'PROFILE_NOT_YAML', severity: 'warning', message: 'ignored: profile files end in .yaml', loc: at(file) });
      return;
    }
    const base = rel.replace(/^.*\//, '').replace(/\.ya?ml$/i, '');
    let kind: LayerKind | undefined;
    if (rel === 'profiles/global.yaml' || rel === 'profiles/global.yml') kind = 'global';
    for (const [k, dir] of DIRS) {
      if (rel.startsWith(dir) && !rel.slice(dir.length).includes('/')) kind = k;
    }
    const placeholder = rel.startsWith(PLACEHOLDERS_DIR) && !rel.slice(PLACEHOLDERS_DIR.length).includes('/');
    if (placeholder) kind = 'device';
    if (!kind) {
      out.diagnostics.push({ code: 'PROFILE_PLACE', severity: 'error', message: 'not a known profile location (profiles/global.yaml, profiles/{models,groups,sites,devices}/<name>.yaml, profiles/devices/placeholders/<name>.yaml)', loc: at(file) });
      return;
    }
    const checked = parseAndCheck(rel, text, file, kind === 'device', cache, kind === 'site');
    out.diagnostics.push(...checked.diagnostics);
    if (!checked.ok) {
      if (kind === 'site' || kind === 'group') broken[kind].add(base);
      return;
    }
    // Derived data is cached with the parse: a reload of 10,000 devices walks one tree, not all.
    const entry = checked.entry;
    const hasRefs = !!secretRefs && text.includes('${');
    if (hasRefs && kind === 'device') out.refs = true;
    // A device file's tree is only rebuilt here when its derived data is not cached yet or
    // its references must be resolved again.
    let root = checked.root ?? (entry.plaintext && entry.keySecrets && !hasRefs ? undefined : reparse(text, file));
    entry.plaintext ??= findPlaintextSecrets(root!, '', rel, []);
    for (const p of entry.plaintext) out.plaintext.push(p);
    let authUser = entry.device?.authUser;
    // ${env:…} / ${file:…} are resolved on every build (the environment or the file may have
    // changed); the text test keeps files without references free of the walk.
    if (hasRefs) {
      const r = resolveSecretRefs(root!, { ...refs!, file });
      out.diagnostics.push(...r.diagnostics);
      if (r.diagnostics.some((d) => d.severity === 'error')) {
        if (kind === 'site' || kind === 'group') broken[kind].add(base);
        return;
      }
      for (const v of r.secrets) out.secrets.add(v);
      root = r.tree;
      for (const v of keySecretValues(root, extraSecretKeys)) out.secrets.add(v);
      if (kind === 'device') authUser = authUserOf(root);
    } else {
      const pattern = extraSecretKeys?.source ?? '';
      if (entry.keySecrets?.pattern !== pattern) entry.keySecrets = { pattern, values: keySecretValues(root ?? reparse(text, file), extraSecretKeys) };
      for (const v of entry.keySecrets.values) out.secrets.add(v);
    }

    let name = base;
    if (placeholder) {
      if (!PLACEHOLDER_NAME.test(base)) {
        out.diagnostics.push({ code: 'PLACEHOLDER_NAME', severity: 'error', message: `placeholder name "${base}" must be letters, digits, "-" or "_" (at most 64, starting with a letter or digit)`, loc: at(file) });
        return;
      }
      const clash = [...profiles.placeholders.keys(), ...devicesPending.filter((d) => d.placeholder).map((d) => d.placeholder!)].find((n) => n.toLowerCase() === base.toLowerCase());
      if (clash) {
        out.diagnostics.push({ code: 'DUPLICATE_PLACEHOLDER', severity: 'error', message: `placeholder "${base}" is defined twice (names are compared without case)`, loc: at(file) });
        return;
      }
      devicesPending.push({ mac: placeholderMac(base), file, text, facts: entry.device!, authUser, placeholder: base });
      return;
    }
    if (kind === 'device') {
      const mac = normalizeMac(base);
      if (!mac) {
        out.diagnostics.push({ code: 'DEVICE_FILE_NAME', severity: 'error', message: `device file name "${base}" is not a MAC address (12 hex digits, e.g. 0004f2a1b2c3.yaml)`, loc: at(file) });
        return;
      }
      const prev = deviceFiles.get(mac);
      if (prev) {
        out.diagnostics.push({ code: 'DUPLICATE_MAC', severity: 'error', message: `MAC ${mac} is defined twice (also in ${prev})`, loc: at(file) });
        return;
      }
      deviceFiles.set(mac, file);
      name = mac;
    } else if (kind === 'model') {
      const m = catalog.find(base);
      if (!m) {
        out.diagnostics.push({ code: 'UNKNOWN_MODEL', severity: 'error', message: `model profile for unknown model "${base}"${unknownNameHint(base, catalog.names(), 'models')}`, loc: at(file) });
        return;
      }
      if (profiles.models.has(m.name)) {
        out.diagnostics.push({ code: 'DUPLICATE_PROFILE', severity: 'error', message: `model ${m.name} has two profile files`, loc: at(file) });
        return;
      }
      name = m.name;
    }
    if (kind === 'device') devicesPending.push({ mac: name, file, text, facts: entry.device!, authUser });
    else pending.push({ kind, name, file, root: root! });
  };

  // Files are taken in the built-in string order (code units, as `<` compares): a third of
  // the cost of a comparator over entries. Everything under profiles/devices/ sorts together,
  // so the device files are one block in that order, and one a reload may find unchanged.
  const before: string[] = [];
  const deviceRels: string[] = [];
  const after: string[] = [];
  let step = 0;
  for (const rel of files.keys()) {
    if (++step % STEP_ITEMS === 0) yield;
    if (rel.startsWith(DEVICES_DIR)) deviceRels.push(rel);
    else if (rel.startsWith('profiles/')) (rel < DEVICES_DIR ? before : after).push(rel);
  }
  before.sort();
  after.sort();
  for (const rel of before) loadFile(rel, all);
  yield;

  const last = cache && deviceBlocks.get(cache);
  let block = last && (yield* sameDeviceFiles(last, deviceRels.length, files, display, extraSecretKeys)) ? last : undefined;
  if (block) devicesPending = block.pending;
  else {
    deviceRels.sort();
    block = { rels: deviceRels, texts: [], displayKey: display(''), secretKeys: extraSecretKeys?.source ?? '', refs: false, diagnostics: [], secrets: new Set(), plaintext: [], pending: devicesPending };
    for (const rel of deviceRels) {
      if (++step % STEP_ITEMS === 0) yield;
      block.texts.push(files.get(rel)!);
      loadFile(rel, block);
    }
  }
  yield;
  for (const d of block.diagnostics) diagnostics.push(d);
  for (const v of block.secrets) secrets.add(v);
  yield;
  for (const p of block.plaintext) plaintextSecrets.push(p);
  for (const rel of after) {
    if (++step % STEP_ITEMS === 0) yield;
    loadFile(rel, all);
  }

  for (const p of pending) {
    const tree = mergeable(p.root);
    const profile: Profile = { ref: { kind: p.kind, name: p.name, file: p.file }, tree, keys: keysOf(tree) };
    if (p.kind === 'global') profiles.global = profile;
    else if (p.kind === 'model') profiles.models.set(p.name, profile);
    else if (p.kind === 'group') profiles.groups.set(p.name, profile);
    else if (p.kind === 'site') {
      profiles.sites.set(p.name, profile);
      const subnets = p.root.kind === 'map' ? p.root.entries.get('subnets')?.node : undefined;
      if (subnets) (profiles.siteSubnets ??= new Map()).set(p.name, subnets);
    }
  }

  // What the devices came to depends on their files, the models, and which sites and groups
  // exist (not what those say): unchanged, the last build's devices are this one's.
  const names = layerNames(profiles, broken);
  const resolved = block.resolved;
  if (resolved && resolved.catalog === catalog && resolved.names === names) {
    profiles.devices = resolved.devices;
    profiles.placeholders = resolved.placeholders;
    for (const d of resolved.diagnostics) diagnostics.push(d);
    return { profiles, diagnostics, secrets, plaintextSecrets };
  }
  const deviceDiagnostics: Diagnostic[] = [];
  const trees = new DeviceTrees(refs, devicesPending.length);
  for (const p of devicesPending) {
    if (++step % STEP_ITEMS === 0) yield;
    const modelNode = p.facts.model;
    const modelName = modelNode && scalarText(modelNode);
    const model = modelName === undefined ? undefined : catalog.find(modelName);
    if (!model) {
      deviceDiagnostics.push({ code: 'UNKNOWN_MODEL', severity: 'error', message: modelName === undefined ? 'model is missing' : `unknown model "${modelName}"${unknownNameHint(modelName, catalog.names(), 'models')}`, loc: modelNode?.loc ?? at(p.file) });
      continue;
    }
    let ok = true;
    const siteNode = p.facts.site;
    const site = siteNode ? scalarText(siteNode) : undefined;
    if (siteNode && site !== undefined && !profiles.sites.has(site)) {
      ok = false;
      if (!broken.site.has(site)) deviceDiagnostics.push({ code: 'UNKNOWN_SITE', severity: 'error', message: `site "${site}" does not exist (no profiles/sites/${site}.yaml)${unknownNameHint(site, [...profiles.sites.keys()], 'sites')}`, loc: siteNode.loc });
    }
    const groups: string[] = [];
    const groupsNode = p.facts.groups;
    if (groupsNode?.kind === 'list') {
      for (const g of groupsNode.items) {
        const name = scalarText(g);
        if (name === undefined) continue;
        if (!profiles.groups.has(name)) {
          ok = false;
          if (!broken.group.has(name)) deviceDiagnostics.push({ code: 'UNKNOWN_GROUP', severity: 'error', message: `group "${name}" does not exist (no profiles/groups/${name}.yaml)${unknownNameHint(name, [...profiles.groups.keys()], 'groups')}`, loc: g.loc });
        }
        groups.push(name);
      }
    }
    if (!ok) continue;
    const entry: DeviceEntry = {
      mac: p.mac,
      model,
      site: site ?? undefined,
      groups,
      profile: new DeviceProfile({ kind: 'device', name: p.placeholder ?? p.mac, file: p.file }, p.facts.keys, trees.keeps ? p.facts : undefined, p.text, trees),
      authUser: p.authUser,
    };
    if (p.placeholder) profiles.placeholders.set(p.placeholder, { ...entry, placeholder: p.placeholder });
    else profiles.devices.set(p.mac, entry);
  }
  for (const d of deviceDiagnostics) diagnostics.push(d);
  // Device files with references are read again on every build (the value may have
  // changed), and a large fleet's block is not worth its memory: neither is kept.
  if (cache && !block.refs && devicesPending.length <= SMALL_FLEET) {
    block.resolved = { catalog, names, devices: profiles.devices, placeholders: profiles.placeholders, diagnostics: deviceDiagnostics };
    deviceBlocks.set(cache, block);
  } else if (cache) deviceBlocks.delete(cache);
  return { profiles, diagnostics, secrets, plaintextSecrets };
}

const DEVICES_DIR = 'profiles/devices/';

interface DevicePending {
  mac: string;
  file: string;
  text: string;
  facts: DeviceFacts;
  authUser?: string;
  placeholder?: string;
}

/** Where one file's findings go: the whole build's, or the device block's. */
interface FileSink {
  diagnostics: Diagnostic[];
  secrets: Set<string>;
  plaintext: PlaintextSecret[];
  /** Set when a device file holds ${…} references (resolved again on every build). */
  refs?: boolean;
}

/**
 * The device files of the last build of a root (by its parse cache) and what they came to.
 * A reload that changed no device file (a global or site edit) reuses it instead of walking
 * 10,000 device files again: that walk was three quarters of such a build on the serving
 * thread. Nothing in it is changed once built, so snapshots may share it.
 */
interface DeviceBlock extends FileSink {
  rels: string[];
  texts: string[];
  /** How files were named (display('')) and the extra secret keys: both change what a file gives. */
  displayKey: string;
  secretKeys: string;
  refs: boolean;
  pending: DevicePending[];
  /** The devices, for this catalog and these site and group names. */
  resolved?: { catalog: ModelCatalog; names: string; devices: Map<string, DeviceEntry>; placeholders: Map<string, DeviceEntry>; diagnostics: Diagnostic[] };
}

const deviceBlocks = new WeakMap<ParseCache, DeviceBlock>();

function* sameDeviceFiles(block: DeviceBlock, count: number, files: ReadonlyMap<string, string>, display: (rel: string) => string, extraSecretKeys: RegExp | undefined): Steps<boolean> {
  if (block.rels.length !== count || block.displayKey !== display('') || block.secretKeys !== (extraSecretKeys?.source ?? '')) return false;
  // Unchanged texts are the same strings (patchRoot copies the map), so this compares pointers.
  for (let i = 0; i < count; i++) {
    if (files.get(block.rels[i]!) !== block.texts[i]) return false;
    if (i % STEP_ITEMS === STEP_ITEMS - 1) yield;
  }
  return true;
}

/** Which sites and groups exist or failed to load: all a device's resolution reads of them. */
function layerNames(profiles: ProfileSet, broken: { site: Set<string>; group: Set<string> }): string {
  return [[...profiles.sites.keys()], [...profiles.groups.keys()], [...broken.site], [...broken.group]].map((l) => l.join('\0')).join('\n');
}

/** A password typed into a profile as text (not a ${…} reference, not a scrypt hash). */
export interface PlaintextSecret {
  /** Root-relative file, for asking git whether it is tracked. */
  rel: string;
  key: string;
  /** Where the value is; a getter, so 100,000 device files do not each keep a position. */
  readonly loc: SourceLoc;
  /** The password as typed (for spotting vendor defaults; never printed). */
  readonly value: string;
}

class PlaintextAt implements PlaintextSecret {
  constructor(
    readonly rel: string,
    readonly key: string,
    private readonly node: PNode,
  ) {}

  get loc(): SourceLoc {
    return this.node.loc;
  }

  get value(): string {
    return this.node.kind === 'scalar' ? String(this.node.value) : '';
  }
}

function findPlaintextSecrets(n: PNode, key: string, rel: string, out: PlaintextSecret[]): PlaintextSecret[] {
  if (n.kind === 'map') for (const [k, e] of n.entries) findPlaintextSecrets(e.node, key ? `${key}.${k}` : k, rel, out);
  else if (n.kind === 'list') n.items.forEach((it, i) => findPlaintextSecrets(it, `${key}[${i}]`, rel, out));
  else if (typeof n.value === 'string' || typeof n.value === 'number') {
    const v = String(n.value);
    if (isSecretKey(key.replace(/\[\d+\]$/, '')) && v !== '' && !isSecretRef(v) && !v.startsWith('scrypt$')) out.push(new PlaintextAt(rel, key, n));
  }
  return out;
}

/** Values at secret-looking keys (3+ characters: shorter ones would mask half the output). */
function keySecretValues(root: PNode, extra: RegExp | undefined): string[] {
  const out: string[] = [];
  const walk = (n: PNode, key: string): void => {
    if (n.kind === 'map') for (const [k, e] of n.entries) walk(e.node, k);
    else if (n.kind === 'list') for (const it of n.items) walk(it, key);
    else if (n.value !== null && isSecretKey(key, extra) && String(n.value).length >= 3) out.push(String(n.value));
  };
  walk(root, '');
  return out;
}

interface Checked {
  ok: boolean;
  /** The tree, when it was parsed now or is kept (device files keep facts, not trees). */
  root?: PNode;
  diagnostics: Diagnostic[];
  entry: ParseCacheEntry;
}

function parseAndCheck(rel: string, text: string, file: string, isDevice: boolean, cache?: ParseCache, isSite = false): Checked {
  const hit = cache?.get(rel);
  if (hit && hit.text === text) return { ok: !!(hit.root ?? hit.device), root: hit.root, diagnostics: hit.diagnostics, entry: hit };
  const parsed = parseYamlTree(text, file);
  let entry: ParseCacheEntry;
  let root: PNode | undefined;
  if (parsed.diagnostics.length) entry = { text, diagnostics: parsed.diagnostics };
  else {
    root = parsed.root ?? emptyProfile(file);
    if (root.kind !== 'map') entry = { text, diagnostics: [{ code: 'PROFILE', severity: 'error', message: 'a profile must be a YAML map', loc: root.loc }] };
    else {
      const schema = checkProfile(root, isDevice, isSite);
      const ok = !schema.some((d) => d.severity === 'error');
      entry = { text, diagnostics: schema };
      if (ok && isDevice) entry.device = deviceFacts(root);
      else if (ok) entry.root = root;
      if (!ok) root = undefined;
    }
  }
  cache?.set(rel, entry);
  return { ok: !!(entry.root ?? entry.device), root, diagnostics: entry.diagnostics, entry };
}

/** A file that parsed before parses again (the same text): used when derived data is missing. */
function reparse(text: string, file: string): PNode {
  return parseYamlTree(text, file).root ?? emptyProfile(file);
}

/** An empty file is an empty profile. */
function emptyProfile(file: string): PNode {
  return new PMap(new Map(), fixedLoc(at(file)), 0);
}

/** What a device file says about itself, kept instead of its tree. */
export interface DeviceFacts {
  model?: PNode;
  site?: PNode;
  groups?: PNode;
  keys: ReadonlySet<string>;
  authUser?: string;
}

function deviceFacts(root: PNode): DeviceFacts {
  if (root.kind !== 'map') return { keys: new Set() };
  return {
    model: root.entries.get('model')?.node,
    site: root.entries.get('site')?.node,
    groups: root.entries.get('groups')?.node,
    keys: keysOf(root),
    authUser: authUserOf(root),
  };
}

function authUserOf(root: PNode): string | undefined {
  const auth = root.kind === 'map' ? root.entries.get('auth')?.node : undefined;
  const u = auth?.kind === 'map' ? auth.entries.get('user')?.node : undefined;
  return u?.kind === 'scalar' && u.value !== null ? String(u.value) : undefined;
}

/** The mergeable top-level keys. They repeat across thousands of devices: one Set per distinct list. */
const keySets = new Map<string, ReadonlySet<string>>();
function keysOf(tree: PNode): ReadonlySet<string> {
  const keys = tree.kind === 'map' ? [...tree.entries.keys()].filter((k) => !IDENTITY_KEYS.has(k)) : [];
  const id = keys.join('\0');
  let set = keySets.get(id);
  if (!set) {
    if (keySets.size > 1000) keySets.clear();
    keySets.set(id, (set = new Set(keys)));
  }
  return set;
}

function rememberRefs(ctx: Omit<SecretRefContext, 'file'>): Omit<SecretRefContext, 'file'> {
  const seen = new Map<string, string | undefined>();
  const once = (key: string, get: () => string | undefined): string | undefined => {
    if (!seen.has(key)) seen.set(key, get());
    return seen.get(key);
  };
  return { env: (name) => once(`env:${name}`, () => ctx.env(name)), readFile: (rel) => once(`file:${rel}`, () => ctx.readFile(rel)) };
}

/**
 * A small fleet: `serve` validates every device before it starts listening, and the snapshot
 * keeps every parsed device tree (about 2 KB each, so 40 MB at most), so a cold render skips
 * the re-parse, a fifth of its cost.
 */
export const SMALL_FLEET = 20_000;
/**
 * A larger fleet keeps the last few: enough for a phone's files fetched one after another, few
 * enough that a tree dies young. With 1,024, trees under random load lived long enough to be
 * promoted to the old generation: 40% of the heap's growth (100,000 devices, 10 s of load).
 */
const RECENT_DEVICE_TREES = 128;

/**
 * Device trees on demand. At 100,000 devices the parsed trees were most of the server's
 * memory, and copying them through the young generation was a third of start-up. The text is
 * in memory anyway and parses again in ~10 µs, so a device's tree is rebuilt when a render,
 * a check or explain needs it, and the most recent ones are kept (all of them in a fleet of
 * up to SMALL_FLEET).
 */
class DeviceTrees {
  private readonly recent: LRUCache<DeviceProfile, PNode>;
  /** Whether device trees are kept beyond this snapshot (see keptTrees): a small fleet's only. */
  readonly keeps: boolean;
  constructor(
    private readonly refs: Omit<SecretRefContext, 'file'> | undefined,
    devices: number,
  ) {
    this.keeps = devices <= SMALL_FLEET;
    this.recent = new LRUCache({ max: Math.max(1, this.keeps ? devices : RECENT_DEVICE_TREES) });
  }

  treeOf(p: DeviceProfile, text: string): PNode {
    let tree = this.recent.get(p);
    if (!tree) {
      let root = p.facts && keptTrees.get(p.facts);
      if (!root) {
        root = reparse(text, p.ref.file);
        if (p.facts) keptTrees.set(p.facts, root);
      }
      if (this.refs && text.includes('${')) root = resolveSecretRefs(root, { ...this.refs, file: p.ref.file }).tree;
      tree = mergeable(root);
      this.recent.set(p, tree);
    }
    return tree;
  }
}

/**
 * A small fleet's device trees outlive their snapshot, by the facts parsed from the same text
 * (a parse cache keeps those across reloads): every reload re-parsed all 10,000 devices' files
 * for its check. A fleet this small keeps every tree of a snapshot anyway.
 */
const keptTrees = new WeakMap<DeviceFacts, PNode>();

class DeviceProfile implements Profile {
  constructor(
    readonly ref: LayerRef,
    readonly keys: ReadonlySet<string>,
    /** Set in a small fleet: what its kept tree is found by. */
    readonly facts: DeviceFacts | undefined,
    private readonly text: string,
    private readonly trees: DeviceTrees,
  ) {}

  get tree(): PNode {
    return this.trees.treeOf(this, this.text);
  }
}

function mergeable(root: PNode): PNode {
  if (root.kind !== 'map') return root;
  const entries = new Map([...root.entries].filter(([k]) => !IDENTITY_KEYS.has(k)));
  return new PMap(entries, root.src, root.off);
}

function scalarText(n: PNode): string | undefined {
  return n.kind === 'scalar' && n.value !== null ? String(n.value) : undefined;
}

function at(file: string): SourceLoc {
  return { file, line: 1, col: 1 };
}
