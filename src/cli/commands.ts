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
      'check-threads': { type: 'string', value: 'N', help: 'threads that check large reloads (0-16; 0 checks on the serving thread; default: cores - 1, at most 4)' },
      'tftp-port': { type: 'string', value: 'N', help: 'also serve read-only TFTP on this UDP port (overrides tftp.listen.port; off by default; docs/tftp.md)' },
      'admin-port': { type: 'string', value: 'N', help: 'admin API port (overrides admin.listen; 0 picks a free one)' },
      'no-admin': { type: 'boolean', help: 'do not start the admin API listener' },
    },
    examples: ['deskset serve samples --port 8080', 'deskset serve /etc/deskset --dev-tls --workers 2', 'deskset serve /etc/deskset --tftp-port 69'],
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
    options: {
      json: JSON_REPORT,
      ip: { type: 'string', value: 'ADDR', help: 'explain as for a request from ADDR: which site its subnet selects, and why (an explicit site: wins)' },
    },
    examples: ['deskset explain samples 64167f0a8800 sip.server', 'deskset explain samples 805ec0123456 --ip 10.20.4.7', 'deskset explain samples 64167f0a8800 --json > explain.json'],
    exits: { 0: 'explained', 1: 'ROOT has errors, no such device, or the device has no such key', 2: USAGE_EXIT },
    load: async () => (await import('./explain.js')).run,
  }),
  identify: command({
    args: ['[ROOT]'],
    summary: 'what the server makes of a request: vendor, model, MAC, device, route, answer',
    description:
      'Runs the server’s own request pipeline on a User-Agent and/or a path, without answering: the vendor, model and firmware the User-Agent names, the MAC and where it was read (path, URL token, User-Agent), the device profile (or why none applies), its site, the vendor file the path names, and which handler would answer (rendered file, the phone’s upload, firmware, resource, refused or 404) and why. Access control is not evaluated: it depends on credentials.',
    options: {
      'user-agent': { type: 'string', value: 'UA', help: 'the phone’s User-Agent header' },
      path: { type: 'string', value: 'PATH', help: 'the requested path, e.g. /46xxsettings.txt' },
      ip: { type: 'string', value: 'ADDR', help: 'the phone’s address (default 127.0.0.1)' },
      json: JSON_REPORT,
    },
    examples: [
      "deskset identify samples --user-agent 'AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a)' --path /46xxsettings.txt",
      'deskset identify samples --path /64167f0a8800.cfg --json',
    ],
    exits: { 0: 'identified (whatever the answer would be)', 1: 'ROOT has errors', 2: USAGE_EXIT },
    load: async () => (await import('./identify.js')).run,
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
  diff: command({
    args: ['[ROOT] [REV_A] [REV_B]', '[ROOT] REV_A..REV_B'],
    summary: 'which phones change between two git revisions of a root, and how',
    description:
      'Renders ROOT at two git revisions (default: HEAD against the working tree) from copies made with git archive, never touching the checkout, and prints the devices whose files change, grouped by the profile lines that caused it (file:line), with unified diffs of their files (secrets masked; a changed secret shows as •••• (changed)), added and removed files, and firmware directive changes. Only devices a changed file can affect are rendered.\n' +
      'ROOT is taken as ROOT only when it is a directory: `deskset diff HEAD~1` compares the current directory. Errors of either revision go to stderr (into the comment with --markdown, into the document with --json).',
    options: {
      json: { type: 'boolean', help: 'print the report as one JSON document on stdout' },
      markdown: { type: 'boolean', help: 'print a pull-request comment: collapsed sections per device group, cut to --max-chars' },
      stat: { type: 'boolean', help: 'counts only: devices and files per group' },
      'max-chars': { type: 'string', value: 'N', help: 'with --markdown, the comment size cap (default 60000; GitHub refuses over 65536)' },
      check: { type: 'boolean', help: 'also validate the files that change, in both revisions, as check does (XSD, script lint, grammar)' },
      quiet: QUIET,
    },
    examples: ['deskset diff samples', 'deskset diff . origin/main..HEAD --markdown > comment.md', 'deskset diff samples HEAD~3 HEAD --stat'],
    exits: { 0: 'no phone’s files change', 1: 'some phone’s files change', 2: 'usage error, unknown revision, or either revision has errors' },
    load: async () => (await import('./diff.js')).run,
  }),
  bundle: command({
    args: ['[ROOT]'],
    summary: 'pack the files for a static server, Avaya DES or IP Office, reproducibly',
    description:
      '--for static: the tree `render --out` writes, plus deskset-manifest.json (each file\u2019s path, size and SHA-256), as zip or tar.gz. --for des: a zip DES accepts as a profile\u2019s configuration file (Avaya\u2019s 46xxsettings.txt, J100Supgrade.txt, per-device <mac>.txt and resources; only the extensions DES allows). --for ipoffice: CustomPhoneFiles.tar with a 46xxspecials.txt built from the profiles and the images it names.\n' +
      'Every problem (an extension DES rejects, names that differ only by case, a size over the limit) is reported with the file named before FILE is written; FILE is written whole or not at all. The same root gives the same bytes. Secrets are •••• unless --show-secrets.',
    options: {
      for: { type: 'string', value: 'static|des|ipoffice', required: true, help: 'who the bundle is for' },
      format: { type: 'string', value: 'zip|tar.gz|tar', help: 'static: zip (default) or tar.gz; des: zip; ipoffice: tar' },
      out: { type: 'string', value: 'FILE', required: true, help: 'write the bundle to FILE' },
      site: { type: 'string', value: 'NAME', help: 'ipoffice: the site whose phones IP Office serves (its layer applies)' },
      'max-bytes': { type: 'string', value: 'N', help: 'des, ipoffice: the size limit (default 10 MiB: IP Office\u2019s documented limit; the DES guide states none)' },
      'show-secrets': { type: 'boolean', help: 'pack real secrets (a deployable bundle; handle with care)' },
      json: { type: 'boolean', help: 'print what was written (path, files, bytes, sha256) as JSON on stdout' },
    },
    examples: ['deskset bundle samples --for static --format tar.gz --out mirror.tar.gz --show-secrets', 'deskset bundle samples --for des --out des.zip --show-secrets', 'deskset bundle samples --for ipoffice --site nyc --out CustomPhoneFiles.tar --show-secrets'],
    exits: { 0: 'bundle written', 1: 'ROOT has errors, or the bundle would break a rule of its target (nothing written)', 2: USAGE_EXIT },
    load: async () => (await import('./bundle.js')).run,
  }),
  token: command({
    args: ['issue [ROOT] MAC', 'revoke [ROOT] MAC', 'list [ROOT]'],
    summary: 'per-device URL tokens (/p/<token>/…): the token is printed once',
    description: 'issue prints a new token and its path prefix /p/<token>/ once, on stdout; only its SHA-256 is stored, in the state store (<state dir>/tokens.json with state: off). Re-issuing revokes the old token.',
    options: { json: JSON_REPORT },
    examples: ['deskset token issue samples 64167f0a8800', 'deskset token list samples --json'],
    exits: { 0: 'done', 1: 'ROOT unreadable, or revoke: the device has no token', 2: USAGE_EXIT },
    load: async () => (await import('./token.js')).run,
  }),
  // ---- admin API (src/admin/) ----
  admin: command({
    args: ['token issue [ROOT]', 'token list [ROOT]', 'token revoke [ROOT] ID'],
    summary: 'API tokens for the admin API (CI jobs, scripts): the token is printed once',
    description:
      'token issue prints a new Bearer token for the admin API (docs/admin-api.md) once, on stdout; the state store keeps only its SHA-256. --role viewer reads; admin may also import devices, read the audit log and unmask secrets. token revoke ID stops a token at once. Every change is written to the audit log.',
    options: {
      role: { type: 'string', value: 'ROLE', help: 'admin or viewer (issue; required)' },
      label: { type: 'string', value: 'TEXT', help: 'a note on what the token is for, shown by list (issue)' },
      json: JSON_REPORT,
    },
    examples: ['deskset admin token issue samples --role viewer --label ci', 'deskset admin token list samples', 'deskset admin token revoke samples 3f9a0c1b2d4e'],
    exits: { 0: 'done', 1: 'ROOT unreadable or has no state store, or revoke: no such token', 2: USAGE_EXIT },
    load: async () => (await import('./admin.js')).run,
  }),
  // ---- end of admin API ----
  // ── the state store and the inventory (docs/state.md)
  devices: command({
    args: ['[ROOT]'],
    summary: 'the phones that asked (the inventory), joined with the root',
    description:
      'Lists every device the inventory has seen and every configured one, with its provision result judged against the root as it is now: ok (fetched every file of its boot sequence, current), stale (a file changed since, or not all fetched yet), failing (errors or 401/403), never (configured, never seen), unknown (seen, not configured).\n' +
      'With enrollment on, a STATE column gives each phone’s enrollment lifecycle (code-issued, enrolled, adopted, released, expired, locked) and placeholders no phone holds yet are listed as (NAME) rows (placeholder, code-issued, expired, released).\n' +
      '--where filters on any column (mac, vendor, model, firmware, hardware, ip, site, result, first_seen, last_seen, state) with = != ^= (starts with) $= (ends with) *= (contains), joined with and/or, parentheses allowed; comparisons ignore case. --stale, --unknown and --never each add their devices; --where narrows.',
    options: {
      where: { type: 'string', value: 'EXPR', help: "only devices matching EXPR, e.g. 'model=VVX450 and firmware^=5.9'" },
      stale: { type: 'string', value: 'DURATION', help: 'configured devices not up to date: stale, never seen, or not seen for DURATION (90s, 30m, 12h, 3d, 2w)' },
      unknown: { type: 'boolean', help: 'devices seen but not configured' },
      never: { type: 'boolean', help: 'configured devices never seen' },
      json: { type: 'boolean', help: 'print the devices as JSON (with each file fetched)' },
      csv: { type: 'boolean', help: 'print the devices as CSV' },
    },
    examples: ["deskset devices samples --where 'model=VVX450 and firmware^=5.9'", 'deskset devices samples --stale 3d', 'deskset devices samples --unknown --csv > unknown.csv'],
    exits: { 0: 'listed (possibly none)', 1: 'ROOT has errors, or the state store is off, unreachable or newer than this deskset', 2: `${USAGE_EXIT}, or a bad --where expression` },
    load: async () => (await import('./devices.js')).run,
  }),
  'codes-issue': command({
    args: ['[ROOT]'],
    summary: 'issue an activation code (one phone, one placeholder) or an enrollment code (phones into a site)',
    description:
      '--placeholder NAME makes a 16-digit activation code (Cisco’s model): the phone that redeems it becomes that placeholder under its own MAC; --mac pins it to one phone; --ttl hours (default 168). --site NAME makes an enrollment code (Avaya DES’s model) of 8 or 12 digits that admits phones into a site and groups, up to --max-devices, until --expires. A phone redeems a code by typing it as the password at its credentials prompt (enrollment: {enabled: true}; docs/enrollment.md). The code is printed once; the state store keeps its digest and last four digits.\n' +
      '--csv FILE does it in bulk, Cisco BAT style: one placeholder per row, its columns as devices import reads them (name and model required; mac pins the row’s code). All or nothing: a bad row (its line is told) writes no file and issues no code.',
    options: {
      placeholder: { type: 'string', value: 'NAME', help: 'activation code for profiles/devices/placeholders/NAME.yaml' },
      mac: { type: 'string', value: 'MAC', help: 'pin an activation code to this phone' },
      ttl: { type: 'string', value: 'HOURS', help: 'lifetime of an activation code (default 168)' },
      site: { type: 'string', value: 'NAME', help: 'enrollment code admitting phones into this site' },
      groups: { type: 'string', value: 'A,B', help: 'groups the enrolled phones join' },
      digits: { type: 'string', value: '8|12', help: 'length of an enrollment code (default 8)' },
      'max-devices': { type: 'string', value: 'N', help: 'most phones an enrollment code admits (default: no cap)' },
      expires: { type: 'string', value: 'WHEN', help: 'lifetime of an enrollment code: 72h, 90d, 12w, 3mo or never (default 72h)' },
      csv: { type: 'string', value: 'FILE', help: 'Cisco BAT style: write a placeholder per row of FILE (name, model, site, endpoint_group, settings; mac pins the code) and issue an activation code for each' },
      overwrite: { type: 'boolean', help: '--csv: replace placeholders that exist (otherwise their rows are refused)' },
      out: { type: 'string', value: 'FILE', help: '--csv: write name,model,code to FILE (a new file, mode 0600) instead of printing the codes' },
      json: JSON_REPORT,
    },
    examples: ['deskset codes issue samples --placeholder BAT-reception', 'deskset codes issue samples --site nyc --groups support --max-devices 20 --expires 90d', 'deskset codes issue samples --csv bat.csv --out codes.csv'],
    exits: { 0: 'issued', 1: 'ROOT has errors, the state store is off or unreachable, no such placeholder, site or group, or a row of --csv is refused (nothing written, no code issued)', 2: USAGE_EXIT },
    load: async () => (await import('./codes.js')).runIssue,
  }),
  'codes-list': command({
    args: ['[ROOT]'],
    summary: 'the codes issued, with their state (never the codes)',
    description: 'One line per code: its id, last four digits, state (code-issued, enrolled, exhausted, expired, released), kind, target, uses and expiry.',
    options: { expired: { type: 'boolean', help: 'only expired codes' }, json: JSON_REPORT },
    examples: ['deskset codes list samples', 'deskset codes list samples --expired --json'],
    exits: { 0: 'listed', 1: 'the state store is off or unreachable', 2: USAGE_EXIT },
    load: async () => (await import('./codes.js')).runList,
  }),
  'codes-export': command({
    args: ['[ROOT]'],
    summary: 'the codes as CSV (ids and last digits, never codes)',
    description: 'The same facts as codes list, as CSV on stdout.',
    options: { csv: { type: 'boolean', required: true, help: 'write CSV' } },
    examples: ['deskset codes export samples --csv > codes.csv'],
    exits: { 0: 'written', 1: 'the state store is off or unreachable', 2: USAGE_EXIT },
    load: async () => (await import('./codes.js')).runExport,
  }),
  'codes-release': command({
    args: ['[ROOT] ID'],
    summary: 'stop a code, and the bindings it made',
    description: 'The code binds no more phones, and the phones it bound are no longer served as bound (adopt them first to keep them).',
    options: {},
    examples: ['deskset codes release samples 3f9a1c2b7d'],
    exits: { 0: 'released', 1: 'no such code, or already released; the state store is off or unreachable', 2: USAGE_EXIT },
    load: async () => (await import('./codes.js')).runRelease,
  }),
  audit: command({
    args: ['[ROOT]'],
    summary: 'the audit log: who issued, redeemed, released and adopted codes, and every admin API call',
    description:
      'The state store’s audit log (the records /api/v1/audit pages through), newest first, one line each: time, actor, source address, action, target, result, and details such as the code’s id and why a redemption was refused. Enrollment events: code.issue, code.redeem (ok, or refused with its reason), code.lock (three wrong codes locked a MAC for one address), code.expire, code.release, device.adopt. A code itself is never in the log.',
    options: {
      since: { type: 'string', value: 'WHEN', help: 'only records from then on: a duration back from now (30m, 12h, 3d, 2w) or an ISO 8601 time' },
      action: { type: 'string', value: 'PREFIX', help: 'only actions starting with PREFIX (code., code.redeem, POST )' },
      actor: { type: 'string', value: 'NAME', help: 'only records of this actor (cli:alice, phone, token:<id>, a user name)' },
      limit: { type: 'string', value: 'N', help: 'at most N records (default 100)' },
      json: JSON_REPORT,
    },
    examples: ['deskset audit samples --action code. --since 1d', 'deskset audit samples --actor phone --json'],
    exits: { 0: 'listed (possibly none)', 1: 'the state store is off, unreachable or newer than this deskset', 2: USAGE_EXIT },
    load: async () => (await import('./audit.js')).run,
  }),
  'devices-adopt': command({
    args: ['[ROOT]'],
    summary: 'turn phones bound by codes into device files to commit',
    description:
      'For every phone bound by a code and not yet adopted: an activation binding renames its placeholder’s file to profiles/devices/<mac>.yaml (text and comments unchanged); an enrollment binding writes a new file with the model, site and groups it enrolled with; a phone that already has a device file only has its binding marked adopted (the file wins). Without --write it prints the plan; with --write each file is written atomically and each binding marked adopted. Then commit the files.',
    options: { write: { type: 'boolean', help: 'write the files and mark the bindings adopted' }, json: JSON_REPORT },
    examples: ['deskset devices adopt samples', 'deskset devices adopt samples --write && git -C samples add profiles/devices'],
    exits: { 0: 'planned or adopted', 1: 'ROOT has errors, or the state store is off or unreachable', 2: USAGE_EXIT },
    load: async () => (await import('./devices-adopt.js')).run,
  }),
  migrate: command({
    args: ['[ROOT]'],
    summary: 'bring the state store to this deskset’s schema',
    description: 'Applies the schema migrations the state store (state: in deskset.yaml) has not had yet, each in its own transaction; `serve` does the same on start. A database migrated by a newer deskset is refused and left as it is.',
    options: { json: JSON_REPORT },
    examples: ['deskset migrate samples', 'DESKSET_PG=postgres://deskset@db/deskset deskset migrate /etc/deskset'],
    exits: { 0: 'the store is at this deskset’s schema', 1: 'the store is off, unreachable, newer than this deskset, or a migration failed (nothing of it applied)', 2: USAGE_EXIT },
    load: async () => (await import('./migrate.js')).run,
  }),
  // ── end of the state store's commands
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
  // `deskset devices import|export` (main.ts turns the two words into these names).
  'devices-import': command({
    args: ['FILE.csv [ROOT]'],
    summary: 'create or update device files from a CSV (Poly PDMS-E format)',
    description:
      'Reads a CSV with a mac_address column (comma, semicolon or tab separated; headers case- and order-insensitive) and writes profiles/devices/<mac>.yaml. endpoint_name is the description, endpoint_group the groups (a|b), model and site say what and where the phone is; every other column is a setting: a vocabulary path (lines.1.extension, sip.port) or a vendor parameter (reg.1.address goes to polycom.params for a Poly model).\n' +
      'All or nothing: when any row is bad (MAC, model, group, site, column count, duplicate MAC, or a file that would not pass check) every problem is reported with its CSV line and nothing is written. Each file is written atomically. Without --merge or --overwrite, devices that already have a file are left as they are.',
    options: {
      merge: { type: 'boolean', help: 'update existing device files in place, keeping their other keys and comments' },
      overwrite: { type: 'boolean', help: 'replace existing device files with what the row says (the model is kept when the row has none)' },
      'dry-run': { type: 'boolean', help: 'print per device the YAML diff and the rendered-file diff; write nothing' },
      model: { type: 'string', value: 'MODEL', help: 'the model of new devices whose row names none (PDMS-E files have no model column)' },
      'secrets-as-env': { type: 'string', value: 'PREFIX', help: 'write secret-looking values as ${env:PREFIX_<MAC>_<COLUMN>} references (the variables are listed, not their values)' },
    },
    examples: ['deskset devices import phones.csv samples --dry-run', 'deskset devices import phones.csv /etc/deskset --merge --secrets-as-env DESKSET'],
    exits: { 0: 'imported (or the dry run found nothing wrong)', 1: 'nothing written: bad rows, or the root has errors', 2: USAGE_EXIT },
    load: async () => (await import('./devices-import.js')).runDevicesImport,
  }),
  'devices-export': command({
    args: ['[ROOT]'],
    summary: 'write every device as CSV, the format devices import reads',
    description:
      'One row per device file: mac_address, model, endpoint_name, endpoint_group, site, then every setting as a column (vocabulary paths, and the vendor parameters of the device’s own vendor by their bare names). Secrets are written as •••• (import keeps the existing value for ••••) unless --show-secrets. With an inventory, last_seen, firmware and provision_result close each row; import skips them. Exporting and importing the result with --merge changes no file.\n' +
      'Keys outside settings other than the identity (auth, access, firmware) are not exported; --merge keeps them.',
    options: {
      csv: { type: 'boolean', help: 'CSV output (the default and only format)' },
      out: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout' },
      'show-secrets': { type: 'boolean', help: 'write secrets as they are in the profiles (handle the file with care)' },
    },
    examples: ['deskset devices export samples --csv > phones.csv', 'deskset devices export /etc/deskset --csv --out phones.csv'],
    exits: { 0: 'exported', 1: 'the root has errors', 2: USAGE_EXIT },
    load: async () => (await import('./devices-export.js')).runDevicesExport,
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
  import: command({
    args: ['DIR|FILE…'],
    summary: 'turn a folder of existing Avaya, Poly, Yealink, Cisco, Grandstream and Snom files into layered profiles',
    description:
      'Reads existing phone files (Avaya 46xxsettings/upgrade scripts and <mac>.txt, Poly master configs and their CONFIG_FILES, Yealink y0000000000NN.cfg, <mac>.cfg and boot files, Cisco SEP<MAC>.cnf.xml and <flat-profile> files, Grandstream cfg<mac>.xml, Snom snom<model>[-<MAC>].htm) and writes profiles/global.yaml, profiles/models/, profiles/groups/ and profiles/devices/ under ROOT, plus resources/ for what it keeps verbatim and firmware/ for images the input names. Into a root that already has profiles it adds: new device files and groups of its own, never changing global.yaml or models/. Values most devices share move up a layer (--min-share); secrets become ${env:…} references listed in .env.example.\n' +
      'Then it renders the new root with the same core as render and compares every phone\'s effective settings with the input, and prints a per-device report (stdout). A difference is an error unless --accept-differences; nothing is written on an error or with --dry-run. Findings and every parameter not imported (with the reason) go to stderr.',
    options: {
      into: { type: 'string', value: 'ROOT', required: true, help: 'write the config root here (new, or an existing root to add to)' },
      'dry-run': { type: 'boolean', help: 'print what would be written and the round-trip report; write nothing' },
      vendor: { type: 'string', value: 'V', help: 'import only this vendor\'s files (avaya, polycom, yealink, cisco, grandstream, snom)' },
      'min-share': { type: 'string', value: 'F', help: 'share of devices (0.5-1) that must agree for a value to move up a layer (default 0.8)' },
      'min-group': { type: 'string', value: 'N', help: 'devices that must share a deviation for it to become a group (default 5)' },
      model: { type: 'string', multiple: true, value: 'MAC=MODEL', help: 'the model of a device the files do not name (repeatable)' },
      models: { type: 'string', value: 'CSV', help: 'a CSV file of MAC,MODEL lines (a header line is skipped)' },
      'inline-secrets': { type: 'boolean', help: 'write passwords into the YAML instead of ${env:…} references' },
      'accept-differences': { type: 'boolean', help: 'write the root even when a device renders differently from the input' },
      'skip-existing': { type: 'boolean', help: 'adding to a root: leave phones it already has a device file for as they are, and import the rest' },
      json: JSON_REPORT,
    },
    examples: ['deskset import /srv/tftp --into newroot --dry-run', 'deskset import /srv/tftp --into newroot --models phones.csv', 'deskset import 46xxsettings.txt J100Supgrade.txt --into newroot --model c81fea83e85a=J179'],
    exits: { 0: 'imported, every device renders back equal (or --accept-differences)', 1: 'a device renders differently, or ROOT already has a device file the import would write (a conflict)', 2: 'usage error, or an input cannot be read' },
    load: async () => (await import('./import.js')).run,
  }),
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** The options given to node:util parseArgs: the table's, plus --help. */
export function parserOptions(options: Options): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(options)) out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  return out;
}
