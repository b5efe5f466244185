// The registry (src/vendors/registry.ts): which folders are vendors, and what it refuses when
// two vendors bring the same name differently. Real folders on disk, real imports.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VendorContractError, type Vendor } from '../src/vendors/contract.js';
import { loadVendorFolders, vendorFolders, vendorTables } from '../src/vendors/registry.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory of vendor folders, each `index.mjs` with the given body. */
function folders(spec: Record<string, string | undefined>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskset-vendors-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(spec)) {
    mkdirSync(path.join(dir, name));
    if (body !== undefined) writeFileSync(path.join(dir, name, 'index.mjs'), body);
  }
  return dir;
}

const fake = (id: string, extra: Partial<Vendor> = {}): Vendor => ({
  id,
  profileKey: 'params',
  escaping: { read: () => new Map(), carries: () => true, displayNameParam: 'name' },
  ...extra,
});

describe('discovery', () => {
  it('finds folders with an index, in name order, and skips the rest', async () => {
    const dir = folders({
      zeta: `export const vendor = { id: 'zeta' };`,
      alpha: `export const vendor = { id: 'alpha' };`,
      'no-index': undefined,
    });
    writeFileSync(path.join(dir, 'stray.mjs'), 'export {};');
    expect(vendorFolders(dir, '.mjs')).toEqual(['alpha', 'zeta']);
    expect((await loadVendorFolders(dir, '.mjs')).map((v) => v.id)).toEqual(['alpha', 'zeta']);
  });

  it('refuses a folder whose vendor is named otherwise, or that exports none', async () => {
    await expect(loadVendorFolders(folders({ snom: `export const vendor = { id: 'snmo' };` }), '.mjs')).rejects.toThrow(/vendor snom: its id is "snmo"/);
    await expect(loadVendorFolders(folders({ snom: `export const other = 1;` }), '.mjs')).rejects.toThrow(VendorContractError);
  });
});

describe('merged tables', () => {
  it('merges in vendor order and lists formats as xml, own, text', () => {
    const t = vendorTables([fake('a', { formats: { 'a-cfg': { check: () => [], lineParam: () => undefined } }, defaultCredentials: [{ user: 'u', password: 'p', what: 'a' }] }), fake('b', { defaultCredentials: [{ user: undefined, password: 'q', what: 'b' }] })]);
    expect(t.formatNames).toEqual(['xml', 'a-cfg', 'text']);
    expect(t.defaultCredentials.map((c) => c.what)).toEqual(['a', 'b']);
    expect(t.formats.get('a-cfg')?.vendor.id).toBe('a');
  });

  it('refuses two vendors with one helper, params format, file format or phone variable', () => {
    const h = () => '';
    expect(() => vendorTables([fake('a', { helpers: { tz: h } }), fake('b', { helpers: { tz: () => 'x' } })])).toThrow(/vendor b: helper "tz" is already defined by vendor a/);
    expect(() => vendorTables([fake('a', { paramFormats: { line: h } }), fake('b', { paramFormats: { line: () => 'x' } })])).toThrow(/params format "line"/);
    const f = { check: () => [], lineParam: () => undefined };
    expect(() => vendorTables([fake('a', { formats: { cfg: f } }), fake('b', { formats: { cfg: { ...f } } })])).toThrow(/file format "cfg"/);
    expect(() => vendorTables([fake('a', { phoneVariables: { names: { MAC: 'mac' }, expandsItself: () => false } }), fake('b', { phoneVariables: { names: { MAC: 'model' }, expandsItself: () => false } })])).toThrow(/phone variable "MAC"/);
  });

  it('refuses a vendor format or params format named like a built-in one', () => {
    expect(() => vendorTables([fake('a', { formats: { xml: { check: () => [], lineParam: () => undefined } } })])).toThrow(/"xml" is built in/);
    expect(() => vendorTables([fake('a', { paramFormats: { xml: () => '' } })])).toThrow(/"xml" is built in/);
  });

  it('lets two vendors share an upload kind stored alike, and refuses one stored otherwise', () => {
    const log = { storage: 'log', override: false, contentType: 'text/plain', what: 'a log' } as const;
    expect(vendorTables([fake('a', { uploadKinds: { 'app.log': log } }), fake('b', { uploadKinds: { 'app.log': { ...log, what: 'b log' } } })]).uploadKinds.get('app.log')?.what).toBe('a log');
    expect(() => vendorTables([fake('a', { uploadKinds: { 'app.log': log } }), fake('b', { uploadKinds: { 'app.log': { ...log, storage: 'file' } } })])).toThrow(/upload kind "app.log"/);
  });
});
