// Whatever package.json declares is used: a runtime dependency is imported by the shipped code
// (src/, bin/), a dev dependency by the tests, benchmarks or build (its @types/ by the package
// it types). A dependency nobody imports costs every install and every audit for nothing.

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/cli.js';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|js|mjs)$/.test(name) ? [p] : [];
  });
}

/** Every bare package name imported (static or dynamic) in the given folders. */
function importedPackages(dirs: string[]): Set<string> {
  const found = new Set<string>();
  for (const file of dirs.flatMap((d) => sources(path.join(REPO, d)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"./][^'"]*)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return found;
}

/** `@types/koa` types `koa`, `@types/foo__bar` types `@foo/bar`. */
const typed = (name: string) => name.replace(/^@types\//, '').replace(/^(.*)__(.*)$/, '@$1/$2');

describe('declared dependencies are used', () => {
  const shipped = importedPackages(['src', 'bin']);
  const everything = new Set([...shipped, ...importedPackages(['test', 'bench'])]);
  // Run by name from package.json scripts rather than imported; @types/node types the node: builtins.
  const tools = new Set(['typescript', 'vitest', '@types/node']);

  it.each(Object.keys(pkg.dependencies))('%s is imported by src/ or bin/', (name) => {
    expect(shipped.has(typed(name)), `${name} is in dependencies but nothing shipped imports it`).toBe(true);
  });

  it.each(Object.keys(pkg.devDependencies))('%s is used by the tests, benchmarks or build', (name) => {
    expect(tools.has(name) || everything.has(typed(name)), `${name} is in devDependencies but nothing imports it`).toBe(true);
  });

  it('a package only the tests import is not a runtime dependency', () => {
    const testOnly = Object.keys(pkg.dependencies).filter((n) => !shipped.has(typed(n)) && everything.has(typed(n)));
    expect(testOnly).toEqual([]);
  });
});
