// libxml2 (the fast default) and Xerces (the reference) must reach the same verdict on
// every document we can find: the real Poly and Cisco files of the acceptance corpus
// (well-formed and malformed; when ../shared/realworld is there), a corpus of our own in
// test/fixtures/xml-corpus, and hand-made documents aimed at each decision in our schemas. If they disagree, one of them is wrong about our schema and the fast engine
// can no longer be trusted on its own.
//
// Xerces costs a JVM per document, so all verdicts are computed up front, concurrently
// (the engine caps concurrent JVMs), and the per-document tests only compare.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinSchemaPath, createXsdEngine, type XsdEngine, type XsdResult } from '../src/validate/xsd/index.js';
import { FIXTURES, HAVE_REALWORLD, NEEDS_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('xsd-agreement.test.ts');
const OWN_CORPUS = path.join(FIXTURES, 'xml-corpus');

const MASTER = builtinSchemaPath('polycom/master.xsd');
const ADVISORY = builtinSchemaPath('polycom/master.advisory.xsd');
const POLYCOM_CONFIG = builtinSchemaPath('polycom/polycomConfig.xsd');
const ANY_XML = builtinSchemaPath('test/any-xml.xsd');

// A site schema extending ours (see the comment in polycomConfig.xsd): it declares one
// parameter globally, and the lax wildcards must then type-check it at any depth.
const EXT_DIR = mkdtempSync(path.join(os.tmpdir(), 'deskset-xsd-agreement-'));
const EXTENDED = path.join(EXT_DIR, 'site-polycomConfig.xsd');
writeFileSync(
  EXTENDED,
  `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:include schemaLocation="${POLYCOM_CONFIG}"/>
  <xs:attribute name="reg.1.lineKeys" type="xs:positiveInteger"/>
</xs:schema>
`,
);

interface Case {
  /** Test title: corpus-relative path or a short description. */
  name: string;
  xml: string;
  schema: string;
  /** Whether fast-xml-parser (an independent parser) considers the text well-formed. */
  wellFormed: boolean;
  /** Pinned verdict, where the schema's design decides it (see master.xsd's header). */
  expected?: boolean;
}

function schemaLabel(schema: string): string {
  return path.relative(path.resolve(MASTER, '../..'), schema).replace(/^(\.\.\/)+/, '');
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** First element name, skipping the BOM, XML declaration, comments and DOCTYPE. */
function rootName(xml: string): string | undefined {
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '').replace(/<!DOCTYPE[^>]*>/gi, '');
  return /<([A-Za-z_][\w.:-]*)/.exec(body)?.[1];
}

function isWellFormed(xml: string): boolean {
  return XMLValidator.validate(xml) === true;
}

// Real master configs: every one passes master.xsd (a phone accepts them all); what the
// advisory schema (deskset's own layout) says about each.
const PINNED_ADVISORY: Record<string, boolean> = {
  // Poly's own UCS 5.9.8 file: the standard layout, per-model children, legacy models.
  'polycom/adriacunanan06__poly-vvx410-fw-5-9-8-5760/000000000000.cfg': true,
  'polycom/semenko__skype-polycom-config/000000000000.cfg': true,
  'polycom/wolrah__polycom_spip_ssip_configs/000000000000.cfg': true,
  'polycom/wazo-platform__wazo-provd-plugins/wazo_polycom/v3_2_4B/000000000000.cfg': true,
  'polycom/wazo-platform__wazo-provd-plugins/wazo_polycom/v6_4_6/000000000000.cfg': true,
  // <deviceConfig> wrapper: the phone reads it, deskset never renders it.
  'polycom/Gonk-Software-Foundation__gonk-xml-dir/000000000000.cfg': false,
  // Model-suffixed attributes on <Software>/<Configuration> children instead of
  // APPLICATION_<MODEL>: the phone tolerates it, the advisory layout does not.
  'polycom/greiginsydney__000000000000.cfg/000000000000.cfg': false,
  // Ours: the documented layout with per-model children.
  'fixture/polycom/site/000000000000.cfg': true,
};

/** Every Poly and Cisco XML file under `dir`, named `<prefix><path under dir>`. */
function corpusCases(dir: string, prefix = ''): Case[] {
  const cases: Case[] = [];
  for (const vendor of ['polycom', 'cisco']) {
    for (const file of walk(path.join(dir, vendor)).sort()) {
      const xml = readFileSync(file, 'utf8');
      // Only XML: Cisco's legacy SIP<MAC>.cnf files are "key: value" text.
      if (!/^\uFEFF?\s*</.test(xml)) continue;
      const rel = prefix + path.relative(dir, file);
      const root = rootName(xml);
      const master = root === 'APPLICATION' || root === 'deviceConfig';
      const schemas = vendor === 'cisco' ? [ANY_XML] : master ? [MASTER, ADVISORY] : root === 'polycomConfig' ? [POLYCOM_CONFIG] : [MASTER, POLYCOM_CONFIG]; // <sip>, <phone1>: neither should accept
      for (const schema of schemas) {
        const expected =
          schema === MASTER && master ? true : schema === ADVISORY ? PINNED_ADVISORY[rel] : schema === POLYCOM_CONFIG && root === 'polycomConfig' ? true : undefined;
        cases.push({ name: `${rel} vs ${schemaLabel(schema)}`, xml, schema, wellFormed: isWellFormed(xml), expected });
      }
    }
  }
  return cases;
}

const LONG_PATH = `http://prov.example.com/${'x'.repeat(240)}/sip.ld`; // > 255 characters

function handMadeCases(): Case[] {
  const app = (attrs: string, children = '') => `<?xml version="1.0" standalone="yes"?>\n<APPLICATION ${attrs}>${children}</APPLICATION>\n`;
  const raw: Array<[name: string, xml: string, schema: string, expected: boolean]> = [
    // master.xsd
    ['master: minimal', app('APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg"'), MASTER, true],
    [
      'master: tokens, credentials in URL, spaces after commas, per-model children',
      app(
        'APP_FILE_PATH="https://user:pw@prov.example.com/fw/sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg,  site.cfg ,features.cfg" LOG_FILE_DIRECTORY="logs/"',
        '\n  <APPLICATION_VVX410 APP_FILE_PATH_VVX410="fw/5.9.8/sip.ld" CONFIG_FILES_VVX410="[PHONE_MODEL].cfg"/>\n' +
          '  <!-- a comment between children -->\n' +
          '  <APPLICATION_VVX1500 BOOTBLOCK_FILE_PATH_VVX1500="bootblock.ld"/>\n',
      ),
      MASTER,
      true,
    ],
    ['master: wrong root', '<polycomConfig reg.1.address="1001"/>', MASTER, false],
    ['master: unknown attribute on APPLICATION (CONFIG_FILE)', app('CONFIG_FILE="site.cfg"'), MASTER, false],
    ['master: unknown child element', app('', '<reg reg.1.address="1001"/>'), MASTER, false],
    ['master: unknown model child', app('', '<APPLICATION_VVX999 APP_FILE_PATH_VVX999="sip.ld"/>'), MASTER, false],
    ['master: attribute of another model', app('', '<APPLICATION_VVX410 APP_FILE_PATH_VVX401="sip.ld"/>'), MASTER, false],
    ['master: bootblock on a model without one', app('', '<APPLICATION_VVX410 BOOTBLOCK_FILE_PATH_VVX410="b.ld"/>'), MASTER, false],
    ['master: model child twice', app('', '<APPLICATION_VVX410/><APPLICATION_VVX410/>'), MASTER, false],
    ['master: text inside APPLICATION', app('', 'CONFIG_FILES=site.cfg'), MASTER, false],
    ['master: empty list entry', app('CONFIG_FILES="a.cfg,,b.cfg"'), MASTER, false],
    ['master: trailing comma', app('CONFIG_FILES="a.cfg, b.cfg,"'), MASTER, false],
    ['master: unrendered template', app('APP_FILE_PATH="{{firmware.path}}"'), MASTER, false],
    ['master: whitespace inside a path', app('APP_FILE_PATH="fw/sip .ld"'), MASTER, false],
    ['master: path longer than 255', app(`APP_FILE_PATH="${LONG_PATH}"`), MASTER, false],
    ['master: list longer than 2047', app(`CONFIG_FILES="${Array(300).fill('abcdef.cfg').join(',')}"`), MASTER, false],
    // polycomConfig.xsd
    [
      'polycomConfig: nested groups, dotted names, model suffixes',
      '<polycomConfig>\n  <reg reg.1.address="1001@pbx.example.com">\n    <reg.1 reg.1.lineKeys="2" reg.1.lineKeys.VVX101="1"/>\n  </reg>\n</polycomConfig>\n',
      POLYCOM_CONFIG,
      true,
    ],
    ['polycomConfig: text directly under the root', '<polycomConfig>\n  reg.1.address="1001"\n</polycomConfig>', POLYCOM_CONFIG, false],
    ['polycomConfig: wrong root', '<APPLICATION APP_FILE_PATH="sip.ld"/>', POLYCOM_CONFIG, false],
    ['polycomConfig extended: typed parameter ok', '<polycomConfig><reg><reg.1 reg.1.lineKeys="4"/></reg></polycomConfig>', EXTENDED, true],
    ['polycomConfig extended: typed parameter wrong, nested', '<polycomConfig><reg><reg.1 reg.1.lineKeys="four"/></reg></polycomConfig>', EXTENDED, false],
    // not well-formed
    ['malformed: unclosed element', '<polycomConfig>\n  <reg reg.1.address="1001">\n</polycomConfig>\n', POLYCOM_CONFIG, false],
    ['malformed: unquoted attribute value', '<APPLICATION CONFIG_FILES=site.cfg/>', MASTER, false],
    ['malformed: duplicate attribute', '<APPLICATION CONFIG_FILES="a.cfg" CONFIG_FILES="b.cfg"/>', MASTER, false],
    ['malformed: unbound namespace prefix', '<polycomConfig xsi:type="x"/>', POLYCOM_CONFIG, false],
    ['malformed: empty document', '', MASTER, false],
  ];
  // Every master case also against the advisory schema. Where the phone is more lenient than
  // deskset's layout, master.xsd accepts what the advisory schema refuses (a warning).
  const advisoryOnly = new Set([
    'master: unknown attribute on APPLICATION (CONFIG_FILE)',
    'master: unknown child element',
    'master: unknown model child',
    'master: model child twice',
  ]);
  const withAdvisory = raw.flatMap(([name, xml, schema, expected]): typeof raw =>
    schema !== MASTER || name.startsWith('malformed')
      ? [[name, xml, schema, expected]]
      : [
          [name, xml, MASTER, advisoryOnly.has(name) ? true : expected],
          [`${name} (advisory)`, xml, ADVISORY, expected],
        ],
  );
  withAdvisory.push(['master: ICONS_DIRECTORY (UCS 5.9)', app('ICONS_DIRECTORY="icons"'), MASTER, true], ['master: ICONS_DIRECTORY (UCS 5.9) (advisory)', app('ICONS_DIRECTORY="icons"'), ADVISORY, true]);
  withAdvisory.push(['master: <deviceConfig> wrapper', '<deviceConfig><APPLICATION APP_FILE_PATH="sip.ld"/></deviceConfig>', MASTER, true]);
  withAdvisory.push(['master: <deviceConfig> wrapper still types APPLICATION', '<deviceConfig><APPLICATION APP_FILE_PATH="a b.ld"/></deviceConfig>', MASTER, false]);
  return withAdvisory.map(([name, xml, schema, expected]) => ({ name, xml, schema, expected, wellFormed: isWellFormed(xml) }));
}

const ownCorpus = corpusCases(OWN_CORPUS, 'fixture/');
const corpus = HAVE_REALWORLD ? corpusCases(REALWORLD) : [];
const handMade = handMadeCases();
const all = [...ownCorpus, ...corpus, ...handMade];

interface Verdicts {
  libxml2: XsdResult;
  xerces: XsdResult;
}

describe('libxml2 and Xerces agree', () => {
  const verdicts = new Map<Case, Verdicts>();
  let libxml2: XsdEngine;
  let xerces: XsdEngine;

  beforeAll(async () => {
    libxml2 = createXsdEngine('libxml2');
    xerces = createXsdEngine('xerces');
    await Promise.all(
      all.map(async (c) => {
        const [a, b] = await Promise.all([libxml2.validate(c.xml, c.schema), xerces.validate(c.xml, c.schema)]);
        verdicts.set(c, { libxml2: a, xerces: b });
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await libxml2?.close?.();
    await xerces?.close?.();
    rmSync(EXT_DIR, { recursive: true, force: true });
  });

  it('covers our own corpus: Poly and Cisco, well-formed and malformed, each schema both ways', () => {
    expect(ownCorpus.filter((c) => c.name.startsWith('fixture/polycom/')).length).toBeGreaterThanOrEqual(5);
    expect(ownCorpus.filter((c) => c.name.startsWith('fixture/cisco/')).length).toBe(2);
    expect(ownCorpus.filter((c) => !c.wellFormed).length).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(!HAVE_REALWORLD)(`covers the real corpus: Poly and Cisco, well-formed and malformed${NEEDS_REALWORLD}`, () => {
    expect(corpus.filter((c) => c.name.startsWith('polycom/')).length).toBeGreaterThanOrEqual(17);
    expect(corpus.filter((c) => c.name.startsWith('cisco/')).length).toBeGreaterThanOrEqual(14);
    expect(corpus.filter((c) => !c.wellFormed).length).toBeGreaterThanOrEqual(4);
  });

  it.each(all.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const v = verdicts.get(c)!;
    const detail = `libxml2: ${JSON.stringify(v.libxml2.issues)}\nxerces: ${JSON.stringify(v.xerces.issues)}`;
    expect(v.libxml2.valid, detail).toBe(v.xerces.valid);
    if (c.expected !== undefined) expect(v.libxml2.valid, detail).toBe(c.expected);
    // What an independent parser calls malformed, no validator may accept.
    if (!c.wellFormed) expect(v.libxml2.valid, detail).toBe(false);
    for (const r of [v.libxml2, v.xerces]) expect(r.valid || r.issues.length > 0).toBe(true);
  });

  it('is not vacuous: both verdicts occur, in each corpus and in the hand-made set', () => {
    for (const set of [ownCorpus, ...(HAVE_REALWORLD ? [corpus] : []), handMade]) {
      const seen = new Set(set.map((c) => verdicts.get(c)!.xerces.valid));
      expect([...seen].sort()).toEqual([false, true]);
    }
  });
});
