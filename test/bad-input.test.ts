// Bad input gets a clear error that names the file and, where there is one, the line and
// column; `check` exits 1 and `serve` refuses to start. Each case copies samples/ to a temp
// dir, breaks one thing, and runs the real CLI as a process. Also: `explain` on the samples.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli, tryServe, type CliResult, type ServeAttempt } from './helpers/cli.js';
import { lineOf, makeTmpRoot, replaceOnce, sampleSecrets, SAMPLES, type Edit, type TmpRoot } from './helpers/tmp-root.js';

const roots: TmpRoot[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => r.cleanup()));
});

interface Broken {
  root: TmpRoot;
  check: CliResult;
  serve: ServeAttempt;
  /** check's stdout and stderr together. */
  out: string;
}

/** Break a copy of samples/, then run `check` and `serve` on it (in parallel). */
async function broken(edits: Record<string, Edit>): Promise<Broken> {
  const root = await makeTmpRoot(edits);
  roots.push(root);
  const [check, serve] = await Promise.all([runCli(['check', root.dir]), tryServe(root.dir)]);
  return { root, check, serve, out: check.stdout + check.stderr };
}

const sample = (rel: string) => fs.readFile(path.join(SAMPLES, rel), 'utf8');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where an error must point: a file, and the line and column when there are ones. */
interface Where {
  file: string;
  line?: number;
  col?: number;
}

/** check exits 1 with an error at `file:line:col`; serve exits 1, says why, and never starts. */
function expectRefused(b: Broken, where: Where, code: RegExp, message?: RegExp): void {
  const loc = new RegExp(`${esc(where.file)}${where.file.endsWith('/') ? '[^:]*' : ''}:${where.line ?? '\\d+'}:${where.col ?? '\\d+'}: error ${code.source}`);
  expect(b.out, `check output:\n${b.out}`).toMatch(loc);
  if (message) expect(b.out).toMatch(message);
  expect(b.check.code).toBe(1);
  expect(b.serve.started, `serve started anyway:\n${b.serve.stderr}`).toBe(false);
  expect(b.serve.code).toBe(1);
  expect(b.serve.stderr).toMatch(/not starting/);
  expect(b.serve.stderr).toMatch(loc);
}

describe('malformed YAML: file:line:col points at the broken line', () => {
  it('a nested mapping on one line (nyc.yaml)', async () => {
    const text = await sample('profiles/sites/nyc.yaml');
    const line = lineOf(text, /^\s+server:/);
    const b = await broken({ 'profiles/sites/nyc.yaml': replaceOnce('server: pbx-nyc.northwind.example', 'server: pbx-nyc.northwind.example: 5060') });
    expectRefused(b, { file: b.root.file('profiles/sites/nyc.yaml'), line }, /YAML_\w+/);
  });

  it('a tab used for indentation (global.yaml)', async () => {
    const text = await sample('profiles/global.yaml');
    const line = lineOf(text, /^ {2}language: /);
    const b = await broken({ 'profiles/global.yaml': replaceOnce(/^ {2}language: /m, '\tlanguage: ') });
    expectRefused(b, { file: b.root.file('profiles/global.yaml'), line, col: 1 }, /YAML_TAB_AS_INDENT/);
  });

  it('a missing closing quote (global.yaml)', async () => {
    const text = await sample('profiles/global.yaml');
    const line = lineOf(text, /admin_password:/);
    const b = await broken({ 'profiles/global.yaml': replaceOnce(/(admin_password: "[^"]*)"/, '$1') });
    expectRefused(b, { file: b.root.file('profiles/global.yaml'), line }, /YAML_\w+/);
  });

  it('a key written twice (device file)', async () => {
    const text = await sample('profiles/devices/c81fea83e85a.yaml');
    const line = lineOf(text, /^site:/) + 1;
    const b = await broken({ 'profiles/devices/c81fea83e85a.yaml': replaceOnce(/^(site: .*)$/m, '$1\nsite: lisbon') });
    expectRefused(b, { file: b.root.file('profiles/devices/c81fea83e85a.yaml'), line, col: 1 }, /YAML_DUPLICATE_KEY/);
  });
});

describe('device files', () => {
  it('a device file whose name is not a MAC', async () => {
    const b = await broken({ 'profiles/devices/reception.yaml': 'model: J179\nsite: nyc\n' });
    expectRefused(b, { file: b.root.file('profiles/devices/reception.yaml'), line: 1, col: 1 }, /DEVICE_FILE_NAME/, /"reception" is not a MAC/);
  });

  it('the same MAC twice (aabbccddeeff.yaml and AA-BB-CC-DD-EE-FF.yaml)', async () => {
    const b = await broken({
      'profiles/devices/aabbccddeeff.yaml': 'model: J179\nsite: nyc\n',
      'profiles/devices/AA-BB-CC-DD-EE-FF.yaml': 'model: J169\nsite: lisbon\n',
    });
    expectRefused(b, { file: b.root.file('profiles/devices/') }, /DUPLICATE_MAC/, /aabbccddeeff/);
    // Both files are named, so the admin knows which two to reconcile.
    const line = b.out.split('\n').find((l) => l.includes('DUPLICATE_MAC'))!;
    expect(line).toContain(b.root.file('profiles/devices/aabbccddeeff.yaml'));
    expect(line).toContain(b.root.file('profiles/devices/AA-BB-CC-DD-EE-FF.yaml'));
  });

  it('a misspelled model: "did you mean" the closest models, not a list of all of them', async () => {
    const text = await sample('profiles/devices/c81fea83e85a.yaml');
    const line = lineOf(text, /^model:/);
    const b = await broken({ 'profiles/devices/c81fea83e85a.yaml': replaceOnce('model: J179', 'model: J1799') });
    expectRefused(b, { file: b.root.file('profiles/devices/c81fea83e85a.yaml'), line, col: 8 }, /UNKNOWN_MODEL/, /unknown model "J1799"; did you mean "J179"\?/);
    const msg = b.out.split('\n').find((l) => l.includes('UNKNOWN_MODEL'))!;
    for (const m of ['VVX450', 'Trio8800', 'T46S', 'T54W']) expect(msg).not.toContain(m);
  });

  it('an unknown model nothing is close to: says so, without listing every model', async () => {
    const b = await broken({ 'profiles/devices/c81fea83e85a.yaml': replaceOnce('model: J179', 'model: Cisco7960') });
    const msg = b.out.split('\n').find((l) => l.includes('UNKNOWN_MODEL'))!;
    expect(msg).toMatch(/unknown model "Cisco7960"; none of the \d+ known models is close/);
    expect(msg).not.toMatch(/VVX450|T54W/);
  });

  it('a model profile for a model that does not exist', async () => {
    const b = await broken({ 'profiles/models/VVX4500.yaml': 'settings:\n  language: en\n' });
    expectRefused(b, { file: b.root.file('profiles/models/VVX4500.yaml'), line: 1, col: 1 }, /UNKNOWN_MODEL/, /model profile for unknown model "VVX4500"; did you mean [^?]*"VVX450"/);
  });

  it('a site and a group the device names but that do not exist', async () => {
    const text = await sample('profiles/devices/c81fea83e85a.yaml');
    const siteLine = lineOf(text, /^site:/);
    const groupLine = lineOf(text, /^groups:/);
    const b = await broken({
      'profiles/devices/c81fea83e85a.yaml': (t) => replaceOnce(/^groups: \[support\]$/m, 'groups: [support, marketing]')(replaceOnce('site: nyc', 'site: paris')(t)),
    });
    const file = b.root.file('profiles/devices/c81fea83e85a.yaml');
    expectRefused(b, { file, line: siteLine, col: 7 }, /UNKNOWN_SITE/, /"paris"/);
    expect(b.out).toMatch(new RegExp(`${esc(file)}:${groupLine}:19: error UNKNOWN_GROUP: .*"marketing"`));
    expect(b.out).toMatch(/known sites: .*lisbon/);
    expect(b.out).toMatch(/known groups: .*sales/);
  });

  it('a misspelled site and group: "did you mean"', async () => {
    const b = await broken({
      'profiles/devices/c81fea83e85a.yaml': (t) => replaceOnce(/^groups: \[support\]$/m, 'groups: [suport]')(replaceOnce('site: nyc', 'site: lisbn')(t)),
    });
    expect(b.out).toMatch(/error UNKNOWN_SITE: site "lisbn" does not exist \(no profiles\/sites\/lisbn\.yaml\); did you mean "lisbon"\?/);
    expect(b.out).toMatch(/error UNKNOWN_GROUP: group "suport" does not exist \(no profiles\/groups\/suport\.yaml\); did you mean "support"\?/);
    expect(b.check.code).toBe(1);
  });
});

describe('templates', () => {
  const insertUnclosedIf = async (): Promise<{ text: string; line: number }> => {
    const lines = (await fs.readFile(path.join(REPO, 'templates/polycom/settings.cfg.hbs'), 'utf8')).split('\n');
    const at = lines.findIndex((l) => l.startsWith('{{#with settings}}')) + 1;
    expect(at).toBeGreaterThan(0);
    lines.splice(at, 0, '{{#if settings.language}}');
    return { text: lines.join('\n'), line: at + 1 };
  };

  it('an unclosed {{#if}} in a root override: check and serve name the template file', async () => {
    const { text } = await insertUnclosedIf();
    const b = await broken({ 'templates/polycom/settings.cfg.hbs': text });
    expectRefused(b, { file: b.root.file('templates/polycom/settings.cfg.hbs') }, /TEMPLATE_SYNTAX/);
  });

  it('…and the line of the unclosed {{#if}}', async () => {
    const { text, line } = await insertUnclosedIf();
    const b = await broken({ 'templates/polycom/settings.cfg.hbs': text });
    // Handlebars says "if doesn't match with - <line>:<col>"; the location must carry that line.
    expect(b.out).toMatch(new RegExp(`${esc(b.root.file('templates/polycom/settings.cfg.hbs'))}:${line}:\\d+: error TEMPLATE_SYNTAX`));
  });

  it('…and the template that failed to compile is not also reported as missing', async () => {
    const { text } = await insertUnclosedIf();
    const b = await broken({ 'templates/polycom/settings.cfg.hbs': text });
    expect(b.out).toMatch(/TEMPLATE_SYNTAX/);
    // It exists; saying "no template polycom/settings.cfg.hbs" once per device sends the admin looking for a missing file.
    expect(b.out).not.toMatch(/no template polycom\/settings\.cfg\.hbs/);
  });
});

describe('template errors: file:line:col, Handlebars\' explanation, the line and a caret', () => {
  const SETTINGS = 'templates/polycom/settings.cfg.hbs';
  const shipped = () => fs.readFile(path.join(REPO, SETTINGS), 'utf8');

  it('one "}" deleted on line 10 of an override: line 10, the column of the stray "}", the explanation', async () => {
    const lines = (await shipped()).split('\n');
    expect(lines[9]).toMatch(/\}\}$/);
    lines[9] = lines[9]!.slice(0, -1);
    const col = lines[9]!.length; // the remaining "}" is the last character
    const b = await broken({ [SETTINGS]: lines.join('\n') });
    const file = b.root.file(SETTINGS);
    expectRefused(b, { file, line: 10, col }, /TEMPLATE_SYNTAX/, /Expecting .*got 'INVALID'/);
    for (const out of [b.out, b.serve.stderr]) {
      expect(out).toContain(`\n    10 | ${lines[9]}\n       | ${' '.repeat(col - 1)}^\n`);
      expect(out).toMatch(/not closed by "\}\}"/);
    }
  });

  it('a misspelled helper (jion) is reported at its real line and column, with a suggestion', async () => {
    const text = await shipped();
    const line = lineOf(text, /voIpProt\.SIP\.domain/);
    const edited = text.replace('{{set "voIpProt.SIP.domain" sip.domain}}', '{{set "voIpProt.SIP.domain" (jion sip.domain ",")}}');
    const b = await broken({ [SETTINGS]: edited });
    const col = edited.split('\n')[line - 1]!.indexOf('jion') + 1;
    expectRefused(b, { file: b.root.file(SETTINGS), line, col }, /TEMPLATE_HELPER/, /Missing helper: "jion" \(did you mean "join"/);
    expect(b.out).toContain(`| ${' '.repeat(col - 1)}^`);
    expect(b.out).not.toMatch(/:1:1: error/);
  });

  it('a helper failing at render time names the template line and column, not 1:1', async () => {
    const master = 'templates/polycom/master.cfg.hbs';
    const text = await fs.readFile(path.join(REPO, master), 'utf8');
    const b = await broken({ [master]: text.replace('CONFIG_FILES="{{xml device.mac}}', 'CONFIG_FILES="{{xml settings.sip}}') });
    const line = lineOf(text, /CONFIG_FILES=/);
    const col = text.split('\n')[line - 1]!.indexOf('{{xml device.mac}}') + 1;
    expectRefused(b, { file: b.root.file(master), line, col }, /RENDER/, /expected a single value, got a map/);
  });

  it('a misspelled variable (sip.domian) is a warning at its line, check exits 0, the shipped templates have none', async () => {
    const text = await shipped();
    const line = lineOf(text, /voIpProt\.SIP\.domain/);
    const root = await makeTmpRoot({ [SETTINGS]: text.replace('{{set "voIpProt.SIP.domain" sip.domain}}', '{{set "voIpProt.SIP.domain" sip.domian}}') });
    roots.push(root);
    const r = await runCli(['check', root.dir]);
    const col = text.split('\n')[line - 1]!.indexOf('sip.domain') + 1;
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${esc(root.file(SETTINGS))}:${line}:${col}: warning TEMPLATE_UNKNOWN_NAME: .*"sip\\.domian".*did you mean "sip\\.domain"`));
    expect(r.stdout).toMatch(/: 0 errors, 1 warning\n$/);
    const clean = await runCli(['check', 'samples']);
    expect(clean.stdout).not.toMatch(/TEMPLATE_UNKNOWN_NAME/);
    expect(clean.stdout).toMatch(/: 0 errors, 0 warnings\n$/);
  });
});

describe('values that would inject a new line into a line-based format', () => {
  it('a Yealink param with "\\n": check reports a RENDER error naming the device and path', async () => {
    const b = await broken({
      'profiles/devices/805ec0123456.yaml': (t) => `${t.trimEnd()}\n  yealink:\n    params:\n      "features.x": "a\\nstatic.security.user_password = admin:hacked"\n`,
    });
    expect(b.out).toMatch(/error RENDER: .*line break.*\[device 805ec0123456, path \/805ec0123456\.cfg\]/);
    expect(b.out).not.toContain('hacked');
    expect(b.check.code).toBe(1);
    expect(b.serve.started).toBe(false);
    expect(b.serve.code).toBe(1);
    expect(b.serve.stderr).toMatch(/RENDER.*805ec0123456/);
  });

  it('an Avaya setting with a newline: RENDER error naming the device and path', async () => {
    const b = await broken({
      'profiles/devices/c81fea83e85a.yaml': (t) => `${t.trimEnd()}\n  avaya:\n    settings:\n      DIALPLAN: "1\\nSET ADMIN_PASSWORD 0000"\n`,
    });
    expect(b.out).toMatch(/error RENDER: .*DIALPLAN.*\[device c81fea83e85a, path \/c81fea83e85a\.txt\]/);
    expect(b.check.code).toBe(1);
    expect(b.serve.started).toBe(false);
    expect(b.serve.code).toBe(1);
  });

  it('an Avaya display name with a newline (through the vocabulary, not the escape hatch)', async () => {
    const b = await broken({ 'profiles/devices/c81fea83e85a.yaml': replaceOnce('display_name: "Reception NYC"', 'display_name: "Reception\\nSET ADMIN_PASSWORD 0000"') });
    expect(b.out).toMatch(/error RENDER: .*\[device c81fea83e85a, path \/c81fea83e85a\.txt\]/);
    expect(b.check.code).toBe(1);
  });

  it('the RENDER error also names the profile file and line that set the value', async () => {
    const device = 'profiles/devices/805ec0123456.yaml';
    const text = await sample(device);
    const line = text.trimEnd().split('\n').length + 3;
    const b = await broken({ [device]: (t) => `${t.trimEnd()}\n  yealink:\n    params:\n      "features.x": "a\\nb"\n` });
    const render = b.out.split('\n').filter((l) => l.includes('RENDER') || l.startsWith('    '));
    expect(render.join('\n')).toContain(`${b.root.file(device)}:${line}:`);
  });
});

describe('wrong types and unknown names in the vocabulary', () => {
  it('sip.port: "abc"', async () => {
    const text = await sample('profiles/global.yaml');
    const line = lineOf(text, /^\s+port: /);
    const b = await broken({ 'profiles/global.yaml': replaceOnce(/port: \d+/, 'port: "abc"') });
    expectRefused(b, { file: b.root.file('profiles/global.yaml'), line, col: 11 }, /PROFILE/, /settings\.sip\.port: expected an integer, got "abc"/);
  });

  it('lines: {}', async () => {
    const text = await sample('profiles/sites/nyc.yaml');
    const line = text.trimEnd().split('\n').length + 1;
    const b = await broken({ 'profiles/sites/nyc.yaml': (t) => `${t.trimEnd()}\n  lines: {}\n` });
    expectRefused(b, { file: b.root.file('profiles/sites/nyc.yaml'), line, col: 10 }, /PROFILE/, /settings\.lines: expected a list, got map/);
  });

  it('an unknown time zone', async () => {
    const text = await sample('profiles/sites/nyc.yaml');
    const line = lineOf(text, /zone:/);
    const b = await broken({ 'profiles/sites/nyc.yaml': replaceOnce('zone: America/New_York', 'zone: America/Gotham') });
    expectRefused(b, { file: b.root.file('profiles/sites/nyc.yaml'), line, col: 11 }, /PROFILE/, /unknown time zone "America\/Gotham"/);
  });

  it('an unknown top-level key', async () => {
    const text = await sample('profiles/global.yaml');
    const line = text.trimEnd().split('\n').length + 1;
    const b = await broken({ 'profiles/global.yaml': (t) => `${t.trimEnd()}\ncolour: blue\n` });
    expectRefused(b, { file: b.root.file('profiles/global.yaml'), line, col: 1 }, /PROFILE/, /colour: unknown key/);
  });

  it('an unknown key inside settings', async () => {
    const b = await broken({ 'profiles/sites/nyc.yaml': (t) => `${t.trimEnd()}\n  languag: pt\n` });
    expectRefused(b, { file: b.root.file('profiles/sites/nyc.yaml') }, /PROFILE/, /settings\.languag: unknown key/);
  });

  it('a site file with an error is reported as broken, never as missing', async () => {
    const b = await broken({ 'profiles/sites/nyc.yaml': replaceOnce('zone: America/New_York', 'zone: America/Gotham') });
    expect(b.check.code).toBe(1);
    // The devices of nyc must not be told that profiles/sites/nyc.yaml "does not exist": it does.
    expect(b.out).not.toMatch(/site "nyc" does not exist/);
  });
});

// ---------------------------------------------------------------------------------------------
// explain
// ---------------------------------------------------------------------------------------------

describe('explain on the samples', () => {
  const secretsOf = sampleSecrets;

  it('0004f2a1b2c3 sip.server: set by the nyc site file:line, overriding the global value', async () => {
    const nyc = lineOf(await sample('profiles/sites/nyc.yaml'), /^\s+server:/);
    const glob = lineOf(await sample('profiles/global.yaml'), /^\s+server:/);
    const r = await runCli(['explain', 'samples', '0004f2a1b2c3', 'sip.server']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('settings.sip.server = "pbx-nyc.northwind.example"');
    expect(r.stdout).toMatch(new RegExp(`set by\\s+site nyc\\s+samples/profiles/sites/nyc\\.yaml:${nyc}:5`));
    expect(r.stdout).toMatch(new RegExp(`overrode\\s+global\\s+samples/profiles/global\\.yaml:${glob}:5\\s+was "pbx\\.northwind\\.example"`));
  });

  it('--json parses and carries the same information', async () => {
    const nyc = lineOf(await sample('profiles/sites/nyc.yaml'), /^\s+server:/);
    const glob = lineOf(await sample('profiles/global.yaml'), /^\s+server:/);
    const r = await runCli(['explain', 'samples', '0004f2a1b2c3', 'sip.server', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { device: { mac: string; model: string }; values: unknown[] };
    expect(j.device).toMatchObject({ mac: '0004f2a1b2c3', model: 'VVX450' });
    expect(j.values).toEqual([
      {
        key: 'settings.sip.server',
        value: 'pbx-nyc.northwind.example',
        setBy: { layer: 'site nyc', at: `samples/profiles/sites/nyc.yaml:${nyc}:5` },
        overrode: [{ value: 'pbx.northwind.example', layer: 'global', at: `samples/profiles/global.yaml:${glob}:5` }],
      },
    ]);
  });

  it('the MAC may be written in any notation, and ROOT may be omitted when cwd is the root', async () => {
    const a = await runCli(['explain', 'samples', '00:04:F2:A1:B2:C3', 'sip.server']);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('settings.sip.server = "pbx-nyc.northwind.example"');
    const b = await runCli(['explain', '0004f2a1b2c3', 'sip.server'], { cwd: SAMPLES });
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('settings.sip.server = "pbx-nyc.northwind.example"');
  });

  it('secrets (line passwords, admin_password) never appear, in text or JSON, whole or by key', async () => {
    const secrets = await secretsOf();
    expect(secrets).toEqual(expect.arrayContaining(['Nw-Adm1n-2024', 'rc9-Tq2m', 'Vv-45-ab', 'T54-mm3l']));
    const macs = (await fs.readdir(path.join(SAMPLES, 'profiles/devices'))).map((f) => f.replace(/\.yaml$/, ''));
    const runs: Array<Promise<CliResult>> = [];
    for (const mac of macs) {
      runs.push(runCli(['explain', 'samples', mac]), runCli(['explain', 'samples', mac, '--json']));
      runs.push(runCli(['explain', 'samples', mac, 'lines']), runCli(['explain', 'samples', mac, 'admin_password', '--json']));
    }
    const results = await Promise.all(runs);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      for (const s of secrets) {
        expect(r.stdout).not.toContain(s);
        expect(r.stderr).not.toContain(s);
      }
    }
    // The keys are still explained, just not their values.
    const admin = JSON.parse(results[3]!.stdout) as { values: Array<{ key: string; value: unknown }> };
    expect(admin.values.map((v) => v.key)).toEqual(['settings.admin_password']);
    expect(admin.values[0]!.value).not.toBe('Nw-Adm1n-2024');
  });

  it('a null removal is explained: who removed it and what it hid', async () => {
    const dev = lineOf(await sample('profiles/devices/64167f0a8800.yaml'), /call\.autoAnswer\.SIP/);
    const r = await runCli(['explain', 'samples', '64167f0a8800', 'polycom.params']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('settings.polycom.params.call.autoAnswer.SIP (removed)');
    expect(r.stdout).toMatch(new RegExp(`removed by\\s+device 64167f0a8800\\s+samples/profiles/devices/64167f0a8800\\.yaml:${dev}:\\d+`));
    expect(r.stdout).toMatch(/was\s+group support\s+samples\/profiles\/groups\/support\.yaml:\d+:\d+\s+"1"/);
  });

  it('a removed vendor parameter with dots in its name is explained by its full path, exit 0', async () => {
    const dev = lineOf(await sample('profiles/devices/64167f0a8800.yaml'), /call\.autoAnswer\.SIP/);
    const r = await runCli(['explain', 'samples', '64167f0a8800', 'polycom.params.call.autoAnswer.SIP']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('settings.polycom.params.call.autoAnswer.SIP (removed)');
    expect(r.stdout).toMatch(new RegExp(`removed by\\s+device 64167f0a8800\\s+samples/profiles/devices/64167f0a8800\\.yaml:${dev}:\\d+`));
    expect(r.stdout).toMatch(/was\s+group support\s+samples\/profiles\/groups\/support\.yaml:\d+:\d+\s+"1"/);
  });

  it('a key that does not exist: exit 1, "has no value", and the closest keys the device has', async () => {
    const r = await runCli(['explain', 'samples', '0004f2a1b2c3', 'sip.servr']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no value for "sip.servr" (did you mean "sip.server"?)');
  });

  it('asking for the removed key itself explains the removal (why has this phone no NTP server?)', async () => {
    const dev = lineOf(await sample('profiles/devices/2cf4c5001122.yaml'), /ntp: null/);
    const r = await runCli(['explain', 'samples', '2cf4c5001122', 'time.ntp']);
    expect(r.stdout + r.stderr).toMatch(/removed/);
    expect(r.stdout + r.stderr).toContain(`samples/profiles/devices/2cf4c5001122.yaml:${dev}:`);
  });

  it('the Files line lists exactly the files `render --device` writes for the device', async () => {
    for (const mac of ['c81fea83e85a', '2cf4c5001122', '0004f2a1b2c3', '805ec0abcdef']) {
      const out = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-explain-'));
      try {
        const rendered = await runCli(['render', 'samples', '--out', out, '--device', mac]);
        expect(rendered.code).toBe(0);
        const names: string[] = [];
        const walk = async (d: string, rel: string): Promise<void> => {
          for (const e of await fs.readdir(d, { withFileTypes: true })) {
            if (e.isDirectory()) await walk(path.join(d, e.name), `${rel}${e.name}/`);
            else names.push(`${rel}${e.name}`);
          }
        };
        await walk(out, '');
        const j = JSON.parse((await runCli(['explain', 'samples', mac, '--json'])).stdout) as { files: unknown[] };
        expect(j.files.every((f) => typeof f === 'string' && f !== ''), `${mac}: ${JSON.stringify(j.files)}`).toBe(true);
        expect([...(j.files as string[])].sort(), mac).toEqual(names.sort());
        const text = (await runCli(['explain', 'samples', mac])).stdout;
        expect(text, mac).not.toMatch(/Files: ,|, ,|, $/m);
      } finally {
        await fs.rm(out, { recursive: true, force: true });
      }
    }
  });

  it('explain for a MAC with no device file exits 1 and says so', async () => {
    const r = await runCli(['explain', 'samples', 'aabbccddeeff']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('aabbccddeeff');
  });
});
