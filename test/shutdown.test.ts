// Stopping the server must not wait for a background validation of the whole root: at
// 100,000 devices that is minutes of renders, and Ctrl-C would seem to hang.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { memoryLog } from './helpers/e2e-http.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

let root: TmpRoot;
beforeAll(async () => {
  root = await makeTmpRoot();
});
afterAll(async () => {
  await root.cleanup();
});

it('close() stops a background validation between slices', async () => {
  // validateSyncMax 0: validate in the background, as a root over 20,000 devices does.
  const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false, validateSyncMax: 0 });
  const snap = srv.provisioner.current();
  const total = snap.profiles.devices.size;
  expect(total).toBeGreaterThan(3);
  // One device per slice, so the run is still going when close() is called.
  const run = srv.reloader.validateInBackground(snap, 1);
  await srv.close();
  await run;
  const validating = srv.reloader.status().validating;
  expect(validating).toBeDefined();
  expect(validating!.done).toBeLessThan(total);
});
