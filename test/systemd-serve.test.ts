// `deskset serve` under systemd: READY=1 through $NOTIFY_SOCKET once it listens (Type=notify),
// and a whole-root reload on SIGHUP (ExecReload=kill -HUP $MAINPID). Real processes, a real
// unix datagram socket, a real signal.

import { promises as fs } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { notifyArgs, notifySystemd } from '../src/service/systemd-notify.js';
import { spawnCli } from './helpers/cli.js';
import { get } from './helpers/e2e-http.js';
import { HAVE_PYTHON, HAVE_SYSTEMD_NOTIFY, openNotifySocket } from './helpers/notify-socket.js';
import { makeTmpRoot, type TmpRoot, SAMPLE_DEVICES } from './helpers/tmp-root.js';

const CAN_LISTEN = HAVE_PYTHON && HAVE_SYSTEMD_NOTIFY;
if (!CAN_LISTEN) console.log(`systemd-serve: skipping the notify-socket tests (${HAVE_PYTHON ? '' : 'python3 '}${HAVE_SYSTEMD_NOTIFY ? '' : 'systemd-notify '}not installed)`);

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Served {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function serve(root: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<Served> {
  // --no-admin: parallel tests must not all bind the admin port 9090.
  const child = spawnCli(['serve', root, '--port', '0', '--host', '127.0.0.1', '--no-watch', '--warm-up', '0', '--no-admin', ...extra], { env });
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /deskset serving \S+ on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m && /curl /.test(stderr.slice(m.index))) resolve(Number(m[1]));
    });
    void exited.then((x) => reject(new Error(`serve exited early (${JSON.stringify(x)}): ${stderr}`)));
  });
  return { child, port, stderr: () => stderr, stdout: () => stdout, exited };
}

async function tmpRoot(): Promise<TmpRoot> {
  const root = await makeTmpRoot();
  cleanups.push(() => root.cleanup());
  return root;
}

describe('notify fields', () => {
  it.each([
    [{ READY: 1 }, ['READY=1']],
    [{ READY: 1, STATUS: 'serving 7 devices' }, ['READY=1', 'STATUS=serving 7 devices']],
    // A newline would start a second field (MAINPID=… from a status text): flattened.
    [{ STATUS: 'a\nMAINPID=1' }, ['STATUS=a MAINPID=1']],
    [{ STATUS: 'x\r\n\r\ny' }, ['STATUS=x y']],
  ])('%j -> %j', (fields, args) => {
    expect(notifyArgs(fields)).toEqual(args);
  });

  it('refuses a field name that is not one', () => {
    expect(() => notifyArgs({ 'READY=1\nX': 1 })).toThrow(/not a notify field name/);
    expect(() => notifyArgs({ ready: 1 })).toThrow(/not a notify field name/);
  });

  it('does nothing without NOTIFY_SOCKET, and says why when systemd-notify is missing', async () => {
    expect(await notifySystemd({ READY: 1 }, { env: {} })).toEqual({ sent: false, reason: 'NOTIFY_SOCKET is not set' });
    expect(await notifySystemd({ READY: 1 }, { env: { NOTIFY_SOCKET: '/nonexistent/socket' }, command: 'deskset-no-such-notify' })).toEqual({ sent: false, reason: 'deskset-no-such-notify not found' });
  });

  it.skipIf(!HAVE_SYSTEMD_NOTIFY)('reports a socket nobody listens on', async () => {
    const r = await notifySystemd({ READY: 1 }, { env: { ...process.env, NOTIFY_SOCKET: '/nonexistent/deskset.sock' } });
    expect(r.sent).toBe(false);
    expect((r as { reason: string }).reason).toMatch(/systemd-notify exited [1-9]/);
  });
});

describe.skipIf(!CAN_LISTEN)('serve under systemd (Type=notify)', () => {
  it('sends READY=1 with a status once it listens, and answers phones at that point', async () => {
    const sock = await openNotifySocket();
    cleanups.push(() => sock.close());
    const root = await tmpRoot();
    const s = await serve(root.dir, { NOTIFY_SOCKET: sock.path });
    const msg = await sock.waitFor(/READY=1/);
    expect(msg.split('\n')).toEqual(['READY=1', `STATUS=serving ${SAMPLE_DEVICES} devices on port ${s.port}`]);
    // Ready means ready: the listener answers at once.
    expect((await get(`http://127.0.0.1:${s.port}`, '/c81fea83e85a.txt')).status).toBe(200);
    expect(s.stderr()).not.toContain('could not notify systemd');
  });

  it('with --workers 2: one READY=1 from the supervisor once both listen, and SIGHUP reaches both workers', async () => {
    const sock = await openNotifySocket();
    cleanups.push(() => sock.close());
    const root = await tmpRoot();
    const s = await serve(root.dir, { NOTIFY_SOCKET: sock.path }, ['--workers', '2']);
    // Two processes load, validate and warm up before READY: on a machine running the whole
    // suite that took 17 s once, past the one-process default of 15.
    // A worker that never comes up stops the server: say so, with what it printed.
    const exitedFirst = s.exited.then((x) => Promise.reject(new Error(`serve exited before READY=1 (${JSON.stringify(x)}):\n${s.stderr()}`)));
    await Promise.race([sock.waitFor(/READY=1/, 60_000), exitedFirst]).catch((e: Error) => {
      throw new Error(`${e.message}\nserve's stderr:\n${s.stderr()}`);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(sock.datagrams.filter((d) => d.includes('READY=1'))).toEqual(['READY=1\nSTATUS=serving with 2 workers']);
    s.child.kill('SIGHUP');
    const events = () => s.stdout().split('\n').filter((l) => l.includes('"event":"reloaded"')).length;
    await expect.poll(events, { timeout: 30_000, interval: 200 }).toBe(2);
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('says so on stderr (and keeps serving) when the socket is gone', async () => {
    const root = await tmpRoot();
    const s = await serve(root.dir, { NOTIFY_SOCKET: `${root.dir}/no-such-socket` });
    await expect.poll(() => s.stderr(), { timeout: 15_000 }).toMatch(/could not notify systemd: systemd-notify exited/);
    expect((await get(`http://127.0.0.1:${s.port}`, '/c81fea83e85a.txt')).status).toBe(200);
  });
});

describe('SIGHUP reloads the whole root', () => {
  it('picks up an edit the watcher never saw, keeps serving, and rejects a bad one without dying', async () => {
    const root = await tmpRoot();
    const s = await serve(root.dir);
    const base = `http://127.0.0.1:${s.port}`;
    expect((await get(base, '/c81fea83e85a.txt')).text).toContain('SET DISPLAY_NAME "Reception NYC"');
    const device = root.file('profiles/devices/c81fea83e85a.yaml');
    const good = await fs.readFile(device, 'utf8');
    await fs.writeFile(device, good.replace('Reception NYC', 'Reception HUP'));
    // --no-watch: nothing happens until the signal.
    await new Promise((r) => setTimeout(r, 300));
    expect((await get(base, '/c81fea83e85a.txt')).text).toContain('Reception NYC');

    s.child.kill('SIGHUP');
    await expect.poll(async () => (await get(base, '/c81fea83e85a.txt')).text, { timeout: 20_000, interval: 100 }).toContain('SET DISPLAY_NAME "Reception HUP"');
    const events = () => s.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events().some((e) => e.event === 'reload_requested')).toBe(true);
    expect(events().find((e) => e.event === 'reloaded')).toMatchObject({ changed: ['deskset.yaml', 'profiles', 'templates', 'schemas', 'resources', 'firmware'] });

    // A broken edit: rejected, the last good config keeps serving, the process lives on.
    await fs.writeFile(device, `${good}\n  bogus: [unclosed\n`);
    s.child.kill('SIGHUP');
    await expect.poll(() => events().some((e) => e.event === 'reload_rejected'), { timeout: 20_000, interval: 100 }).toBe(true);
    expect((await get(base, '/c81fea83e85a.txt')).text).toContain('Reception HUP');
    expect((await get(base, '/healthz')).status).toBe(503);

    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
  });
});
