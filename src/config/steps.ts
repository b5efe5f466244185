// Long pure computations (building a 10,000-device snapshot) written as generators that
// `yield` at points where stopping is cheap. The core never decides to wait: `runSteps` runs
// one straight through (CLI, tests), and the server's driver (service/slices.ts) gives the
// event loop back between steps so phones are answered while a reload builds.

/** A computation that yields (nothing) between steps and returns `T`. */
export type Steps<T> = Generator<void, T, void>;

/** Run to the end without pausing. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Returns a promise when the caller should wait before the next step, undefined to go straight on. */
export type Pause = () => Promise<void> | undefined;

/** Run, waiting whenever `pause` says so (the server passes one that yields to requests). */
export async function runPaused<T>(steps: Steps<T>, pause: Pause): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    const p = pause();
    if (p) await p;
  }
}

/** How many items a loop handles between two yields: small enough to stop often, big enough to cost nothing. */
export const STEP_ITEMS = 200;
