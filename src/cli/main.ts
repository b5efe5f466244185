// `deskset <command> …`: a dispatcher only. Each command lives in its own module and
// returns an exit code: 0 clean, 1 problems found, 2 usage or environment errors. What the
// commands and their options are is one table (commands.ts); help is generated from it.

import { VERSION } from '../io/package-root.js';
import { suggest } from '../check/suggest.js';
import { COMMANDS, type CommandSpec } from './commands.js';
import { commandHelp, usage } from './help.js';

/** `--help` or `-h` anywhere before a `--` asks for help, whatever else is on the line. */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
    // `deskset help check` is `deskset check --help`.
    const topic = rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? rest[0] : undefined;
    process.stdout.write(topic ? commandHelp(topic, COMMANDS[topic as keyof typeof COMMANDS] as CommandSpec) : usage(VERSION));
    return 0;
  }
  if (!cmd) {
    // Not asked for: a mistake, so the usage goes with the error stream.
    process.stderr.write(usage(VERSION));
    return 2;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, cmd)) {
    const close = suggest(cmd, Object.keys(COMMANDS));
    process.stderr.write(`deskset: unknown command "${cmd}"${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}; deskset --help lists the commands\n`);
    return 2;
  }
  const spec = COMMANDS[cmd as keyof typeof COMMANDS] as CommandSpec;
  if (asksForHelp(rest)) {
    process.stdout.write(commandHelp(cmd, spec));
    return 0;
  }
  return (await spec.load())(rest);
}
