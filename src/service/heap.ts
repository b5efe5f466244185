// One full garbage collection after a validation pass over the whole root, and a check every
// few seconds while serving.
//
// Validating 100,000 devices renders every file once, and the garbage that leaves behind is
// promoted faster than V8 collects it: RSS peaked at 950 MB over a live heap of 176 MB. Node
// sends V8 no idle-time notifications, so after the pass the garbage stays until load
// triggers a collection, and a big heap also slows serving on a small machine (V8's helper
// threads compete for the cores). `gc` is not exposed without --expose-gc; setting the flag at
// run time and fetching `gc` from a fresh context is how jest's leak detector does it.

import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;
/** Bytes in use after the last collection we asked for: roughly what is live. */
let liveAfterLast = 0;

/** Collect now. Quietly does nothing where the runtime will not expose `gc`. */
export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
  liveAfterLast = v8.getHeapStatistics().used_heap_size;
}

let reloading = 0;

/**
 * Run a reload with forced collections held off. A reload grows the heap by a whole new
 * snapshot, which made the watcher below force a full, stop-the-world collection in the middle
 * of it (138–673 ms at 10,000 devices on a busy machine: every phone waited). After it, the
 * baseline moves to what is in use then; V8's own incremental collector reclaims the old
 * snapshot in small steps.
 */
export async function withoutForcedCollections<T>(work: () => Promise<T>): Promise<T> {
  reloading++;
  try {
    return await work();
  } finally {
    reloading--;
    liveAfterLast = Math.max(liveAfterLast, v8.getHeapStatistics().used_heap_size);
  }
}

/**
 * Collect if the heap has grown to one and a half times what was live (plus 48 MB) since the last time: called
 * between slices of a long validation, it keeps the peak near the target instead of at 950 MB.
 */
export function collectIfBloated(): void {
  if (reloading > 0) return;
  if (v8.getHeapStatistics().used_heap_size > 1.5 * liveAfterLast + 48 * 1024 * 1024) collectGarbage();
}

/**
 * While serving, check every `everyMs` whether the heap has bloated, and collect if so. The
 * render cache and the recent device trees are LRUs: in a fleet larger than they are, what
 * they evict has lived long enough to reach the old generation, and V8 lets that garbage grow
 * the heap far past what is live before it collects (100,000 devices under random load: +230 MB
 * in 10 s, 603 MB RSS; 453 MB with this check). The check itself is one heap-statistics call.
 */
export function watchHeap(everyMs = 2000): NodeJS.Timeout {
  const timer = setInterval(collectIfBloated, everyMs);
  timer.unref();
  return timer;
}
