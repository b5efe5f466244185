import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { UploadStore, UPLOAD_KINDS } from '../src/service/upload-store.js';

// The store on a real temp directory: the guarantees under test (atomic replace, no escape
// from the state directory, no temp files left) are filesystem behaviour, so no mocks.

let base: string; // parent of the state dir: anything written here besides state/ is an escape
let dir: string;

beforeEach(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'deskset-upload-store-'));
  dir = path.join(base, 'state');
});
afterEach(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

const MAC = '0004f2a1b2c3';

function body(...parts: Array<string | Buffer>): AsyncIterable<Buffer> {
  return (async function* () {
    for (const p of parts) yield Buffer.from(p);
  })();
}

/** Every file under `root`, relative, sorted ('' when root is absent). */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = await fsp.lstat(p);
      out.push(path.relative(root, p) + (st.isDirectory() ? '/' : ''));
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk(root);
  return out.sort();
}

const temps = async () => (await tree(dir)).filter((p) => p.endsWith('.tmp'));

describe('classify', () => {
  const store = new UploadStore({ dir: '/nonexistent' });
  it.each([
    ['0004f2a1b2c3-app.log', '0004f2a1b2c3', 'app.log'],
    ['0004F2A1B2C3-boot.log', '0004f2a1b2c3', 'boot.log'],
    ['0004f2A1b2C3-phone.cfg', '0004f2a1b2c3', 'phone.cfg'],
    ['64167fabcdef-web.cfg', '64167fabcdef', 'web.cfg'],
    ['0004f2a1b2c3-directory.xml', '0004f2a1b2c3', 'directory.xml'],
    ['0004f2a1b2c3-calls.xml', '0004f2a1b2c3', 'calls.xml'],
    ['805EC0123456-contact.xml', '805ec0123456', 'contact.xml'],
    ['805ec0123456-local.cfg', '805ec0123456', 'local.cfg'],
  ])('accepts %s', (name, mac, kind) => {
    expect(store.classify(name)).toEqual({ mac, kind });
  });

  it.each([
    ['000000000000-app.log', 'the all-zero MAC is every phone, not a phone'],
    ['000000000000-phone.cfg', 'same, override kind'],
    ['0004f2a1b2c-app.log', '11 hex digits'],
    ['0004f2a1b2c3a-app.log', '13 hex digits'],
    ['0004f2a1b2g3-app.log', 'non-hex digit'],
    ['0004f2a1b2c3.cfg', 'the main config is rendered, never uploaded'],
    ['0004f2a1b2c3-license.cfg', 'a suffix the phone downloads, not uploads'],
    ['0004f2a1b2c3-app.log.txt', 'extra suffix'],
    ['0004f2a1b2c3-app.log~', 'editor backup suffix'],
    ['0004f2a1b2c3-APP.LOG', 'suffixes are exact'],
    ['0004f2a1b2c3-constructor', 'prototype keys are not kinds'],
    ['0004f2a1b2c3-__proto__', 'prototype keys are not kinds'],
    ['x0004f2a1b2c3-app.log', 'prefix'],
    ['00:04:f2:a1:b2:c3-app.log', 'separated MAC notation'],
    ['../0004f2a1b2c3-app.log', 'traversal'],
    ['..', 'dot-dot'],
    ['0004f2a1b2c3-app.log/..', 'trailing traversal'],
    ['uploads/0004f2a1b2c3-app.log', 'slash'],
    ['/0004f2a1b2c3-app.log', 'absolute'],
    ['..\\0004f2a1b2c3-app.log', 'backslash'],
    ['0004f2a1b2c3-app.log\u0000.txt', 'NUL'],
    ['0004f2a1b2c3-app.log\n', 'trailing newline ($ must not match before it)'],
    [' 0004f2a1b2c3-app.log', 'leading space'],
    ['', 'empty'],
    [`0004f2a1b2c3-${'a'.repeat(5000)}.log`, 'overlong'],
    ['a'.repeat(5000), 'overlong junk'],
  ])('rejects %j (%s)', (name) => {
    expect(store.classify(name)).toBeUndefined();
  });

  it('every kind in the table classifies (adding a kind is one line)', () => {
    for (const kind of Object.keys(UPLOAD_KINDS)) expect(store.classify(`${MAC}-${kind}`)).toEqual({ mac: MAC, kind });
  });
});

describe('put / get', () => {
  it('creates (201), then replaces (204); get returns the newest bytes', async () => {
    const store = new UploadStore({ dir });
    expect(await store.put(`${MAC}-phone.cfg`, body('<a/>'), 4)).toMatchObject({ status: 201, bytes: 4 });
    expect(await fsp.readFile(path.join(dir, 'uploads', MAC, `${MAC}-phone.cfg`), 'utf8')).toBe('<a/>');
    expect(await store.put(`${MAC}-phone.cfg`, body('<bb/>', '\n'), 6)).toMatchObject({ status: 204, bytes: 6 });
    const got = await store.get(`${MAC}-phone.cfg`);
    expect(got?.size).toBe(6);
    expect(await fsp.readFile(got!.path, 'utf8')).toBe('<bb/>\n');
    expect(await temps()).toEqual([]);
  });

  it('normalises the MAC: an upper-case upload is the same file as a lower-case GET', async () => {
    const store = new UploadStore({ dir });
    expect((await store.put('0004F2A1B2C3-web.cfg', body('x'), 1)).status).toBe(201);
    expect((await store.get('0004f2a1b2c3-web.cfg'))?.size).toBe(1);
    expect(await tree(path.join(dir, 'uploads'))).toEqual([`${MAC}/`, `${MAC}/${MAC}-web.cfg`]);
  });

  it('accepts a Node Readable (what an HTTP request is) and string chunks', async () => {
    const store = new UploadStore({ dir });
    expect((await store.put(`${MAC}-calls.xml`, Readable.from(['ab', Buffer.from('cd')]), 4)).status).toBe(201);
    expect(await fsp.readFile((await store.get(`${MAC}-calls.xml`))!.path, 'utf8')).toBe('abcd');
  });

  it('refuses names outside the allow-list with 403 and writes nothing', async () => {
    const store = new UploadStore({ dir });
    for (const name of ['000000000000-phone.cfg', '../x-app.log', `${MAC}.cfg`, `${MAC}-app.log/../../x`]) {
      expect(await store.put(name, body('x'), 1)).toMatchObject({ status: 403 });
    }
    expect(await tree(base)).toEqual([]);
  });

  it('411 without a declared length; 400 for a nonsense one', async () => {
    const store = new UploadStore({ dir });
    expect((await store.put(`${MAC}-phone.cfg`, body('x'), undefined)).status).toBe(411);
    expect((await store.put(`${MAC}-phone.cfg`, body('x'), -1)).status).toBe(400);
    expect((await store.put(`${MAC}-phone.cfg`, body('x'), 1.5)).status).toBe(400);
    expect(await store.get(`${MAC}-phone.cfg`)).toBeUndefined();
  });

  it('does not serve logs back', async () => {
    const store = new UploadStore({ dir });
    expect((await store.put(`${MAC}-app.log`, body('log'), 3)).status).toBe(201);
    expect(await store.get(`${MAC}-app.log`)).toBeUndefined();
  });
});

describe('limits', () => {
  it('413 on a declared length over the per-file cap, without reading the body', async () => {
    const store = new UploadStore({ dir, maxFileBytes: 10 });
    let pulled = 0;
    const src = (async function* () {
      pulled++;
      yield Buffer.alloc(11);
    })();
    expect((await store.put(`${MAC}-phone.cfg`, src, 11)).status).toBe(413);
    expect(pulled).toBe(0);
    expect(await tree(path.join(dir, 'uploads'))).toEqual([]);
    // The cap is inclusive.
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(10)), 10)).status).toBe(201);
  });

  it('logs have their own cap', async () => {
    const store = new UploadStore({ dir, maxFileBytes: 10, maxLogBytes: 20 });
    expect((await store.put(`${MAC}-app.log`, body(Buffer.alloc(20)), 20)).status).toBe(201);
    expect((await store.put(`${MAC}-app.log`, body(Buffer.alloc(21)), 21)).status).toBe(413);
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(20)), 20)).status).toBe(413);
  });

  it('stops reading as soon as the actual bytes cross the declared length or cap', async () => {
    const store = new UploadStore({ dir, maxFileBytes: 100 });
    let pulled = 0;
    const endless = (async function* () {
      for (;;) {
        pulled++;
        yield Buffer.alloc(30);
      }
    })();
    // Declares 50 (within the cap) but keeps sending: refused at the chunk that crosses 50.
    expect(await store.put(`${MAC}-phone.cfg`, endless, 50)).toMatchObject({ status: 400, bytes: 60 });
    expect(pulled).toBe(2);
    expect(await store.get(`${MAC}-phone.cfg`)).toBeUndefined();
    expect(await temps()).toEqual([]);
  });

  it('413 when the device quota would be exceeded; other devices are unaffected', async () => {
    const store = new UploadStore({ dir, maxDeviceBytes: 100 });
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(60)), 60)).status).toBe(201);
    expect((await store.put(`${MAC}-web.cfg`, body(Buffer.alloc(41)), 41)).status).toBe(413);
    expect(await store.get(`${MAC}-web.cfg`)).toBeUndefined();
    expect((await store.put(`${MAC}-web.cfg`, body(Buffer.alloc(40)), 40)).status).toBe(201);
    // Replacing counts the new size, not old + new.
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(60)), 60)).status).toBe(204);
    // Logs count too: they grow the device's total.
    expect((await store.put(`${MAC}-app.log`, body('x'), 1)).status).toBe(413);
    expect((await store.put('64167fabcdef-phone.cfg', body(Buffer.alloc(100)), 100)).status).toBe(201);
    expect(await temps()).toEqual([]);
  });

  it('the quota holds for concurrent uploads that each fit alone (re-checked at commit)', async () => {
    const store = new UploadStore({ dir, maxDeviceBytes: 100 });
    // Both uploads pass the early check (the device holds nothing yet) before either commits.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const gated = (n: number) =>
      (async function* () {
        await gate;
        yield Buffer.alloc(n);
      })();
    const a = store.put(`${MAC}-phone.cfg`, gated(60), 60);
    const b = store.put(`${MAC}-web.cfg`, gated(60), 60);
    await new Promise((r) => setTimeout(r, 50));
    open();
    const statuses = [(await a).status, (await b).status].sort();
    expect(statuses).toEqual([201, 413]);
    const files = (await store.listForDevice(MAC)).map((f) => f.size);
    expect(files).toEqual([60]);
    expect(await temps()).toEqual([]);
  });
});

describe('torn uploads', () => {
  it('a body shorter than declared replaces nothing and leaves no temp file', async () => {
    const store = new UploadStore({ dir });
    await store.put(`${MAC}-directory.xml`, body('<good/>'), 7);
    expect(await store.put(`${MAC}-directory.xml`, body('<ba'), 1000)).toMatchObject({ status: 400, bytes: 3 });
    expect(await fsp.readFile((await store.get(`${MAC}-directory.xml`))!.path, 'utf8')).toBe('<good/>');
    expect(await temps()).toEqual([]);
  });

  it('a source that errors mid-way (client aborted) replaces nothing', async () => {
    const store = new UploadStore({ dir });
    await store.put(`${MAC}-directory.xml`, body('<good/>'), 7);
    const failing = (async function* () {
      yield Buffer.from('<half');
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    })();
    expect((await store.put(`${MAC}-directory.xml`, failing, 100)).status).toBe(400);
    expect(await fsp.readFile((await store.get(`${MAC}-directory.xml`))!.path, 'utf8')).toBe('<good/>');
    // A source that fails after delivering the declared count is still a failed upload.
    const lateFailure = (async function* () {
      yield Buffer.from('<bad/>!');
      throw new Error('socket error after the last byte');
    })();
    expect((await store.put(`${MAC}-directory.xml`, lateFailure, 7)).status).toBe(400);
    expect(await fsp.readFile((await store.get(`${MAC}-directory.xml`))!.path, 'utf8')).toBe('<good/>');
    // A torn log append must not touch the day file either.
    await store.put(`${MAC}-app.log`, body('line1\n'), 6);
    expect((await store.put(`${MAC}-app.log`, body('li'), 6)).status).toBe(400);
    const [log] = (await store.listForDevice(MAC)).filter((f) => f.kind === 'app.log');
    expect(await fsp.readFile(path.join(dir, 'logs', MAC, log!.name), 'utf8')).toBe('line1\n');
    expect(await temps()).toEqual([]);
  });

  it('50 concurrent puts of the same name end with exactly one intact body and no temp files', async () => {
    // The per-device concurrency limit raised, so all 50 really run at once.
    const store = new UploadStore({ dir, maxConcurrentPerDevice: 64 });
    const bodies = Array.from({ length: 50 }, () => crypto.randomBytes(100 * 1024));
    // Several chunks with yields between them, so the writes really interleave.
    const chunked = (b: Buffer) =>
      (async function* () {
        for (let off = 0; off < b.length; off += 16 * 1024) {
          await new Promise((r) => setImmediate(r));
          yield b.subarray(off, off + 16 * 1024);
        }
      })();
    const results = await Promise.all(bodies.map((b) => store.put(`${MAC}-directory.xml`, chunked(b), b.length)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 204)).toHaveLength(49);
    const final = await fsp.readFile((await store.get(`${MAC}-directory.xml`))!.path);
    expect(bodies.filter((b) => b.equals(final))).toHaveLength(1);
    expect(await temps()).toEqual([]);
  });
});

describe('durability and disk full', () => {
  // FileHandle is not exported; take its prototype from a real handle.
  async function fileHandleProto(): Promise<{ sync: () => Promise<void>; write: (...a: unknown[]) => Promise<unknown> }> {
    const h = await fsp.open(base, 'r');
    await h.close();
    return Object.getPrototypeOf(h);
  }
  afterEach(() => vi.restoreAllMocks());

  it('fsyncs the new file before the rename and the directory after it', async () => {
    const store = new UploadStore({ dir });
    await store.put(`${MAC}-phone.cfg`, body('<a/>'), 4);
    const sync = vi.spyOn(await fileHandleProto(), 'sync');
    await store.put(`${MAC}-phone.cfg`, body('<b/>'), 4);
    // A power cut can otherwise leave an empty file (data not synced) or the old name (dir not synced).
    expect(sync).toHaveBeenCalledTimes(2);
  });

  it('ENOSPC while writing → 507, old file intact, no temp file', async () => {
    const store = new UploadStore({ dir });
    await store.put(`${MAC}-phone.cfg`, body('<good/>'), 7);
    vi.spyOn(await fileHandleProto(), 'write').mockRejectedValueOnce(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    expect((await store.put(`${MAC}-phone.cfg`, body('<new/>'), 6)).status).toBe(507);
    expect(await fsp.readFile((await store.get(`${MAC}-phone.cfg`))!.path, 'utf8')).toBe('<good/>');
    expect(await temps()).toEqual([]);
  });
});

describe('logs', () => {
  it('appends uploads of the same UTC day into one file; a new day starts a new file', async () => {
    let now = new Date('2024-05-01T08:00:00Z');
    const store = new UploadStore({ dir, now: () => now });
    expect((await store.put(`${MAC}-app.log`, body('one\n'), 4)).status).toBe(201);
    now = new Date('2024-05-01T23:59:59Z');
    expect((await store.put(`${MAC}-app.log`, body('two\n'), 4)).status).toBe(204);
    expect((await store.put(`${MAC}-boot.log`, body('boot\n'), 5)).status).toBe(201);
    now = new Date('2024-05-02T00:00:00Z');
    expect((await store.put(`${MAC}-app.log`, body('three\n'), 6)).status).toBe(201);
    const logDir = path.join(dir, 'logs', MAC);
    expect(await fsp.readFile(path.join(logDir, '2024-05-01-app.log'), 'utf8')).toBe('one\ntwo\n');
    expect(await fsp.readFile(path.join(logDir, '2024-05-01-boot.log'), 'utf8')).toBe('boot\n');
    expect(await fsp.readFile(path.join(logDir, '2024-05-02-app.log'), 'utf8')).toBe('three\n');
    expect(await temps()).toEqual([]);
  });

  it('concurrent appends lose nothing (appends are serialised per device)', async () => {
    const store = new UploadStore({ dir, now: () => new Date('2024-05-01T12:00:00Z'), maxConcurrentPerDevice: 64 });
    const lines = Array.from({ length: 30 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`);
    const results = await Promise.all(lines.map((l) => store.put(`${MAC}-app.log`, body(l), l.length)));
    expect(results.every((r) => r.status === 201 || r.status === 204)).toBe(true);
    const text = await fsp.readFile(path.join(dir, 'logs', MAC, '2024-05-01-app.log'), 'utf8');
    expect(text.split('\n').filter(Boolean).sort()).toEqual(lines.map((l) => l.trim()));
  });

  it('pruneLogs deletes day files older than the retention, with an injected clock', async () => {
    let now = new Date('2024-05-01T10:00:00Z');
    const store = new UploadStore({ dir, logRetentionDays: 10, now: () => now });
    for (const day of ['2024-05-01', '2024-05-09', '2024-05-10', '2024-05-20']) {
      now = new Date(`${day}T10:00:00Z`);
      await store.put(`${MAC}-app.log`, body(day), day.length);
      await store.put(`64167fabcdef-boot.log`, body(day), day.length);
    }
    await store.put(`${MAC}-phone.cfg`, body('<keep/>'), 7);
    now = new Date('2024-05-20T23:00:00Z');
    // 05-01 and 05-09 are more than 10 days before 05-20; 05-10 is exactly 10 and stays.
    expect(await store.pruneLogs()).toBe(4);
    expect(await tree(path.join(dir, 'logs'))).toEqual([
      '0004f2a1b2c3/',
      '0004f2a1b2c3/2024-05-10-app.log',
      '0004f2a1b2c3/2024-05-20-app.log',
      '64167fabcdef/',
      '64167fabcdef/2024-05-10-boot.log',
      '64167fabcdef/2024-05-20-boot.log',
    ]);
    expect(await store.get(`${MAC}-phone.cfg`)).toBeDefined();
    expect(await store.pruneLogs()).toBe(0);
  });
});

describe('listForDevice', () => {
  it('lists uploads then day logs, with kind, size and mtime; other devices and strays are not listed', async () => {
    const store = new UploadStore({ dir, now: () => new Date('2024-05-01T10:00:00Z') });
    await store.put(`${MAC}-web.cfg`, body('<w/>'), 4);
    await store.put(`${MAC}-phone.cfg`, body('<p/>!'), 5);
    await store.put(`${MAC}-app.log`, body('log'), 3);
    await store.put('64167fabcdef-phone.cfg', body('<o/>'), 4);
    await fsp.writeFile(path.join(dir, 'uploads', MAC, 'stray.txt'), 'x');
    const list = await store.listForDevice('00:04:F2:A1:B2:C3');
    expect(list.map(({ name, kind, size }) => ({ name, kind, size }))).toEqual([
      { name: `${MAC}-phone.cfg`, kind: 'phone.cfg', size: 5 },
      { name: `${MAC}-web.cfg`, kind: 'web.cfg', size: 4 },
      { name: '2024-05-01-app.log', kind: 'app.log', size: 3 },
    ]);
    expect(list.every((f) => f.mtime instanceof Date)).toBe(true);
    expect(await store.listForDevice('deadbeef0000')).toEqual([]);
    expect(await store.listForDevice('not a mac')).toEqual([]);
  });
});

describe('symlinks inside the state directory', () => {
  it('a pre-placed uploads/<mac> symlink is not followed: refused, nothing written there', async () => {
    const elsewhere = path.join(base, 'elsewhere');
    await fsp.mkdir(elsewhere);
    await fsp.mkdir(path.join(dir, 'uploads'), { recursive: true });
    await fsp.symlink(elsewhere, path.join(dir, 'uploads', MAC));
    const store = new UploadStore({ dir });
    expect(await store.put(`${MAC}-phone.cfg`, body('<evil/>'), 7)).toMatchObject({ status: 403 });
    expect(await fsp.readdir(elsewhere)).toEqual([]);
    // Nor is it read through: a file placed there is not "uploaded".
    await fsp.writeFile(path.join(elsewhere, `${MAC}-phone.cfg`), 'secret');
    expect(await store.get(`${MAC}-phone.cfg`)).toBeUndefined();
    expect(await store.listForDevice(MAC)).toEqual([]);
  });

  it('a symlinked top-level uploads/ or logs/ directory is refused too', async () => {
    const elsewhere = path.join(base, 'elsewhere');
    await fsp.mkdir(elsewhere);
    await fsp.mkdir(dir);
    await fsp.symlink(elsewhere, path.join(dir, 'logs'));
    const store = new UploadStore({ dir });
    expect((await store.put(`${MAC}-app.log`, body('x'), 1)).status).toBe(403);
    expect(await fsp.readdir(elsewhere)).toEqual([]);
  });

  it('a symlink planted as the day log file is neither read nor written through', async () => {
    const secret = path.join(base, 'secret');
    await fsp.writeFile(secret, 'do not append to me');
    const store = new UploadStore({ dir, now: () => new Date('2024-05-01T10:00:00Z') });
    await fsp.mkdir(path.join(dir, 'logs', MAC), { recursive: true });
    await fsp.symlink(secret, path.join(dir, 'logs', MAC, '2024-05-01-app.log'));
    expect((await store.put(`${MAC}-app.log`, body('x'), 1)).status).toBe(403);
    expect(await fsp.readFile(secret, 'utf8')).toBe('do not append to me');
    expect(await temps()).toEqual([]);
  });

  it('a symlink planted as an override file is replaced, not written through, and never served', async () => {
    const secret = path.join(base, 'secret');
    await fsp.writeFile(secret, 'root:x:0:0');
    await fsp.mkdir(path.join(dir, 'uploads', MAC), { recursive: true });
    const link = path.join(dir, 'uploads', MAC, `${MAC}-phone.cfg`);
    await fsp.symlink(secret, link);
    const store = new UploadStore({ dir });
    expect(await store.get(`${MAC}-phone.cfg`)).toBeUndefined();
    expect((await store.put(`${MAC}-phone.cfg`, body('<p/>'), 4)).status).toBe(204);
    expect(await fsp.readFile(secret, 'utf8')).toBe('root:x:0:0');
    expect((await fsp.lstat(link)).isSymbolicLink()).toBe(false);
  });
});

describe('removeStaleTemps', () => {
  it('removes old temp files a crash left behind, not fresh ones', async () => {
    const store = new UploadStore({ dir });
    await store.put(`${MAC}-phone.cfg`, body('<p/>'), 4);
    const devDir = path.join(dir, 'uploads', MAC);
    const old = path.join(devDir, `.${MAC}-phone.cfg.0123456789abcdef.tmp`);
    const fresh = path.join(devDir, `.${MAC}-phone.cfg.fedcba9876543210.tmp`);
    await fsp.writeFile(old, 'torn');
    await fsp.writeFile(fresh, 'in flight');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fsp.utimes(old, twoHoursAgo, twoHoursAgo);
    expect(await store.removeStaleTemps()).toBe(1);
    expect((await fsp.readdir(devDir)).sort()).toEqual([`.${MAC}-phone.cfg.fedcba9876543210.tmp`, `${MAC}-phone.cfg`]);
  });
});

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

describe('uploads in flight count against the quota', () => {
  const stalled = (n: number, release: Promise<void>) =>
    (async function* () {
      yield Buffer.alloc(n);
      await release;
    })();

  it('a declared length that does not fit beside uploads in flight is refused (413) before it is read', async () => {
    const store = new UploadStore({ dir, maxDeviceBytes: 100, maxConcurrentPerDevice: 8 });
    let open!: () => void;
    const release = new Promise<void>((r) => (open = r));
    const a = store.put(`${MAC}-phone.cfg`, stalled(60, release), 60);
    await new Promise((r) => setTimeout(r, 30));
    let read = false;
    const b = await store.put(`${MAC}-web.cfg`, (async function* () { read = true; yield Buffer.alloc(60); })(), 60);
    expect(b).toMatchObject({ status: 413, reason: 'exceeds device quota' });
    expect(read).toBe(false);
    open();
    expect((await a).status).toBe(201);
  });

  it('a chunked (streamed) body is refused as soon as it crosses the room left', async () => {
    const store = new UploadStore({ dir, maxDeviceBytes: 100 });
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(70)), 70)).status).toBe(201);
    let chunks = 0;
    const endless = (async function* () {
      for (;;) {
        chunks++;
        yield Buffer.alloc(10);
      }
    })();
    expect(await store.put(`${MAC}-web.cfg`, endless, 'streamed')).toMatchObject({ status: 413, reason: 'exceeds device quota' });
    expect(chunks).toBe(4); // 30 bytes fitted, the fourth chunk did not
    expect(await temps()).toEqual([]);
    // A streamed body that fits is stored.
    expect((await store.put(`${MAC}-web.cfg`, body('a', 'b'), 'streamed')).status).toBe(201);
  });

  it('replacing a file near the quota is allowed: the old size is credited (once)', async () => {
    const store = new UploadStore({ dir, maxDeviceBytes: 100 });
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(90)), 90)).status).toBe(201);
    expect((await store.put(`${MAC}-phone.cfg`, body(Buffer.alloc(95)), 95)).status).toBe(204);
  });

  it('beyond maxConcurrentPerDevice, uploads wait their turn unread; too many waiting get 429; other devices do not wait', async () => {
    const store = new UploadStore({ dir, maxConcurrentPerDevice: 1 });
    let open!: () => void;
    const release = new Promise<void>((r) => (open = r));
    const first = store.put(`${MAC}-phone.cfg`, stalled(5, release), 5);
    await new Promise((r) => setTimeout(r, 30));
    // 16 wait (one slot × 16); their bodies are not read until they get the slot.
    let read = 0;
    const counted = (async function* () { read++; yield Buffer.from('x'); })();
    const waiting = [store.put(`${MAC}-calls.xml`, counted, 1), ...Array.from({ length: 15 }, () => store.put(`${MAC}-calls.xml`, body('x'), 1))];
    await new Promise((r) => setTimeout(r, 30));
    expect(read).toBe(0);
    expect((await store.put(`${MAC}-web.cfg`, body('x'), 1)).status).toBe(429);
    expect((await store.put('64167fabcdef-calls.xml', body('x'), 1)).status).toBe(201);
    open();
    expect((await first).status).toBe(201);
    const statuses = (await Promise.all(waiting)).map((r) => r.status);
    expect(read).toBe(1);
    expect(statuses[0]).toBe(201);
    expect(statuses.slice(1).every((st) => st === 204)).toBe(true);
    // Slots are given back.
    expect((await store.put(`${MAC}-web.cfg`, body('x'), 1)).status).toBe(201);
  });
});

describe('crash recovery at start', () => {
  it('removes temp files of a dead process at once, keeps those of live ones', async () => {
    const store = new UploadStore({ dir });
    await store.put(`${MAC}-phone.cfg`, body('<p/>'), 4);
    const devDir = path.join(dir, 'uploads', MAC);
    const dead = `.${MAC}-phone.cfg.${await deadPid()}.0123456789abcdef.tmp`;
    const live = `.${MAC}-phone.cfg.${process.pid}.fedcba9876543210.tmp`;
    await fsp.writeFile(path.join(devDir, dead), 'torn');
    await fsp.writeFile(path.join(devDir, live), 'in flight');
    expect(await store.removeStaleTemps()).toBe(1);
    expect((await fsp.readdir(devDir)).sort()).toEqual([live, `${MAC}-phone.cfg`].sort());
  });

  it('rolls back a log append a dead process left half done (journal), and drops a torn journal', async () => {
    const store = new UploadStore({ dir, now: () => new Date('2024-05-01T12:00:00Z') });
    await store.put(`${MAC}-app.log`, body('whole line\n'), 11);
    const logDir = path.join(dir, 'logs', MAC);
    const day = path.join(logDir, '2024-05-01-app.log');
    // What a kill -9 in the middle of an append leaves: the journal and a half-appended tail.
    const pid = await deadPid();
    await fsp.writeFile(path.join(logDir, `.2024-05-01-app.log.${pid}.append`), '11\n');
    await fsp.appendFile(day, 'half a li');
    await fsp.writeFile(path.join(logDir, `.2024-05-01-boot.log.${pid}.append`), '1');
    await store.removeStaleTemps();
    expect(await fsp.readFile(day, 'utf8')).toBe('whole line\n');
    expect((await fsp.readdir(logDir)).sort()).toEqual(['2024-05-01-app.log']);
    // A live writer's journal is left alone.
    await fsp.writeFile(path.join(logDir, `.2024-05-01-app.log.${process.pid}.append`), '3\n');
    await store.removeStaleTemps();
    expect(await fsp.readFile(day, 'utf8')).toBe('whole line\n');
  });
});
