// How a value is written into a Snom settings file: `<name idx="N" perm="R">value</name>`
// inside <settings><phone-settings>, the value XML-escaped.
//
// A key of the `snom.settings` map is `name`, `name[idx]`, and optionally `@perm` after it
// (`user_realname[1]`, `admin_mode@RW`): the index and the permission are attributes.

import { RenderValueError } from '../contract.js';
import { text, xmlCarries, xmlEscape } from '../values.js';

/** perm="R": the user cannot change it; "RW": the user may; "" and "!": the phone's own meanings, written as given. */
export const SNOM_PERMS = new Set(['R', 'RW', '', '!', '$', '&']);
/** What deskset writes when a key names no permission: the admin's value, not changeable on the phone. */
export const DEFAULT_PERM = 'R';

const KEY = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d{1,4})\])?(?:@([A-Za-z!$&]*))?$/;

export interface SnomKey {
  name: string;
  idx?: string;
  perm: string;
}

export function parseSnomKey(key: string): SnomKey | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const perm = m[3] ?? DEFAULT_PERM;
  if (!SNOM_PERMS.has(perm)) return undefined;
  return { name: m[1]!, idx: m[2], perm };
}

/** The reader's name for a setting: `name` or `name[idx]` (the permission is not part of it). */
export function settingKey(name: string, idx: string | undefined): string {
  return idx === undefined ? name : `${name}[${idx}]`;
}

export const snomCarries = xmlCarries;

/** `    <user_realname idx="1" perm="R">Alice</user_realname>`: the `{{#params "snom"}}` line writer. */
export function snomLine(key: unknown, value: unknown): string {
  const k = text(key);
  const p = parseSnomKey(k);
  if (!p) throw new RenderValueError(`"${k}" is not a Snom setting key (name, name[idx], optionally @R, @RW or @!)`);
  const idx = p.idx === undefined ? '' : ` idx="${p.idx}"`;
  return `    <${p.name}${idx} perm="${p.perm}">${xmlEscape(value)}</${p.name}>`;
}

/** `dst`: `<offset seconds> MM.WW.DD HH:MM:SS MM.WW.DD HH:MM:SS` (week 5 = last, ISO weekday, 7 = Sunday). */
export function snomDst(rule: { start: Edge; end: Edge; saveMinutes: number } | undefined): string | undefined {
  if (!rule) return undefined;
  const two = (n: number) => String(n).padStart(2, '0');
  const edge = (e: Edge) => `${two(e.month)}.${two(e.week)}.${two(e.weekday === 0 ? 7 : e.weekday)} ${two(e.hour)}:00:00`;
  return `${rule.saveMinutes * 60} ${edge(rule.start)} ${edge(rule.end)}`;
}

interface Edge {
  month: number;
  week: number;
  weekday: number;
  hour: number;
}
