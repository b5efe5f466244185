// One shape for every problem deskset reports: config, template, XSD, script lint.
// Modelled on eemeli/yaml's errors: a stable code, a location, and a message;
// collected into lists rather than thrown on the first one.

export type Severity = 'error' | 'warning' | 'info';

/** A position in a file. Lines and columns are 1-based, as editors show them. */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
}

export interface Diagnostic {
  /** Stable, grep-able code such as `YAML_SYNTAX`, `UNKNOWN_MODEL`, `GOTO_MISSING_LABEL`. */
  code: string;
  severity: Severity;
  message: string;
  /** Where the problem is, when it has a place. */
  loc?: SourceLoc;
  /** The device the problem was found for, when it is per device (the first one, when grouped). */
  device?: string;
  /** When one source location causes the same finding on many devices: all of them, in order. */
  devices?: string[];
  /** The request path of the rendered file, when the problem is in rendered output. */
  path?: string;
  /** Further locations that explain the problem (e.g. the profile line that set a value). */
  related?: Array<{ message: string; loc: SourceLoc }>;
  /** The offending source line and a caret under the spot, printed beneath the message. */
  excerpt?: string[];
}

export function formatLoc(loc: SourceLoc | undefined): string {
  if (!loc) return '';
  return `${loc.file}:${loc.line}:${loc.col}`;
}

/** `file:line:col: severity CODE: message [device X, path Y]`, one line, the compiler convention CI tools parse. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${formatLoc(d.loc)}: ` : '';
  const ctx: string[] = [];
  if (d.devices && d.devices.length > 1) ctx.push(`affects ${d.devices.length} devices (first: ${d.devices[0]})`);
  else if (d.device) ctx.push(`device ${d.device}`);
  if (d.path) ctx.push(`path /${d.path.replace(/^\/+/, '')}`);
  let out = `${where}${d.severity} ${d.code}: ${d.message}${ctx.length ? ` [${ctx.join(', ')}]` : ''}`;
  for (const line of d.excerpt ?? []) out += `\n    ${line}`;
  for (const r of d.related ?? []) out += `\n    ${formatLoc(r.loc)}: ${r.message}`;
  return out;
}

// Where the value landed in each device's rendered file is per device, like its path.
const RENDERED_AT = / \(rendered line \d+(?:, col \d+)?\)$/;

/**
 * One finding per source location: the same code, severity, file:line:col and message found
 * for many devices (a group file's typo reaches every member) becomes one diagnostic that
 * lists the devices (`device` stays the first). Findings without a location or a device are
 * kept as they are.
 */
export function groupByLocation(list: readonly Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byKey = new Map<string, { d: Diagnostic; seen: Set<string> }>();
  for (const d of list) {
    if (!d.loc || d.device === undefined) {
      out.push(d);
      continue;
    }
    const key = `${d.code}\0${d.severity}\0${formatLoc(d.loc)}\0${d.message.replace(RENDERED_AT, '')}`;
    const group = byKey.get(key);
    const devices = d.devices ?? [d.device];
    if (!group) {
      const first: Diagnostic = { ...d, devices: [...devices] };
      byKey.set(key, { d: first, seen: new Set(devices) });
      out.push(first);
      continue;
    }
    for (const m of devices) if (!group.seen.has(m) && group.seen.add(m)) group.d.devices!.push(m);
  }
  return out;
}

/** `1 error, 2 warnings`: counts with the noun in singular or plural as English wants. */
export function countSummary(list: readonly Diagnostic[]): string {
  const n = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
  return `${n(list.filter((d) => d.severity === 'error').length, 'error')}, ${n(list.filter((d) => d.severity === 'warning').length, 'warning')}`;
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}

/** Thrown only at the edges (CLI, server start) to carry a list of diagnostics out. */
export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'DiagnosticsError';
  }
}
