// `deskset explain [ROOT] MAC [KEY] [--json]`: every effective value of one device, the
// file:line that set it, and the values it overrode.

import { formatLoc, hasErrors } from '../check/diagnostics.js';
import { explainTree, formatExplanation } from '../config/explain.js';
import { flattenLeaves } from '../config/merge.js';
import { didYouMean } from '../check/suggest.js';
import { chooseFirmware, describeFirmware } from '../render/firmware.js';
import { normalizeMac } from '../config/mac.js';
import { layersFor, resolveSubject, subjectOf } from '../config/resolve.js';
import { devicePaths } from '../snapshot/routes.js';
import { explainDevice } from '../config/explain-device.js';
import { loadRoot } from '../io/load-root.js';
import { UPLOAD_KINDS } from '../service/upload-backend.js';
import { withRootUploads } from '../service/open-uploads.js';
import { describeChoice, parseAddress } from '../sites/subnets.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { bindingOf, describeBinding } from './binding-of.js';
import { withDevices } from '../snapshot/with-devices.js';

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
    // A phone bound by a code has no file yet: the binding says what it is.
    const bound = await bindingOf(snap, mac, 'explain');
    const device = snap.profiles.devices.get(mac) ?? bound?.device;
    if (!device) {
      process.stderr.write(`deskset explain: no device ${mac} in ${root}${bound ? ` (${describeBinding(bound.binding)}, but it cannot apply: see deskset check)` : ''}\n`);
      return 1;
    }
    // --ip: the site a request from that address would get (sites by subnet); `site:` wins.
    const byIp = values.ip === undefined ? undefined : siteForAddress(snap, device.site, values.ip);
    const subject = byIp?.site !== undefined && device.site === undefined ? { ...subjectOf(device), site: byIp.site } : subjectOf(device);
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
    // From the state directory, or the database when uploads live there (a database that cannot be reached is said, not fatal).
    const overrides = await withRootUploads(snap.rootDir, snap.config, async (u) => (await u.listForDevice(mac)).filter((f) => UPLOAD_KINDS[f.kind]?.override)).catch((e: Error) => {
      process.stderr.write(`deskset explain: phone uploads not read: ${e.message}\n`);
      return [];
    });
    if (values.json) {
      const enrollment = bound && { code: bound.binding.codeId, kind: bound.binding.kind, tail: bound.binding.tail, boundAt: bound.binding.boundAt, boundFrom: bound.binding.boundFrom, state: bound.binding.state, applies: bound.device === device };
      // A bound phone is explained as the snapshot a server serves it from (with the binding's device).
      const shown = bound?.device === device ? withDevices(snap, [device]) : snap;
      process.stdout.write(`${JSON.stringify({ ...explainDevice(shown, mac, overrides, { key, site: subject.site, address: byIp?.json }), ...(enrollment ? { enrollment } : {}) }, null, 2)}\n`);
      return 0;
    }
    const out = [
      `Device ${mac}: ${device.model.vendor} ${device.model.name}${subject.site ? `, site ${subject.site}` : ''}${device.groups.length ? `, groups ${device.groups.join(', ')}` : ''}`,
      ...(byIp ? byIp.lines : []),
      `Files: ${files.join(', ')}`,
      ...(bound ? [`Enrollment: ${describeBinding(bound.binding)}${bound.device === device ? '' : '; a device file wins over it'}`] : []),
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

/** What `--ip ADDR` decides for a device: the site its address selects, and the words for it. */
function siteForAddress(snap: Snapshot, explicit: string | undefined, ip: string): { site?: string; lines: string[]; json: Record<string, unknown> } {
  if (!parseAddress(ip)) throw new UsageError(`--ip: "${ip}" is not an IPv4 or IPv6 address`);
  const choice = snap.subnets.select(ip);
  const lines = describeChoice(ip, choice, snap.subnets, formatLoc);
  if (explicit !== undefined) lines.push(`  the device names site ${explicit} (site:), which always wins over the address`);
  const json = {
    ip,
    site: choice?.site ?? null,
    subnet: choice ? { cidr: choice.subnet.text, prefix: choice.subnet.len, setAt: formatLoc(choice.subnet.loc) } : null,
    alsoIn: choice ? choice.matches.slice(1).map((m) => ({ site: m.site, cidr: m.text, prefix: m.len, setAt: formatLoc(m.loc) })) : [],
    explicitSite: explicit ?? null,
  };
  return { site: choice?.site, lines, json };
}
