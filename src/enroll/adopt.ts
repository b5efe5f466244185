// `deskset devices adopt`: bindings become ordinary device files that the admin commits.
// An activation binding's placeholder file is renamed to the phone's MAC (its text, comments
// and all, unchanged); an enrollment binding becomes a new file with the model, site and
// groups it enrolled with. Pure: bindings and the root's profiles in, file operations out.

import type { ProfileSet } from '../config/profiles.js';
import { describeCode, type Binding } from './bindings.js';

export type AdoptStep =
  | { mac: string; kind: 'rename'; from: string; to: string; binding: Binding }
  | { mac: string; kind: 'create'; to: string; text: string; binding: Binding }
  /** A device file already exists (it wins): only the binding is marked adopted. */
  | { mac: string; kind: 'mark'; file: string; binding: Binding }
  | { mac: string; kind: 'skip'; reason: string; binding: Binding };

/** Root-relative paths (the profiles carry display paths; `rel` maps a profile's file back). */
export function planAdoption(profiles: ProfileSet, bindings: Iterable<Binding>, rel: (displayed: string) => string): AdoptStep[] {
  const steps: AdoptStep[] = [];
  for (const b of [...bindings].sort((x, y) => (x.mac < y.mac ? -1 : 1))) {
    if (b.state !== 'enrolled') continue;
    const to = `profiles/devices/${b.mac}.yaml`;
    const existing = profiles.devices.get(b.mac);
    if (existing) {
      steps.push({ mac: b.mac, kind: 'mark', file: rel(existing.profile.ref.file), binding: b });
      continue;
    }
    if (b.kind === 'activation') {
      const p = b.placeholder === undefined ? undefined : profiles.placeholders.get(b.placeholder);
      if (!p) steps.push({ mac: b.mac, kind: 'skip', reason: `placeholder "${b.placeholder}" no longer exists`, binding: b });
      else steps.push({ mac: b.mac, kind: 'rename', from: rel(p.profile.ref.file), to, binding: b });
      continue;
    }
    if (!b.model) {
      steps.push({ mac: b.mac, kind: 'skip', reason: 'the binding names no model', binding: b });
      continue;
    }
    steps.push({ mac: b.mac, kind: 'create', to, text: enrolledFile(b), binding: b });
  }
  return steps;
}

function enrolledFile(b: Binding): string {
  const lines = [`# Enrolled by ${describeCode(b)} on ${b.boundAt} from ${b.boundFrom}; adopted by deskset devices adopt.`, `model: ${b.model}`];
  if (b.site !== undefined) lines.push(`site: ${b.site}`);
  if (b.groups.length) lines.push(`groups: [${b.groups.join(', ')}]`);
  return `${lines.join('\n')}\n`;
}
