// Phone uploads in PostgreSQL, so every replica on one database serves what a phone wrote to
// any of them (docs/state.md, "Uploads"). PostgreSQL only: with SQLite (one server) uploads
// stay files in the state directory, so its half is empty and only the version is recorded.
// `size` is kept beside `body` so quota sums never read (or detoast) the bodies.

const postgres = `
CREATE TABLE upload_files (
  mac TEXT NOT NULL,
  kind TEXT NOT NULL,
  body BYTEA NOT NULL,
  size BIGINT NOT NULL,
  etag TEXT NOT NULL,
  mtime TEXT NOT NULL,
  PRIMARY KEY (mac, kind)
);
CREATE TABLE upload_log_days (
  mac TEXT NOT NULL,
  day TEXT NOT NULL,
  kind TEXT NOT NULL,
  body BYTEA NOT NULL,
  size BIGINT NOT NULL,
  mtime TEXT NOT NULL,
  PRIMARY KEY (mac, day, kind)
);
CREATE INDEX upload_log_days_day ON upload_log_days (day);
`;

export const m0004 = { version: 4, name: 'uploads in the database', sqlite: '', postgres };
