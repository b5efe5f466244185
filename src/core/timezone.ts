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

/** When DST starts or ends, as the recurring rule phones understand (nth weekday of a month). */
export interface DstEdge {
  /** 1–12 */
  month: number;
  /** 1–4 for the nth occurrence; 5 for the last one in the month. */
  week: number;
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

const ruleCache = new Map<string, DstRule | undefined>();

/**
 * The zone's DST rule, read off the reference year's transitions: a day-by-day scan finds the
 * two days the offset changes, an hour-by-hour scan the hour. Southern-hemisphere zones start
 * late in the year and end early; the rule says so as it is.
 */
export function dstRule(zone: string): DstRule | undefined {
  if (ruleCache.has(zone)) return ruleCache.get(zone);
  const edges: Array<{ at: number; from: number; to: number }> = [];
  const day = 24 * 3600_000;
  const start = Date.UTC(REFERENCE_YEAR, 0, 1, 12);
  let prev = offsetMinutesAt(zone, new Date(start));
  for (let t = start + day; t < Date.UTC(REFERENCE_YEAR + 1, 0, 1, 12); t += day) {
    const cur = offsetMinutesAt(zone, new Date(t));
    if (cur !== prev) {
      // The change happened in the 24 hours before t: find the hour.
      let h = t - day;
      while (offsetMinutesAt(zone, new Date(h + 3600_000)) === prev) h += 3600_000;
      edges.push({ at: h + 3600_000, from: prev, to: cur });
      prev = cur;
    }
  }
  let rule: DstRule | undefined;
  if (edges.length === 2) {
    const on = edges.find((e) => e.to > e.from)!;
    const off = edges.find((e) => e.to < e.from)!;
    rule = { start: edgeOf(on.at, on.from), end: edgeOf(off.at, off.from), saveMinutes: on.to - on.from, saveHours: (on.to - on.from) / 60 };
  }
  ruleCache.set(zone, rule);
  return rule;
}

function edgeOf(utcMs: number, offsetBefore: number): DstEdge {
  // The wall clock just before the change, in the offset that was in force.
  const local = new Date(utcMs + offsetBefore * 60_000);
  const d = local.getUTCDate();
  const daysInMonth = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 0)).getUTCDate();
  const nth = Math.ceil(d / 7);
  return { month: local.getUTCMonth() + 1, week: d + 7 > daysInMonth && nth >= 4 ? 5 : nth, weekday: local.getUTCDay(), hour: local.getUTCHours(), day: d };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Avaya's DSTSTART/DSTSTOP form: `2SunMar2L`, `LSunOct3L` (L as occurrence = last; trailing L = local time). */
export function avayaDstEdge(e: DstEdge): string {
  return `${e.week === 5 ? 'L' : e.week}${DAYS[e.weekday]}${MONTHS[e.month - 1]}${e.hour}L`;
}
