// `deskset diff` end to end: the real CLI over a real git history (test/helpers/git-history.ts),
// each step of the review scenario compared with the one before, in every output mode; the
// admin's checkout untouched; bad revisions and broken roots exit 2. Needs dist/.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { FW_NEW, FW_OLD, makeGitHistory, NEW_DEVICE, NEW_PASSWORD, PASSWORD_FILE, REMOVED_DEVICE, ROOT_IN_REPO, type GitHistory } from './helpers/git-history.js';
import { SAMPLES } from './helpers/tmp-root.js';

let h: GitHistory;
let oldPassword: string;
beforeAll(async () => {
  h = await makeGitHistory();
  oldPassword = (await fs.readFile(path.join(SAMPLES, PASSWORD_FILE), 'utf8')).trim();
});
afterAll(() => h?.cleanup());

const diff = (...args: string[]) => runCli(['diff', ...args], { cwd: h.repo });
interface Json {
  changes: boolean;
  devices: { added: string[]; removed: string[]; changed: string[] };
  files: { added: number; removed: number; changed: number };
  groups: Array<{ cause: Array<{ file: string; line: number; removed: string[]; added: string[] }>; devices: string[]; shared: string[]; files: Array<{ path: string; device?: string; status: string; diff: string[]; secretChanged: boolean }> }>;
  firmware: Array<{ model: string; from?: string; to?: string; direction: string; devices: string[] }>;
  errors: Array<{ side: string; message: string; loc?: { file: string; line: number } }>;
}
const json = async (...args: string[]) => {
  const r = await diff(...args, '--json');
  return { code: r.code, doc: JSON.parse(r.stdout) as Json };
};
const devicesOfSite = async (site: string) => {
  const dir = path.join(SAMPLES, 'profiles/devices');
  const out: string[] = [];
  for (const f of await fs.readdir(dir)) if ((await fs.readFile(path.join(dir, f), 'utf8')).includes(`site: ${site}`)) out.push(f.replace('.yaml', ''));
  return out.sort();
};

describe('each step of the history, in every mode', () => {
  it('global change: the nyc phones that render a language (lisbon overrides it), caused by global.yaml:12', async () => {
    const { code, doc } = await json(ROOT_IN_REPO, 'base', 'global');
    expect(code).toBe(1);
    // The Cisco 7960, the Poly, the Yealink and the Cisco 8845; Avaya's per-device files carry no language.
    expect(doc.devices.changed).toEqual(['0002fd796001', '0004f2a1b2c3', '805ec0abcdef', 'a44c11a08845']);
    for (const m of await devicesOfSite('lisbon')) expect(doc.devices.changed).not.toContain(m);
    const g = doc.groups.find((x) => x.devices.length > 0)!;
    expect(g.cause).toEqual([{ file: `${ROOT_IN_REPO}/profiles/global.yaml`, line: 12, oldLine: 12, removed: ['  language: en'], added: ['  language: fr'] }]);
    const text = await diff(ROOT_IN_REPO, 'base', 'global');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${ROOT_IN_REPO}/profiles/global.yaml:12\n     -   language: en\n     +   language: fr`);
    expect(text.stdout).toMatch(/^-lang\.gui = English\n-lang\.wui = English\n\+lang\.gui = French\n\+lang\.wui = French$/m);
    const md = await diff(ROOT_IN_REPO, 'base', 'global', '--markdown');
    expect(md.code).toBe(1);
    expect(md.stdout).toMatch(/^### deskset diff: `base` → `global`/);
    expect(md.stdout).toContain('<details><summary>4 devices and');
    expect(md.stdout.split('<details>').length).toBe(md.stdout.split('</details>').length);
    const stat = await diff(ROOT_IN_REPO, 'base', 'global', '--stat');
    expect(stat.stdout.split('\n')[0]).toBe(`base → global: 4 devices change (4 changed, 0 added, 0 removed), ${doc.files.changed} files (${doc.files.changed} changed, 0 added, 0 removed)`);
    expect(stat.stdout).not.toContain('@@');
  });

  it('site change: exactly the nyc phones, caused by sites/nyc.yaml', async () => {
    const { doc } = await json(ROOT_IN_REPO, 'global', 'site');
    expect(doc.devices.changed).toEqual(await devicesOfSite('nyc'));
    expect(doc.groups.flatMap((g) => g.cause.map((c) => c.file))).toEqual(doc.groups.map(() => `${ROOT_IN_REPO}/profiles/sites/nyc.yaml`));
    for (const g of doc.groups) for (const f of g.files) expect(f.diff.join('\n')).toContain('pbx2-nyc.northwind.example');
  });

  it('new device: its files are added, from /dev/null', async () => {
    const { doc } = await json(ROOT_IN_REPO, 'site', 'new-device');
    expect(doc.devices).toEqual({ added: [NEW_DEVICE], removed: [], changed: [] });
    const files = doc.groups.flatMap((g) => g.files);
    expect(files.filter((f) => f.device === NEW_DEVICE).every((f) => f.status === 'added')).toBe(true);
    const text = await diff(ROOT_IN_REPO, 'site', 'new-device');
    expect(text.stdout).toContain(`--- /dev/null\n+++ b/${NEW_DEVICE}`);
    expect(text.stdout).toContain(`New devices: ${NEW_DEVICE}`);
    expect(text.stdout).not.toContain(oldPassword);
  });

  it('removed device: its files are removed, to /dev/null', async () => {
    const { doc } = await json(ROOT_IN_REPO, 'new-device', 'removed-device');
    expect(doc.devices).toEqual({ added: [], removed: [REMOVED_DEVICE], changed: [] });
    expect(doc.files.removed).toBeGreaterThan(0);
    const text = await diff(ROOT_IN_REPO, 'new-device..removed-device');
    expect(text.stdout).toMatch(new RegExp(`--- a/${REMOVED_DEVICE}[^\\n]*\\n\\+\\+\\+ /dev/null`));
  });

  it('changed password: •••• (changed), and neither the old nor the new value anywhere', async () => {
    for (const mode of [[], ['--json'], ['--markdown'], ['--stat']]) {
      const r = await diff(ROOT_IN_REPO, 'removed-device', 'password', ...mode);
      expect(r.code).toBe(1);
      for (const out of [r.stdout, r.stderr]) {
        expect(out).not.toContain(NEW_PASSWORD);
        expect(out).not.toContain(oldPassword);
      }
      if (mode.length === 0) expect(r.stdout).toContain('•••• (changed)');
    }
    const { doc } = await json(ROOT_IN_REPO, 'removed-device', 'password');
    // Ann Lee (c81fea9102aa) and the new hire share the secret file.
    expect(doc.devices.changed).toEqual(['c81fea000001', 'c81fea9102aa']);
    expect(doc.groups.flatMap((g) => g.files).every((f) => f.secretChanged)).toBe(true);
  });

  it('firmware pin: "2 J189 will upgrade to …", and the upgrade script lines', async () => {
    const { doc } = await json(ROOT_IN_REPO, 'password', 'firmware');
    expect(doc.firmware).toEqual([{ model: 'J189', from: FW_OLD, to: FW_NEW, direction: 'upgrade', devices: ['c81fea000001', 'c81fea9102aa'] }]);
    const text = await diff(ROOT_IN_REPO, 'password..firmware');
    expect(text.stdout).toContain(`2 J189 will upgrade to ${FW_NEW} (from ${FW_OLD})`);
    expect(text.stdout).toContain(`+SET APPNAME firmware/avaya/${FW_NEW}/FW_S_J189_R4_1_13_0_1.bin`);
    const md = await diff(ROOT_IN_REPO, 'password..firmware', '--markdown');
    expect(md.stdout).toContain(`- 2 J189 will upgrade to ${FW_NEW} (from ${FW_OLD})`);
  });

  it('A..B equals A B; the whole history at once adds, removes and changes', async () => {
    const [x, y] = await Promise.all([diff(ROOT_IN_REPO, 'base..firmware', '--json'), diff(ROOT_IN_REPO, 'base', 'firmware', '--json')]);
    expect(x.stdout).toBe(y.stdout);
    const doc = JSON.parse(x.stdout) as Json;
    expect(doc.devices.added).toEqual([NEW_DEVICE]);
    expect(doc.devices.removed).toEqual([REMOVED_DEVICE]);
  });
});

describe('the working tree and the checkout', () => {
  it('nothing changed: exit 0; an edit in the working tree is compared with HEAD; the checkout is left as it was', async () => {
    const before = [h.git('status', '--porcelain'), h.git('rev-parse', 'HEAD'), h.git('worktree', 'list'), h.git('stash', 'list')];
    const clean = await diff(ROOT_IN_REPO);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('no phone');
    const file = path.join(h.root, 'profiles/sites/lisbon.yaml');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('port: 5060', 'port: 5070'));
    try {
      const r = await runCli(['diff', '--json'], { cwd: h.root });
      expect(r.code).toBe(1);
      const doc = JSON.parse(r.stdout) as Json;
      // Every Lisbon phone that renders the SIP port: the Avaya, the Trio, the Snom, the Cisco MPP and the Grandstream.
      expect(doc.devices.changed).toEqual(['000413a1b2c3', '00562b006851', '2cf4c5001122', '64167f0a8800', 'c074ad0a1b2c']);
      expect(doc.groups[0]!.cause[0]).toMatchObject({ file: 'profiles/sites/lisbon.yaml', line: 5, added: ['    port: 5070'] });
      expect(h.git('status', '--porcelain')).toBe(' M phones/profiles/sites/lisbon.yaml\n');
    } finally {
      await fs.writeFile(file, text);
    }
    expect([h.git('status', '--porcelain'), h.git('rev-parse', 'HEAD'), h.git('worktree', 'list'), h.git('stash', 'list')]).toEqual(before);
  });
});

describe('errors: exit 2', () => {
  it('an unknown revision is named', async () => {
    const r = await diff(ROOT_IN_REPO, 'no-such-rev');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown revision "no-such-rev"');
  });

  it('a revision with a broken profile: its error with file:line, labelled with the revision', async () => {
    const file = path.join(h.root, 'profiles/sites/nyc.yaml');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, `${text}  bad: [unclosed\n`);
    try {
      const r = await diff(ROOT_IN_REPO);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^\[working tree\] phones\/profiles\/sites\/nyc\.yaml:\d+:\d+: error /m);
      const j = await diff(ROOT_IN_REPO, '--json');
      expect(j.code).toBe(2);
      expect((JSON.parse(j.stdout) as Json).errors[0]).toMatchObject({ side: 'working tree', loc: { file: 'phones/profiles/sites/nyc.yaml' } });
      const md = await diff(ROOT_IN_REPO, '--markdown');
      expect(md.stdout).toContain('**✖ 1 error**');
    } finally {
      await fs.writeFile(file, text);
    }
  });

  it('--check: a change whose files fail validation (XSD) exits 2 with the finding; without --check it is only a change', async () => {
    // Loads and renders fine; only the XSD catches the space in the firmware path.
    const file = path.join(h.root, 'templates/polycom/master.cfg.hbs');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', '<!-- override -->', '<APPLICATION APP_FILE_PATH="fw dir/sip.ld" CONFIG_FILES="{{xml device.mac}}-settings.cfg">', '</APPLICATION>', ''].join('\n'));
    try {
      expect((await diff(ROOT_IN_REPO, '--stat')).code).toBe(1);
      const r = await diff(ROOT_IN_REPO, '--stat', '--check');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^\[working tree\] \/0004f2a1b2c3\.cfg:3:1: error XSD: XSD polycom\/master\.xsd: .*APP_FILE_PATH/m);
      expect(r.stderr).not.toMatch(/^\[HEAD\]/m);
    } finally {
      await fs.rm(path.dirname(file), { recursive: true });
    }
  });

  it('usage errors: two modes at once, a bad --max-chars, too many revisions', async () => {
    for (const args of [['--json', '--stat'], ['--markdown', '--max-chars', '12'], [ROOT_IN_REPO, 'a', 'b', 'c']]) {
      const r = await diff(...args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it('outside a git repository', async () => {
    const r = await runCli(['diff', SAMPLES], { cwd: '/' , env: { GIT_CEILING_DIRECTORIES: path.dirname(SAMPLES) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not in a git repository');
  });
});

describe('--markdown size cap', () => {
  it('cuts groups and files with "and N more", staying under the cap', async () => {
    const full = await diff(ROOT_IN_REPO, 'base', 'firmware', '--markdown');
    const cut = await diff(ROOT_IN_REPO, 'base', 'firmware', '--markdown', '--max-chars', '2500');
    expect(full.stdout.length).toBeGreaterThan(2500);
    expect(cut.stdout.length).toBeLessThanOrEqual(2500);
    expect(cut.stdout).toMatch(/and \d+ more (device group|file)/);
  });
});
