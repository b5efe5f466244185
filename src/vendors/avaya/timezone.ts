// How Avaya scripts say a time zone: GMTOFFSET `-5:00`, DSTSTART/DSTSTOP `2SunMar2L`.
// The rule itself comes from the generic Intl data (render/timezone.ts).

import type { DstEdge } from '../../render/timezone.js';

/** `-5:00`, `+5:30`, `0:00`: the form Avaya's GMTOFFSET uses. */
export function formatOffsetHm(minutes: number): string {
  const sign = minutes < 0 ? '-' : minutes > 0 ? '+' : '';
  const a = Math.abs(minutes);
  return `${sign}${Math.floor(a / 60)}:${String(a % 60).padStart(2, '0')}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Avaya's DSTSTART/DSTSTOP form: `2SunMar2L`, `LSunOct3L` (L as occurrence = last; trailing L = local time). */
export function avayaDstEdge(e: DstEdge): string {
  return `${e.week === 5 ? 'L' : e.week}${DAYS[e.weekday]}${MONTHS[e.month - 1]}${e.hour}L`;
}
