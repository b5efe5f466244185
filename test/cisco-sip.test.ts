// Cisco 7940/7960 on SIP firmware: the `name: value` text of SIPDefault.cnf and SIP<MAC>.cnf
// (src/vendors/cisco/sip-cnf.ts), its grammar over our fixtures and the real files of the
// corpus, hostile display names through the writer and back through the reader, the 79x0
// time-zone settings, and the files `render` writes for the sample 7960 (the real CLI),
// firmware policy included (OS79XX.TXT, image_version).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../src/check/diagnostics.js';
import { validateRendered } from '../src/check/check-output.js';
import { createValidators } from '../src/io/validators.js';
import { deviceTargets, resolveRequest } from '../src/pipeline/request.js';
import { renderTarget } from '../src/render/render.js';
import { buildSnapshot } from '../src/snapshot/snapshot.js';
import { lintCiscoFile } from '../src/vendors/cisco/lint.js';
import { checkSipCnf, readSipCnf, sipCnfCarries, sipCnfLine, sipCnfParams } from '../src/vendors/cisco/sip-cnf.js';
import { sipDstSettings, sipZoneName } from '../src/vendors/cisco/timezone.js';
import { RenderValueError } from '../src/vendors/contract.js';
import { runCli } from './helpers/cli.js';
import { desksetYaml } from './helpers/e2e-http.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';
import { FIXTURES, HAVE_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';
import { makeTmpRoot, SAMPLES, type TmpRoot } from './helpers/tmp-root.js';
import { HOSTILE_VALUES } from './vendor-contract.case.js';

warnIfNoRealworld('cisco-sip.test.ts');

const LEGACY_MAC = '0002fd796001';
const ENTERPRISE_MAC = 'a44c11a08845';
const findings = (text: string, file = 'SIP.cnf') => checkSipCnf(text, file).map((d) => `${d.loc?.line}:${d.loc?.col} ${d.severity} ${d.code}`);

describe('the 79x0 grammar (checkSipCnf)', () => {
  it.each([
    ['proxy1_address: pbx.example', []],
    ['line1_displayname: "Front desk"   ; shown on the phone', []],
    ['messages_uri : ""', []],
    ['language: ', []],
    ['# comment\n; comment\n\n   \n', []],
    ['timer_t1: 500 \t\t\t; Default 500 msec', []],
    ['this line is no setting', ['1:1 error CISCO_CNF_SYNTAX']],
    ['  proxy1-address: x', ['1:3 error CISCO_CNF_SYNTAX']],
    ['line1_displayname: "Front desk', ['1:20 warning CISCO_CNF_QUOTE']],
    ['line1_displayname: "say "hi""', ['1:26 error CISCO_CNF_QUOTE']],
    ['proxy1_address: [== SIP SERVER IP ==]', ['1:17 warning CISCO_CNF_UNQUOTED']],
    ['proxy_1_address: x', ['1:1 info CISCO_CNF_UNKNOWN']],
    ['Proxy1_Address: x', ['1:1 warning CISCO_CNF_NAME_CASE']],
    ['phone_prompt: "0123456789abcdef"', ['1:15 warning CISCO_CNF_LENGTH']],
    ['phone_password: "ok"\nphone_password: again', ['2:1 warning CISCO_CNF_DUPLICATE']],
    ['line1_displayname: "tab\there"', ['1:20 error CISCO_CNF_CONTROL']],
  ])('%j', (text, want) => {
    expect(findings(text)).toEqual(want);
  });

  it('unknown names get a suggestion; every finding names file:line:col', () => {
    const [d] = checkSipCnf('\n\nline1_pasword: x', 'SIP0002FD796001.cnf');
    expect(formatDiagnostic(d!)).toMatch(/^SIP0002FD796001\.cnf:3:1: info CISCO_CNF_UNKNOWN: .*did you mean "line1_password"/);
  });

  it('lengths count characters, not bytes: 32 non-ASCII characters fit line1_displayname', () => {
    expect(findings(`line1_displayname: "${'ø'.repeat(32)}"`)).toEqual([]);
    expect(findings(`line1_displayname: "${'ø'.repeat(33)}"`)).toEqual(['1:20 warning CISCO_CNF_LENGTH']);
  });

  it('hostile input: binary, a BOM, CR-only line ends, a huge line: findings, never a throw', () => {
    for (const t of ['\u0000\u0001\u0002', '\uFEFFproxy1_port: 5060', 'a: 1\rb: 2\r', 'x'.repeat(1 << 20), `line1_name: ${'y'.repeat(1 << 16)}`]) {
      expect(() => checkSipCnf(t, 'x.cnf')).not.toThrow();
    }
    expect(findings('\uFEFFproxy1_port: 5060\rproxy1_address: a')).toEqual([]);
  });
});

describe('real 79x0 files (../shared/realworld/cisco/) and our fixture', () => {
  const real = (...p: string[]) => path.join(REALWORLD, 'cisco', ...p);
  const lint = (file: string) => lintCiscoFile(readFileSync(file), path.basename(file)).map((d) => `${d.loc?.line}:${d.loc?.col} ${d.severity} ${d.code}`);

  it.skipIf(!HAVE_REALWORLD)('dbaldree SIPDefault.cnf and SIP0014638ADF5E.cnf parse with no findings, and read as the phone does', () => {
    expect(lint(real('dbaldree__cisco_sip_voipfone', 'SIPDefault.cnf'))).toEqual([]);
    expect(lint(real('dbaldree__cisco_sip_voipfone', 'SIP0014638ADF5E.cnf'))).toEqual([]);
    const def = readSipCnf(readFileSync(real('dbaldree__cisco_sip_voipfone', 'SIPDefault.cnf'), 'utf8'));
    expect(def.get('image_version')).toBe('P0S3-8-12-00');
    expect(def.get('sntp_server')).toBe('europe.pool.ntp.org');
    expect(def.get('timer_t1')).toBe('500');
    expect(def.get('messages_uri')).toBe('');
    expect(def.get('dst_stop_week_of_month')).toBe('8');
    const own = readSipCnf(readFileSync(real('dbaldree__cisco_sip_voipfone', 'SIP0014638ADF5E.cnf'), 'utf8'));
    expect(own.get('line1_name')).toBe('12345678*202');
    expect(own.get('phone_prompt')).toBe('SIP Phone');
    expect(own.has('line2_name')).toBe(false);
  });

  it.skipIf(!HAVE_REALWORLD)('NamoDev 7960.cnf: its unquoted placeholder with spaces is the one finding, at its line', () => {
    expect(lint(real('NamoDev__Cisco-IP-Phone-Provisioning-Files', '7960.cnf'))).toEqual(['8:17 warning CISCO_CNF_UNQUOTED']);
  });

  it('test/fixtures/cisco/SIPDefault.cnf: an unclosed quote and a line that is no setting', () => {
    expect(lint(path.join(FIXTURES, 'cisco', 'SIPDefault.cnf'))).toEqual(['4:20 warning CISCO_CNF_QUOTE', '5:1 error CISCO_CNF_SYNTAX']);
  });
});

describe('the writer ({{#params "cisco-sip"}})', () => {
  it.each([
    ['proxy1_port', 5060, 'proxy1_port: 5060'],
    ['proxy1_address', 'pbx.example', 'proxy1_address: pbx.example'],
    ['line1_name', '12345678*202', 'line1_name: 12345678*202'],
    ['line1_displayname', 'Front desk', 'line1_displayname: "Front desk"'],
    ['messages_uri', '', 'messages_uri: ""'],
    ['line1_shortname', 'x;y', 'line1_shortname: "x;y"'],
    ['line1_shortname', '#9', 'line1_shortname: "#9"'],
    ['services_url', 'http://a.example/s', 'services_url: http://a.example/s'],
    ['services_url', 'http://a.example/s?x=1', 'services_url: "http://a.example/s?x=1"'],
    ['line1_displayname', 'Zoë', 'line1_displayname: "Zoë"'],
  ])('%s = %j', (k, v, line) => {
    expect(sipCnfLine(k, v)).toBe(line);
  });

  it('refuses names the firmware could not read and values it could not carry, never naming the value', () => {
    for (const k of ['Profile_Rule_B', 'a b', 'x:y', '', 'line1_name\nphone_password']) expect(() => sipCnfLine(k, 'x'), k).toThrow(RenderValueError);
    for (const v of ['say "hi"', 'a\nphone_password: 1', 'cr\r', 'bell\u0007', 'tab\t', 'nul\u0000', 'del\u007f']) {
      expect(() => sipCnfLine('line1_password', v), JSON.stringify(v)).toThrow(RenderValueError);
      try {
        sipCnfLine('line1_password', v);
      } catch (e) {
        expect((e as Error).message).not.toContain(v);
      }
    }
  });

  it('cisco.params: only the names 79x0 firmware could read go into its files', () => {
    expect(sipCnfParams({ telnet_level: 0, Profile_Rule_B: '/x', webAccess: 0, 'RTP-Start-Loopback_Codec': 'G711u', nat_enable: 1 })).toEqual({ telnet_level: 0, nat_enable: 1 });
    expect(sipCnfParams(undefined)).toEqual({});
  });
});

describe('hostile display names on a 7960: read back exactly from SIP<MAC>.cnf, or refused', () => {
  let shipped: Map<string, string>;
  let samples: Map<string, string>;
  beforeAll(async () => {
    shipped = await shippedFiles();
    samples = await sampleFiles();
  });
  const renderSip = (displayName: string) => {
    const root = new Map(samples);
    root.set(`profiles/devices/${LEGACY_MAC}.yaml`, `model: "7960"\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "1050", password: "pw-1", display_name: ${JSON.stringify(displayName)}}\n`);
    const snap = buildSnapshot({ root, shipped, version: '0.0.0-test' });
    expect(snap.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    const t = deviceTargets(snap, [LEGACY_MAC]).find((x) => x.file.id === 'sip')!;
    return renderTarget(snap.render, t);
  };

  for (const value of HOSTILE_VALUES) {
    it(`${JSON.stringify(value)} ${sipCnfCarries(value) ? 'round-trips' : 'is refused'}`, () => {
      const plain = readSipCnf(renderSip('Plain Name').rendered!.text);
      expect(plain.get('line1_displayname')).toBe('Plain Name');
      const r = renderSip(value);
      if (sipCnfCarries(value)) {
        expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
        const got = readSipCnf(r.rendered!.text);
        expect(got.get('line1_displayname')).toBe(value);
        expect([...got.keys()].sort()).toEqual([...plain.keys()].sort());
        // Passes the grammar (a 43-character value is only a length warning).
        expect(checkSipCnf(r.rendered!.text, 'SIP.cnf').filter((d) => d.severity === 'error')).toEqual([]);
      } else {
        expect(r.rendered).toBeUndefined();
        expect(r.diagnostics.map((d) => d.code)).toEqual(['RENDER']);
        expect(r.diagnostics[0]!.message).toMatch(/line1_displayname: a 79x0 SIP \.cnf value cannot hold a double quote, a line break or a control character/);
      }
    });
  }
});

describe('79x0 time zones: a standard-time abbreviation and the zone\'s own DST rule', () => {
  it.each([
    ['America/New_York', 'EST', { dst_auto_adjust: '1', dst_offset: '1', dst_start_month: 'March', dst_start_week_of_month: '2', dst_start_day_of_week: 'Sun', dst_start_time: '02', dst_stop_month: 'November', dst_stop_week_of_month: '1' }],
    ['Europe/Berlin', 'CET', { dst_start_month: 'March', dst_start_week_of_month: '8', dst_stop_month: 'October', dst_stop_week_of_month: '8', dst_stop_time: '03' }],
    ['Europe/Lisbon', 'GMT', { dst_auto_adjust: '1', dst_start_week_of_month: '8' }],
    ['Asia/Tokyo', 'JST', { dst_auto_adjust: '0' }],
    ['Australia/Sydney', 'AEST', { dst_start_month: 'October', dst_stop_month: 'April', dst_start_week_of_month: '1' }],
  ])('%s', (zone, name, dst) => {
    expect(sipZoneName(zone)).toBe(name);
    expect(sipDstSettings(zone)).toMatchObject(dst);
  });

  it('cisco.params.time_zone replaces the abbreviation, and then a zone without one renders', async () => {
    const root = await sampleFiles();
    const device = (params: string) => `model: "7960"\nsite: nyc\nsettings:\n  time: {zone: Asia/Kathmandu}\n  lines:\n    - {extension: "1050", password: "pw", display_name: "Desk"}\n${params}`;
    const render = async (params: string) => {
      root.set(`profiles/devices/${LEGACY_MAC}.yaml`, device(params));
      const snap = buildSnapshot({ root, shipped: await shippedFiles(), version: '0.0.0-test' });
      return renderTarget(snap.render, deviceTargets(snap, [LEGACY_MAC]).find((t) => t.file.id === 'sip')!);
    };
    expect((await render('')).diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(/Asia\/Kathmandu .*settings\.cisco\.params\.time_zone/)]);
    const ok = await render('  cisco:\n    params: {time_zone: "GMT+5:45"}\n');
    expect(ok.diagnostics).toEqual([]);
    expect(readSipCnf(ok.rendered!.text).get('time_zone')).toBe('GMT+5:45');
    expect(ok.rendered!.text.match(/^time_zone:/gm)).toHaveLength(1);
  });

  it('a zone with no abbreviation is refused, naming the escape hatch', () => {
    expect(() => sipZoneName('Asia/Kathmandu')).toThrow(/settings\.cisco\.params\.time_zone/);
    expect(sipDstSettings('Asia/Tokyo')).toEqual({ dst_auto_adjust: '0' });
  });
});

describe('the sample 7960 and the samples\' other Cisco phones', () => {
  let texts: Map<string, string>;
  let snapFindings: string[];
  beforeAll(async () => {
    const snap = buildSnapshot({ root: await sampleFiles(), shipped: await shippedFiles(), version: '0.0.0-test' });
    texts = new Map();
    snapFindings = [];
    const validators = createValidators({ root: SAMPLES, resourceNames: snap.resources });
    try {
      for (const p of [`SIP${LEGACY_MAC.toUpperCase()}.cnf`, 'SIPDefault.cnf', 'OS79XX.TXT', `SIP${ENTERPRISE_MAC.toUpperCase()}.cnf`, `sip${LEGACY_MAC}.cnf`]) {
        const r = resolveRequest(snap, { path: p });
        if (r.kind !== 'render') throw new Error(`${p}: ${r.kind}`);
        const { rendered, diagnostics } = renderTarget(snap.render, r.target);
        snapFindings.push(...diagnostics.map(formatDiagnostic));
        if (rendered) snapFindings.push(...(await validateRendered(rendered, r.target.subject?.mac, validators)).map(formatDiagnostic));
        texts.set(p, rendered!.text);
      }
    } finally {
      await validators.close();
    }
  });

  it('every file renders and passes the grammar with no finding at all', () => {
    expect(snapFindings).toEqual([]);
  });

  it('SIP<MAC>.cnf: the line, its proxy, time in the 79x0 names, phone_password, the 79x0 names of cisco.params only', () => {
    const own = readSipCnf(texts.get(`SIP${LEGACY_MAC.toUpperCase()}.cnf`)!);
    expect(Object.fromEntries(own)).toMatchObject({
      line1_name: '1050',
      line1_authname: '1050',
      line1_password: '${file:secrets/line-1050}',
      line1_displayname: 'Mail room',
      line1_shortname: 'Mail',
      phone_label: 'Mail',
      proxy1_address: 'pbx-nyc.northwind.example',
      proxy1_port: '5061',
      proxy_register: '1',
      sntp_server: '0.pool.ntp.org',
      sntp_mode: 'unicast',
      time_zone: 'EST',
      dst_auto_adjust: '1',
      dst_start_month: 'March',
      language: 'English',
      dial_template: 'dialplan',
      phone_password: '${file:secrets/admin-password}',
      telnet_level: '0',
    });
    // MPP and enterprise names from global's cisco.params stay out; no image without a policy.
    expect(own.has('webAccess')).toBe(false);
    expect(own.has('image_version')).toBe(false);
  });

  it('SIPDefault.cnf: global settings, no lines, no credentials; OS79XX.TXT names no image without a policy', () => {
    const def = readSipCnf(texts.get('SIPDefault.cnf')!);
    expect(def.get('proxy1_address')).toBe('pbx.northwind.example');
    expect([...def.keys()].filter((k) => /^line|password/.test(k))).toEqual([]);
    expect(texts.get('OS79XX.TXT')).toBe('\n');
  });

  it('an enterprise 8845 gets a SIP<MAC>.cnf it never asks for: a comment, no settings, no credentials; any case of the name is the same file', () => {
    const other = texts.get(`SIP${ENTERPRISE_MAC.toUpperCase()}.cnf`)!;
    expect(readSipCnf(other).size).toBe(0);
    expect(other).toMatch(/^# SIPA44C11A08845\.cnf: a Cisco 8845 does not run 7940\/7960 SIP firmware/);
    expect(texts.get(`sip${LEGACY_MAC}.cnf`)).toBe(texts.get(`SIP${LEGACY_MAC.toUpperCase()}.cnf`));
  });
});

describe('firmware policy: OS79XX.TXT and image_version name the chosen P0S3 image (the real CLI)', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({
      'deskset.yaml': desksetYaml('files:\n  extensions: [xml, txt, cfg, loads, sb2, bin]'),
      'firmware/cisco/8.12/P0S3-8-12-00.loads': 'loads\n',
      'firmware/cisco/8.12/P0S3-8-12-00.sb2': 'image\n',
      'firmware/cisco/8.11/P0S3-8-11-00.loads': 'loads\n',
      'profiles/models/7960.yaml': 'firmware:\n  policy: latest\n',
      'profiles/devices/0002fd796002.yaml': 'model: "7940"\nsite: nyc\nfirmware:\n  policy: pinned\n  version: "8.11"\nsettings:\n  lines:\n    - {extension: "1051", password: "x", display_name: "Back office"}\n    - {extension: "1052", password: "y", display_name: "Back office 2"}\n',
    });
  });
  afterAll(async () => {
    await root?.cleanup();
  });

  it('latest for the 7960 model, a pin on one 7940: each file names its own image, without the extension', async () => {
    const out = path.join(root.dir, 'out');
    const r = await runCli(['render', root.dir, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const read = (n: string) => readFileSync(path.join(out, n), 'utf8');
    expect(read('OS79XX.TXT')).toBe('P0S3-8-12-00\n');
    expect(readSipCnf(read('SIPDefault.cnf')).get('image_version')).toBe('P0S3-8-12-00');
    expect(readSipCnf(read(`SIP${LEGACY_MAC.toUpperCase()}.cnf`)).get('image_version')).toBe('P0S3-8-12-00');
    expect(readSipCnf(read('SIP0002FD796002.cnf')).get('image_version')).toBe('P0S3-8-11-00');
    // Each line registers to its own proxy (proxyN_address): the second line gets one too.
    expect(Object.fromEntries(readSipCnf(read('SIP0002FD796002.cnf')))).toMatchObject({ line2_name: '1052', line2_displayname: 'Back office 2', proxy2_address: 'pbx-nyc.northwind.example', proxy2_port: '5061' });
    const check = await runCli(['check', root.dir, '-q']);
    expect(check.stdout + check.stderr).not.toMatch(/CISCO_CNF/);
    expect(check.code).toBe(0);
  });
});

describe('deskset check traces a 79x0 finding to the profile line (the real CLI)', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({
      [`profiles/devices/${LEGACY_MAC}.yaml`]: (old) => `${old}      phone_prompt: "a prompt far too long for it"\n`,
    });
  });
  afterAll(async () => {
    await root?.cleanup();
  });
  it('phone_prompt past 15 characters is a warning at the device file', async () => {
    const r = await runCli(['check', root.dir]);
    expect(r.stdout).toMatch(/0002fd796001\.yaml:\d+:\d+: warning CISCO_CNF_LENGTH: phone_prompt: 28 characters; the phone keeps 15/);
  });
});
