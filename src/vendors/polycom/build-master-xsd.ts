// Regenerates the per-model sections of the Poly master config schemas:
//   schemas/polycom/master-types.xsd     one complexType per model (its attributes)
//   schemas/polycom/master.xsd           a global element per model (what the phone accepts)
//   schemas/polycom/master.advisory.xsd  a local element per model inside xs:all (deskset's layout)
//
// Why a generator: the Poly master config carries one optional child per phone model,
// `<APPLICATION_VVX410 APP_FILE_PATH_VVX410="..." CONFIG_FILES_VVX410="..."/>`. XSD 1.0
// cannot pattern-match element or attribute names, so every model needs its own element
// declaration with its own attribute names. ~45 near-identical blocks are easy to get
// subtly wrong by hand (a VVX401 block declaring APP_FILE_PATH_VVX410 would silently let
// the typo through); generating them keeps the list in one place: master-models.ts.
//
// The rest of each .xsd is hand-written; only the text between its BEGIN/END markers is
// replaced. The .xsd files are committed, so neither the server nor CI runs this script.
//
//   npx tsc -p tsconfig.json && node dist/vendors/polycom/build-master-xsd.js          # rewrite
//   npx tsc -p tsconfig.json && node dist/vendors/polycom/build-master-xsd.js --check  # exit 1 if stale

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BOOTBLOCK_MODELS, POLY_MODELS } from './master-models.js';

export { BOOTBLOCK_MODELS, POLY_MODELS };

/** A generated section of one schema file: its markers and its lines for one model. */
interface Section {
  file: string;
  begin: string;
  end: string;
  model(model: string, indent: string): string[];
}

const typeName = (model: string) => `Application_${model}`;

export const SECTIONS: readonly Section[] = [
  {
    file: 'master-types.xsd',
    begin: '<!-- BEGIN GENERATED per-model types (src/vendors/polycom/build-master-xsd.ts) -->',
    end: '<!-- END GENERATED per-model types -->',
    model: (m, i) => [
      `${i}<xs:complexType name="${typeName(m)}">`,
      `${i}  <xs:attribute name="APP_FILE_PATH_${m}" type="FilePath"/>`,
      `${i}  <xs:attribute name="CONFIG_FILES_${m}" type="FileList"/>`,
      ...(BOOTBLOCK_MODELS.has(m) ? [`${i}  <xs:attribute name="BOOTBLOCK_FILE_PATH_${m}" type="FilePath"/>`] : []),
      `${i}</xs:complexType>`,
    ],
  },
  {
    // Global: the lax wildcard under APPLICATION type-checks a child it has a declaration for.
    file: 'master.xsd',
    begin: '<!-- BEGIN GENERATED per-model elements (src/vendors/polycom/build-master-xsd.ts) -->',
    end: '<!-- END GENERATED per-model elements -->',
    model: (m, i) => [`${i}<xs:element name="APPLICATION_${m}" type="${typeName(m)}"/>`],
  },
  {
    file: 'master.advisory.xsd',
    begin: '<!-- BEGIN GENERATED per-model children (src/vendors/polycom/build-master-xsd.ts) -->',
    end: '<!-- END GENERATED per-model children -->',
    model: (m, i) => [`${i}<xs:element name="APPLICATION_${m}" type="${typeName(m)}" minOccurs="0"/>`],
  },
];

/** A section's generated lines, one block per model, at `indent`. */
export function renderSection(section: Section, indent: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const model of POLY_MODELS) {
    if (seen.has(model)) throw new Error(`duplicate model ${model}`); // xs:all forbids duplicate names
    seen.add(model);
    out.push(...section.model(model, indent));
  }
  return out.join('\n');
}

/** `xsd` with the text between the section's markers replaced by the current generated lines. */
export function applySection(section: Section, xsd: string): string {
  const begin = xsd.indexOf(section.begin);
  const end = xsd.indexOf(section.end);
  if (begin < 0 || end < begin) throw new Error(`${section.file}: generated-section markers not found`);
  // Keep the marker lines' own indentation for the generated lines.
  const lineStart = xsd.lastIndexOf('\n', begin) + 1;
  const indent = xsd.slice(lineStart, begin);
  const head = xsd.slice(0, begin + section.begin.length);
  const tail = xsd.slice(end);
  return `${head}\n${renderSection(section, indent)}\n${indent}${tail}`;
}

/** schemas/polycom/, found from this file whether it runs from src/ or dist/. */
export const POLY_SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schemas/polycom');

function main(argv: string[]): number {
  let stale = 0;
  for (const section of SECTIONS) {
    const file = path.join(POLY_SCHEMA_DIR, section.file);
    const current = readFileSync(file, 'utf8');
    const next = applySection(section, current);
    if (argv.includes('--check')) {
      if (next !== current) {
        console.error(`${file} is out of date; run node dist/vendors/polycom/build-master-xsd.js`);
        stale++;
      }
      continue;
    }
    if (next !== current) writeFileSync(file, next);
    console.log(`${file}: ${POLY_MODELS.length} models${next === current ? ' (unchanged)' : ''}`);
  }
  return stale ? 1 : 0;
}

// Run only when executed directly, so tests can import the functions above.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
