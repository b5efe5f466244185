// The fast path when a request goes wrong inside deskset (http/listener.ts): a failure while
// deciding a reply, or while writing it at the end of the turn, answers that phone 500 with
// no body, logs why and logs its access line; the other replies still go out, and the server
// serves normally afterwards. Faults are injected into a real server's provisioner.

import { afterEach, describe, expect, it } from 'vitest';
import type { Rendered } from '../src/render/render.js';
import type { Served } from '../src/service/provisioner.js';
import { startServer, type RunningServer } from '../src/server.js';
import { memoryLogger, raw } from './helpers/serve-root.js';

const GOOD = '/y000000000068.cfg';
const THROWS = '/805ec0123456.cfg';
const BAD_HEADER = '/805ec0abcdef.cfg';

describe('fast path faults', () => {
  let srv: RunningServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('answers 500 for a request that fails, still serves the requests beside it, and logs why', async () => {
    const mem = memoryLogger();
    srv = await startServer({ root: 'samples', host: '127.0.0.1', port: 0, log: mem.log, watch: false });
    const p = srv.provisioner;
    const render = p.render.bind(p);
    p.render = (r: Served): Served => {
      const path = r.resolution.kind === 'render' ? r.resolution.target.path : '';
      if (path === THROWS.slice(1)) throw new Error('injected render fault');
      const out = render(r);
      // A header value node:http refuses: writeHead throws when the reply is written.
      if (path === BAD_HEADER.slice(1) && out.rendered) {
        const bad = Object.create(out.rendered, { contentType: { value: 'text/plain\r\nX-Injected: 1' } }) as Rendered;
        return { snapshot: out.snapshot, resolution: out.resolution, rendered: bad };
      }
      return out;
    };

    const [good, throws, badHeader] = await Promise.all([raw(srv, 'GET', GOOD), raw(srv, 'GET', THROWS), raw(srv, 'GET', BAD_HEADER)]);
    expect(good.status).toBe(200);
    expect(good.text).toContain('#!version:1.0.0.1');
    for (const r of [throws, badHeader]) {
      expect(r.status).toBe(500);
      expect(r.body.length).toBe(0);
      expect(r.headers['x-injected']).toBeUndefined();
    }
    const logged = mem.lines.map((l) => JSON.parse(l) as { msg?: string; err?: string });
    const failures = logged.filter((l) => l.msg === 'request failed').map((l) => l.err);
    expect(failures).toHaveLength(2);
    expect(failures).toContain('injected render fault');
    expect(failures.some((e) => /Invalid character in header content/.test(e ?? ''))).toBe(true);
    // Each failure also has its access line, as every answered request does.
    const access = mem.lines.map((l) => JSON.parse(l) as { path?: string; status?: number; reason?: string }).filter((l) => l.path);
    for (const path of [THROWS, BAD_HEADER]) expect(access).toContainEqual(expect.objectContaining({ path, status: 500, reason: 'internal error' }));
    expect(access).toContainEqual(expect.objectContaining({ path: GOOD, status: 200 }));

    // And afterwards everything is served as usual.
    p.render = render;
    for (const path of [GOOD, THROWS, BAD_HEADER]) expect((await raw(srv, 'GET', path)).status).toBe(200);
  });
});
