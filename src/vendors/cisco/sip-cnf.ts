// The text format of Cisco 7940/7960 SIP firmware (P0S3): SIPDefault.cnf and SIP<MAC>.cnf.
//   name: value          a setting; the value bare (`proxy1_port: 5060`) or quoted
//   name: "a value"      (`line1_displayname: "Front desk"`), then optionally a trailing
//                        `; comment` or `# comment`; a space before the colon is read too
//   # comment            blank lines and whole-line `#`/`;` comments
// The phone has no escape inside quotes, so a `"`, a line break or a control character in a
// value cannot be written at all: the writer refuses it (RenderValueError), never half-escapes.
// Real files: ../shared/realworld/cisco/dbaldree__cisco_sip_voipfone/SIP*.cnf, NamoDev…/7960.cnf.

import type { Diagnostic, Severity } from '../../check/diagnostics.js';
import { unknownNameHint } from '../../check/suggest.js';
import { RenderValueError } from '../contract.js';
import { nameCheck, text } from '../values.js';

/** A parameter name as the firmware spells them: lower case, digits, `_`. */
const isSipName = nameCheck(/^[a-z][a-z0-9_]*$/);
/** Values written bare; anything else is quoted (spaces, `;`/`#` that would start a comment, empty). */
const BARE = /^[A-Za-z0-9._@*+/:=,-]+$/;
/** Nothing the phone could read back: quotes (no escape exists), line breaks, C0 controls, DEL. */
const UNCARRIABLE = /["\u0000-\u001F\u007F]/;

/**
 * Settings the firmware reads, with the longest value it keeps where one is known. Names and
 * the limits of phone_prompt (15) and phone_password (31) are from the real files in the
 * corpus and their comments; the 32-character line fields and phone_label's 11 follow Cisco's
 * 79x0 SIP administration guide, which the corpus does not hold.
 */
const LINE_FIELDS: Readonly<Record<string, number>> = { name: 32, authname: 32, password: 32, displayname: 32, shortname: 32 };
const KNOWN: ReadonlyMap<string, number | undefined> = new Map<string, number | undefined>([
  ...[1, 2, 3, 4, 5, 6].flatMap((n) => [
    ...Object.entries(LINE_FIELDS).map(([f, max]) => [`line${n}_${f}`, max] as [string, number]),
    [`proxy${n}_address`, 32] as [string, number],
    [`proxy${n}_port`, undefined] as [string, undefined],
  ]),
  ['image_version', 32],
  ['phone_label', 11],
  ['phone_prompt', 15],
  ['phone_password', 31],
  ['messages_uri', 32],
  ['sntp_server', 32],
  ...[
    'proxy_register', 'timer_register_expires', 'preferred_codec', 'tos_media', 'dtmf_inband', 'dtmf_outofband', 'dtmf_db_level',
    'timer_t1', 'timer_t2', 'sip_retx', 'sip_invite_retx', 'timer_invite_expires', 'language', 'dial_template', 'tftp_cfg_dir',
    'sntp_mode', 'time_zone', 'dst_offset', 'dst_auto_adjust', 'time_format_24hr', 'date_format', 'dnd_control', 'callerid_blocking',
    'anonymous_call_block', 'dtmf_avt_payload', 'sync', 'proxy_backup', 'proxy_backup_port', 'proxy_emergency', 'proxy_emergency_port',
    'enable_vad', 'nat_enable', 'nat_address', 'voip_control_port', 'start_media_port', 'end_media_port', 'nat_received_processing',
    'outbound_proxy', 'outbound_proxy_port', 'cnf_join_enable', 'semi_attended_transfer', 'telnet_level', 'services_url',
    'directory_url', 'logo_url', 'http_proxy_addr', 'http_proxy_port', 'dyn_dns_addr_1', 'dyn_dns_addr_2', 'dyn_tftp_addr',
    'remote_party_id', 'call_hold_ringback', 'stutter_msg_waiting', 'call_stats', 'user_info',
    ...['start', 'stop'].flatMap((e) => ['month', 'day', 'day_of_week', 'week_of_month', 'time'].map((f) => `dst_${e}_${f}`)),
  ].map((k) => [k, undefined] as [string, undefined]),
]);
const KNOWN_NAMES = [...KNOWN.keys()];
/** Past any known limit: what no 79x0 setting holds (URLs included). */
const MAX_ANY = 255;

/** Can a value be written into a .cnf file at all? */
export function sipCnfCarries(value: string): boolean {
  return !UNCARRIABLE.test(value);
}

/** `{{#params "cisco-sip"}}`: one `name: value` line, the value quoted unless it is one plain word. */
export function sipCnfLine(key: unknown, value: unknown): string {
  const k = text(key);
  if (!isSipName(k)) throw new RenderValueError(`"${k}" is not a 79x0 SIP parameter name (lower-case letters, digits, _)`);
  const v = text(value);
  // The value itself is not quoted in the message: it may be a password.
  if (!sipCnfCarries(v)) throw new RenderValueError(`${k}: a 79x0 SIP .cnf value cannot hold a double quote, a line break or a control character (the format has no escape)`);
  return BARE.test(v) ? `${k}: ${v}` : `${k}: "${v}"`;
}

/** Only the names the 79x0 firmware could read: cisco.params also holds MPP (`Profile_Rule_B`) and enterprise (`webAccess`) names. */
export function sipCnfParams(map: unknown): Record<string, unknown> {
  if (map === null || map === undefined || typeof map !== 'object' || Array.isArray(map)) return {};
  return Object.fromEntries(Object.entries(map as Record<string, unknown>).filter(([k]) => isSipName(k)));
}

/** One line as the phone reads it. */
export type CnfLine =
  | { kind: 'blank' }
  | { kind: 'setting'; name: string; value: string; quoted: boolean; nameCol: number; valueCol: number; problem?: { code: string; severity: Severity; message: string; col: number } };

const SETTING = /^([^\s:]+)\s*:\s*/;

/** One line of the file: a setting (with its value unquoted and any trailing comment gone), a comment/blank, or undefined when it is neither. */
export function parseCnfLine(raw: string): CnfLine | undefined {
  const indent = raw.length - raw.trimStart().length;
  const line = raw.trim();
  if (line === '' || line.startsWith('#') || line.startsWith(';')) return { kind: 'blank' };
  const m = SETTING.exec(line);
  if (!m || !/^[A-Za-z0-9_]+$/.test(m[1]!)) return undefined;
  const name = m[1]!;
  const rest = line.slice(m[0].length);
  const nameCol = indent + 1;
  const valueCol = indent + m[0].length + 1;
  if (rest.startsWith('"')) {
    const close = rest.indexOf('"', 1);
    if (close < 0) {
      const value = rest.slice(1);
      return { kind: 'setting', name, value, quoted: true, nameCol, valueCol, problem: { code: 'CISCO_CNF_QUOTE', severity: 'warning', message: `${name}: the quoted value has no closing quote (the phone reads to the end of the line)`, col: valueCol } };
    }
    const after = rest.slice(close + 1).trim();
    const value = rest.slice(1, close);
    if (after !== '' && !after.startsWith(';') && !after.startsWith('#')) {
      return { kind: 'setting', name, value, quoted: true, nameCol, valueCol, problem: { code: 'CISCO_CNF_QUOTE', severity: 'error', message: `${name}: text after the closing quote that is no comment: a double quote inside a value cannot be written`, col: valueCol + close + 1 } };
    }
    return { kind: 'setting', name, value, quoted: true, nameCol, valueCol };
  }
  const value = rest.replace(/[;#].*$/, '').trim();
  if (/\s/.test(value)) {
    return { kind: 'setting', name, value, quoted: false, nameCol, valueCol, problem: { code: 'CISCO_CNF_UNQUOTED', severity: 'warning', message: `${name}: a value with spaces is not quoted; write it as "…"`, col: valueCol } };
  }
  return { kind: 'setting', name, value, quoted: false, nameCol, valueCol };
}

/** What a .cnf sets, as the phone reads it; a later line of the same name wins. */
export function readSipCnf(cnf: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of cnf.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)) {
    const l = parseCnfLine(raw);
    if (l?.kind === 'setting') out.set(l.name, l.value);
  }
  return out;
}

/** `check`'s trace from a rendered line to the profile value that made it. */
export function sipCnfLineParam(line: string): { name: string; value?: string } | undefined {
  const l = parseCnfLine(line);
  return l?.kind === 'setting' ? { name: l.name, value: l.value } : undefined;
}

/**
 * The grammar check, for rendered files and hand-written or published ones alike: every line
 * a setting, a comment or blank; quotes closed; names the firmware knows (an unknown one is a
 * note: the phone ignores it); values within the length the phone keeps; no name set twice.
 */
export function checkSipCnf(cnf: string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (line: number, col: number) => ({ file, line, col });
  const seen = new Map<string, number>();
  cnf.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).forEach((raw, i) => {
    const n = i + 1;
    const l = parseCnfLine(raw);
    if (!l) {
      const col = raw.length - raw.trimStart().length + 1;
      out.push({ code: 'CISCO_CNF_SYNTAX', severity: 'error', message: `not a "name: value" line, a # comment or blank: ${JSON.stringify(raw.trim().slice(0, 60))}`, loc: at(n, col) });
      return;
    }
    if (l.kind === 'blank') return;
    if (l.problem) out.push({ code: l.problem.code, severity: l.problem.severity, message: l.problem.message, loc: at(n, l.problem.col) });
    const lower = l.name.toLowerCase();
    if (!KNOWN.has(lower)) {
      out.push({ code: 'CISCO_CNF_UNKNOWN', severity: 'info', message: `"${l.name}" is no 79x0 SIP parameter deskset knows; the phone ignores names it does not know${unknownNameHint(l.name, KNOWN_NAMES, 'parameters')}`, loc: at(n, l.nameCol) });
    } else if (lower !== l.name) {
      out.push({ code: 'CISCO_CNF_NAME_CASE', severity: 'warning', message: `"${l.name}": the firmware's names are lower case (${lower})`, loc: at(n, l.nameCol) });
    }
    if (/[\u0000-\u001F\u007F]/.test(l.value)) {
      out.push({ code: 'CISCO_CNF_CONTROL', severity: 'error', message: `${l.name}: the value holds a control character`, loc: at(n, l.valueCol) });
    }
    const max = KNOWN.get(lower) ?? MAX_ANY;
    const length = [...l.value].length;
    if (length > max) out.push({ code: 'CISCO_CNF_LENGTH', severity: 'warning', message: `${l.name}: ${length} characters; the phone keeps ${max}`, loc: at(n, l.valueCol) });
    const prev = seen.get(lower);
    if (prev !== undefined) out.push({ code: 'CISCO_CNF_DUPLICATE', severity: 'warning', message: `${l.name} is set again (first at line ${prev}); the phone keeps this later value`, loc: at(n, l.nameCol) });
    else seen.set(lower, n);
  });
  return out;
}
