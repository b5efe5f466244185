// ../shared/realworld: real vendor files beside the repository (CI has them; a fresh clone
// does not). Tests that read it run only when it is there and say so in one line when it is
// not; every behaviour they cover also has a fixture of our own under test/fixtures/.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.js';

export const REALWORLD = path.resolve(REPO, '..', 'shared', 'realworld');
export const HAVE_REALWORLD = existsSync(REALWORLD);
export const FIXTURES = path.join(REPO, 'test', 'fixtures');

/** The suffix of a suite's title that says why it was skipped. */
export const NEEDS_REALWORLD = HAVE_REALWORLD ? '' : ' (skipped: ../shared/realworld is absent)';

/** Call once per test file that has real-file suites: one visible line when they are skipped. */
export function warnIfNoRealworld(file: string): void {
  if (!HAVE_REALWORLD) console.warn(`${file}: ${REALWORLD} is absent: its real-file tests are skipped; the fixtures in test/fixtures/ still run`);
}
