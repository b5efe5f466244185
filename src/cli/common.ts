// Small shared pieces of the CLI: argument parsing and diagnostic printing.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatDiagnostic, groupByLocation, type Diagnostic } from '../core/diagnostics.js';
import { redactSecrets } from '../core/secret-refs.js';

export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Print diagnostics errors first, one line per source location (a finding many devices share
 * prints once, "affects N devices"); return how many errors and warnings were printed.
 */
export function printDiagnostics(list: readonly Diagnostic[], out: NodeJS.WritableStream = process.stderr, secrets?: ReadonlySet<string>): { errors: number; warnings: number } {
  const rank = { error: 0, warning: 1, info: 2 } as const;
  list = groupByLocation(list);
  const sorted = [...list].sort((a, b) => rank[a.severity] - rank[b.severity]);
  // Messages can quote values (an XSD error quotes the attribute): mask every known secret.
  for (const d of sorted) out.write(`${secrets ? redactSecrets(formatDiagnostic(d), secrets) : formatDiagnostic(d)}\n`);
  return { errors: list.filter((d) => d.severity === 'error').length, warnings: list.filter((d) => d.severity === 'warning').length };
}

/** Run a command body, turning usage errors into exit code 2 with a message. */
export async function guarded(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`deskset ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

