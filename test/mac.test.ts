// MAC notations: one canonical form (12 lowercase hex digits) out of every notation phones
// and admins write, and `undefined` (never a throw) for everything else.

import { describe, expect, it } from 'vitest';
import { macForms, normalizeMac, ouiOf } from '../src/config/mac.js';

const ACCEPT: Array<[string, string, string]> = [
  ['bare lower', '0004f2a1b2c3', '0004f2a1b2c3'],
  ['bare upper', '0004F2A1B2C3', '0004f2a1b2c3'],
  ['bare mixed case', '0004F2a1B2c3', '0004f2a1b2c3'],
  ['colon lower', '00:04:f2:a1:b2:c3', '0004f2a1b2c3'],
  ['colon upper', 'C8:1F:EA:83:E8:5A', 'c81fea83e85a'],
  ['dash upper', 'C8-1F-EA-83-E8-5A', 'c81fea83e85a'],
  ['dash lower', '80-5e-c0-12-34-56', '805ec0123456'],
  ['Cisco dotted', '0004.f2a1.b2c3', '0004f2a1b2c3'],
  ['Cisco dotted upper', '805E.C0AB.CDEF', '805ec0abcdef'],
  ['all zero (Poly "any phone")', '000000000000', '000000000000'],
  ['all ff', 'ff:ff:ff:ff:ff:ff', 'ffffffffffff'],
];

const REJECT: Array<[string, string]> = [
  ['empty', ''],
  ['11 digits', '0004f2a1b2c'],
  ['13 digits', '0004f2a1b2c3d'],
  ['10 digits', '0004f2a1b2'],
  ['24 digits', '0004f2a1b2c30004f2a1b2c3'],
  ['11 digits with colons', '00:04:f2:a1:b2:c'],
  ['13 digits with colons', '00:04:f2:a1:b2:c3:4'],
  ['7 groups', '00:04:f2:a1:b2:c3:d4'],
  ['5 groups', '00:04:f2:a1:b2'],
  ['non-hex g', '0004f2a1b2cg'],
  ['non-hex z with colons', 'zz:04:f2:a1:b2:c3'],
  ['mixed colon and dash', '00:04-f2:a1:b2:c3'],
  ['mixed dash then colons', '00-04:f2:a1:b2:c3'],
  ['dot and colon mixed', '0004.f2a1:b2c3'],
  ['dotted with wrong grouping', '00.04f2.a1b2c3'],
  ['dotted with colons instead', '0004:f2a1:b2c3'],
  ['groups of one digit', '0:4:f2:a1:b2:c3'],
  ['groups of three', '000:4f2:a1b:2c3'],
  ['trailing separator', '00:04:f2:a1:b2:c3:'],
  ['leading separator', ':00:04:f2:a1:b2:c3'],
  ['leading space', ' 0004f2a1b2c3'],
  ['trailing newline', '0004f2a1b2c3\n'],
  ['embedded NUL', '0004f2a1\u0000b2c3'],
  ['full-width digits', '０００４ｆ２ａ１ｂ２ｃ３'],
  ['0x prefix', '0x0004f2a1b2c3'],
  ['.cfg file name, not a MAC', '0004f2a1b2c3.cfg'],
  ['spaces as separators', '00 04 f2 a1 b2 c3'],
  ['hex with a sign', '-0004f2a1b2c3'],
];

describe('normalizeMac', () => {
  it.each(ACCEPT)('accepts %s: %j', (_name, input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
  });

  it.each(REJECT)('rejects %s: %j', (_name, input) => {
    expect(normalizeMac(input)).toBeUndefined();
  });

  it('the canonical form is a fixed point', () => {
    for (const [, , canonical] of ACCEPT) expect(normalizeMac(canonical)).toBe(canonical);
  });

  it('rejects a 64 KB string without throwing', () => {
    const inputs = [
      '0'.repeat(65536),
      'a'.repeat(65535) + 'g',
      '00:'.repeat(21845) + '00',
      '0004f2a1b2c3'.repeat(5462),
      '0004.'.repeat(13108),
      `${'00-'.repeat(5)}00${'x'.repeat(65536)}`,
    ];
    for (const s of inputs) {
      expect(s.length).toBeGreaterThanOrEqual(65536);
      expect(() => normalizeMac(s)).not.toThrow();
      expect(normalizeMac(s)).toBeUndefined();
    }
  });
});

describe('ouiOf and macForms', () => {
  it('the OUI is the first three bytes', () => {
    expect(ouiOf('0004f2a1b2c3')).toBe('0004f2');
    expect(ouiOf('805ec0123456')).toBe('805ec0');
  });

  it('gives every spelling a template may want', () => {
    expect(macForms('c81fea83e85a')).toEqual({
      mac: 'c81fea83e85a',
      MAC: 'C81FEA83E85A',
      mac_colon: 'c8:1f:ea:83:e8:5a',
      MAC_colon: 'C8:1F:EA:83:E8:5A',
    });
  });

  it('round-trips: every spelling normalizes back to the canonical MAC', () => {
    const forms = macForms('805ec0abcdef');
    for (const f of Object.values(forms)) expect(normalizeMac(f)).toBe('805ec0abcdef');
  });
});
