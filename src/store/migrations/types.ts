// What a migration is: SQL per dialect, and an optional step run in its transaction.

export interface MigrationContext {
  /** The state directory, for migrations that import files from it. */
  stateDir?: string;
  /** Run after the migration's transaction committed (file renames must not precede it). */
  onCommitted?: (fn: () => void) => void;
}

/** Statements with `?` placeholders, in the migration's transaction. */
export interface MigrationTx {
  run(sql: string, params?: unknown[]): Promise<void>;
}

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
  after?: (tx: MigrationTx, ctx: MigrationContext) => Promise<void>;
}
