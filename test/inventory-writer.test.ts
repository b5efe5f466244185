// The inventory's SQLite writer thread (src/store/sqlite/writer.ts): a batch written on the
// thread lands in the file the server's connection reads, judged from the boot files sent with
// it; a thread that cannot open the database reports itself dead, so the inventory writes on
// its own thread instead. Needs dist/ (the thread runs compiled JS): `npm test` builds it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { startWriterThread } from '../src/store/sqlite/writer.js';
import type { Observation } from '../src/store/contract.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deskset-writer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, s)).toISOString();
const fetch = (mac: string, name: string, fileId: string, etag: string, s: number): Observation => ({ mac, at: at(s), configured: true, vendor: 'polycom', model: 'VVX450', ip: '10.0.0.9', file: { name, fileId, status: 200, bytes: 10, etag, at: at(s) } });

describe('the SQLite writer thread', () => {
  it('writes batches the server connection reads, judged from the boot files it is sent', async () => {
    const store = await openSqliteStore({ file: path.join(dir, 'a.db') });
    const writer = store.observationWriter();
    expect(writer, 'the thread script is dist/store/sqlite/writer-thread.js').toBeDefined();
    const required = new Map([
      ['0004f2000001', [{ fileId: 'master', etag: '"m"' }, { fileId: 'settings', etag: '"s"' }]],
      ['0004f2000002', [{ fileId: 'master', etag: '"m"' }, { fileId: 'settings', etag: '"new"' }]],
      ['0004f2000003', null],
    ]);
    await writer!.record(
      [
        fetch('0004f2000001', '0004f2000001.cfg', 'master', '"m"', 1),
        fetch('0004f2000001', '0004f2000001-settings.cfg', 'settings', '"s"', 2),
        fetch('0004f2000002', '0004f2000002.cfg', 'master', '"m"', 1),
        fetch('0004f2000002', '0004f2000002-settings.cfg', 'settings', '"old"', 2),
        { ...fetch('0004f2000003', 'x.cfg', 'master', '"m"', 3), configured: false },
      ],
      required,
      10,
    );
    expect(writer!.alive()).toBe(true);
    expect((await store.getDevice('0004f2000001'))).toMatchObject({ result: 'ok', ip: '10.0.0.9' });
    expect((await store.getDevice('0004f2000001'))!.files.map((f) => f.name)).toEqual(['0004f2000001-settings.cfg', '0004f2000001.cfg']);
    expect((await store.getDevice('0004f2000002'))!.result).toBe('stale');
    expect((await store.getDevice('0004f2000003'))!.result).toBe('unknown');
    await writer!.close();
    expect(writer!.alive()).toBe(false);
    await store.close();
  });

  it('a thread that cannot open its database says so, and a batch sent to it is refused, not lost in silence', async () => {
    const notAFile = path.join(dir, 'a-directory');
    fs.mkdirSync(notAFile);
    const writer = startWriterThread(notAFile)!;
    await expect(writer.record([fetch('0004f2000009', 'y.cfg', 'master', '"m"', 1)], new Map(), 10)).rejects.toThrow();
    expect(writer.alive()).toBe(false);
  });
});
