import { describe, expect, it } from 'vitest';
import { parseRootConfig } from '../src/config/root-config.js';
import { parseStateSetting } from '../src/store/config.js';
import { uploadsWhere } from '../src/service/open-uploads.js';

describe('state: in deskset.yaml', () => {
  it.each([
    ['sqlite', { kind: 'sqlite' }],
    ['off', { kind: 'off' }],
    ['state/inventory.db', { kind: 'sqlite', file: 'state/inventory.db' }],
    ['postgres://deskset:pw@db:5432/deskset', { kind: 'postgres', url: 'postgres://deskset:pw@db:5432/deskset' }],
    ['postgresql://db/deskset', { kind: 'postgres', url: 'postgresql://db/deskset' }],
    ['mysql://db/deskset', { error: 'state: unsupported URL scheme "mysql" (sqlite, off, a file path, or postgres://…)' }],
    ['postgres://[bad', { error: 'state: not a valid postgres:// URL' }],
    ['  ', { error: 'state: empty (sqlite, off, a file path, or postgres://…)' }],
  ])('%j', (v, want) => expect(parseStateSetting(v)).toEqual(want));

  it('defaults: SQLite, batches every second, 10,000 unknown phones kept', () => {
    const { config } = parseRootConfig('listen: {port: 8080}\n');
    expect(config.state).toEqual({ kind: 'sqlite' });
    expect(config.inventory).toEqual({ flushMs: 1000, maxUnknown: 10_000, touchS: 60 });
  });

  it('reads state and inventory; the URL comes through ${env:…} and is then a secret', () => {
    const r = parseRootConfig('state: "${env:PG}"\ninventory: {flush_ms: 250, max_unknown: 50, touch_s: 0}\n', 'deskset.yaml', { env: (n) => (n === 'PG' ? 'postgres://u:s3cret@db/x' : undefined), readFile: () => undefined });
    expect(r.diagnostics).toEqual([]);
    expect(r.config.state).toEqual({ kind: 'postgres', url: 'postgres://u:s3cret@db/x' });
    expect(r.config.inventory).toEqual({ flushMs: 250, maxUnknown: 50, touchS: 0 });
    expect(r.secrets.has('postgres://u:s3cret@db/x')).toBe(true);
  });

  it('bad values are errors at their file:line:col, and never repeat the URL', () => {
    const bad = parseRootConfig('listen: {port: 8080}\nstate: "mysql://u:s3cret@db/x"\n');
    expect(bad.diagnostics).toHaveLength(1);
    expect(bad.diagnostics[0]).toMatchObject({ severity: 'error', loc: { line: 2 } });
    expect(bad.diagnostics[0]!.message).not.toContain('s3cret');
    for (const text of ['inventory: {flush_ms: 10}\n', 'inventory: {flush_every: 5}\n', 'state: [sqlite]\n']) {
      const r = parseRootConfig(text);
      expect(r.diagnostics.some((d) => d.severity === 'error' && d.loc?.line === 1), text).toBe(true);
    }
  });
});

describe('uploads.store in deskset.yaml', () => {
  const where = (text: string) => {
    const r = parseRootConfig(text);
    return { where: uploadsWhere(r.config), errors: r.diagnostics.filter((d) => d.severity === 'error') };
  };
  it.each([
    ['listen: {port: 8080}\n', 'disk'],
    ['state: off\n', 'disk'],
    ['state: postgres://db/deskset\n', 'database'],
    ['state: postgres://db/deskset\nuploads: {store: disk}\n', 'disk'],
    ['state: postgres://db/deskset\nuploads: {store: database}\n', 'database'],
    ['state: sqlite\nuploads: {store: disk}\n', 'disk'],
  ])('%j → %s', (text, want) => expect(where(text)).toEqual({ where: want, errors: [] }));

  it('database without PostgreSQL, or an unknown value, is an error at uploads.store', () => {
    for (const text of ['state: sqlite\nuploads:\n  store: database\n', 'state: off\nuploads:\n  store: database\n', 'state: postgres://db/x\nuploads:\n  store: s3\n']) {
      const { errors } = where(text);
      expect(errors, text).toHaveLength(1);
      expect(errors[0]!.loc?.line, text).toBe(3);
    }
  });
});
