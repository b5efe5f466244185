// The stateful heart of `serve`: the current snapshot and its rendered-file cache.
// A request takes `current()` once and uses that snapshot to the end, so a reload can
// never show a phone a mix of old and new files. The cache belongs to its snapshot:
// swapping the snapshot drops the cache, so a stale render can never be served.

import { LRUCache } from 'lru-cache';
import type { Diagnostic } from '../core/diagnostics.js';
import { renderTarget, type Rendered } from '../core/render.js';
import { resolveRequest, type RequestIdentity, type Resolution } from '../core/request.js';
import type { Snapshot } from '../core/snapshot.js';

/** Rendered bytes kept per snapshot; big enough for a site, bounded for 100,000 devices. */
const CACHE_BYTES = 64 * 1024 * 1024;

export interface Served {
  snapshot: Snapshot;
  resolution: Resolution;
  rendered?: Rendered;
  /** Render problems, when a file failed to render (the phone gets a 500, the log the reason). */
  diagnostics?: Diagnostic[];
}

class Generation {
  readonly cache = new LRUCache<string, Rendered>({ maxSize: CACHE_BYTES, sizeCalculation: (r) => r.bytes.length + 256 });
  constructor(readonly snapshot: Snapshot) {}
}

export class Provisioner {
  private gen: Generation;

  constructor(snapshot: Snapshot) {
    this.gen = new Generation(snapshot);
  }

  current(): Snapshot {
    return this.gen.snapshot;
  }

  /** Swap in a new, already validated snapshot. */
  swap(snapshot: Snapshot): void {
    this.gen = new Generation(snapshot);
  }

  serve(req: RequestIdentity): Served {
    const gen = this.gen;
    const snapshot = gen.snapshot;
    const resolution = resolveRequest(snapshot, req);
    if (resolution.kind !== 'render') return { snapshot, resolution };
    const hit = gen.cache.get(resolution.cacheKey);
    if (hit) return { snapshot, resolution, rendered: hit };
    const { rendered, diagnostics } = renderTarget(snapshot.render, resolution.target);
    if (rendered) gen.cache.set(resolution.cacheKey, rendered);
    return { snapshot, resolution, rendered, diagnostics };
  }
}
