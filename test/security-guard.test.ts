import { describe, expect, it } from 'vitest';
import { EnumerationGuard, ipv6Prefix, logGuardEvent, type GuardEvent } from '../src/security/enumeration-guard.js';

const MIN = 60_000;
const mac = (i: number) => `0004f2${i.toString(16).padStart(6, '0')}`;

function setup(opts: Partial<ConstructorParameters<typeof EnumerationGuard>[0]> = {}) {
  const clock = { t: 1_000_000 };
  const events: GuardEvent[] = [];
  const guard = new EnumerationGuard({ now: () => clock.t, onEvent: (e) => events.push(e), ...opts });
  return { clock, events, guard };
}

describe('MAC enumeration', () => {
  it('20 distinct misses are fine, the 21st starts a cool-down with exactly one event', () => {
    const { guard, events } = setup();
    for (let i = 0; i < 20; i++) guard.recordMiss('203.0.113.9', mac(i));
    expect(guard.blocked('203.0.113.9')).toBe(false);
    expect(events).toEqual([]);
    guard.recordMiss('203.0.113.9', mac(20));
    expect(guard.blocked('203.0.113.9')).toBe(true);
    expect(events).toEqual([{ event: 'mac_enumeration', ip: '203.0.113.9', distinct: 21, window_s: 600 }]);
    // More misses during the cool-down: still one event.
    for (let i = 21; i < 100; i++) guard.recordMiss('203.0.113.9', mac(i));
    expect(events).toHaveLength(1);
    // Other clients are unaffected.
    expect(guard.blocked('203.0.113.10')).toBe(false);
  });

  it('repeats of one MAC count once (an unprovisioned phone retrying its own file)', () => {
    const { guard, events } = setup();
    for (let i = 0; i < 1000; i++) guard.recordMiss('198.51.100.1', mac(1));
    for (let i = 0; i < 19; i++) guard.recordMiss('198.51.100.1', mac(100 + i));
    expect(guard.blocked('198.51.100.1')).toBe(false);
    expect(events).toEqual([]);
  });

  it('misses older than the window are forgotten', () => {
    const { guard, clock } = setup();
    for (let i = 0; i < 20; i++) guard.recordMiss('203.0.113.9', mac(i));
    clock.t += 10 * MIN + 1;
    for (let i = 20; i < 40; i++) guard.recordMiss('203.0.113.9', mac(i));
    expect(guard.blocked('203.0.113.9')).toBe(false);
    guard.recordMiss('203.0.113.9', mac(40));
    expect(guard.blocked('203.0.113.9')).toBe(true);
  });

  it('the cool-down expires on the injected clock, and a new trigger gives a new event', () => {
    const { guard, clock, events } = setup({ cooldownMs: 5 * MIN });
    for (let i = 0; i < 21; i++) guard.recordMiss('203.0.113.9', mac(i));
    expect(guard.blocked('203.0.113.9')).toBe(true);
    clock.t += 5 * MIN - 1;
    expect(guard.blocked('203.0.113.9')).toBe(true);
    clock.t += 1;
    expect(guard.blocked('203.0.113.9')).toBe(false);
    // The window started afresh: 20 more are fine again.
    for (let i = 100; i < 120; i++) guard.recordMiss('203.0.113.9', mac(i));
    expect(guard.blocked('203.0.113.9')).toBe(false);
    guard.recordMiss('203.0.113.9', mac(120));
    expect(guard.blocked('203.0.113.9')).toBe(true);
    expect(events.filter((e) => e.event === 'mac_enumeration')).toHaveLength(2);
  });

  it('IPv4-mapped and plain IPv4 are one client', () => {
    const { guard, events } = setup();
    for (let i = 0; i < 21; i++) guard.recordMiss(i % 2 ? '::ffff:203.0.113.9' : '203.0.113.9', mac(i));
    expect(guard.blocked('203.0.113.9')).toBe(true);
    expect(guard.blocked('::ffff:203.0.113.9')).toBe(true);
    expect(events[0]?.ip).toBe('203.0.113.9');
  });

  it('IPv6 clients are grouped per /64, so rotating addresses does not help', () => {
    const { guard, events } = setup();
    for (let i = 0; i < 21; i++) guard.recordMiss(`2001:db8:1:2::${(i + 1).toString(16)}`, mac(i));
    expect(guard.blocked('2001:db8:1:2:ffff::1')).toBe(true);
    expect(guard.blocked('2001:db8:1:3::1')).toBe(false);
    expect(events).toEqual([{ event: 'mac_enumeration', ip: '2001:db8:1:2::15', distinct: 21, window_s: 600 }]);
  });

  it('exempt clients are never cooled down', () => {
    const { guard, events } = setup({ exempt: (ip) => ip.startsWith('10.') });
    for (let i = 0; i < 100; i++) guard.recordMiss('10.1.2.3', mac(i));
    expect(guard.blocked('10.1.2.3')).toBe(false);
    expect(events).toEqual([]);
  });

  it('memory stays bounded under misses from 1e6 distinct addresses', () => {
    const { guard } = setup({ maxTrackedIps: 1000 });
    for (let i = 0; i < 1_000_000; i++) {
      guard.recordMiss(`${10 + (i >>> 24)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`, mac(i));
    }
    const s = guard.stats();
    expect(s.trackedIps).toBeLessThanOrEqual(1000);
    expect(s.coolingDown).toBeLessThanOrEqual(1000);
  });

  it('a flood of fresh addresses does not evict (and so lift) an active cool-down', () => {
    const { guard } = setup({ maxTrackedIps: 100 });
    for (let i = 0; i < 21; i++) guard.recordMiss('203.0.113.9', mac(i));
    for (let i = 0; i < 10_000; i++) guard.recordMiss(`198.18.${(i >> 8) & 255}.${i & 255}`, mac(i));
    expect(guard.blocked('203.0.113.9')).toBe(true);
  });

  it('cool-downs are bounded too', () => {
    const { guard } = setup({ maxTrackedIps: 50, maxDistinct: 1 });
    for (let i = 0; i < 5000; i++) {
      const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
      guard.recordMiss(ip, mac(1));
      guard.recordMiss(ip, mac(2));
    }
    expect(guard.stats().coolingDown).toBeLessThanOrEqual(50);
  });
});

describe('forgive', () => {
  it('a MAC the client proved it may have stops counting toward the cool-down', () => {
    const { guard } = setup();
    for (let i = 0; i < 20; i++) guard.recordMiss('203.0.113.9', mac(i));
    guard.forgive('203.0.113.9', mac(0));
    guard.recordMiss('203.0.113.9', mac(20));
    expect(guard.blocked('203.0.113.9')).toBe(false);
    guard.recordMiss('203.0.113.9', mac(21));
    expect(guard.blocked('203.0.113.9')).toBe(true);
  });
});

describe('lockout per client and device', () => {
  it('3 failures from one client lock the device for that client only, with auth_failed for the first two and one device_locked', () => {
    const { guard, events } = setup();
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(false);
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(true);
    expect(guard.deviceLocked(mac(2), '198.51.100.7')).toBe(false);
    // The real phone, at its own address, is not locked out by a stranger's guesses.
    expect(guard.deviceLocked(mac(1), '10.20.0.15')).toBe(false);
    expect(events).toEqual([
      { event: 'auth_failed', ip: '198.51.100.7', mac: mac(1), failures: 1 },
      { event: 'auth_failed', ip: '198.51.100.7', mac: mac(1), failures: 2 },
      { event: 'device_locked', ip: '198.51.100.7', mac: mac(1), failures: 3, lock_s: 600 },
    ]);
  });

  it('failures from different clients count apart; an IPv6 client is its /64', () => {
    const { guard } = setup();
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    guard.recordAuthFailure(mac(1), '198.51.100.8');
    guard.recordAuthFailure(mac(1), '198.51.100.9');
    for (const ip of ['198.51.100.7', '198.51.100.8', '198.51.100.9']) expect(guard.deviceLocked(mac(1), ip)).toBe(false);
    guard.recordAuthFailure(mac(1), '2001:db8:1:2::a');
    guard.recordAuthFailure(mac(1), '2001:db8:1:2::b');
    guard.recordAuthFailure(mac(1), '2001:db8:1:2::c');
    expect(guard.deviceLocked(mac(1), '2001:db8:1:2::ffff')).toBe(true);
    expect(guard.deviceLocked(mac(1), '2001:db8:1:3::a')).toBe(false);
  });

  it('the lock expires and is not extended by failures during it', () => {
    const { guard, clock, events } = setup({ lockoutMs: 15 * MIN });
    for (let i = 0; i < 3; i++) guard.recordAuthFailure(mac(1), '198.51.100.7');
    clock.t += 10 * MIN;
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    expect(events.filter((e) => e.event === 'device_locked')).toHaveLength(1);
    expect(events.at(-1)?.event).toBe('auth_failed');
    clock.t += 5 * MIN - 1;
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(true);
    clock.t += 1;
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(false);
    // A fresh count after the lock.
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(false);
  });

  it('failures spread beyond the window do not lock', () => {
    const { guard, clock } = setup();
    for (let i = 0; i < 10; i++) {
      guard.recordAuthFailure(mac(1), '198.51.100.7');
      clock.t += 6 * MIN;
    }
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(false);
  });

  it('a success resets the count', () => {
    const { guard } = setup();
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    guard.recordAuthSuccess(mac(1), '198.51.100.7');
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    guard.recordAuthFailure(mac(1), '198.51.100.7');
    expect(guard.deviceLocked(mac(1), '198.51.100.7')).toBe(false);
  });

  it('device tables are bounded', () => {
    const { guard } = setup({ maxTrackedDevices: 100 });
    for (let i = 0; i < 100_000; i++) guard.recordAuthFailure(mac(i), '198.51.100.7');
    for (let i = 0; i < 3000; i++) for (let k = 0; k < 3; k++) guard.recordAuthFailure(mac(i), '198.51.100.7');
    const s = guard.stats();
    expect(s.trackedDevices).toBeLessThanOrEqual(100);
    expect(s.locked).toBeLessThanOrEqual(100);
  });
});

describe('options and helpers', () => {
  it('rejects nonsense options', () => {
    expect(() => new EnumerationGuard({ maxDistinct: 0 })).toThrow(RangeError);
    expect(() => new EnumerationGuard({ windowMs: Number.NaN })).toThrow(RangeError);
    expect(() => new EnumerationGuard({ ipv6PrefixBits: 129 })).toThrow(RangeError);
  });

  it.each([
    ['2001:db8:1:2:3:4:5:6', 64, '2001:db8:1:2:0:0:0:0/64'],
    ['2001:db8::1', 64, '2001:db8:0:0:0:0:0:0/64'],
    ['::1', 128, '0:0:0:0:0:0:0:1/128'],
    ['2001:db8:abcd:12ff::', 56, '2001:db8:abcd:1200:0:0:0:0/56'],
    ['64:ff9b::192.0.2.33', 128, '64:ff9b:0:0:0:0:c000:221/128'],
    ['1:2:3:4:5:6:1.2.3.4', 128, '1:2:3:4:5:6:102:304/128'],
  ])('ipv6Prefix(%s, %d)', (ip, bits, expected) => {
    expect(ipv6Prefix(ip, bits)).toBe(expected);
  });

  it('logGuardEvent puts event and ip first', () => {
    const calls: Array<[object, string]> = [];
    logGuardEvent({ warn: (o, m) => calls.push([o, m]) }, { event: 'device_locked', mac: 'x', ip: '1.2.3.4', failures: 3, lock_s: 600 } as GuardEvent);
    expect(Object.keys(calls[0]![0])).toEqual(['event', 'ip', 'mac', 'failures', 'lock_s']);
    expect(calls[0]![1]).toMatch(/locked/);
  });
});
