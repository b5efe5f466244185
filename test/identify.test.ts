// `deskset identify` runs the server's own pipeline steps on a request without answering it.
// Each case is asked twice: of the CLI (a real process, --json), and of a real server over a
// socket, and the two must agree on what answers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { memoryLog, rawGet } from './helpers/e2e-http.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { RequestReport } from '../src/pipeline/describe.js';

const J179 = 'c81fea83e85a';
const J179_UA = `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${J179})`;
const POLY = '64167f0a8800';
const IMAGE = 'FW_S_J179_R4_1_3_0_6.bin';

let root: TmpRoot;
let srv: RunningServer;

beforeAll(async () => {
  root = await makeTmpRoot({
    [`resources/${POLY}-directory.xml`]: '<directory><item_list/></directory>\n',
    [`firmware/avaya/4.1.3.0.6/${IMAGE}`]: 'firmware-bytes',
  });
  srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
});

afterAll(async () => {
  await srv?.close();
  await root?.cleanup();
});

async function identify(args: string[]): Promise<RequestReport> {
  const r = await runCli(['identify', root.dir, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RequestReport;
}

interface Case {
  name: string;
  path: string;
  ua?: string;
  expect: Partial<RequestReport>;
  status: number;
}

const CASES: Case[] = [
  { name: 'the Avaya settings file, identified by its User-Agent', path: '/46xxsettings.txt', ua: J179_UA, expect: { handler: 'rendered', mac: J179, macFrom: 'user-agent', vendor: 'avaya', model: 'J179', site: 'nyc' }, status: 200 },
  { name: 'a Poly per-device file, MAC from the path', path: `/${POLY}.cfg`, expect: { handler: 'rendered', mac: POLY, macFrom: 'path', vendor: 'polycom', model: 'Trio8800' }, status: 200 },
  { name: 'an unknown Poly MAC (unknown_devices: reject)', path: '/0004f2ffffff.cfg', expect: { handler: 'refused', mac: '0004f2ffffff', vendor: 'polycom', vendorFrom: 'oui', reason: 'unknown device' }, status: 404 },
  { name: 'a per-device resource', path: `/${POLY}-directory.xml`, expect: { handler: 'resource', mac: POLY, file: `resources/${POLY}-directory.xml` }, status: 200 },
  { name: 'a firmware image', path: `/firmware/avaya/4.1.3.0.6/${IMAGE}`, expect: { handler: 'firmware', file: `firmware/avaya/4.1.3.0.6/${IMAGE}` }, status: 200 },
  { name: 'a name nobody serves', path: '/nothing-here.bin', expect: { handler: 'none' }, status: 404 },
  { name: 'a traversal attempt', path: '/../etc/passwd', expect: { handler: 'refused' }, status: 400 },
];

describe('deskset identify agrees with the server', () => {
  it.each(CASES)('$name', async (c) => {
    const report = await identify(['--path', c.path, ...(c.ua ? ['--user-agent', c.ua] : [])]);
    expect(report).toMatchObject(c.expect);
    const got = await rawGet(srv.port, c.path, c.ua ? { 'User-Agent': c.ua } : {});
    expect(got.status).toBe(c.status);
  });

  it('a User-Agent alone names vendor, model, firmware and MAC', async () => {
    const report = await identify(['--user-agent', J179_UA]);
    expect(report.userAgent).toMatchObject({ recognised: true, vendor: 'avaya', model: 'J179', firmware: '4.1.3.0.6', mac: J179 });
    expect(report.device).toMatchObject({ mac: J179, model: 'J179' });
  });

  it('an unrecognised User-Agent says so, and why no device applies', async () => {
    const report = await identify(['--user-agent', 'curl/8.5.0']);
    expect(report.userAgent).toEqual({ recognised: false });
    expect(report.noDevice).toMatch(/names no MAC/);
    const text = await runCli(['identify', root.dir, '--user-agent', 'curl/8.5.0']);
    expect(text.stdout).toMatch(/^User-Agent +not recognised/m);
  });

  it('needs a User-Agent or a path', async () => {
    const r = await runCli(['identify', root.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--user-agent, --path or both/);
  });
});
