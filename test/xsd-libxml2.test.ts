import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  builtinSchemaPath,
  createXsdEngine,
  Libxml2XsdEngine,
  validateSync,
} from '../src/validate/xsd/index.js';
import { applySection, POLY_MODELS, POLY_SCHEMA_DIR, SECTIONS } from '../src/vendors/polycom/build-master-xsd.js';
import { runXsdEngineContract } from './xsd-engines.case.js';

runXsdEngineContract(() => createXsdEngine('libxml2'));

describe('libxml2 engine specifics', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskset-xsd-libxml2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const schema = path.join(dir, 's.xsd');
  const accepts = (root: string) =>
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="${root}"/></xs:schema>`;

  it('compiles a schema once, serves later validations from the cache, recompiles after invalidate()', () => {
    writeFileSync(schema, accepts('a'));
    const engine = new Libxml2XsdEngine();
    for (let i = 0; i < 50; i++) expect(engine.validateSync('<a/>', schema).valid).toBe(true);
    expect(engine.compileCount).toBe(1);
    expect(engine.cachedSchemas).toEqual([schema]);

    // The cache is not a file watcher: a changed schema is only seen after invalidate().
    writeFileSync(schema, accepts('b'));
    expect(engine.validateSync('<b/>', schema).valid).toBe(false);
    engine.invalidate(schema);
    expect(engine.validateSync('<b/>', schema).valid).toBe(true);
    expect(engine.compileCount).toBe(2);

    engine.close();
    expect(engine.cachedSchemas).toEqual([]);
    // Still usable after close(): it recompiles lazily.
    expect(engine.validateSync('<b/>', schema).valid).toBe(true);
    engine.close();
  });

  it('does not cache a schema that failed to load, so fixing the file is enough', () => {
    const engine = new Libxml2XsdEngine();
    const later = path.join(dir, 'later.xsd');
    expect(() => engine.validateSync('<a/>', later)).toThrow(/cannot load XML schema/);
    writeFileSync(later, accepts('a'));
    expect(engine.validateSync('<a/>', later).valid).toBe(true);
    engine.close();
  });

  it('exports a synchronous validateSync on a shared engine', () => {
    const result = validateSync('<APPLICATION APP_FILE_PATH="sip.ld"/>', builtinSchemaPath('polycom/master.xsd'));
    expect(result).toEqual({ valid: true, issues: [] });
  });

  it('gives libxml2 file access for schemas only, not for documents (no XXE)', () => {
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'TOP-SECRET');
    writeFileSync(schema, accepts('a'));
    const engine = new Libxml2XsdEngine();
    const xxe = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY s SYSTEM "file://${secret}">]><a>&s;</a>`;
    const result = engine.validateSync(xxe, schema);
    expect(JSON.stringify(result)).not.toContain('TOP-SECRET');
    engine.close();
  });

  it('decodes the string as UTF-8 whatever the XML declaration claims', () => {
    writeFileSync(
      schema,
      `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a">
         <xs:complexType><xs:attribute name="v"><xs:simpleType><xs:restriction base="xs:string">
           <xs:length value="1"/></xs:restriction></xs:simpleType></xs:attribute></xs:complexType>
       </xs:element></xs:schema>`,
    );
    const engine = new Libxml2XsdEngine();
    // Read as ISO-8859-1 the two UTF-8 bytes of "é" would be two characters.
    expect(engine.validateSync('<?xml version="1.0" encoding="ISO-8859-1"?><a v="é"/>', schema).valid).toBe(true);
    engine.close();
  });

  it('reports well-formedness errors with line and column', () => {
    const result = validateSync('<APPLICATION>\n  <x>\n</APPLICATION>\n', builtinSchemaPath('polycom/master.xsd'));
    expect(result.valid).toBe(false);
    expect(result.issues[0]).toMatchObject({ line: 3 });
    expect(result.issues[0]!.col).toBeGreaterThan(0);
  });
});

describe('schemas/polycom/master.xsd and master.advisory.xsd', () => {
  it('have their generated per-model sections in sync with src/vendors/polycom/build-master-xsd.ts', () => {
    for (const section of SECTIONS) {
      const committed = readFileSync(path.join(POLY_SCHEMA_DIR, section.file), 'utf8');
      expect(applySection(section, committed), section.file).toBe(committed);
    }
  });

  it('accept every listed model child; only the advisory schema rejects a model it does not list', () => {
    const children = POLY_MODELS.map(
      (m) => `<APPLICATION_${m} APP_FILE_PATH_${m}="sip.ld" CONFIG_FILES_${m}="a.cfg, [PHONE_MAC_ADDRESS].cfg"/>`,
    ).join('\n');
    for (const schema of ['polycom/master.xsd', 'polycom/master.advisory.xsd']) {
      expect(validateSync(`<APPLICATION APP_FILE_PATH="sip.ld">\n${children}\n</APPLICATION>`, builtinSchemaPath(schema))).toEqual({ valid: true, issues: [] });
    }
    expect(validateSync('<APPLICATION><APPLICATION_VVX999/></APPLICATION>', builtinSchemaPath('polycom/master.xsd')).valid).toBe(true);
    expect(validateSync('<APPLICATION><APPLICATION_VVX999/></APPLICATION>', builtinSchemaPath('polycom/master.advisory.xsd')).valid).toBe(false);
  });

  it('type-check a listed model child in both: a space in its path is an error', () => {
    for (const schema of ['polycom/master.xsd', 'polycom/master.advisory.xsd']) {
      expect(validateSync('<APPLICATION><APPLICATION_VVX410 APP_FILE_PATH_VVX410="a b.ld"/></APPLICATION>', builtinSchemaPath(schema)).valid, schema).toBe(false);
    }
  });
});
