// The warm-up before listening (http/warm-up.ts): it really answers requests, and it leaves
// nothing behind that a phone or an admin could see: no cached render, no access-log line, no
// enumeration or lockout state.

import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { warmUp } from '../src/http/warm-up.js';
import { hashPassword } from '../src/security/password.js';
import { startServer, type RunningServer } from '../src/server.js';
import { appendYaml, basic } from './helpers/e2e-http.js';
import { memoryLogger, raw } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

describe('warmUp', () => {
  it('makes the requests it is asked for, cycling through the paths, over a real socket', async () => {
    const seen: string[] = [];
    const listener: http.RequestListener = (req, res) => {
      seen.push(req.url!);
      res.end('ok');
    };
    const r = await warmUp(listener, ['/a', '/b', '/c'], { requests: 10, budgetMs: 10_000, connections: 2 });
    expect(r.requests).toBe(10);
    expect(seen).toHaveLength(10);
    expect(new Set(seen)).toEqual(new Set(['/a', '/b', '/c']));
    expect(seen.filter((u) => u === '/a').length).toBeGreaterThanOrEqual(3);
  });

  it('stops at its time budget', async () => {
    const listener: http.RequestListener = (_req, res) => void setTimeout(() => res.end('slow'), 40);
    const r = await warmUp(listener, ['/x'], { requests: 1000, budgetMs: 150, connections: 1 });
    expect(r.requests).toBeGreaterThan(0);
    expect(r.requests).toBeLessThan(20);
  });

  it('does nothing when asked for no requests', async () => {
    let calls = 0;
    const r = await warmUp(() => calls++, ['/x'], { requests: 0, budgetMs: 1000 });
    expect(r).toEqual({ requests: 0, ms: 0 });
    expect(calls).toBe(0);
  });

  it('survives a listener that drops connections', async () => {
    const r = await warmUp((req) => req.socket.destroy(), ['/x'], { requests: 5, budgetMs: 5000, connections: 1 });
    expect(r.requests).toBe(5);
  });
});

describe('serve with a warm-up', () => {
  let srv: RunningServer | undefined;
  let root: TmpRoot | undefined;
  afterEach(async () => {
    await srv?.close();
    await root?.cleanup();
    srv = undefined;
    root = undefined;
  });

  it('answers its own requests first, then serves from an empty cache, logging only phones', async () => {
    const mem = memoryLogger();
    srv = await startServer({ root: 'samples', host: '127.0.0.1', port: 0, log: mem.log, watch: false, warmUp: 200 });
    expect(srv.warmedUp.requests).toBeGreaterThan(0);
    expect(srv.warmedUp.requests).toBeLessThanOrEqual(200);
    // Nothing the warm-up rendered is held, and none of its requests reached the access log.
    expect(srv.provisioner.cachedFiles()).toBe(0);
    expect(mem.lines).toEqual([]);
    const status = await raw(srv, 'GET', '/-/status');
    expect(JSON.parse(status.text).cachedFiles).toBe(0);

    const first = await raw(srv, 'GET', '/y000000000068.cfg');
    expect(first.status).toBe(200);
    expect(srv.provisioner.cachedFiles()).toBe(1);
    const logged = mem.lines.map((l) => JSON.parse(l) as { path?: string }).filter((l) => l.path !== undefined);
    expect(logged.map((l) => l.path)).toEqual(['/-/status', '/y000000000068.cfg']);
  });

  it('without a warm-up (the library default) reports none', async () => {
    srv = await startServer({ root: 'samples', host: '127.0.0.1', port: 0, log: memoryLogger().log, watch: false });
    expect(srv.warmedUp).toEqual({ requests: 0, ms: 0 });
  });

  it('on a root that requires credentials: its requests are refused, and phones are still served', async () => {
    // The warm-up sends no credentials, so its own gate answers 401. The limits are set as tight
    // as they go (one failure locks a device, two distinct misses cool a client down), so any
    // state leaking from the warm-up's gate into the served one would show here.
    const hash = await hashPassword('Warm-Up-Pw-1');
    root = await makeTmpRoot({
      'profiles/global.yaml': appendYaml(`auth:\n  user: prov\n  password: "${hash}"\n`),
      'deskset.yaml': appendYaml('security:\n  enumeration:\n    max_distinct: 2\n  lockout:\n    attempts: 1\n'),
    });
    const mem = memoryLogger();
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: mem.log, watch: false, warmUp: 100 });
    expect(srv.warmedUp.requests).toBeGreaterThan(0);
    expect(mem.lines).toEqual([]);
    expect((await raw(srv, 'GET', '/0004f2a1b2c3.cfg')).status).toBe(401);
    const ok = await raw(srv, 'GET', '/0004f2a1b2c3.cfg', basic('prov', 'Warm-Up-Pw-1'));
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('0004f2a1b2c3');
  });
});
