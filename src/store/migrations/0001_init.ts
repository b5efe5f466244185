// The first schema: inventory, audit log, lockout counters, URL and API tokens.
// Text times (ISO 8601 UTC) in both dialects, so rows compare and sort alike.

const common = (auto: string, bigint: string) => `
CREATE TABLE devices (
  mac TEXT PRIMARY KEY,
  vendor TEXT, model TEXT, firmware TEXT, hardware TEXT, ip TEXT, site TEXT,
  configured INTEGER NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  result TEXT NOT NULL
);
CREATE INDEX devices_last_seen ON devices (last_seen);
CREATE INDEX devices_unknown ON devices (configured, last_seen);
CREATE TABLE device_files (
  mac TEXT NOT NULL REFERENCES devices (mac) ON DELETE CASCADE,
  name TEXT NOT NULL,
  file_id TEXT,
  status INTEGER NOT NULL,
  bytes ${bigint} NOT NULL,
  etag TEXT,
  at TEXT NOT NULL,
  PRIMARY KEY (mac, name)
);
CREATE TABLE audit (
  id ${auto},
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL,
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  target TEXT,
  detail TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE TABLE login_failures (
  source TEXT NOT NULL,
  username TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX login_failures_who ON login_failures (source, username, at);
CREATE TABLE url_tokens (
  hash TEXT PRIMARY KEY,
  mac TEXT NOT NULL UNIQUE,
  issued_at TEXT NOT NULL
);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
`;

export const m0001 = {
  version: 1,
  name: 'init',
  sqlite: common('INTEGER PRIMARY KEY AUTOINCREMENT', 'INTEGER'),
  postgres: common('BIGSERIAL PRIMARY KEY', 'BIGINT'),
};
