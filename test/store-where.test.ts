import { describe, expect, it } from 'vitest';
import { formatWhere, matches, parseWhere, WhereError } from '../src/store/where.js';

const row = { mac: '0004f2aabbcc', vendor: 'polycom', model: 'VVX450', firmware: '5.9.7.1234', hardware: '', ip: '10.20.1.5', site: 'hq', result: 'ok', first_seen: '2026-12-01T08:00:00.000Z', last_seen: '2026-12-02T08:00:00.000Z' };

describe('--where: parse and evaluate', () => {
  it.each([
    ['model=VVX450', true],
    ['model=vvx450', true],
    ['MODEL = VVX450', true],
    ['model!=VVX450', false],
    ['firmware^=5.9', true],
    ['firmware^=6.', false],
    ['ip$=.5', true],
    ['site*=q', true],
    ['model=VVX450 and firmware^=5.9', true],
    ['model=VVX450 AND firmware^=6', false],
    ['model=T46S or firmware^=5.9', true],
    ['model=T46S or site=hq and result=ok', true],
    ['(model=T46S or site=hq) and result=failing', false],
    ["hardware=''", true],
    ['hardware!=""', false],
    ["model='VVX450'", true],
    ["model='VVX''450'", false],
    ["site!='it''s'", true],
    ['mac=00:04:F2:AA:BB:CC', true],
    ['mac^=00-04-f2', true],
    ['last_seen^=2026-12-02', true],
  ])('%s → %s', (expr, want) => {
    expect(matches(parseWhere(expr), row)).toBe(want);
  });

  it('and binds tighter than or', () => {
    expect(parseWhere('a=1 or model=2 and site=3'.replace('a=1', 'ip=1'))).toEqual({
      kind: 'or',
      items: [
        { kind: 'cond', column: 'ip', op: '=', value: '1' },
        { kind: 'and', items: [{ kind: 'cond', column: 'model', op: '=', value: '2' }, { kind: 'cond', column: 'site', op: '=', value: '3' }] },
      ],
    });
  });

  it('formats back to an expression that parses to the same tree', () => {
    for (const e of ['model=VVX450 and (firmware^=5.9 or site=\'a b\')', 'ip$=.5 or hardware=\'\'', "model='O''Brien (x)'"]) {
      const w = parseWhere(e);
      expect(parseWhere(formatWhere(w))).toEqual(w);
    }
  });

  it.each([
    ['', 1, /expected a condition/],
    ['colour=red', 1, /unknown column "colour".*columns: mac, vendor/],
    ['model', 6, /expected an operator after "model"/],
    ['model=', 7, /expected a value/],
    ['model=x and', 12, /expected a condition/],
    ['model=x firmware=y', 9, /unexpected "firmware=y".*joined with "and" or "or"/],
    ["model='x", 7, /unterminated/],
    ['(model=x', 9, /expected '\)'/],
    ['model<x', 6, /expected an operator/],
    ['=x', 1, /expected a column name/],
    ['('.repeat(50) + 'model=x' + ')'.repeat(50), 21, /nested too deep/],
  ])('%j is refused at column %i', (expr, col, msg) => {
    let err: unknown;
    try {
      parseWhere(expr);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WhereError);
    expect((err as WhereError).col).toBe(col);
    expect((err as Error).message).toMatch(msg);
  });

  it('refuses an expression longer than 2000 characters', () => {
    expect(() => parseWhere(`model=${'x'.repeat(3000)}`)).toThrow(/longer than 2000/);
  });
});
