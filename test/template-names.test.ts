// Template checks over the Handlebars AST: helpers that do not exist (errors) and names that
// nothing supplies (warnings), following #each / #with scopes, ../ and @root as the runtime does.

import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { settingsShape } from '../src/config/profile-schema.js';
import { createTemplateEnv } from '../src/render/render.js';
import { addTreeNames, lintTemplate, namesOfShape, namesOfValue, unionNames, type Names } from '../src/render/template-names.js';
import { parseYamlTree } from '../src/config/yaml-tree.js';

const HELPERS = new Set(Object.keys(createTemplateEnv().helpers));

const PROFILE = parseYamlTree(
  `sip:\n  server: pbx\nlines:\n  - extension: "1001"\n    display_name: A\ncustom:\n  floor: 3\npolycom:\n  params:\n    up.backlight: "1"\n`,
  'global.yaml',
).root!;

function root(): Names {
  const r = namesOfValue({ device: { mac: 'x', model: 'VVX' }, model: { name: 'VVX' }, vendor: { transports: { udp: 'UDP' } }, models: [{ name: 'a', model4: 'J179' }], deskset: { version: '1' } });
  const written: Names = { keys: new Map() };
  addTreeNames(written, PROFILE);
  r.keys.set('settings', unionNames(namesOfShape(settingsShape), written));
  return r;
}

function lint(text: string, partials: Record<string, string> = {}) {
  return lintTemplate({ ast: Handlebars.parse(text), helpers: HELPERS, root: root(), partial: (n) => (n in partials ? Handlebars.parse(partials[n]!) : undefined) });
}
const unknown = (text: string, partials?: Record<string, string>) =>
  lint(text, partials)
    .filter((f) => f.kind === 'unknown-name')
    .map((f) => `${f.partial ? `${f.partial}:` : ''}${f.pos.line}:${f.pos.col} ${/reads "([^"]+)"/.exec(f.message)![1]}`);

describe('unknown names: found, at their line and column', () => {
  it.each([
    ['top level', 'a\n  {{settings.sip.domian}}', ['2:5 settings.sip.domian']],
    ['inside #with settings', '{{#with settings}}\n{{sip.domian}}\n{{/with}}', ['2:3 sip.domian']],
    ['inside #each lines: the element', '{{#with settings}}{{#each lines}}{{extention}}{{/each}}{{/with}}', ['1:36 extention']],
    ['../ out of #each back to settings', '{{#with settings}}{{#each lines}}{{../sip.servr}}{{/each}}{{/with}}', ['1:36 ../sip.servr']],
    ['../../ to the root, through an #if (which enters no context)', '{{#with settings}}{{#each lines}}{{#if extension}}{{../../vendor.transprts}}{{/if}}{{/each}}{{/with}}', ['1:53 ../../vendor.transprts']],
    ['@root from deep inside', '{{#with settings}}{{#each lines}}{{@root.devise.mac}}{{/each}}{{/with}}', ['1:36 @root.devise.mac']],
    ['a helper argument', '{{xml settings.sip.domian}}', ['1:7 settings.sip.domian']],
    ['a subexpression argument and a hash value', '{{concat (default settings.custm.x "") x=settings.sipp}}', ['1:19 settings.custm.x', '1:42 settings.sipp']],
    ['an #if condition', '{{#if settings.languag}}x{{/if}}', ['1:7 settings.languag']],
    ['#each over the models list', '{{#each models}}{{model5}}{{/each}}', ['1:19 model5']],
    ['the else branch of #with runs on the outer context', '{{#with settings}}{{else}}{{sip.server}}{{/with}}', ['1:29 sip.server']],
    ['inside a partial: reported in the partial', '{{#with settings}}{{> p}}{{/with}}', ['p:1:3 sip.domian']],
  ] as Array<[string, string, string[]]>)('%s', (_why, text, expected) => {
    expect(unknown(text, { p: '{{sip.domian}}' })).toEqual(expected);
  });

  it('suggests the closest existing name', () => {
    expect(lint('{{#with settings}}{{sip.domian}}{{/with}}')[0]!.message).toContain('(did you mean "sip.domain"?)');
  });
});

describe('names that exist are not reported', () => {
  it.each([
    ['vocabulary keys no profile sets', '{{settings.sip.domain}}{{settings.language}}{{settings.admin_password}}{{settings.time.zone}}'],
    ['keys a profile writes in free-form and vendor maps', '{{settings.custom.floor}}{{settings.polycom.params.[up.backlight]}}'],
    ['list index and length', '{{settings.lines.[0].extension}}{{settings.lines.length}}{{settings.time.ntp.[1]}}'],
    ['data variables', '{{#each settings.lines}}{{@index}}{{@first}}{{@key}}{{/each}}'],
    ['this and helpers used bare', '{{this}}{{.}}{{#each models}}{{this.name}}{{/each}}'],
    ['a block over a helper result: unknown context, not guessed', '{{#with (dst settings.time.zone)}}{{start.month}}{{saveHours}}{{/with}}{{#with (first settings.lines)}}{{anything}}{{/with}}'],
    ['lookup with a dynamic key', '{{lookup vendor.transports settings.sip.transport}}'],
    ['#params keeps the context', '{{#params "xml"}}{{set "a" settings.sip.server}}{{/params}}'],
    ['the same partial twice is walked, not looped', '{{> p}}{{> p}}'],
  ] as Array<[string, string]>)('%s', (_why, text) => {
    expect(lint(text, { p: '{{#if device}}{{device.mac}}{{/if}}' })).toEqual([]);
  });
});

describe('missing helpers', () => {
  it.each([
    ['mustache with arguments', 'a\nb {{jion a ","}}', '2:5', 'join'],
    ['subexpression', '{{set "x" (concta "a" "b")}}', '1:12', 'concat'],
    ['block with arguments', '{{#iff a}}x{{/iff}}', '1:4', 'if'],
  ] as Array<[string, string, string, string]>)('%s', (_why, text, at, hint) => {
    const f = lint(text).filter((x) => x.kind === 'missing-helper');
    expect(f.map((x) => `${x.pos.line}:${x.pos.col}`)).toEqual([at]);
    expect(f[0]!.message).toMatch(new RegExp(`^Missing helper: "\\w+" \\(did you mean "${hint}"`));
  });

  it('without a root, only helpers are checked', () => {
    expect(lintTemplate({ ast: Handlebars.parse('{{settings.nope}}{{nope 1}}'), helpers: HELPERS }).map((f) => f.kind)).toEqual(['missing-helper']);
  });
});
