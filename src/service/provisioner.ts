// The stateful heart of `serve`: the current snapshot and its rendered-file cache.
// A request takes `current()` once and uses that snapshot to the end, so a reload can
// never show a phone a mix of old and new files. The cache belongs to its snapshot:
// swapping the snapshot drops the cache, so a stale render can never be served.

import { LRUCache } from 'lru-cache';
import type { Diagnostic } from '../check/diagnostics.js';
import { renderTarget, type Rendered } from '../render/render.js';
import { resolveRequest, type RequestIdentity, type Resolution } from '../pipeline/request.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { withDevices } from '../snapshot/with-devices.js';
import type { Enrollment } from '../enroll/service.js';
import type { Metrics } from '../metrics/index.js';

/** Memory the rendered files of one snapshot may take; big enough for a site, bounded for 100,000 devices. */
const CACHE_BYTES = 64 * 1024 * 1024;
/**
 * What a cached file costs beyond its text: the entry object, its key, the closure that can
 * rebuild provenance, and the cache's own slots. Measured at about 1.3 KB per file (10,000
 * device files of 1 KB took 2.35 KB each on the heap); counting only the text let the cache
 * grow to twice its budget.
 */
const ENTRY_OVERHEAD = 1400;

export interface Served {
  snapshot: Snapshot;
  resolution: Resolution;
  rendered?: Rendered;
  /** Render problems, when a file failed to render (the phone gets a 500, the log the reason). */
  diagnostics?: Diagnostic[];
}

/** Checks a render before it is cached and served; errors mean "do not serve". */
export type RenderCheck = (rendered: Rendered, device: string | undefined) => Diagnostic[];

class Generation {
  readonly cache = new LRUCache<string, Rendered>({ maxSize: CACHE_BYTES, sizeCalculation: (r) => r.size + ENTRY_OVERHEAD });
  /** Set while this snapshot's devices are still being validated in the background. */
  check?: RenderCheck;
  constructor(readonly snapshot: Snapshot) {}
}

export class Provisioner {
  private gen: Generation;
  /** The snapshot built from the root; `current()` adds the phones bound by codes. */
  private root: Snapshot;

  /** `metrics` counts cache hits and times renders (the warm-up's throwaway provisioner has none). */
  constructor(
    snapshot: Snapshot,
    private readonly enrollment?: Enrollment,
    private readonly metrics?: Metrics,
  ) {
    this.root = snapshot;
    this.gen = new Generation(this.derive(snapshot));
    // A binding is state, not a file: the served snapshot is made again when one changes.
    enrollment?.onChange(() => {
      const check = this.gen.check;
      this.gen = new Generation(this.derive(this.root));
      this.gen.check = check;
    });
  }

  /** What requests read: the root's snapshot plus the phones bound by codes. */
  current(): Snapshot {
    return this.gen.snapshot;
  }

  /** The snapshot as built from the root (what the reloader validated and swapped in). */
  base(): Snapshot {
    return this.root;
  }

  private derive(base: Snapshot): Snapshot {
    return this.enrollment ? withDevices(base, this.enrollment.devicesFor(base)) : base;
  }

  /** Rendered files held for the current snapshot (`/-/status`). */
  cachedFiles(): number {
    return this.gen.cache.size;
  }

  /** Swap in a new, already validated snapshot. */
  swap(snapshot: Snapshot): void {
    this.root = snapshot;
    this.gen = new Generation(this.derive(snapshot));
  }

  /**
   * While a large root is validated in the background after start-up, every render that is
   * not yet known good is checked before it is served: a broken file answers 500, never bytes.
   */
  checkRendersWith(snapshot: Snapshot, check: RenderCheck | undefined): void {
    if (this.root === snapshot) this.gen.check = check;
  }

  /** Resolve and render in one go (no access control: for tools and tests). */
  serve(req: RequestIdentity): Served {
    const r = this.resolve(req);
    return r.resolution.kind === 'render' ? this.render(r) : r;
  }

  /** Which file for whom, against the current snapshot, without rendering (the gate runs between). */
  resolve(req: RequestIdentity): Served {
    const snapshot = this.gen.snapshot;
    return { snapshot, resolution: resolveRequest(snapshot, req) };
  }

  /** Render a resolved request with the cache of the snapshot it was resolved against. */
  render(r: Served): Served {
    if (r.resolution.kind !== 'render') return r;
    // The generation is looked up by snapshot so a swap between resolve and render cannot
    // cache one snapshot's bytes under another's key.
    const gen = this.gen.snapshot === r.snapshot ? this.gen : new Generation(r.snapshot);
    const hit = gen.cache.get(r.resolution.cacheKey);
    // Served objects are written out, not spread: `{ ...r, rendered }` takes V8's slow path.
    if (hit) {
      this.metrics?.recordCacheHit();
      return { snapshot: r.snapshot, resolution: r.resolution, rendered: hit };
    }
    const started = performance.now();
    const { rendered, diagnostics } = renderTarget(r.snapshot.render, r.resolution.target);
    if (rendered && gen.check) {
      const subject = r.resolution.target.subject;
      const problems = gen.check(rendered, subject?.known ? subject.mac : undefined).filter((d) => d.severity === 'error');
      if (problems.length) {
        this.metrics?.recordRender(r.resolution.target.file.vendor, performance.now() - started, false);
        return { snapshot: r.snapshot, resolution: r.resolution, diagnostics: problems };
      }
    }
    this.metrics?.recordRender(r.resolution.target.file.vendor, performance.now() - started, rendered !== undefined);
    if (rendered) gen.cache.set(r.resolution.cacheKey, rendered);
    return { snapshot: r.snapshot, resolution: r.resolution, rendered, diagnostics };
  }
}
