// Real User-Agents (../shared/realworld/user-agents.txt, collected from public provisioning
// code; test/fixtures/user-agents.txt, our own lines in the same format, when it is absent
// too) against the shipped vendor manifests. Every Yealink and Poly line is spelled out
// in a table, so a regression in any single line fails on its own.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseUserAgent, type UserAgentInfo } from '../src/pipeline/user-agent.js';
import { parseVendorManifest, type VendorManifest } from '../src/vendors/manifest.js';
import { FIXTURES, HAVE_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('user-agent.test.ts');

const here = path.dirname(fileURLToPath(import.meta.url));
const TEMPLATES = path.resolve(here, '../templates');

function loadVendors(): VendorManifest[] {
  const out: VendorManifest[] = [];
  for (const dir of readdirSync(TEMPLATES).sort()) {
    let text: string;
    try {
      text = readFileSync(path.join(TEMPLATES, dir, 'vendor.yaml'), 'utf8');
    } catch {
      continue;
    }
    const { manifest, diagnostics } = parseVendorManifest(text, `templates/${dir}/vendor.yaml`);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    out.push(manifest!);
  }
  return out;
}

const vendors = loadVendors();

interface UaLine {
  ua: string;
  source: string;
  note?: string;
  lineNo: number;
}

function readUaFile(file: string): UaLine[] {
  const out: UaLine[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const [ua, source, note] = line.split('\t');
      out.push({ ua: ua!, source: source ?? '', note, lineNo: i + 1 });
    });
  return out;
}

/** Each UA file, and what it must hold: the real one is the one the tables were made from. */
const UA_FILES = [
  { name: 'test/fixtures/user-agents.txt', lines: readUaFile(path.join(FIXTURES, 'user-agents.txt')), minLines: 15, minOthers: 5, others: ['Fanvil', 'Aastra', 'Gigaset', 'Alcatel', 'Htek'], real: false },
  ...(HAVE_REALWORLD
    ? [{ name: 'shared/realworld/user-agents.txt', lines: readUaFile(path.join(REALWORLD, 'user-agents.txt')), minLines: 90, minOthers: 33, others: ['Fanvil', 'Aastra', 'Mitel', 'Gigaset', 'Alcatel', 'Htek', 'THOMSON', 'Jitsi'], real: true }]
    : []),
];

/** `\x17` as written in the source file -> the raw byte the phone really sends. */
function withRealBytes(ua: string): string {
  return ua.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

type Expect = { model: string; firmware: string; mac?: string };

// Every Yealink line of user-agents.txt.
const YEALINK: Record<string, Expect> = {
  'Yealink CP860 37.72.0.5 00:15:65:8a:37:86': { model: 'CP860', firmware: '37.72.0.5', mac: '0015658a3786' },
  'yealink SIP-T18 18.0.0.80 00:15:65:27:3e:05': { model: 'T18', firmware: '18.0.0.80', mac: '001565273e05' },
  'Yealink SIP-T20P 9.72.0.30 00:15:65:5e:16:7c': { model: 'T20P', firmware: '9.72.0.30', mac: '0015655e167c' },
  'Yealink SIP-T21P 34.72.0.1 00:15:65:4c:4c:26': { model: 'T21P', firmware: '34.72.0.1', mac: '0015654c4c26' },
  'Yealink SIP-T22P 7.72.0.30 00:15:65:39:31:fc': { model: 'T22P', firmware: '7.72.0.30', mac: '0015653931fc' },
  'Yealink SIP-T23G 44.80.0.60 00:15:65:93:70:f2': { model: 'T23G', firmware: '44.80.0.60', mac: '0015659370f2' },
  'Yealink SIP-T27P 45.80.0.25 00:15:65:8c:48:12': { model: 'T27P', firmware: '45.80.0.25', mac: '0015658c4812' },
  'yealink SIP-T28P 2.70.0.140 00:15:65:13:ae:0b': { model: 'T28P', firmware: '2.70.0.140', mac: '00156513ae0b' },
  'Yealink SIP-T40P 54.80.0.10 00:15:65:94:86:64': { model: 'T40P', firmware: '54.80.0.10', mac: '001565948664' },
  'Yealink SIP-T41P 36.72.0.1 00:15:65:53:83:22': { model: 'T41P', firmware: '36.72.0.1', mac: '001565538322' },
  'Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37': { model: 'T46G', firmware: '28.72.0.1', mac: '0015654aa937' },
  'Yealink SIP-T48G 35.72.0.6 00:15:65:5c:60:82': { model: 'T48G', firmware: '35.72.0.6', mac: '0015655c6082' },
  'Yealink SIP-W52P 25.73.0.20 00:15:65:40:ae:35': { model: 'W52P', firmware: '25.73.0.20', mac: '00156540ae35' },
  'W52P 25.30.0.2 00:15:65:44:b3:7c': { model: 'W52P', firmware: '25.30.0.2', mac: '00156544b37c' },
  'Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0': { model: 'T46G', firmware: '28.71.0.81' },
  'VP530P 23.70.0.40 00:15:65:31:4b:c0': { model: 'VP530P', firmware: '23.70.0.40', mac: '001565314bc0' },
  'Yealink CP960 73.83.0.30 00:15:65:8a:37:86': { model: 'CP960', firmware: '73.83.0.30', mac: '0015658a3786' },
  'yealink SIP-T29G 46.83.0.120 00:15:65:13:ae:0b': { model: 'T29G', firmware: '46.83.0.120', mac: '00156513ae0b' },
  'Yealink SIP-T42G 29.83.0.120 00:15:65:4c:3b:b0': { model: 'T42G', firmware: '29.83.0.120', mac: '0015654c3bb0' },
  'Yealink SIP-T46G 28.83.0.120 00:15:65:4a:a9:37': { model: 'T46G', firmware: '28.83.0.120', mac: '0015654aa937' },
  'Yealink SIP-T49G 51.80.0.10 00:15:65:9b:5a:44': { model: 'T49G', firmware: '51.80.0.10', mac: '0015659b5a44' },
  'Yealink SIP-T58A 58.83.0.15 00:15:65:9b:5b:22': { model: 'T58A', firmware: '58.83.0.15', mac: '0015659b5b22' },
  'Yealink W80B 103.83.0.90 80:5e:c0:71:01:38': { model: 'W80B', firmware: '103.83.0.90', mac: '805ec0710138' },
  'Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72': { model: 'T31G', firmware: '124.85.257.55', mac: '805ec0d57d72' },
  'Yealink W90DM 130.85.0.15 80:5e:c0:d9:c7:44': { model: 'W90DM', firmware: '130.85.0.15', mac: '805ec0d9c744' },
  'Yealink W70B 146.85.0.5 80:5e:0c:1d:65:4e': { model: 'W70B', firmware: '146.85.0.5', mac: '805e0c1d654e' },
  'Yealink W80DM 103.83.0.122 24:9a:d8:d1:a6:31': { model: 'W80DM', firmware: '103.83.0.122', mac: '249ad8d1a631' },
  'Yealink W75B 175.85.0.5 24:9a:d8:df:fb:11': { model: 'W75B', firmware: '175.85.0.5', mac: '249ad8dffb11' },
  'Yealink SIP-T77U 185.87.0.10 44:db:d2:bd:b5:69': { model: 'T77U', firmware: '185.87.0.10', mac: '44dbd2bdb569' },
  'Yealink SIP-T85W 185.87.0.10 44:db:d2:67:58:4b': { model: 'T85W', firmware: '185.87.0.10', mac: '44dbd267584b' },
  'Yealink W90DM 130.87.0.10 80:5e:c0:d9:c7:44': { model: 'W90DM', firmware: '130.87.0.10', mac: '805ec0d9c744' },
  'Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e': { model: 'W70B', firmware: '146.87.0.15', mac: '805e0c1d654e' },
  'Yealink W80DM 103.87.0.10 24:9a:d8:d1:a6:31': { model: 'W80DM', firmware: '103.87.0.10', mac: '249ad8d1a631' },
  'Yealink W75B 175.87.0.10 24:9a:d8:df:fb:11': { model: 'W75B', firmware: '175.87.0.10', mac: '249ad8dffb11' },
  'Yealink SIP-T56A  58.80.0.25 001565f429a4': { model: 'T56A', firmware: '58.80.0.25', mac: '001565f429a4' },
};

// Every Poly line: the model as the master config names it (underscores dropped), and the version.
const POLY: Record<string, Expect & { family: string }> = {
  'FileTransport PolycomSoundPointIP-SPIP_335-UA/4.2.1.0275': { model: 'SPIP335', family: 'SoundPointIP', firmware: '4.2.1.0275' },
  'FileTransport PolycomSoundPointIP-SPIP_450-UA/3.2.3.1734': { model: 'SPIP450', family: 'SoundPointIP', firmware: '3.2.3.1734' },
  'FileTransport PolycomSoundStationIP-SSIP_6000-UA/4.0.4.2906 Type/Application': { model: 'SSIP6000', family: 'SoundStationIP', firmware: '4.0.4.2906' },
  'FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater': { model: 'SSIP6000', family: 'SoundStationIP', firmware: '5.0.3.1667' },
  'FileTransport PolycomVVX-VVX_101-UA/5.4.3.1014 Type/Application': { model: 'VVX101', family: 'VVX', firmware: '5.4.3.1014' },
};

// Avaya 1200-series lines, as written in the file (with the literal text `\x17`).
const AVAYA_12X0: Record<string, string> = {
  'AVAYA/SIP12x0\\x17/04.00.04.00': '04.00.04.00',
  'AVAYA/SIP12x0\\x14/04.00.04.00': '04.00.04.00',
  'AVAYA/SIP12x0\\xff/04.01.13.00': '04.01.13.00',
};

describe.each(UA_FILES)('$name', ({ lines, minLines, real }) => {
  it('is the file we expect (tables below cover lines that are really there)', () => {
    expect(lines.length).toBeGreaterThanOrEqual(minLines);
    const uas = new Set(lines.map((l) => l.ua));
    // The real file holds every line of the tables; our fixture some of each vendor's.
    const tables = [YEALINK, POLY, AVAYA_12X0].map((t) => Object.keys(t));
    for (const keys of tables) {
      if (real) for (const ua of keys) expect(uas, ua).toContain(ua);
      else expect(keys.some((ua) => uas.has(ua))).toBe(true);
    }
  });

  it('every line that names Yealink or Polycom is in a table (so none escapes the explicit checks)', () => {
    const missed = lines.map((l) => l.ua).filter((ua) => /yealink|polycom/i.test(ua) && !(ua in YEALINK) && !(ua in POLY));
    expect(missed).toEqual([]);
  });
});

describe('the shipped manifests', () => {
  it('the shipped manifests load: avaya, polycom and yealink', () => {
    expect(vendors.map((v) => v.vendor).sort()).toEqual(expect.arrayContaining(['avaya', 'polycom', 'yealink']));
  });
});

describe.each(UA_FILES)('parseUserAgent never throws on $name', ({ lines }) => {
  it.each(lines.map((l) => [l.lineNo, l.ua] as const))('line %i: %s', (_n, ua) => {
    expect(() => parseUserAgent(ua, vendors)).not.toThrow();
    expect(() => parseUserAgent(withRealBytes(ua), vendors)).not.toThrow();
  });
});

describe('parseUserAgent on hostile input', () => {
  it('on hostile input', () => {
    const hostile = [
      '',
      '\u0000',
      'Yealink SIP-T46G '.repeat(4000),
      `Yealink SIP-T46G 28.72.0.1 ${'00:15:65:'.repeat(8000)}`,
      `FileTransport PolycomVVX-VVX${'_1'.repeat(30000)}-UA/5.4.3.1014`,
      `AVAYA/J179-${'1.'.repeat(30000)}1`,
      'Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:zzzzzzzzzzzz)',
      '\uD800\uDFFF\uFFFE',
    ];
    for (const ua of hostile) expect(() => parseUserAgent(ua, vendors)).not.toThrow();
    expect(parseUserAgent(undefined, vendors)).toBeUndefined();
    expect(parseUserAgent('', vendors)).toBeUndefined();
  });

  it('a 64 KB User-Agent is not claimed by anyone', () => {
    const big = `Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37 ${'x'.repeat(65536)}`;
    expect(parseUserAgent(big, vendors)).toBeUndefined();
  });
});

describe('Yealink lines', () => {
  it.each(Object.entries(YEALINK))('%s', (ua, want) => {
    const got = parseUserAgent(ua, vendors);
    expect(got).toBeDefined();
    expect({ vendor: got!.vendor, model: got!.model, firmware: got!.firmware, mac: got!.mac }).toEqual({ vendor: 'yealink', model: want.model, firmware: want.firmware, mac: want.mac });
  });

  it('a bare model line (no vendor name) is trusted only with a Yealink OUI', () => {
    expect(parseUserAgent('W52P 25.30.0.2 0c:38:3e:44:b3:7c', vendors)).toBeUndefined(); // Fanvil OUI
    expect(parseUserAgent('VP530P 23.70.0.40 00:04:f2:31:4b:c0', vendors)?.vendor).not.toBe('yealink'); // Poly OUI
    expect(parseUserAgent('W52P 25.30.0.2 80:5e:c0:44:b3:7c', vendors)).toMatchObject({ vendor: 'yealink', model: 'W52P', mac: '805ec044b37c' });
  });
});

describe('Poly lines', () => {
  it.each(Object.entries(POLY))('%s', (ua, want) => {
    const got = parseUserAgent(ua, vendors);
    expect(got).toBeDefined();
    expect({ vendor: got!.vendor, model: got!.model, family: got!.family, firmware: got!.firmware, mac: got!.mac }).toEqual({
      vendor: 'polycom',
      model: want.model,
      family: want.family,
      firmware: want.firmware,
      mac: undefined,
    });
  });

  it('the Poly model names are catalog names once the underscore is gone (where the catalog has them)', () => {
    const poly = vendors.find((v) => v.vendor === 'polycom')!;
    const names = new Set(poly.models.map((m) => m.name));
    for (const m of ['SPIP335', 'SPIP450', 'SSIP6000', 'VVX101']) expect(names).toContain(m);
  });
});

describe('Avaya lines', () => {
  it.each(Object.entries(AVAYA_12X0))('12x0 as written in the file: %s', (ua, firmware) => {
    const got = parseUserAgent(ua, vendors);
    expect(got).toMatchObject({ vendor: 'avaya', firmware });
    expect(got!.model).toBeUndefined();
    expect(got!.mac).toBeUndefined();
  });

  it.each(Object.entries(AVAYA_12X0))('12x0 with the real control byte: %s', (ua, firmware) => {
    const real = withRealBytes(ua);
    expect(real).not.toContain('\\x');
    expect(real.length).toBe(ua.length - 3);
    const got = parseUserAgent(real, vendors);
    expect(got).toMatchObject({ vendor: 'avaya', firmware });
    expect(got!.model).toBeUndefined();
  });

  it('J100: model, firmware and MAC', () => {
    const got = parseUserAgent('Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a)', vendors);
    expect(got).toMatchObject({ vendor: 'avaya', model: 'J179', firmware: '4.1.3.0.6', mac: 'c81fea83e85a' });
  });

  it('J100 with the MAC written with colons or upper case, and without a MAC', () => {
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J169-4.0.13.0.6 (MAC:C8:1F:EA:83:E8:5A)', vendors)).toMatchObject({ vendor: 'avaya', model: 'J169', mac: 'c81fea83e85a' });
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J189-4.1.3.0.6 (MAC:C81FEA83E85A)', vendors)?.mac).toBe('c81fea83e85a');
    const noMac = parseUserAgent('Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J139-4.0.13.0.6', vendors);
    expect(noMac).toMatchObject({ vendor: 'avaya', model: 'J139', firmware: '4.0.13.0.6' });
    expect(noMac!.mac).toBeUndefined();
  });
});

describe.each(UA_FILES)('every other vendor in $name: not claimed', ({ lines, minOthers, others: vendorNames }) => {
  // Vendors with a suite of their own claim their lines there (test/cisco.test.ts: Cisco, and
  // the Linksys SPA line Cisco bought; test/grandstream-snom.test.ts: Grandstream and Snom);
  // every other line must stay unclaimed.
  const ownSuite = (ua: string) => /^(?:Cisco|Linksys|Sipura)[-/]/i.test(ua) || /^Grandstream /.test(ua) || /\bsnom[A-Z0-9]*-SIP\b|\bSnom M\d/.test(ua);
  const claimedByTables = (ua: string) => ua in YEALINK || ua in POLY || ua in AVAYA_12X0 || ownSuite(ua);
  const others = lines.filter((l) => !claimedByTables(l.ua));

  it('there are many of them (Fanvil, Aastra, Gigaset, …)', () => {
    expect(others.length).toBeGreaterThanOrEqual(minOthers);
    for (const v of vendorNames) {
      expect(others.some((l) => l.ua.includes(v)), v).toBe(true);
    }
  });

  it.each(others.map((l) => [l.lineNo, l.ua] as const))('line %i: %s', (_n, ua) => {
    const got: UserAgentInfo | undefined = parseUserAgent(ua, vendors);
    expect(got).toBeUndefined();
    expect(parseUserAgent(withRealBytes(ua), vendors)).toBeUndefined();
  });
});
