// Time zones as Cisco firmware writes them. Enterprise firmware knows zones by a Windows-style
// name ("Eastern Standard/Daylight Time") and applies that name's own DST rule; MPP and SPA
// take an offset ("GMT-05:00") and a written DST rule ("start=3/8/7/2;end=11/1/7/2;save=1").

import { RenderValueError } from '../contract.js';
import { dstRule, zoneInfo, type DstEdge } from '../../render/timezone.js';

// Standard offset in minutes / observes DST -> the enterprise name. The names are those CUCM
// lists (and the real files in ../shared/realworld/cisco/ use: "GMT Standard/Daylight Time",
// "Central Europe Standard/Daylight Time"); the phone computes DST from the name.
const ENTERPRISE_ZONES: Readonly<Record<string, string>> = {
  '-600/0': 'Hawaiian Standard Time',
  '-540/1': 'Alaskan Standard/Daylight Time',
  '-480/1': 'Pacific Standard/Daylight Time',
  '-420/1': 'Mountain Standard/Daylight Time',
  '-420/0': 'US Mountain Standard Time',
  '-360/1': 'Central Standard/Daylight Time',
  '-360/0': 'Central America Standard Time',
  '-300/1': 'Eastern Standard/Daylight Time',
  '-300/0': 'SA Pacific Standard Time',
  '-240/1': 'Atlantic Standard/Daylight Time',
  '-240/0': 'SA Western Standard Time',
  '-210/1': 'Newfoundland Standard/Daylight Time',
  '-180/1': 'E. South America Standard/Daylight Time',
  '-180/0': 'SA Eastern Standard Time',
  '-60/1': 'Azores Standard/Daylight Time',
  '-60/0': 'Cape Verde Standard Time',
  '0/1': 'GMT Standard/Daylight Time',
  '0/0': 'Greenwich Standard Time',
  '60/1': 'Central Europe Standard/Daylight Time',
  '60/0': 'W. Central Africa Standard Time',
  '120/1': 'GTB Standard/Daylight Time',
  '120/0': 'South Africa Standard Time',
  '180/0': 'Russian Standard Time',
  '210/0': 'Iran Standard Time',
  '210/1': 'Iran Standard/Daylight Time',
  '240/0': 'Arabian Standard Time',
  '270/0': 'Afghanistan Standard Time',
  '300/0': 'West Asia Standard Time',
  '330/0': 'India Standard Time',
  '345/0': 'Nepal Standard Time',
  '360/0': 'Central Asia Standard Time',
  '420/0': 'SE Asia Standard Time',
  '480/0': 'China Standard Time',
  '540/0': 'Tokyo Standard Time',
  '570/1': 'Cen. Australia Standard/Daylight Time',
  '570/0': 'AUS Central Standard Time',
  '600/1': 'AUS Eastern Standard/Daylight Time',
  '600/0': 'E. Australia Standard Time',
  '720/1': 'New Zealand Standard/Daylight Time',
  '720/0': 'Fiji Standard Time',
};

/** The enterprise <timeZone> name for an IANA zone: same offset and DST, else same offset. */
export function enterpriseZoneName(zone: string): string {
  const { standardMinutes, observesDst } = zoneInfo(zone);
  const name = ENTERPRISE_ZONES[`${standardMinutes}/${observesDst ? 1 : 0}`] ?? ENTERPRISE_ZONES[`${standardMinutes}/${observesDst ? 0 : 1}`];
  if (name === undefined) throw new RenderValueError(`time zone ${zone} (UTC${gmtOffset(zone).slice(3)}) has no Cisco enterprise time-zone name; set settings.cisco.params or choose a zone with a standard offset Cisco lists`);
  return name;
}

/** `GMT-05:00`, `GMT+05:30`: MPP/SPA Time_Zone. */
export function gmtOffset(zone: string): string {
  const m = zoneInfo(zone).standardMinutes;
  const a = Math.abs(m);
  return `GMT${m < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** One edge: month/day/weekday/hour, weekday 1 = Monday … 7 = Sunday; day -1 = the last one. */
function edge(e: DstEdge): string {
  const day = e.week === 5 ? -1 : e.onOrAfter;
  return `${e.month}/${day}/${e.weekday === 0 ? 7 : e.weekday}/${e.hour}`;
}

/** MPP/SPA Daylight_Saving_Time_Rule, or undefined where the zone has no DST. */
export function dstRuleText(zone: string): string | undefined {
  const r = dstRule(zone);
  if (!r) return undefined;
  const save = r.saveMinutes % 60 === 0 ? String(r.saveMinutes / 60) : `${Math.floor(r.saveMinutes / 60)}:${String(r.saveMinutes % 60).padStart(2, '0')}`;
  return `start=${edge(r.start)};end=${edge(r.end)};save=${save}`;
}

// 79x0 SIP firmware (SIPDefault.cnf `time_zone`) names a zone by its standard-time
// abbreviation and takes the DST rule as separate dst_* settings, which are written from the
// zone's own rule. Standard offset in minutes -> the abbreviation.
const SIP_ZONES: Readonly<Record<string, string>> = {
  '-600': 'HST', '-540': 'AKST', '-480': 'PST', '-420': 'MST', '-360': 'CST', '-300': 'EST', '-240': 'AST', '-210': 'NST',
  '0': 'GMT', '60': 'CET', '120': 'EET', '180': 'MSK', '330': 'IST', '480': 'CCT', '540': 'JST', '570': 'ACST', '600': 'AEST', '720': 'NZST',
};

/** The 79x0 SIP `time_zone` for an IANA zone: the abbreviation of its standard offset. */
export function sipZoneName(zone: string): string {
  const name = SIP_ZONES[String(zoneInfo(zone).standardMinutes)];
  if (name === undefined) throw new RenderValueError(`time zone ${zone} (UTC${gmtOffset(zone).slice(3)}) has no 79x0 SIP time_zone abbreviation; set settings.cisco.params.time_zone`);
  return name;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** One DST edge in the dst_start_* / dst_stop_* settings; week 8 is the firmware's "last week of the month". */
function sipEdge(e: DstEdge): Record<string, string> {
  return { month: MONTHS[e.month - 1]!, day: '', day_of_week: WEEKDAYS[e.weekday]!, week_of_month: String(e.week === 5 ? 8 : e.week), time: String(e.hour).padStart(2, '0') };
}

/**
 * The 79x0 SIP DST settings of a zone, by name (`dst_offset`, `dst_start_month`, …), or
 * `dst_auto_adjust: 0` alone where the zone keeps no DST.
 */
export function sipDstSettings(zone: string): Record<string, string> {
  const r = dstRule(zone);
  if (!r) return { dst_auto_adjust: '0' };
  const out: Record<string, string> = { dst_auto_adjust: '1', dst_offset: r.saveMinutes % 60 === 0 ? String(r.saveHours) : `${Math.floor(r.saveMinutes / 60)}:${String(r.saveMinutes % 60).padStart(2, '0')}` };
  for (const [edge, name] of [[r.start, 'start'], [r.end, 'stop']] as const) for (const [k, v] of Object.entries(sipEdge(edge))) out[`dst_${name}_${k}`] = v;
  return out;
}
