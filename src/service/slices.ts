// Long work on the serving thread in slices: after `budgetMs` of work the event loop gets a
// turn (requests that arrived meanwhile are answered), then the work goes on. A global edit
// on a 10,000-device root builds and validates for seconds; without slices every phone
// waited for all of it (2.33 s, issue 14.9).

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Pause } from '../config/steps.js';

/** Slices of about `budgetMs`: a request waits for at most one slice. */
export function timeSlices(budgetMs = 2): Pause {
  let since = performance.now();
  return () => {
    if (performance.now() - since < budgetMs) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}
