// The fail2ban filter in docs/fail2ban/deskset.conf, checked against the log lines deskset
// really writes (createLogger + logGuardEvent), with fail2ban's processing simulated:
// the datepattern's capture group is cut out of the line, then failregex is searched, with
// <HOST> expanded. (Checked once by hand with fail2ban-regex 1.0.2 as well; a real fail2ban
// is not needed here.)

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/http/access-log.js';
import { EnumerationGuard, logGuardEvent, type GuardEvent } from '../src/security/enumeration-guard.js';
import { definition, HOST, interpolate, STRPTIME } from './helpers/fail2ban.js';

const CONF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'fail2ban', 'deskset.conf');

// The [Definition] reader, fail2ban's %(name)s interpolation, <HOST> and the strptime
// subset are shared with the end-to-end tests (test/helpers/fail2ban.ts).

function loadFilter(overrides: Record<string, string> = {}) {
  const def = definition(readFileSync(CONF, 'utf8'));
  for (const [k, v] of Object.entries(overrides)) def.set(k, v);
  const failregex = interpolate(def.get('failregex') ?? '', def).split('\n').filter(Boolean);
  expect(failregex.length).toBeGreaterThan(0);
  const datepattern = interpolate(def.get('datepattern') ?? '', def);
  const date = new RegExp(datepattern.replace(/%(\w)/g, (_, c: string) => STRPTIME[c] ?? `%${c}`));
  const fail = failregex.map((r) => {
    expect(r.match(/<HOST>/g)).toHaveLength(1);
    return new RegExp(r.replace('<HOST>', HOST));
  });
  /** The host fail2ban would ban for `line`, or undefined. */
  return (line: string): string | undefined => {
    const m = date.exec(line);
    // fail2ban >= 0.10 cuts group 1 (the timestamp itself) out of the line.
    expect(m, `datepattern should find the time in ${line}`).not.toBeNull();
    const cut = line.slice(0, m!.index + m![0].indexOf(m![1]!)) + line.slice(m!.index + m![0].indexOf(m![1]!) + m![1]!.length);
    for (const re of fail) {
      const hit = re.exec(cut);
      if (hit) return hit.groups?.ip4 ?? hit.groups?.ip6 ?? hit.groups?.dns;
    }
    return undefined;
  };
}

function loggedLines(fn: (log: ReturnType<typeof createLogger>) => void): string[] {
  const lines: string[] = [];
  const log = createLogger({ write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) });
  fn(log);
  return lines;
}

describe('docs/fail2ban/deskset.conf', () => {
  it('matches the lines deskset writes for each event, and bans the right address', () => {
    const match = loadFilter();
    const lines = loggedLines((log) => {
      const events: GuardEvent[] = [];
      const guard = new EnumerationGuard({ onEvent: (e) => events.push(e) });
      for (let i = 0; i < 21; i++) guard.recordMiss('203.0.113.9', `0004f2${String(i).padStart(6, '0')}`);
      for (let i = 0; i < 3; i++) guard.recordAuthFailure('0004f2aabbcc', '2001:db8::7');
      for (const e of events) logGuardEvent(log, e);
    });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\{"level":"warn","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","event":"mac_enumeration","ip":"203\.0\.113\.9","distinct":21,"window_s":600,"msg":"[^"]+"\}$/);
    expect(lines.map(match)).toEqual(['203.0.113.9', '2001:db8::7', '2001:db8::7', '2001:db8::7']);
  });

  it('matches the documented sample lines', () => {
    const match = loadFilter();
    const samples = readFileSync(CONF, 'utf8').split('\n').filter((l) => /^#\s+\{"level"/.test(l)).map((l) => l.replace(/^#\s+/, ''));
    expect(samples).toHaveLength(3);
    expect(samples.map(match)).toEqual(['203.0.113.9', '198.51.100.7', '198.51.100.7']);
  });

  it('does not match other lines, nor a forged event inside a request field', () => {
    const match = loadFilter();
    const lines = loggedLines((log) => {
      log.info({ ip: '192.0.2.1', method: 'GET', path: '/","event":"mac_enumeration","ip":"9.9.9.9', status: 404 });
      log.info({ event: 'reloaded', changed: 1 }, 'reloaded');
      log.warn({ event: 'upload', ip: '192.0.2.2' }, 'upload refused');
      log.info({ event: 'mac_enumeration', ip: '192.0.2.3' }, 'wrong level');
      log.warn({ ip: '192.0.2.4', event: 'auth_failed' }, 'keys in another order');
      log.warn({ event: 'auth_failed', user: '","ip":"9.9.9.9"', ip: '192.0.2.5' }, 'forged ip in a user name');
      log.warn({ event: 'auth_failed_x', ip: '192.0.2.6' }, 'prefix of an event name');
    });
    expect(lines.map(match)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('a jail can narrow the events', () => {
    const only = loadFilter({ events: 'auth_failed' });
    const lines = loggedLines((log) => {
      logGuardEvent(log, { event: 'mac_enumeration', ip: '203.0.113.9', distinct: 21, window_s: 600 });
      logGuardEvent(log, { event: 'auth_failed', ip: '203.0.113.10', mac: '0004f2aabbcc', failures: 1 });
    });
    expect(lines.map(only)).toEqual([undefined, '203.0.113.10']);
  });

  it('also matches when fail2ban cut nothing or the whole date match (older versions)', () => {
    const def = definition(readFileSync(CONF, 'utf8'));
    const re = new RegExp(interpolate(def.get('failregex')!, def).replace('<HOST>', HOST));
    const full = '{"level":"warn","time":"2026-03-01T10:00:00.000Z","event":"device_locked","ip":"198.51.100.7","mac":"0004f2aabbcc","failures":3,"lock_s":600,"msg":"x"}';
    expect(re.exec(full)?.groups?.ip4).toBe('198.51.100.7');
    expect(re.exec(full.replace(/^\{"level":"warn","time":"[^"]*"/, ''))?.groups?.ip4).toBe('198.51.100.7');
  });
});
