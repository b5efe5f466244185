// docs/dhcp.md: every marked snippet is checked with its DHCP server's own syntax check
// (kea-dhcp4 -t, dhcpd -t, dnsmasq --test), hands out the same deskset values as the others,
// and is refused by that checker once its option definitions are taken out, which proves
// both that the definitions are needed and that the check really reads the snippet.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

const DOC = readFileSync(path.join(REPO, 'docs', 'dhcp.md'), 'utf8');

/** The fenced block after each `<!-- dhcp-check: NAME -->` marker, by NAME. */
function markedBlocks(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<!-- dhcp-check: ([a-z0-9-]+) -->\s*\n```[^\n]*\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(re)) {
    if (out.has(m[1]!)) throw new Error(`docs/dhcp.md: two snippets marked ${m[1]}`);
    out.set(m[1]!, `${m[2]!}\n`);
  }
  return out;
}

const BLOCKS = markedBlocks(DOC);

/** An executable on PATH or in the sbin directories (where Debian puts DHCP servers). */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const KEA = which('kea-dhcp4');
const DHCPD = which('dhcpd');
const DNSMASQ = which('dnsmasq');
for (const [name, bin, pkg] of [['kea-dhcp4', KEA, 'kea-dhcp4-server'], ['dhcpd', DHCPD, 'isc-dhcp-server'], ['dnsmasq', DNSMASQ, 'dnsmasq-base']] as const) {
  if (!bin) console.log(`dhcp-docs: skipping the ${name} check (${pkg} not installed)`);
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-dhcp-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function check(bin: string, args: (file: string) => string[], name: string, text: string) {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  const r = spawnSync(bin, args(file), { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
const kea = (name: string, text: string) => check(KEA!, (f) => ['-t', f], name, text);
const dhcpd = (name: string, text: string) => check(DHCPD!, (f) => ['-t', '-cf', f], name, text);
const dnsmasq = (name: string, text: string) => check(DNSMASQ!, (f) => ['--test', '-C', f], name, text);

/** The snippet with every line that matches `re` removed (it must have had some). */
function without(text: string, re: RegExp): string {
  const lines = text.split('\n');
  const kept = lines.filter((l) => !re.test(l));
  expect(kept.length).toBeLessThan(lines.length);
  return kept.join('\n');
}

describe('docs/dhcp.md snippets', () => {
  it('has one marked snippet per DHCP server', () => {
    expect([...BLOCKS.keys()].sort()).toEqual(['dhcpd', 'dnsmasq', 'kea', 'powershell']);
  });

  it.each([...BLOCKS.keys()])('%s hands out the same deskset values, each to its own vendor', (name) => {
    const text = BLOCKS.get(name)!;
    expect(text).toContain('HTTPSRVR=prov.example.com,HTTPPORT=8080');
    expect(text).toContain('http://prov.example.com:8080/');
    expect(text).toContain('192.0.2.10');
    for (const code of ['160', '242', '150']) expect(text, `option ${code}`).toMatch(new RegExp(`\\b${code}\\b`));
    // Matched per vendor, not handed to every phone.
    expect(text).toMatch(/ccp\.avaya\.com/);
    expect(text).toMatch(/yealink/);
  });

  it('the Avaya value is one comma-separated NAME=value list the phone can parse', () => {
    const value = 'HTTPSRVR=prov.example.com,HTTPPORT=8080';
    const pairs = value.split(',').map((p) => p.split('='));
    expect(pairs.every((p) => p.length === 2 && /^[A-Z]+$/.test(p[0]!) && p[1]!.length > 0)).toBe(true);
    // dnsmasq would split an unquoted value at its commas into several options.
    expect(BLOCKS.get('dnsmasq')).toContain(`242,"${value}"`);
  });
});

describe.skipIf(!KEA)('kea-dhcp4 -t', () => {
  it('accepts the Kea snippet', async () => {
    const r = await kea('kea.json', BLOCKS.get('kea')!);
    expect(r.ok, r.output).toBe(true);
  });

  it('refuses it without the option definitions for 160 and 242', async () => {
    const conf = JSON.parse(BLOCKS.get('kea')!) as { Dhcp4: { 'option-def': Array<{ code: number }> } };
    conf.Dhcp4['option-def'] = conf.Dhcp4['option-def'].filter((d) => d.code !== 160 && d.code !== 242);
    const r = await kea('kea-nodefs.json', JSON.stringify(conf, null, 2));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/definition for the option 'dhcp4\.avaya-sson' does not exist/);
  });
});

describe.skipIf(!DHCPD)('dhcpd -t', () => {
  it('accepts the dhcpd snippet', async () => {
    const r = await dhcpd('dhcpd.conf', BLOCKS.get('dhcpd')!);
    expect(r.ok, r.output).toBe(true);
  });

  it('refuses it without the option definitions for 160 and 242', async () => {
    const r = await dhcpd('dhcpd-nodefs.conf', without(BLOCKS.get('dhcpd')!, /^option (poly-boot-server|avaya-sson) code/));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/unknown option dhcp\.avaya-sson/);
    expect(r.output).toMatch(/unknown option dhcp\.poly-boot-server/);
  });
});

describe.skipIf(!DNSMASQ)('dnsmasq --test', () => {
  it('accepts the dnsmasq snippet', async () => {
    const r = await dnsmasq('dnsmasq.conf', BLOCKS.get('dnsmasq')!);
    expect(r.ok, r.output).toBe(true);
    expect(r.output).toContain('syntax check OK');
  });

  it('refuses a broken line in it (the check reads the snippet)', async () => {
    const r = await dnsmasq('dnsmasq-bad.conf', BLOCKS.get('dnsmasq')!.replace('150,192.0.2.10', '150,prov.example.com'));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/bad IP address at line \d+/);
  });
});

describe('the PowerShell snippet (no checker on Linux)', () => {
  const ps = BLOCKS.get('powershell')!;
  it('defines 160, 242 and 150 before any value is set for them', () => {
    for (const code of [160, 242, 150]) {
      const def = ps.indexOf(`-OptionId ${code} -Type`);
      const set = ps.search(new RegExp(`Set-DhcpServerv4OptionValue[^\\n]*-OptionId ${code} -Value`));
      expect(def, `definition of ${code}`).toBeGreaterThan(-1);
      expect(set, `value of ${code}`).toBeGreaterThan(def);
    }
  });

  it('defines every vendor class and policy before it is used', () => {
    for (const m of ps.matchAll(/-VendorClass EQ,'([^']+)'/g)) expect(ps.indexOf(`Add-DhcpServerv4Class -Name '${m[1]}'`)).toBeGreaterThan(-1);
    for (const m of ps.matchAll(/-PolicyName '([^']+)'/g)) {
      const added = ps.indexOf(`Add-DhcpServerv4Policy -Name '${m[1]}'`);
      expect(added, m[1]).toBeGreaterThan(-1);
      expect(added).toBeLessThan(ps.indexOf(m[0]));
    }
  });

  it('has balanced quotes on every command line', () => {
    for (const line of ps.split('\n').filter((l) => !l.startsWith('#'))) expect((line.match(/'/g) ?? []).length % 2, line).toBe(0);
  });
});
