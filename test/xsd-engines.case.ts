// The behaviour every XsdEngine must have, written once and run against each engine by
// test/xsd-<engine>.test.ts. Not named *.test.ts so vitest does not run it on its own.
//
// Cases are few and each earns its place: the Xerces engine starts a JVM per validation
// (~200 ms), so everything that can share a call does.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XsdSchemaError, type XsdEngine, type XsdResult } from '../src/validate/xsd/index.js';

// A main schema whose attribute type lives in an xs:include'd sibling: every verdict on
// <phone> below therefore also proves that includes resolve relative to the schema file.
const TYPES_XSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="Mac">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9a-f]{12}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
`;
const MAIN_XSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:include schemaLocation="types.xsd"/>
  <xs:element name="phones">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="phone" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType>
            <xs:attribute name="mac" type="Mac" use="required"/>
            <xs:attribute name="label" type="xs:string"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
`;
// A second, unrelated schema, to show the cache is per path and not "the last schema".
const OTHER_XSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="other"><xs:complexType/></xs:element>
</xs:schema>
`;
// Well-formed XML but not a schema that compiles (unknown type).
const BROKEN_XSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="x" type="NoSuchType"/>
</xs:schema>
`;

const VALID = `<?xml version="1.0" encoding="UTF-8"?>
<phones>
  <phone mac="0004f2a1b2c3" label="Réception"/>
</phones>
`;
// The bad value sits on line 3, on a one-line element, so both engines' notion of
// "the line of the error" (libxml2: the element's line; Xerces: end of the start tag)
// is the same line.
const BAD_VALUE = `<?xml version="1.0"?>
<phones>
  <phone mac="00:04:F2:A1:B2:C3"/>
</phones>
`;
const UNKNOWN_ATTRIBUTE = `<phones>
  <phone mac="0004f2a1b2c3" colour="red"/>
</phones>
`;
const WRONG_ROOT = `<?xml version="1.0"?>
<polycomConfig/>
`;
// Not well-formed: <phone> is closed by </phones> on line 4.
const MALFORMED = `<?xml version="1.0"?>
<phones>
  <phone mac="0004f2a1b2c3">
</phones>
`;

function expectWellShapedIssues(result: XsdResult): void {
  for (const issue of result.issues) {
    expect(Number.isInteger(issue.line) && issue.line >= 0).toBe(true);
    expect(Number.isInteger(issue.col) && issue.col >= 0).toBe(true);
    expect(issue.message.length).toBeGreaterThan(0);
    expect(issue.message).toBe(issue.message.trim());
  }
}

function expectInvalid(result: XsdResult): void {
  expect(result.valid).toBe(false);
  expect(result.issues.length).toBeGreaterThan(0);
  expectWellShapedIssues(result);
}

export function runXsdEngineContract(makeEngine: () => XsdEngine): void {
  describe('XsdEngine contract', () => {
    let engine: XsdEngine;
    let dir: string;
    let main: string;
    let other: string;

    beforeAll(() => {
      engine = makeEngine();
      dir = mkdtempSync(path.join(os.tmpdir(), 'deskset-xsd-contract-'));
      writeFileSync(path.join(dir, 'types.xsd'), TYPES_XSD);
      writeFileSync(path.join(dir, 'main.xsd'), MAIN_XSD);
      writeFileSync(path.join(dir, 'other.xsd'), OTHER_XSD);
      writeFileSync(path.join(dir, 'broken.xsd'), BROKEN_XSD);
      main = path.join(dir, 'main.xsd');
      other = path.join(dir, 'other.xsd');
    });

    afterAll(async () => {
      await engine?.close?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('has a name', () => {
      expect(engine.name).toMatch(/^\w+$/);
    });

    it('accepts a valid document (types from an xs:include-d sibling, non-ASCII text)', async () => {
      expect(await engine.validate(VALID, main)).toEqual({ valid: true, issues: [] });
    });

    it('rejects an attribute value the schema forbids, on the right line', async () => {
      const result = await engine.validate(BAD_VALUE, main);
      expectInvalid(result);
      expect(result.issues.some((i) => i.line === 3)).toBe(true);
      expect(result.issues.map((i) => i.message).join('\n')).toContain('00:04:F2:A1:B2:C3');
    });

    it('rejects an attribute the schema does not declare', async () => {
      const result = await engine.validate(UNKNOWN_ATTRIBUTE, main);
      expectInvalid(result);
      expect(result.issues.map((i) => i.message).join('\n')).toContain('colour');
    });

    it('rejects a document whose root the schema does not declare', async () => {
      const result = await engine.validate(WRONG_ROOT, main);
      expectInvalid(result);
      expect(result.issues[0]!.line).toBe(2);
      expect(result.issues.map((i) => i.message).join('\n')).toContain('polycomConfig');
    });

    it('reports malformed XML as invalid, with the line of the error', async () => {
      const result = await engine.validate(MALFORMED, main);
      expectInvalid(result);
      expect(result.issues.some((i) => i.line === 4)).toBe(true);
    });

    it('reuses compiled schemas per path: interleaved and concurrent use, relative paths', async () => {
      // main, other, main again (by a relative path that resolves to the same file),
      // all in flight at once: each verdict must come from the right schema.
      const relativeMain = path.relative(process.cwd(), main);
      const results = await Promise.all([
        engine.validate(VALID, main),
        engine.validate('<other/>', other),
        engine.validate(VALID, relativeMain),
        engine.validate(VALID, other),
      ]);
      expect(results.map((r) => r.valid)).toEqual([true, true, true, false]);
    });

    it('rejects with XsdSchemaError when the schema is missing or does not compile', async () => {
      const missing = path.join(dir, 'missing.xsd');
      await expect(engine.validate(VALID, missing)).rejects.toBeInstanceOf(XsdSchemaError);
      const err = await engine.validate(VALID, path.join(dir, 'broken.xsd')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(XsdSchemaError);
      expect((err as XsdSchemaError).message).toContain('NoSuchType');
    });
  });
}
