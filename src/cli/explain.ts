// `deskset explain [ROOT] MAC [KEY] [--json]`: every effective value of one device, the
// file:line that set it, and the values it overrode.

import { hasErrors } from '../check/diagnostics.js';
import { explainTree, formatExplanation } from '../config/explain.js';
import { flattenLeaves } from '../config/merge.js';
import { didYouMean } from '../check/suggest.js';
import { chooseFirmware, describeFirmware } from '../render/firmware.js';
import { normalizeMac } from '../config/mac.js';
import { layersFor, resolveSubject, subjectOf } from '../config/resolve.js';
import { devicePaths } from '../snapshot/routes.js';
import { explainDevice } from '../config/explain-device.js';
import path from 'node:path';
import { loadRoot } from '../io/load-root.js';
import { UPLOAD_KINDS, UploadStore } from '../service/upload-store.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

export function run(args: string[]): Promise<number> {
  return guarded('explain', async () => {
    const { values, positionals } = parse(args, COMMANDS.explain);
    // ROOT is optional: `explain MAC` means the current directory.
    let [root, macText, key] = positionals;
    if (root !== undefined && normalizeMac(root) && (macText === undefined || !normalizeMac(macText))) {
      [root, macText, key] = ['.', root, macText];
    }
    const mac = macText === undefined ? undefined : normalizeMac(macText);
    if (!mac) throw new UsageError('usage: deskset explain [ROOT] MAC [KEY]');
    const snap = await loadRoot(root ?? '.');
    if (hasErrors(snap.diagnostics)) {
      printDiagnostics(snap.diagnostics);
      return 1;
    }
    const device = snap.profiles.devices.get(mac);
    if (!device) {
      process.stderr.write(`deskset explain: no device ${mac} in ${root}\n`);
      return 1;
    }
    const subject = subjectOf(device);
    const effective = resolveSubject(snap.profiles, snap.config.layers, subject);
    const explanation = explainTree(effective, { key, secrets: snap.secrets, extraKeys: snap.secretKeys });
    if (!explanation) {
      // Leaf paths as admins write them (relative to settings), for "did you mean".
      const known = flattenLeaves(effective).map((l) => l.path.join('.').replace(/^settings\./, ''));
      process.stderr.write(`deskset explain: ${mac} has no value for "${key}"${didYouMean(key ?? '', known)}\n`);
      return 1;
    }
    // The firmware decision, beside the raw firmware.* values: which of them won, and where.
    const fw = chooseFirmware(snap.firmware, effective, device.model, snap.config.publicUrl, snap.config.layers);
    const layers = layersFor(snap.profiles, snap.config.layers, subject).map((l) => ({ layer: l.ref.kind, name: l.ref.name, file: l.ref.file }));
    const files = snap.catalog.vendor(device.model.vendor)?.files.filter((f) => f.scope === 'device').flatMap((f) => devicePaths(f, mac, device.model)) ?? [];
    // Files the phone wrote back: their values beat ours on the phone, so an admin must see them.
    const store = new UploadStore({ dir: path.resolve(snap.rootDir, snap.config.stateDir) });
    const overrides = (await store.listForDevice(mac)).filter((u) => UPLOAD_KINDS[u.kind as keyof typeof UPLOAD_KINDS]?.override);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(explainDevice(snap, mac, overrides, { key }), null, 2)}\n`);
      return 0;
    }
    const out = [
      `Device ${mac}: ${device.model.vendor} ${device.model.name}${device.site ? `, site ${device.site}` : ''}${device.groups.length ? `, groups ${device.groups.join(', ')}` : ''}`,
      `Files: ${files.join(', ')}`,
      'Layers, lowest first:',
      ...layers.map((l) => `  ${l.layer.padEnd(7)} ${l.file}`),
      `Firmware: ${describeFirmware(fw)}`,
      ...(overrides.length
        ? ['Phone-side overrides (uploaded by the phone; their values win on the phone):', ...overrides.map((o) => `  ${o.name}  ${o.size} bytes, ${o.mtime.toISOString()}`)]
        : []),
      '',
      formatExplanation(explanation),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  });
}
