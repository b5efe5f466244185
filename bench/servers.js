// The things bench/run.js measures and measures with: a deskset child process, an nginx
// child process with one worker, and wrk runs parsed from the scripts' WRKJSON line.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, cpuSeconds, freePort, httpGet, machineBusyCpuSeconds, monoUs, rssSumMb, sleep, spawnTracked, trackPid, waitExit, waitedChildrenCpuSeconds } from './lib.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..');
/** The deskset CLI the bench runs; usePackage() points it at a private copy. */
export let BIN = path.join(REPO, 'bin', 'deskset.js');
export function usePackage(dir) {
  BIN = path.join(dir, 'bin', 'deskset.js');
}

/**
 * Start `deskset serve ROOT` as a child process on a free loopback port. Its stdout (the JSON
 * access log) goes to a file under `workDir`; stderr is kept for the banner and errors.
 * Start-up time is spawn until GET /healthz answers 200 (polled every 20 ms).
 */
export async function startDeskset(root, { label, workDir, nodeArgs = [], serveArgs = [], timeoutMs = 20 * 60_000, sampleRss = false }) {
  const port = await freePort();
  const logFile = path.join(workDir, `deskset-${label}.log`);
  const fd = openSync(logFile, 'w');
  const spawnUs = monoUs();
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, [...nodeArgs, BIN, 'serve', root, '--host', '127.0.0.1', '--port', String(port), ...serveArgs], {
    cwd: workDir,
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  let stderr = '';
  let bannerMs;
  child.stderr.on('data', (d) => {
    if (stderr.length < 256 * 1024) stderr += d;
    if (bannerMs === undefined && stderr.includes('deskset serving')) bannerMs = performance.now() - t0;
  });
  // With --workers N the server is the primary plus its cluster workers: count them all.
  const serverPids = () => [child.pid, ...childPids(child.pid)];
  let peak = 0;
  const sampler = sampleRss ? setInterval(() => (peak = Math.max(peak, rssSumMb(serverPids()) ?? 0)), 200) : undefined;
  const base = `http://127.0.0.1:${port}`;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`deskset serve exited (${child.exitCode ?? child.signalCode}) before answering /healthz:\n${stderr.slice(-2000)}`);
      if (performance.now() - t0 > timeoutMs) {
        child.kill('SIGKILL');
        throw new Error(`deskset serve did not answer /healthz within ${timeoutMs / 1000} s`);
      }
      const r = await httpGet(`${base}/healthz`, { timeoutMs: 2000 });
      if (r.status === 200) break;
      await sleep(20);
    }
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const startupMs = performance.now() - t0;
  const readyUs = monoUs();
  const rss = rssSumMb(serverPids());
  return {
    kind: 'deskset',
    label,
    child,
    pid: child.pid,
    port,
    base,
    logFile,
    startupMs,
    bannerMs,
    spawnUs,
    readyUs,
    rssAfterStartMb: rss,
    peakRssDuringStartMb: sampleRss ? Math.max(peak, rss ?? 0) : undefined,
    serverPids,
    rssMb: () => rssSumMb(serverPids()),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return waitExit(child, 30_000);
    },
  };
}

/**
 * Wait until a started deskset has validated every device. Large roots are served before
 * their files are all validated (the rest is checked in the background); /-/status says
 * `validating: {done, total}` until that is over. Returns ms since spawn, or why not known.
 */
/**
 * Until the server's reload-check threads have checked the start-up root (`reloadChecks.ready`
 * on /-/status; a root too small for threads has none): a reload measured before that also
 * measures the start-up. Returns how long it waited.
 */
export async function waitReloadChecks(ds, timeoutMs = 5 * 60_000) {
  const t0 = performance.now();
  for (;;) {
    const r = await httpGet(`${ds.base}/-/status`, { timeoutMs: 10_000 });
    const checks = r.status === 200 ? JSON.parse(r.body.toString('utf8')).reloadChecks : undefined;
    if (!checks || checks.ready || performance.now() - t0 > timeoutMs) return { threads: checks?.threads ?? 0, ready: checks?.ready ?? null, waitedMs: Math.round(performance.now() - t0) };
    await sleep(250);
  }
}

export async function waitValidated(ds, timeoutMs = 20 * 60_000) {
  const t0 = performance.now();
  let last;
  for (;;) {
    const r = await httpGet(`${ds.base}/-/status`, { timeoutMs: 10_000 });
    if (r.status !== 200) return { known: false, reason: `/-/status answered ${r.status ?? r.error}` };
    try {
      last = JSON.parse(r.body.toString('utf8'));
    } catch {
      return { known: false, reason: '/-/status is not JSON' };
    }
    if (!last.validating) return { known: true, validatedMs: Math.round(ds.startupMs + performance.now() - t0), waitedMs: Math.round(performance.now() - t0), healthy: last.healthy };
    if (performance.now() - t0 > timeoutMs) return { known: false, reason: `still validating after ${timeoutMs / 1000} s (${last.validating.done}/${last.validating.total})` };
    await sleep(250);
  }
}

/**
 * Start nginx (one worker) serving `docroot` on a free loopback port from a private prefix
 * directory: `nginx -p DIR -c nginx.conf -g 'daemon off;'`.
 */
export async function startNginx(nginxBin, docroot, { label, workDir }) {
  const port = await freePort();
  const dir = path.join(workDir, `nginx-${label}`);
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const conf = `# Written by bench/run.js. One worker, as the issue asks; otherwise a plain static
# server as Debian ships it (sendfile on), access log to a file like deskset's.
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
  default_type text/plain;
  types { application/octet-stream bin ld rom; }
  sendfile on;
  tcp_nopush on;
  # Keep-alive for the whole run, as deskset does (Node has no per-connection request cap).
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  # One combined-format line per request, buffered as pino's async writer buffers.
  access_log logs/access.log combined buffer=64k flush=1s;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${docroot};
  }
}
`;
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = spawnTracked(nginxBin, ['-p', dir, '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const errLog = existsSync(path.join(dir, 'logs', 'error.log')) ? readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8') : '';
      throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${stderr}${errLog}`.slice(0, 2000));
    }
    if (performance.now() - t0 > 15_000) throw new Error('nginx did not start within 15 s');
    const r = await httpGet(`${base}/`, { timeoutMs: 1000 });
    if (r.status !== undefined) break;
    await sleep(20);
  }
  const workers = childPids(child.pid);
  for (const w of workers) trackPid(w);
  return {
    kind: 'nginx',
    label,
    child,
    pid: child.pid,
    port,
    base,
    dir,
    logFile: path.join(dir, 'logs', 'access.log'),
    serverPids: () => childPids(child.pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return waitExit(child, 10_000);
    },
  };
}

/**
 * Run wrk and parse the WRKJSON line its script prints. `once` mode (wrk-once.lua) ends wrk
 * with SIGINT as soon as every thread has touched its done file. CPU seconds of the client and
 * of the server processes over the run are recorded, so a reader can see which side was busy.
 */
export async function runWrk({ wrkBin, mode, base, pathsFile, duration, connections, threads, server, workDir, timeout = '10s' }) {
  const script = path.join(HERE, mode === 'once' ? 'wrk-once.lua' : 'wrk-random.lua');
  let doneDir;
  const scriptArgs = [pathsFile];
  if (mode === 'once') {
    doneDir = path.join(workDir, `wrk-done-${process.hrtime.bigint()}`);
    rmSync(doneDir, { recursive: true, force: true });
    mkdirSync(doneDir, { recursive: true });
    scriptArgs.push(doneDir, String(threads));
  }
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${duration}s`, '--timeout', timeout, '-s', script, base, '--', ...scriptArgs];
  const serverPids = server ? server.serverPids() : [];
  const serverCpu0 = serverPids.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0);
  const machine0 = machineBusyCpuSeconds();
  const children0 = waitedChildrenCpuSeconds();
  const load1 = os.loadavg()[0];
  const startUs = monoUs();
  const t0 = performance.now();
  const child = spawnTracked(wrkBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let clientCpu = 0;
  let interrupted = false;
  const poll = setInterval(() => {
    clientCpu = cpuSeconds(child.pid) ?? clientCpu;
    if (doneDir && !interrupted) {
      let n = 0;
      try {
        n = readdirSync(doneDir).length;
      } catch {}
      if (n >= threads) {
        interrupted = true;
        child.kill('SIGINT');
      }
    }
  }, mode === 'once' ? 10 : 200);
  const code = await waitExit(child, (duration + 60) * 1000);
  clearInterval(poll);
  const endUs = monoUs();
  const wallS = (performance.now() - t0) / 1000;
  const serverCpu1 = serverPids.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0);
  const machine1 = machineBusyCpuSeconds();
  // wrk's exact CPU: it has exited and been waited for, so it is in our children's times.
  const waited = waitedChildrenCpuSeconds();
  if (waited !== undefined && children0 !== undefined && waited - children0 >= clientCpu) clientCpu = waited - children0;
  if (doneDir) rmSync(doneDir, { recursive: true, force: true });
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk (exit ${code}) printed no result: ${stderr || stdout}`.slice(0, 2000));
  const r = JSON.parse(line.slice('WRKJSON '.length));
  const durS = r.duration_us / 1e6;
  const out = {
    mode,
    connections,
    threads,
    requests: r.requests,
    durationS: round(durS, 3),
    rps: round(r.requests / durS, 0),
    mbPerS: round(r.bytes / durS / 1e6, 1),
    bytes: r.bytes,
    latencyMs: { mean: r.latency_us.mean / 1000, p50: r.latency_us.p50 / 1000, p90: r.latency_us.p90 / 1000, p99: r.latency_us.p99 / 1000, max: r.latency_us.max / 1000 },
    errors: r.errors,
    clientCpuS: round(clientCpu, 2),
    serverCpuS: round(serverCpu1 - serverCpu0, 2),
    // Everything else the machine did meanwhile (other processes, the bench itself): noise.
    otherCpuS: machine0 === undefined ? undefined : round(Math.max(0, machine1 - machine0 - (serverCpu1 - serverCpu0) - clientCpu), 2),
    wallS: round(wallS, 2),
    load1: round(load1, 2),
    startUs,
    endUs,
  };
  if (mode === 'once') {
    const winS = r.once.window_us / 1e6;
    out.once = { planned: r.once.planned, responses: r.once.responses, non2xx: r.once.non2xx, finished: r.once.finished, windowS: round(winS, 3) };
    // Rate over the threads' own window (first request to last response), not wrk's -d.
    out.rps = winS > 0 && r.once.finished ? round(r.once.responses / winS, 0) : round(r.once.responses / wallS, 0);
  }
  return out;
}

export function round(x, digits = 1) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
