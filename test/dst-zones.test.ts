// Daylight saving, as each vendor's phone will read it. `deskset render` (the real CLI) renders
// test/fixtures/zones/ (a J179, a VVX450 and a T46S per zone) and:
//  - the time lines of each zone's three files are golden: test/golden/zones/<Area>_<City>.txt
//    (regenerate with UPDATE_GOLDEN=1 and read the diff);
//  - each vendor's encoding is decoded the way its manual says the phone decodes it, and the
//    instant it names is checked against the IANA data in Node's Intl, year by year.
// Manuals: Avaya DSTSTART/DSTSTOP "odddmmmht" (o = 1–4 or L = last, h = hour, t = L local);
// Poly fixedDayEnable=0: dayOfWeek (1 = Sun) on or after start.date, or the last one when
// dayOfWeek.lastInMonth=1; Yealink dst_time_type=1: month/week (5 = last)/day (1 = Mon … 7 = Sun)/hour.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from './helpers/cli.js';

const ROOT = path.join(REPO, 'test', 'fixtures', 'zones');
const GOLDEN = path.join(REPO, 'test', 'golden', 'zones');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const YEARS = Array.from({ length: 14 }, (_, i) => 2025 + i);

/** Zone, the fixture's MAC suffix, and whether it observes DST today. */
const ZONES: Array<[string, string, boolean]> = [
  ['America/New_York', '01', true],
  ['Europe/London', '02', true],
  ['Europe/Lisbon', '03', true],
  ['Australia/Sydney', '04', true],
  ['America/Santiago', '05', true],
  ['Asia/Tehran', '06', false],
  ['Asia/Singapore', '07', false],
];

let out: string;
const read = (rel: string) => fs.readFile(path.join(out, rel), 'utf8');

beforeAll(async () => {
  out = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-zones-'));
  const r = await runCli(['render', ROOT, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => fs.rm(out, { recursive: true, force: true }));

interface VendorTime {
  avaya: Map<string, string>;
  polycom: Map<string, string>;
  yealink: Map<string, string>;
}

async function timeSettings(n: string): Promise<VendorTime> {
  const avaya = new Map([...(await read(`c81fea0000${n}.txt`)).matchAll(/^SET (GMTOFFSET|DST\w*|TIMEZONE) (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const polycom = new Map([...(await read(`0004f20000${n}-settings.cfg`)).matchAll(/tcpIpApp\.sntp\.(gmtOffset|daylightSavings[\w.]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  const yealink = new Map([...(await read(`805ec00000${n}.cfg`)).matchAll(/^local_time\.(time_zone|summer_time|dst_time_type|start_time|end_time|offset_time) = (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { avaya, polycom, yealink };
}

// ---- the oracle: Intl's offset at an instant ----------------------------------------------

function offsetAt(zone: string, ms: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** A change the file describes: local date and hour, in the offset in force before it. */
interface Change {
  month: number;
  day: number;
  hour: number;
  before: number;
  after: number;
}

/** Does the zone change from `before` to `after` exactly at that local wall-clock time? */
function happensThere(zone: string, year: number, c: Change): boolean {
  const at = Date.UTC(year, c.month - 1, c.day, c.hour) - c.before * 60_000;
  return offsetAt(zone, at - 1) === c.before && offsetAt(zone, at) === c.after;
}

// ---- each vendor's rule, decoded as its manual says ------------------------------------------

const dim = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const weekdayOf = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay();
/** The nth (1–4) or last (5) `weekday` (0 = Sunday) of a month. */
function nthWeekday(y: number, m: number, weekday: number, n: number): number {
  if (n === 5) {
    let d = dim(y, m);
    while (weekdayOf(y, m, d) !== weekday) d--;
    return d;
  }
  let d = 1;
  while (weekdayOf(y, m, d) !== weekday) d++;
  return d + 7 * (n - 1);
}
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function avayaDate(spec: string, y: number): { month: number; day: number; hour: number } {
  const m = /^([1-4L])(\w{3})(\w{3})(\d)L$/.exec(spec);
  expect(m, `DSTSTART/DSTSTOP "${spec}" is not odddmmmhL`).not.toBeNull();
  const month = MONTHS.indexOf(m![3]!) + 1;
  return { month, day: nthWeekday(y, month, DAYS.indexOf(m![2]!), m![1] === 'L' ? 5 : Number(m![1])), hour: Number(m![4]) };
}

function polyDate(p: Map<string, string>, edge: 'start' | 'stop', y: number): { month: number; day: number; hour: number } {
  const k = (s: string) => p.get(`daylightSavings.${edge}.${s}`)!;
  expect(p.get('daylightSavings.fixedDayEnable')).toBe('0');
  const month = Number(k('month'));
  const weekday = Number(k('dayOfWeek')) - 1;
  let day: number;
  if (k('dayOfWeek.lastInMonth') === '1') day = nthWeekday(y, month, weekday, 5);
  else for (day = Number(k('date')); weekdayOf(y, month, day) !== weekday; ) day++;
  return { month, day, hour: Number(k('time')) };
}

function yealinkDate(spec: string, y: number): { month: number; day: number; hour: number } {
  const [month, week, iso, hour] = spec.split('/').map(Number) as [number, number, number, number];
  return { month, day: nthWeekday(y, month, iso % 7, week), hour };
}

/** Years in which the file's start and stop are not the zone's real changes. */
function wrongYears(zone: string, rule: (y: number) => { start: Change; stop: Change }): number[] {
  return YEARS.filter((y) => {
    const r = rule(y);
    return !happensThere(zone, y, r.start) || !happensThere(zone, y, r.stop);
  });
}

/** Chile's rule is "Sunday on or after the 2nd" (tzdata `Sun>=2`): no nth-Sunday form says it in a year whose 1st is a Sunday. */
const chileOutliers = YEARS.filter((y) => weekdayOf(y, 9, 1) === 0 || weekdayOf(y, 4, 1) === 0);

describe('DST as each vendor encodes it, for seven zones', () => {
  it('the time lines of every zone match test/golden/zones/', async () => {
    const diffs: string[] = [];
    if (UPDATE) await fs.mkdir(GOLDEN, { recursive: true });
    for (const [zone, n] of ZONES) {
      const t = await timeSettings(n);
      const section = (title: string, m: Map<string, string>) => [`# ${title}`, ...[...m].map(([k, v]) => `${k} = ${v}`)].join('\n');
      const text = [`## ${zone}`, section('Avaya 46xxsettings.txt', t.avaya), section('Poly <mac>-settings.cfg (tcpIpApp.sntp.*)', t.polycom), section('Yealink <mac>.cfg (local_time.*)', t.yealink), ''].join('\n\n');
      const file = path.join(GOLDEN, `${zone.replace('/', '_')}.txt`);
      if (UPDATE) await fs.writeFile(file, text);
      const want = await fs.readFile(file, 'utf8').catch(() => '(missing: UPDATE_GOLDEN=1 npx vitest run test/dst-zones.test.ts)');
      if (want !== text) diffs.push(`${path.relative(REPO, file)}:\n${text}`);
    }
    expect(diffs).toEqual([]);
  });

  for (const [zone, n, observes] of ZONES) {
    describe(zone, () => {
      if (!observes) {
        it('renders DST off for every vendor', async () => {
          const t = await timeSettings(n);
          expect(t.avaya.get('DSTOFFSET')).toBe('0');
          expect(t.avaya.has('DSTSTART')).toBe(false);
          expect(t.polycom.get('daylightSavings.enable')).toBe('0');
          expect([...t.polycom.keys()].filter((k) => k.startsWith('daylightSavings.st'))).toEqual([]);
          expect(t.yealink.get('summer_time')).toBe('0');
          expect(t.yealink.has('start_time')).toBe(false);
          // And the zone really has no change in any of the years.
          for (const y of YEARS) expect(offsetAt(zone, Date.UTC(y, 0, 15)), String(y)).toBe(offsetAt(zone, Date.UTC(y, 6, 15)));
        });
        return;
      }
      const outliers = zone === 'America/Santiago' ? chileOutliers : [];

      it(`Avaya: DSTSTART/DSTSTOP name the real changes${outliers.length ? ' (but in years Chile\'s rule has no nth-Sunday form)' : ''}`, async () => {
        const a = (await timeSettings(n)).avaya;
        const std = offsetHm(a.get('GMTOFFSET')!);
        const dst = std + Number(a.get('DSTOFFSET')) * 60;
        expect(wrongYears(zone, (y) => ({ start: { ...avayaDate(a.get('DSTSTART')!, y), before: std, after: dst }, stop: { ...avayaDate(a.get('DSTSTOP')!, y), before: dst, after: std } }))).toEqual(outliers);
      });

      it('Poly: daylightSavings.* names the real changes in every year', async () => {
        const p = (await timeSettings(n)).polycom;
        expect(p.get('daylightSavings.enable')).toBe('1');
        const std = Number(p.get('gmtOffset')) / 60;
        const dst = std + 60; // Poly's rule has no amount: DST is always one hour
        expect(wrongYears(zone, (y) => ({ start: { ...polyDate(p, 'start', y), before: std, after: dst }, stop: { ...polyDate(p, 'stop', y), before: dst, after: std } }))).toEqual([]);
      });

      it(`Yealink: local_time.* names the real changes${outliers.length ? ' (but in years Chile\'s rule has no nth-Sunday form)' : ''}`, async () => {
        const l = (await timeSettings(n)).yealink;
        expect(l.get('summer_time')).toBe('1');
        expect(l.get('dst_time_type')).toBe('1');
        const std = Number(l.get('time_zone')) * 60;
        const dst = std + Number(l.get('offset_time'));
        expect(wrongYears(zone, (y) => ({ start: { ...yealinkDate(l.get('start_time')!, y), before: std, after: dst }, stop: { ...yealinkDate(l.get('end_time')!, y), before: dst, after: std } }))).toEqual(outliers);
      });
    });
  }

  it('Chile really is the exception: its outlier years exist in the range tested', () => {
    expect(chileOutliers.length).toBeGreaterThan(0);
  });

  it('check warns once, at the zone\'s line, where an nth-weekday vendor cannot say the rule exactly', async () => {
    const r = await runCli(['check', ROOT, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const found = (JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; loc?: { file: string; line: number } }> }).diagnostics.filter((d) => d.code.startsWith('DST'));
    expect(found.map((d) => [d.code, path.basename(d.loc!.file), d.loc!.line])).toEqual([['DST_APPROXIMATED', 'america-santiago.yaml', 3]]);
  });
});

function offsetHm(s: string): number {
  const m = /^([+-]?)(\d+):(\d{2})$/.exec(s)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}
