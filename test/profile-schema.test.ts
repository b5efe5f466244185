// The profile schema: the shared settings vocabulary is typed, vendor maps are open but
// take scalars only, time zones are IANA names, and every error carries file:line:col.
// Each case runs twice: through the pure core (buildSnapshot on in-memory files) and
// through the real CLI (`deskset check <root>`, exit 1 and the exact location printed).
//
// The CLI cases need dist/: run `npx tsc -p tsconfig.json` first.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../src/check/diagnostics.js';
import { isKnownTimeZone } from '../src/config/profile-schema.js';
import { renderTarget } from '../src/render/render.js';
import { allTargets } from '../src/pipeline/request.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { runCli } from './helpers/cli.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

let shipped: Map<string, string>;
let samples: Map<string, string>;

beforeAll(async () => {
  shipped = await shippedFiles();
  samples = await sampleFiles();
});

/** samples/ with some files replaced (text) or removed (null), built by the pure core. */
function build(changes: Record<string, string | null>): Snapshot {
  const root = new Map(samples);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) root.delete(k);
    else root.set(k, v);
  }
  return buildSnapshot({ root, shipped, version: '0.0.0-test' });
}

function errorsOf(snap: Snapshot): Diagnostic[] {
  return snap.diagnostics.filter((d) => d.severity === 'error');
}

function renderedText(snap: Snapshot, requestPath: string): string {
  const t = allTargets(snap).find((x) => x.path === requestPath);
  if (!t) throw new Error(`no target ${requestPath}`);
  const { rendered, diagnostics } = renderTarget(snap.render, t);
  if (!rendered) throw new Error(diagnostics.map(formatDiagnostic).join('\n'));
  return rendered.bytes.toString('utf8');
}

const GLOBAL = 'profiles/global.yaml';
const YEALINK_DEVICE = 'profiles/devices/805ec0123456.yaml';

interface BadCase {
  name: string;
  file: string;
  text: string;
  line: number;
  col: number;
  message: RegExp;
}

// Positions are where the offending value (or, for an unknown key, the key) is written.
const BAD: BadCase[] = [
  { name: 'unknown top-level key', file: GLOBAL, text: 'description: x\nbogus: 1\n', line: 2, col: 1, message: /^bogus: unknown key \(known: .*settings/ },
  { name: 'settings.sip.port: "abc"', file: GLOBAL, text: 'settings:\n  sip:\n    port: "abc"\n', line: 3, col: 11, message: /^settings\.sip\.port: expected an integer, got "abc"$/ },
  { name: 'settings.sip.port: 70000', file: GLOBAL, text: 'settings:\n  sip:\n    port: 70000\n', line: 3, col: 11, message: /^settings\.sip\.port: 70000 is out of range 1\.\.65535$/ },
  { name: 'lines: {}', file: GLOBAL, text: 'settings:\n  lines: {}\n', line: 2, col: 10, message: /^settings\.lines: expected a list, got map$/ },
  { name: 'lines: [ "x" ]', file: GLOBAL, text: 'settings:\n  lines: [ "x" ]\n', line: 2, col: 12, message: /^settings\.lines\[0\]: expected a map, got string$/ },
  { name: 'unknown time zone Mars/Olympus', file: GLOBAL, text: 'settings:\n  time:\n    zone: Mars/Olympus\n', line: 3, col: 11, message: /^settings\.time\.zone: unknown time zone "Mars\/Olympus"/ },
  { name: 'polycom.params value is a map', file: GLOBAL, text: 'settings:\n  polycom:\n    params: {a: {b: 1}}\n', line: 3, col: 17, message: /^settings\.polycom\.params\.a: expected a single value .*got map$/ },
  { name: 'yealink.params value is a list', file: GLOBAL, text: 'settings:\n  yealink:\n    params: {k: [1,2]}\n', line: 3, col: 17, message: /^settings\.yealink\.params\.k: expected a single value .*got list$/ },
  { name: 'avaya.settings value is a map', file: GLOBAL, text: 'settings:\n  avaya:\n    settings:\n      DIALPLAN:\n        x: 1\n', line: 5, col: 9, message: /^settings\.avaya\.settings\.DIALPLAN: expected a single value .*got map$/ },
  { name: 'transport: sctp', file: GLOBAL, text: 'settings:\n  sip:\n    transport: sctp\n', line: 3, col: 16, message: /^settings\.sip\.transport: expected one of udp, tcp, tls, got "sctp"$/ },
  { name: 'device file with no model', file: YEALINK_DEVICE, text: 'site: lisbon\nsettings:\n  language: en\n', line: 1, col: 1, message: /missing required key "model"/ },
  { name: 'groups: sales (not a list)', file: YEALINK_DEVICE, text: 'model: T46S\ngroups: sales\n', line: 2, col: 9, message: /^groups: expected a list, got string$/ },
  { name: 'unknown key inside settings', file: GLOBAL, text: 'settings:\n  sip:\n    server: pbx.example\n  sipp:\n    port: 5060\n', line: 4, col: 3, message: /^settings\.sipp: unknown key \(did you mean "sip"\?\) \(known: sip, lines, time/ },
  { name: 'unknown key in a line', file: YEALINK_DEVICE, text: 'model: T46S\nsettings:\n  lines:\n    - extension: "2010"\n      extn: "2011"\n', line: 5, col: 7, message: /^settings\.lines\[0\]\.extn: unknown key/ },
];

describe('profile schema, pure core (buildSnapshot on in-memory files)', () => {
  it('the unmodified samples have no diagnostics at all', () => {
    expect(build({}).diagnostics.map(formatDiagnostic)).toEqual([]);
  });

  it.each(BAD)('$name is one error at $file:$line:$col', (c) => {
    const errs = errorsOf(build({ [c.file]: c.text }));
    expect(errs.map(formatDiagnostic)).toHaveLength(1);
    const [e] = errs;
    expect(e!.code).toBe('PROFILE');
    expect(e!.loc).toEqual({ file: c.file, line: c.line, col: c.col });
    expect(e!.message).toMatch(c.message);
  });

  it('collects every problem of a file, not only the first', () => {
    const errs = errorsOf(build({ [GLOBAL]: 'settings:\n  sip:\n    port: "abc"\n    transport: sctp\n  lines: {}\n' }));
    expect(errs.map((d) => `${d.loc?.line}:${d.loc?.col}`).sort()).toEqual(['3:11', '4:16', '5:10']);
  });

  it('a file with an error is not used: its devices are not served', () => {
    const snap = build({ [YEALINK_DEVICE]: 'model: T46S\nsite: lisbon\nsettings:\n  sip:\n    port: 0\n' });
    expect(errorsOf(snap).map((d) => d.loc)).toEqual([{ file: YEALINK_DEVICE, line: 5, col: 11 }]);
    expect(snap.profiles.devices.has('805ec0123456')).toBe(false);
  });

  it('the alias US/Eastern is a known zone and renders as UTC-5 with DST', () => {
    expect(isKnownTimeZone('US/Eastern')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
    const snap = build({ [YEALINK_DEVICE]: 'model: T46S\nsite: lisbon\nsettings:\n  time:\n    zone: US/Eastern\n' });
    expect(snap.diagnostics.map(formatDiagnostic)).toEqual([]);
    const cfg = renderedText(snap, '805ec0123456.cfg');
    expect(cfg).toContain('\nlocal_time.time_zone = -5\n');
    expect(cfg).toContain('\nlocal_time.summer_time = 1\n');
  });

  it('a time zone that is not a string is an error', () => {
    const errs = errorsOf(build({ [GLOBAL]: 'settings:\n  time:\n    zone: 5\n' }));
    expect(errs.map((d) => [d.loc?.line, d.loc?.col])).toEqual([[3, 11]]);
    expect(errs[0]!.message).toMatch(/time zone/);
  });

  it('vendor maps are open: any parameter name, scalar values, null to remove', () => {
    const snap = build({
      [GLOBAL]: [
        'settings:',
        '  polycom:',
        '    params: {"any.thing.at.all": "1", "x.y": 2, "z": true, "w": null}',
        '  yealink:',
        '    params: {"some.new.param": 3}',
        '  avaya:',
        '    settings: {ANYTHING_NEW: "a b"}',
        '  custom: {free: {form: [1, {x: 2}]}}',
        '',
      ].join('\n'),
    });
    expect(snap.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(renderedText(snap, '805ec0123456.cfg')).toContain('\nsome.new.param = 3\n');
  });

  it('a null under settings removes the inherited value (sip and time gone from the render)', () => {
    const before = renderedText(build({}), '805ec0123456.cfg');
    expect(before).toContain('account.1.sip_server.1.address = pbx-lis.northwind.example');
    expect(before).toContain('local_time.time_zone =');
    const snap = build({ [YEALINK_DEVICE]: 'model: T46S\nsite: lisbon\nsettings:\n  sip: null\n  time: null\n  lines:\n    - {extension: "2010"}\n' });
    expect(snap.diagnostics.map(formatDiagnostic)).toEqual([]);
    const after = renderedText(snap, '805ec0123456.cfg');
    expect(after).not.toContain('sip_server');
    expect(after).not.toContain('local_time.time_zone');
    expect(after).toContain('account.1.user_name = 2010');
  });

  it('a whole-settings null in a layer is allowed', () => {
    expect(errorsOf(build({ 'profiles/sites/lisbon.yaml': 'description: x\nsettings: null\n' })).map(formatDiagnostic)).toEqual([]);
  });

  // BUG (src/config/shape.ts checkShape, 'map' case): the message is built as `${path}: ${message}`
  // and the root map has path '', so a device file without `model` reports
  // ': missing required key "model"' (leading ": "), printed as `error PROFILE: : missing …`.
  it('the missing-model message does not start with an empty key path', () => {
    const [e] = errorsOf(build({ [YEALINK_DEVICE]: 'site: lisbon\n' }));
    expect(e!.message).toMatch(/missing required key "model"/);
    expect(e!.message).not.toMatch(/^:/);
  });

  // BUG (src/config/shape.ts skips null map values, src/config/profiles.ts then reads the model
  // with scalarText): `model: null` passes the schema and comes out as
  // 'unknown model "undefined"; known models: …' instead of saying the model is missing/null.
  it('model: null is reported at the value as a missing model, not as model "undefined"', () => {
    const errs = errorsOf(build({ [YEALINK_DEVICE]: 'model: null\nsite: lisbon\n' }));
    expect(errs).toHaveLength(1);
    expect(errs[0]!.loc).toMatchObject({ file: YEALINK_DEVICE, line: 1 });
    expect(errs[0]!.message).toMatch(/model/);
    expect(errs[0]!.message).not.toMatch(/undefined/);
  });
});

describe('profile schema through `deskset check <root>`', () => {
  const roots: TmpRoot[] = [];
  afterAll(async () => {
    await Promise.all(roots.map((r) => r.cleanup()));
  });

  async function checkWith(file: string, text: string) {
    const tmp = await makeTmpRoot({ [file]: text }, 'deskset-schema-');
    roots.push(tmp);
    return { root: tmp.dir, ...(await runCli(['check', tmp.dir])) };
  }

  it('the unmodified samples pass (exit 0)', async () => {
    const tmp = await makeTmpRoot({}, 'deskset-schema-');
    roots.push(tmp);
    const r = await runCli(['check', tmp.dir]);
    expect(r.stdout).toMatch(/: 0 errors/);
    expect(r.code).toBe(0);
  });

  it.each(BAD)('$name: exit 1, printed at file:$line:$col', async (c) => {
    const r = await checkWith(c.file, c.text);
    const where = `${path.join(r.root, c.file)}:${c.line}:${c.col}: error PROFILE: `;
    const line = r.stdout.split('\n').find((l) => l.startsWith(where));
    expect(line, r.stdout).toBeDefined();
    expect(line!.slice(where.length)).toMatch(c.message);
    expect(r.stdout).toMatch(/: 1 error, \d+ warnings?\n$/);
    expect(r.code).toBe(1);
  });

  it('US/Eastern is accepted (exit 0)', async () => {
    const r = await checkWith(GLOBAL, 'settings:\n  time:\n    zone: US/Eastern\n');
    expect(r.stdout).toMatch(/: 0 errors/);
    expect(r.code).toBe(0);
  });

  it('a null at the top of a settings key is accepted (exit 0)', async () => {
    const r = await checkWith(YEALINK_DEVICE, 'model: T46S\nsite: lisbon\nsettings:\n  sip: null\n  time: null\n');
    expect(r.stdout).toMatch(/: 0 errors/);
    expect(r.code).toBe(0);
  });
});

// Issue 14.4: keys named like built-in object properties used to skip the schema (a plain
// object's `fields.constructor` is Object's) and reached templates. They are refused at every
// level, open vendor maps and free-form `custom` included, and never rendered.
const BUILT_INS = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];
const builtInAt = (name: string): Array<{ level: string; file: string; text: string; line: number; col: number; path: string }> => [
  { level: 'top level', file: GLOBAL, text: `${name}:\n  prototype:\n    polluted: 1\n`, line: 1, col: 1, path: name },
  { level: 'settings', file: GLOBAL, text: `settings:\n  ${name}:\n    polluted: 1\n`, line: 2, col: 3, path: `settings.${name}` },
  { level: 'settings.sip', file: GLOBAL, text: `settings:\n  sip:\n    ${name}: 1\n`, line: 3, col: 5, path: `settings.sip.${name}` },
  { level: 'a line (device file)', file: YEALINK_DEVICE, text: `model: T46S\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "2010", ${name}: 1}\n`, line: 5, col: 27, path: `settings.lines[0].${name}` },
  { level: 'polycom.params (open map)', file: GLOBAL, text: `settings:\n  polycom:\n    params:\n      ${name}: "1"\n`, line: 4, col: 7, path: `settings.polycom.params.${name}` },
  { level: 'yealink.params (open map)', file: GLOBAL, text: `settings:\n  yealink:\n    params:\n      ${name}: 1\n`, line: 4, col: 7, path: `settings.yealink.params.${name}` },
  { level: 'custom (free-form), in a list', file: GLOBAL, text: `settings:\n  custom:\n    a:\n      - {${name}: {prototype: {polluted: 1}}}\n`, line: 4, col: 10, path: `settings.custom.a[0].${name}` },
];
const BUILT_IN_CASES = BUILT_INS.flatMap((name) => builtInAt(name).map((c) => ({ name, ...c })));

describe('keys named like built-in object properties', () => {
  it.each(BUILT_IN_CASES)('$name at $level is one PROFILE error at $file:$line:$col', (c) => {
    const snap = build({ [c.file]: c.text });
    const errs = errorsOf(snap);
    expect(errs.map(formatDiagnostic)).toHaveLength(1);
    expect(errs[0]!.code).toBe('PROFILE');
    expect(errs[0]!.loc).toEqual({ file: c.file, line: c.line, col: c.col });
    expect(errs[0]!.message).toBe(`${c.path}: "${c.name}" is the name of a built-in object property and cannot be used as a key`);
    // Whatever the build still renders carries none of it, and Object.prototype is untouched.
    for (const t of allTargets(snap)) {
      const text = renderTarget(snap.render, t).rendered?.bytes.toString('utf8') ?? '';
      expect(text, t.path).not.toMatch(new RegExp(`${c.name}|polluted`));
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the same names as values, and as parts of longer keys, are fine', () => {
    const snap = build({ [GLOBAL]: 'settings:\n  language: constructor\n  yealink:\n    params:\n      "x.__proto__.y": toString\n' });
    expect(errorsOf(snap)).toEqual([]);
  });
});

describe('keys named like built-in object properties, through `deskset check <root>`', () => {
  const roots: TmpRoot[] = [];
  afterAll(async () => {
    await Promise.all(roots.map((r) => r.cleanup()));
  });
  // One level per name, so every name and every level is seen by the real CLI at least once.
  const picks = BUILT_INS.map((name, i) => ({ name, ...builtInAt(name)[[0, 4, 1, 5, 6][i]!]! }));
  it.each(picks)('$name at $level: exit 1 at file:$line:$col, and `render` refuses too', async (c) => {
    const tmp = await makeTmpRoot({ [c.file]: c.text }, 'deskset-builtin-');
    roots.push(tmp);
    const r = await runCli(['check', tmp.dir]);
    expect(r.stdout).toContain(`${path.join(tmp.dir, c.file)}:${c.line}:${c.col}: error PROFILE: ${c.path}: "${c.name}" is the name of a built-in object property`);
    expect(r.code).toBe(1);
    const out = path.join(tmp.dir, 'preview');
    const rendered = await runCli(['render', tmp.dir, '--out', out, '--show-secrets']);
    expect(rendered.code).toBe(1);
    const written = await readdir(out, { recursive: true }).catch(() => [] as string[]);
    for (const f of written) expect(await readFile(path.join(out, f), 'utf8').catch(() => ''), f).not.toMatch(new RegExp(`${c.name}|polluted`));
  });
});
