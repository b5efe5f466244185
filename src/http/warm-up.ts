// Warm the request path before the first phone arrives.
//
// A freshly started node process runs its request code in V8's interpreter and compiles it
// while it serves: under the bench's cold-render load (every request a different device) the
// first 5,000 requests after start-up ran at 4,750–5,150 requests/s and the next 5,000 at
// 7,300–8,000, with V8's compiler threads busy on the machine's two cores meanwhile. After a
// power cut that first stretch is exactly when every phone asks at once. So `serve` first
// answers requests of its own, over loopback, through a throwaway copy of its request stack,
// and only then listens for phones. The copy has its own render cache, its own gate state and
// a log that writes nowhere, so nothing the warm-up did is served, counted or logged: it
// leaves compiled code behind, nothing else.

import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WarmUpOptions {
  /** How many requests to make (0: none). */
  requests: number;
  /** Stop early after this long, whatever is left. */
  budgetMs: number;
  /** Keep-alive connections used at once. */
  connections?: number;
}

export interface WarmUpResult {
  requests: number;
  ms: number;
}

/**
 * Serve `paths` (request targets, cycled) through `listener` on an ephemeral loopback port,
 * then close it. Never throws: a warm-up that cannot run (no loopback, say) only means the
 * first phones meet a cold process, so it reports how far it got.
 */
export async function warmUp(listener: RequestListener, paths: readonly string[], opts: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  if (opts.requests <= 0 || paths.length === 0) return { requests: 0, ms: 0 };
  const server = http.createServer(listener);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections ?? 8 });
  let sent = 0;
  let done = 0;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
    const deadline = started + opts.budgetMs;
    const one = (target: string) =>
      new Promise<void>((resolve) => {
        http
          .get({ host: '127.0.0.1', port, path: target, agent }, (res) => {
            res.resume();
            res.on('end', resolve);
            res.on('error', () => resolve());
          })
          .on('error', () => resolve());
      });
    const worker = async () => {
      while (sent < opts.requests && performance.now() < deadline) {
        await one(paths[sent++ % paths.length]!);
        done++;
      }
    };
    await Promise.all(Array.from({ length: opts.connections ?? 8 }, worker));
  } catch {
    /* no loopback listener: nothing warmed */
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { requests: done, ms: Math.round(performance.now() - started) };
}
