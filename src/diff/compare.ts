// What changes between two versions of a config root, device by device: which rendered files
// change and how (secrets masked), grouped by the profile lines that caused it, and which
// firmware directives change. Pure: two snapshots and their input files in, a report out.

import type { Diagnostic } from '../check/diagnostics.js';
import { affectedDevices } from '../snapshot/affected.js';
import { chooseFirmware } from '../render/firmware.js';
import { flattenLeaves, mergeLayers, type EMap, type ENode } from '../config/merge.js';
import { REDACTED } from '../config/redact.js';
import { renderTarget, type RenderTarget } from '../render/render.js';
import { deviceTargets, sharedTargets } from '../pipeline/request.js';
import { layersFor, resolveLayers, subjectOf } from '../config/resolve.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { compareVersions } from '../render/version.js';
import { diffLines, formatHunks, hunks, splitLines, type LineOp } from './lines.js';
import { maskYamlLine } from './mask.js';

/** One version of the root: its snapshot and the inputs it was built from. */
export interface Side {
  label: string;
  snap: Snapshot;
  /** Text files by root-relative path (deskset.yaml, profiles/**, templates/**, release.yaml files). */
  files: ReadonlyMap<string, string>;
  /** Root-relative paths of firmware/ and resources/ files, with their sizes when known. */
  listed: ReadonlyMap<string, number | undefined>;
}

export type Status = 'added' | 'removed' | 'changed';

/** One changed input file and its changed lines (secret values masked). */
export interface InputChange {
  file: string;
  status: Status;
  chunks: CauseChunk[];
}

/** A run of changed lines in one input file: `file:line` of the first line on the new side (or the old, for a deletion). */
export interface CauseChunk {
  file: string;
  line: number;
  /** The first removed line's number in the old version. */
  oldLine: number;
  removed: string[];
  added: string[];
}

export interface FileChange {
  path: string;
  device?: string;
  model?: string;
  status: Status;
  /** Unified diff lines (`@@ …`, ' ', '-', '+'), secrets shown as ••••, or `•••• (changed)`. */
  diff: string[];
  /** True when a secret in the file changed (its value is never shown). */
  secretChanged: boolean;
}

export interface DeviceGroup {
  /** The changed lines that affect every device of the group. */
  cause: CauseChunk[];
  /** Affected devices (MACs), sorted. */
  devices: string[];
  /** Changed files that belong to no device (shared and per-model files), by path. */
  shared: string[];
  files: FileChange[];
}

export interface FirmwareChange {
  model: string;
  from?: string;
  to?: string;
  direction: 'upgrade' | 'downgrade' | 'start' | 'stop';
  devices: string[];
}

export interface DiffReport {
  from: string;
  to: string;
  inputs: InputChange[];
  groups: DeviceGroup[];
  firmware: FirmwareChange[];
  devices: { added: string[]; removed: string[]; changed: string[] };
  files: { added: number; removed: number; changed: number };
  /** Errors of either version (load or render), labelled with the version. */
  errors: Array<Diagnostic & { side: string }>;
  /** How many files were rendered on each side (the cost: only affected devices are rendered twice). */
  rendered: number;
}

/** The input files that differ (text compared, firmware/resources by listing and size). */
export function changedInputs(a: Side, b: Side): Array<{ file: string; status: Status }> {
  const out: Array<{ file: string; status: Status }> = [];
  for (const [map, other] of [[a.files, b.files], [a.listed, b.listed]] as const) {
    const keys = [...new Set([...map.keys(), ...other.keys()])].sort();
    for (const k of keys) {
      const x = map.get(k);
      const y = other.get(k);
      const inA = map.has(k);
      const inB = other.has(k);
      if (inA && !inB) out.push({ file: k, status: 'removed' });
      else if (!inA && inB) out.push({ file: k, status: 'added' });
      else if (x !== y) out.push({ file: k, status: 'changed' });
    }
  }
  return out;
}

const SECRET_CAUSE = '(secret references: ${file:…} or ${env:…} values)';

export function compareSides(a: Side, b: Side): DiffReport {
  const masks = { secrets: new Set([...a.snap.secrets, ...b.snap.secrets]), extraKeys: b.snap.secretKeys ?? a.snap.secretKeys };
  const errors = [
    ...a.snap.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ ...d, side: a.label })),
    ...b.snap.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ ...d, side: b.label })),
  ];
  const changed = changedInputs(a, b);
  // Secret files live outside the read tree; a changed value shows as a changed secret set.
  const secretsMoved = !sameSet(a.snap.secrets, b.snap.secrets);
  // Chunks name files as messages do (clickable from the cwd); inputs keep root-relative paths.
  const inputs: InputChange[] = changed.map((c) => ({ ...c, chunks: inputChunks(b.snap.display(c.file), a.files.get(c.file), b.files.get(c.file), masks) }));
  if (secretsMoved) inputs.push({ file: SECRET_CAUSE, status: 'changed', chunks: [{ file: SECRET_CAUSE, line: 0, oldLine: 0, removed: [], added: [] }] });
  const empty: DiffReport = { from: a.label, to: b.label, inputs, groups: [], firmware: [], devices: { added: [], removed: [], changed: [] }, files: { added: 0, removed: 0, changed: 0 }, errors, rendered: 0 };
  if (inputs.length === 0) return empty;

  // Per changed input, the devices it can reach, on either side (a device that moved site is reached from both).
  const reach = new Map<string, Set<string> | 'all'>();
  for (const c of changed) reach.set(c.file, union(affectedDevices(a.snap, [c.file]), affectedDevices(b.snap, [c.file])));
  if (secretsMoved) reach.set(SECRET_CAUSE, 'all');
  const everyone = new Set([...a.snap.profiles.devices.keys(), ...b.snap.profiles.devices.keys()]);
  const affected = new Set<string>();
  for (const r of reach.values()) for (const m of r === 'all' ? everyone : r) affected.add(m);

  const macs = [...affected].sort();
  const targetsA = byPath([...sharedTargets(a.snap), ...deviceTargets(a.snap, macs)]);
  const targetsB = byPath([...sharedTargets(b.snap), ...deviceTargets(b.snap, macs)]);
  const paths = [...new Set([...targetsA.keys(), ...targetsB.keys()])].sort();
  const fileChanges: FileChange[] = [];
  let rendered = 0;
  const renderOn = (side: Side, t: RenderTarget | undefined, masked: boolean): string | undefined => {
    if (!t) return undefined;
    const r = renderTarget(side.snap.render, t, masked ? { redact: masks } : {});
    if (!masked) {
      rendered++;
      for (const d of r.diagnostics) if (d.severity === 'error') errors.push({ ...d, side: side.label });
    }
    return r.rendered?.text;
  };
  for (const p of paths) {
    const ta = targetsA.get(p);
    const tb = targetsB.get(p);
    const rawA = renderOn(a, ta, false);
    const rawB = renderOn(b, tb, false);
    if (rawA === rawB) continue;
    // A file that failed to render is an error (already recorded), not an added or removed file.
    if ((ta && rawA === undefined) || (tb && rawB === undefined)) continue;
    const t = (tb ?? ta)!;
    const status: Status = rawA === undefined ? 'added' : rawB === undefined ? 'removed' : 'changed';
    const fc = fileDiff(rawA ?? '', rawB ?? '', renderOn(a, ta, true) ?? '', renderOn(b, tb, true) ?? '');
    fileChanges.push({ path: p, device: t.subject?.known ? t.subject.mac : undefined, model: (t.subject?.model ?? t.model)?.name, status, ...fc });
  }

  // Group the changed files by cause: per device, the chunks of the inputs that reach it,
  // narrowed by provenance to the chunks whose lines its merged values come from.
  const groups = new Map<string, DeviceGroup>();
  const chunkId = new Map<CauseChunk, number>();
  inputs.forEach((i) => i.chunks.forEach((c) => chunkId.set(c, chunkId.size)));
  const secretChangedFor = new Set(fileChanges.filter((f) => f.secretChanged).map((f) => f.device ?? f.path));
  for (const fc of fileChanges) {
    // A changed secret value is a cause only where a file shows one changed.
    const relevant = inputs.filter((i) => i.file !== SECRET_CAUSE || secretChangedFor.has(fc.device ?? fc.path));
    const cause = fc.device ? deviceCause(fc.device, relevant, reach, a, b) : relevant.filter((i) => !isDeviceFile(i.file)).flatMap((i) => i.chunks);
    const key = cause.map((c) => chunkId.get(c)).join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { cause, devices: [], shared: [], files: [] }));
    if (!fc.device) g.shared.push(fc.path);
    else g.devices.push(fc.device);
    g.files.push(fc);
  }
  for (const g of groups.values()) g.devices = [...new Set(g.devices)].sort();
  const devA = a.snap.profiles.devices;
  const devB = b.snap.profiles.devices;
  const changedDevices = new Set(fileChanges.flatMap((f) => (f.device ? [f.device] : [])));
  return {
    ...empty,
    groups: [...groups.values()].sort((x, y) => y.devices.length - x.devices.length || y.files.length - x.files.length || (x.files[0]!.path < y.files[0]!.path ? -1 : 1)),
    firmware: firmwareChanges(a, b, macs.filter((m) => devA.has(m) && devB.has(m))),
    devices: {
      added: [...devB.keys()].filter((m) => !devA.has(m)).sort(),
      removed: [...devA.keys()].filter((m) => !devB.has(m)).sort(),
      changed: [...changedDevices].filter((m) => devA.has(m) && devB.has(m)).sort(),
    },
    files: { added: count(fileChanges, 'added'), removed: count(fileChanges, 'removed'), changed: count(fileChanges, 'changed') },
    rendered,
  };
}

const count = (fs: FileChange[], s: Status) => fs.filter((f) => f.status === s).length;
const isDeviceFile = (f: string) => f.startsWith('profiles/devices/');

function sameSet(x: ReadonlySet<string>, y: ReadonlySet<string>): boolean {
  if (x.size !== y.size) return false;
  for (const v of x) if (!y.has(v)) return false;
  return true;
}

function union(x: Set<string> | 'all', y: Set<string> | 'all'): Set<string> | 'all' {
  return x === 'all' || y === 'all' ? 'all' : new Set([...x, ...y]);
}

function byPath(ts: RenderTarget[]): Map<string, RenderTarget> {
  return new Map(ts.map((t) => [t.path, t]));
}

/** The changed lines of one input file, as chunks without context; YAML secret values masked. */
export function inputChunks(file: string, a: string | undefined, b: string | undefined, masks: { secrets: ReadonlySet<string>; extraKeys?: RegExp }): CauseChunk[] {
  if (a === undefined && b === undefined) return [{ file, line: 0, oldLine: 0, removed: [], added: [] }]; // a listed file (firmware, resources)
  const show = (l: string) => maskYamlLine(l, masks.secrets, masks.extraKeys);
  const out: CauseChunk[] = [];
  for (const h of hunks(diffLines(splitLines(a ?? ''), splitLines(b ?? '')), 0)) {
    const removed = h.ops.filter((o) => o.kind === 'del').map((o) => show(o.text));
    const added = h.ops.filter((o) => o.kind === 'add').map((o) => show(o.text));
    out.push({ file, line: h.bLines ? h.bStart : h.aStart, oldLine: h.aStart, removed, added });
  }
  // A file whose only change is its line endings still changed.
  return out.length ? out : [{ file, line: 1, oldLine: 1, removed: [], added: [] }];
}

/**
 * The chunks that explain why a device's files changed: those of every input that reaches it,
 * but of a shared profile layer (global, model, group, site) only the chunks holding a line one
 * of its values (or removals) came from, on either side. A global edit that a site overrides
 * is no cause for that site's phones. When provenance names nothing, every reaching chunk is
 * shown rather than none.
 */
function deviceCause(mac: string, inputs: InputChange[], reach: Map<string, Set<string> | 'all'>, a: Side, b: Side): CauseChunk[] {
  const out: CauseChunk[] = [];
  const all: CauseChunk[] = [];
  let lines: { a: Map<string, Set<number>>; b: Map<string, Set<number>> } | undefined;
  for (const i of inputs) {
    const r = reach.get(i.file);
    if (r !== 'all' && !r?.has(mac)) continue;
    all.push(...i.chunks);
    if (!i.file.startsWith('profiles/') || isDeviceFile(i.file) || i.status !== 'changed') {
      out.push(...i.chunks);
      continue;
    }
    lines ??= { a: originLines(a, mac), b: originLines(b, mac) };
    const fromA = lines.a.get(i.file);
    const fromB = lines.b.get(i.file);
    out.push(...i.chunks.filter((c) => within(fromB, c.line, c.added.length) || within(fromA, c.oldLine, c.removed.length)));
  }
  return out.length ? out : all;
}

function within(lines: Set<number> | undefined, start: number, n: number): boolean {
  if (!lines) return false;
  for (let l = start; l < start + Math.max(n, 1); l++) if (lines.has(l)) return true;
  return false;
}

/** Lines (per root-relative file) that a device's merged values and removals were written on. */
function originLines(side: Side, mac: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  const d = side.snap.profiles.devices.get(mac);
  if (!d) return out;
  const eff = resolveLayers(layersFor(side.snap.profiles, side.snap.config.layers, subjectOf(d)), true);
  const rel = relativeTo(side.snap);
  const add = (file: string, line: number) => {
    const f = rel(file);
    let s = out.get(f);
    if (!s) out.set(f, (s = new Set()));
    s.add(line);
  };
  for (const { leaf } of flattenLeaves(eff)) {
    add(leaf.origin.loc.file, leaf.origin.loc.line);
    add(leaf.origin.loc.file, leaf.origin.valueLoc.line);
  }
  const removals = (n: ENode): void => {
    if (n.kind !== 'map') return;
    for (const r of n.removed) add(r.origin.loc.file, r.origin.loc.line);
    for (const c of n.children.values()) removals(c);
  };
  removals(eff as EMap);
  return out;
}

/** Display name → root-relative path (display prefixes the root's path as seen from the cwd). */
function relativeTo(snap: Snapshot): (file: string) => string {
  const prefix = snap.display('deskset.yaml').slice(0, -'deskset.yaml'.length);
  return (f) => (f.startsWith(prefix) ? f.slice(prefix.length) : f);
}

/**
 * The unified diff of one rendered file, secrets masked. Lines are matched on the real text
 * (so a changed secret is seen) and shown from the masked render; an added line whose masked
 * text equals a removed one's is a changed secret: `•••• (changed)`.
 */
export function fileDiff(rawA: string, rawB: string, maskedA: string, maskedB: string): { diff: string[]; secretChanged: boolean } {
  const [ra, rb, ma, mb] = [rawA, rawB, maskedA, maskedB].map(splitLines) as [string[], string[], string[], string[]];
  if (ra.length !== ma.length || rb.length !== mb.length) {
    // A secret spanning lines: diff the masked texts; the real ones only say whether anything else changed.
    const hs = hunks(diffLines(ma, mb));
    const secretChanged = maskedA === maskedB || ma.length !== ra.length || mb.length !== rb.length;
    return { diff: [...formatHunks(hs), ...(maskedA === maskedB ? [` ${REDACTED} (changed)`] : [])], secretChanged };
  }
  let secretChanged = false;
  const hs = hunks(diffLines(ra, rb));
  const show = (o: LineOp, removedHere: ReadonlySet<string>): string => {
    if (o.kind === 'del') return ma[o.a - 1]!;
    const m = o.kind === 'add' ? mb[o.b - 1]! : mb[o.b - 1]!;
    if (o.kind === 'add' && m.includes(REDACTED) && removedHere.has(m)) {
      secretChanged = true;
      return m.replaceAll(REDACTED, `${REDACTED} (changed)`);
    }
    return m;
  };
  const lines: string[] = [];
  for (const h of hs) {
    const removedHere = new Set(h.ops.flatMap((o) => (o.kind === 'del' ? [ma[o.a - 1]!] : [])));
    lines.push(...formatHunks([h], (o) => show(o, removedHere)));
  }
  return { diff: lines, secretChanged };
}

/** Devices whose firmware directive changes, grouped by model and versions. */
function firmwareChanges(a: Side, b: Side, macs: readonly string[]): FirmwareChange[] {
  const groups = new Map<string, FirmwareChange>();
  const choice = (side: Side, mac: string): string | undefined => {
    const d = side.snap.profiles.devices.get(mac)!;
    if (side.snap.firmware.releases.length === 0) return undefined;
    const layers = layersFor(side.snap.profiles, side.snap.config.layers, subjectOf(d));
    return chooseFirmware(side.snap.firmware, mergeLayers(layers, ['firmware']), d.model, side.snap.config.publicUrl, side.snap.config.layers).version;
  };
  for (const mac of macs) {
    const from = choice(a, mac);
    const to = choice(b, mac);
    if (from === to) continue;
    const model = b.snap.profiles.devices.get(mac)!.model.name;
    const direction = from === undefined ? 'start' : to === undefined ? 'stop' : compareVersions(to, from) > 0 ? 'upgrade' : 'downgrade';
    const key = `${model}\0${from}\0${to}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { model, from, to, direction, devices: [] }));
    g.devices.push(mac);
  }
  return [...groups.values()].sort((x, y) => y.devices.length - x.devices.length || x.model.localeCompare(y.model));
}
