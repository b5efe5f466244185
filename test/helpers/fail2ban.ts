// docs/fail2ban/deskset.conf turned into JavaScript, the way test/fail2ban-filter.test.ts does
// it: read [Definition], interpolate %(name)s, cut the datepattern's group out of the line as
// fail2ban >= 0.10 does, then search failregex with <HOST> expanded.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.js';

export const FAIL2BAN_CONF = path.join(REPO, 'docs', 'fail2ban', 'deskset.conf');

export function definition(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  let key: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(line)) continue;
    const sec = /^\[(.+)\]\s*$/.exec(line);
    if (sec) {
      section = sec[1]!;
      key = undefined;
      continue;
    }
    if (section !== 'Definition') continue;
    const kv = /^([A-Za-z_][\w-]*)\s*=\s*(.*)$/.exec(line);
    if (kv) {
      key = kv[1]!;
      out.set(key, kv[2]!.trim());
    } else if (key && /^\s+\S/.test(line)) {
      out.set(key, `${out.get(key)}\n${line.trim()}`);
    }
  }
  return out;
}

export function interpolate(value: string, vars: Map<string, string>): string {
  return value.replace(/%\((\w+)\)s|%%/g, (_m, name: string | undefined) => (name ? interpolate(vars.get(name) ?? '', vars) : '%'));
}

export const HOST = String.raw`(?:(?:::f{4,6}:)?(?<ip4>(?:\d{1,3}\.){3}\d{1,3})|\[?(?<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))\]?|(?<dns>[\w\-.^_]*\w))`;

export const STRPTIME: Record<string, string> = {
  Y: String.raw`\d{4}`,
  m: String.raw`\d{2}`,
  d: String.raw`\d{2}`,
  H: String.raw`\d{2}`,
  M: String.raw`\d{2}`,
  S: String.raw`\d{2}`,
  f: String.raw`\d{1,6}`,
  z: String.raw`(?:Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`,
};

/** The host fail2ban would ban for a log line, or undefined (no date found, or no failregex match). */
export function loadFail2banFilter(): (line: string) => string | undefined {
  const def = definition(readFileSync(FAIL2BAN_CONF, 'utf8'));
  const failregex = interpolate(def.get('failregex') ?? '', def).split('\n').filter(Boolean);
  if (failregex.length === 0) throw new Error(`${FAIL2BAN_CONF}: no failregex`);
  const date = new RegExp(interpolate(def.get('datepattern') ?? '', def).replace(/%(\w)/g, (_, c: string) => STRPTIME[c] ?? `%${c}`));
  const fail = failregex.map((r) => {
    if ((r.match(/<HOST>/g) ?? []).length !== 1) throw new Error(`failregex needs exactly one <HOST>: ${r}`);
    return new RegExp(r.replace('<HOST>', HOST));
  });
  return (line) => {
    const m = date.exec(line);
    if (!m || m[1] === undefined) return undefined;
    const at = m.index + m[0].indexOf(m[1]);
    const cut = line.slice(0, at) + line.slice(at + m[1].length);
    for (const re of fail) {
      const hit = re.exec(cut);
      if (hit) return hit.groups?.ip4 ?? hit.groups?.ip6 ?? hit.groups?.dns;
    }
    return undefined;
  };
}
