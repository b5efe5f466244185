// Findings grouped by source location, and the summary's counts in English.

import { describe, expect, it } from 'vitest';
import { countSummary, formatDiagnostic, groupByLocation, type Diagnostic } from '../src/check/diagnostics.js';

const at = (line: number) => ({ file: 'profiles/groups/sales.yaml', line, col: 7 });
const finding = (device: string | undefined, line = 6, extra: Partial<Diagnostic> = {}): Diagnostic => ({
  code: 'UNKNOWN_PARAMETER',
  severity: 'warning',
  message: `SIPDOMIAN is not a parameter (rendered line ${line + 10})`,
  loc: at(line),
  device,
  path: device ? `${device}.txt` : undefined,
  ...extra,
});

describe('groupByLocation', () => {
  it('one location, many devices: one finding listing them, the first kept as device', () => {
    const g = groupByLocation([finding('aa'), finding('bb'), finding('cc')]);
    expect(g).toHaveLength(1);
    expect(g[0]).toMatchObject({ device: 'aa', devices: ['aa', 'bb', 'cc'], path: 'aa.txt' });
    expect(formatDiagnostic(g[0]!)).toContain('[affects 3 devices (first: aa), path /aa.txt]');
  });

  it('the rendered line may differ per device; the source location decides', () => {
    const a = finding('aa');
    const b = { ...finding('bb'), message: 'SIPDOMIAN is not a parameter (rendered line 40, col 5)' };
    expect(groupByLocation([a, b])).toHaveLength(1);
  });

  it('a different line, column, file, code, severity or message is a different finding', () => {
    const base = finding('aa');
    const variants: Diagnostic[] = [
      finding('bb', 7),
      { ...finding('bb'), loc: { ...at(6), col: 8 } },
      { ...finding('bb'), loc: { ...at(6), file: 'profiles/groups/support.yaml' } },
      { ...finding('bb'), code: 'MISSING_VALUE' },
      { ...finding('bb'), severity: 'error' },
      { ...finding('bb'), message: 'ENABLE_PRESNCE is not a parameter' },
    ];
    for (const v of variants) expect(groupByLocation([base, v]), JSON.stringify(v)).toHaveLength(2);
  });

  it('no location or no device: kept one by one, as found', () => {
    const noLoc = { ...finding('aa'), loc: undefined };
    expect(groupByLocation([noLoc, { ...noLoc, device: 'bb' }])).toHaveLength(2);
    expect(groupByLocation([finding(undefined), finding(undefined)])).toHaveLength(2);
  });

  it('a device counted once however often it repeats a finding; order of first appearance kept', () => {
    const g = groupByLocation([finding('bb'), finding('aa'), finding('bb'), finding('cc')]);
    expect(g[0]!.devices).toEqual(['bb', 'aa', 'cc']);
  });

  it('a single device prints as before', () => {
    expect(formatDiagnostic(groupByLocation([finding('aa')])[0]!)).toContain('[device aa, path /aa.txt]');
  });

  it('10,000 devices group in one pass', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => finding(i.toString(16).padStart(12, '0')));
    const g = groupByLocation(many);
    expect(g).toHaveLength(1);
    expect(g[0]!.devices).toHaveLength(10_000);
  });
});

describe('countSummary', () => {
  const e: Diagnostic = { code: 'X', severity: 'error', message: 'x' };
  const w: Diagnostic = { code: 'Y', severity: 'warning', message: 'y' };
  const i: Diagnostic = { code: 'Z', severity: 'info', message: 'z' };
  it.each([
    [[], '0 errors, 0 warnings'],
    [[e], '1 error, 0 warnings'],
    [[w], '0 errors, 1 warning'],
    [[e, w, w], '1 error, 2 warnings'],
    [[e, e, w, i], '2 errors, 1 warning'],
  ] as Array<[Diagnostic[], string]>)('%#: %s', (list, text) => {
    expect(countSummary(list)).toBe(text);
  });
});
