// The pure parts of CSV import and export, as tables: reading (separators, BOM, CRLF, quoted
// separators and newlines, line numbers), what a column means, editing a device file without
// losing its comments, the row checks, the diff, and export → plan as a no-op.

import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { classifyColumn } from '../src/csv/columns.js';
import { freshDevice, mergeDevice } from '../src/csv/device-yaml.js';
import { exportDevices } from '../src/csv/export.js';
import { planImport, type ImportContext } from '../src/csv/import-plan.js';
import { unifiedDiff } from '../src/csv/line-diff.js';
import { detectSeparator, readCsv } from '../src/csv/read.js';

describe('readCsv', () => {
  it.each([
    ['comma', 'mac_address,model\n0004f2000001,VVX450\n', ','],
    ['semicolon (Excel in many locales)', 'mac_address;model\n0004f2000001;VVX450\n', ';'],
    ['tab', 'mac_address\tmodel\n0004f2000001\tVVX450\n', '\t'],
    ['comma with a quoted semicolon in the header', 'mac_address,"a;b",model\n1,2,3\n', ','],
  ])('detects the %s separator', (_name, text, sep) => {
    const r = readCsv(text, 'f.csv');
    expect(r.diagnostics).toEqual([]);
    expect(r.table!.separator).toBe(sep);
  });

  it('a one-column file is a comma file', () => expect(detectSeparator('mac_address')).toBe(','));
  it('a header with as many commas as semicolons cannot be decided', () => {
    expect(readCsv('mac_address,model;site\n', 'f.csv').diagnostics[0]).toMatchObject({ code: 'CSV_SEPARATOR', loc: { file: 'f.csv', line: 1 } });
  });

  it('reads a BOM, CRLF, quoted separators, quotes and newlines, and counts lines as an editor does', () => {
    const text = '\ufeffmac_address;endpoint_name;lines.1.display_name\r\n0004f2000001;"Desk; 1";"Ann ""A"" Lee"\r\n\r\n0004f2000002;"two\r\nlines";x\r\n0004f2000003;y;z';
    const r = readCsv(text, 'f.csv');
    expect(r.diagnostics).toEqual([]);
    expect(r.table!.header.fields).toEqual(['mac_address', 'endpoint_name', 'lines.1.display_name']);
    expect(r.table!.rows.map((x) => [x.line, ...x.fields])).toEqual([
      [2, '0004f2000001', 'Desk; 1', 'Ann "A" Lee'],
      [4, '0004f2000002', 'two\nlines', 'x'],
      [6, '0004f2000003', 'y', 'z'],
    ]);
  });

  it('trims the space PDMS-E puts after each separator', () => {
    expect(readCsv('mac_address, endpoint_name\n0004F24FD08E, Desk 1\n', 'f.csv').table!.rows[0]!.fields).toEqual(['0004F24FD08E', 'Desk 1']);
  });

  it.each([
    ['an unclosed quote', 'mac_address,model\n0004f2000001,"VVX450\n', 'CSV_SYNTAX', 2],
    ['an empty file', '', 'CSV_EMPTY', 1],
    ['only blank lines', '\n\r\n  \n', 'CSV_EMPTY', 1],
  ])('reports %s', (_n, text, code, line) => {
    const r = readCsv(text, 'f.csv');
    expect(r.table).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ code, loc: { file: 'f.csv', line } });
  });
});

describe('classifyColumn', () => {
  it.each([
    ['mac_address', { kind: 'mac' }],
    ['MAC_Address', { kind: 'mac' }],
    ['Endpoint_Name', { kind: 'description' }],
    ['endpoint_group', { kind: 'groups' }],
    ['MODEL', { kind: 'model' }],
    ['site', { kind: 'site' }],
    ['lines.1.extension', { kind: 'setting', path: ['lines', 0, 'extension'] }],
    ['Lines.2.Display_Name', { kind: 'setting', path: ['lines', 1, 'display_name'] }],
    ['sip.port', { kind: 'setting', path: ['sip', 'port'] }],
    ['time.ntp.2', { kind: 'setting', path: ['time', 'ntp', 1] }],
    ['polycom.params.reg.1.address', { kind: 'setting', path: ['polycom', 'params', 'reg.1.address'] }],
    ['custom.floor', { kind: 'setting', path: ['custom', 'floor'] }],
    ['reg.1.address', { kind: 'vendor', name: 'reg.1.address' }],
    ['reg.1.auth.userId', { kind: 'vendor', name: 'reg.1.auth.userId' }],
    ['device.hostname', { kind: 'vendor', name: 'device.hostname' }],
    ['SIP_CONTROLLER_LIST', { kind: 'vendor', name: 'SIP_CONTROLLER_LIST' }],
    // Not vocabulary leaves: a vendor parameter of that name.
    ['lines.0.extension', { kind: 'vendor', name: 'lines.0.extension' }],
    ['sip', { kind: 'vendor', name: 'sip' }],
    ['serial_number', { kind: 'ignored' }],
    ['endpoint_type', { kind: 'ignored' }],
    ['last_seen', { kind: 'ignored' }],
    ['provision_result', { kind: 'ignored' }],
    ['', { kind: 'error' }],
    ['reg 1', { kind: 'error' }],
  ])('%j → %j', (header, want) => {
    expect(classifyColumn(header)).toMatchObject(want);
  });
});

const DEVICE = `# Reception, New York: keep this comment
model: VVX450
site: nyc
groups: [sales]
settings:
  lines:
    - {extension: "1020", auth_user: "1020", password: "\${file:secrets/line-1020}", display_name: "Bob"}
  # vendor parameters below
  polycom:
    params:
      "reg.1.label": "Bob <sales>" # shown on the key
`;

describe('mergeDevice', () => {
  // (The yaml library writes one space before a trailing comment; the fixture has one.)
  it('changes only what differs, keeping comments, quoting and flow style', () => {
    const out = mergeDevice(DEVICE, { settings: [{ path: ['lines', 0, 'display_name'], value: 'Robert' }, { path: ['polycom', 'params', 'reg.1.label'], value: 'Bob <sales>' }], keep: [] });
    expect(out).toBe(DEVICE.replace('display_name: "Bob"', 'display_name: "Robert"'));
  });
  it('adds new settings and groups, comments kept', () => {
    const out = mergeDevice(DEVICE, { groups: ['sales', 'support'], settings: [{ path: ['sip', 'port'], value: 5070 }, { path: ['lines', 1, 'extension'], value: '1021' }], keep: [] });
    expect(out).toContain('# Reception, New York: keep this comment');
    expect(out).toContain('# vendor parameters below');
    expect(out).toContain('# shown on the key');
    const y = parseYaml(out) as { groups: string[]; settings: { sip: { port: number }; lines: Array<Record<string, string>> } };
    expect(y.groups).toEqual(['sales', 'support']);
    expect(y.settings.sip.port).toBe(5070);
    expect(y.settings.lines[1]).toEqual({ extension: '1021' });
    expect(y.settings.lines[0]!.extension).toBe('1020');
  });
  it('returns the very same text when every value already reads the same', () => {
    const same = mergeDevice(DEVICE, { model: 'VVX450', site: 'nyc', groups: ['sales'], settings: [{ path: ['lines', 0, 'extension'], value: '1020' }], keep: [] });
    expect(same).toBe(DEVICE);
  });
  it('a number in the file and the same digits in the CSV are the same value', () => {
    const text = 'model: VVX450\nsettings:\n  sip:\n    port: 5060\n';
    expect(mergeDevice(text, { settings: [{ path: ['sip', 'port'], value: 5060 }], keep: [] })).toBe(text);
  });
});

describe('freshDevice', () => {
  it.each([
    ['plain text', 'Jon Smith'],
    ['digits', '1000'],
    ['a reserved word', 'yes'],
    ['a secret reference', '${env:DESKSET_X}'],
    ['a colon and hash', 'a: b # c'],
    ['quotes and backslashes', 'say "hi" \\ bye'],
    ['a newline', 'two\nlines'],
    ['leading and trailing spaces', ' x '],
    ['unicode', 'Sala de Reuniões ☎'],
    ['empty-looking', '~'],
  ])('writes YAML that reads back the same value: %s', (_n, value) => {
    const text = freshDevice({ model: 'VVX450', groups: ['a b', 'c'], description: value, settings: [{ path: ['polycom', 'params', 'reg.1.label'], value }, { path: ['lines', 1, 'display_name'], value }], keep: [] }, undefined);
    const y = parseYaml(text) as { description: string; groups: string[]; settings: { polycom: { params: Record<string, string> }; lines: Array<Record<string, string>> } };
    expect(y.description).toBe(value);
    expect(y.groups).toEqual(['a b', 'c']);
    expect(y.settings.polycom.params['reg.1.label']).toBe(value);
    expect(y.settings.lines).toEqual([{}, { display_name: value }]);
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => expect(unifiedDiff('a\n', 'a\n', 'a', 'b')).toBe(''));
  it('shows one changed line with context', () => {
    expect(unifiedDiff('1\n2\n3\n4\n5\n6\n', '1\n2\n3\nX\n5\n6\n', 'a/f', 'b/f')).toBe('--- a/f\n+++ b/f\n@@ -2,5 +2,5 @@\n 2\n 3\n-4\n+X\n 5\n 6\n');
  });
  it('a new file is all additions', () => expect(unifiedDiff('', 'a\nb\n', '/dev/null', 'b/f')).toBe('--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+a\n+b\n'));
});

const CATALOG: Record<string, { name: string; vendor: string }> = {
  vvx450: { name: 'VVX450', vendor: 'polycom' },
  t46s: { name: 'T46S', vendor: 'yealink' },
  j179: { name: 'J179', vendor: 'avaya' },
};
const ctx = (over: Partial<ImportContext> = {}): ImportContext => ({
  file: 'in.csv',
  mode: 'merge',
  findModel: (n) => CATALOG[n.toLowerCase()],
  modelNames: Object.values(CATALOG).map((m) => m.name),
  groups: new Set(['sales', 'support']),
  sites: new Set(['nyc', 'lisbon']),
  existing: new Map([['0004f2000001', { rel: 'profiles/devices/0004f2000001.yaml', text: DEVICE, model: 'VVX450' }]]),
  ...over,
});
const plan = (csv: string, over: Partial<ImportContext> = {}) => planImport(readCsv(csv, 'in.csv').table!, ctx(over));

describe('planImport: bad rows, all reported with their lines', () => {
  it('reports every bad row, not the first', () => {
    const p = plan(
      [
        'mac_address,model,endpoint_group,site,sip.port',
        '0004f2000010,VVX450,sales,nyc,5060', // good
        'not-a-mac,VVX450,sales,nyc,5060',
        '0004f2000011,VVX999,sales,nyc,5060',
        '0004f2000012,VVX450,sales|nope,nyc,5060',
        '0004f2000013,VVX450,sales,mars,5060',
        '0004f2000010,VVX450,sales,nyc,5060',
        '0004f2000014,VVX450,sales',
        '0004f2000015,VVX450,sales,nyc,99999',
        '0004f2000016,,sales,nyc,5060',
        '0004f2000017,VVX450,sales,nyc,5060,extra',
      ].join('\n'),
    );
    expect(p.diagnostics.map((d) => [d.loc!.line, d.code])).toEqual([
      [3, 'CSV_MAC'],
      [4, 'CSV_MODEL'],
      [5, 'CSV_GROUP'],
      [6, 'CSV_SITE'],
      [7, 'CSV_DUPLICATE_MAC'],
      [8, 'CSV_COLUMNS'],
      [9, 'CSV_VALUE'],
      [10, 'CSV_MODEL'],
      [11, 'CSV_COLUMNS'],
    ]);
    expect(p.diagnostics[1]!.message).toMatch(/unknown model "VVX999".*VVX450/);
    expect(p.diagnostics[4]!.message).toMatch(/line 2/);
  });
  it.each([
    ['no mac_address column', 'model,site\nVVX450,nyc\n', /no mac_address column/],
    ['a repeated column', 'mac_address,MAC_ADDRESS\n1,2\n', /repeats column 1/],
    ['a repeated setting', 'mac_address,lines.1.extension,LINES.1.EXTENSION\n1,2,3\n', /repeats/],
    ['a nameless column in the middle', 'mac_address,,model\n1,2,3\n', /has no name/],
    ['a header without rows', 'mac_address,model\n', /no rows/],
  ])('refuses %s', (_n, csv, why) => {
    expect(plan(csv).diagnostics.map((d) => d.message).join('\n')).toMatch(why);
  });
  it('a vendor parameter goes to the map of the row’s vendor', () => {
    const p = plan('mac_address,model,reg.1.address,account.1.label,SIP_CONTROLLER_LIST\n0004f2000020,VVX450,1000,,\n0004f2000021,T46S,,Desk,\n0004f2000022,J179,,,pbx.example:5061;transport=tls\n');
    expect(p.diagnostics).toEqual([]);
    const y = p.devices.map((d) => (parseYaml(d.after!) as { settings: unknown }).settings);
    expect(y).toEqual([{ polycom: { params: { 'reg.1.address': '1000' } } }, { yealink: { params: { 'account.1.label': 'Desk' } } }, { avaya: { settings: { SIP_CONTROLLER_LIST: 'pbx.example:5061;transport=tls' } } }]);
  });
  it('without --merge or --overwrite an existing device is skipped', () => {
    const p = plan('mac_address,sip.port\n0004f2000001,5070\n', { mode: 'create' });
    expect(p.devices.map((d) => d.action)).toEqual(['skip']);
  });
  it('--overwrite replaces the file but keeps its model when the row has none', () => {
    const p = plan('mac_address,sip.port\n0004f2000001,5070\n', { mode: 'overwrite' });
    expect(p.devices[0]!.after).toBe('model: VVX450\nsettings:\n  sip:\n    port: 5070\n');
  });
  it('secrets: plaintext is flagged; --secrets-as-env writes references and lists the variables', () => {
    const plain = plan('mac_address,model,lines.1.password\n0004f2000030,VVX450,s3cret\n');
    expect(plain.devices[0]!.plaintextSecrets).toEqual(['lines.1.password']);
    const env = plan('mac_address,model,lines.1.password,reg.1.auth.password\n0004f2000030,VVX450,s3cret,other\n', { secretsAsEnv: 'DESKSET' });
    expect(env.devices[0]!.plaintextSecrets).toEqual([]);
    expect(env.devices[0]!.envRefs.map((r) => r.name)).toEqual(['DESKSET_0004F2000030_LINES_1_PASSWORD', 'DESKSET_0004F2000030_REG_1_AUTH_PASSWORD']);
    expect(env.devices[0]!.after).toContain('password: "${env:DESKSET_0004F2000030_LINES_1_PASSWORD}"');
    expect(env.devices[0]!.after).not.toContain('s3cret');
  });
  it('a masked secret keeps the value there, and is refused where there is none', () => {
    const keep = plan('mac_address,lines.1.password\n0004f2000001,••••\n');
    expect(keep.devices[0]!.action).toBe('unchanged');
    const none = plan('mac_address,model,lines.1.password\n0004f2000031,VVX450,••••\n');
    expect(none.diagnostics[0]).toMatchObject({ code: 'CSV_MASKED_SECRET', loc: { line: 2 } });
  });
});

describe('export → plan is a no-op', () => {
  it('every exported row plans to "unchanged"', () => {
    const devices = [
      { mac: '0004f2000001', text: DEVICE, vendor: 'polycom' },
      { mac: '805ec0000001', text: 'model: T46S\ndescription: "two\\nlines,  with ; and \\"quotes\\" "\nsettings:\n  time: {zone: Europe/Lisbon, ntp: [a.example, b.example]}\n  yealink:\n    params:\n      account.1.label: Desk\n      lines.1.extension: odd-but-legal\n  polycom: {params: {other.vendor: "1"}}\n', vendor: 'yealink' },
    ];
    const table = exportDevices(devices, { inventory: (mac) => (mac === '0004f2000001' ? { last_seen: new Date('2026-12-01T10:00:00Z'), firmware: '6.4.3', provision_result: 'ok' } : undefined) });
    expect(table.header).toContain('yealink.params.lines.1.extension');
    expect(table.header.slice(-3)).toEqual(['last_seen', 'firmware', 'provision_result']);
    // Secrets are masked; references are not secrets.
    expect(table.rows[0]).toContain('${file:secrets/line-1020}');
    const csv = [table.header, ...table.rows].map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\n');
    const p = plan(csv, { existing: new Map(devices.map((d) => [d.mac, { rel: `profiles/devices/${d.mac}.yaml`, text: d.text, model: d.vendor === 'polycom' ? 'VVX450' : 'T46S' }])) });
    expect(p.diagnostics).toEqual([]);
    expect(p.devices.map((d) => d.action)).toEqual(['unchanged', 'unchanged']);
  });
  it('masks plaintext secrets unless asked', () => {
    const d = [{ mac: '0004f2000001', text: 'model: VVX450\nsettings:\n  admin_password: hunter22\n', vendor: 'polycom' }];
    expect(exportDevices(d).rows[0]).toContain('••••');
    expect(exportDevices(d).rows[0]).not.toContain('hunter22');
    expect(exportDevices(d, { showSecrets: true }).rows[0]).toContain('hunter22');
  });
});
