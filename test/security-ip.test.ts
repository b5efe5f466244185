import { describe, expect, it } from 'vitest';
import { clientIp, IpAllowList, MAX_XFF_LENGTH, normalizeIp } from '../src/config/ip-allow.js';

describe('IpAllowList', () => {
  const list = new IpAllowList(['10.0.0.0/8', '192.168.1.10', '2001:db8::/32', '::1']);

  it.each([
    ['10.0.0.5', true],
    ['10.255.255.255', true],
    ['11.0.0.1', false],
    ['192.168.1.10', true],
    ['192.168.1.11', false],
    ['2001:db8::1', true],
    ['2001:DB8:ffff::1', true],
    ['2001:db9::1', false],
    ['::1', true],
    ['::ffff:10.0.0.5', true], // IPv4-mapped, as a dual-stack socket reports IPv4 peers
    ['::FFFF:10.0.0.5', true],
    ['::ffff:a00:5', true], // the same, in hex
    ['::ffff:11.0.0.1', false],
    ['fe80::1%eth0', false],
    ['not an ip', false],
    ['', false],
    ['10.0.0.5/8', false],
    [' 10.0.0.5', false],
  ])('%s -> %s', (ip, expected) => {
    expect(list.allows(ip)).toBe(expected);
  });

  it('an IPv6 rule for the mapped range matches IPv4 peers', () => {
    expect(new IpAllowList(['::ffff:10.0.0.0/104']).allows('10.1.2.3')).toBe(true);
  });

  it('masks host bits like firewalls do', () => {
    expect(new IpAllowList(['10.0.0.5/8']).allows('10.9.9.9')).toBe(true);
  });

  it('zone ids in the peer address are ignored', () => {
    expect(new IpAllowList(['fe80::/10']).allows('fe80::1%eth0')).toBe(true);
  });

  it('an empty list allows nothing; 0.0.0.0/0 and ::/0 allow everything', () => {
    expect(new IpAllowList([]).allows('10.0.0.1')).toBe(false);
    const all = new IpAllowList(['0.0.0.0/0', '::/0']);
    expect(all.allows('203.0.113.1')).toBe(true);
    expect(all.allows('2001:db8::1')).toBe(true);
  });

  it.each([
    ['10.0.0.0/33'],
    ['10.0.0.0/-1'],
    ['10.0.0.0/'],
    ['10.0.0.0/8/8'],
    ['10.0.0/8'],
    ['2001:db8::/129'],
    ['fe80::1%eth0/64'],
    ['example.com'],
    [''],
    ['10.0.0.0/ 8'],
  ])('invalid entry %j throws naming it', (bad) => {
    expect(() => new IpAllowList(['192.168.0.0/16', bad])).toThrow(JSON.stringify(bad));
  });
});

describe('normalizeIp', () => {
  it.each([
    ['::ffff:10.0.0.5', '10.0.0.5'],
    ['10.0.0.5', '10.0.0.5'],
    ['2001:DB8::1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['nope', undefined],
  ])('%s -> %s', (a, b) => {
    expect(normalizeIp(a)).toBe(b);
  });
});

describe('clientIp', () => {
  const proxies = new IpAllowList(['10.0.0.1', '10.0.0.2', 'fd00::/8']);

  it('without trusted proxies, XFF is ignored', () => {
    expect(clientIp('203.0.113.5', '1.2.3.4', undefined)).toBe('203.0.113.5');
  });

  it('an untrusted peer cannot spoof its address with XFF', () => {
    expect(clientIp('203.0.113.5', '10.0.0.99', proxies)).toBe('203.0.113.5');
    expect(clientIp('::ffff:203.0.113.5', '1.2.3.4', proxies)).toBe('203.0.113.5');
  });

  it('a trusted peer: the right-most untrusted entry is the client', () => {
    expect(clientIp('10.0.0.1', '203.0.113.5', proxies)).toBe('203.0.113.5');
    // The client wrote "1.2.3.4" itself; the proxy appended what it saw.
    expect(clientIp('10.0.0.1', '1.2.3.4, 203.0.113.5', proxies)).toBe('203.0.113.5');
    // Two proxies: skip the inner one.
    expect(clientIp('10.0.0.1', '1.2.3.4, 203.0.113.5, 10.0.0.2', proxies)).toBe('203.0.113.5');
    expect(clientIp('::ffff:10.0.0.1', '203.0.113.5,10.0.0.2', proxies)).toBe('203.0.113.5');
    expect(clientIp('fd00::1', '2001:db8::7, fd00::2', proxies)).toBe('2001:db8::7');
  });

  it('a spoofed trusted-looking address left of the real client changes nothing', () => {
    expect(clientIp('10.0.0.1', '10.0.0.2, 203.0.113.5', proxies)).toBe('203.0.113.5');
  });

  it('accepts ports and brackets, normalises mapped addresses', () => {
    expect(clientIp('10.0.0.1', '203.0.113.5:4711', proxies)).toBe('203.0.113.5');
    expect(clientIp('10.0.0.1', '[2001:db8::7]:4711', proxies)).toBe('2001:db8::7');
    expect(clientIp('10.0.0.1', '[2001:db8::7]', proxies)).toBe('2001:db8::7');
    expect(clientIp('10.0.0.1', '::ffff:203.0.113.5', proxies)).toBe('203.0.113.5');
  });

  it('malformed entries are skipped', () => {
    expect(clientIp('10.0.0.1', '203.0.113.5, unknown', proxies)).toBe('203.0.113.5');
    expect(clientIp('10.0.0.1', '203.0.113.5, , garbage!!, 10.0.0.2', proxies)).toBe('203.0.113.5');
    expect(clientIp('10.0.0.1', '[2001:db8::7', proxies)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', 'fe80::1%eth0', proxies)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', '', proxies)).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', 'nothing, useful', proxies)).toBe('10.0.0.1');
  });

  it('when every entry is a trusted proxy, the left-most one is the best we know', () => {
    expect(clientIp('10.0.0.1', '10.0.0.2', proxies)).toBe('10.0.0.2');
  });

  it('caps the header: only its right-most part is read', () => {
    const padding = Array.from({ length: 2000 }, (_, i) => `1.1.${(i >> 8) & 255}.${i & 255}`).join(', ');
    const xff = `${padding}, 203.0.113.5, 10.0.0.2`;
    expect(xff.length).toBeGreaterThan(MAX_XFF_LENGTH);
    expect(clientIp('10.0.0.1', xff, proxies)).toBe('203.0.113.5');
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) clientIp('10.0.0.1', `${'x'.repeat(1_000_000)}, 203.0.113.5`, proxies);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('stops after a bounded number of hops', () => {
    const chain = Array.from({ length: 100 }, () => '10.0.0.2').join(',');
    expect(clientIp('10.0.0.1', `203.0.113.5,${chain}`, proxies)).toBe('10.0.0.2');
  });
});
