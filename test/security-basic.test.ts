import { describe, expect, it } from 'vitest';
import { challenge, MAX_AUTHORIZATION_LENGTH, parseBasic } from '../src/security/basic.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('parseBasic', () => {
  it.each([
    ['PlcmSpIp:PlcmSpIp', `Basic ${b64('PlcmSpIp:PlcmSpIp')}`, { user: 'PlcmSpIp', pass: 'PlcmSpIp' }],
    ['scheme is case-insensitive', `bAsIc ${b64('a:b')}`, { user: 'a', pass: 'b' }],
    ['colon in the password', `Basic ${b64('user:pa:ss')}`, { user: 'user', pass: 'pa:ss' }],
    ['empty password', `Basic ${b64('user:')}`, { user: 'user', pass: '' }],
    ['UTF-8', `Basic ${b64('jürgen:pässwörd')}`, { user: 'jürgen', pass: 'pässwörd' }],
    ['surrounding spaces', `  Basic   ${b64('a:b')}  `, { user: 'a', pass: 'b' }],
  ])('%s', (_what, header, expected) => {
    expect(parseBasic(header)).toEqual(expected);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['other scheme', `Bearer ${b64('a:b')}`],
    ['no credentials', 'Basic'],
    ['no colon', `Basic ${b64('justuser')}`],
    ['not base64', 'Basic !!!###'],
    ['NUL in user', `Basic ${b64('a\u0000b:c')}`],
    ['CR/LF in password', `Basic ${b64('a:b\r\nX-Injected: 1')}`],
    ['two tokens', `Basic ${b64('a:b')} ${b64('c:d')}`],
  ])('%s -> undefined', (_what, header) => {
    expect(parseBasic(header)).toBeUndefined();
  });

  it('refuses headers over 4 KB before decoding', () => {
    const big = `Basic ${b64(`u:${'x'.repeat(MAX_AUTHORIZATION_LENGTH)}`)}`;
    expect(big.length).toBeGreaterThan(MAX_AUTHORIZATION_LENGTH);
    expect(parseBasic(big)).toBeUndefined();
    const justUnder = `Basic ${b64(`u:${'x'.repeat(3000)}`)}`;
    expect(justUnder.length).toBeLessThanOrEqual(MAX_AUTHORIZATION_LENGTH);
    expect(parseBasic(justUnder)?.pass.length).toBe(3000);
  });

  it('handles a pathological header quickly', () => {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) parseBasic(`Basic ${' '.repeat(4000)}x`);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('challenge', () => {
  it('names the realm and the charset', () => {
    expect(challenge('deskset')).toBe('Basic realm="deskset", charset="UTF-8"');
  });

  it('escapes quotes and drops control characters', () => {
    expect(challenge('a"b\\c\r\nSet-Cookie: x')).toBe('Basic realm="a\\"b\\\\cSet-Cookie: x", charset="UTF-8"');
  });
});
