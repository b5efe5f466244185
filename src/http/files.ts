// Files served from disk rather than rendered: firmware images and resources. Only names
// the snapshot listed are served (nothing outside firmware/ and resources/ is reachable),
// only allow-listed extensions, only under the size cap; large files stream. Each opened
// file must really lie inside its tree (a listed name swapped for a symlink out is refused
// as if it were not there).

import type Koa from 'koa';
import { etagOf } from '../render/render.js';
import { extensionOf, type ResourceIdentity } from '../render/resources.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { diskFileFor, type ServedTrees } from '../io/disk-file.js';
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

export interface FileHit {
  kind: 'firmware' | 'resource';
  file: string;
}

/** Serve `reqPath` from firmware/ or resources/ if it names one; false when it does not. */
export async function serveDiskFile(ctx: Koa.Context, snap: Snapshot, trees: ServedTrees, reqPath: string, who: ResourceIdentity): Promise<FileHit | undefined> {
  const hit = await diskFileFor(snap, trees, reqPath, who);
  if (!hit) return undefined;
  if (hit.body) sendBytes(ctx, hit.body, { etag: etagOf(hit.body), contentType: contentTypeFor(hit.file), lastModified: hit.mtime });
  else if (!(await sendFile(ctx, hit.abs, { contentType: contentTypeFor(hit.file), maxBytes: snap.config.maxFileBytes, confine: hit.confine }))) return undefined;
  return { kind: hit.kind, file: hit.file };
}
