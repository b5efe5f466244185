// Process, port, /proc and HTTP helpers for bench/run.js. Every child process goes through
// spawnTracked(), so killAll() can end them on exit, Ctrl-C or an error.

import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CLOCK_MONOTONIC in microseconds: the clock of V8 .cpuprofile timestamps. */
export const monoUs = () => Number(process.hrtime.bigint() / 1000n);

const started = performance.now();
export function log(msg) {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${msg}\n`);
}

// ---- children -------------------------------------------------------------------------

const children = new Set();
/** Extra pids to kill at the end that are not our direct children (nginx workers). */
const extraPids = new Set();

export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, opts);
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', () => children.delete(child));
  return child;
}

export function trackPid(pid) {
  extraPids.add(pid);
}

export function killAll(signal = 'SIGKILL') {
  for (const c of children) {
    try {
      c.kill(signal);
    } catch {}
  }
  for (const pid of extraPids) {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

/** Wait for a child to exit; SIGKILL it after `ms`. Resolves with its exit code or signal. */
export function waitExit(child, ms = 20_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {}
    }, ms);
    child.once('exit', (code, sig) => {
      clearTimeout(t);
      resolve(code ?? sig);
    });
  });
}

/** Run a command to completion (bounded by timeoutMs); capture output; time it. */
export function runCmd(cmd, args, { timeoutMs = 600_000, cwd, env, stdoutFile } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const out = stdoutFile ? openSync(stdoutFile, 'w') : 'pipe';
    const child = spawnTracked(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', out, 'pipe'] });
    if (typeof out === 'number') closeSync(out);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: stderr + e.message, ms: performance.now() - t0 });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, timedOut: signal === 'SIGKILL' });
    });
  });
}

export function which(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- /proc ------------------------------------------------------------------------------

/** VmRSS of a process, MB (undefined if it is gone). */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

const TICK = 100; // USER_HZ on Linux
/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return undefined;
  }
}

/** CPU seconds used by this process's children that have exited and been waited for. */
export function waitedChildrenCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / TICK;
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine, all cores (user, nice, system, irq, softirq, steal). */
export function machineBusyCpuSeconds() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) / TICK;
  } catch {
    return undefined;
  }
}

export function childPids(ppid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(d));
    } catch {}
  }
  return out;
}

/** Sum of VmRSS over processes, MB. */
export function rssSumMb(pids) {
  let sum;
  for (const p of pids) {
    const v = rssMb(p);
    if (v !== undefined) sum = (sum ?? 0) + v;
  }
  return sum === undefined ? undefined : Math.round(sum * 10) / 10;
}

/** Sample the summed RSS of `pids()` every `ms` until stopped; returns {peakMb, samples}. */
export function rssSampler(pids, ms = 100) {
  let peak = rssSumMb(pids()) ?? 0;
  let n = 0;
  const t = setInterval(() => {
    const v = rssSumMb(pids());
    if (v !== undefined) {
      peak = Math.max(peak, v);
      n++;
    }
  }, ms);
  return {
    stop: () => {
      clearInterval(t);
      return { peakMb: peak, samples: n };
    },
  };
}

// ---- HTTP -----------------------------------------------------------------------------

/** One GET with a fresh connection; resolves {status, body} or {error}. */
export function httpGet(url, { headers = {}, agent = false, timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

export function writeLines(file, lines) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
