// The contract every XSD engine implements. Kept tiny and dependency-free on purpose
// (the layout follows Hono's router folder: one contract file, one file per
// implementation, an index that re-exports), so callers and the shared contract test
// depend on this file only and engines stay interchangeable.

/**
 * One problem an engine found. `line`/`col` are 1-based like editors show them;
 * `col` is 0 when the engine does not report a column (libxml2 never does for
 * validity errors), `line` is 0 when the engine reports no position at all.
 */
export interface XsdIssue {
  line: number;
  col: number;
  message: string;
}

/**
 * The verdict on one document. A document that is not well-formed (or not
 * namespace-well-formed) is invalid and carries at least one issue.
 */
export interface XsdResult {
  valid: boolean;
  issues: XsdIssue[];
}

export interface XsdEngine {
  readonly name: string;
  /**
   * Validate `xml` against the schema file at `schemaPath` (absolute, or relative to
   * the process cwd). Problems in the *document* resolve to `{ valid: false }`;
   * problems with the *schema* (missing, unreadable, not a valid XSD) reject with
   * {@link XsdSchemaError}, because they are a deployment error, not a verdict on
   * the document, and must not be reported per device 10,000 times.
   */
  validate(xml: string, schemaPath: string): Promise<XsdResult>;
  /** Free engine resources (compiled schemas, wasm memory). The engine may be reused afterwards; it recompiles lazily. */
  close?(): Promise<void> | void;
}

/** The schema itself could not be loaded or compiled. */
export class XsdSchemaError extends Error {
  constructor(
    readonly schemaPath: string,
    readonly issues: XsdIssue[],
    message = `cannot load XML schema ${schemaPath}${issues.length ? `: ${issues.map((i) => i.message).join('; ')}` : ''}`,
  ) {
    super(message);
    this.name = 'XsdSchemaError';
  }
}
