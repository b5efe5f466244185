import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { BIN, collect } from './helpers/cli.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

// A 60 MB resource under load, served by `deskset serve` in a child process so that its RSS is
// measurable on its own: 100 concurrent downloads must not grow the server anywhere near one
// copy of the file per stream (which would be 6 GB), and a download aborted part-way must
// resume with Range + If-Range to the exact same bytes.
//
// Needs the compiled server code (bin/deskset.js runs dist/): `npm test` builds it first.

const MB = 1024 * 1024;
const FILE_SIZE = 60 * MB;
const CLIENTS = 100;
// Growth bound for the server's peak RSS over its idle baseline. Streaming keeps about one
// 64 KiB read buffer plus a socket write buffer per connection in flight (~13 MB for 100), and
// spent chunks wait for the next GC: measured growth is 60-90 MB on Node 20, mostly that
// garbage. Buffering per request would take 100 x 60 MB = 6 GB; even a handful of whole-file
// copies in flight would cross this line. (It cannot rule out one shared cached copy; the
// per-stream memory is what it is about.)
const MAX_RSS_GROWTH = 150 * MB;

let root: TmpRoot;
let file: string;
let fileSha: string;
let child: ChildProcess;
let port: number;
let served: ReturnType<typeof collect>;

function vmStatus(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

function fdsTo(pid: number, target: string): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(target)) n++;
    } catch {
      // fd closed between readdir and readlink
    }
  }
  return n;
}

interface Download {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha: string;
}

function download(headers: Record<string, string> = {}, hash = crypto.createHash('sha256')): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/big.bin', headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes, sha: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const onLinux = process.platform === 'linux';

describe.skipIf(!onLinux)('a 60 MB resource served by a separate deskset process', () => {
  beforeAll(async () => {
    root = await makeTmpRoot({}, 'deskset-large-');
    file = root.file('resources/big.bin');
    await fsp.mkdir(path.dirname(file), { recursive: true });
    // Written in chunks so the test process itself never holds the whole file either.
    const hash = crypto.createHash('sha256');
    const out = await fsp.open(file, 'w');
    try {
      for (let written = 0; written < FILE_SIZE; written += 4 * MB) {
        const chunk = crypto.randomBytes(Math.min(4 * MB, FILE_SIZE - written));
        hash.update(chunk);
        await out.write(chunk);
      }
    } finally {
      await out.close();
    }
    fileSha = hash.digest('hex');

    child = spawn(process.execPath, [BIN, 'serve', root.dir, '--port', '0', '--host', '127.0.0.1', '--no-watch', '--no-admin', '--warm-up', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    served = collect(child, 300_000);
    port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /deskset serving .* on http:\/\/[^:]+:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('close', (code) => reject(new Error(`server exited early with ${code}: ${err}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await served;
    await root?.cleanup();
  });

  it('serves 100 concurrent downloads intact without buffering the file', async () => {
    const pid = child.pid!;
    // Warm up the code path (module loading, first-request JIT) before taking the baseline.
    const warm = await download({ Range: 'bytes=0-1023' });
    expect(warm.status).toBe(206);
    await new Promise((r) => setTimeout(r, 200));
    const baseline = vmStatus(pid).rss;

    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, vmStatus(pid).rss);
      } catch {
        // process gone; the assertions below will say why
      }
    }, 5);

    let results: Download[];
    try {
      results = await Promise.all(Array.from({ length: CLIENTS }, () => download()));
    } finally {
      clearInterval(sampler);
    }
    // VmHWM is the kernel's own high-water mark, so a spike between samples is not missed.
    const { hwm } = vmStatus(pid);
    peak = Math.max(peak, hwm);
    const growth = peak - baseline;
    console.log(
      `server RSS: baseline ${(baseline / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB ` +
        `(sampled max + VmHWM), growth ${(growth / MB).toFixed(1)} MB for ${CLIENTS} x ${FILE_SIZE / MB} MB streams`,
    );

    expect(results).toHaveLength(CLIENTS);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(FILE_SIZE));
      expect(r.bytes).toBe(FILE_SIZE);
    }
    expect(new Set(results.map((r) => r.sha))).toEqual(new Set([fileSha]));
    expect(growth).toBeLessThan(MAX_RSS_GROWTH);

    // Every descriptor the 100 streams opened is closed again.
    const deadline = Date.now() + 5000;
    while (fdsTo(pid, file) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fdsTo(pid, file)).toBe(0);
  }, 240_000); // 6 GB through loopback: 25 s on a quiet machine, minutes when the suite shares two cores

  it('resumes an aborted download with Range + If-Range to the same bytes', async () => {
    const hash = crypto.createHash('sha256');
    const STOP_AFTER = 20 * MB;

    // First attempt: read about 20 MB, then drop the connection like a phone losing power.
    const first = await new Promise<{ received: number; etag: string }>((resolve, reject) => {
      let received = 0;
      let stopped = false;
      const req = http.get({ host: '127.0.0.1', port, path: '/big.bin', agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        res.on('data', (c: Buffer) => {
          if (stopped) return; // only bytes counted here are part of the resumed whole
          received += c.length;
          hash.update(c);
          if (received >= STOP_AFTER) {
            stopped = true;
            req.destroy();
            resolve({ received, etag: res.headers.etag! });
          }
        });
        res.on('end', () => reject(new Error('download finished before it could be aborted')));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!stopped) reject(err);
      });
    });
    expect(first.received).toBeGreaterThanOrEqual(STOP_AFTER);
    expect(first.received).toBeLessThan(FILE_SIZE);

    // Second attempt: the rest, conditional on the representation being unchanged.
    const rest = await download({ Range: `bytes=${first.received}-`, 'If-Range': first.etag }, hash);
    expect(rest.status).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes ${first.received}-${FILE_SIZE - 1}/${FILE_SIZE}`);
    expect(rest.headers['content-length']).toBe(String(FILE_SIZE - first.received));
    expect(rest.bytes).toBe(FILE_SIZE - first.received);
    expect(rest.sha).toBe(fileSha);

    // A stale validator gets the whole file again instead of a mismatched tail.
    const stale = await download({ Range: `bytes=${first.received}-`, 'If-Range': '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes).toBe(FILE_SIZE);
    expect(stale.sha).toBe(fileSha);

    // The aborted stream's descriptor was released too.
    const deadline = Date.now() + 5000;
    while (fdsTo(child.pid!, file) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fdsTo(child.pid!, file)).toBe(0);
  });

  it('the aborted download cost the server nothing: it stays up, logs the abort and no error', async () => {
    const health = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject);
    });
    expect(health).toBe(200);
    child.kill('SIGTERM');
    const { code, stdout, stderr } = await served;
    expect(code).toBe(0);
    // Nothing but the banner and the shutdown line on stderr: no stack trace, no unhandled error.
    expect(stderr).not.toMatch(/Error|at .*\.js:\d+/);
    // Every download, including the aborted one, is one access-log line for /big.bin.
    const lines = stdout.split('\n').filter((l) => l.includes('/big.bin'));
    expect(lines.length).toBeGreaterThanOrEqual(CLIENTS + 4);
  });
});
