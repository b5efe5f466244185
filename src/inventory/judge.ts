// A device's provision result, from what it fetched and what the current snapshot would
// give it. Pure: the files it must fetch (its vendor's boot sequence) and their current
// ETags come in as plain values.
//
//   ok       every file of the boot sequence fetched (200/206/304) with the current ETag
//   stale    a file changed since the phone fetched it, or it has not fetched every file yet
//   failing  the last fetch of a boot file, or the phone's last request, was an error (401/403/4xx/5xx)
//   unknown  not configured in the root
//   never    configured, never seen (only in the joined view: the inventory has no row)

import type { FileFetch, Judge, ProvisionResult } from '../store/contract.js';
import type { DeviceEntry } from '../config/profiles.js';
import { deviceTargets } from '../pipeline/request.js';
import { canonicalPath } from '../snapshot/routes.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export interface BootFile {
  /** The manifest's file id (`master`, `settings`, `common`). */
  fileId: string;
  /** The name it is rendered under for this device. */
  path: string;
}

export interface Required {
  fileId: string;
  /** The ETag the current snapshot serves; undefined when it cannot be rendered. */
  etag?: string;
}

const served = (status: number) => status === 200 || status === 206 || status === 304;

export function provisionResult(files: readonly FileFetch[], required: readonly Required[]): ProvisionResult {
  if (!files.length) return 'stale';
  let last = files[0]!;
  for (const f of files) if (f.at > last.at) last = f;
  if (last.status >= 400) return 'failing';
  let result: ProvisionResult = 'ok';
  for (const r of required) {
    // The latest fetch of this file under any of its names (46xxsettings.txt or <mac>.txt).
    let latest: FileFetch | undefined;
    for (const f of files) if (f.fileId === r.fileId && (!latest || f.at > latest.at)) latest = f;
    if (!latest) result = 'stale';
    else if (latest.status >= 400) return 'failing';
    else if (!served(latest.status) || (r.etag !== undefined && latest.etag !== r.etag)) result = 'stale';
  }
  return result;
}

/** The files a configured device's boot sequence fetches: its device files and its model's. */
export function bootFiles(snap: Snapshot, d: DeviceEntry): BootFile[] {
  const out: BootFile[] = deviceTargets(snap, [d.mac]).map((t) => ({ fileId: t.file.id, path: t.path }));
  for (const f of snap.catalog.vendor(d.model.vendor)?.files ?? []) {
    if (f.scope !== 'model') continue;
    const path = canonicalPath(f, undefined, d.model);
    if (path) out.push({ fileId: f.id, path });
  }
  return out;
}

/** The judge for one snapshot; `etagOf(path)` is what that snapshot serves at a path. */
export function judgeFor(snap: Snapshot, etagOf: (path: string) => string | undefined): Judge {
  return (rec) => {
    const d = snap.profiles.devices.get(rec.mac);
    if (!d) return 'unknown';
    return provisionResult(rec.files, bootFiles(snap, d).map((b) => ({ fileId: b.fileId, etag: etagOf(b.path) })));
  };
}
