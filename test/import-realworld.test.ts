// deskset import over every Avaya, Poly and Yealink folder in ../shared/realworld (files nobody
// here wrote): nothing crashes, every file is read or reported with file:line, and every phone
// (or probe of a model, group or "any phone") renders back equal. Skipped with one line when
// ../shared/realworld is absent; test/import-fixtures.test.ts covers the same behaviours.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planImport, verifyRoundTrip } from '../src/import/index.js';
import { readFolder, shippedCatalog, shippedTemplates } from './helpers/import.js';
import { HAVE_REALWORLD, NEEDS_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('import-realworld.test.ts');

const folders = HAVE_REALWORLD
  ? ['avaya', 'polycom', 'yealink'].flatMap((v) => readdirSync(path.join(REALWORLD, v)).sort().map((d) => `${v}/${d}`))
  : [];

describe.skipIf(!HAVE_REALWORLD)(`import: real vendor folders${NEEDS_REALWORLD}`, () => {
  const catalog = shippedCatalog();
  const shipped = shippedTemplates();

  it.each(folders)('%s: every file read or reported, every phone renders back equal', (folder) => {
    const files = readFolder(path.join(REALWORLD, folder), folder);
    const plan = planImport({ files, catalog });
    const named = new Set([...plan.read, ...plan.findings.map((f) => f.loc?.file), ...plan.dropped.map((d) => d.loc.file)]);
    expect(files.map((f) => f.name).filter((n) => !named.has(n))).toEqual([]);
    // Every finding about a file names its line.
    for (const f of plan.findings) if (f.loc) expect(f.loc.line).toBeGreaterThan(0);
    const root = new Map(plan.files);
    for (const c of plan.copies) if (c.path.endsWith('release.yaml')) root.set(c.path, new TextDecoder().decode(c.bytes));
    const v = verifyRoundTrip({ root, shipped, version: 'test', subjects: plan.subjects, env: new Map(plan.secrets.map((s) => [s.name, s.value])) });
    expect(v.results.filter((r) => r.status === 'differs').map((r) => `${r.subject.id}: ${r.notes.join('; ')}`)).toEqual([]);
    // The only core errors allowed are the ones import asks the admin to fix: a device's model.
    expect(v.diagnostics.filter((d) => d.severity === 'error' && !/missing required key "model"/.test(d.message)).map((d) => d.message)).toEqual([]);
    // Secret values never reach the YAML.
    const yaml = [...plan.files.values()].join('\n');
    for (const s of plan.secrets) if (s.value.length >= 4) expect(yaml).not.toContain(s.value);
  });

  it('the real folders give phones and probes to compare, not just skips', () => {
    let equal = 0;
    for (const folder of folders) {
      const plan = planImport({ files: readFolder(path.join(REALWORLD, folder), folder), catalog });
      const v = verifyRoundTrip({ root: plan.files, shipped, version: 'test', subjects: plan.subjects, env: new Map(plan.secrets.map((s) => [s.name, s.value])) });
      equal += v.results.filter((r) => r.status === 'equal' && r.compared > 0).length;
    }
    expect(equal).toBeGreaterThanOrEqual(15);
  });
});
