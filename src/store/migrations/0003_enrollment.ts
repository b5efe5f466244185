// Activation and enrollment codes (stored as digests) and the bindings they made.
// One enrolled binding per MAC (the primary key) and per placeholder (a partial unique index):
// the database itself refuses a second winner.

const sql = `
CREATE TABLE codes (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  tail TEXT NOT NULL,
  kind TEXT NOT NULL,
  placeholder TEXT,
  mac TEXT,
  site TEXT,
  groups TEXT NOT NULL,
  max_devices INTEGER,
  used INTEGER NOT NULL,
  issued_at TEXT NOT NULL,
  expires_at TEXT,
  released_at TEXT,
  issued_by TEXT NOT NULL
);
CREATE TABLE bindings (
  mac TEXT PRIMARY KEY,
  code_id TEXT NOT NULL REFERENCES codes (id),
  tail TEXT NOT NULL,
  kind TEXT NOT NULL,
  placeholder TEXT,
  site TEXT,
  groups TEXT NOT NULL,
  model TEXT,
  bound_at TEXT NOT NULL,
  bound_from TEXT NOT NULL,
  state TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  changed_at TEXT NOT NULL
);
CREATE UNIQUE INDEX bindings_placeholder_enrolled ON bindings (placeholder) WHERE state = 'enrolled' AND placeholder IS NOT NULL;
CREATE INDEX bindings_code ON bindings (code_id);
`;

export const m0003 = { version: 3, name: 'enrollment', sqlite: sql, postgres: sql };
