// A profile that had settings and is now empty is legal (an admin may clear a site), but it is
// also what an editor that truncated the file leaves behind: the settings vanish from every
// phone without an error. Such a file is a warning until it has content again or is removed.

import type { Diagnostic } from './diagnostics.js';
import type { FileMap } from '../snapshot/snapshot.js';
import { isBlankYaml } from '../config/yaml-fast.js';

/** Profile files under `changed` (files or directories) that are empty in `after` and were not in `before`. */
export function emptiedProfiles(before: FileMap, after: FileMap, changed: Iterable<string>, display: (rel: string) => string): Map<string, Diagnostic> {
  const out = new Map<string, Diagnostic>();
  const check = (rel: string): void => {
    const now = after.get(rel);
    const was = before.get(rel);
    if (!rel.startsWith('profiles/') || now === undefined || was === undefined || !isBlankYaml(now) || isBlankYaml(was)) return;
    const lines = was.split('\n').filter((l) => l.trim() !== '').length;
    out.set(rel, { code: 'EMPTY_PROFILE', severity: 'warning', message: `this profile is empty now, but had ${lines} line${lines === 1 ? '' : 's'} in the last good config: its settings no longer apply. Restore it if an editor truncated it`, loc: { file: display(rel), line: 1, col: 1 } });
  };
  for (const rel of changed) {
    if (after.has(rel)) check(rel);
    else for (const k of after.keys()) if (k.startsWith(`${rel}/`)) check(k);
  }
  return out;
}

/** The warnings that still hold: files that are still there and still empty. */
export function stillEmpty(warnings: ReadonlyMap<string, Diagnostic>, files: FileMap): Map<string, Diagnostic> {
  return new Map([...warnings].filter(([rel]) => files.has(rel) && isBlankYaml(files.get(rel)!)));
}
