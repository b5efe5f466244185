// The admin API's pure parts as tables: deskset.yaml's admin: block, Authorization headers,
// and the masking of secrets in import diffs.

import { describe, expect, it } from 'vitest';
import { parseAuthorization } from '../src/admin/auth.js';
import { maskSecrets } from '../src/admin/csv.js';
import { parseListenAddress, parseRootConfig } from '../src/config/root-config.js';

const HASH = 'scrypt$32768$8$1$c2FsdHNhbHRzYWx0$' + Buffer.alloc(32, 7).toString('base64');
const refs = { env: (n: string) => ({ ADMIN_PW: 'from-the-env' })[n], readFile: () => undefined };

describe('admin: in deskset.yaml', () => {
  it('defaults to loopback port 9090, no users, 3 failures in 600 s', () => {
    const { config, diagnostics } = parseRootConfig(undefined);
    expect(diagnostics).toEqual([]);
    expect(config.admin.listen).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(config.admin.users.size).toBe(0);
    expect(config.admin.lockout).toEqual({ attempts: 3, windowS: 600 });
  });

  it('reads listen, users (hash or ${env:…}), lockout, body cap, tls and enabled', () => {
    const text = `admin:\n  listen: "[::1]:9443"\n  tls: true\n  users:\n    alice: {password: "${HASH}", role: admin}\n    ci: {password: "\${env:ADMIN_PW}", role: viewer}\n  lockout: {attempts: 5, window_s: 60}\n  max_body_bytes: 2048\n`;
    const { config, diagnostics } = parseRootConfig(text, 'deskset.yaml', refs);
    expect(diagnostics).toEqual([]);
    expect(config.admin.listen).toEqual({ host: '::1', port: 9443 });
    expect(config.admin.tls).toBe(true);
    expect(config.admin.users.get('alice')).toEqual({ role: 'admin', credential: { kind: 'hash', value: HASH } });
    expect(config.admin.users.get('ci')).toEqual({ role: 'viewer', credential: { kind: 'secret', value: 'from-the-env' } });
    expect(config.admin.lockout).toEqual({ attempts: 5, windowS: 60 });
    expect(config.admin.maxBodyBytes).toBe(2048);
    expect(parseRootConfig('admin: {enabled: false}\n').config.admin.listen).toBeUndefined();
  });

  it('refuses a plain password, a bad role, a bad address and an unknown key, at file:line:col', () => {
    const plain = parseRootConfig('admin:\n  users:\n    bob: {password: hunter2, role: admin}\n', 'deskset.yaml', refs);
    expect(plain.diagnostics).toEqual([expect.objectContaining({ severity: 'error', message: expect.stringMatching(/admin\.users\.bob\.password: expected an scrypt hash/), loc: { file: 'deskset.yaml', line: 3, col: 21 } })]);
    expect(plain.diagnostics[0]!.message).not.toContain('hunter2');
    const role = parseRootConfig('admin:\n  users:\n    bob: {password: "x", role: root}\n');
    expect(role.diagnostics[0]!.message).toMatch(/role: expected one of admin, viewer/);
    const addr = parseRootConfig('admin:\n  listen: "localhost:99999"\n');
    expect(addr.diagnostics[0]).toMatchObject({ message: expect.stringMatching(/host:port/), loc: { line: 2 } });
    const unknown = parseRootConfig('admin:\n  listne: 1\n');
    expect(unknown.diagnostics[0]!.message).toMatch(/admin\.listne: unknown key \(did you mean "listen"\?\)/);
    const missing = parseRootConfig('admin:\n  users:\n    bob: {role: admin}\n');
    expect(missing.diagnostics[0]!.message).toMatch(/missing required key "password"/);
  });

  it('listen addresses', () => {
    const table: Array<[string, ReturnType<typeof parseListenAddress>]> = [
      ['127.0.0.1:9090', { host: '127.0.0.1', port: 9090 }],
      ['0.0.0.0:1', { host: '0.0.0.0', port: 1 }],
      ['admin.example.com:443', { host: 'admin.example.com', port: 443 }],
      ['[::1]:9090', { host: '::1', port: 9090 }],
      ['9091', { host: '127.0.0.1', port: 9091 }],
      ['::1:9090', undefined],
      ['host:', undefined],
      ['host:70000', undefined],
      ['a b:1', undefined],
    ];
    for (const [text, want] of table) expect(parseListenAddress(text), text).toEqual(want);
  });
});

describe('Authorization header', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const table: Array<[string | undefined, ReturnType<typeof parseAuthorization>]> = [
    [undefined, { kind: 'none' }],
    ['', { kind: 'none' }],
    [`Basic ${b64('alice:pw:with:colons')}`, { kind: 'basic', user: 'alice', password: 'pw:with:colons' }],
    [`basic ${b64('alice:')}`, { kind: 'basic', user: 'alice', password: '' }],
    [`BASIC ${b64('ünï:cødé')}`, { kind: 'basic', user: 'ünï', password: 'cødé' }],
    ['Bearer dsk_abc', { kind: 'bearer', token: 'dsk_abc' }],
    [`Basic ${b64(':pw')}`, { kind: 'bad', why: 'Basic credentials are not "user:password"' }],
    [`Basic ${b64('nocolon')}`, { kind: 'bad', why: 'Basic credentials are not "user:password"' }],
    ['Basic ***', { kind: 'bad', why: 'Basic credentials are not base64' }],
    ['Negotiate abc', { kind: 'bad', why: 'unsupported scheme "Negotiate" (Basic or Bearer)' }],
    ['Bearer', { kind: 'bad', why: 'Authorization header is not "<scheme> <credentials>"' }],
    ['Bearer a b', { kind: 'bad', why: 'Authorization header is not "<scheme> <credentials>"' }],
    [`Bearer ${'x'.repeat(5000)}`, { kind: 'bad', why: 'Authorization header too long' }],
  ];
  for (const [header, want] of table) it(JSON.stringify(header?.slice(0, 40)), () => expect(parseAuthorization(header)).toEqual(want));
});

describe('masking secrets in import reports', () => {
  const table: Array<[string, string]> = [
    ['+      reg.1.auth.password: "Sup3r"', '+      reg.1.auth.password: "••••"'],
    ['+      reg.1.auth.password: plain text', '+      reg.1.auth.password: ••••'],
    ['-    - {extension: "1020", password: "abc", display_name: "Bob"}', '-    - {extension: "1020", password: "••••", display_name: "Bob"}'],
    ['+  account.1.password = s3cret', '+  account.1.password = ••••'],
    ['+  reg.1.auth.password="••••"', '+  reg.1.auth.password="••••"'],
    ['+  password: "${env:LINE_1020}"', '+  password: "${env:LINE_1020}"'],
    ['+  reg.1.address: "1050"', '+  reg.1.address: "1050"'],
    ['+  label: known-secret-value here', '+  label: •••• here'],
  ];
  for (const [line, want] of table) it(line, () => expect(maskSecrets(line, new Set(['known-secret-value']))).toBe(want));
});
