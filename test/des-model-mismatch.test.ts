// A DES URL names the model as well as the MAC (`…/$MODEL4/$MACADDR/46xxsettings.txt`). One that
// names another model than the device's (`/x/J189/<a J179's mac>/46xxsettings.txt`) is refused:
// 404 with reason "model mismatch", counted toward the enumeration cool-down like any other
// miss, and logged once per device (a phone with a wrong URL retries on every boot).
// Real server, real sockets.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRequest } from '../src/pipeline/request.js';
import { startServer, type RunningServer } from '../src/server.js';
import { desksetYaml, get, memoryLog, settle } from './helpers/e2e-http.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';

const J179 = 'c81fea83e85a';
const J179_LIS = '2cf4c5001122';
const J189 = 'c81fea9102aa';
const ua = (model: string, mac: string) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/${model}-4.1.3.0.6 (MAC:${mac})`;

describe('resolveRequest: the model segment of a DES path must be the device model', () => {
  let snap: Snapshot;
  beforeAll(async () => {
    snap = buildSnapshot({ root: await sampleFiles(), shipped: await shippedFiles(), version: '0.0.0-test' });
  });
  it.each([
    [`J189/${J179}/46xxsettings.txt`],
    [`x/J189/${J179}/46xxsettings.txt`],
    [`J189/${J179}/J100Supgrade.txt`],
    [`J179/${J189}/J100Supgrade.txt`],
    [`VVX450/${J179}/46xxsettings.txt`],
    [`NOPE/${J179}/46xxsettings.txt`],
  ])('%s is refused as a model mismatch', (path) => {
    const r = resolveRequest(snap, { path });
    expect(r).toMatchObject({ kind: 'not-found', reason: 'model mismatch' });
  });
  it.each([[`J179/${J179}/46xxsettings.txt`], [`x/y/J179/${J179}/46xxsettings.txt`], [`j179/${J179.toUpperCase()}/J100Supgrade.txt`], [`J189/${J189}/46xxsettings.txt`]])('%s is served', (path) => {
    const r = resolveRequest(snap, { path });
    expect(r.kind).toBe('render');
  });
});

describe('over HTTP', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let mem: ReturnType<typeof memoryLog>;

  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(['security:', '  enumeration:', '    max_distinct: 2', '    window_s: 300', '    cooldown_s: 120'].join('\n')) });
    mem = memoryLog();
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: mem.log, watch: false });
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('the right model is served; the wrong one is a bodyless 404, and the mismatch is logged once per device', async () => {
    const right = await get(srv.url, `/x/J179/${J179}/46xxsettings.txt`, { headers: { 'user-agent': ua('J179', J179) } });
    expect(right.status).toBe(200);
    expect(right.text).toContain(`for ${J179} (J179)`);
    for (let i = 0; i < 3; i++) {
      const wrong = await get(srv.url, `/x/J189/${J179}/46xxsettings.txt`, { headers: { 'user-agent': ua('J179', J179) } });
      expect(wrong.status).toBe(404);
      expect(wrong.body.length).toBe(0);
    }
    await settle();
    const warnings = mem.events('des_model_mismatch');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ mac: J179, model: 'J179', pathModel: 'J189', path: `/x/J189/${J179}/46xxsettings.txt` });
    const access = mem.access().filter((a) => a.path === `/x/J189/${J179}/46xxsettings.txt`);
    expect(access.map((a) => [a.status, a.reason])).toEqual([[404, 'model mismatch'], [404, 'model mismatch'], [404, 'model mismatch']]);
  });

  it('mismatches count toward the enumeration cool-down like other misses (max_distinct 2: the third device starts the cool-down)', async () => {
    // J179 already missed above; two more devices pass max_distinct 2.
    expect((await get(srv.url, `/J189/${J179_LIS}/46xxsettings.txt`)).status).toBe(404);
    const third = await get(srv.url, `/J179/${J189}/J100Supgrade.txt`);
    expect([404, 429]).toContain(third.status);
    expect((await get(srv.url, `/J179/${J179}/J100Supgrade.txt`)).status).toBe(429);
    await settle();
    expect(mem.events('des_model_mismatch').map((e) => e.mac)).toEqual([J179, J179_LIS, J189]);
  });
});
