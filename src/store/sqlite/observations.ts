// The inventory's batch write for SQLite: read each device, merge (store/merge.ts), judge,
// upsert, evict the oldest unknown devices over the cap; one transaction. The same code runs
// on the store's connection and on the writer thread's own (writer.ts).

import type Database from 'better-sqlite3';
import type { DeviceRecord, Observation, RecordOptions } from '../contract.js';
import { byMac, mergeDevice } from '../merge.js';
import { deviceOf, type DeviceRow, type FileRow } from '../sql.js';

export interface ObservationStatements {
  readDevice(mac: string): DeviceRecord | undefined;
  record(batch: readonly Observation[], opts: RecordOptions): void;
}

export function observationStatements(db: Database.Database): ObservationStatements {
  const q = {
    device: db.prepare('SELECT * FROM devices WHERE mac = ?'),
    files: db.prepare('SELECT * FROM device_files WHERE mac = ? ORDER BY name'),
    upsertDevice: db.prepare(`INSERT INTO devices (mac, vendor, model, firmware, hardware, ip, site, configured, first_seen, last_seen, result)
      VALUES (@mac, @vendor, @model, @firmware, @hardware, @ip, @site, @configured, @firstSeen, @lastSeen, @result)
      ON CONFLICT (mac) DO UPDATE SET vendor = excluded.vendor, model = excluded.model, firmware = excluded.firmware, hardware = excluded.hardware,
        ip = excluded.ip, site = excluded.site, configured = excluded.configured, first_seen = excluded.first_seen, last_seen = excluded.last_seen, result = excluded.result`),
    upsertFile: db.prepare(`INSERT INTO device_files (mac, name, file_id, status, bytes, etag, at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mac, name) DO UPDATE SET file_id = excluded.file_id, status = excluded.status, bytes = excluded.bytes, etag = excluded.etag, at = excluded.at`),
    unknownCount: db.prepare('SELECT count(*) AS n FROM devices WHERE configured = 0'),
    evict: db.prepare('DELETE FROM devices WHERE mac IN (SELECT mac FROM devices WHERE configured = 0 ORDER BY last_seen, mac LIMIT ?)'),
  };
  const readDevice = (mac: string): DeviceRecord | undefined => {
    const row = q.device.get(mac) as DeviceRow | undefined;
    return row && deviceOf(row, q.files.all(mac) as FileRow[]);
  };
  const record = db.transaction((batch: readonly Observation[], opts: RecordOptions) => {
    for (const [mac, obs] of byMac(batch)) {
      const existing = readDevice(mac);
      const m = mergeDevice(existing, obs);
      const result = opts.judge({ ...m, result: existing?.result ?? 'never' });
      q.upsertDevice.run({ mac, vendor: m.vendor ?? null, model: m.model ?? null, firmware: m.firmware ?? null, hardware: m.hardware ?? null, ip: m.ip ?? null, site: m.site ?? null, configured: m.configured ? 1 : 0, firstSeen: m.firstSeen, lastSeen: m.lastSeen, result });
      const touched = new Set(obs.flatMap((o) => (o.file ? [o.file.name] : [])));
      for (const f of m.files) if (touched.has(f.name)) q.upsertFile.run(mac, f.name, f.fileId ?? null, f.status, f.bytes, f.etag ?? null, f.at);
    }
    const unknown = (q.unknownCount.get() as { n: number }).n;
    if (unknown > opts.maxUnknown) q.evict.run(unknown - opts.maxUnknown);
  });
  return { readDevice, record: (batch, opts) => record(batch, opts) };
}

/** How long a statement waits for another connection's write (the writer thread, another worker). */
export const BUSY_WAIT_MS = 5000;

/** The connection settings every deskset connection to the file uses. */
export function tuneConnection(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a killed process loses nothing committed; only a power cut can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
}
