// Hoisting finds exactly the structure planted in a generated folder of 1,000 Yealink phones
// (bench/gen-import.js): the site-wide values in global, T54W's own firmware in its model file,
// the 30 phones with another dial plan in one group, the one phone on another SIP server in its
// own file, and every other phone file holding only its line. Then every phone renders back equal.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planImport, verifyRoundTrip } from '../src/import/index.js';
// @ts-expect-error plain JS shared with the bench
import { PLANTED, writeImportFolder } from '../bench/gen-import.js';
import { readFolder, shippedCatalog, shippedTemplates } from './helpers/import.js';

interface Generated {
  phones: string;
  otherServer: string;
  group: string[];
  macs: Array<{ mac: string; model: string }>;
}

describe('import: hoisting over 1,000 generated phones', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'deskset-hoist-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const gen = writeImportFolder(tmp, 1000) as Generated;
  const files = readFolder(gen.phones, 'phones');
  const started = performance.now();
  const plan = planImport({ files, catalog: shippedCatalog(), models: gen.macs.map((m) => ({ ...m, from: 'models.csv' })) });
  const planned = performance.now() - started;
  const y = (key: string) => ['yealink', 'params', key].join('\u0000');

  it('global holds the site-wide values', () => {
    const g = plan.layers.global;
    expect(g.get(['sip', 'server'].join('\u0000'))?.value).toBe(PLANTED.server);
    expect(g.get(y('dialplan.digitmap.string'))?.value).toBe(PLANTED.dialPlan);
    expect(g.get(y('static.firmware.url'))?.value).toBe(PLANTED.firmware);
    expect(g.get(['time', 'ntp'].join('\u0000'))?.value).toEqual(['pool.ntp.org']);
  });

  it('only T54W has its own firmware, in its model file', () => {
    const withFirmware = [...plan.layers.models].filter(([, doc]) => doc.has(y('static.firmware.url'))).map(([m, doc]) => [m, doc.get(y('static.firmware.url'))!.value]);
    expect(withFirmware).toEqual([['T54W', PLANTED.t54wFirmware]]);
  });

  it('the 30 phones with another dial plan become exactly one group', () => {
    expect([...plan.layers.groups.keys()]).toEqual(['import-group-1']);
    const g = plan.layers.groups.get('import-group-1')!;
    expect([...g.doc.values()].map((e) => [e.path.join('.'), e.value])).toEqual([['yealink.params.dialplan.digitmap.string', PLANTED.otherDialPlan]]);
    const members = [...plan.layers.devices.values()].filter((d) => d.groups.includes('import-group-1')).map((d) => d.subject.mac).sort();
    expect(members).toEqual(gen.group);
  });

  it('the phone on another server keeps it in its own file; every other phone file holds only its line', () => {
    const extra = [...plan.layers.devices.values()].filter((d) => [...d.doc.keys()].some((k) => k !== 'lines'));
    expect(extra.map((d) => [d.subject.mac, [...d.doc.values()].filter((e) => e.path[0] !== 'lines').map((e) => `${e.path.join('.')}=${String(e.value)}`)])).toEqual([
      [gen.otherServer, [`sip.server=${PLANTED.otherServer}`]],
    ]);
    expect(plan.layers.devices.size).toBe(1000);
  });

  it('compresses: far fewer lines out than in, and every phone renders back equal', () => {
    expect(plan.linesOut).toBeLessThan(plan.linesIn * 0.7);
    const v = verifyRoundTrip({ root: plan.files, shipped: shippedTemplates(), version: 'test', subjects: plan.subjects, env: new Map(plan.secrets.map((s) => [s.name, s.value])) });
    expect(v.results.filter((r) => r.status !== 'equal').map((r) => `${r.subject.id}: ${r.notes.join('; ')}`)).toEqual([]);
    expect(v.results).toHaveLength(1000);
    expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    console.log(`import of 1,000 phones: planned in ${Math.round(planned)} ms; lines ${plan.linesIn} -> ${plan.linesOut}`);
  });

  it('a stricter --min-share keeps values on the devices', () => {
    const strict = planImport({ files, catalog: shippedCatalog(), models: gen.macs.map((m) => ({ ...m, from: 'models.csv' })), minShare: 1 });
    expect(strict.layers.global.has(y('dialplan.digitmap.string'))).toBe(false);
    expect(strict.layers.global.has(y('features.intercom.allow'))).toBe(true);
  });
});
