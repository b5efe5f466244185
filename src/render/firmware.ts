// Firmware catalog and policy, the way Avaya DES does it: releases live on disk under
// firmware/<vendor>/<version>/, each serving some models; a per-model policy merged
// through the layers (latest | off | pinned) picks the image a phone is told to load.
// Generated upgrade directives come only from here, so they always agree with the disk.

import { unknownNameHint } from '../check/suggest.js';
import { formatLoc, type Diagnostic, type SourceLoc } from '../check/diagnostics.js';
import { LAYER_KINDS, type EMap, type ENode, type LayerKind } from '../config/merge.js';
import { compareVersions } from './version.js';
import { modelKey, type ModelCatalog, type ModelInfo, type VendorManifest } from '../vendors/manifest.js';
import { parseYamlTree, toPlain } from '../config/yaml-tree.js';
import { checkShape, mapOf, openMap, str } from '../config/shape.js';

export interface Release {
  vendor: string;
  version: string;
  /** `firmware/<vendor>/<version>` */
  dir: string;
  /** Image file name per model name. */
  images: Map<string, string>;
  /** release.yaml, or the directory when the convention applied. */
  source: string;
}

export interface FirmwareCatalog {
  releases: Release[];
  /** Newest first. */
  forModel(model: string): Release[];
}

export type Policy = 'latest' | 'off' | 'pinned';

export interface FirmwareChoice {
  policy: Policy;
  version?: string;
  file?: string;
  /** Path relative to the served root: `firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin`. */
  path?: string;
  /** Absolute URL, when the root declares its public_url (Yealink needs one). */
  url?: string;
  /** Why: which keys decided, for explain and `deskset firmware`. */
  reason: string;
  /** Where the deciding policy/version keys were written. */
  setAt: SourceLoc[];
  /** When the policy cannot be met (pinned version missing): the problem. */
  problem?: string;
}

const releaseShape = mapOf({ models: openMap(str), notes: str });

/**
 * Build the catalog from the list of files under firmware/ (paths relative to the root)
 * and the texts of release.yaml files. Vendor manifests' `firmware.file_patterns` say
 * which model an image serves when there is no release.yaml.
 */
export interface Servable {
  /** Extensions served (lowercase, no dot). */
  extensions: ReadonlySet<string>;
  maxBytes: number;
  /** Size of a firmware file, when known. */
  sizeOf: (path: string) => number | undefined;
}

export function buildFirmwareCatalog(
  files: readonly string[],
  releaseTexts: ReadonlyMap<string, string>,
  vendors: readonly VendorManifest[],
  catalog: ModelCatalog,
  display: (rel: string) => string = (r) => r,
  servable?: Servable,
): { firmware: FirmwareCatalog; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const m = /^firmware\/([^/]+)\/([^/]+)\/(.+)$/.exec(f);
    if (!m) {
      diagnostics.push({ code: 'FIRMWARE_LAYOUT', severity: 'warning', message: 'firmware files go in firmware/<vendor>/<version>/; this one is ignored', loc: { file: display(f), line: 1, col: 1 } });
      continue;
    }
    const dir = `firmware/${m[1]}/${m[2]}`;
    byDir.set(dir, [...(byDir.get(dir) ?? []), m[3]!]);
  }
  const releases: Release[] = [];
  for (const [dir, names] of [...byDir].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [, vendorName, version] = dir.split('/') as [string, string, string];
    const vendor = vendors.find((v) => v.vendor === vendorName);
    const at: SourceLoc = { file: display(dir), line: 1, col: 1 };
    if (!vendor) {
      diagnostics.push({ code: 'FIRMWARE_VENDOR', severity: 'error', message: `unknown vendor "${vendorName}" (known: ${vendors.map((v) => v.vendor).join(', ')})`, loc: at });
      continue;
    }
    const images = new Map<string, string>();
    const yamlPath = names.includes('release.yaml') ? `${dir}/release.yaml` : undefined;
    const text = yamlPath ? releaseTexts.get(yamlPath) : undefined;
    if (yamlPath && text !== undefined) {
      const parsed = parseYamlTree(text, display(yamlPath));
      const problems = parsed.root ? checkShape(parsed.root, releaseShape, '', 'RELEASE') : parsed.diagnostics;
      diagnostics.push(...problems);
      if (problems.length || !parsed.root) continue;
      const raw = toPlain(parsed.root) as { models?: Record<string, string> };
      for (const [modelName, image] of Object.entries(raw.models ?? {})) {
        const model = catalog.find(modelName);
        const loc = locOfKey(parsed.root, ['models', modelName]) ?? at;
        if (!model || model.vendor !== vendor.vendor) {
          diagnostics.push({ code: 'FIRMWARE_UNKNOWN_MODEL', severity: 'error', message: `release names unknown ${vendor.vendor} model "${modelName}"${unknownNameHint(modelName, vendor.models.map((m) => m.name), `${vendor.vendor} models`)}`, loc });
          continue;
        }
        if (!names.includes(image)) {
          diagnostics.push({ code: 'FIRMWARE_IMAGE_MISSING', severity: 'error', message: `${model.name}: image ${image} is not in ${dir}`, loc });
          continue;
        }
        images.set(model.name, image);
      }
    } else {
      for (const name of names) for (const m of modelsForImage(name, vendor, catalog)) if (!images.has(m.name)) images.set(m.name, name);
    }
    // An image the server would refuse (extension not served, over the size cap) must never be
    // named in an upgrade directive: the phone would fail to fetch it on every boot.
    const before = images.size;
    if (servable) {
      for (const [m, image] of [...images]) {
        const p = `${dir}/${image}`;
        const ext = /\.([A-Za-z0-9]+)$/.exec(image)?.[1]?.toLowerCase() ?? '';
        const size = servable.sizeOf(p);
        const why = !servable.extensions.has(ext) ? `its extension .${ext} is not in files.extensions` : size !== undefined && size > servable.maxBytes ? `it is ${size} bytes, over files.max_bytes (${servable.maxBytes})` : undefined;
        if (why) {
          diagnostics.push({ code: 'FIRMWARE_NOT_SERVABLE', severity: 'warning', message: `${p} (for ${m}) cannot be served: ${why}`, loc: { file: display(p), line: 1, col: 1 } });
          images.delete(m);
        }
      }
      // Everything it served was refused (and reported): nothing more to say about it.
      if (before > 0 && images.size === 0) continue;
    }
    if (images.size === 0) {
      diagnostics.push({ code: 'FIRMWARE_NO_MODEL', severity: 'error', message: `release ${vendorName} ${version} serves no known model (name images as the vendor does, or add a release.yaml mapping models to images)`, loc: yamlPath ? { file: display(yamlPath), line: 1, col: 1 } : at });
      continue;
    }
    releases.push({ vendor: vendorName, version, dir, images, source: display(yamlPath ?? dir) });
  }
  const byModel = new Map<string, Release[]>();
  for (const r of releases) for (const m of r.images.keys()) byModel.set(m, [...(byModel.get(m) ?? []), r]);
  for (const list of byModel.values()) list.sort((a, b) => compareVersions(b.version, a.version));
  return { firmware: { releases, forModel: (m) => byModel.get(m) ?? [] }, diagnostics };
}

function modelsForImage(name: string, vendor: VendorManifest, catalog: ModelCatalog): ModelInfo[] {
  for (const p of vendor.firmwarePatterns) {
    const m = p.regex.exec(name);
    if (!m) continue;
    if (p.all) return vendor.models;
    const g = m.groups ?? {};
    if (g.model) return [catalog.find(g.model)].filter((x): x is ModelInfo => x?.vendor === vendor.vendor);
    if (g.models) {
      return g.models
        .split(/[(),]/)
        .filter(Boolean)
        .map((n) => catalog.find(n))
        .filter((x): x is ModelInfo => x?.vendor === vendor.vendor);
    }
    // Any other group names a catalog field: `part` -> the model whose part number it is.
    const [field, value] = Object.entries(g).find(([, v]) => v !== undefined) ?? [];
    if (field) return vendor.models.filter((mm) => String(mm.fields[field]) === value);
  }
  return [];
}

function locOfKey(root: import('../config/yaml-tree.js').PNode, path: string[]): SourceLoc | undefined {
  let n = root;
  let loc: SourceLoc | undefined;
  for (const k of path) {
    if (n.kind !== 'map') return undefined;
    const e = n.entries.get(k);
    if (!e) return undefined;
    loc = e.keyLoc;
    n = e.node;
  }
  return loc;
}

/**
 * The policy for one model from a merged tree. Like every other value it follows the layer
 * order: whichever of `firmware.models.<model>` and the general `firmware.policy`/`version`
 * was set in the more specific layer wins (a device's `policy: off` beats a site's pin); in
 * the same layer the per-model entry wins. A key the winner leaves unset comes from the other.
 * The default, with no policy anywhere, is `off`: nothing upgrades until an admin says so.
 */
export function choosePolicy(effective: EMap, model: ModelInfo, layerOrder: readonly LayerKind[] = LAYER_KINDS): { policy: Policy; version?: string; setAt: SourceLoc[]; reason: string } {
  const leaf = (path: string[]): { value: unknown; loc: SourceLoc; rank: number } | undefined => {
    let n: ENode | undefined = effective;
    for (const k of path) n = n?.kind === 'map' ? n.children.get(k) : undefined;
    if (!n || n.kind !== 'leaf') return undefined;
    return { value: toPlain(n.node), loc: n.origin.loc, rank: layerOrder.indexOf(n.origin.layer.kind) };
  };
  // Keys under firmware.models are compared like model names everywhere (j179, VVX_450,
  // an alias such as T53 for T53W); when several name this model, the most specific layer wins.
  const names = new Set([model.name, ...model.aliases].map(modelKey));
  const models = effective.children.get('firmware');
  const perModel = models?.kind === 'map' ? models.children.get('models') : undefined;
  let best: { key: string; policy?: ReturnType<typeof leaf>; version?: ReturnType<typeof leaf>; rank: number } | undefined;
  if (perModel?.kind === 'map') {
    for (const key of perModel.children.keys()) {
      if (!names.has(modelKey(key))) continue;
      const policy = leaf(['firmware', 'models', key, 'policy']);
      const version = leaf(['firmware', 'models', key, 'version']);
      const rank = Math.max(policy?.rank ?? -1, version?.rank ?? -1);
      if (!best || rank >= best.rank) best = { key, policy, version, rank };
    }
  }
  const general = { policy: leaf(['firmware', 'policy']), version: leaf(['firmware', 'version']), rank: -1 };
  general.rank = Math.max(general.policy?.rank ?? -1, general.version?.rank ?? -1);
  const perModelKeys = best ? { policy: best.policy, version: best.version } : { policy: undefined, version: undefined };
  const [first, second] = best && best.rank >= general.rank ? [perModelKeys, general] : [general, perModelKeys];
  const p = first.policy ?? second.policy;
  // A version goes with the policy it was written beside: a winner that sets a policy but no version takes none.
  const v = first.version ?? (first.policy ? undefined : second.version);
  const policy = (p?.value as Policy | undefined) ?? 'off';
  const setAt = [p?.loc, v?.loc].filter((x): x is SourceLoc => !!x);
  const from = best && p === best.policy ? `firmware.models.${best.key}.policy` : 'firmware.policy';
  const reason = p ? `policy ${policy} from ${from}` : 'no firmware policy set (default off)';
  return { policy, version: v?.value === undefined ? undefined : String(v.value), setAt, reason };
}

export function chooseFirmware(fw: FirmwareCatalog, effective: EMap, model: ModelInfo, publicUrl?: string, layerOrder?: readonly LayerKind[]): FirmwareChoice {
  const pol = choosePolicy(effective, model, layerOrder);
  const releases = fw.forModel(model.name);
  let release: Release | undefined;
  let problem: string | undefined;
  if (pol.policy === 'latest') {
    release = releases[0];
    if (!release) problem = undefined; // nothing on disk: nothing to say, not an error
  } else if (pol.policy === 'pinned') {
    if (!pol.version) problem = `policy pinned for ${model.name} but no version given`;
    else {
      release = releases.find((r) => r.version === pol.version);
      if (!release) problem = `pinned version ${pol.version} for ${model.name} is not on disk (have: ${releases.map((r) => r.version).join(', ') || 'none'})`;
    }
  }
  if (!release) return { policy: pol.policy, version: pol.version, reason: pol.reason, setAt: pol.setAt, problem };
  const file = release.images.get(model.name)!;
  const path = `${release.dir}/${file}`;
  const url = publicUrl ? `${publicUrl.replace(/\/+$/, '')}/${path.split('/').map(encodeURIComponent).join('/')}` : undefined;
  return { policy: pol.policy, version: release.version, file, path, url, reason: `${pol.reason}: ${release.version}`, setAt: pol.setAt };
}

/** One line for people: what the device installs and which keys, written where, decided it. */
export function describeFirmware(c: FirmwareChoice): string {
  const what = c.problem ? `ERROR ${c.problem}` : c.path ? `${c.version} (${c.path}), ${c.reason}` : `no upgrade, ${c.reason}`;
  return c.setAt.length ? `${what}  (${c.setAt.map(formatLoc).join(', ')})` : what;
}
