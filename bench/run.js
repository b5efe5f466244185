#!/usr/bin/env node
// `npm run bench`: deskset against nginx, on loopback, in the same run. See docs/performance.md.
//
//   node bench/run.js [--devices 10000] [--only A,B,C,D,E,FW,R,RG,IM,DIFF,TFTP,TW] [--duration 10] [--rounds 3]
//                     [--large | --no-large] [--workers N] [--profile] [--keep] [--out FILE]
//
// Scenarios: A cached config, B cold render, C boot storm, D scale (start-up, RSS; 100k),
// E CLI (check with XSD, render), FW firmware download, R reload latency, RG requests during a
// global-profile reload, IM import of a 1,000-phone folder, DIFF `deskset diff` of a global
// change, TFTP (50 MB vs in.tftpd, 1,000-phone storm; bench/tftp.js), TW the faster twins against
// their references in one process (bench/twins.js). Prints a table and writes bench/results/<YYYY-MM-DD>.json (a partial --only run writes <date>.<only>.json).

import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, chmodSync, cpSync, symlinkSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { prng, writeRoot } from './gen-root.js';
import { writeImportFolder } from './gen-import.js';
import { formatSummary, summarize } from './profile-summary.js';
import { cpuSeconds, httpGet, killAll, log, median, rssSampler, runCmd, sleep, which, writeLines } from './lib.js';
import { BIN, REPO, round, runWrk, startDeskset, startNginx, usePackage, waitReloadChecks, waitValidated } from './servers.js';
import { scenarioTFTP } from './tftp.js';
import { scenarioTW } from './twins.js';

// ---- options ----------------------------------------------------------------------------

const ALL = ['A', 'B', 'C', 'D', 'E', 'FW', 'R', 'RG', 'IM', 'DIFF', 'TFTP', 'TW'];
const ALIASES = { F: 'FW', FIRMWARE: 'FW', RELOAD: 'R', 'RELOAD-GLOBAL': 'RG', IMPORT: 'IM', D2: 'DIFF', TWINS: 'TW' };
const { values: opt } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    only: { type: 'string' },
    large: { type: 'boolean' },
    'no-large': { type: 'boolean' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    'wrk-threads': { type: 'string', default: '2' },
    phones: { type: 'string' },
    concurrency: { type: 'string', default: '256' },
    'fw-clients': { type: 'string', default: '8' },
    'fw-mb': { type: 'string', default: '60' },
    'large-devices': { type: 'string', default: '100000' },
    workers: { type: 'string' },
    'check-threads': { type: 'string' },
    profile: { type: 'boolean' },
    keep: { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 9).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const num = (name, min = 1) => {
  const v = Number(opt[name]);
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`bench: bad --${name} ${opt[name]}\n`);
    process.exit(2);
  }
  return v;
};
const DEVICES = num('devices');
const DURATION = num('duration');
const ROUNDS = num('rounds');
/** nginx passes run after each of B's cold deskset passes; the pass is paired with their median. */
const B_NGINX_PASSES = 3;
/** TW's alternating rounds per twin: at least this many, more with a larger --rounds. */
const TW_MIN_ROUNDS = 7;
const CONNECTIONS = num('connections');
const WRK_THREADS = num('wrk-threads');
const PHONES = opt.phones ? num('phones') : Math.min(DEVICES, 10_000);
const CONCURRENCY = num('concurrency');
const FW_CLIENTS = num('fw-clients');
const FW_MB = num('fw-mb');
const LARGE_DEVICES = num('large-devices');
const only = opt.only ? new Set(opt.only.split(',').map((s) => s.trim().toUpperCase()).map((s) => ALIASES[s] ?? s)) : new Set(ALL);
for (const s of only) {
  if (!ALL.includes(s)) {
    process.stderr.write(`bench: unknown scenario "${s}" (known: ${ALL.join(', ')}; aliases firmware, reload, reload-global)\n`);
    process.exit(2);
  }
}
const want = (s) => only.has(s);
// The 100k part of D runs with D by default (1 to 3 minutes here); --no-large skips it,
// --large runs it even when --only leaves D out.
const LARGE = opt.large || (want('D') && !opt['no-large']);
const SERVE_ARGS = [...(opt.workers ? ['--workers', opt.workers] : []), ...(opt['check-threads'] ? ['--check-threads', opt['check-threads']] : [])];

// ---- run state, cleanup ---------------------------------------------------------------------

const work = mkdtempSync(path.join(os.tmpdir(), 'deskset-bench-'));
// nginx's worker runs as an unprivileged user when we are root: let it read what we serve.
chmodSync(work, 0o755);
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killAll('SIGKILL');
  if (!opt.keep) rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping every process the bench started`);
    killAll('SIGTERM');
    setTimeout(() => {
      cleanup();
      process.exit(130);
    }, 300).unref();
  });
}

const results = {
  schema: 1,
  date: new Date().toISOString().slice(0, 10),
  startedAt: new Date().toISOString(),
  options: { devices: DEVICES, only: [...only], large: LARGE, largeDevices: LARGE_DEVICES, duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, wrkThreads: WRK_THREADS, phones: PHONES, concurrency: CONCURRENCY, fwClients: FW_CLIENTS, fwMb: FW_MB, workers: opt.workers ?? null, checkThreads: opt['check-threads'] ?? null, profile: Boolean(opt.profile) },
  env: {},
  method: {
    deskset: 'node bin/deskset.js serve ROOT --host 127.0.0.1 --port P, one process; its stdout (JSON access log, one line per request) goes to a file in the temp dir',
    nginx: 'nginx -p TMP -c nginx.conf -g "daemon off;", worker_processes 1, sendfile on, keepalive_requests 1000000, access_log to a file (combined, buffer=64k flush=1s)',
    sameBytes: 'nginx serves the directory written by `deskset render` of the same root (scenarios A and B), or the same firmware file (FW)',
    ratio: `deskset/nginx from the same run. A and FW: rounds alternate (deskset, nginx, deskset, nginx, ...); each deskset round is paired with the nginx round after it and the ratio is the median of the paired ratios (ratioOfMedians is kept too). B: ${ROUNDS} cold deskset passes (a fresh server each), each paired with the median of the ${B_NGINX_PASSES} nginx passes after it; the ratio is the median of the paired ratios`,
    load: 'wrk (Debian) with bench/wrk-random.lua or bench/wrk-once.lua; boot storm by bench/boot-storm.js (Node)',
  },
  scenarios: {},
  skipped: [],
  problems: [],
};
const skip = (scenario, reason) => {
  results.skipped.push({ scenario, reason });
  log(`skip ${scenario}: ${reason}`);
};

// ---- tools ------------------------------------------------------------------------------

async function ensureTools() {
  let nginx = which('nginx');
  let wrk = which('wrk');
  const missing = [!nginx && 'nginx', !wrk && 'wrk'].filter(Boolean);
  if (missing.length) {
    const root = process.getuid?.() === 0;
    if (root && which('apt-get')) {
      log(`installing ${missing.join(' and ')} from Debian packages (apt-get update; apt-get install -y ${missing.join(' ')})`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const up = await runCmd('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
      if (up.code !== 0) results.problems.push(`apt-get update failed: ${up.stderr.slice(-500)}`);
      const inst = await runCmd('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 600_000 });
      if (inst.code !== 0) results.problems.push(`apt-get install ${missing.join(' ')} failed: ${inst.stderr.slice(-500)}`);
      else log('installed. Note: on a systemd host the Debian nginx package enables its own service on port 80; the bench does not use it (systemctl disable --now nginx to stop it).');
      nginx = which('nginx');
      wrk = which('wrk');
    } else {
      const how = root ? 'no apt-get on this system' : 'not running as root';
      const msg = `${missing.join(' and ')} not found and ${how}: install them (Debian: sudo apt-get install ${missing.join(' ')}) and run again`;
      process.stderr.write(`bench: ${msg}\n`);
      results.problems.push(msg);
    }
  }
  return { nginx, wrk };
}

async function environment(tools) {
  const git = await runCmd('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { timeoutMs: 10_000 });
  const dirty = await runCmd('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'templates', 'schemas', 'bin', 'package.json'], { timeoutMs: 10_000 });
  const nginxV = tools.nginx ? (await runCmd(tools.nginx, ['-v'])).stderr.trim() : null;
  const wrkV = tools.wrk ? ((await runCmd(tools.wrk, ['-v'])).stdout.split('\n')[0] ?? '').trim() : null;
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  return {
    node: process.version,
    deskset: pkg.version,
    commit: git.stdout.trim() || null,
    uncommittedChangesInSrc: dirty.stdout.trim() ? dirty.stdout.trim().split('\n').length : 0,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    nginx: nginxV,
    wrk: wrkV,
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

// ---- fixtures ---------------------------------------------------------------------------

async function generate(n, dir) {
  const t0 = performance.now();
  const { fleet } = await writeRoot(dir, n, 1);
  const ms = performance.now() - t0;
  log(`generated ${n} devices in ${dir} (${(ms / 1000).toFixed(1)} s)`);
  return { dir, fleet, ms };
}

/** A: every Poly and Yealink `<mac>.cfg`. */
const pathsA = (fleet) => fleet.filter((d) => d.vendor !== 'avaya').map((d) => `/${d.mac}.cfg`);
/** B: one file per device, the one with its lines and credentials. */
const pathsB = (fleet) => fleet.map((d) => (d.vendor === 'avaya' ? `/${d.mac}.txt` : d.vendor === 'polycom' ? `/${d.mac}-settings.cfg` : `/${d.mac}.cfg`));

/** The same bytes from both servers, for a few paths: a harness that compared different files would be worthless. */
async function sameBytes(a, b, paths) {
  for (const p of paths) {
    const [x, y] = await Promise.all([httpGet(`${a.base}${p}`), httpGet(`${b.base}${p}`)]);
    if (x.status !== 200 || y.status !== 200 || !x.body.equals(y.body)) {
      return `${p}: deskset ${x.status ?? x.error} ${x.body?.length ?? ''} B, nginx ${y.status ?? y.error} ${y.body?.length ?? ''} B${x.body && y.body && x.status === 200 && y.status === 200 ? ' (bodies differ)' : ''}`;
    }
  }
  return undefined;
}

const wrkOpts = (tools) => ({ wrkBin: tools.wrk, connections: CONNECTIONS, threads: WRK_THREADS, workDir: work });

// ---- scenarios ----------------------------------------------------------------------------

/** E: the CLI on the generated root. `render` always runs when A, B or C need its output. */
async function scenarioE(root, renderedDir) {
  const out = {};
  log('E: deskset render');
  // The bytes phones get: newer deskset masks secrets in previews unless --show-secrets.
  let r = await runCmd(process.execPath, [BIN, 'render', root, '--out', renderedDir, '--show-secrets'], { cwd: work, timeoutMs: 30 * 60_000 });
  if (r.code === 2 && /show-secrets/.test(r.stderr)) {
    rmSync(renderedDir, { recursive: true, force: true });
    r = await runCmd(process.execPath, [BIN, 'render', root, '--out', renderedDir], { cwd: work, timeoutMs: 30 * 60_000 });
  }
  out.render = { seconds: round(r.ms / 1000, 2), exit: r.code, summary: r.stdout.trim().split('\n').pop() };
  if (r.code !== 0) throw new Error(`deskset render failed (${r.code}): ${r.stderr.slice(-2000)}`);
  if (want('E')) {
    log('E: deskset check (XSD validation on, the default)');
    const c = await runCmd(process.execPath, [BIN, 'check', root], { cwd: work, timeoutMs: 30 * 60_000 });
    out.check = { seconds: round(c.ms / 1000, 2), exit: c.code, summary: c.stdout.trim().split('\n').pop(), xsd: 'libxml2-wasm (default engine)' };
    if (c.code !== 0) results.problems.push(`deskset check exited ${c.code}: ${(c.stdout + c.stderr).slice(-1000)}`);
  }
  return out;
}

/** IM: `deskset import` of a generated folder of 1,000 Yealink phones, round-trip check included. */
async function scenarioIM() {
  const dir = path.join(work, 'import');
  const gen = writeImportFolder(dir, 1000);
  log('IM: deskset import of 1,000 phones (--dry-run: plans, renders back and compares every phone)');
  const r = await runCmd(process.execPath, [BIN, 'import', gen.phones, '--models', gen.csv, '--into', path.join(dir, 'root'), '--dry-run'], { cwd: work, timeoutMs: 10 * 60_000 });
  const summary = r.stdout.split('\n').find((l) => /equal, .* differ/.test(l)) ?? '';
  const lines = r.stdout.split('\n').find((l) => l.startsWith('lines in')) ?? '';
  if (r.code !== 0) throw new Error(`deskset import failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return { phones: 1000, seconds: round(r.ms / 1000, 2), exit: r.code, summary, lines };
}

/** A (and D for the 10k root, and R): cached config on a warm deskset vs nginx. */
async function scenarioA(tools, root, fleet, nginx) {
  const paths = pathsA(fleet);
  const list = path.join(work, 'paths-a.txt');
  writeLines(list, paths);
  const ds = await startDeskset(root, { label: 'A', workDir: work, serveArgs: SERVE_ARGS });
  log(`A: deskset up in ${(ds.startupMs / 1000).toFixed(2)} s, RSS ${ds.rssAfterStartMb} MB`);
  const out = { paths: paths.length, deskset: { startupMs: Math.round(ds.startupMs), rssAfterStartMb: ds.rssAfterStartMb, rounds: [] }, nginx: nginx ? { rounds: [] } : null };
  try {
    // A measures the steady state: let a background validation of the root finish first.
    out.deskset.validation = await waitValidated(ds);
    if (out.deskset.validation.known) log(`A: every device validated ${(out.deskset.validation.validatedMs / 1000).toFixed(2)} s after spawn`);
    out.deskset.rssAfterValidationMb = ds.rssMb();
    if (nginx) {
      const diff = await sameBytes(ds, nginx, prng(3).shuffle([...paths]).slice(0, 50));
      if (diff) throw new Error(`A: deskset and nginx disagree: ${diff}`);
    }
    // Only R asked for: no load needed.
    const load = want('A') || want('D');
    // Warm-up, the same for both: every path once (fills deskset's cache), then 2 s at random.
    for (const s of load ? [ds, nginx].filter(Boolean) : []) {
      log(`A: warm-up ${s.kind}`);
      const w = await runWrk({ ...wrkOpts(tools), mode: 'once', base: s.base, pathsFile: list, duration: 300, server: s });
      const w2 = await runWrk({ ...wrkOpts(tools), mode: 'random', base: s.base, pathsFile: list, duration: 2, server: s });
      out[s.kind].warmup = { once: { rps: w.rps, non2xx: w.once.non2xx, finished: w.once.finished }, random2s: { rps: w2.rps } };
    }
    for (let i = 0; i < (load ? ROUNDS : 0); i++) {
      for (const s of [ds, nginx].filter(Boolean)) {
        const r = await runWrk({ ...wrkOpts(tools), mode: 'random', base: s.base, pathsFile: list, duration: DURATION, server: s });
        log(`A: round ${i + 1} ${s.kind}: ${r.rps} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, client CPU ${r.clientCpuS} s, server CPU ${r.serverCpuS} s, other processes ${r.otherCpuS} s, load ${r.load1}`);
        out[s.kind].rounds.push(strip(r));
      }
    }
    if (load) out.deskset.rssAfterAMb = ds.rssMb();
    const sum = (s) => ({ rps: median(s.rounds.map((r) => r.rps)), p50Ms: median(s.rounds.map((r) => r.latencyMs.p50)), p99Ms: median(s.rounds.map((r) => r.latencyMs.p99)), non2xx: s.rounds.reduce((t, r) => t + r.errors.status, 0), socketErrors: s.rounds.reduce((t, r) => t + r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout, 0) });
    Object.assign(out.deskset, sum(out.deskset));
    if (nginx) {
      Object.assign(out.nginx, sum(out.nginx));
      // Each deskset round is paired with the nginx round right after it (same machine
      // weather); the ratio is the median of those paired ratios.
      out.ratioPerRound = out.deskset.rounds.map((r, i) => round(r.rps / out.nginx.rounds[i].rps, 3));
      out.ratio = round(median(out.ratioPerRound), 3);
      out.ratioOfMedians = round(out.deskset.rps / out.nginx.rps, 3);
    }
    if (want('R')) results.scenarios.R = await scenarioR(ds, root, fleet);
  } finally {
    await ds.stop();
  }
  // A runs with the inventory on (the default SQLite store): every device asked for is recorded.
  if (want('A')) out.inventory = await inventoryCounts(root);
  return out;
}

/** Keep a wrk result readable in the JSON. */
function strip(r) {
  const { startUs, endUs, ...rest } = r;
  return rest;
}

/** R: rewrite one device file under a running server; time until its new bytes are served. */
async function scenarioR(ds, root, fleet) {
  const d = fleet.find((x) => x.vendor === 'yealink');
  const file = path.join(root, 'profiles', 'devices', `${d.mac}.yaml`);
  const url = `${ds.base}/${d.mac}.cfg`;
  const samples = [];
  // The slowest single answer while a reload was under way: a rebuild that blocks the event
  // loop stalls every request, not only this device's.
  const slowestPoll = [];
  const original = await fsp.readFile(file, 'utf8');
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 1; i <= 5; i++) {
      const name = `Reload Test ${i} ${Date.now() % 100000}`;
      const text = original.replace(/display_name: "[^"]*"/, `display_name: "${name}"`);
      const expect = `account.1.display_name = ${name}`;
      const t0 = performance.now();
      await fsp.writeFile(file, text);
      let ms;
      let polls = 0;
      let slowest = 0;
      while (performance.now() - t0 < 30_000) {
        const p0 = performance.now();
        const r = await httpGet(url, { agent, timeoutMs: 5000 });
        slowest = Math.max(slowest, performance.now() - p0);
        polls++;
        if (r.status === 200 && r.body.includes(expect)) {
          ms = performance.now() - t0;
          break;
        }
        await sleep(10);
      }
      samples.push(ms === undefined ? null : Math.round(ms));
      slowestPoll.push(Math.round(slowest));
      log(`R: reload ${i}: ${ms === undefined ? 'not served within 30 s' : `${Math.round(ms)} ms`} (${polls} polls, slowest answer ${Math.round(slowest)} ms)`);
      await sleep(1000);
    }
  } finally {
    agent.destroy();
    await fsp.writeFile(file, original);
  }
  const ok = samples.filter((x) => x !== null);
  return { device: d.mac, path: `/${d.mac}.cfg`, pollMs: 10, samplesMs: samples, slowestPollMs: slowestPoll, medianMs: median(ok), maxMs: ok.length === samples.length ? Math.max(...ok) : null, failures: samples.length - ok.length };
}

/** RG's load: clients that each fetch a config, pause, and fetch again, as phones polling do. */
const RG_CLIENTS = 4;
const RG_PAUSE_MS = 10;
const RG_ROUNDS = 3;

/**
 * RG: edit one value in profiles/global.yaml under a running server (every device is affected)
 * while clients fetch configs; the latency of every request that started during the reload
 * (p99 and max), and how long the reload took (edit to new bytes served, and the server's own
 * figure). A reload that blocks the event loop shows here as one very slow request.
 */
async function scenarioRG(ds, root, fleet) {
  const file = path.join(root, 'profiles', 'global.yaml');
  const original = await fsp.readFile(file, 'utf8');
  const KEY = /"phone_setting\.backlight_time": \d+/;
  if (!KEY.test(original)) throw new Error('RG: global.yaml has no phone_setting.backlight_time to edit');
  const paths = pathsA(fleet);
  // The new value is looked for in a Yealink phone that inherits it (some set their own).
  let probe;
  for (const d of fleet.filter((x) => x.vendor === 'yealink')) {
    if ((await httpGet(`${ds.base}/${d.mac}.cfg`)).body?.includes(`phone_setting.backlight_time = ${original.match(KEY)[0].split(': ')[1]}`)) {
      probe = d;
      break;
    }
  }
  if (!probe) throw new Error('RG: no Yealink phone serves the global backlight_time');
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: RG_CLIENTS + 1 });
  const rounds = [];
  try {
    for (let i = 1; i <= RG_ROUNDS; i++) {
      const value = 60 + i;
      const samples = [];
      let stop = false;
      const pick = prng(100 + i);
      const client = async () => {
        while (!stop) {
          const t = performance.now();
          const r = await httpGet(`${ds.base}${pick.pick(paths)}`, { agent, timeoutMs: 30_000 });
          samples.push({ at: t, ms: performance.now() - t, ok: r.status === 200 });
          await sleep(RG_PAUSE_MS);
        }
      };
      const clients = Array.from({ length: RG_CLIENTS }, client);
      await sleep(500); // steady state before the edit
      const t0 = performance.now();
      const cpu0 = cpuSeconds(ds.pid);
      await fsp.writeFile(file, original.replace(KEY, `"phone_setting.backlight_time": ${value}`));
      let servedMs;
      while (performance.now() - t0 < 60_000) {
        const r = await httpGet(`${ds.base}/${probe.mac}.cfg`, { agent, timeoutMs: 30_000 });
        if (r.status === 200 && r.body.includes(`phone_setting.backlight_time = ${value}`)) {
          servedMs = performance.now() - t0;
          break;
        }
        await sleep(RG_PAUSE_MS);
      }
      // CPU the server used from the edit until the new value was served (reload plus the
      // requests meanwhile): on a busy machine wall times stretch, this does not.
      const cpu1 = cpuSeconds(ds.pid);
      stop = true;
      await Promise.all(clients);
      const during = samples.filter((x) => x.at >= t0 && x.at <= t0 + (servedMs ?? 60_000)).map((x) => x.ms).sort((a, b) => a - b);
      // The same clients in the half second before the edit: what this machine gives without a reload.
      const before = samples.filter((x) => x.at < t0).map((x) => x.ms).sort((a, b) => a - b);
      const pct = (list, q) => (list.length ? round(list[Math.min(list.length - 1, Math.floor(list.length * q))], 1) : null);
      const status = JSON.parse((await httpGet(`${ds.base}/-/status`)).body.toString('utf8'));
      const round_ = {
        servedMs: servedMs === undefined ? null : Math.round(servedMs),
        serverReloadMs: status.lastReload?.ms ?? null,
        serverCpuMs: cpu0 === undefined || cpu1 === undefined ? null : Math.round((cpu1 - cpu0) * 1000),
        reloadOk: status.lastReload?.ok ?? null,
        requests: during.length,
        failed: samples.filter((x) => !x.ok).length,
        p99Ms: pct(during, 0.99),
        maxMs: pct(during, 1),
        beforeEdit: { requests: before.length, p99Ms: pct(before, 0.99), maxMs: pct(before, 1) },
        // When the slowest ones started, from the edit: which part of the reload they met.
        slowest: samples.filter((x) => x.at >= t0 && x.at <= t0 + (servedMs ?? 60_000)).sort((a, b) => b.ms - a.ms).slice(0, 6).map((x) => ({ atMs: Math.round(x.at - t0), ms: round(x.ms, 1) })),
      };
      rounds.push(round_);
      log(`RG: round ${i}: new value served after ${round_.servedMs ?? '>60000'} ms (server: ${round_.serverReloadMs} ms, ${round_.serverCpuMs} ms CPU); ${round_.requests} requests meanwhile, p99 ${round_.p99Ms} ms, max ${round_.maxMs} ms, ${round_.failed} failed; before the edit p99 ${round_.beforeEdit.p99Ms} ms, max ${round_.beforeEdit.maxMs} ms; slowest (started ms after the edit: ms) ${round_.slowest.map((x) => `${x.atMs}: ${x.ms}`).join(', ')}`);
      await sleep(1000);
    }
  } finally {
    agent.destroy();
    await fsp.writeFile(file, original);
  }
  const worst = (k) => (rounds.some((r) => r[k] === null) ? null : Math.max(...rounds.map((r) => r[k])));
  return { devices: fleet.length, clients: RG_CLIENTS, pauseMs: RG_PAUSE_MS, rounds, p99Ms: worst('p99Ms'), maxMs: worst('maxMs'), reloadMs: worst('servedMs'), serverCpuMs: worst('serverCpuMs'), failed: rounds.reduce((t, r) => t + r.failed, 0) };
}

/**
 * B: a fresh deskset, every device's main file once, in shuffled order; nginx the same list.
 * A cold cache exists once per start, so each round restarts deskset: ROUNDS cold passes, each
 * paired with the median of the nginx passes right after it, the ratio the median of the
 * paired ratios. One cold pass was too noisy to judge on this shared machine.
 */
async function scenarioB(tools, root, fleet, nginx) {
  const paths = prng(5).shuffle(pathsB(fleet));
  const list = path.join(work, 'paths-b.txt');
  writeLines(list, paths);
  const out = { paths: paths.length, note: 'one request per device (Avaya <mac>.txt = its 46xxsettings, Poly <mac>-settings.cfg, Yealink <mac>.cfg), each exactly once, shuffled; every deskset pass on a freshly started server, its render cache checked empty (/-/status cachedFiles 0) before the pass', deskset: { passes: [] }, nginx: nginx ? { passes: [] } : null };
  const ratios = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ds = await startDeskset(root, { label: `B${i + 1}`, workDir: work, serveArgs: SERVE_ARGS });
    log(`B: round ${i + 1}: deskset up in ${(ds.startupMs / 1000).toFixed(2)} s`);
    let pass;
    let cachedAtStart;
    try {
      // Cold means cold: serve's warm-up (before it listens) must have left no rendered file behind.
      const status = await httpGet(`${ds.base}/-/status`);
      cachedAtStart = status.status === 200 ? JSON.parse(status.body.toString('utf8')).cachedFiles : undefined;
      if (cachedAtStart !== 0) throw new Error(`B: deskset's cache holds ${cachedAtStart} files before the pass (expected 0)`);
      const r = await runWrk({ ...wrkOpts(tools), mode: 'once', base: ds.base, pathsFile: list, duration: 600, server: ds });
      log(`B: round ${i + 1}: deskset ${r.rps} req/s over ${r.once.windowS} s (${r.once.responses}/${r.once.planned}, non-2xx ${r.once.non2xx}), p99 ${r.latencyMs.p99} ms`);
      mustServeAll('deskset', r);
      pass = { startupMs: Math.round(ds.startupMs), cachedFilesAtStart: cachedAtStart, ...strip(r) };
    } finally {
      await ds.stop();
    }
    pass.accessLogCheck = await checkOnce(ds.logFile, paths);
    out.deskset.passes.push(pass);
    if (nginx) {
      // nginx's pass lasts a quarter to half a second, short enough for one busy moment on
      // this shared machine to move it by half: deskset's pass is paired with the median of
      // B_NGINX_PASSES nginx passes run right after it, so that no single nginx pass caught in
      // a slow or a fast moment decides the round.
      const rates = [];
      for (let k = 0; k < B_NGINX_PASSES; k++) {
        const r = await runWrk({ ...wrkOpts(tools), mode: 'once', base: nginx.base, pathsFile: list, duration: 600, server: nginx });
        mustServeAll('nginx', r);
        out.nginx.passes.push({ round: i + 1, ...strip(r) });
        rates.push(r.rps);
      }
      const paired = median(rates);
      log(`B: round ${i + 1}: nginx ${rates.join(', ')} req/s, paired with the median ${paired}`);
      ratios.push(round(pass.rps / paired, 3));
    }
  }
  out.deskset.rps = median(out.deskset.passes.map((p) => p.rps));
  out.deskset.startupMs = median(out.deskset.passes.map((p) => p.startupMs));
  if (nginx) {
    out.nginx.rps = median(out.nginx.passes.map((p) => p.rps));
    out.ratioPerRound = ratios;
    out.ratio = median(ratios);
    out.ratioOfMedians = round(out.deskset.rps / out.nginx.rps, 3);
  }
  return out;
}

/**
 * A pass counts only if every file came back with a 2xx status: a server answering 404s (a
 * wrong docroot, a root that failed to load) is fast, and a ratio against it would look like a
 * result.
 */
function mustServeAll(who, r) {
  if (r.once.non2xx !== 0 || r.once.responses !== r.once.planned) throw new Error(`B: ${who} answered ${r.once.responses} of ${r.once.planned} requests, ${r.once.non2xx} of them not 2xx`);
}

/** From deskset's own access log: was every path of the list asked for exactly once? */
async function checkOnce(logFile, paths) {
  const want = new Set(paths);
  const seen = new Map();
  let lines = 0;
  try {
    for (const line of (await fsp.readFile(logFile, 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      const rec = JSON.parse(line);
      if (typeof rec.path !== 'string' || !want.has(rec.path)) continue;
      lines++;
      seen.set(rec.path, (seen.get(rec.path) ?? 0) + 1);
    }
  } catch (e) {
    return { checked: false, reason: e.message };
  }
  const repeated = [...seen.values()].filter((n) => n > 1).length;
  return { checked: true, requestsLogged: lines, distinctPaths: seen.size, planned: paths.length, repeated, exactlyOnce: lines === paths.length && seen.size === paths.length };
}

/** C: boot storm against a freshly started deskset (a power cut restarts the server too). */
async function scenarioC(root, fleetFile, renderedDir) {
  // An empty inventory: afterwards it must hold exactly one `ok` record per phone that booted.
  for (const f of ['deskset.db', 'deskset.db-wal', 'deskset.db-shm']) rmSync(path.join(root, 'var', f), { force: true });
  const ds = await startDeskset(root, { label: 'C', workDir: work, serveArgs: SERVE_ARGS });
  log(`C: deskset up in ${(ds.startupMs / 1000).toFixed(2)} s; ${PHONES} phones, ${CONCURRENCY} at a time`);
  try {
    const cpu0 = ds.serverPids().reduce((t, p) => t + (cpuSeconds(p) ?? 0), 0);
    const r = await runCmd(process.execPath, [path.join(REPO, 'bench', 'boot-storm.js'), '--base', ds.base, '--fleet', fleetFile, '--rendered', renderedDir, '--phones', String(PHONES), '--concurrency', String(CONCURRENCY), '--json'], { timeoutMs: 15 * 60_000 });
    const cpu1 = ds.serverPids().reduce((t, p) => t + (cpuSeconds(p) ?? 0), 0);
    if (r.code !== 0) throw new Error(`boot-storm failed (${r.code}): ${r.stderr.slice(-2000)}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop());
    log(`C: ${res.phones} phones in ${(res.totalMs / 1000).toFixed(2)} s, ${res.errors} errors, ${res.failedPhones} failed, ${res.verify.filesCompared} files compared, ${res.verify.mismatches} mismatches`);
    // A clean stop writes the last inventory batch; then the inventory is read as an admin would.
    await ds.stop();
    const inventory = await inventoryCounts(root);
    log(`C: inventory ${JSON.stringify(inventory)} (want ${res.phones} ok)`);
    return { startupMs: Math.round(ds.startupMs), serverCpuS: round(cpu1 - cpu0, 2), ...res, inventory };
  } finally {
    await ds.stop();
  }
}

/** Devices per provision result, from `deskset devices ROOT --csv` (outside any timed window). */
async function inventoryCounts(root) {
  const t0 = performance.now();
  // To a file: runCmd keeps only the first MiB of stdout, and 10,000 devices are more.
  const file = path.join(work, 'devices.csv');
  const r = await runCmd(process.execPath, [BIN, 'devices', root, '--csv'], { timeoutMs: 10 * 60_000, stdoutFile: file });
  if (r.code !== 0) return { error: `deskset devices exited ${r.code}: ${r.stderr.slice(-500)}` };
  const counts = { ok: 0, stale: 0, failing: 0, never: 0, unknown: 0 };
  for (const row of parseCsv(readFileSync(file, 'utf8'), { columns: true })) counts[row.result]++;
  return { ...counts, seconds: round((performance.now() - t0) / 1000, 1) };
}

/**
 * DIFF: `deskset diff` of a global change (every device affected, every file rendered twice)
 * on a copy of the generated root committed to a new git repository: HEAD against the working tree.
 */
async function scenarioDIFF(root) {
  const repo = path.join(work, 'diff-repo');
  cpSync(root, repo, { recursive: true });
  const git = (...args) => runCmd('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' }, timeoutMs: 600_000 });
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'generated root']]) {
    const r = await git(...args);
    if (r.code !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr}`);
  }
  const file = path.join(repo, 'profiles', 'global.yaml');
  const text = readFileSync(file, 'utf8');
  const KEY = /"phone_setting\.backlight_time": (\d+)/;
  if (!KEY.test(text)) throw new Error('DIFF: global.yaml has no phone_setting.backlight_time to edit');
  writeFileSync(file, text.replace(KEY, (_m, n) => `"phone_setting.backlight_time": ${Number(n) + 1}`));
  log('DIFF: deskset diff --stat (HEAD against the edited working tree)');
  // CPU seconds (git and tar included) say what the run cost on a machine others share; wall time alone mostly measures the load.
  const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', ['-f', 'CPU %U %S', process.execPath]] : [process.execPath, []];
  const r = await runCmd(time[0], [...time[1], BIN, 'diff', repo, '--stat'], { cwd: work, timeoutMs: 10 * 60_000 });
  if (r.code !== 1) throw new Error(`DIFF: deskset diff exited ${r.code}, not 1: ${r.stderr.slice(-2000)}`);
  const summary = r.stdout.split('\n')[0];
  const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const cpuTotal = cpu ? round(Number(cpu[1]) + Number(cpu[2]), 2) : undefined;
  log(`DIFF: ${(r.ms / 1000).toFixed(1)} s${cpu ? ` (CPU ${cpu[1]} s user, ${cpu[2]} s system)` : ''}: ${summary}`);
  return { devices: DEVICES, seconds: round(r.ms / 1000, 2), cpuSeconds: cpuTotal, summary };
}

/** FW: one 60 MB image downloaded by N clients at once, from deskset and from nginx. */
async function scenarioFW(tools) {
  const root = path.join(work, 'fw-root');
  await writeRoot(root, 200, 2);
  const rel = 'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin';
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  const fh = await fsp.open(file, 'w');
  const hash = createHash('sha256');
  for (let i = 0; i < FW_MB; i++) {
    const chunk = randomBytes(1 << 20);
    hash.update(chunk);
    await fh.write(chunk);
  }
  await fh.close();
  const sha = hash.digest('hex');
  const list = path.join(work, 'paths-fw.txt');
  writeLines(list, [`/${rel}`]);
  const out = { file: rel, mb: FW_MB, clients: FW_CLIENTS, deskset: { rounds: [] }, nginx: tools.nginx ? { rounds: [] } : null };
  const ds = await startDeskset(root, { label: 'FW', workDir: work, serveArgs: SERVE_ARGS });
  const ng = tools.nginx ? await startNginx(tools.nginx, root, { label: 'fw', workDir: work }) : undefined;
  try {
    for (const s of [ds, ng].filter(Boolean)) {
      const r = await httpGet(`${s.base}/${rel}`, { timeoutMs: 60_000 });
      const got = r.body ? createHash('sha256').update(r.body).digest('hex') : r.error;
      if (r.status !== 200 || got !== sha) throw new Error(`FW: ${s.kind} served ${r.status ?? r.error} with sha256 ${got}, want ${sha}`);
    }
    await sleep(500);
    out.deskset.rssBeforeMb = ds.rssMb();
    let peak = out.deskset.rssBeforeMb;
    for (let i = 0; i < ROUNDS; i++) {
      for (const s of [ds, ng].filter(Boolean)) {
        const sampler = s === ds ? rssSampler(ds.serverPids, 100) : undefined;
        const r = await runWrk({ ...wrkOpts(tools), connections: FW_CLIENTS, mode: 'random', base: s.base, pathsFile: list, duration: DURATION, server: s, timeout: '60s' });
        if (sampler) peak = Math.max(peak, sampler.stop().peakMb);
        log(`FW: round ${i + 1} ${s.kind}: ${r.mbPerS} MB/s (${r.requests} downloads), client CPU ${r.clientCpuS} s, server CPU ${r.serverCpuS} s`);
        out[s.kind].rounds.push(strip(r));
      }
    }
    await sleep(500);
    out.deskset.rssPeakMb = peak;
    out.deskset.rssAfterMb = ds.rssMb();
    out.deskset.mbPerS = median(out.deskset.rounds.map((r) => r.mbPerS));
    out.deskset.non2xx = out.deskset.rounds.reduce((t, r) => t + r.errors.status, 0);
    // Flat: never anything like a copy of the image per client in memory.
    out.deskset.rssGrowthMb = round(peak - out.deskset.rssBeforeMb, 1);
    out.flat = out.deskset.rssGrowthMb < FW_MB;
    if (ng) {
      out.nginx.mbPerS = median(out.nginx.rounds.map((r) => r.mbPerS));
      out.ratioPerRound = out.deskset.rounds.map((r, i) => round(r.mbPerS / out.nginx.rounds[i].mbPerS, 3));
      out.ratio = round(median(out.ratioPerRound), 3);
      out.ratioOfMedians = round(out.deskset.mbPerS / out.nginx.mbPerS, 3);
    }
  } finally {
    await ds.stop();
    if (ng) await ng.stop();
  }
  return out;
}

/** D for the large root: start-up and RSS with 100,000 devices, then RSS after A-style load. */
async function scenarioDLarge(tools) {
  const dir = path.join(work, `root-${LARGE_DEVICES}`);
  const { fleet, ms } = await generate(LARGE_DEVICES, dir);
  const out = { devices: LARGE_DEVICES, generateMs: Math.round(ms) };
  log(`D: starting deskset on ${LARGE_DEVICES} devices (measured here: 7 to 12 s since 2026-11-30; 12 to 160 s before)`);
  const ds = await startDeskset(dir, { label: 'D-large', workDir: work, serveArgs: SERVE_ARGS, sampleRss: true });
  log(`D: ${LARGE_DEVICES} devices up in ${(ds.startupMs / 1000).toFixed(1)} s, RSS ${ds.rssAfterStartMb} MB (peak during start-up ${ds.peakRssDuringStartMb} MB)`);
  Object.assign(out, { startupMs: Math.round(ds.startupMs), rssAfterStartMb: ds.rssAfterStartMb, rssPeakDuringStartMb: ds.peakRssDuringStartMb });
  try {
    const sampler = rssSampler(ds.serverPids, 200);
    out.validation = await waitValidated(ds);
    out.rssPeakDuringValidationMb = sampler.stop().peakMb;
    out.rssAfterValidationMb = ds.rssMb();
    if (out.validation.known) log(`D: every device validated ${(out.validation.validatedMs / 1000).toFixed(1)} s after spawn, RSS ${out.rssAfterValidationMb} MB`);
    if (tools.wrk) {
      const list = path.join(work, 'paths-a-large.txt');
      writeLines(list, pathsA(fleet));
      const r = await runWrk({ ...wrkOpts(tools), mode: 'random', base: ds.base, pathsFile: list, duration: DURATION, server: ds });
      log(`D: A-style load on ${LARGE_DEVICES} devices (no warm-up, cache smaller than the fleet): ${r.rps} req/s, p99 ${r.latencyMs.p99} ms`);
      out.loadA = strip(r);
      out.rssAfterAMb = ds.rssMb();
    }
  } finally {
    await ds.stop();
  }
  return out;
}

/** --profile: where deskset's time goes at start-up, under A and under B (node --cpu-prof). */
async function profiles(tools, root, fleet) {
  const dir = path.join(work, 'profiles');
  mkdirSync(dir, { recursive: true });
  const out = {};
  const listA = path.join(work, 'paths-a.txt');
  const listB = path.join(work, 'paths-b.txt');
  if (!existsSync(listA)) writeLines(listA, pathsA(fleet));
  if (!existsSync(listB)) writeLines(listB, prng(5).shuffle(pathsB(fleet)));
  const newest = async (d, before) => {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the main thread is 0 (the SQLite writer thread writes its own).
    const files = (await fsp.readdir(d)).filter((f) => f.endsWith('.cpuprofile') && !before.has(f) && f.split('.')[4] === '0');
    if (files.length !== 1) throw new Error(`expected one new .cpuprofile in ${d}, found ${files.length}`);
    return path.join(d, files[0]);
  };
  {
    const before = new Set(await fsp.readdir(dir));
    const ds = await startDeskset(root, { label: 'prof-A', workDir: work, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`], serveArgs: SERVE_ARGS });
    const startup = { from: ds.spawnUs, to: ds.readyUs };
    await runWrk({ ...wrkOpts(tools), mode: 'once', base: ds.base, pathsFile: listA, duration: 300, server: ds });
    await runWrk({ ...wrkOpts(tools), mode: 'random', base: ds.base, pathsFile: listA, duration: 2, server: ds });
    const a = await runWrk({ ...wrkOpts(tools), mode: 'random', base: ds.base, pathsFile: listA, duration: DURATION, server: ds });
    await ds.stop();
    const file = await newest(dir, before);
    const prof = JSON.parse(await fsp.readFile(file, 'utf8'));
    out.startup = summarize(prof, startup);
    out.A = { rpsUnderProfiler: a.rps, ...summarize(prof, { from: a.startUs, to: a.endUs }) };
    out.startup.file = out.A.file = path.basename(file);
  }
  {
    const before = new Set(await fsp.readdir(dir));
    const ds = await startDeskset(root, { label: 'prof-B', workDir: work, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`], serveArgs: SERVE_ARGS });
    const b = await runWrk({ ...wrkOpts(tools), mode: 'once', base: ds.base, pathsFile: listB, duration: 600, server: ds });
    await ds.stop();
    const file = await newest(dir, before);
    const prof = JSON.parse(await fsp.readFile(file, 'utf8'));
    out.B = { rpsUnderProfiler: b.rps, ...summarize(prof, { from: b.startUs, to: b.endUs }), file: path.basename(file) };
  }
  for (const [k, v] of Object.entries(out)) process.stderr.write(`\n${formatSummary(`profile ${k}`, v)}\n`);
  if (opt.keep) log(`profiles kept in ${dir}`);
  return out;
}

// ---- report -------------------------------------------------------------------------------

const fmt = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const verdict = (ok) => (ok === undefined || ok === null ? 'n/a' : ok ? 'PASS' : 'MISS');

function targets() {
  const s = results.scenarios;
  const t = [];
  const add = (id, label, target, value, pass) => t.push({ id, label, target, value, pass: pass === undefined ? null : pass });
  if (s.A) add('A', 'A cached config: ratio to nginx, p99', '≥ 0.40 and p99 ≤ 15 ms', `${fmt(s.A.ratio, 2)}, p99 ${fmt(s.A.deskset.p99Ms, 1)} ms`, s.A.ratio === undefined ? undefined : s.A.ratio >= 0.4 && s.A.deskset.p99Ms <= 15);
  if (s.B) add('B', 'B cold render: ratio to nginx', '≥ 0.20', fmt(s.B.ratio, 3), s.B.ratio === undefined ? undefined : s.B.ratio >= 0.2);
  if (s.C) add('C', `C boot storm: ${s.C.phones} phones`, '≤ 10 s, 0 errors', `${fmt(s.C.totalMs / 1000, 1)} s, ${s.C.errors} errors, ${s.C.failedPhones} failed, ${s.C.verify.mismatches} wrong bodies`, s.C.phones >= 10_000 ? s.C.totalMs <= 10_000 && s.C.errors === 0 && s.C.failedPhones === 0 && s.C.verify.mismatches === 0 : undefined);
  if (s.C?.inventory) add('Ci', `C inventory after the storm: ${s.C.phones} phones`, `${s.C.phones} ok records`, s.C.inventory.error ?? `${fmt(s.C.inventory.ok)} ok, ${fmt(s.C.inventory.stale)} stale, ${fmt(s.C.inventory.failing)} failing`, s.C.inventory.error ? false : s.C.inventory.ok === s.C.phones && s.C.inventory.stale === 0 && s.C.inventory.failing === 0);
  if (!s.Dlarge && results.failed?.some((f) => f.startsWith('D ('))) add('D', `D ${LARGE_DEVICES} devices: start-up, RSS`, '≤ 10 s, ≤ 500 MB', 'failed to start (see problems)', false);
  if (s.Dlarge) {
    const rss = Math.max(s.Dlarge.rssAfterStartMb ?? 0, s.Dlarge.rssAfterValidationMb ?? 0, s.Dlarge.rssAfterAMb ?? 0);
    add('D', `D ${s.Dlarge.devices} devices: start-up, RSS`, '≤ 10 s, ≤ 500 MB', `${fmt(s.Dlarge.startupMs / 1000, 1)} s, ${fmt(rss)} MB`, s.Dlarge.devices >= 100_000 ? s.Dlarge.startupMs <= 10_000 && rss <= 500 : undefined);
  }
  if (s.E?.check) add('E', `E check ${DEVICES} devices (XSD on, the default)`, '≤ 20 s', `${fmt(s.E.check.seconds, 1)} s`, DEVICES >= 10_000 ? s.E.check.seconds <= 20 && s.E.check.exit === 0 : undefined);
  if (s.FW) add('FW', `FW ${s.FW.mb} MB × ${s.FW.clients} clients: ratio, memory`, '≥ 0.7, flat RSS', `${fmt(s.FW.ratio, 2)}, RSS +${fmt(s.FW.deskset.rssGrowthMb)} MB`, s.FW.ratio === undefined ? undefined : s.FW.ratio >= 0.7 && s.FW.flat);
  if (s.TFTP) {
    add('TFTP', `TFTP ${s.TFTP.mb} MB blksize 1428 windowsize 8: ratio to in.tftpd`, '≥ 0.80', fmt(s.TFTP.throughput.ratio, 2), s.TFTP.pass.throughput ?? undefined);
    add('TFTPC', `TFTP storm: ${s.TFTP.storm.deskset.phones} phones × 2 files`, '0 failures', `${s.TFTP.storm.deskset.failedPhones} failed, ${s.TFTP.storm.deskset.mismatches} wrong bodies`, s.TFTP.pass.storm);
  }
  if (s.R) add('R', 'R reload latency (median of 5)', '≤ 500 ms', `${fmt(s.R.medianMs)} ms (max ${fmt(s.R.maxMs)} ms)`, s.R.medianMs === undefined ? false : s.R.medianMs <= 500 && s.R.failures === 0);
  if (s.IM) add('IM', `IM import of ${s.IM.phones} phones (round trip included)`, '≤ 10 s, all equal', `${fmt(s.IM.seconds, 1)} s, ${s.IM.summary}`, s.IM.seconds <= 10 && /^1000 equal, 0 differ/.test(s.IM.summary));
  if (s.DIFF) add('DIFF', `DIFF diff of a global change, ${s.DIFF.devices} devices`, '≤ 60 s', `${fmt(s.DIFF.seconds, 1)} s${s.DIFF.cpuSeconds === undefined ? '' : ` (CPU ${fmt(s.DIFF.cpuSeconds, 1)} s)`}`, s.DIFF.devices >= 10_000 ? s.DIFF.seconds <= 60 : undefined);
  if (s.RG) add('RG', `RG requests during a global reload, ${s.RG.devices} devices`, 'max ≤ 100 ms, p99 ≤ 20 ms, reload ≤ 3 s', `max ${fmt(s.RG.maxMs, 1)} ms, p99 ${fmt(s.RG.p99Ms, 1)} ms, reload ${fmt(s.RG.reloadMs)} ms`, s.RG.devices >= 10_000 ? s.RG.maxMs !== null && s.RG.maxMs <= 100 && s.RG.p99Ms <= 20 && s.RG.reloadMs <= 3000 && s.RG.failed === 0 : undefined);
  return t;
}

/** " (0.28–0.52)": the spread of the per-round ratios, so one number does not hide the noise. */
function range(list) {
  if (!list || list.length < 2) return '';
  return ` (${fmt(Math.min(...list), 2)}–${fmt(Math.max(...list), 2)})`;
}

function table() {
  const s = results.scenarios;
  const rows = [['scenario', 'deskset', 'nginx', 'ratio', 'target', 'result']];
  const tg = Object.fromEntries((results.targets ?? []).map((x) => [x.id, x]));
  const v = (id) => verdict(tg[id]?.pass);
  if (s.A) {
    rows.push([`A cached config, inventory on, ${CONNECTIONS} conn, ${ROUNDS}×${DURATION} s`, `${fmt(s.A.deskset.rps)} req/s`, s.A.nginx ? `${fmt(s.A.nginx.rps)} req/s` : '—', `${fmt(s.A.ratio, 2)}${range(s.A.ratioPerRound)}`, '≥ 0.40, p99 ≤ 15 ms', v('A')]);
    rows.push(['  latency p50 / p99', `${fmt(s.A.deskset.p50Ms, 1)} / ${fmt(s.A.deskset.p99Ms, 1)} ms`, s.A.nginx ? `${fmt(s.A.nginx.p50Ms, 1)} / ${fmt(s.A.nginx.p99Ms, 1)} ms` : '—', '', '', '']);
  }
  if (s.B) rows.push([`B cold render, ${s.B.paths} distinct files`, `${fmt(s.B.deskset.rps)} req/s`, s.B.nginx ? `${fmt(s.B.nginx.rps)} req/s` : '—', `${fmt(s.B.ratio, 3)}${range(s.B.ratioPerRound)}`, '≥ 0.20', v('B')]);
  if (s.C) rows.push([`C boot storm, ${s.C.phones} phones × 2 files`, `${fmt(s.C.totalMs / 1000, 2)} s, ${s.C.errors} err, ${s.C.verify.filesCompared} bodies ok ${s.C.verify.filesCompared - s.C.verify.mismatches}`, '', '', '≤ 10 s, 0 errors', v('C')]);
  if (s.C?.inventory) rows.push([`C inventory: ok records`, s.C.inventory.error ? 'error' : `${fmt(s.C.inventory.ok)} ok / ${fmt(s.C.phones)} phones`, '', '', `${fmt(s.C.phones)} ok`, v('Ci')]);
  if (s.DIFF) rows.push([`DIFF diff of a global change, ${s.DIFF.devices} devices`, `${fmt(s.DIFF.seconds, 1)} s${s.DIFF.cpuSeconds === undefined ? '' : `, CPU ${fmt(s.DIFF.cpuSeconds, 1)} s`}`, '', '', '≤ 60 s', v('DIFF')]);
  const validated = (d) => (d.validatedMs !== undefined && d.validatedMs - (d.startupMs ?? 0) > 50 ? ` (all validated at ${fmt(d.validatedMs / 1000, 1)} s)` : '');
  if (s.D10k) rows.push([`D ${DEVICES} devices: start-up / RSS`, `${fmt((s.D10k.startupMsMedian ?? s.D10k.startupMs) / 1000, 2)} s${validated(s.D10k)} / ${fmt(s.D10k.rssAfterStartMb)} MB${s.D10k.rssAfterAMb ? `, ${fmt(s.D10k.rssAfterAMb)} MB after A` : ''}`, '', '', 'record', 'info']);
  if (!s.Dlarge && tg.D) rows.push([`D ${LARGE_DEVICES} devices: start-up / RSS`, tg.D.value, '', '', tg.D.target, v('D')]);
  if (s.Dlarge) rows.push([`D ${s.Dlarge.devices} devices: start-up / RSS`, `${fmt(s.Dlarge.startupMs / 1000, 1)} s${validated({ ...s.Dlarge, validatedMs: s.Dlarge.validation?.validatedMs })} / ${fmt(s.Dlarge.rssAfterStartMb)} MB${s.Dlarge.rssAfterValidationMb ? `, ${fmt(s.Dlarge.rssAfterValidationMb)} MB validated` : ''}${s.Dlarge.rssAfterAMb ? `, ${fmt(s.Dlarge.rssAfterAMb)} MB after A` : ''}`, '', '', '≤ 10 s, ≤ 500 MB', v('D')]);
  if (s.E?.check) rows.push([`E check ${DEVICES} devices (XSD on)`, `${fmt(s.E.check.seconds, 1)} s`, '', '', '≤ 20 s', v('E')]);
  if (s.E?.render) rows.push([`E render ${DEVICES} devices`, `${fmt(s.E.render.seconds, 1)} s`, '', '', 'record', 'info']);
  if (s.TFTP) {
    const t = s.TFTP.throughput;
    rows.push([`TFTP ${s.TFTP.mb} MB, blksize 1428, windowsize 8`, `${fmt(t.deskset.mbPerS, 1)} MB/s (best ${fmt(t.deskset.bestMbPerS, 1)})`, t['in.tftpd'] ? `in.tftpd ${fmt(t['in.tftpd'].mbPerS, 1)} MB/s (best ${fmt(t['in.tftpd'].bestMbPerS, 1)})` : '—', `${fmt(t.ratio, 2)} (best ${fmt(t.ratioOfBest, 2)})`, '≥ 0.80 of in.tftpd', v('TFTP')]);
    const st = s.TFTP.storm.deskset;
    rows.push([`TFTP storm, ${st.phones} phones × 2 files`, `${fmt(st.ms / 1000, 1)} s, ${st.failedPhones} failed, ${st.mismatches} wrong`, s.TFTP.storm['in.tftpd'] ? `in.tftpd ${fmt(s.TFTP.storm['in.tftpd'].ms / 1000, 1)} s, ${s.TFTP.storm['in.tftpd'].failedPhones} failed` : '', '', '0 failures', v('TFTPC')]);
  }
  if (s.FW) rows.push([`FW ${s.FW.mb} MB image, ${s.FW.clients} clients`, `${fmt(s.FW.deskset.mbPerS)} MB/s, RSS ${fmt(s.FW.deskset.rssBeforeMb)}→${fmt(s.FW.deskset.rssPeakMb)}→${fmt(s.FW.deskset.rssAfterMb)} MB`, s.FW.nginx ? `${fmt(s.FW.nginx.mbPerS)} MB/s` : '—', `${fmt(s.FW.ratio, 2)}${range(s.FW.ratioPerRound)}`, '≥ 0.7, flat RSS', v('FW')]);
  if (s.RG) rows.push([`RG global reload, ${s.RG.clients} clients every ${s.RG.pauseMs} ms`, `max ${fmt(s.RG.maxMs, 1)} ms, p99 ${fmt(s.RG.p99Ms, 1)} ms, reload ${fmt(s.RG.reloadMs)} ms`, '', '', 'max ≤ 100, p99 ≤ 20 ms, ≤ 3 s', v('RG')]);
  if (s.IM) rows.push([`IM import of ${s.IM.phones} phones`, `${fmt(s.IM.seconds, 1)} s (${s.IM.summary})`, '', '', '≤ 10 s, all equal', v('IM')]);
  if (s.TW) {
    // Twin against its reference (ratio = reference / twin), then the work the step is part of.
    const tw = (label, x, whole, wholeRatio) => {
      rows.push([`TW ${label}`, `${fmt(x.twinMs, 1)} ms, reference ${fmt(x.referenceMs, 1)} ms, ${x.rounds} rounds`, '', `${fmt(x.ratio, 2)}x${range(x.ratioRange)}`, 'measure only', 'info']);
      rows.push([`  ${whole[0]}`, whole[1], '', `${fmt(wholeRatio, 2)}x`, '', '']);
    };
    const { yaml, template, merge } = s.TW;
    tw(`YAML parse, ${fmt(yaml.files)} files`, yaml, ['snapshot build, twin → reference', `${fmt(yaml.snapshotBuildMs)} → ${fmt(yaml.buildWithReferenceMs)} ms (derived)`], yaml.buildRatio);
    tw(`template, ${fmt(template.onTwin)} files`, template, ['render every file, twin → reference', `${fmt(template.renderAll.twinMs)} → ${fmt(template.renderAll.referenceMs)} ms`], template.renderAll.ratio);
    tw(`plain merge, ${fmt(merge.files)} files`, merge, ['render every file, twin → reference', `${fmt(merge.renderAllMs)} → ${fmt(merge.renderAllWithReferenceMs)} ms (derived)`], merge.renderRatio);
  }
  if (s.R) rows.push(['R reload: edit → new bytes served', `median ${fmt(s.R.medianMs)} ms, max ${fmt(s.R.maxMs)} ms`, '', '', '≤ 500 ms', v('R')]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r, j) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd() + (j === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

/** How busy the machine was with other work during the timed wrk runs. */
function noiseSummary() {
  const runs = [];
  const s = results.scenarios;
  for (const k of ['A', 'FW']) for (const side of ['deskset', 'nginx']) for (const r of s[k]?.[side]?.rounds ?? []) runs.push(r);
  for (const side of ['deskset', 'nginx']) for (const r of s.B?.[side]?.passes ?? []) runs.push(r);
  const withOther = runs.filter((r) => typeof r.otherCpuS === 'number' && r.durationS > 0);
  if (!withOther.length) return undefined;
  const share = withOther.reduce((t, r) => t + r.otherCpuS, 0) / withOther.reduce((t, r) => t + (r.once?.windowS ?? r.durationS), 0);
  results.noise = { otherProcessesCoresAvg: round(share, 2), cores: os.cpus().length };
  return `other processes used on average ${share.toFixed(2)} of ${os.cpus().length} cores during the timed load runs${share > 0.25 ? ' (a busy machine: absolute numbers are low and noisy; compare ratios, or re-run when quiet)' : ''}`;
}

/** Run one scenario; a failure is recorded (and printed) and the run goes on with the next. */
async function attempt(name, fn) {
  try {
    return await fn();
  } catch (e) {
    const msg = `${name} failed: ${(e.message ?? String(e)).trim().slice(0, 1500)}`;
    log(msg);
    results.problems.push(msg);
    results.failed = [...(results.failed ?? []), name];
    return undefined;
  }
}

// ---- main ---------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
    log('dist/ missing: building (tsc -p tsconfig.json)');
    const b = await runCmd(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO, 'tsconfig.json')], { timeoutMs: 600_000 });
    if (b.code !== 0) throw new Error(`build failed: ${b.stdout}${b.stderr}`);
  }
  // Run a private copy of the built package: others rebuilding dist/ mid-run cannot change
  // what is being measured (node_modules is shared through a symlink).
  const pkg = path.join(work, 'pkg');
  mkdirSync(pkg);
  // What the package needs at run time: the build, the vendors' data and the dashboard's
  // templates and static files (read from src/admin/ui, where they are written).
  for (const d of ['dist', 'bin', 'templates', 'schemas', 'src/admin/ui', 'package.json']) if (existsSync(path.join(REPO, d))) cpSync(path.join(REPO, d), path.join(pkg, d), { recursive: true });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  usePackage(pkg);
  const tools = await ensureTools();
  results.env = await environment(tools);
  log(`work dir ${work}; node ${results.env.node}; ${results.env.nginx ?? 'no nginx'}; ${results.env.wrk ?? 'no wrk'}; load ${results.env.loadAverageAtStart.join(' ')}`);
  if (!tools.wrk) for (const s of ['A', 'B', 'FW']) if (want(s)) skip(s, 'wrk not available');
  if (!tools.nginx) results.problems.push('nginx not available: deskset numbers are measured, ratios to nginx are not');

  const needRoot = ['A', 'B', 'C', 'D', 'E', 'R', 'RG', 'DIFF', 'TW'].some(want) || opt.profile;
  const root = path.join(work, `root-${DEVICES}`);
  const rendered = path.join(work, `rendered-${DEVICES}`);
  let fleet = [];
  if (needRoot) {
    const g = await generate(DEVICES, root);
    fleet = g.fleet;
    results.generate = { devices: DEVICES, seconds: round(g.ms / 1000, 2), mix: fleet.reduce((m, d) => ((m[d.model] = (m[d.model] ?? 0) + 1), m), {}) };
    // RG alone needs no rendered tree.
    if (['A', 'B', 'C', 'D', 'E', 'R'].some(want) || opt.profile) results.scenarios.E = await scenarioE(root, rendered);
    if (results.scenarios.E) log(`E: render ${results.scenarios.E.render.seconds} s${results.scenarios.E.check ? `, check ${results.scenarios.E.check.seconds} s (${results.scenarios.E.check.summary})` : ''}`);
    if (results.scenarios.E && !want('E')) results.scenarios.E = { render: results.scenarios.E.render, note: 'render ran because A, B or C need its output; E was not selected' };
  }

  let nginx;
  if (tools.nginx && tools.wrk && (want('A') || want('B'))) {
    nginx = await startNginx(tools.nginx, rendered, { label: 'rendered', workDir: work });
    log(`nginx serving ${rendered} on ${nginx.base} (worker ${nginx.serverPids().join(',')})`);
  }
  try {
    if (tools.wrk && (want('A') || want('R') || want('D'))) {
      const a = await attempt('A', () => scenarioA(tools, root, fleet, want('A') ? nginx : undefined));
      if (a && want('A')) results.scenarios.A = a;
      if (a) results.scenarios.D10k = { devices: DEVICES, startupMs: a.deskset.startupMs, validatedMs: a.deskset.validation?.validatedMs, rssAfterStartMb: a.deskset.rssAfterStartMb, rssAfterValidationMb: a.deskset.rssAfterValidationMb, rssAfterAMb: a.deskset.rssAfterAMb };
    } else if (!tools.wrk && (want('R') || want('D'))) {
      // Without wrk: start-up, RSS and reload still measurable.
      await attempt('D', async () => {
        const ds = await startDeskset(root, { label: 'D', workDir: work, serveArgs: SERVE_ARGS });
        results.scenarios.D10k = { devices: DEVICES, startupMs: Math.round(ds.startupMs), rssAfterStartMb: ds.rssAfterStartMb, note: 'no wrk: no RSS after A' };
        try {
          if (want('R')) results.scenarios.R = await scenarioR(ds, root, fleet);
        } finally {
          await ds.stop();
        }
      });
    }
    if (tools.wrk && want('B')) results.scenarios.B = await attempt('B', () => scenarioB(tools, root, fleet, nginx));
  } finally {
    if (nginx) await nginx.stop();
  }
  if (want('RG')) {
    results.scenarios.RG = await attempt('RG', async () => {
      const ds = await startDeskset(root, { label: 'RG', workDir: work, serveArgs: SERVE_ARGS });
      try {
        await waitValidated(ds);
        const checks = await waitReloadChecks(ds);
        log(`RG: reload checks on ${checks.threads} thread(s), ready after another ${checks.waitedMs} ms`);
        return { ...(await scenarioRG(ds, root, fleet)), checkThreads: checks };
      } finally {
        await ds.stop();
      }
    });
  }
  if (want('C')) results.scenarios.C = await attempt('C', () => scenarioC(root, path.join(root, 'bench-devices.json'), rendered));
  if (tools.wrk && want('FW')) results.scenarios.FW = await attempt('FW', () => scenarioFW(tools));
  if (want('IM')) results.scenarios.IM = await attempt('IM', () => scenarioIM());
  if (want('DIFF')) results.scenarios.DIFF = await attempt('DIFF', () => scenarioDIFF(root));
  // TFTP: deskset against in.tftpd (tftpd-hpa) on the same bytes; bench/tftp.js.
  // TW: in this process, on the private copy's dist/, before any large root is generated.
  if (want('TW')) results.scenarios.TW = await attempt('TW', () => scenarioTW({ pkg, root, rounds: Math.max(ROUNDS, TW_MIN_ROUNDS) }));
  if (want('TFTP')) results.scenarios.TFTP = await attempt('TFTP', () => scenarioTFTP({ mb: 50, rounds: Math.max(ROUNDS, 5), phones: 1000, devices: 2000, work: path.join(work, 'tftp') }));
  const starts = ['A', 'B', 'C'].map((k) => results.scenarios[k]?.deskset?.startupMs ?? results.scenarios[k]?.startupMs).filter((x) => typeof x === 'number');
  if (results.scenarios.D10k && starts.length) {
    results.scenarios.D10k.startupMsAllStarts = starts;
    results.scenarios.D10k.startupMsMedian = median(starts);
  }
  if (LARGE) results.scenarios.Dlarge = await attempt(`D (${LARGE_DEVICES} devices)`, () => scenarioDLarge(tools));
  else if (want('D')) skip('D (large)', '--no-large given');
  if (opt.profile) {
    if (tools.wrk) results.profiles = await attempt('profile', () => profiles(tools, root, fleet));
    else skip('profile', 'wrk not available');
  }

  results.targets = targets();
  const noise = noiseSummary();
  results.finishedAt = new Date().toISOString();
  results.totalSeconds = round((performance.now() - t0) / 1000, 1);
  results.loadAverageAtEnd = os.loadavg().map((x) => round(x, 2));

  const resultsDir = path.join(REPO, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const partial = opt.only ? `.${[...only].join('-')}` : '';
  const outFile = opt.out ? path.resolve(opt.out) : path.join(resultsDir, `${results.date}${partial}.json`);
  writeFileSync(`${outFile}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(`${outFile}.tmp`, outFile);

  process.stdout.write(`\ndeskset bench, ${results.date}, ${results.env.cores} cores (${results.env.cpu}), node ${results.env.node}, ${results.env.nginx ?? 'no nginx'}, commit ${results.env.commit}${results.env.uncommittedChangesInSrc ? ` + ${results.env.uncommittedChangesInSrc} uncommitted files` : ''}\n`);
  if (opt.workers) process.stdout.write(`deskset ran with --workers ${opt.workers}: the targets for A and FW are for one process against one nginx worker\n`);
  process.stdout.write(`load average at start ${results.env.loadAverageAtStart.join(' ')}, at end ${results.loadAverageAtEnd.join(' ')}; ${results.totalSeconds} s in all\n`);
  if (noise) process.stdout.write(`${noise}\n`);
  process.stdout.write('\n');
  process.stdout.write(`${table()}\n`);
  for (const sk of results.skipped) process.stdout.write(`skipped ${sk.scenario}: ${sk.reason}\n`);
  for (const p of results.problems) process.stdout.write(`problem: ${p}\n`);
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), outFile) || outFile}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  try {
    // Whatever was measured before the failure is still worth keeping.
    results.problems.push(`run aborted: ${e.message}`);
    const f = path.join(os.tmpdir(), `deskset-bench-aborted-${Date.now()}.json`);
    writeFileSync(f, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`bench: partial results in ${f}\n`);
  } catch {}
  cleanup();
  process.exitCode = 1;
});
