import { describe, expect, it } from 'vitest';
import type { FileFetch } from '../src/store/contract.js';
import { provisionResult } from '../src/inventory/judge.js';
import { fileName } from '../src/inventory/observation.js';

const f = (fileId: string, s: number, status = 200, etag = `"${fileId}-1"`, name = `${fileId}.cfg`): FileFetch => ({ name, fileId, status, bytes: 10, etag, at: new Date(Date.UTC(2026, 11, 1, 8, 0, s)).toISOString() });
const need = [
  { fileId: 'master', etag: '"master-1"' },
  { fileId: 'settings', etag: '"settings-1"' },
];

describe('provision result', () => {
  it.each<[string, FileFetch[], string]>([
    ['every boot file with the current ETag', [f('master', 1), f('settings', 2)], 'ok'],
    ['304s carry the current ETag too', [f('master', 1, 304), f('settings', 2, 304)], 'ok'],
    ['a file changed since it was fetched', [f('master', 1), f('settings', 2, 200, '"settings-0"')], 'stale'],
    ['half the boot sequence so far', [f('master', 1)], 'stale'],
    ['nothing fetched', [], 'stale'],
    ['a 401 on a boot file', [f('master', 1), f('settings', 2, 401)], 'failing'],
    ['a 403 as the last request, on another file', [f('master', 1), f('settings', 2), f('firmware', 3, 403, '', 'sip.ld')], 'failing'],
    ['an error, then the same file served', [f('master', 1, 500), f('settings', 2), f('master', 3)], 'ok'],
    ['the latest of two names of one file decides', [f('master', 1), f('settings', 2, 200, '"settings-0"', '46xxsettings.txt'), f('settings', 3, 200, '"settings-1"', 'aabbcc.txt')], 'ok'],
    ['an older name with the current ETag does not hide a newer stale fetch', [f('master', 1), f('settings', 3, 200, '"settings-0"', '46xxsettings.txt'), f('settings', 2, 200, '"settings-1"', 'aabbcc.txt')], 'stale'],
    ['extra files (firmware, resources) do not matter', [f('master', 1), f('settings', 2), f('ringtone', 3, 200, '"x"', 'ring.wav')], 'ok'],
  ])('%s → %s', (_why, files, want) => {
    expect(provisionResult(files, need)).toBe(want);
  });

  it('a boot file the snapshot cannot render (no ETag) counts as fetched when served', () => {
    expect(provisionResult([f('master', 1), f('settings', 2)], [{ fileId: 'master' }, { fileId: 'settings', etag: '"settings-1"' }])).toBe('ok');
  });
});

describe('file names from the access log path', () => {
  it.each([
    ['/0004f2a1b2c3.cfg', '0004f2a1b2c3.cfg'],
    ['/p/••••/0004f2a1b2c3.cfg', '0004f2a1b2c3.cfg'],
    ['/J179/c81fea83e85a/46xxsettings.txt', 'J179/c81fea83e85a/46xxsettings.txt'],
    ['/', ''],
  ])('%s → %s', (p, want) => expect(fileName(p)).toBe(want));
});
