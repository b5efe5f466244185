// A reload-check thread (check-threads.ts starts it): it keeps its own copy of the root's
// texts, builds the same snapshot the server builds from them, works out which devices the
// change can affect, and renders and validates its share of their files. Phones are answered
// meanwhile on the server's thread.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort } from 'node:worker_threads';
import { checkSnapshot, dedupe } from '../check/check.js';
import type { Diagnostic } from '../check/diagnostics.js';
import type { ParseCache } from '../config/profiles.js';
import { buildFromRoot, type RootFiles } from '../io/load-root.js';
import { createValidators, type Validators } from '../io/validators.js';
import { affectedDevices } from '../snapshot/affected.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { checkParts } from './check-parts.js';

/** The root as the server read it for one build: only what changed since the last message. */
export interface FilesMessage {
  kind: 'files';
  build: number;
  dir: string;
  set: Array<[string, string]>;
  deleted: string[];
  resources: string[];
  firmware: string[];
  firmwareSizes: Array<[string, number]>;
  /** Schemas or resources changed: compiled schemas and remembered passes are stale. */
  freshValidators: boolean;
}

/** Check what `since` can affect in the build; this thread takes every `of`-th part from `shard`. */
export interface CheckMessage {
  kind: 'check';
  id: number;
  build: number;
  since: string[];
  shard: number;
  of: number;
}

export type ToCheckThread = FilesMessage | CheckMessage | { kind: 'done'; build: number } | 'close';

export type FromCheckThread = { id: number; diagnostics: Diagnostic[]; files: number; schemaProblems: string[] } | { id: number; error: string };

lowerPriority();

const files = new Map<string, string>();
const parseCache: ParseCache = new Map();
let validators: Validators | undefined;
let current: { build: number; snap: Promise<Snapshot> } | undefined;
/** The newest build announced: a check of an older one (the start-up prime) stops at its next part. */
let newest = 0;
/** Messages are handled one at a time, in order: a check always sees the build sent before it. */
let queue: Promise<unknown> = Promise.resolve();

parentPort!.on('message', (m: ToCheckThread) => {
  if (m !== 'close' && m.kind === 'files') newest = m.build;
  queue = queue.then(() => handle(m)).catch(() => undefined);
});

async function handle(m: ToCheckThread): Promise<void> {
  if (m === 'close') {
    await validators?.close();
    parentPort!.close();
    return;
  }
  if (m.kind === 'done') {
    if (current?.build === m.build) current = undefined;
    return;
  }
  if (m.kind === 'files') {
    for (const rel of m.deleted) files.delete(rel);
    for (const [rel, text] of m.set) files.set(rel, text);
    if (m.freshValidators || !validators) {
      await validators?.close();
      validators = createValidators({ root: m.dir, resourceNames: new Set(m.resources) });
    }
    // A copy: the next message may patch `files` while this build is still being checked.
    const rf: RootFiles = { dir: m.dir, files: new Map(files), resources: new Set(m.resources), firmware: m.firmware, firmwareSizes: new Map(m.firmwareSizes), problems: [] };
    const snap = buildFromRoot(rf, parseCache);
    snap.catch(() => undefined);
    current = { build: m.build, snap };
    return;
  }
  try {
    post({ id: m.id, ...(await check(m)) });
  } catch (e) {
    post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
}

async function check(m: CheckMessage): Promise<{ diagnostics: Diagnostic[]; files: number; schemaProblems: string[] }> {
  if (current?.build !== m.build) throw new Error(`check thread has build ${current?.build}, not ${m.build}`);
  const snap = await current.snap;
  // The server checks the build's own diagnostics; a thread that built differently says so.
  const buildErrors = snap.diagnostics.filter((d) => d.severity === 'error');
  if (buildErrors.length) return { diagnostics: buildErrors, files: 0, schemaProblems: [] };
  const affected = affectedDevices(snap, m.since);
  const parts = checkParts(snap.profiles.devices.keys(), affected === 'all' ? undefined : affected);
  const diagnostics: Diagnostic[] = [];
  let count = 0;
  for (let i = m.shard; i < parts.length; i += m.of) {
    const r = await checkSnapshot(snap, validators!, { part: parts[i] });
    for (const d of r.diagnostics) diagnostics.push(d);
    count += r.files;
    // Let a newer build's message be seen: the prime must not hold up the first reload.
    await nextTurn();
    if (newest !== m.build) throw new Error('superseded by a newer build');
  }
  return { diagnostics: dedupe(diagnostics), files: count, schemaProblems: validators!.schemaProblems };
}

function post(m: FromCheckThread): void {
  parentPort!.postMessage(m);
}

/**
 * Run at the lowest CPU priority: where cores are few, the serving thread must win every
 * contest with a reload check. Linux applies a thread id's priority to that thread alone
 * (setpriority(2)); elsewhere the thread keeps the process's.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
  } catch {
    /* not Linux, or not permitted: same priority as the server */
  }
}
