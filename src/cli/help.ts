// Help text, generated from the command table (commands.ts): the top-level usage lists every
// command with every option, and `deskset <command> --help` adds what each does, an example
// and the exit codes.

import { COMMANDS, HELP_OPTION, type CommandSpec, type OptionSpec } from './commands.js';

const WIDTH = 92;

function flag(name: string, o: OptionSpec): string {
  const long = `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
  return o.short ? `-${o.short}|${long}` : long;
}

/** `deskset render [ROOT] --out DIR [--device MAC] …`, one line per form of the command. */
export function synopsis(name: string, spec: CommandSpec): string[] {
  const options = Object.entries(spec.options).map(([n, o]) => (o.required ? flag(n, o) : `[${flag(n, o)}${o.multiple ? '…' : ''}]`));
  return spec.args.map((a) => ['deskset', spoken(name), a, ...options].filter(Boolean).join(' '));
}

/** How a command is typed: `devices-adopt` is `devices adopt`, `codes-issue` is `codes issue` (main.ts accepts both). */
export function spoken(name: string): string {
  return name.replace(/^(devices|codes)-(\w+)$/, '$1 $2');
}

function wrap(text: string, indent: string): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > WIDTH) {
        out.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(indent + line);
  }
  return out;
}

export function usage(version: string): string {
  const lines = [`deskset ${version}: a provisioning server for desk phones`, '', 'usage: deskset <command> [options]    (deskset <command> --help: what it does, examples, exit codes)', ''];
  for (const [name, spec] of Object.entries(COMMANDS) as Array<[string, CommandSpec]>) {
    lines.push(...synopsis(name, spec).map((s) => `  ${s}`), `      ${spec.summary}`);
  }
  lines.push('  deskset -V|--version', '      print the version', '  deskset -h|--help', '      this list', '');
  lines.push('Exit codes: 0 clean, 1 problems found, 2 usage or environment errors.', '');
  return lines.join('\n');
}

export function commandHelp(name: string, spec: CommandSpec): string {
  const options = [...Object.entries(spec.options), ['help', HELP_OPTION] as const].map(([n, o]) => {
    const left = `${o.short ? `-${o.short}, ` : '    '}--${n}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return { left, help: o.help };
  });
  const pad = Math.max(...options.map((o) => o.left.length)) + 2;
  return [
    ...synopsis(name, spec).map((s, i) => `${i === 0 ? 'usage: ' : '       '}${s}`),
    '',
    ...wrap(spec.description, ''),
    '',
    'options:',
    ...options.flatMap((o) => {
      const [first = '', ...rest] = wrap(o.help, ' '.repeat(2 + pad));
      return [`  ${o.left.padEnd(pad)}${first.trimStart()}`, ...rest];
    }),
    '',
    'examples:',
    ...spec.examples.map((e) => `  ${e}`),
    '',
    'exit codes:',
    ...Object.entries(spec.exits).map(([code, why]) => `  ${code}  ${why}`),
    '',
  ].join('\n');
}
