#!/usr/bin/env node
// Summarise a V8 .cpuprofile (node --cpu-prof) over a time window: where the busy time went,
// by frame (self), by package or deskset module (self), and by function including callees.
//
//   node bench/profile-summary.js FILE.cpuprofile [--from US --to US] [--top 20] [--json]
//
// --from/--to are CLOCK_MONOTONIC microseconds, the clock of the profile's startTime and of
// process.hrtime(), so bench/run.js can cut a profile to the seconds a scenario ran.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Where a frame lives: an npm package, a deskset module, a node: module, or V8 itself. */
export function categoryOf(frame) {
  const { functionName: fn, url } = frame;
  if (SPECIAL.has(fn) && !url) return fn;
  let m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (m) return `npm:${m[1]}`;
  m = /\/dist\/(.+)$/.exec(url);
  if (m) return `deskset:${m[1]}`;
  m = /^node:((?:internal\/)?[^/]+)/.exec(url);
  if (m) return `node:${m[1]}`;
  if (!url) return '(native)';
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url) {
  const m = /\/node_modules\/(.+)$/.exec(url) ?? /\/(dist\/.+)$/.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

export function frameName(frame) {
  if (SPECIAL.has(frame.functionName) && !frame.url) return frame.functionName;
  return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/**
 * @param {object} profile parsed .cpuprofile
 * @param {{from?: number, to?: number, top?: number}} opts
 */
export function summarize(profile, { from = -Infinity, to = Infinity, top = 20 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const selfCat = new Map();
  const incl = new Map();
  const inclCat = new Map();
  let total = 0;
  let idle = 0;
  let t = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    if (t < from || t > to) continue;
    // The time a sample stands for is the gap to the next one.
    const w = (timeDeltas[i + 1] ?? timeDeltas[i]) / 1000;
    total += w;
    const leaf = byId.get(samples[i]);
    if (!leaf) continue;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += w;
      continue;
    }
    const name = frameName(leaf.callFrame);
    self.set(name, (self.get(name) ?? 0) + w);
    const cat = categoryOf(leaf.callFrame);
    selfCat.set(cat, (selfCat.get(cat) ?? 0) + w);
    const seen = new Set();
    const seenCat = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      if (f.functionName === '(root)') continue;
      const n = frameName(f);
      if (!seen.has(n)) {
        seen.add(n);
        incl.set(n, (incl.get(n) ?? 0) + w);
      }
      const c = categoryOf(f);
      if (!seenCat.has(c)) {
        seenCat.add(c);
        inclCat.set(c, (inclCat.get(c) ?? 0) + w);
      }
    }
  }
  const busy = total - idle;
  const rows = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: busy > 0 ? Math.round((1000 * ms) / busy) / 10 : 0 }));
  return {
    windowMs: Math.round(total),
    busyMs: Math.round(busy),
    idleMs: Math.round(idle),
    selfTop: rows(self, top),
    selfByCategory: rows(selfCat, top),
    inclusiveTop: rows(incl, top + 10),
    inclusiveByCategory: rows(inclCat, top),
  };
}

export function formatSummary(title, s) {
  const out = [`${title}: ${s.windowMs} ms profiled, ${s.busyMs} ms busy (${s.windowMs ? Math.round((100 * s.busyMs) / s.windowMs) : 0}% of the window), ${s.idleMs} ms idle`];
  const table = (head, rows) => {
    out.push(`  ${head} (ms, % of busy):`);
    for (const r of rows) out.push(`    ${String(r.ms).padStart(7)}  ${String(r.pct).padStart(5)}%  ${r.name}`);
  };
  table('self time by package / module', s.selfByCategory);
  table('self time by frame', s.selfTop);
  table('inclusive time by package / module (callees included)', s.inclusiveByCategory);
  table('inclusive time by function (callees included)', s.inclusiveTop);
  return out.join('\n');
}

async function cli() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '20' }, json: { type: 'boolean' } } });
  if (!positionals[0]) throw new Error('usage: profile-summary.js FILE.cpuprofile [--from US --to US] [--top N] [--json]');
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  const s = summarize(profile, { from: values.from ? Number(values.from) : undefined, to: values.to ? Number(values.to) : undefined, top: Number(values.top) });
  process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(positionals[0], s)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli().catch((e) => {
    process.stderr.write(`profile-summary: ${e.message}\n`);
    process.exitCode = 2;
  });
}
