// `deskset check` as an admin reads it: a finding from one source location prints once with
// the devices it affects, the summary counts in singular and plural, and --json keeps every
// device. Real CLI processes on copies of samples/.

import { promises as fs } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { lineOf, makeTmpRoot, replaceOnce, type TmpRoot } from './helpers/tmp-root.js';

const roots: TmpRoot[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => r.cleanup()));
});

async function root(edits: Parameters<typeof makeTmpRoot>[0]): Promise<TmpRoot> {
  const r = await makeTmpRoot(edits);
  roots.push(r);
  return r;
}

interface JsonFinding {
  code: string;
  severity: string;
  message: string;
  device?: string;
  devices?: string[];
  loc?: { file: string; line: number; col: number };
}

describe('repeated findings are grouped by source location', () => {
  // support: J179 c81fea83e85a and J189 c81fea9102aa; sales: only the J189 among Avaya phones.
  const edits = {
    'profiles/groups/support.yaml': replaceOnce('ENABLE_AUTO_ANSWER_SUPPORT: 1', 'ENABLE_AUTO_ANSWER_SUPPORT: 1\n      SIPDOMIAN: pbx.example'),
    'profiles/groups/sales.yaml': replaceOnce('ENABLE_PRESENCE: 1', 'ENABLE_PRESENCE: 1\n      ENABLE_PRESNCE: 1'),
  };

  it('text: once with "affects 2 devices (first: …)", a single-device finding as before, "0 errors, 2 warnings"', async () => {
    const r = await root(edits);
    const line = lineOf(await fs.readFile(r.file('profiles/groups/support.yaml'), 'utf8'), /SIPDOMIAN/);
    const c = await runCli(['check', r.dir]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const sip = c.stdout.split('\n').filter((l) => l.includes('SIPDOMIAN is not a parameter'));
    expect(sip, c.stdout).toHaveLength(1);
    expect(sip[0]).toContain(`${r.file('profiles/groups/support.yaml')}:${line}:`);
    expect(sip[0]).toMatch(/\[affects 2 devices \(first: c81fea83e85a\), path \/c81fea83e85a\.txt\]$/);
    const presence = c.stdout.split('\n').filter((l) => l.includes('ENABLE_PRESNCE is not a parameter'));
    expect(presence).toHaveLength(1);
    expect(presence[0]).toMatch(/\[device c81fea9102aa, path \/c81fea9102aa\.txt\]$/);
    expect(c.stdout).toMatch(/: 0 errors, 2 warnings\n$/);
  });

  it('--json: one entry per location, every device listed, device still the first', async () => {
    const r = await root(edits);
    const c = await runCli(['check', r.dir, '--json']);
    expect(c.code).toBe(0);
    const j = JSON.parse(c.stdout) as { diagnostics: JsonFinding[] };
    const sip = j.diagnostics.filter((d) => d.message.startsWith('SIPDOMIAN'));
    expect(sip).toHaveLength(1);
    expect(sip[0]).toMatchObject({ code: 'UNKNOWN_PARAMETER', severity: 'warning', device: 'c81fea83e85a', devices: ['c81fea83e85a', 'c81fea9102aa'] });
    expect(j.diagnostics.filter((d) => d.message.startsWith('ENABLE_PRESNCE'))[0]?.devices).toEqual(['c81fea9102aa']);
  });

  it('singular: exactly one warning reads "1 warning"', async () => {
    const r = await root({ 'profiles/groups/sales.yaml': edits['profiles/groups/sales.yaml'] });
    const c = await runCli(['check', r.dir]);
    expect(c.stdout).toMatch(/: 0 errors, 1 warning\n$/);
  });
});

describe('template names nothing supplies', () => {
  const MASTER = 'templates/polycom/master.cfg.hbs';
  const withLine = (line: string) => async (): Promise<string> => {
    const text = await fs.readFile(new URL(`../${MASTER}`, import.meta.url), 'utf8');
    return text.replace('</APPLICATION>', `<!-- ${line} -->\n</APPLICATION>`);
  };

  it('a key only one device profile writes (custom.desk) is supplied: no warning', async () => {
    const r = await root({
      [MASTER]: await withLine('{{settings.custom.desk}}')(),
      'profiles/devices/0004f2a1b2c3.yaml': (t) => `${t.trimEnd()}\n  custom:\n    desk: "4.21"\n`,
    });
    const c = await runCli(['check', r.dir]);
    expect(c.stdout).not.toMatch(/TEMPLATE_UNKNOWN_NAME/);
    expect(c.stdout).toMatch(/: 0 errors, 0 warnings\n$/);
  });

  it('a key no profile writes (custom.dsk) is a warning naming the template line', async () => {
    const r = await root({ [MASTER]: await withLine('{{settings.custom.dsk}}')() });
    const c = await runCli(['check', r.dir]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/master\.cfg\.hbs:4:\d+: warning TEMPLATE_UNKNOWN_NAME: the template reads "settings\.custom\.dsk"/);
    expect(c.stdout).toMatch(/: 0 errors, 1 warning\n$/);
  });
});
