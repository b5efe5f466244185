// `deskset audit` over what really happened: codes issued by the CLI, phones redeeming, being
// refused (wrong model, expired), locked out after wrong codes, a release and an adoption,
// against a real server on the default SQLite store. Every enrollment event is a record,
// the filters narrow, and no code is ever in the output.

import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { memoryLog } from './helpers/e2e-http.js';
import { avayaUa, ENROLLMENT_ON, issueCli, phoneGet, typed } from './helpers/phone.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { formatAudit, sinceTime } from '../src/cli/audit.js';
import { startServer, type RunningServer } from '../src/server.js';

const PLACEHOLDERS = {
  'profiles/devices/placeholders/BAT-desk.yaml': 'model: J179\nsettings:\n  lines:\n    - extension: "4601"\n',
  'profiles/devices/placeholders/BAT-late.yaml': 'model: J179\nsettings:\n  lines:\n    - extension: "4602"\n',
};
const PHONE = 'c81fea0a0001';
const VICTIM = 'c81fea0a0002';

interface Entry {
  id: number;
  at: string;
  actor: string;
  source: string;
  action: string;
  result: string;
  target?: string;
  detail?: Record<string, unknown>;
}

const issue = issueCli;

async function audit(root: string, ...args: string[]): Promise<string> {
  const r = await runCli(['audit', root, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('deskset audit shows every enrollment event', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  const codes: string[] = [];
  let desk: { code: string; id: string }, late: { code: string; id: string }, site: { code: string; id: string };

  beforeAll(async () => {
    root = await makeTmpRoot({ ...PLACEHOLDERS, 'deskset.yaml': ENROLLMENT_ON });
    desk = await issue(root.dir, '--placeholder', 'BAT-desk');
    late = await issue(root.dir, '--placeholder', 'BAT-late');
    site = await issue(root.dir, '--site', 'nyc', '--groups', 'sales');
    codes.push(desk.code, late.code, site.code);
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });

    const get = (mac: string, code?: string, model = 'J179', from = '127.0.0.1') => phoneGet(srv.port, '/46xxsettings.txt', { 'User-Agent': avayaUa(mac, model), ...(code ? typed(code) : {}) }, from);
    // Refused: the wrong model for the placeholder.
    expect((await get(PHONE, desk.code, 'J189')).status).toBe(401);
    // Redeemed.
    expect((await get(PHONE, desk.code)).status).toBe(200);
    // Three wrong codes from one address lock that address out for the victim's MAC.
    for (let i = 0; i < 3; i++) expect((await get(VICTIM, '87654321', 'J179', '127.0.0.2')).status).toBe(401);
    // Expired: the code's expiry moved into the past behind the server's back.
    const db = new Database(path.join(root.dir, 'var', 'deskset.db'));
    db.prepare('UPDATE codes SET expires_at = ? WHERE id = ?').run('2001-01-01T00:00:00.000Z', late.id);
    db.close();
    expect((await get('c81fea0a0003', late.code)).status).toBe(401);
    expect((await get('c81fea0a0004', late.code)).status).toBe(401);
    // Released, and adopted.
    expect((await runCli(['codes', 'release', root.dir, site.id])).code).toBe(0);
    const adopted = await runCli(['devices', 'adopt', root.dir, '--write']);
    expect(adopted.code, adopted.stderr).toBe(0);
    // The server writes its records as it answers; wait until the last of them is there.
    for (let t = 0; t < 50 && !(await audit(root.dir, '--action', 'code.lock')).includes(VICTIM); t++) await new Promise((r) => setTimeout(r, 100));
  }, 90_000);
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('one line per record, newest first: time, actor, source, action, target, result, details', async () => {
    const lines = (await audit(root.dir)).trimEnd().split('\n');
    const actions = lines.map((l) => l.split(/\s{2,}/)[3]);
    expect(actions[0]).toBe('device.adopt');
    expect(actions[actions.length - 1]).toBe('code.issue');
    for (const want of ['code.issue', 'code.redeem', 'code.lock', 'code.expire', 'code.release', 'device.adopt']) expect(actions, want).toContain(want);
    const times = lines.map((l) => l.slice(0, 24));
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('each event carries its actor, source, target, result and code id', async () => {
    const all = JSON.parse(await audit(root.dir, '--json')) as Entry[];
    const find = (action: string, pred: (e: Entry) => boolean = () => true) => all.filter((e) => e.action === action && pred(e));
    expect(find('code.issue').map((e) => e.detail?.code).sort()).toEqual([desk.id, late.id, site.id].sort());
    expect(find('code.issue', (e) => e.target === 'BAT-desk')[0]).toMatchObject({ source: 'local', result: 'ok', detail: { kind: 'activation' } });
    expect(find('code.redeem', (e) => e.result === 'ok')).toEqual([expect.objectContaining({ actor: 'phone', source: '127.0.0.1', target: PHONE, detail: { code: desk.id } })]);
    expect(find('code.redeem', (e) => e.detail?.reason === 'wrong model')).toEqual([expect.objectContaining({ result: 'refused', target: PHONE, detail: { code: desk.id, reason: 'wrong model' } })]);
    expect(find('code.redeem', (e) => e.detail?.reason === 'no such code')).toHaveLength(3);
    expect(find('code.lock')).toEqual([expect.objectContaining({ source: '127.0.0.2', target: VICTIM, result: 'locked' })]);
    expect(find('code.redeem', (e) => e.detail?.reason === 'expired')).toHaveLength(2);
    // Expiry is one event per code, however many phones find it.
    expect(find('code.expire')).toEqual([expect.objectContaining({ target: 'c81fea0a0003', detail: { code: late.id, expired_at: '2001-01-01T00:00:00.000Z' } })]);
    expect(find('code.release')).toEqual([expect.objectContaining({ source: 'local', detail: { code: site.id } })]);
    expect(find('device.adopt')).toEqual([expect.objectContaining({ target: PHONE, detail: expect.objectContaining({ code: desk.id }) })]);
  });

  it('the text shows reasons and code ids', async () => {
    const text = await audit(root.dir, '--action', 'code.redeem');
    expect(text).toMatch(new RegExp(`code\\.redeem\\s+${PHONE}\\s+refused\\s+code=${desk.id} reason="wrong model"`));
    expect(text).toMatch(new RegExp(`code\\.redeem\\s+c81fea0a0003\\s+refused\\s+code=${late.id} reason=expired`));
  });

  it('--action, --actor, --since and --limit narrow; --json is the same records', async () => {
    const json = (args: string[]) => audit(root.dir, '--json', ...args).then((t) => JSON.parse(t) as Entry[]);
    const all = await json(['--limit', '1000']);
    expect((await json(['--action', 'code.redeem'])).every((e) => e.action === 'code.redeem')).toBe(true);
    expect(await json(['--action', 'code.'])).toHaveLength(all.filter((e) => e.action.startsWith('code.')).length);
    expect((await json(['--actor', 'phone'])).map((e) => e.id)).toEqual(all.filter((e) => e.actor === 'phone').map((e) => e.id));
    expect(await json(['--since', '1h'])).toHaveLength(all.length);
    expect(await json(['--since', all[0]!.at])).toEqual(all.filter((e) => e.at >= all[0]!.at));
    expect(await audit(root.dir, '--since', '2999-01-01')).toBe('no audit records match\n');
    const two = await json(['--limit', '2']);
    expect(two).toEqual(all.slice(0, 2));
    expect((await audit(root.dir, '--limit', '2')).trimEnd().split('\n')).toHaveLength(2);
  });

  it('no code, with or without dashes, in any output', async () => {
    const outputs = [await audit(root.dir), await audit(root.dir, '--json'), await audit(root.dir, '--action', 'code.redeem', '--json')];
    for (const c of codes) {
      for (const text of outputs) {
        expect(text).not.toContain(c);
        expect(text).not.toContain(c.replace(/(\d{4})(?=\d)/g, '$1-'));
      }
    }
  });

  it('bad options are usage errors', async () => {
    for (const args of [['--since', 'yesterday'], ['--since', '2026-13-45'], ['--limit', '0'], ['--limit', 'many'], ['--action', 'x'.repeat(201)], ['--bogus']]) {
      const r = await runCli(['audit', root.dir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});

describe('audit units', () => {
  it('--since reads durations back from now and ISO times', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(sinceTime('90m', now)).toBe('2026-12-02T10:30:00.000Z');
    expect(sinceTime('2d', now)).toBe('2026-11-30T12:00:00.000Z');
    expect(sinceTime('2026-12-01', now)).toBe('2026-12-01T00:00:00.000Z');
    expect(sinceTime('2026-12-01T09:00:00+01:00', now)).toBe('2026-12-01T08:00:00.000Z');
    for (const bad of ['yesterday', '3 days', '2026-13-01', '12', '']) expect(sinceTime(bad, now), bad).toBeNull();
  });

  it('a hostile actor or target cannot write control characters to the terminal', () => {
    const text = formatAudit([{ id: 1, at: '2026-12-02T12:00:00.000Z', actor: 'evil\u001b[2J', source: '10.0.0.1', action: 'GET /api/v1/devices', result: '401', target: 'x\ny', detail: { note: 'a "b" c' } }]);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toContain('evil\\u001b[2J');
    expect(text).toContain('note="a \\"b\\" c"');
  });
});
