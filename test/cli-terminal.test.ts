// What a user at a terminal sees (issue 15, items 13 and 14): hash-password prompting without
// echo, and the progress line of check and render. The real CLI runs on a pseudo-terminal
// (python3's pty module, test/helpers/run_on_pty.py); the pipe cases use plain pipes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, collect, runCli } from './helpers/cli.js';
import { HAVE_PTY, runCliOnPty } from './helpers/pty.js';
import { verifyPassword } from '../src/security/password.js';
import { progressLine, startProgress } from '../src/cli/progress.js';
import { typeHidden, type HiddenState } from '../src/cli/read-hidden.js';

const PASSWORD = 'c0rrect horse ✓';
const HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;
/** One redraw of the progress line: carriage return, the line, erase to the end. */
const REDRAW = /\r(checking|rendering|writing): [\d,]+\/[\d,]+ files(, [\d,]+\/s, (\d+ min )?\d+ s left)?\x1b\[K/g;
/** The line shown while the root loads, before there is anything to count; erased after. */
const LOADING = (root: string) => `\rloading ${root}…\x1b[K\r\x1b[K`;

if (!HAVE_PTY) console.warn('cli-terminal: python3 with its pty module is missing; the pseudo-terminal tests are skipped');

describe('typeHidden (the keystrokes of a hidden prompt)', () => {
  const type = (...chunks: string[]) => chunks.reduce<HiddenState>((s, c) => typeHidden(s, c), { text: '', status: 'typing' });
  it('Enter ends the line, in one chunk or many', () => {
    expect(type('abc\r')).toEqual({ text: 'abc', status: 'entered' });
    expect(type('a', 'b', 'c', '\n')).toEqual({ text: 'abc', status: 'entered' });
  });
  it('Backspace deletes one character (a whole one, not half of a UTF-16 pair); Ctrl-U the line', () => {
    expect(type('ab😀\x7f\x7fc\r')).toEqual({ text: 'ac', status: 'entered' });
    expect(type('wrong\x15right\r')).toEqual({ text: 'right', status: 'entered' });
  });
  it('Ctrl-C aborts; Ctrl-D aborts only an empty line; other control characters are dropped', () => {
    expect(type('abc\x03')).toEqual({ text: '', status: 'aborted' });
    expect(type('\x04')).toEqual({ text: '', status: 'aborted' });
    expect(type('a\x04b\x1b\r')).toEqual({ text: 'ab', status: 'entered' });
  });
});

describe('progressLine', () => {
  it('count, rate and time left', () => {
    expect(progressLine('checking', 2500, 10000, 2500)).toBe('checking: 2,500/10,000 files, 2,500/s, 3 s left');
    expect(progressLine('checking', 1000, 100000, 1000)).toBe('checking: 1,000/100,000 files, 1,000/s, 1 min 39 s left');
  });
  it('no rate yet: the count only', () => {
    expect(progressLine('rendering', 0, 16)).toBe('rendering: 0/16 files');
  });
});

describe('startProgress on a fake terminal and clock', () => {
  function fakeTerminal() {
    const writes: string[] = [];
    const stream = { isTTY: true, columns: 120, write: (t: string) => writes.push(t) } as unknown as NodeJS.WriteStream;
    return { stream, writes };
  }

  it('redraws at most every 100 ms, always the last one, and erases itself at the end', () => {
    let t = 0;
    const { stream, writes } = fakeTerminal();
    const p = startProgress('checking', { stream, now: () => t });
    for (let done = 0; done < 1000; done++) {
      t = done; // one file a millisecond
      p.update(done, 1000);
    }
    t = 1000;
    p.update(1000, 1000);
    p.end();
    expect(writes).toHaveLength(10 + 1 + 1);
    expect(writes[0]).toBe('\rchecking: 0/1,000 files\x1b[K');
    expect(writes.at(-2)).toBe('\rchecking: 1,000/1,000 files, 1,000/s, 0 s left\x1b[K');
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('the rate comes from the last two seconds, not from a slow start', () => {
    let t = 0;
    const { stream, writes } = fakeTerminal();
    const p = startProgress('checking', { stream, now: () => t });
    p.update(0, 100_000);
    // A slow first second (schemas compiling), then 10,000 files a second.
    for (t = 1000; t <= 6000; t += 100) p.update((t - 1000) * 10, 100_000);
    expect(writes.at(-1)).toBe('\rchecking: 50,000/100,000 files, 10,000/s, 5 s left\x1b[K');
  });

  it('draws nothing when the stream is not a terminal, or with quiet', () => {
    const { stream, writes } = fakeTerminal();
    startProgress('checking', { stream, quiet: true }).update(1, 2);
    const pipe = { isTTY: false, write: (x: string) => writes.push(x) } as unknown as NodeJS.WriteStream;
    const p = startProgress('checking', { stream: pipe });
    p.update(1, 2);
    p.end();
    expect(writes).toEqual([]);
  });
});

describe.skipIf(!HAVE_PTY)('hash-password at a terminal', () => {
  it('prompts twice on the terminal, echoes nothing, prints the hash on stdout', async () => {
    const r = runCliOnPty(['hash-password'], { tty: ['stdin', 'stderr'], script: [['Password: ', `${PASSWORD}\r`], ['Again: ', `${PASSWORD}\r`]] });
    expect(r.unsent).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.tty).toBe('Password: \r\nAgain: \r\n');
    expect(r.tty).not.toContain('c0rrect');
    expect(r.stdout).toMatch(new RegExp(HASH.source.slice(0, -1) + '\\n$'));
    expect(await verifyPassword(PASSWORD, r.stdout.trim())).toBe(true);
  });

  it('two different answers: an error, no hash, exit 1', () => {
    const r = runCliOnPty(['hash-password'], { tty: ['stdin', 'stderr'], script: [['Password: ', `${PASSWORD}\r`], ['Again: ', `${PASSWORD}x\r`]] });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.tty).toContain('the passwords differ');
    expect(r.tty).not.toContain('c0rrect');
  });

  it('a typo corrected with Backspace counts as corrected', async () => {
    const r = runCliOnPty(['hash-password'], { tty: ['stdin', 'stderr'], script: [['Password: ', 'secrex\x7ft\r'], ['Again: ', 'secret\r']] });
    expect(r.code).toBe(0);
    expect(await verifyPassword('secret', r.stdout.trim())).toBe(true);
  });

  it('Ctrl-C at the prompt: nothing printed, exit 130', () => {
    const r = runCliOnPty(['hash-password'], { tty: ['stdin', 'stderr'], script: [['Password: ', 'abc\x03']] });
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('');
  });
});

describe('hash-password on a pipe reads one line, as before', () => {
  it.each([['with a newline', `${PASSWORD}\n`], ['without one', PASSWORD], ['with CRLF', `${PASSWORD}\r\n`]])('%s', async (_name, input) => {
    const child = spawn(process.execPath, [BIN, 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(input);
    const r = await collect(child);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(await verifyPassword(PASSWORD, r.stdout.trim())).toBe(true);
  });
});

describe('progress on stderr', () => {
  let root: string;
  let out: string;
  beforeAll(async () => {
    const { writeRoot } = await import('../bench/gen-root.js');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-progress-'));
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-progress-out-'));
    await writeRoot(root, 400, 5);
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(out, { recursive: true, force: true });
  });

  it.skipIf(!HAVE_PTY)('check on a terminal: the line is redrawn in place and erased; the report is untouched on stdout', () => {
    const r = runCliOnPty(['check', root], { tty: ['stderr'] });
    expect(r.code).toBe(0);
    const draws = [...r.tty.matchAll(REDRAW)];
    expect(draws.length).toBeGreaterThanOrEqual(2);
    expect(draws[0]![0]).toMatch(/checking: 0\/[\d,]+ files/);
    // The last one counts every file, and the line is then erased for what follows.
    const total = /\/([\d,]+) files/.exec(draws[0]![0])![1]!;
    expect(draws.at(-1)![0]).toContain(`checking: ${total}/${total} files`);
    expect(r.tty.startsWith(LOADING(root))).toBe(true);
    expect(r.tty.slice(LOADING(root).length).replace(REDRAW, '')).toBe('\r\x1b[K');
    expect(r.stdout).toMatch(/^400 devices, [\d,]+ files rendered and validated: 0 errors, 0 warnings\n$/);
  });

  it.skipIf(!HAVE_PTY)('render on a terminal: rendering, then writing', () => {
    const r = runCliOnPty(['render', root, '--out', out, '--json'], { tty: ['stderr'] });
    expect(r.code).toBe(0);
    expect(r.tty.startsWith(LOADING(root))).toBe(true);
    const labels = [...r.tty.matchAll(REDRAW)].map((m) => m[1]);
    expect(labels[0]).toBe('rendering');
    expect(labels).toContain('writing');
    expect(labels.indexOf('writing')).toBeGreaterThan(labels.lastIndexOf('rendering'));
    expect((JSON.parse(r.stdout) as { files: unknown[] }).files.length).toBeGreaterThan(400);
  });

  it.skipIf(!HAVE_PTY)('--quiet: nothing on the terminal at all', () => {
    for (const args of [['check', root, '--quiet'], ['render', root, '--out', out, '-q']]) {
      const r = runCliOnPty(args, { tty: ['stderr'] });
      expect([args, r.code, r.tty]).toEqual([args, 0, '']);
    }
  });

  it('on a pipe: nothing extra on stderr', async () => {
    for (const args of [['check', root], ['render', root, '--out', out]]) {
      const r = await runCli(args);
      expect([args, r.code, r.stderr]).toEqual([args, 0, '']);
    }
  });
});
