// Real Poly files are accepted: every master config and every <polycomConfig> file a phone
// accepts validates against schemas/polycom/master.xsd / polycomConfig.xsd (errors), while
// master.advisory.xsd (deskset's own, stricter layout) only warns. Covered twice: by fixtures
// written for this project under test/fixtures/polycom/, and by the real vendor files in
// ../shared/realworld/polycom/ when that corpus is beside the checkout.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinSchemaPath, validateSync } from '../src/validate/xsd/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures/polycom');
const REALWORLD = path.resolve(HERE, '../../shared/realworld/polycom');

const MASTER = builtinSchemaPath('polycom/master.xsd');
const ADVISORY = builtinSchemaPath('polycom/master.advisory.xsd');
const POLYCOM_CONFIG = builtinSchemaPath('polycom/polycomConfig.xsd');

/** First element name, skipping the BOM, XML declaration and comments. */
function rootName(xml: string): string | undefined {
  return /<([A-Za-z_][\w.:-]*)/.exec(xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, ''))?.[1];
}

const valid = (xml: string, schema: string) => validateSync(xml, schema);

/** What each kind of file must do: master configs pass master.xsd, parameter files polycomConfig.xsd. */
function expectAccepted(file: string): void {
  const xml = readFileSync(file, 'utf8');
  const root = rootName(xml);
  if (root === 'APPLICATION' || root === 'deviceConfig') expect(valid(xml, MASTER), file).toEqual({ valid: true, issues: [] });
  else if (root === 'polycomConfig') expect(valid(xml, POLYCOM_CONFIG), file).toEqual({ valid: true, issues: [] });
  else throw new Error(`${file}: root <${root}> is neither a master config nor a polycomConfig file; list it with a reason`);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

// Files in a Poly corpus that are neither master configs nor polycomConfig files, and why.
const NOT_MASTER_OR_POLYCOMCONFIG: Record<string, string> = {
  'sip-1x-application.cfg': 'SIP 1.x/2.x application file (root <sip>), a format deskset never renders',
  'wolrah__polycom_spip_ssip_configs/sip.cfg': 'SIP 1.x/2.x application file (root <sip>), a format deskset never renders',
  'wolrah__polycom_spip_ssip_configs/phone1.cfg': 'SIP 1.x/2.x per-phone file (root <phone1>), a format deskset never renders',
};

describe('fixtures written for deskset (test/fixtures/polycom/)', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.cfg'));

  it.each(files.filter((f) => !(f in NOT_MASTER_OR_POLYCOMCONFIG)))('%s is accepted', (f) => {
    expectAccepted(path.join(FIXTURES, f));
  });

  it.each(Object.keys(NOT_MASTER_OR_POLYCOMCONFIG).filter((f) => files.includes(f)))('%s is neither, and neither schema accepts it', (f) => {
    const xml = readFileSync(path.join(FIXTURES, f), 'utf8');
    expect(valid(xml, MASTER).valid).toBe(false);
    expect(valid(xml, POLYCOM_CONFIG).valid).toBe(false);
  });

  it('UC Software 5.9 layout with ICONS_DIRECTORY: valid, no advisory finding either', () => {
    const xml = readFileSync(path.join(FIXTURES, 'ucs59-master.cfg'), 'utf8');
    expect(xml).toContain('ICONS_DIRECTORY=""');
    expect(valid(xml, MASTER)).toEqual({ valid: true, issues: [] });
    expect(valid(xml, ADVISORY)).toEqual({ valid: true, issues: [] });
  });

  // Where the advisory schema is stricter than the phone on purpose: valid, with the advisory finding.
  it.each([
    ['future-attribute-master.cfg', /attribute 'WALLPAPER_DIRECTORY'.*not allowed/],
    ['deviceconfig-wrapper-master.cfg', /deviceConfig/],
    ['suffixed-children-master.cfg', /Software/],
  ] as Array<[string, RegExp]>)('%s: valid for the phone, an advisory finding for deskset', (f, finding) => {
    const xml = readFileSync(path.join(FIXTURES, f), 'utf8');
    expect(valid(xml, MASTER).valid).toBe(true);
    const adv = valid(xml, ADVISORY);
    expect(adv.valid).toBe(false);
    expect(adv.issues.map((i) => i.message).join('\n')).toMatch(finding);
  });

  it('what the phone would misread stays an error in master.xsd', () => {
    for (const xml of [
      '<APPLICATION APP_FILE_PATH="fw dir/sip.ld"/>', // a space: the phone asks for "fw"
      '<APPLICATION CONFIG_FILES="a.cfg,,b.cfg"/>', // an empty entry: an optional file rendered as ""
      '<APPLICATION APP_FILE_PATH="{{firmware.path}}"/>', // unrendered template syntax
      '<APPLICATION><APPLICATION_VVX410 APP_FILE_PATH_VVX410="a b.ld"/></APPLICATION>', // same in a model child
      '<deviceConfig><APPLICATION CONFIG_FILES="a.cfg,"/></deviceConfig>', // and inside the wrapper
    ]) {
      expect(valid(xml, MASTER).valid, xml).toBe(false);
    }
  });
});

if (!existsSync(REALWORLD)) console.warn(`poly-real-configs: ${REALWORLD} is absent; the real-file half is skipped (the fixtures cover the same behaviour)`);

describe.skipIf(!existsSync(REALWORLD))('the real Poly files in ../shared/realworld/polycom/', () => {
  const files = existsSync(REALWORLD) ? walk(REALWORLD).sort() : [];
  const rel = (f: string) => path.relative(REALWORLD, f);

  it('the corpus is there: at least 7 master configs and 7 polycomConfig files', () => {
    const roots = files.map((f) => rootName(readFileSync(f, 'utf8')));
    expect(roots.filter((r) => r === 'APPLICATION' || r === 'deviceConfig').length).toBeGreaterThanOrEqual(7);
    expect(roots.filter((r) => r === 'polycomConfig').length).toBeGreaterThanOrEqual(7);
  });

  it.each(files.map(rel).filter((f) => !(f in NOT_MASTER_OR_POLYCOMCONFIG)))('%s is accepted', (f) => {
    expectAccepted(path.join(REALWORLD, f));
  });

  it.each(Object.keys(NOT_MASTER_OR_POLYCOMCONFIG).filter((f) => files.map(rel).includes(f)))('%s is not a master or polycomConfig file (listed with its reason)', (f) => {
    expect(NOT_MASTER_OR_POLYCOMCONFIG[f]).toMatch(/root <\w+>/);
    expect(['APPLICATION', 'deviceConfig', 'polycomConfig']).not.toContain(rootName(readFileSync(path.join(REALWORLD, f), 'utf8')));
  });
});
