// Bindings made by codes, as devices of a snapshot: an activation code makes the phone its
// placeholder under its own MAC; an enrollment code makes it a device of the code's site and
// groups with the model its User-Agent named. A device file in git always wins. Pure.

import type { Diagnostic } from '../check/diagnostics.js';
import { fixedLoc, PMap } from '../config/yaml-tree.js';
import type { DeviceEntry, Profile, ProfileSet } from '../config/profiles.js';
import type { ModelCatalog } from '../vendors/manifest.js';
import type { CodeKind } from './codes.js';

export type BindingState = 'enrolled' | 'adopted' | 'released';

export interface Binding {
  mac: string;
  codeId: string;
  /** The code's last four digits, for `explain` and lists (never the whole code). */
  tail: string;
  kind: CodeKind;
  /** Activation: the placeholder the phone became. */
  placeholder?: string;
  /** Enrollment: the site and groups the code admits into. */
  site?: string;
  groups: string[];
  /** The model the phone's User-Agent named when it redeemed. */
  model?: string;
  boundAt: string;
  boundFrom: string;
  state: BindingState;
  /** The digest of the code the phone redeemed with: its credential until it is adopted. */
  codeHash: string;
}

export interface BoundDevices {
  devices: DeviceEntry[];
  /** Bindings that cannot apply (placeholder or site gone, model unknown), and files that win over a binding. */
  diagnostics: Diagnostic[];
}

/** The devices that `enrolled` bindings add to a snapshot whose profiles are `profiles`. */
export function boundDevices(profiles: ProfileSet, catalog: ModelCatalog, bindings: Iterable<Binding>): BoundDevices {
  const devices: DeviceEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const b of bindings) {
    if (b.state !== 'enrolled') continue;
    const file = profiles.devices.get(b.mac);
    if (file) {
      diagnostics.push({ code: 'BINDING_SHADOWED', severity: 'warning', message: `${b.mac} is bound by ${describeCode(b)}, but ${file.profile.ref.file} exists and wins; run \`deskset devices adopt\` to mark the binding adopted`, device: b.mac, loc: { file: file.profile.ref.file, line: 1, col: 1 } });
      continue;
    }
    if (b.kind === 'activation') {
      const p = b.placeholder === undefined ? undefined : profiles.placeholders.get(b.placeholder);
      if (!p) {
        diagnostics.push({ code: 'BINDING_ORPHANED', severity: 'warning', message: `${b.mac} is bound to placeholder "${b.placeholder}", which no longer exists: the phone is served as an unknown device`, device: b.mac });
        continue;
      }
      devices.push({ ...p, mac: b.mac, placeholder: b.placeholder });
      continue;
    }
    const model = b.model === undefined ? undefined : catalog.find(b.model);
    if (!model) {
      diagnostics.push({ code: 'BINDING_ORPHANED', severity: 'warning', message: `${b.mac} enrolled as model "${b.model}", which the catalog does not know`, device: b.mac });
      continue;
    }
    if (b.site !== undefined && !profiles.sites.has(b.site)) {
      diagnostics.push({ code: 'BINDING_ORPHANED', severity: 'warning', message: `${b.mac} enrolled into site "${b.site}", which no longer exists`, device: b.mac });
      continue;
    }
    const groups = b.groups.filter((g) => profiles.groups.has(g));
    devices.push({ mac: b.mac, model, site: b.site, groups, profile: enrolledProfile(b) });
  }
  return { devices, diagnostics };
}

/** `activation code …1234`: how a binding's code is named anywhere a person reads it. */
export function describeCode(b: Pick<Binding, 'kind' | 'tail'>): string {
  return `${b.kind} code …${b.tail}`;
}

/** An enrolled phone has no settings of its own: its device layer is empty, and says where it came from. */
function enrolledProfile(b: Binding): Profile {
  const where = `(enrolled by ${describeCode(b)})`;
  return { ref: { kind: 'device', name: b.mac, file: where }, tree: new PMap(new Map(), fixedLoc({ file: where, line: 1, col: 1 }), 0), keys: new Set() };
}
