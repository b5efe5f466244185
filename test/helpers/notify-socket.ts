// A stand-in for systemd's notification socket: a unix datagram socket (Node cannot open one,
// so python3 does) that records every datagram it receives. Like systemd, it discards the
// file descriptor systemd-notify sends with BARRIER=1, which is what lets the barrier complete.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LISTENER = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"datagram": data.decode("utf-8", "replace")}), flush=True)
`;

export const HAVE_PYTHON = spawnSync('python3', ['-c', 'pass']).status === 0;
export const HAVE_SYSTEMD_NOTIFY = spawnSync('systemd-notify', ['--version']).status === 0;

export interface NotifySocket {
  path: string;
  datagrams: string[];
  /** Resolves with the first datagram that matches. */
  waitFor(match: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function openNotifySocket(): Promise<NotifySocket> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-notify-'));
  const sock = path.join(dir, 'notify');
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const datagrams: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`notify listener exited (${code})`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const rec = JSON.parse(buf.slice(0, i)) as { listening?: boolean; datagram?: string };
        buf = buf.slice(i + 1);
        if (rec.listening) resolve();
        if (rec.datagram !== undefined) datagrams.push(rec.datagram);
        for (const w of waiters.splice(0)) w();
      }
    });
  });
  await listening;
  return {
    path: sock,
    datagrams,
    waitFor: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no datagram matching ${match} (got ${JSON.stringify(datagrams)})`)), timeoutMs);
        const check = () => {
          const hit = datagrams.find((d) => match.test(d));
          if (hit !== undefined) {
            clearTimeout(timer);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      }),
    close: async () => {
      child.kill('SIGTERM');
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
