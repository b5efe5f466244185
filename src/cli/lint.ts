// `deskset lint FILE… [--catalog FILE]… [--resources DIR] [--json]`: lint Avaya phone
// scripts as phones would read them. Works on any file: something that is not an Avaya
// script just gets a NO_STATEMENTS note. Exit 0 clean (warnings allowed), 1 when there
// are errors, 2 for usage errors or files that cannot be read.

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../check/diagnostics.js';
import { decodeScript, lintAvayaScript, loadCatalogText } from '../vendors/avaya/script/index.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

/** Where output goes; tests pass their own to capture it. */
export interface LintIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: LintIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

// dist/cli/lint.js (and src/cli/lint.ts under vitest) → two levels up is the package root.
const SHIPPED_CATALOG = new URL('../../schemas/avaya/parameters.txt', import.meta.url);

export function run(args: string[], io: LintIo = processIo): Promise<number> {
  return guarded('lint', async () => {
    const { values, positionals } = parse(args, COMMANDS.lint);
    if (!positionals.length) throw new UsageError('usage: deskset lint FILE… [--catalog FILE]… [--resources DIR] [--json]');

    const problems: Diagnostic[] = [];
    const catalog = loadCatalogs(values.catalog ?? [], problems);
    const resourceExists = values.resources ? inDirectory(values.resources) : undefined;
    let unreadable = false;
    for (const file of positionals) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        unreadable = true;
        problems.push({ code: 'READ_ERROR', severity: 'error', message: `cannot read ${file}: ${(e as Error).message}` });
        continue;
      }
      problems.push(...lintAvayaScript(decodeScript(bytes), { file, catalog, resourceExists }));
    }

    const count = (s: Diagnostic['severity']) => problems.filter((d) => d.severity === s).length;
    const summary = { files: positionals.length, errors: count('error'), warnings: count('warning'), infos: count('info') };
    if (values.json) {
      io.stdout(`${JSON.stringify({ ...summary, diagnostics: problems }, null, 2)}\n`);
    } else {
      for (const d of problems) io.stdout(`${formatDiagnostic(d)}\n`);
      io.stdout(`${summary.files} file(s) linted: ${summary.errors} error(s), ${summary.warnings} warning(s), ${summary.infos} info\n`);
    }
    if (unreadable) return 2;
    return hasErrors(problems) ? 1 : 0;
  });
}

/** The shipped catalog plus any given with --catalog; undefined (no UNKNOWN_PARAMETER checks) only if none could be read. */
function loadCatalogs(extra: string[], problems: Diagnostic[]): Set<string> | undefined {
  let names: Set<string> | undefined;
  const add = (text: string) => {
    names ??= new Set();
    for (const n of loadCatalogText(text)) names.add(n);
  };
  try {
    add(readFileSync(SHIPPED_CATALOG, 'utf8'));
  } catch (e) {
    // A broken install should not stop linting; it only loses the unknown-parameter check.
    problems.push({ code: 'CATALOG_UNAVAILABLE', severity: 'warning', message: `shipped parameter catalog not readable, unknown parameters not checked: ${(e as Error).message}` });
  }
  for (const file of extra) {
    try {
      add(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read catalog ${file}: ${(e as Error).message}`);
    }
  }
  return names;
}

function inDirectory(dir: string): (name: string) => boolean {
  return (name) => {
    try {
      return statSync(path.resolve(dir, name)).isFile();
    } catch {
      return false;
    }
  };
}
