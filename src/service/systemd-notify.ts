// Tell systemd (Type=notify) that deskset is ready, through $NOTIFY_SOCKET. The socket is a
// unix DATAGRAM socket, which Node cannot write to (dgram is UDP only, net is streams only) and
// a native add-on is not worth one message. So the message goes through `systemd-notify`,
// which ships with systemd itself, so it is present wherever $NOTIFY_SOCKET is set by systemd.
// Since systemd 246 it waits (BARRIER=1) until systemd has read the message, so its exit
// cannot race the manager's look-up of who sent it. Because the sender is our child, not the
// main process, the unit needs NotifyAccess=all (docs/deployment.md).

import { spawn } from 'node:child_process';

export type NotifyOutcome = { sent: true } | { sent: false; reason: string };

/**
 * `systemd-notify` arguments for the given fields (READY=1, STATUS=…). A newline inside a value
 * would smuggle in another field (e.g. MAINPID=), so it is replaced by a space.
 */
export function notifyArgs(fields: Record<string, string | number>): string[] {
  return Object.entries(fields).map(([k, v]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new RangeError(`not a notify field name: ${k}`);
    return `${k}=${String(v).replace(/[\r\n]+/g, ' ')}`;
  });
}

export interface NotifyOptions {
  env?: NodeJS.ProcessEnv;
  /** The program to run; default `systemd-notify` from PATH. */
  command?: string;
  /** Give up after this long (systemd-notify waits up to 5 s for its barrier). */
  timeoutMs?: number;
}

/** Send `fields` to $NOTIFY_SOCKET; without it (not run by systemd) nothing happens. Never throws. */
export function notifySystemd(fields: Record<string, string | number>, opts: NotifyOptions = {}): Promise<NotifyOutcome> {
  const env = opts.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return Promise.resolve({ sent: false, reason: 'NOTIFY_SOCKET is not set' });
  return new Promise((resolve) => {
    let stderr = '';
    let child;
    try {
      child = spawn(opts.command ?? 'systemd-notify', notifyArgs(fields), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      return resolve({ sent: false, reason: (err as Error).message });
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 500)));
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ sent: false, reason: err.code === 'ENOENT' ? `${opts.command ?? 'systemd-notify'} not found` : err.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? { sent: true } : { sent: false, reason: `${opts.command ?? 'systemd-notify'} ${signal ? `killed (${signal})` : `exited ${code}`}${stderr ? `: ${stderr.trim()}` : ''}` });
    });
  });
}
