// Files served from disk rather than rendered: firmware images and resources. Only names
// the snapshot listed are served (nothing outside firmware/ and resources/ is reachable),
// only allow-listed extensions, only under the size cap; large files stream. Each opened
// file must really lie inside the root (a listed name swapped for a symlink out is refused
// as if it were not there).

import path from 'node:path';
import type Koa from 'koa';
import { parseAvayaScript } from '../core/avaya-script/index.js';
import { etagOf } from '../core/render.js';
import { extensionOf, substitute, TEXT_EXTENSIONS, type ResourceIdentity } from '../core/resources.js';
import type { Snapshot } from '../core/snapshot.js';
import type { Confinement } from '../io/confine.js';
import { sendBytes, sendFile } from './send.js';

const CONTENT_TYPES: Record<string, string> = {
  xml: 'application/xml', txt: 'text/plain', cfg: 'text/plain', csv: 'text/csv', json: 'application/json',
  htm: 'text/html', html: 'text/html', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  bmp: 'image/bmp', mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', pem: 'application/x-pem-file',
  crt: 'application/x-x509-ca-cert', cer: 'application/x-x509-ca-cert', der: 'application/x-x509-ca-cert',
  p12: 'application/x-pkcs12', pfx: 'application/x-pkcs12', pkcs12: 'application/x-pkcs12',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extensionOf(name)] ?? 'application/octet-stream';
}

/** Text resources larger than this are streamed untouched rather than substituted. */
const MAX_SUBSTITUTED = 1024 * 1024;

/** Where files are served from: each opened file must really lie in its own tree. */
export interface ServedTrees {
  resources: Confinement;
  firmware: Confinement;
}

export interface FileHit {
  kind: 'firmware' | 'resource';
  file: string;
}

/** Serve `reqPath` from firmware/ or resources/ if it names one; false when it does not. */
export async function serveDiskFile(ctx: Koa.Context, snap: Snapshot, trees: ServedTrees, reqPath: string, who: ResourceIdentity): Promise<FileHit | undefined> {
  const cfg = snap.config;
  if (snap.firmwareFiles.has(reqPath)) {
    if (!cfg.serveExtensions.has(extensionOf(reqPath))) return undefined;
    const sent = await sendFile(ctx, trees.firmware.at(reqPath.slice('firmware/'.length)), { contentType: contentTypeFor(reqPath), maxBytes: cfg.maxFileBytes, confine: trees.firmware });
    return sent ? { kind: 'firmware', file: reqPath } : undefined;
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
    // Read through a checked descriptor; not a small file: streamed below instead.
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
        const body = Buffer.from(substitute(text, hit.vars, script), encoding);
        sendBytes(ctx, body, { etag: etagOf(body), contentType: contentTypeFor(hit.file), lastModified: st.mtime });
        return { kind: 'resource', file: hit.file };
      }
    }
  }
  const sent = await sendFile(ctx, abs, { contentType: contentTypeFor(hit.file), maxBytes: cfg.maxFileBytes, confine: resources });
  return sent ? { kind: 'resource', file: hit.file } : undefined;
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
