// Cisco, beyond the shared contract suite (test/vendors.test.ts): the lint over every real
// Cisco file in ../shared/realworld/cisco/ and our own fixtures, the User-Agents, the time-zone
// encodings, the request names phones use (SEP<MAC> upper case, $PSN.xml, spa$PSN.cfg, $MA.xml),
// CTL/ITL requests answered 404 without counting as MAC enumeration (over a real socket), and
// the schema failing what a phone would misread.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../src/check/diagnostics.js';
import { createValidators, type Validators } from '../src/io/validators.js';
import { resolveRequest } from '../src/pipeline/request.js';
import { parseUserAgent } from '../src/pipeline/user-agent.js';
import { renderTarget } from '../src/render/render.js';
import { startServer } from '../src/server.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { lintCiscoFile } from '../src/vendors/cisco/lint.js';
import { readCiscoXml } from '../src/vendors/cisco/read.js';
import { dstRuleText, enterpriseZoneName, gmtOffset } from '../src/vendors/cisco/timezone.js';
import { parseVendorManifest, type VendorManifest } from '../src/vendors/manifest.js';
import { runCli } from './helpers/cli.js';
import { desksetYaml, get, memoryLog, settle } from './helpers/e2e-http.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';
import { FIXTURES, HAVE_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';
import { makeTmpRoot, SAMPLES, type TmpRoot } from './helpers/tmp-root.js';

warnIfNoRealworld('cisco.test.ts');

const ENTERPRISE_MAC = 'a44c11a08845';
const MPP_MAC = '00562b006851';

let snap: Snapshot;
let manifests: VendorManifest[];
beforeAll(async () => {
  const shipped = await shippedFiles();
  snap = buildSnapshot({ root: await sampleFiles(), shipped, version: '0.0.0-test' });
  manifests = [...shipped].filter(([p]) => p.endsWith('/vendor.yaml')).map(([p, t]) => parseVendorManifest(t, p).manifest!);
});

const lint = (file: string, text?: string) => lintCiscoFile(text ?? readFileSync(file), path.basename(file)).map(formatDiagnostic);
const codes = (file: string) => lintCiscoFile(readFileSync(file), path.basename(file)).map((d) => `${d.severity} ${d.code}`);

describe('lint: real Cisco files (../shared/realworld/cisco/)', () => {
  const files = HAVE_REALWORLD
    ? readdirSync(path.join(REALWORLD, 'cisco'), { recursive: true, encoding: 'utf8' })
        .map((f) => path.join(REALWORLD, 'cisco', f))
        .filter((f) => statSync(f).isFile())
    : [];

  it.skipIf(!HAVE_REALWORLD)(`every file is read and linted without a crash${HAVE_REALWORLD ? '' : ' (skipped: absent)'}`, () => {
    expect(files.length).toBeGreaterThanOrEqual(17);
    for (const f of files) expect(() => lint(f), f).not.toThrow();
  });

  it.skipIf(!HAVE_REALWORLD)('the malformed <authPassword[== … ==]</authPassword> tag (NamoDev 7942, 7821) is one error at its line', () => {
    for (const [name, line] of [['7942.cnf.xml', 107], ['7821.cnf.xml', 102]] as const) {
      const ds = lintCiscoFile(readFileSync(path.join(REALWORLD, 'cisco', 'NamoDev__Cisco-IP-Phone-Provisioning-Files', name)), name);
      expect(ds.map((d) => d.code)).toEqual(['CISCO_XML']);
      expect(ds[0]!.loc).toMatchObject({ file: name, line });
    }
  });

  it.skipIf(!HAVE_REALWORLD)('dbaldree SEP files: xsi:type without its namespace is a warning; the stray </line> at line 148 is the error', () => {
    for (const name of ['SEP0014638ADF5E.cnf.xml', 'SEP0014A3712E61.cnf.xml']) {
      const ds = lintCiscoFile(readFileSync(path.join(REALWORLD, 'cisco', 'dbaldree__cisco_sip_voipfone', name)), name);
      expect(ds.map((d) => `${d.severity} ${d.code} ${d.loc?.line}`)).toEqual(['warning CISCO_XML_NAMESPACE 1', 'error CISCO_XML 148']);
    }
  });

  it.skipIf(!HAVE_REALWORLD)('the well-formed files (XMLDefault, dial plans, SoftKeys, flat profiles, 6921 SEP, legacy .cnf) have no findings', () => {
    // NamoDev's 7960.cnf has one finding (an unquoted placeholder with spaces): cisco-sip.test.ts.
    const clean = files.filter((f) => !/7942\.cnf\.xml|7821\.cnf\.xml|SEP0014|7960\.cnf$/.test(f));
    expect(clean.length).toBeGreaterThanOrEqual(12);
    for (const f of clean) expect(lint(f), f).toEqual([]);
  });
});

describe('lint: own fixtures (test/fixtures/cisco/)', () => {
  const fx = (n: string) => path.join(FIXTURES, 'cisco', n);
  it('a broken tag (CRLF file) is one CISCO_XML error at file:line:col', () => {
    expect(lint(fx('broken-tag.cnf.xml'))).toEqual([expect.stringMatching(/^broken-tag\.cnf\.xml:6:\d+: error CISCO_XML: not well-formed XML/)]);
  });
  it('an unbound prefix is a warning, and the structure is still read: a repeated and a missing line button', () => {
    expect(codes(fx('unbound-prefix.cnf.xml'))).toEqual(['warning CISCO_XML_NAMESPACE', 'warning CISCO_LINE_BUTTON', 'warning CISCO_LINE_BUTTON']);
    expect(lint(fx('unbound-prefix.cnf.xml'))[1]).toMatch(/:6:1: warning CISCO_LINE_BUTTON: button 1 is used again \(first at line 5\)/);
  });
  it('a flat-profile parameter set twice: the later one is named, at its line', () => {
    expect(lint(fx('spa-duplicate.xml'))).toEqual([expect.stringMatching(/^spa-duplicate\.xml:6:1: warning CISCO_DUPLICATE_PARAM: <Proxy_1_> is set again \(first at line 4\)/)]);
  });
  it('legacy SIPDefault.cnf: an unclosed quote and a line that is no setting', () => {
    expect(codes(fx('SIPDefault.cnf'))).toEqual(['warning CISCO_CNF_QUOTE', 'error CISCO_CNF_SYNTAX']);
    expect(lint(fx('SIPDefault.cnf'))[1]).toMatch(/^SIPDefault\.cnf:5:1: error CISCO_CNF_SYNTAX/);
  });
  it('a root no Cisco firmware reads', () => {
    expect(codes(fx('unknown-root.cnf.xml'))).toEqual(['warning CISCO_UNKNOWN_ROOT']);
  });
  it('hostile input: empty, binary, huge nesting: findings, never a throw', () => {
    for (const t of ['', '\u0000\u0001\u0002', '<'.repeat(10_000), `${'<a>'.repeat(5000)}`, '\uFEFF<flat-profile><A>1</A></flat-profile>']) {
      expect(() => lintCiscoFile(t, 'x.cnf.xml')).not.toThrow();
    }
    expect(lintCiscoFile('', 'x.cnf.xml').map((d) => d.code)).toEqual(['CISCO_XML']);
  });
});

describe('User-Agents', () => {
  const table: Array<[string, { model?: string; family?: string; firmware: string; mac?: string }]> = [
    ['Cisco-CP-7832-3PCC/11.0.1 (00562b043615)', { model: '7832-3PCC', firmware: '11.0.1', mac: '00562b043615' }],
    ['Cisco-CP-8841-3PCC/11.3.2 (0057d2a1b2c3)', { model: '8841-3PCC', firmware: '11.3.2', mac: '0057d2a1b2c3' }],
    ['Cisco/ATA191-MPP-11-1-0-MSR4 (FCH2443D9R4)', { model: 'ATA191', family: 'MPP', firmware: '11-1-0-MSR4', mac: undefined }],
    ['Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)', { model: 'SPA501G', firmware: '7.4.4', mac: '8843e157ddcc' }],
    ['Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)', { model: 'SPA508G', firmware: '7.4.8a', mac: '0002fdff2103' }],
    ['Cisco/SPA525G-7.4.4 (CBT141900G7)', { model: 'SPA525G', firmware: '7.4.4', mac: undefined }],
    ['Linksys/SPA-962-6.1.5(a) (4MM00F903042)', { model: 'SPA962', firmware: '6.1.5(a)', mac: undefined }],
  ];
  for (const [ua, want] of table) {
    it(ua, () => {
      const info = parseUserAgent(ua, manifests);
      expect(info).toMatchObject({ vendor: 'cisco', model: want.model, firmware: want.firmware });
      if (want.family) expect(info?.family).toBe(want.family);
      expect(info?.mac === undefined ? undefined : info.mac.replace(/[:-]/g, '').toLowerCase()).toBe(want.mac);
      // Every model a UA names is one of ours.
      expect(snap.catalog.find(info!.model!)?.vendor).toBe('cisco');
    });
  }
});

describe('time zones as Cisco writes them', () => {
  const cases: Array<[string, string, string | undefined, string]> = [
    ['America/New_York', 'GMT-05:00', 'start=3/8/7/2;end=11/1/7/2;save=1', 'Eastern Standard/Daylight Time'],
    ['Europe/Lisbon', 'GMT+00:00', 'start=3/-1/7/1;end=10/-1/7/2;save=1', 'GMT Standard/Daylight Time'],
    ['Europe/Berlin', 'GMT+01:00', 'start=3/-1/7/2;end=10/-1/7/3;save=1', 'Central Europe Standard/Daylight Time'],
    ['Australia/Sydney', 'GMT+10:00', 'start=10/1/7/2;end=4/1/7/3;save=1', 'AUS Eastern Standard/Daylight Time'],
    ['Australia/Lord_Howe', 'GMT+10:30', 'start=10/1/7/2;end=4/1/7/2;save=0:30', ''],
    ['Asia/Kolkata', 'GMT+05:30', undefined, 'India Standard Time'],
    ['America/Phoenix', 'GMT-07:00', undefined, 'US Mountain Standard Time'],
  ];
  for (const [zone, offset, rule, name] of cases) {
    it(zone, () => {
      expect(gmtOffset(zone)).toBe(offset);
      expect(dstRuleText(zone)).toBe(rule);
      if (name) expect(enterpriseZoneName(zone)).toBe(name);
      else expect(() => enterpriseZoneName(zone)).toThrow(/no Cisco enterprise time-zone name/);
    });
  }
});

describe('the names phones ask for', () => {
  const render = (p: string) => {
    const r = resolveRequest(snap, { path: p });
    return r.kind === 'render' ? `${r.target.file.id} ${r.target.subject?.mac ?? r.target.model?.name ?? ''} ${r.target.path}` : `404 ${r.reason}`;
  };
  it('SEP<MAC>.cnf.xml, in upper case as phones ask (and any case), named upper case', () => {
    expect(render('SEPA44C11A08845.cnf.xml')).toBe(`sep ${ENTERPRISE_MAC} SEPA44C11A08845.cnf.xml`);
    expect(render('sepa44c11a08845.cnf.xml')).toBe(`sep ${ENTERPRISE_MAC} SEPA44C11A08845.cnf.xml`);
  });
  it('MPP/SPA: $MA.xml, $PSN.xml, spa$PSN.cfg', () => {
    expect(render(`${MPP_MAC}.xml`)).toBe(`profile ${MPP_MAC} ${MPP_MAC}.xml`);
    expect(render('6851-3PCC.xml')).toBe('common 6851-3PCC 6851-3PCC.xml');
    expect(render('spa504G.cfg')).toBe('spa-common SPA504G spa504G.cfg');
    expect(render('XMLDefault.cnf.xml')).toBe('xmldefault  XMLDefault.cnf.xml');
    expect(render('dialplan.xml')).toBe('dialplan  dialplan.xml');
    expect(render('SoftKeys.xml')).toBe('softkeys  SoftKeys.xml');
  });
  it('CTL/ITL files are no route: there are none, and a phone with no trust list goes on to its SEP file', () => {
    for (const p of [`CTLSEP${ENTERPRISE_MAC.toUpperCase()}.tlv`, `ITLSEP${ENTERPRISE_MAC.toUpperCase()}.tlv`, 'ITLFile.tlv', 'CTLFile.tlv']) expect(render(p), p).toBe('404 no route');
  });
  it('the MPP file reads back with the vocabulary mapped, cisco.params last, and no credentials in the common profile', () => {
    const t = (p: string) => {
      const r = resolveRequest(snap, { path: p });
      if (r.kind !== 'render') throw new Error(p);
      const { rendered, diagnostics } = renderTarget(snap.render, r.target);
      expect(diagnostics.map(formatDiagnostic)).toEqual([]);
      return readCiscoXml(rendered!.text);
    };
    const own = t(`${MPP_MAC}.xml`);
    expect(Object.fromEntries([...own].filter(([k]) => !/^(Password_1_|Admin_Password)$/.test(k)))).toEqual({
      Time_Zone: 'GMT+00:00',
      Daylight_Saving_Time_Enable: 'Yes',
      Daylight_Saving_Time_Rule: 'start=3/-1/7/1;end=10/-1/7/2;save=1',
      Primary_NTP_Server: 'pt.pool.ntp.org',
      Language_Selection: 'Portuguese',
      Locale: 'pt-PT',
      Line_Enable_1_: 'Yes',
      Display_Name_1_: 'Armazém',
      Short_Name_1_: 'Armazém',
      User_ID_1_: '2030',
      Auth_ID_1_: '2030',
      Use_Auth_ID_1_: 'Yes',
      Proxy_1_: 'pbx-lis.northwind.example:5060',
      SIP_Transport_1_: 'UDP',
      webAccess: '0',
      Station_Display_Name: 'Armazém <Lisboa>',
    });
    // The profile's secret reference (resolved when served: the socket test below).
    expect(own.get('Password_1_')).toBe('${file:secrets/line-2030}');
    const common = t('6851-3PCC.xml');
    expect([...common.keys()].filter((k) => /Password|User_ID|Auth_ID/.test(k))).toEqual([]);
    expect(common.get('Profile_Rule_B')).toBe('/$MA.xml');
    const sep = t(`SEP${ENTERPRISE_MAC.toUpperCase()}.cnf.xml`);
    expect(sep.get('sipProfile.sipLines.line[2].displayName')).toBe('Lobby <2>');
    expect(sep.get('devicePool.dateTimeSetting.timeZone')).toBe('Eastern Standard/Daylight Time');
    expect(sep.get('vendorConfig.webAccess')).toBe('0');
    expect(sep.get('userLocale.langCode')).toBe('en_US');
  });
});

describe('schemas/cisco/cisco.xsd fails what a phone would misread', () => {
  let v: Validators;
  beforeAll(() => {
    v = createValidators({ root: SAMPLES, resourceNames: new Set() });
  });
  afterAll(async () => {
    await v?.close();
  });
  const xsd = async (xml: string) => (await v.xsd!(xml, 'cisco/cisco.xsd')).map((f) => f.message);
  it('accepts a line with a button, a dial template, a flat profile', async () => {
    expect(await xsd('<device><sipProfile><sipLines><line button="1"><name>1</name></line></sipLines></sipProfile><loadInformation>sip88xx.14-2-1</loadInformation></device>')).toEqual([]);
    expect(await xsd('<DIALTEMPLATE><TEMPLATE MATCH="911" Timeout="0"/></DIALTEMPLATE>')).toEqual([]);
    expect(await xsd('<flat-profile><Proxy_1_ ua="na">x</Proxy_1_></flat-profile>')).toEqual([]);
  });
  it('refuses a line without a button, a non-numeric Timeout, a load name with a path, an unknown root', async () => {
    expect((await xsd('<device><sipProfile><sipLines><line><name>1</name></line></sipLines></sipProfile></device>')).length).toBeGreaterThan(0);
    expect((await xsd('<DIALTEMPLATE><TEMPLATE MATCH="911" Timeout="soon"/></DIALTEMPLATE>')).length).toBeGreaterThan(0);
    expect((await xsd('<device><loadInformation>../x y.loads</loadInformation></device>')).length).toBeGreaterThan(0);
    expect((await xsd('<settings/>')).length).toBeGreaterThan(0);
  });
});

describe('over a real socket: CTL/ITL misses do not count as MAC enumeration; SEP misses do', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(['security:', '  enumeration:', '    max_distinct: 3', '    window_s: 300', '    cooldown_s: 120'].join('\n')) });
  });
  afterAll(async () => {
    await root?.cleanup();
  });
  it('ten phones asking for their trust lists get 404, and the known 8845 still gets its SEP file; unknown SEP files then start the cool-down', async () => {
    const mem = memoryLog();
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: mem.log, watch: false });
    try {
      for (let i = 0; i < 10; i++) {
        const mac = `A44C11B${String(i).padStart(5, '0')}`;
        for (const p of [`CTLSEP${mac}.tlv`, `ITLSEP${mac}.tlv`, 'ITLFile.tlv', 'CTLFile.tlv']) expect((await get(srv.url, `/${p}`)).status, p).toBe(404);
      }
      const sep = await get(srv.url, `/SEP${ENTERPRISE_MAC.toUpperCase()}.cnf.xml`);
      expect(sep.status).toBe(200);
      expect(sep.text).toContain('<displayName>Reception &amp; Lobby</displayName>');
      expect(sep.text).toContain(`<authPassword>${readFileSync(path.join(SAMPLES, 'secrets', 'line-1040'), 'utf8').trim()}</authPassword>`);
      await settle();
      expect(mem.events('mac_enumeration')).toEqual([]);
      // The same server does count SEP files of unknown MACs: the guard is on.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get(srv.url, `/SEPA44C11C${String(i).padStart(5, '0')}.cnf.xml`)).status);
      expect(statuses).toContain(429);
    } finally {
      await srv.close();
    }
  });
});

describe('deskset check reads hand-written Cisco files under resources/ (the real CLI)', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({
      'resources/SEP0014A3712E61.cnf.xml': readFileSync(path.join(FIXTURES, 'cisco', 'broken-tag.cnf.xml'), 'utf8'),
      'resources/dialplan-ok.txt': 'not a Cisco file name: not linted\n',
    });
  });
  afterAll(async () => {
    await root?.cleanup();
  });
  it('a broken tag is an error at resources/<file>:line:col and check fails', async () => {
    const r = await runCli(['check', root.dir]);
    expect(r.stdout).toMatch(/resources\/SEP0014A3712E61\.cnf\.xml:6:\d+: error CISCO_XML: not well-formed XML/);
    expect(r.stdout).not.toContain('dialplan-ok.txt');
    expect(r.code).not.toBe(0);
  });
});

describe('firmware: .loads names serve the models of their load prefix', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({
      // .loads (and the .sbn/.zz images a .loads names) are not among the default extensions.
      'deskset.yaml': desksetYaml('files:\n  extensions: [xml, txt, cfg, loads, sbn, sgn, zz, bin]'),
      'firmware/cisco/14.2.1/sip8845_65.14-2-1-0101-39.loads': 'loads file\n',
      'firmware/cisco/14.2.1/sip88xx.14-2-1-0001-14.loads': 'loads file\n',
      'profiles/models/8845.yaml': 'firmware:\n  policy: latest\n',
      // A model layer: XMLDefault.cnf.xml is shared, so only global and model layers reach it.
      'profiles/models/8851.yaml': 'firmware:\n  policy: latest\n',
      'profiles/devices/a44c11a08851.yaml': 'model: "8851"\nsite: nyc\nsettings:\n  lines:\n    - {extension: "1050", password: "x", display_name: "Desk"}\n',
    });
  });
  afterAll(async () => {
    await root?.cleanup();
  });
  it('SEP files name the chosen load without .loads; XMLDefault lists it per model with a device type', async () => {
    const out = path.join(root.dir, 'out');
    const r = await runCli(['render', root.dir, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const read = (n: string) => readFileSync(path.join(out, n), 'utf8');
    expect(read('SEPA44C11A08845.cnf.xml')).toContain('<loadInformation>sip8845_65.14-2-1-0101-39</loadInformation>');
    expect(read('SEPA44C11A08851.cnf.xml')).toContain('<loadInformation>sip88xx.14-2-1-0001-14</loadInformation>');
    // 8851 has a device type (684, from the real XMLDefault files); 8845 has none we could cite.
    expect(read('XMLDefault.cnf.xml')).toContain('<loadInformation684 model="Cisco 8851">sip88xx.14-2-1-0001-14</loadInformation684>');
    expect(read('XMLDefault.cnf.xml')).not.toContain('8845');
  });
});

describe('deskset explain on the sample MPP phone (the real CLI)', () => {
  it('names both device files and says where cisco.params came from', async () => {
    const r = await runCli(['explain', SAMPLES, MPP_MAC]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Device ${MPP_MAC}: cisco 6851-3PCC`);
    expect(r.stdout).toContain(`Files: SEP${MPP_MAC.toUpperCase()}.cnf.xml, ${MPP_MAC}.xml`);
    expect(r.stdout).toMatch(/settings\.cisco\.params\.Station_Display_Name = "Armazém <Lisboa>"\n\s+set by\s+device 00562b006851\s+samples\/profiles\/devices\/00562b006851\.yaml:\d+:\d+/);
    expect(r.stdout).toMatch(/settings\.cisco\.params\.webAccess = 0\n\s+set by\s+global\s+samples\/profiles\/global\.yaml:\d+:\d+/);
  });
});
