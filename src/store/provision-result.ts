// A device's provision result from what it fetched and what it must fetch (its boot files
// and their current ETags, worked out from the snapshot by inventory/judge.ts). Pure, and in
// the store's folder because the SQLite writer thread judges with it, without a snapshot.

import type { FileFetch, ProvisionResult } from './contract.js';

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
