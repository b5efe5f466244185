// Phones want a UTC offset, not an IANA zone. We derive the standard (non-DST) offset and
// whether the zone observes DST from Node's Intl data, at a fixed reference year so the
// rendered bytes do not change with the date the render runs.

const REFERENCE_YEAR = 2025;

function offsetMinutesAt(zone: string, date: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(date);
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

export function zoneInfo(zone: string): ZoneInfo {
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
