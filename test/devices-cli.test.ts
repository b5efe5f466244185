// `deskset devices` and `deskset migrate` as a user runs them (bin/deskset.js in a child
// process), on an inventory filled by real requests to a real server.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { LATEST_VERSION } from '../src/store/migrations/index.js';
import { runCli } from './helpers/cli.js';
import { get, memoryLogger } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const VVX = 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2945 Type/Application';
const T46S = 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56';
const POLY = '0004f2a1b2c3';
const YEA = '805ec0123456';
const UNKNOWN = '0004f2eeee01';

interface Row {
  mac: string;
  result: string;
  model: string;
  firmware: string;
  configured: boolean;
  files: Array<{ name: string; status: number }>;
}

let root: TmpRoot;
const devices = async (...args: string[]) => {
  const r = await runCli(['devices', root.dir, ...args]);
  return { ...r, rows: r.code === 0 && args.includes('--json') ? (JSON.parse(r.stdout) as Row[]) : [] };
};

beforeAll(async () => {
  root = await makeTmpRoot();
  const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLogger().log, watch: false });
  try {
    for (const p of [`/${POLY}.cfg`, `/${POLY}-settings.cfg`]) expect((await get(srv, p, { 'User-Agent': VVX })).status).toBe(200);
    expect((await get(srv, `/${YEA}.cfg`, { 'User-Agent': T46S })).status).toBe(200);
    expect((await get(srv, `/${UNKNOWN}.cfg`, { 'User-Agent': VVX })).status).toBe(404);
  } finally {
    await srv.close(); // writes the last batch
  }
}, 60_000);
afterAll(async () => root?.cleanup());

describe('deskset devices', () => {
  it('joins the inventory with the root: ok, stale (half its boot files), unknown, and never for the rest', async () => {
    const r = await devices('--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const by = new Map(r.rows.map((d) => [d.mac, d]));
    expect(by.get(POLY)).toMatchObject({ result: 'ok', model: 'VVX450', firmware: '6.4.6.2945', configured: true });
    expect(by.get(POLY)!.files.map((f) => f.name)).toEqual([`${POLY}-settings.cfg`, `${POLY}.cfg`]);
    expect(by.get(YEA)).toMatchObject({ result: 'stale', model: 'T46S', firmware: '66.86.0.15' });
    expect(by.get(UNKNOWN)).toMatchObject({ result: 'unknown', configured: false });
    const configured = (await fs.readdir(root.file('profiles/devices'))).length;
    expect(r.rows.filter((d) => d.result === 'never')).toHaveLength(configured - 2);
    expect(r.rows.map((d) => d.mac)).toEqual([...r.rows.map((d) => d.mac)].sort());
  });

  it('--where with DES operators, --unknown, --never, --stale', async () => {
    // The unknown phone is a VVX 450 too, by its User-Agent.
    expect((await devices('--json', '--where', 'model=VVX450 and firmware^=6.4')).rows.map((d) => d.mac)).toEqual([POLY, UNKNOWN]);
    expect((await devices('--json', '--where', 'model=VVX450 and site=nyc')).rows.map((d) => d.mac)).toEqual([POLY]);
    expect((await devices('--json', '--where', "firmware$=.15 or result='ok'")).rows.map((d) => d.mac)).toEqual([POLY, YEA]);
    expect((await devices('--json', '--where', 'result!=never and mac*=EE:EE')).rows.map((d) => d.mac)).toEqual([UNKNOWN]);
    expect((await devices('--json', '--unknown')).rows.map((d) => d.mac)).toEqual([UNKNOWN]);
    const never = (await devices('--json', '--never')).rows;
    expect(never.length).toBeGreaterThan(0);
    expect(never.every((d) => d.result === 'never')).toBe(true);
    const stale = (await devices('--json', '--stale', '0')).rows;
    expect(stale.map((d) => d.result).sort()).toEqual([...never.map(() => 'never'), 'stale']);
    // Not seen for a week: nobody (everyone was seen just now), but stale and never still count.
    expect((await devices('--json', '--stale', '1w')).rows).toHaveLength(stale.length);
    expect((await devices('--json', '--never', '--where', 'model=J179')).rows.every((d) => d.model === 'J179')).toBe(true);
  });

  it('a profile changed on disk shows the phone stale at once, without a request', async () => {
    const file = root.file(`profiles/devices/${POLY}.yaml`);
    const before = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, before.replace('Bob <sales>', 'Bob <elsewhere>'));
    try {
      expect((await devices('--json', '--where', `mac=${POLY}`)).rows[0]!.result).toBe('stale');
    } finally {
      await fs.writeFile(file, before);
    }
    expect((await devices('--json', '--where', `mac=${POLY}`)).rows[0]!.result).toBe('ok');
  });

  it('--csv and the table', async () => {
    const csv = await devices('--csv', '--where', 'result!=never');
    expect(csv.code).toBe(0);
    const rows = parseCsv(csv.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.mac, r.result, r.configured])).toEqual([
      [POLY, 'ok', 'yes'],
      [UNKNOWN, 'unknown', 'no'],
      [YEA, 'stale', 'yes'],
    ]);
    const table = await devices('--where', `mac=${POLY}`);
    expect(table.stdout).toMatch(/^MAC +RESULT +MODEL +FIRMWARE +SITE +IP +LAST SEEN\n0004f2a1b2c3 +ok +VVX450 +6\.4\.6\.2945 +nyc +127\.0\.0\.1 +20\d\d-/);
    expect((await devices('--where', 'model=nothing')).stdout).toBe('no devices match\n');
  });

  it('bad input exits 2 with what was wrong and where', async () => {
    const r = await devices('--where', 'model=VVX450 and colour=red');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--where, column 18: unknown column "colour"');
    expect((await devices('--stale', 'soon')).stderr).toMatch(/--stale "soon": a duration such as 90s/);
    expect((await devices('--json', '--csv')).code).toBe(2);
    expect((await runCli(['devices', root.dir, 'extra'])).code).toBe(2);
  });

  it('state: off has no inventory (exit 1)', async () => {
    const off = await makeTmpRoot({ 'deskset.yaml': (t) => `${t}\nstate: off\n` });
    try {
      const r = await runCli(['devices', off.dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the inventory is off');
    } finally {
      await off.cleanup();
    }
  });
});

describe('deskset migrate', () => {
  it('reports the schema version; a database from a newer deskset is refused, by migrate and by serve', async () => {
    const r = await runCli(['migrate', root.dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ store: 'sqlite', version: LATEST_VERSION, latest: LATEST_VERSION });
    const db = new Database(path.join(root.dir, 'var', 'deskset.db'));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_VERSION + 1, 'future', new Date().toISOString());
    db.close();
    const refused = await runCli(['migrate', root.dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`schema version ${LATEST_VERSION + 1}, but this deskset knows versions up to ${LATEST_VERSION}`);
    const serve = await runCli(['serve', root.dir, '--port', '0', '--host', '127.0.0.1', '--no-watch', '--warm-up', '0']);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/deskset serve: not starting: .*migrated by a newer deskset/);
    expect((await devices('--json')).code).toBe(1);
  });
});
