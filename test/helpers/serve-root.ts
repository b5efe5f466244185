// A real deskset server (startServer, as `deskset serve` runs it) on a throwaway root, and
// raw HTTP requests whose request target reaches the server exactly as written (fetch and
// URL objects would normalise `..` and percent-escapes away before they are sent).

import http from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/access-log.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** A pino logger that keeps its JSON lines in memory (nothing on stdout). */
export function memoryLogger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger(dest as unknown as Parameters<typeof createLogger>[0]), lines };
}

/** startServer on `root`, loopback, a free port; no watcher unless asked (then resolved once it watches). */
export async function serveRoot(root: string, opts: { watch?: boolean } = {}): Promise<RunningServer> {
  const running = await startServer({ root, host: '127.0.0.1', port: 0, watch: opts.watch ?? false, debounceMs: 50, log: memoryLogger().log });
  await running.watching;
  return running;
}

/** One request over a fresh connection; `target` is sent verbatim as the request target. */
export function raw(server: RunningServer, method: string, target: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const h = body ? { 'Content-Length': String(body.length), ...headers } : headers;
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: target, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const get = (server: RunningServer, target: string, headers: Record<string, string> = {}) => raw(server, 'GET', target, headers);
export const head = (server: RunningServer, target: string, headers: Record<string, string> = {}) => raw(server, 'HEAD', target, headers);
