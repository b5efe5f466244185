// A device's provision result, from what it fetched and what the current snapshot would
// give it. Pure: the files it must fetch (its vendor's boot sequence) and their current
// ETags come in as plain values.
//
//   ok       every file of the boot sequence fetched (200/206/304) with the current ETag
//   stale    a file changed since the phone fetched it, or it has not fetched every file yet
//   failing  the last fetch of a boot file, or the phone's last request, was an error (401/403/4xx/5xx)
//   unknown  not configured in the root
//   never    configured, never seen (only in the joined view: the inventory has no row)

import type { Judge } from '../store/contract.js';
import { provisionResult, type Required } from '../store/provision-result.js';
import type { DeviceEntry } from '../config/profiles.js';
import { deviceTargets } from '../pipeline/request.js';
import { canonicalPath } from '../snapshot/routes.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export { provisionResult } from '../store/provision-result.js';

export interface BootFile {
  /** The manifest's file id (`master`, `settings`, `common`). */
  fileId: string;
  /** The name it is rendered under for this device. */
  path: string;
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

/** What a device must have fetched, with the ETags `etagOf` says the snapshot serves; null when the root does not configure it. */
export function requiredFiles(snap: Snapshot, mac: string, etagOf: (path: string) => string | undefined): Required[] | null {
  const d = snap.profiles.devices.get(mac);
  return d ? bootFiles(snap, d).map((b) => ({ fileId: b.fileId, etag: etagOf(b.path) })) : null;
}

/** The judge for one snapshot; `etagOf(path)` is what that snapshot serves at a path. */
export function judgeFor(snap: Snapshot, etagOf: (path: string) => string | undefined): Judge {
  return (rec) => {
    const required = requiredFiles(snap, rec.mac, etagOf);
    return required ? provisionResult(rec.files, required) : 'unknown';
  };
}
