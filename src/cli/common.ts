// Small shared pieces of the CLI: argument parsing and diagnostic printing.

import { parseArgs } from 'node:util';
import { formatDiagnostic, groupByLocation, type Diagnostic } from '../check/diagnostics.js';
import { redactSecrets } from '../config/secret-refs.js';
import { parserOptions, type Options } from './commands.js';
import { suggest } from '../check/suggest.js';

export class UsageError extends Error {}

/** Parse a command's arguments by its entry in the command table (commands.ts). */
export function parse<const O extends Options>(args: string[], spec: { options: O }) {
  try {
    return parseArgs({ args, options: parserOptions(spec.options) as O, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(unknownOption(err.message, Object.keys(spec.options)));
    throw new UsageError(err.message);
  }
}

/** "unknown option --jsn (did you mean --json?)" rather than Node's advice about `--`. */
function unknownOption(nodeMessage: string, known: string[]): string {
  const typed = /Unknown option '([^']*)'/.exec(nodeMessage)?.[1];
  if (!typed) return nodeMessage;
  const close = typed.startsWith('--') ? suggest(typed.slice(2), [...known, 'help']) : [];
  return `unknown option ${typed}${close.length ? ` (did you mean ${close.map((n) => `--${n}`).join(' or ')}?)` : ''}; --help lists the options`;
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

