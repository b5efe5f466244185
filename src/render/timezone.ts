// Phones want a UTC offset, not an IANA zone. We derive the standard (non-DST) offset and
// whether the zone observes DST from Node's Intl data, at a fixed reference year so the
// rendered bytes do not change with the date the render runs.

const REFERENCE_YEAR = 2025;

const formatters = new Map<string, Intl.DateTimeFormat>();

function offsetMinutesAt(zone: string, date: Date): number {
  // Building a DateTimeFormat costs far more than using one: keep one per zone.
  let f = formatters.get(zone);
  if (!f) formatters.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  const parts = f.formatToParts(date);
  const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(name);
  if (!m) return 0;
  const mins = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -mins : mins;
}

export interface ZoneInfo {
  /** Standard-time offset from UTC in minutes. */
  standardMinutes: number;
  observesDst: boolean;
}

const zoneInfos = new Map<string, ZoneInfo>();

export function zoneInfo(zone: string): ZoneInfo {
  const hit = zoneInfos.get(zone);
  if (hit) return hit;
  const info = computeZoneInfo(zone);
  zoneInfos.set(zone, info);
  return info;
}

function computeZoneInfo(zone: string): ZoneInfo {
  const jan = offsetMinutesAt(zone, new Date(Date.UTC(REFERENCE_YEAR, 0, 15)));
  const jul = offsetMinutesAt(zone, new Date(Date.UTC(REFERENCE_YEAR, 6, 15)));
  return { standardMinutes: Math.min(jan, jul), observesDst: jan !== jul };
}

/** `-5:00`, `+5:30`, `0:00`: the form Avaya's GMTOFFSET uses. */
export function formatOffsetHm(minutes: number): string {
  const sign = minutes < 0 ? '-' : minutes > 0 ? '+' : '';
  const a = Math.abs(minutes);
  return `${sign}${Math.floor(a / 60)}:${String(a % 60).padStart(2, '0')}`;
}

/** `-5`, `+5.5`: the form Yealink's local_time.time_zone uses. */
export function formatOffsetHours(minutes: number): string {
  const h = minutes / 60;
  return `${h > 0 ? '+' : ''}${h}`;
}

/** When DST starts or ends, as the recurring rules phones understand. */
export interface DstEdge {
  /** 1–12 */
  month: number;
  /** 1–4 for the nth occurrence; 5 for the last one in the month (Yealink's and Avaya's "last"). */
  week: number;
  /**
   * The same day as "the weekday on or after this day of the month" (Poly's fixedDayEnable=0
   * form, also tzdata's own `Sun>=8`): 1, 8, 15, 22 for week 1–4, or 25 for March's last.
   */
  onOrAfter: number;
  /** True when `week` names the day in every year; false when only `onOrAfter` can (Chile's `Sun>=2`). */
  weekExact: boolean;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** Wall-clock hour (local, before the change) at which it happens. */
  hour: number;
  /** Day of the month in the reference year, for formats that want a date. */
  day: number;
}

export interface DstRule {
  start: DstEdge;
  end: DstEdge;
  /** Minutes added during DST. */
  saveMinutes: number;
  /** The same in hours (Avaya's DSTOFFSET). */
  saveHours: number;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Enough years that each month starts on every weekday at least once, so a rule is seen whole. */
const RULE_YEARS = 14;

const ruleCache = new Map<string, DstRule | undefined>();

interface Transition {
  /** UTC ms of the first instant in the new offset. */
  at: number;
  from: number;
  to: number;
}

/** Offset changes in [from, to): a day-by-day scan finds the day, an hour-by-hour scan the hour. */
function transitions(zone: string, from: number, to: number): Transition[] {
  const found: Transition[] = [];
  let prev = offsetMinutesAt(zone, new Date(from));
  for (let t = from + DAY; t < to; t += DAY) {
    const cur = offsetMinutesAt(zone, new Date(t));
    if (cur === prev) continue;
    let h = t - DAY;
    while (offsetMinutesAt(zone, new Date(h + HOUR)) === prev) h += HOUR;
    found.push({ at: h + HOUR, from: prev, to: cur });
    prev = cur;
  }
  return found;
}

/**
 * The zone's DST rule from the IANA data in Node's Intl: the reference year's two transitions
 * give the months, and the same transition in the next years gives the rule (2nd Sunday, last
 * Sunday, Sunday on or after the 2nd). Southern-hemisphere zones start late in the year and end
 * early; the rule says so as it is. A zone with no transitions in the reference year has none.
 */
export function dstRule(zone: string): DstRule | undefined {
  if (ruleCache.has(zone)) return ruleCache.get(zone);
  const edges = transitions(zone, Date.UTC(REFERENCE_YEAR, 0, 1, 12), Date.UTC(REFERENCE_YEAR + 1, 0, 1, 12));
  let rule: DstRule | undefined;
  if (edges.length === 2) {
    const on = edges.find((e) => e.to > e.from)!;
    const off = edges.find((e) => e.to < e.from)!;
    rule = { start: edgeOf(zone, on), end: edgeOf(zone, off), saveMinutes: on.to - on.from, saveHours: (on.to - on.from) / 60 };
  }
  ruleCache.set(zone, rule);
  return rule;
}

/** The wall clock just before a change, in the offset that was in force. */
function wallClock(t: Transition): Date {
  return new Date(t.at + t.from * 60_000);
}

const daysIn = (year: number, month1: number): number => new Date(Date.UTC(year, month1, 0)).getUTCDate();

function edgeOf(zone: string, ref: Transition): DstEdge {
  const local = wallClock(ref);
  const month = local.getUTCMonth() + 1;
  const weekday = local.getUTCDay();
  // The same change in the following years (a window around the month, in case it wanders).
  const seen: Array<{ day: number; dim: number }> = [];
  for (let y = REFERENCE_YEAR; y < REFERENCE_YEAR + RULE_YEARS; y++) {
    const hit = transitions(zone, Date.UTC(y, month - 1, 1) - 8 * DAY, Date.UTC(y, month, 1) + 8 * DAY).find((t) => Math.sign(t.to - t.from) === Math.sign(ref.to - ref.from));
    const w = hit && wallClock(hit);
    if (w && w.getUTCMonth() + 1 === month && w.getUTCDay() === weekday) seen.push({ day: w.getUTCDate(), dim: daysIn(y, month) });
  }
  if (seen.length === 0) seen.push({ day: local.getUTCDate(), dim: daysIn(REFERENCE_YEAR, month) });
  const days = seen.map((s) => s.day);
  const lo = Math.min(...days);
  const hi = Math.max(...days);
  const nth = [1, 2, 3, 4].find((n) => lo >= 7 * n - 6 && hi <= 7 * n);
  const last = seen.every((s) => s.day > s.dim - 7);
  // Not expressible as an nth weekday (Chile's Sun>=2): the occurrence that is right most years.
  const usual = (): number => {
    const counts = new Map<number, number>();
    for (const s of seen) {
      const n = s.day > s.dim - 7 && s.day > 28 ? 5 : Math.ceil(s.day / 7);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  };
  const week = nth ?? (last ? 5 : usual());
  const onOrAfter = nth ? 7 * nth - 6 : Math.max(1, hi - 6);
  return { month, week, onOrAfter, weekExact: nth !== undefined || last, weekday, hour: local.getUTCHours(), day: local.getUTCDate() };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Avaya's DSTSTART/DSTSTOP form: `2SunMar2L`, `LSunOct3L` (L as occurrence = last; trailing L = local time). */
export function avayaDstEdge(e: DstEdge): string {
  return `${e.week === 5 ? 'L' : e.week}${DAYS[e.weekday]}${MONTHS[e.month - 1]}${e.hour}L`;
}
