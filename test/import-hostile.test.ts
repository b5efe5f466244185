// Hostile and broken inputs: import reports them with file:line or imports them faithfully,
// never throws, never hangs, and never lets input text become a secret reference.

import { describe, expect, it } from 'vitest';
import { planImport, verifyRoundTrip, type InputFile } from '../src/import/index.js';
import { shippedCatalog, shippedTemplates } from './helpers/import.js';

const catalog = shippedCatalog();
const shipped = shippedTemplates();
const enc = (s: string) => new TextEncoder().encode(s);

function run(files: InputFile[], models: Array<{ mac: string; model: string; from: string }> = []) {
  const plan = planImport({ files, catalog, models });
  const v = verifyRoundTrip({ root: plan.files, shipped, version: 'test', subjects: plan.subjects, env: new Map(plan.secrets.map((s) => [s.name, s.value])) });
  const named = new Set([...plan.read, ...plan.findings.map((f) => f.loc?.file), ...plan.dropped.map((d) => d.loc.file)]);
  return { plan, v, unaccounted: files.map((f) => f.name).filter((n) => !named.has(n)) };
}

// A deterministic byte soup.
function soup(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x & 0xff;
  }
  return out;
}

const CASES: Array<[string, InputFile[]]> = [
  ['random bytes named like configs', [{ name: 'f/0004f2000001.cfg', bytes: soup(5000, 1) }, { name: 'f/46xxsettings.txt', bytes: soup(3000, 2) }, { name: 'f/y000000000066.cfg', bytes: soup(100, 3) }]],
  ['an empty file of each kind', [{ name: 'f/46xxsettings.txt', bytes: enc('') }, { name: 'f/000000000000.cfg', bytes: enc('') }, { name: 'f/805ec0000001.cfg', bytes: enc('') }]],
  ['XML that is not well-formed in many ways', [
    { name: 'f/000000000000.cfg', bytes: enc('<APPLICATION CONFIG_FILES="a.cfg, b.cfg, c.cfg, d.cfg"/>') },
    { name: 'f/a.cfg', bytes: enc('<polycomConfig a.b="1" a.b="2"/>') },
    { name: 'f/b.cfg', bytes: enc('<polycomConfig><!-- never closed') },
    { name: 'f/c.cfg', bytes: enc(`<polycomConfig x="&#99999999;" y="&#1;" z="ok"/>`) },
    { name: 'f/d.cfg', bytes: enc(`${'<e>'.repeat(20000)}${'</e>'.repeat(20000)}`) },
  ]],
  ['Avaya loops and self-GETs', [
    { name: 'f/46xxsettings.txt', bytes: enc('# TOP\nSET A 1\nGET 46xxsettings.txt\nGOTO TOP\nIF $MODEL4 SEQ J179 GOTO TOP\n') },
  ]],
  ['Yealink include loops and a 1 MB line', [
    { name: 'f/y000000000000.boot', bytes: enc('#!version:1.0.0.1\ninclude:config "a.cfg"\n') },
    { name: 'f/a.cfg', bytes: enc('#!version:1.0.0.1\ninclude:config "b.cfg"\nx.a = 1\n') },
    { name: 'f/b.cfg', bytes: enc(`#!version:1.0.0.1\ninclude:config "a.cfg"\nx.b = ${'z'.repeat(1 << 20)}\n`) },
    { name: 'f/805ec0000001.cfg', bytes: enc('#!version:1.0.0.1\nx.c = 1\n') },
  ]],
  ['Cisco, Grandstream and Snom files with hostile names, values and structure', [
    { name: 'f/SEP0017E0000001.cnf.xml', bytes: enc('<device><vendorConfig><a:b>1</a:b><x.y>2</x.y><ok>${env:HOME}</ok><deep><er>3</er></deep></vendorConfig><sipProfile><sipLines><line button="1"><name>1</name><proxy>evil</proxy></line><line button="1"><name>2</name></line></sipLines></sipProfile></device>') },
    { name: 'f/0057d2000001.xml', bytes: enc('<flat-profile><Bad.Name>1</Bad.Name><Ctl_>a&#1;b</Ctl_><Nested><X>1</X></Nested><Ok_>&lt;&amp;&gt;</Ok_></flat-profile>') },
    { name: 'f/cfg000b82000001.xml', bytes: enc('<gs_provision version="1"><mac>nonsense</mac><config version="2"><item name="x">1</item></config><config version="1"><P1>a</P1></config></gs_provision>') },
    { name: 'f/cfg000b82000002', bytes: enc('P1 = a\nnot a line\nP2 = $${x}\n') },
    { name: 'f/snomD785-000413000001.htm', bytes: enc('<settings><phone-settings><s idx="x" perm="R">1</s><t perm="BOGUS">2</t><u>3</u></phone-settings></settings>') },
    { name: 'f/snomD785-000413000002.htm', bytes: enc('<setting-files><file url="snomD785-000413000002.htm"/><file url="http://h/missing.xml"/></setting-files>') },
  ]],
];

describe('import: hostile input never crashes, everything is read or reported', () => {
  it.each(CASES)('%s', (_name, files) => {
    const { v, unaccounted } = run(files, [
      { mac: '805ec0000001', model: 'T46S', from: 'test' },
      { mac: '0017e0000001', model: '7961', from: 'test' },
      { mac: '0057d2000001', model: '7841-3PCC', from: 'test' },
      { mac: '000b82000001', model: 'GXP2170', from: 'test' },
      { mac: '000b82000002', model: 'HT801', from: 'test' },
    ]);
    expect(unaccounted).toEqual([]);
    expect(v.results.filter((r) => r.status === 'differs').map((r) => r.notes)).toEqual([]);
  });

  it('a value that looks like a secret reference stays text: it never pulls in the environment', () => {
    process.env.DESKSET_IMPORT_CANARY = 'canary-value';
    const { plan, v } = run(
      [{ name: 'f/805ec0000001.cfg', bytes: enc('#!version:1.0.0.1\ncustom.a = ${env:DESKSET_IMPORT_CANARY}\ncustom.b = $${x}\n') }],
      [{ mac: '805ec0000001', model: 'T46S', from: 'test' }],
    );
    expect(plan.files.get('profiles/devices/805ec0000001.yaml')).toContain('custom.a: $${env:DESKSET_IMPORT_CANARY}');
    expect(plan.dropped.map((d) => d.key)).toContain('custom.b');
    expect(v.results.map((r) => r.status)).toEqual(['equal']);
  });

  it('a finding about a file always names a line', () => {
    for (const [, files] of CASES) {
      const { plan } = run(files);
      for (const f of plan.findings) if (f.loc) expect(f.loc.line, `${f.code} ${f.message}`).toBeGreaterThan(0);
    }
  });
});
