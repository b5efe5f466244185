// Turn the profile files of a config root into layers: global, per model, per group,
// per site and per device. Pure: takes file texts, returns profiles and diagnostics.

import type { Diagnostic, SourceLoc } from './diagnostics.js';
import { normalizeMac } from './mac.js';
import type { LayerKind, LayerRef } from './merge.js';
import { checkProfile } from './profile-schema.js';
import { isSecretRef, resolveSecretRefs, type SecretRefContext } from './secret-refs.js';
import { isSecretKey } from './redact.js';
import type { ModelCatalog, ModelInfo } from './vendors.js';
import { fixedLoc, parseYamlTree, PMap, type PNode } from './yaml-tree.js';

export interface Profile {
  ref: LayerRef;
  /** The mergeable part: the profile minus its identity keys. */
  tree: PNode;
}

export interface DeviceEntry {
  mac: string;
  model: ModelInfo;
  site?: string;
  groups: string[];
  profile: Profile;
}

export interface ProfileSet {
  global?: Profile;
  models: Map<string, Profile>;
  groups: Map<string, Profile>;
  sites: Map<string, Profile>;
  devices: Map<string, DeviceEntry>;
}

/** Every profile of every layer, global first. */
export function allProfiles(profiles: ProfileSet): Profile[] {
  const out: Profile[] = profiles.global ? [profiles.global] : [];
  for (const m of [profiles.models, profiles.groups, profiles.sites]) for (const p of m.values()) out.push(p);
  for (const d of profiles.devices.values()) out.push(d.profile);
  return out;
}

/** Keys that say who a device is; they are not merged. */
const IDENTITY_KEYS = new Set(['model', 'site', 'groups', 'description']);

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
  root?: PNode;
  diagnostics: Diagnostic[];
  /** Derived once per text: passwords typed as text, and values at secret-looking keys. */
  plaintext?: PlaintextSecret[];
  keySecrets?: { pattern: string; values: string[] };
}

export function loadProfiles(
  files: ReadonlyMap<string, string>,
  catalog: ModelCatalog,
  display: (rel: string) => string = (r) => r,
  cache?: ParseCache,
  secretRefs?: Omit<SecretRefContext, 'file'>,
  extraSecretKeys?: RegExp,
): { profiles: ProfileSet; diagnostics: Diagnostic[]; secrets: Set<string>; plaintextSecrets: PlaintextSecret[] } {
  // Every value to mask in output: resolved references and values at secret-looking keys.
  const secrets = new Set<string>();
  const plaintextSecrets: PlaintextSecret[] = [];
  const diagnostics: Diagnostic[] = [];
  const profiles: ProfileSet = { models: new Map(), groups: new Map(), sites: new Map(), devices: new Map() };
  const deviceFiles = new Map<string, string>();
  const pending: Array<{ kind: LayerKind; name: string; file: string; root: PNode }> = [];
  // Files that exist but failed to load: a device naming one is not told it "does not exist".
  const broken = { site: new Set<string>(), group: new Set<string>() };

  for (const [rel, text] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!rel.startsWith('profiles/')) continue;
    const file = display(rel);
    if (!/\.ya?ml$/i.test(file)) {
      diagnostics.push({ code: 'PROFILE_NOT_YAML', severity: 'warning', message: 'ignored: profile files end in .yaml', loc: at(file) });
      continue;
    }
    const base = rel.replace(/^.*\//, '').replace(/\.ya?ml$/i, '');
    let kind: LayerKind | undefined;
    if (rel === 'profiles/global.yaml' || rel === 'profiles/global.yml') kind = 'global';
    for (const [k, dir] of DIRS) {
      if (rel.startsWith(dir) && !rel.slice(dir.length).includes('/')) kind = k;
    }
    if (!kind) {
      diagnostics.push({ code: 'PROFILE_PLACE', severity: 'error', message: 'not a known profile location (profiles/global.yaml, profiles/{models,groups,sites,devices}/<name>.yaml)', loc: at(file) });
      continue;
    }
    const checked = parseAndCheck(rel, text, file, kind === 'device', cache);
    diagnostics.push(...checked.diagnostics);
    if (!checked.root) {
      if (kind === 'site' || kind === 'group') broken[kind].add(base);
      continue;
    }
    let root = checked.root;
    // Derived data is cached with the parse: a reload of 10,000 devices walks one tree, not all.
    const entry: Partial<ParseCacheEntry> = cache?.get(rel) ?? {};
    entry.plaintext ??= findPlaintextSecrets(root, '', rel, []);
    for (const p of entry.plaintext) plaintextSecrets.push(p);
    // ${env:…} / ${file:…} are resolved on every build (the environment or the file may have
    // changed); the text test keeps files without references free of the walk.
    if (secretRefs && text.includes('${')) {
      const r = resolveSecretRefs(root, { ...secretRefs, file });
      diagnostics.push(...r.diagnostics);
      if (r.diagnostics.some((d) => d.severity === 'error')) {
        if (kind === 'site' || kind === 'group') broken[kind].add(base);
        continue;
      }
      for (const v of r.secrets) secrets.add(v);
      root = r.tree;
      for (const v of keySecretValues(root, extraSecretKeys)) secrets.add(v);
    } else {
      const pattern = extraSecretKeys?.source ?? '';
      if (entry.keySecrets?.pattern !== pattern) entry.keySecrets = { pattern, values: keySecretValues(root, extraSecretKeys) };
      for (const v of entry.keySecrets.values) secrets.add(v);
    }

    let name = base;
    if (kind === 'device') {
      const mac = normalizeMac(base);
      if (!mac) {
        diagnostics.push({ code: 'DEVICE_FILE_NAME', severity: 'error', message: `device file name "${base}" is not a MAC address (12 hex digits, e.g. 0004f2a1b2c3.yaml)`, loc: at(file) });
        continue;
      }
      const prev = deviceFiles.get(mac);
      if (prev) {
        diagnostics.push({ code: 'DUPLICATE_MAC', severity: 'error', message: `MAC ${mac} is defined twice (also in ${prev})`, loc: at(file) });
        continue;
      }
      deviceFiles.set(mac, file);
      name = mac;
    } else if (kind === 'model') {
      const m = catalog.find(base);
      if (!m) {
        diagnostics.push({ code: 'UNKNOWN_MODEL', severity: 'error', message: `model profile for unknown model "${base}"; known models: ${catalog.names().join(', ')}`, loc: at(file) });
        continue;
      }
      if (profiles.models.has(m.name)) {
        diagnostics.push({ code: 'DUPLICATE_PROFILE', severity: 'error', message: `model ${m.name} has two profile files`, loc: at(file) });
        continue;
      }
      name = m.name;
    }
    pending.push({ kind, name, file, root });
  }

  for (const p of pending) {
    const profile: Profile = { ref: { kind: p.kind, name: p.name, file: p.file }, tree: mergeable(p.root) };
    if (p.kind === 'global') profiles.global = profile;
    else if (p.kind === 'model') profiles.models.set(p.name, profile);
    else if (p.kind === 'group') profiles.groups.set(p.name, profile);
    else if (p.kind === 'site') profiles.sites.set(p.name, profile);
  }

  for (const p of pending.filter((x) => x.kind === 'device')) {
    if (p.root.kind !== 'map') continue;
    const modelNode = p.root.entries.get('model')!.node;
    const modelName = scalarText(modelNode);
    const model = modelName === undefined ? undefined : catalog.find(modelName);
    if (!model) {
      diagnostics.push({ code: 'UNKNOWN_MODEL', severity: 'error', message: modelName === undefined ? 'model is missing' : `unknown model "${modelName}"; known models: ${catalog.names().join(', ')}`, loc: modelNode.loc });
      continue;
    }
    let ok = true;
    const siteNode = p.root.entries.get('site')?.node;
    const site = siteNode ? scalarText(siteNode) : undefined;
    if (siteNode && site !== undefined && !profiles.sites.has(site)) {
      ok = false;
      if (!broken.site.has(site)) diagnostics.push({ code: 'UNKNOWN_SITE', severity: 'error', message: `site "${site}" does not exist (no profiles/sites/${site}.yaml); known sites: ${[...profiles.sites.keys()].join(', ') || 'none'}`, loc: siteNode.loc });
    }
    const groups: string[] = [];
    const groupsNode = p.root.entries.get('groups')?.node;
    if (groupsNode?.kind === 'list') {
      for (const g of groupsNode.items) {
        const name = scalarText(g);
        if (name === undefined) continue;
        if (!profiles.groups.has(name)) {
          ok = false;
          if (!broken.group.has(name)) diagnostics.push({ code: 'UNKNOWN_GROUP', severity: 'error', message: `group "${name}" does not exist (no profiles/groups/${name}.yaml); known groups: ${[...profiles.groups.keys()].join(', ') || 'none'}`, loc: g.loc });
        }
        groups.push(name);
      }
    }
    if (!ok) continue;
    profiles.devices.set(p.name, {
      mac: p.name,
      model,
      site: site ?? undefined,
      groups,
      profile: { ref: { kind: 'device', name: p.name, file: p.file }, tree: mergeable(p.root) },
    });
  }
  return { profiles, diagnostics, secrets, plaintextSecrets };
}

/** A password typed into a profile as text (not a ${…} reference, not a scrypt hash). */
export interface PlaintextSecret {
  /** Root-relative file, for asking git whether it is tracked. */
  rel: string;
  key: string;
  /** Where the value is; a getter, so 100,000 device files do not each keep a position. */
  readonly loc: SourceLoc;
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

function parseAndCheck(rel: string, text: string, file: string, isDevice: boolean, cache?: ParseCache): { root?: PNode; diagnostics: Diagnostic[] } {
  const hit = cache?.get(rel);
  if (hit && hit.text === text) return hit;
  const result = ((): { root?: PNode; diagnostics: Diagnostic[] } => {
    const parsed = parseYamlTree(text, file);
    if (parsed.diagnostics.length) return { diagnostics: parsed.diagnostics };
    const root: PNode = parsed.root ?? new PMap(new Map(), fixedLoc(at(file)), 0);
    if (root.kind !== 'map') return { diagnostics: [{ code: 'PROFILE', severity: 'error', message: 'a profile must be a YAML map', loc: root.loc }] };
    const schema = checkProfile(root, isDevice);
    return { root: schema.some((d) => d.severity === 'error') ? undefined : root, diagnostics: schema };
  })();
  cache?.set(rel, { text, ...result });
  return result;
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
