// The one table of deskset's commands and their options. The parser (common.ts `parse`), the
// per-command `--help` and the top-level usage are all read from it, so help cannot drift
// from what the parser accepts.

import type { ParseArgsConfig } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown without brackets in the synopsis; the command itself refuses to run without it. */
  required?: boolean;
  /** The placeholder shown after a string option: `--port N`. */
  value?: string;
  help: string;
}

export type Options = Record<string, OptionSpec>;

export interface CommandSpec<O extends Options = Options> {
  /** The positional part of the synopsis, e.g. `[ROOT] MAC [KEY]`; one entry per form. */
  args: readonly string[];
  /** One line for the top-level usage. */
  summary: string;
  /** A paragraph or two for `deskset <command> --help`. */
  description: string;
  options: O;
  examples: readonly string[];
  exits: Readonly<Record<number, string>>;
  load: () => Promise<(args: string[]) => Promise<number>>;
}

// Every command answers these; `main` handles them before loading the command.
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' };
const QUIET = { type: 'boolean', short: 'q', help: 'no progress line on a terminal (it is never drawn on a pipe)' } as const satisfies OptionSpec;
const JSON_REPORT = { type: 'boolean', help: 'print the report as one JSON document on stdout' } as const satisfies OptionSpec;
const USAGE_EXIT = 'usage error: unknown option, missing or bad argument';

/** Keeps each command's option names as literal types, so `parse` returns typed values. */
function command<const O extends Options>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

export const COMMANDS = {
  serve: command({
    args: ['[ROOT]'],
    summary: 'serve a config root to phones',
    description:
      'Loads ROOT, renders and validates every file, and refuses to start when anything is wrong. Then serves phones, watches ROOT and reloads on change (a bad edit keeps the last good config).\n' +
      'SIGHUP reads the whole root again (systemctl reload). Under systemd (Type=notify) it sends READY=1 once it listens.\n' +
      'stdout carries the access log (one JSON line per request); the banner and warnings go to stderr.',
    options: {
      host: { type: 'string', value: 'H', help: 'listen on this address (overrides listen: in deskset.yaml; default 0.0.0.0)' },
      port: { type: 'string', value: 'N', help: 'HTTP port (default 8080; 0 picks a free one)' },
      'https-port': { type: 'string', value: 'N', help: 'HTTPS port (overrides tls.port; default 8443)' },
      'dev-tls': { type: 'boolean', help: 'serve HTTPS with a self-signed certificate made once in the state directory' },
      'no-watch': { type: 'boolean', help: 'do not reload when ROOT changes' },
      workers: { type: 'string', value: 'N', help: 'N processes sharing the port (1-64, default 1)' },
      'warm-up': { type: 'string', value: 'N', help: 'answer N requests of its own before listening (default 1500; 0 skips)' },
      'admin-port': { type: 'string', value: 'N', help: 'admin API port (overrides admin.listen; 0 picks a free one)' },
      'no-admin': { type: 'boolean', help: 'do not start the admin API listener' },
    },
    examples: ['deskset serve samples --port 8080', 'deskset serve /etc/deskset --dev-tls --workers 2'],
    exits: { 0: 'stopped by SIGINT or SIGTERM', 1: 'not started: ROOT has errors (printed on stderr)', 2: USAGE_EXIT },
    load: async () => (await import('./serve.js')).run,
  }),
  render: command({
    args: ['[ROOT]'],
    summary: 'write every file every phone would get',
    description:
      'Writes every file of every device, plus the shared and per-model files, under DIR at their request paths: the bytes the server would send. Secrets are written as •••• unless --show-secrets is given.\n' +
      'stdout: what was written (a summary line, or with --json every file with its size and SHA-256); findings and progress go to stderr.',
    options: {
      out: { type: 'string', value: 'DIR', required: true, help: 'write the files under DIR' },
      device: { type: 'string', value: 'MAC', help: 'only this device’s files' },
      'show-secrets': { type: 'boolean', help: 'write real secrets (files for deployment; handle with care)' },
      json: { type: 'boolean', help: 'print the files written (path, bytes, sha256) as JSON on stdout' },
      quiet: QUIET,
    },
    examples: ['deskset render samples --out /tmp/preview', 'deskset render samples --out /tmp/preview --json | jq -r \'.files[].path\''],
    exits: { 0: 'every file rendered', 1: 'ROOT has errors or a file could not be rendered', 2: USAGE_EXIT },
    load: async () => (await import('./render.js')).run,
  }),
  explain: command({
    args: ['[ROOT] MAC [KEY]'],
    summary: 'every effective value and the file:line that set it',
    description:
      'Prints the device’s model, site, groups, files and layers, then every effective value with the layer and file:line:col that set it and the values it overrode. KEY narrows to one key or subtree, a dotted path relative to settings (or to the profile root, e.g. firmware); keys may contain dots.',
    options: { json: JSON_REPORT },
    examples: ['deskset explain samples 64167f0a8800 sip.server', 'deskset explain samples 64167f0a8800 --json > explain.json'],
    exits: { 0: 'explained', 1: 'ROOT has errors, no such device, or the device has no such key', 2: USAGE_EXIT },
    load: async () => (await import('./explain.js')).run,
  }),
  check: command({
    args: ['[ROOT]'],
    summary: 'load, render and validate everything',
    description:
      'Loads everything, renders every file of every device and validates each (XSD, Avaya script lint, Yealink grammar), checks firmware policies, certificates, credentials and media files. The findings are the result: they go to stdout, as file:line:col lines and a summary, or as JSON.',
    options: {
      'strict-xsd': { type: 'boolean', help: 'validate XML with Java Xerces (needs a JRE) instead of libxml2' },
      json: JSON_REPORT,
      quiet: QUIET,
    },
    examples: ['deskset check samples', 'deskset check samples --json | jq \'.diagnostics[] | select(.severity == "error")\''],
    exits: { 0: 'no errors (warnings allowed)', 1: 'errors found', 2: USAGE_EXIT },
    load: async () => (await import('./check.js')).run,
  }),
  firmware: command({
    args: ['[ROOT]'],
    summary: 'firmware on disk per model, and which device gets which version, and why',
    description: 'For every model in use or on disk: the versions on disk, and for each device the version it gets (or "no upgrade"), the policy that decided and the file:line:col that set it.',
    options: { json: JSON_REPORT },
    examples: ['deskset firmware samples', 'deskset firmware samples --json | jq \'.[].devices[] | select(.problem)\''],
    exits: { 0: 'every policy can be met', 1: 'ROOT has errors or a policy cannot be met', 2: USAGE_EXIT },
    load: async () => (await import('./firmware.js')).run,
  }),
  token: command({
    args: ['issue [ROOT] MAC', 'revoke [ROOT] MAC', 'list [ROOT]'],
    summary: 'per-device URL tokens (/p/<token>/…): the token is printed once',
    description: 'issue prints a new token and its path prefix /p/<token>/ once, on stdout; only its SHA-256 is stored (<state dir>/tokens.json). Re-issuing revokes the old token.',
    options: { json: JSON_REPORT },
    examples: ['deskset token issue samples 64167f0a8800', 'deskset token list samples --json'],
    exits: { 0: 'done', 1: 'ROOT unreadable, or revoke: the device has no token', 2: USAGE_EXIT },
    load: async () => (await import('./token.js')).run,
  }),
  'hash-password': command({
    args: [''],
    summary: 'print the scrypt hash of a password for auth.password',
    description:
      'At a terminal, asks for the password twice without echoing it. On a pipe, reads one line from stdin. Never from the command line, where ps and shell history would keep it. The hash goes to stdout, the prompts to stderr.',
    options: {},
    examples: ['deskset hash-password', "printf '%s\\n' \"$PASSWORD\" | deskset hash-password"],
    exits: { 0: 'hash printed', 1: 'the two passwords typed differ', 2: 'usage error or empty password', 130: 'interrupted at the prompt (Ctrl-C, or Ctrl-D on an empty line)' },
    load: async () => (await import('./hash-password.js')).run,
  }),
  lint: command({
    args: ['FILE…'],
    summary: 'lint Avaya scripts (46xxsettings, upgrade scripts)',
    description: 'Lints any file as an Avaya phone reads it (CRLF/LF/CR, no final newline and Windows-1252 bytes are all read correctly). The findings are the result: they go to stdout.',
    options: {
      catalog: { type: 'string', multiple: true, value: 'FILE', help: 'add parameter names to the shipped catalog (repeatable)' },
      resources: { type: 'string', value: 'DIR', help: 'check that files the script names exist in DIR' },
      json: JSON_REPORT,
    },
    examples: ['deskset lint 46xxsettings.txt', 'deskset lint J100Supgrade.txt --resources resources --json'],
    exits: { 0: 'no errors (warnings allowed)', 1: 'errors found', 2: 'usage error, or a file cannot be read' },
    load: async () => (await import('./lint.js')).run,
  }),
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** The options given to node:util parseArgs: the table's, plus --help. */
export function parserOptions(options: Options): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(options)) out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  return out;
}
