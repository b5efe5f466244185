// Real TFTP clients from Debian (tftp-hpa's `tftp`, `atftp`) and a raw UDP socket, for the
// TFTP end-to-end tests. Both clients exit 0 on some failures (tftp-hpa always does), so
// callers compare the bytes fetched, never the exit code alone.

import { execFile, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  return undefined;
}

export const TFTP_HPA = which('tftp');
export const ATFTP = which('atftp');
export const HAVE_CLIENTS = !!TFTP_HPA && !!ATFTP;

/** One visible line per test file when the clients are missing (CI installs them: .ci/run). */
export function warnIfNoClients(file: string): void {
  if (!HAVE_CLIENTS) console.warn(`${file}: tftp-hpa's tftp or atftp is not installed (apt-get install tftp-hpa atftp): its real-client tests are skipped`);
}

export interface Fetched {
  /** The bytes written, or undefined when the client wrote no file. */
  bytes?: Buffer;
  output: string;
}

function run(cmd: string, args: string[], local: string, timeoutMs: number, prefix: string[] = []): Promise<Fetched> {
  const [bin, ...rest] = prefix.length ? [...prefix, cmd, ...args] : [cmd, ...args];
  return new Promise((resolve) => {
    execFile(bin!, rest, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (_err, stdout, stderr) => {
      resolve({ bytes: existsSync(local) ? readFileSync(local) : undefined, output: `${stdout}${stderr}` });
    });
  });
}

/** tftp-hpa: RFC 1350 only (no options). `mode` octet unless asked (its own default is netascii). */
export function hpaGet(host: string, port: number, name: string, local: string, opts: { mode?: 'octet' | 'netascii'; timeoutMs?: number; netns?: string } = {}): Promise<Fetched> {
  const mode = opts.mode === 'netascii' ? 'ascii' : 'binary';
  return run(TFTP_HPA!, [host, String(port), '-m', mode, '-c', 'get', name, local], local, opts.timeoutMs ?? 30_000, opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []);
}

export function hpaPut(host: string, port: number, local: string, name: string): Promise<Fetched> {
  return run(TFTP_HPA!, [host, String(port), '-m', 'binary', '-c', 'put', local, name], '/nonexistent', 10_000);
}

/** atftp with options (RFC 2347): e.g. { blksize: 1428, windowsize: 8, tsize: 0 }. */
export function atftpGet(host: string, port: number, name: string, local: string, options: Record<string, number> = {}, opts: { timeoutMs?: number; netns?: string } = {}): Promise<Fetched> {
  const o = Object.entries(options).flatMap(([k, v]) => ['--option', `${k} ${v}`]);
  return run(ATFTP!, [...o, '-g', '-r', name, '-l', local, host, String(port)], local, opts.timeoutMs ?? 60_000, opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []);
}

/** A raw UDP socket on 127.0.0.1 that collects what comes back. */
export async function rawSocket(bindAddress = '127.0.0.1'): Promise<{ send(buf: Buffer, port: number): void; received: Array<{ msg: Buffer; port: number }>; port: number; close(): void }> {
  const s = dgram.createSocket('udp4');
  const received: Array<{ msg: Buffer; port: number }> = [];
  s.on('message', (msg, r) => received.push({ msg, port: r.port }));
  await new Promise<void>((resolve) => s.bind(0, bindAddress, resolve));
  return {
    send: (buf, port) => s.send(buf, port, '127.0.0.1'),
    received,
    port: s.address().port,
    close: () => s.close(),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The port `deskset serve --tftp-port 0` chose, from its banner line on stderr. */
export function tftpPortOf(child: ChildProcess, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`serve printed no TFTP line: ${err}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /TFTP on [^\s]+:(\d+) \(UDP, read-only\)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`serve exited (${code}): ${err}`));
    });
  });
}
