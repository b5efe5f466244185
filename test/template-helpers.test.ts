// The format helpers' checks (render/template-helpers.ts): remembered names and the escape
// fast path must refuse exactly what the full checks refuse.

import { describe, expect, it } from 'vitest';
import { avayaSet, xmlEscape, yealinkLine } from '../src/render/template-helpers.js';

describe('parameter name checks, remembered per name', () => {
  it('a name found valid does not make a different, invalid one pass', () => {
    expect(yealinkLine('account.1.enable', 1)).toBe('account.1.enable = 1');
    expect(() => yealinkLine('account.1.enable x', 1)).toThrow(/not a valid Yealink parameter name/);
    expect(avayaSet('SIP_CONTROLLER_LIST', 'a')).toBe('SET SIP_CONTROLLER_LIST a');
    expect(() => avayaSet('SIP-CONTROLLER', 'a')).toThrow(/not a valid Avaya parameter name/);
  });

  it('an invalid name is refused every time it is asked for', () => {
    for (let i = 0; i < 3; i++) expect(() => yealinkLine('bad\nkey', 'v')).toThrow(/not a valid Yealink parameter name/);
    for (let i = 0; i < 3; i++) expect(() => avayaSet('1ABC', 'v')).toThrow(/not a valid Avaya parameter name/);
  });

  it('keeps checking correctly past the memory bound', () => {
    for (let i = 0; i < 12_000; i++) expect(yealinkLine(`k${i}`, 'v')).toBe(`k${i} = v`);
    expect(yealinkLine('k1', 'v')).toBe('k1 = v');
    expect(() => yealinkLine('k 1', 'v')).toThrow(/not a valid Yealink parameter name/);
  });
});

describe('xmlEscape', () => {
  it('returns a value with nothing to escape as it is', () => {
    expect(xmlEscape('sip.example.com')).toBe('sip.example.com');
    expect(xmlEscape(5060)).toBe('5060');
    expect(xmlEscape('')).toBe('');
  });

  it('escapes markup and whitespace that an attribute would lose', () => {
    expect(xmlEscape(`a&b<c>"d'\te\nf\rg`)).toBe('a&amp;b&lt;c&gt;&quot;d&apos;&#9;e&#10;f&#13;g');
  });

  it('refuses control characters XML cannot carry, wherever they are', () => {
    for (const bad of ['\u0000', 'x\u0001', 'a\u000Bb', 'a\u001F', '\uFFFE', 'pa&ss\u0008']) {
      expect(() => xmlEscape(bad)).toThrow(/control character/);
    }
  });
});
