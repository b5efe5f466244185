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
  /** The device the problem was found for, when it is per device. */
  device?: string;
  /** The request path of the rendered file, when the problem is in rendered output. */
  path?: string;
  /** Further locations that explain the problem (e.g. the profile line that set a value). */
  related?: Array<{ message: string; loc: SourceLoc }>;
}

export function formatLoc(loc: SourceLoc | undefined): string {
  if (!loc) return '';
  return `${loc.file}:${loc.line}:${loc.col}`;
}

/** `file:line:col: severity CODE: message [device X, path Y]`, one line, the compiler convention CI tools parse. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${formatLoc(d.loc)}: ` : '';
  const ctx: string[] = [];
  if (d.device) ctx.push(`device ${d.device}`);
  if (d.path) ctx.push(`path /${d.path.replace(/^\/+/, '')}`);
  let out = `${where}${d.severity} ${d.code}: ${d.message}${ctx.length ? ` [${ctx.join(', ')}]` : ''}`;
  for (const r of d.related ?? []) out += `\n    ${formatLoc(r.loc)}: ${r.message}`;
  return out;
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
