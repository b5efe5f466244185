// Needs a JDK (java, and javac if the package's helper class has to be compiled). CI
// installs default-jdk-headless; a missing Java must fail this file, never skip it,
// because the agreement test is only meaningful when Xerces actually ran.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createXsdEngine } from '../src/validate/xsd/index.js';
import { parseXercesMessages } from '../src/validate/xsd/xerces.js';
import { runXsdEngineContract } from './xsd-engines.case.js';

describe('Java', () => {
  it('is installed (java -version)', () => {
    expect(() => execFileSync('java', ['-version'], { stdio: 'pipe' })).not.toThrow();
  });
});

runXsdEngineContract(() => createXsdEngine('xerces'));

describe('parseXercesMessages', () => {
  it('splits messages that arrived glued in one stderr chunk and maps positions', () => {
    const glued =
      "[error] cvc-complex-type.3.2.2: Attribute 'x' is not allowed to appear in element 'a'. (3:17)" +
      '[fatal] Premature end of file. (-1:-1)' +
      '[fatal] Premature end of file.';
    expect(parseXercesMessages([glued])).toEqual([
      {
        line: 3,
        col: 17,
        message: "cvc-complex-type.3.2.2: Attribute 'x' is not allowed to appear in element 'a'.",
        located: true,
      },
      { line: 0, col: 0, message: 'Premature end of file.', located: true },
      { line: 0, col: 0, message: 'Premature end of file.', located: false },
    ]);
  });
});
