// `deskset <command> …`: a dispatcher only. Each command lives in its own module and
// returns an exit code: 0 clean, 1 problems found, 2 usage or environment errors.

import { VERSION } from '../io/package-root.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'serve [ROOT] [--host H] [--port N] [--dev-tls] [--no-watch] [--workers N] [--warm-up N]  serve a config root to phones', load: async () => (await import('./serve.js')).run },
  render: { summary: 'render [ROOT] --out DIR [--device MAC]  write every file every phone would get', load: async () => (await import('./render.js')).run },
  explain: { summary: 'explain [ROOT] MAC [KEY] [--json]      every effective value and the file:line that set it', load: async () => (await import('./explain.js')).run },
  check: { summary: 'check [ROOT] [--json]                  load, render and validate everything; exit 1 on errors', load: async () => (await import('./check.js')).run },
  firmware: { summary: 'firmware [ROOT] [--json]               firmware on disk per model, and which device gets which version, and why', load: async () => (await import('./firmware.js')).run },
  token: { summary: 'token issue|revoke|list [ROOT] [MAC]    per-device URL tokens (/p/<token>/…): the token is printed once', load: async () => (await import('./token.js')).run },
  'hash-password': { summary: 'hash-password                          read a password on stdin, print its scrypt hash for auth.password', load: async () => (await import('./hash-password.js')).run },
  lint: { summary: 'lint FILE… [--json]                     lint Avaya scripts (46xxsettings, upgrade scripts)', load: async () => (await import('./lint.js')).run },
};

export function usage(): string {
  return [`deskset ${VERSION}: a provisioning server for desk phones`, '', 'usage: deskset <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  deskset ${c.summary}`), ''].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`deskset: unknown command "${cmd}"\n\n${usage()}`);
    return 2;
  }
  return (await c.load())(rest);
}
