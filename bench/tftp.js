#!/usr/bin/env node
// Scenario TFTP: deskset's TFTP server against Debian's in.tftpd (tftpd-hpa) serving the same
// bytes, in the same run, on loopback.
//
//   node bench/tftp.js [--mb 50] [--rounds 3] [--phones 1000] [--devices 2000] [--work DIR] [--json]
//
// 1. Throughput: atftp fetches one --mb MB image with blksize 1428, windowsize 8 (tsize 0) from
//    each server in turn, --rounds times; the ratio is of the median times. tftpd-hpa 5.2 does
//    not implement windowsize (RFC 7440), so it answers lock-step: that is the server it is.
// 2. Boot storm: --phones phones (Poly and Yealink: Avaya phones are told apart by their
//    User-Agent, which TFTP does not carry) each fetch their two boot files, all starting at
//    once, each from its own 127.42.x.y address, with phones' retransmission (1 s, 5 tries).
//    Every body is compared with `deskset render --show-secrets`; in.tftpd gets the same
//    storm on a directory holding the rendered files.
// Needs atftp, and in.tftpd with root (it chroots with -s); without them it says what it skipped.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bootSequence } from './boot-storm.js';
import { writeRoot } from './gen-root.js';
import { freePort, log, median, runCmd, sleep, spawnTracked, which } from './lib.js';
import { BIN, round } from './servers.js';
import { tftpGet } from './tftp-client.js';

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** Start `deskset serve ROOT --tftp-port P`; resolves once it printed its TFTP line. */
async function startDesksetTftp(root, port, logFile) {
  const out = await fsp.open(logFile, 'w');
  const child = spawnTracked(process.execPath, [BIN, 'serve', root, '--host', '127.0.0.1', '--port', '0', '--tftp-port', String(port), '--no-watch', '--warm-up', '0'], { stdio: ['ignore', out.fd, 'pipe'] });
  await out.close();
  let err = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`deskset did not start: ${err.slice(-1000)}`)), 300_000);
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes('TFTP on')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (c) => reject(new Error(`deskset exited ${c}: ${err.slice(-1000)}`)));
  });
  return { kind: 'deskset', port, stop: () => stop(child) };
}

/** in.tftpd in the foreground on 127.0.0.1:port, chrooted (-s) to dir, as the tftp user. */
async function startTftpd(bin, dir, port) {
  const child = spawnTracked(bin, ['-L', '-a', `127.0.0.1:${port}`, '-s', '-u', 'tftp', '-B', '65464', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await sleep(300);
  if (child.exitCode !== null) throw new Error(`in.tftpd exited ${child.exitCode}: ${err}`);
  return { kind: 'in.tftpd', port, stop: () => stop(child) };
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** One atftp download, timed; the bytes checked. */
async function atftpOnce(atftp, server, name, want, scratch) {
  const out = path.join(scratch, `got-${server.kind}`);
  rmSync(out, { force: true });
  const t0 = performance.now();
  const r = await runCmd(atftp, ['--option', 'blksize 1428', '--option', 'windowsize 8', '--option', 'tsize 0', '-g', '-r', name, '-l', out, '127.0.0.1', String(server.port)], { timeoutMs: 300_000 });
  const ms = performance.now() - t0;
  const got = existsSync(out) ? sha(readFileSync(out)) : 'none';
  if (got !== want) throw new Error(`${server.kind}: atftp got sha256 ${got}, want ${want} (exit ${r.code}: ${(r.stdout + r.stderr).slice(-500)})`);
  return ms;
}

/** Every phone at once, each from its own address; a phone fails if either file fails. */
async function storm(server, phones, rendered) {
  const t0 = performance.now();
  let retransmits = 0;
  const failures = [];
  let mismatches = 0;
  let files = 0;
  await Promise.all(
    phones.map(async (d, i) => {
      const bind = `127.42.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
      for (const f of bootSequence(d)) {
        try {
          const r = await tftpGet('127.0.0.1', server.port, f.path.slice(1), { bind });
          retransmits += r.retransmits;
          files++;
          if (!r.bytes.equals(rendered(f.rendered))) mismatches++;
        } catch (e) {
          failures.push(`${d.mac} ${f.path}: ${e.message}`);
          return;
        }
      }
    }),
  );
  return { ms: Math.round(performance.now() - t0), phones: phones.length, files, failedPhones: failures.length, mismatches, retransmits, firstFailures: failures.slice(0, 5) };
}

export async function scenarioTFTP({ mb = 50, rounds = 3, phones = 1000, devices = 2000, work } = {}) {
  const atftp = which('atftp');
  if (!atftp) throw new Error('atftp is not installed (apt-get install atftp)');
  const tftpd = existsSync('/usr/sbin/in.tftpd') ? '/usr/sbin/in.tftpd' : which('in.tftpd');
  const asRoot = process.getuid?.() === 0;
  const dir = work ?? mkdtempSync(path.join(os.tmpdir(), 'deskset-bench-tftp-'));
  const scratch = path.join(dir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const out = { mb, rounds, phones, notes: [] };

  // The root: a generated fleet; TFTP may serve credentials to loopback (the storm's files carry them).
  const root = path.join(dir, 'root');
  const { fleet } = await writeRoot(root, devices, 1);
  await fsp.appendFile(path.join(root, 'deskset.yaml'), '\ntftp:\n  serve_secrets: true\n  allow: [127.0.0.0/8]\n');
  const rel = 'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin';
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  const image = randomBytes(mb * 1024 * 1024);
  const want = sha(image);
  writeFileSync(path.join(root, rel), image);
  const rendered = path.join(dir, 'rendered');
  const r = await runCmd(process.execPath, [BIN, 'render', root, '--out', rendered, '--show-secrets', '--quiet'], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`render failed: ${r.stderr.slice(-1000)}`);

  // in.tftpd's tree: the same bytes at the same names (it runs as `tftp`, so world-readable).
  const hpaDir = path.join(dir, 'tftpboot');
  cpSync(rendered, hpaDir, { recursive: true });
  mkdirSync(path.join(hpaDir, path.dirname(rel)), { recursive: true });
  writeFileSync(path.join(hpaDir, rel), image);
  for (const d of [dir, hpaDir]) chmodSync(d, 0o755);
  await runCmd('chmod', ['-R', 'a+rX', hpaDir]);

  const ds = await startDesksetTftp(root, await freePort(), path.join(dir, 'deskset-tftp.log'));
  let hpa;
  if (!tftpd) out.notes.push('in.tftpd not installed (apt-get install tftpd-hpa): no comparison');
  else if (!asRoot) out.notes.push('not root: in.tftpd cannot chroot (-s), no comparison');
  else hpa = await startTftpd(tftpd, hpaDir, await freePort());
  try {
    // 1. throughput, alternating servers per round.
    out.throughput = { deskset: { ms: [] }, 'in.tftpd': hpa ? { ms: [] } : null };
    // Alternating which server goes first: on a shared machine the load drifts within a round too.
    for (let i = 0; i < rounds; i++) {
      for (const s of (i % 2 ? [hpa, ds] : [ds, hpa]).filter(Boolean)) {
        const ms = await atftpOnce(atftp, s, rel, want, scratch);
        out.throughput[s.kind].ms.push(Math.round(ms));
        log(`TFTP: round ${i + 1} ${s.kind}: ${mb} MB in ${(ms / 1000).toFixed(2)} s (${((mb / ms) * 1000).toFixed(1)} MB/s)`);
      }
    }
    for (const k of ['deskset', 'in.tftpd']) {
      const t = out.throughput[k];
      if (t) {
        t.mbPerS = round((mb / median(t.ms)) * 1000, 1);
        t.bestMbPerS = round((mb / Math.min(...t.ms)) * 1000, 1);
      }
    }
    // The target is on medians; the best rounds show what each does when the machine lets it.
    if (hpa) out.throughput.ratio = round(out.throughput.deskset.mbPerS / out.throughput['in.tftpd'].mbPerS, 2);
    if (hpa) out.throughput.ratioOfBest = round(out.throughput.deskset.bestMbPerS / out.throughput['in.tftpd'].bestMbPerS, 2);

    // 2. boot storm.
    const booting = fleet.filter((d) => d.vendor !== 'avaya').slice(0, phones);
    if (booting.length < phones) out.notes.push(`only ${booting.length} Poly/Yealink devices in a ${devices}-device root`);
    const cache = new Map();
    const bytesOf = (p) => cache.get(p) ?? (cache.set(p, readFileSync(path.join(rendered, p))), cache.get(p));
    out.storm = { deskset: await storm(ds, booting, bytesOf) };
    log(`TFTP: storm deskset: ${out.storm.deskset.phones} phones in ${out.storm.deskset.ms} ms, ${out.storm.deskset.failedPhones} failed, ${out.storm.deskset.mismatches} wrong bodies, ${out.storm.deskset.retransmits} retransmissions`);
    if (hpa) {
      out.storm['in.tftpd'] = await storm(hpa, booting, bytesOf);
      log(`TFTP: storm in.tftpd: ${out.storm['in.tftpd'].phones} phones in ${out.storm['in.tftpd'].ms} ms, ${out.storm['in.tftpd'].failedPhones} failed`);
    }
  } finally {
    await ds.stop();
    if (hpa) await hpa.stop();
    if (!work) rmSync(dir, { recursive: true, force: true });
  }
  out.pass = {
    throughput: out.throughput.ratio === undefined ? null : out.throughput.ratio >= 0.8,
    storm: out.storm.deskset.failedPhones === 0 && out.storm.deskset.mismatches === 0 && out.storm.deskset.phones >= phones,
  };
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: opt } = parseArgs({
    options: {
      mb: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      phones: { type: 'string', default: '1000' },
      devices: { type: 'string', default: '2000' },
      work: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  scenarioTFTP({ mb: Number(opt.mb), rounds: Number(opt.rounds), phones: Number(opt.phones), devices: Number(opt.devices), work: opt.work }).then(
    (r) => {
      process.stdout.write(opt.json ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 2)}\n`);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`bench/tftp.js: ${e.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
