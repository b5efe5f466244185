// `state:` and `inventory:` in deskset.yaml (parsed in core/root-config.ts, documented in
// docs/config.md and docs/state.md).

export type StateConfig =
  /** SQLite; `file` relative to the root (default <state_dir>/deskset.db). */
  | { kind: 'sqlite'; file?: string }
  | { kind: 'postgres'; url: string }
  /** No state store: no inventory, URL tokens stay in <state_dir>/tokens.json. */
  | { kind: 'off' };

export interface InventoryConfig {
  /** Observations are written in batches this often; a crash loses at most one interval. */
  flushMs: number;
  /** Unknown MACs (with a vendor's User-Agent) kept; the least recently seen are evicted first. */
  maxUnknown: number;
  /** A fetch repeating the one last written (same file, answer, address, User-Agent) within this time is not written again: last_seen is exact to it. 0 writes every request. */
  touchS: number;
}

export const DEFAULT_STATE: StateConfig = { kind: 'sqlite' };
export const DEFAULT_INVENTORY: InventoryConfig = { flushMs: 1000, maxUnknown: 10_000, touchS: 60 };
export const STATE_DB_FILE = 'deskset.db';

/** `sqlite`, `off`, `postgres://…` / `postgresql://…`, or a path to an SQLite file. */
export function parseStateSetting(v: string): StateConfig | { error: string } {
  const s = v.trim();
  if (s === 'sqlite') return { kind: 'sqlite' };
  if (s === 'off') return { kind: 'off' };
  if (/^postgres(ql)?:\/\//i.test(s)) {
    try {
      new URL(s);
    } catch {
      return { error: 'state: not a valid postgres:// URL' };
    }
    return { kind: 'postgres', url: s };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return { error: `state: unsupported URL scheme "${s.slice(0, s.indexOf(':'))}" (sqlite, off, a file path, or postgres://…)` };
  if (s === '') return { error: 'state: empty (sqlite, off, a file path, or postgres://…)' };
  return { kind: 'sqlite', file: s };
}
