// A simulated phone at a deskset server's 401 prompt: raw HTTP/1.1 over its own socket (from
// a chosen local address, so a test can be two clients), with the code typed as the Basic
// password; and codes issued for it by the real CLI.

import net from 'node:net';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { parseResponse, type RawResponse } from './e2e-http.js';

export function phoneGet(port: number, target: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<RawResponse> {
  const req = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => s.write(req));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
  });
}

/** What a phone sends after its user typed `code` at the prompt (any user name). */
export const typed = (code: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`phone:${code}`).toString('base64')}` });

export const avayaUa = (mac: string, model = 'J179'): string => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/${model}-4.1.3.0.6 (MAC:${mac})`;
export const polyUa = 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2494';

/** deskset.yaml with enrollment on, for a test's root. */
export const ENROLLMENT_ON = (old: string): string => `${old}\nenrollment:\n  enabled: true\n`;

/** `deskset codes issue ROOT --json ARGS…` (the real CLI): the code, printed once, and its id. */
export async function issueCli(root: string, ...args: string[]): Promise<{ code: string; id: string }> {
  const r = await runCli(['codes', 'issue', root, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { code: string; id: string };
}
