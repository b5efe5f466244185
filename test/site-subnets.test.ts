// Sites by subnet: the pure longest-prefix selection as tables, the check findings at their
// file:line:col, and a real server that gives two source addresses two sites' settings.

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSubnetTable, formatAddress, parseAddress, parseCidr } from '../src/sites/subnets.js';
import { loadRoot } from '../src/io/load-root.js';
import type { RunningServer } from '../src/server.js';
import { serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, replaceOnce, type TmpRoot } from './helpers/tmp-root.js';
import { runCli } from './helpers/cli.js';

const table = (sites: Record<string, string[]>) =>
  buildSubnetTable(Object.entries(sites).map(([site, list]) => ({ site, items: list.map((text, i) => ({ text, loc: { file: `profiles/sites/${site}.yaml`, line: i + 2, col: 5 } })) })));

describe('address and subnet parsing', () => {
  it.each([
    ['10.20.0.1', '10.20.0.1'],
    ['::ffff:10.20.0.1', '10.20.0.1'],
    ['::FFFF:10.20.0.1', '10.20.0.1'],
    ['0:0:0:0:0:ffff:a14:1', '10.20.0.1'],
    ['2001:DB8:20::1', '2001:db8:20::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ])('%s reads as %s', (text, want) => {
    const a = parseAddress(text);
    expect(a && formatAddress(a)).toBe(want);
  });

  it.each(['', '10.20.0', '10.20.0.256', '10.020.0.1', '1::2::3', '2001:db8:::1', '12345::1', 'host.example', '::ffff:10.0.0.999', '1:2:3:4:5:6:7:8:9'])('%j is not an address', (text) => {
    expect(parseAddress(text)).toBeUndefined();
  });

  it.each([
    ['10.20.0.0/16', 4, 16],
    ['10.20.7.9/16', 4, 16],
    ['10.20.0.5', 4, 32],
    ['2001:db8:20::/48', 6, 48],
    ['::ffff:10.20.0.0/112', 4, 16],
    [' 10.0.0.0/8 ', 4, 8],
  ])('%s is a /%i… subnet', (text, family, len) => {
    const c = parseCidr(text);
    expect(c).toMatchObject({ family, len });
  });

  it.each([
    ['10.20.0.0/33', /0\.\.32/],
    ['2001:db8::/129', /0\.\.128/],
    ['10.20.0.0/abc', /prefix length/],
    ['pbx.example/16', /not an IPv4 or IPv6 address/],
    ['::ffff:10.0.0.0/64', /at least \/96/],
    ['fe80::/10%eth0', /zone id|not an/],
  ])('%s is refused', (text, why) => {
    expect(parseCidr(text)).toMatch(why);
  });
});

describe('longest-prefix selection', () => {
  const { table: t, diagnostics } = table({
    hq: ['10.0.0.0/8', '2001:db8::/32'],
    lisbon: ['10.20.0.0/16', '2001:db8:20::/48'],
    lab: ['10.20.30.0/24', '10.20.30.40'],
    nyc: ['192.168.0.0/16'],
  });
  it('builds without findings', () => expect(diagnostics).toEqual([]));
  it.each([
    ['10.1.2.3', 'hq', '10.0.0.0/8'],
    ['10.20.1.1', 'lisbon', '10.20.0.0/16'],
    ['10.20.30.1', 'lab', '10.20.30.0/24'],
    ['10.20.30.40', 'lab', '10.20.30.40'],
    ['::ffff:10.20.1.1', 'lisbon', '10.20.0.0/16'],
    ['::ffff:10.20.30.40', 'lab', '10.20.30.40'],
    ['2001:db8:20::5', 'lisbon', '2001:db8:20::/48'],
    ['2001:db8:21::5', 'hq', '2001:db8::/32'],
    ['2001:DB8:20:ffff::1', 'lisbon', '2001:db8:20::/48'],
    ['192.168.200.7', 'nyc', '192.168.0.0/16'],
  ])('%s → %s (by %s)', (ip, site, subnet) => {
    const c = t.select(ip);
    expect(c?.site).toBe(site);
    expect(c?.subnet.text).toBe(subnet);
  });
  it.each(['11.0.0.1', '2001:db9::1', '::1', 'garbage', '', '::ffff:11.0.0.1'])('%j → no site', (ip) => {
    expect(t.select(ip)).toBeUndefined();
  });
  it('lists every matching subnet, longest first', () => {
    expect(t.select('10.20.30.40')!.matches.map((m) => m.text)).toEqual(['10.20.30.40', '10.20.30.0/24', '10.20.0.0/16', '10.0.0.0/8']);
  });
  it('an IPv4 subnet never holds an IPv6 address that is not IPv4-mapped', () => {
    const { table: v4only } = table({ all: ['0.0.0.0/0'] });
    expect(v4only.select('2001:db8::1')).toBeUndefined();
    expect(v4only.select('::ffff:1.2.3.4')?.site).toBe('all');
  });
});

describe('findings', () => {
  it('equally specific overlap across sites is an error at the second entry, naming the first', () => {
    const { diagnostics, table: t } = table({ a: ['10.20.0.0/16'], b: ['10.20.9.9/16', '10.20.0.0/17'] });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'SITE_SUBNET_OVERLAP', severity: 'error', loc: { file: 'profiles/sites/b.yaml', line: 2, col: 5 } });
    expect(diagnostics[0]!.related?.[0]?.loc).toEqual({ file: 'profiles/sites/a.yaml', line: 2, col: 5 });
    // A longer prefix inside a shorter one is the point of the rule.
    expect(t.select('10.20.1.1')?.site).toBe('b');
    expect(t.select('10.20.200.1')?.site).toBe('a');
  });
  it('IPv4-mapped and plain IPv4 spellings of one network overlap', () => {
    const { diagnostics } = table({ a: ['10.20.0.0/16'], b: ['::ffff:10.20.0.0/112'] });
    expect(diagnostics.map((d) => d.code)).toEqual(['SITE_SUBNET_OVERLAP']);
  });
  it('the same subnet twice in one site is a warning', () => {
    const { diagnostics } = table({ a: ['10.20.0.0/16', '10.20.0.0/16'] });
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['SITE_SUBNET_DUPLICATE', 'warning']]);
  });
  it('a bad entry is an error at its line', () => {
    const { diagnostics } = table({ a: ['10.20.0.0/16', '10.300.0.0/16'] });
    expect(diagnostics[0]).toMatchObject({ code: 'SITE_SUBNET', loc: { line: 3 } });
  });
});

describe('site files on disk', () => {
  let root: TmpRoot | undefined;
  afterAll(() => root?.cleanup());
  it('loadRoot reports overlaps and bad subnets at the site file line:col', async () => {
    root = await makeTmpRoot({
      'profiles/sites/lisbon.yaml': replaceOnce(/^description:/m, 'subnets: [10.20.0.0/16, 2001:db8:20::/48]\ndescription:'),
      'profiles/sites/nyc.yaml': replaceOnce(/^description:/m, 'subnets:\n  - 10.30.0.0/16\n  - 10.20.0.0/16\n  - 10.40.0.0/99\ndescription:'),
    });
    const snap = await loadRoot(root.dir);
    const found = snap.diagnostics.filter((d) => d.code.startsWith('SITE_SUBNET')).map((d) => `${d.loc?.file.replace(/^.*profiles/, 'profiles')}:${d.loc?.line}:${d.loc?.col} ${d.code}`);
    expect(found).toEqual(['profiles/sites/nyc.yaml:3:5 SITE_SUBNET_OVERLAP', 'profiles/sites/nyc.yaml:4:5 SITE_SUBNET']);
  });
  it('subnets is a key of site files only', async () => {
    const r = await makeTmpRoot({ 'profiles/groups/sales.yaml': (old) => `subnets: [10.0.0.0/8]\n${old}` });
    try {
      const snap = await loadRoot(r.dir);
      expect(snap.diagnostics.some((d) => d.severity === 'error' && /subnets/.test(d.message) && d.loc?.file.endsWith('groups/sales.yaml'))).toBe(true);
    } finally {
      await r.cleanup();
    }
  });
});

/** GET from a chosen local source address (any 127/8 address binds on loopback). */
function getFrom(srv: RunningServer, target: string, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: target, localAddress, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a real server picks the site by source address', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  beforeAll(async () => {
    root = await makeTmpRoot({
      // 127.0.0.2 is Lisbon, the rest of loopback New York: the longer prefix decides.
      'profiles/sites/lisbon.yaml': (old) => `subnets: [127.0.0.2/32]\n${old}`,
      'profiles/sites/nyc.yaml': (old) => `subnets: [127.0.0.0/8]\n${old}`,
      // The T46S names no site; the Trio keeps its explicit site: lisbon.
      'profiles/devices/805ec0123456.yaml': replaceOnce(/^site: lisbon\n/m, ''),
      'deskset.yaml': (old) => `${old}\nunknown_devices: defaults\nsecurity:\n  trusted_proxies: [127.0.0.3]\n`.replace(/^unknown_devices: reject\n/m, ''),
    });
    srv = await serveRoot(root.dir);
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('a device without site: gets the site of the subnet its request comes from', async () => {
    const fromNyc = await getFrom(srv, '/805ec0123456.cfg', '127.0.0.1');
    const fromLisbon = await getFrom(srv, '/805ec0123456.cfg', '127.0.0.2');
    expect(fromNyc.status).toBe(200);
    expect(fromLisbon.status).toBe(200);
    expect(fromNyc.text).toContain('pbx-nyc.northwind.example');
    expect(fromNyc.text).not.toContain('pbx-lis.northwind.example');
    expect(fromLisbon.text).toContain('pbx-lis.northwind.example');
    // Asked again from New York after Lisbon: the render cache must not hand back Lisbon's file.
    expect((await getFrom(srv, '/805ec0123456.cfg', '127.0.0.1')).text).toBe(fromNyc.text);
  });

  it('an explicit site: wins over the subnet', async () => {
    const a = await getFrom(srv, '/2cf4c5001122.txt', '127.0.0.1');
    const b = await getFrom(srv, '/2cf4c5001122.txt', '127.0.0.2');
    expect(a.status).toBe(200);
    expect(a.text).toBe(b.text);
    expect(a.text).toContain('pbx-lis.northwind.example');
  });

  it('X-Forwarded-For counts only from a trusted proxy', async () => {
    const viaProxy = await getFrom(srv, '/805ec0123456.cfg', '127.0.0.3', { 'X-Forwarded-For': '127.0.0.2' });
    expect(viaProxy.text).toContain('pbx-lis.northwind.example');
    const forged = await getFrom(srv, '/805ec0123456.cfg', '127.0.0.1', { 'X-Forwarded-For': '127.0.0.2' });
    expect(forged.text).toContain('pbx-nyc.northwind.example');
  });

  it('an unknown device served from defaults gets its site layer too', async () => {
    const ua = { 'User-Agent': 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:99:99:99' };
    const nyc = await getFrom(srv, '/805ec0999999.cfg', '127.0.0.1', ua);
    const lis = await getFrom(srv, '/805ec0999999.cfg', '127.0.0.2', ua);
    expect(nyc.status).toBe(200);
    // Unknown phones get no lines (so no SIP server); the sites' time zones tell them apart.
    expect(nyc.text).toContain('local_time.time_zone = -5\n');
    expect(lis.text).toContain('local_time.time_zone = 0\n');
  });
});

describe('deskset explain MAC --ip ADDR', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({
      'profiles/sites/lisbon.yaml': (old) => `subnets: [10.20.0.0/16]\n${old}`,
      'profiles/sites/nyc.yaml': (old) => `subnets: [10.0.0.0/8]\n${old}`,
      'profiles/devices/805ec0123456.yaml': replaceOnce(/^site: lisbon\n/m, ''),
    });
  });
  afterAll(() => root?.cleanup());

  it('says which site the address selects, by which subnet at which line, and what lost', async () => {
    const r = await runCli(['explain', root.dir, '805ec0123456', 'sip.server', '--ip', '::ffff:10.20.4.7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/site lisbon/);
    expect(r.stdout).toMatch(/Address ::ffff:10\.20\.4\.7 \(as 10\.20\.4\.7\): site lisbon, subnet 10\.20\.0\.0\/16 \(\/16\) at .*profiles\/sites\/lisbon\.yaml:1:\d+/);
    expect(r.stdout).toMatch(/also in 10\.0\.0\.0\/8 \(\/8\) of site nyc at .*nyc\.yaml:1:\d+: a shorter prefix, not chosen/);
    expect(r.stdout).toContain('pbx-lis.northwind.example');
  });
  it('--json carries the decision', async () => {
    const r = await runCli(['explain', root.dir, '805ec0123456', '--ip', '10.9.9.9', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { device: { site: string }; address: { site: string; subnet: { cidr: string } } };
    expect(j.device.site).toBe('nyc');
    expect(j.address.subnet.cidr).toBe('10.0.0.0/8');
  });
  it('an explicit site: wins, and explain says so', async () => {
    const r = await runCli(['explain', root.dir, '2cf4c5001122', '--ip', '10.9.9.9']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/site lisbon/);
    expect(r.stdout).toMatch(/names site lisbon \(site:\), which always wins/);
  });
  it('an address in no subnet, and a bad address', async () => {
    const none = await runCli(['explain', root.dir, '805ec0123456', '--ip', '192.0.2.1']);
    expect(none.stdout).toMatch(/in none of the 2 site subnets/);
    const bad = await runCli(['explain', root.dir, '805ec0123456', '--ip', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not an IPv4 or IPv6 address/);
  });
});
