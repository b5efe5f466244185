// Which file on disk answers a request path, and with what bytes: firmware images as they are,
// resources with deskset's tokens substituted for the asking phone. The server streams what
// this names (src/http/files.ts); `render --out` writes the same bytes for a static mirror.
// Every file is read through its tree's Confinement, so a listed name swapped for a symlink
// out of resources/ or firmware/ is not there.

import path from 'node:path';
import { parseAvayaScript } from '../vendors/avaya/script/index.js';
import { extensionOf, substitute, TEXT_EXTENSIONS, type ResourceIdentity } from '../render/resources.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { Confinement } from './confine.js';

/** Text resources larger than this are streamed untouched rather than substituted. */
const MAX_SUBSTITUTED = 1024 * 1024;

/** Where files are served from: each opened file must really lie in its own tree. */
export interface ServedTrees {
  resources: Confinement;
  firmware: Confinement;
}

/** The two served trees of a root; `onRefused` hears of each refused file once. */
export function servedTrees(rootDir: string, onRefused?: (sub: string, rel: string) => void): ServedTrees {
  const tree = (sub: string) => new Confinement(rootDir, { sub, onRefused: onRefused && ((abs) => onRefused(sub, path.relative(path.join(rootDir, sub), abs))) });
  return { resources: tree('resources'), firmware: tree('firmware') };
}

export interface DiskFile {
  kind: 'firmware' | 'resource';
  /** Root-relative for firmware, resources/-relative for resources. */
  file: string;
  abs: string;
  /** The tree `abs` must really lie in when it is opened. */
  confine: Confinement;
  /** The substituted text's bytes, when the file held tokens; otherwise the file is sent as it is. */
  body?: Buffer;
  mtime?: Date;
}

/** The firmware image or resource that answers `reqPath` for `who`, or undefined when none does. */
export async function diskFileFor(snap: Snapshot, trees: ServedTrees, reqPath: string, who: ResourceIdentity): Promise<DiskFile | undefined> {
  const cfg = snap.config;
  if (snap.firmwareFiles.has(reqPath)) {
    if (!cfg.serveExtensions.has(extensionOf(reqPath))) return undefined;
    return { kind: 'firmware', file: reqPath, abs: trees.firmware.at(reqPath.slice('firmware/'.length)), confine: trees.firmware };
  }
  const lookup = (mac: string): ResourceIdentity | undefined => {
    const d = snap.profiles.devices.get(mac);
    return d ? { mac, model: d.model.name, vendor: d.model.vendor, site: d.site } : undefined;
  };
  const hit = snap.resourceIndex.match(reqPath, (who.mac && lookup(who.mac)) || who, lookup);
  if (!hit || !cfg.serveExtensions.has(extensionOf(hit.file))) return undefined;
  const resources = trees.resources;
  const abs = resources.at(hit.file);
  if (TEXT_EXTENSIONS.has(extensionOf(hit.file)) && Object.keys(hit.vars).length) {
    // Read through a checked descriptor; not a small file: streamed as it is instead.
    const raw = await resources.readFile(abs, Math.min(MAX_SUBSTITUTED, cfg.maxFileBytes));
    if (raw === 'outside') return undefined;
    if (raw) {
      const { bytes, st } = raw;
      // Only text that holds a token is rewritten. Text that is not UTF-8 (a cp1252 Avaya
      // file, an ISO-8859-1 directory) is handled byte for byte as latin1, so every byte
      // other than the tokens goes out as it is on disk (the values are ASCII: MACs, models).
      const utf8 = utf8OrUndefined(bytes);
      const encoding: BufferEncoding = utf8 === undefined ? 'latin1' : 'utf8';
      const text = utf8 ?? bytes.toString('latin1');
      if (hasToken(text)) {
        const script = extensionOf(hit.file) === 'txt' && parseAvayaScript(text).statements.some((s) => s.kind !== 'label');
        return { kind: 'resource', file: hit.file, abs, confine: resources, body: Buffer.from(substitute(text, hit.vars, script), encoding), mtime: st.mtime };
      }
    }
  }
  return { kind: 'resource', file: hit.file, abs, confine: resources };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function hasToken(text: string): boolean {
  return text.includes('{{') || text.includes('$MACADDR') || text.includes('$MODEL4');
}
