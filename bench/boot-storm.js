#!/usr/bin/env node
// Scenario C: a fleet of phones booting at once. Each phone opens its own keep-alive
// connection and fetches its vendor's boot files in order, as the phone does, with its own
// User-Agent; a failed fetch (network error, timeout, non-200) is retried with backoff, a
// bounded number of times, as phones do. At most --concurrency phones are booting at any
// moment (each holds one socket).
//
//   node bench/boot-storm.js --base http://127.0.0.1:PORT --fleet ROOT/bench-devices.json \
//        --rendered DIR [--phones 10000] [--concurrency 256] [--retries 5] [--seed 7] [--json]
//
// After the storm (outside the timed window) every body received is compared byte-for-byte
// with the file `deskset render` wrote for that phone (the report says how many were
// compared; the brief asks for a random sample of at least 200, this checks all of them).

import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { prng } from './gen-root.js';

const YEALINK_CFG_ID = { T46S: '000000000066', T54W: '000000000096' };
const UA = {
  J179: (mac) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${mac})`,
  J189: (mac) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J189-4.1.3.0.6 (MAC:${mac})`,
  VVX450: () => 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2945 Type/Application',
  Trio8800: () => 'FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.6.0019 Type/Application',
  T46S: (mac) => `Yealink SIP-T46S 66.86.0.15 ${mac.match(/../g).join(':')}`,
  T54W: (mac) => `Yealink SIP-T54W 96.86.0.45 ${mac.match(/../g).join(':')}`,
};

/**
 * The files a phone asks for at boot, in order: the request path and where `deskset render`
 * put the same bytes (relative to its --out).
 */
export function bootSequence(d) {
  switch (d.vendor) {
    case 'avaya':
      return [
        { path: '/J100Supgrade.txt', rendered: `${d.model}/${d.mac}/J100Supgrade.txt` },
        { path: '/46xxsettings.txt', rendered: `${d.mac}.txt` },
      ];
    case 'polycom':
      return [
        { path: `/${d.mac}.cfg`, rendered: `${d.mac}.cfg` },
        { path: `/${d.mac}-settings.cfg`, rendered: `${d.mac}-settings.cfg` },
      ];
    case 'yealink': {
      const id = YEALINK_CFG_ID[d.model];
      if (!id) throw new Error(`no cfg_id for ${d.model}`);
      return [
        { path: `/y${id}.cfg`, rendered: `y${id}.cfg` },
        { path: `/${d.mac}.cfg`, rendered: `${d.mac}.cfg` },
      ];
    }
    default:
      throw new Error(`unknown vendor ${d.vendor}`);
  }
}

function get(agent, base, p, ua, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get(`${base}${p}`, { agent, headers: { 'User-Agent': ua }, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', (e) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Boot `fleet` against `base`. Returns timings and error counts; bodies are kept for the
 * comparison that follows.
 */
export async function storm({ base, fleet, concurrency = 256, retries = 5, timeoutMs = 10_000, seed = 7 }) {
  const r = prng(seed);
  const order = r.shuffle(fleet.map((_, i) => i)); // phones come up in no particular order
  const phones = fleet.map((d) => ({ device: d, files: bootSequence(d), bodies: [], attempts: 0, failed: false, doneMs: 0 }));
  const errors = { total: 0, byKind: {} };
  const note = (kind) => {
    errors.total++;
    errors.byKind[kind] = (errors.byKind[kind] ?? 0) + 1;
  };
  let next = 0;
  const started = performance.now();
  const bootOne = async (phone) => {
    const ua = UA[phone.device.model](phone.device.mac);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const f of phone.files) {
        let got;
        for (let attempt = 0; attempt <= retries; attempt++) {
          phone.attempts++;
          const res = await get(agent, base, f.path, ua, timeoutMs);
          if (!res.error && res.status === 200) {
            got = res.body;
            break;
          }
          note(res.error ? `net:${res.error}` : `http:${res.status}`);
          // Phones back off and try again; bounded here so a broken server ends the run.
          await sleep(Math.min(2000, 100 * 2 ** attempt) + r.int(100));
        }
        if (!got) {
          phone.failed = true;
          return;
        }
        phone.bodies.push(got);
      }
    } finally {
      agent.destroy();
      phone.doneMs = performance.now() - started;
    }
  };
  const worker = async () => {
    while (next < order.length) await bootOne(phones[order[next++]]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, phones.length) }, worker));
  const totalMs = performance.now() - started;
  const done = phones.map((p) => p.doneMs).sort((a, b) => a - b);
  const pct = (q) => done[Math.min(done.length - 1, Math.floor(q * done.length))] ?? 0;
  return {
    phones,
    result: {
      phones: phones.length,
      requests: phones.reduce((s, p) => s + p.attempts, 0),
      concurrency,
      retriesPerFile: retries,
      totalMs: Math.round(totalMs),
      phonesDoneMs: { p50: Math.round(pct(0.5)), p90: Math.round(pct(0.9)), p99: Math.round(pct(0.99)), max: Math.round(done[done.length - 1] ?? 0) },
      errors: errors.total,
      errorsByKind: errors.byKind,
      failedPhones: phones.filter((p) => p.failed).length,
    },
  };
}

/** Compare what phones got with `deskset render` output; `sample` phones at least (0: all). */
export async function verify(phones, renderedDir, { sample = 0, seed = 11 } = {}) {
  const r = prng(seed);
  const ok = phones.filter((p) => !p.failed);
  const chosen = sample > 0 && sample < ok.length ? r.shuffle([...ok]).slice(0, sample) : ok;
  let files = 0;
  const mismatches = [];
  for (const p of chosen) {
    for (let i = 0; i < p.files.length; i++) {
      const want = await fs.readFile(path.join(renderedDir, p.files[i].rendered));
      files++;
      if (!want.equals(p.bodies[i])) mismatches.push({ mac: p.device.mac, path: p.files[i].path, want: want.length, got: p.bodies[i]?.length ?? -1 });
    }
  }
  return { phonesCompared: chosen.length, filesCompared: files, mismatches: mismatches.length, examples: mismatches.slice(0, 5) };
}

async function cli() {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' }, fleet: { type: 'string' }, rendered: { type: 'string' },
      phones: { type: 'string' }, concurrency: { type: 'string', default: '256' }, retries: { type: 'string', default: '5' },
      seed: { type: 'string', default: '7' }, sample: { type: 'string', default: '0' }, json: { type: 'boolean' },
    },
  });
  if (!values.base || !values.fleet) throw new Error('--base URL and --fleet FILE are required');
  let fleet = JSON.parse(await fs.readFile(values.fleet, 'utf8'));
  if (values.phones) fleet = fleet.slice(0, Number(values.phones));
  const { phones, result } = await storm({ base: values.base.replace(/\/$/, ''), fleet, concurrency: Number(values.concurrency), retries: Number(values.retries), seed: Number(values.seed) });
  if (values.rendered) result.verify = await verify(phones, values.rendered, { sample: Number(values.sample) });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${result.phones} phones in ${(result.totalMs / 1000).toFixed(2)} s, ${result.errors} errors, ${result.failedPhones} failed${result.verify ? `, ${result.verify.filesCompared} files compared, ${result.verify.mismatches} mismatches` : ''}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli().catch((e) => {
    process.stderr.write(`boot-storm: ${e.stack ?? e.message}\n`);
    process.exitCode = 2;
  });
}
