import { describe, it, expect } from 'vitest';
import {
  parseRange,
  evaluateConditionals,
  rangeApplies,
  planResponse,
  parseHttpDate,
  strongEtag,
  etagForBytes,
  type HeaderMap,
  type RangeResult,
} from '../src/pipeline/conditional.js';

// Representation used throughout: the bytes "123456789".
const BODY = Buffer.from('123456789');
const ETAG = '"xyzzy"';
const LM = new Date('1994-11-06T08:49:37Z'); // the RFC's example date
const LM_HTTP = 'Sun, 06 Nov 1994 08:49:37 GMT';
const EARLIER = 'Sat, 05 Nov 1994 08:49:37 GMT';
const LATER = 'Mon, 07 Nov 1994 08:49:37 GMT';
const META = { size: BODY.length, etag: ETAG, lastModified: LM, contentType: 'text/plain' };

const get = (headers: HeaderMap = {}) => ({ method: 'GET', headers });
const head = (headers: HeaderMap = {}) => ({ method: 'HEAD', headers });

describe('parseRange', () => {
  const cases: Array<[string | undefined, number, RangeResult]> = [
    [undefined, 9, { kind: 'none' }],
    // int-range
    ['bytes=2-5', 9, { kind: 'single', start: 2, end: 5 }],
    ['bytes=0-0', 9, { kind: 'single', start: 0, end: 0 }],
    ['bytes=0-8', 9, { kind: 'single', start: 0, end: 8 }],
    ['bytes=8-8', 9, { kind: 'single', start: 8, end: 8 }],
    // last-pos beyond the end is clamped (RFC 9110 §14.1.2)
    ['bytes=2-100', 9, { kind: 'single', start: 2, end: 8 }],
    ['bytes=0-99999999999999999999', 9, { kind: 'single', start: 0, end: 8 }],
    // open-ended
    ['bytes=3-', 9, { kind: 'single', start: 3, end: 8 }],
    ['bytes=0-', 9, { kind: 'single', start: 0, end: 8 }],
    // suffix-range
    ['bytes=-3', 9, { kind: 'single', start: 6, end: 8 }],
    ['bytes=-9', 9, { kind: 'single', start: 0, end: 8 }],
    ['bytes=-100', 9, { kind: 'single', start: 0, end: 8 }],
    // unsatisfiable: first-pos not below the length; zero suffix-length
    ['bytes=9-', 9, { kind: 'unsatisfiable' }],
    ['bytes=9-10', 9, { kind: 'unsatisfiable' }],
    ['bytes=100-200', 9, { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-', 9, { kind: 'unsatisfiable' }],
    ['bytes=-0', 9, { kind: 'unsatisfiable' }],
    // size 0
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=0-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'ignored' }], // satisfiable but empty: cannot be a 206, serve the empty 200
    [undefined, 0, { kind: 'none' }],
    // unit is case-insensitive; empty list elements are ignored; OWS around commas
    ['Bytes=2-5', 9, { kind: 'single', start: 2, end: 5 }],
    ['BYTES=2-5', 9, { kind: 'single', start: 2, end: 5 }],
    ['bytes=2-5,', 9, { kind: 'single', start: 2, end: 5 }],
    ['bytes=, 2-5 ,', 9, { kind: 'single', start: 2, end: 5 }],
    // multiple ranges: the full body
    ['bytes=0-1,3-4', 9, { kind: 'ignored' }],
    ['bytes=0-1, 3-4', 9, { kind: 'ignored' }],
    ['bytes=-1,0-0', 9, { kind: 'ignored' }],
    ['bytes=20-30,40-50', 9, { kind: 'ignored' }],
    // malformed: ignored
    ['', 9, { kind: 'ignored' }],
    ['bytes', 9, { kind: 'ignored' }],
    ['bytes=', 9, { kind: 'ignored' }],
    ['bytes=-', 9, { kind: 'ignored' }],
    ['bytes=a-b', 9, { kind: 'ignored' }],
    ['bytes=1-a', 9, { kind: 'ignored' }],
    ['bytes=5-2', 9, { kind: 'ignored' }], // last-pos < first-pos is invalid
    ['bytes=+1-2', 9, { kind: 'ignored' }],
    ['bytes=1.5-2', 9, { kind: 'ignored' }],
    ['bytes= 2-5', 9, { kind: 'single', start: 2, end: 5 }], // OWS trimmed per list element
    ['bytes=2 - 5', 9, { kind: 'ignored' }],
    ['items=0-5', 9, { kind: 'ignored' }],
    ['bytes:0-5', 9, { kind: 'ignored' }],
  ];

  it.each(cases)('%j of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it('bytes=2-5 of "123456789" selects "3456"', () => {
    const r = parseRange('bytes=2-5', BODY.length);
    expect(r.kind).toBe('single');
    if (r.kind !== 'single') return;
    expect(BODY.subarray(r.start, r.end + 1).toString()).toBe('3456');
  });

  it('RFC 9110 §14.1.2 examples against a 10000-byte representation', () => {
    expect(parseRange('bytes=0-499', 10000)).toEqual({ kind: 'single', start: 0, end: 499 });
    expect(parseRange('bytes=500-999', 10000)).toEqual({ kind: 'single', start: 500, end: 999 });
    expect(parseRange('bytes=-500', 10000)).toEqual({ kind: 'single', start: 9500, end: 9999 });
    expect(parseRange('bytes=9500-', 10000)).toEqual({ kind: 'single', start: 9500, end: 9999 });
    expect(parseRange('bytes=0-0,-1', 10000)).toEqual({ kind: 'ignored' });
  });
});

describe('parseHttpDate', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', t], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', t], // obsolete RFC 850
    ['Sun Nov  6 08:49:37 1994', t], // ANSI C asctime(), UTC even though it names no zone
    ['Sun Nov 16 08:49:37 1994', Date.UTC(1994, 10, 16, 8, 49, 37)],
  ])('%s', (s, expected) => {
    expect(parseHttpDate(s, Date.UTC(2025, 0, 1))).toBe(expected);
  });

  it('resolves two-digit years no more than 50 years into the future', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(new Date(parseHttpDate('Tuesday, 01-Jan-74 00:00:00 GMT', now)!).getUTCFullYear()).toBe(2074);
    expect(new Date(parseHttpDate('Saturday, 01-Jan-76 00:00:00 GMT', now)!).getUTCFullYear()).toBe(1976);
  });

  it.each([
    'not a date',
    '',
    '2024-01-01T00:00:00Z', // ISO 8601 is not an HTTP-date, though Date.parse accepts it
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Nov 1994 08:49:37',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Wed, 30 Feb 2022 00:00:00 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT',
  ])('rejects %j', (s) => {
    expect(parseHttpDate(s)).toBeUndefined();
  });
});

describe('evaluateConditionals', () => {
  const cases: Array<[string, string, HeaderMap, 'send' | 'not-modified' | 'precondition-failed']> = [
    ['no conditionals', 'GET', {}, 'send'],

    // If-Match: strong comparison, "*", lists
    ['If-Match same', 'GET', { 'if-match': ETAG }, 'send'],
    ['If-Match other', 'GET', { 'if-match': '"other"' }, 'precondition-failed'],
    ['If-Match *', 'GET', { 'if-match': '*' }, 'send'],
    ['If-Match list containing', 'GET', { 'if-match': '"a", "xyzzy", "b"' }, 'send'],
    ['If-Match list without', 'GET', { 'if-match': '"a", "b"' }, 'precondition-failed'],
    ['If-Match weak of same (strong comparison fails)', 'GET', { 'if-match': `W/${ETAG}` }, 'precondition-failed'],
    ['If-Match unquoted garbage', 'GET', { 'if-match': 'xyzzy' }, 'precondition-failed'],
    ['If-Match array of fields', 'GET', { 'if-match': ['"a"', ETAG] }, 'send'],
    ['If-Match beats If-None-Match', 'GET', { 'if-match': '"other"', 'if-none-match': ETAG }, 'precondition-failed'],
    // step 1 passes, step 3 still applies
    ['If-Match ok then If-None-Match matches', 'GET', { 'if-match': ETAG, 'if-none-match': ETAG }, 'not-modified'],

    // If-Unmodified-Since: only without If-Match
    ['IUS later', 'GET', { 'if-unmodified-since': LATER }, 'send'],
    ['IUS equal', 'GET', { 'if-unmodified-since': LM_HTTP }, 'send'],
    ['IUS earlier', 'GET', { 'if-unmodified-since': EARLIER }, 'precondition-failed'],
    ['IUS invalid ignored', 'GET', { 'if-unmodified-since': 'yesterday' }, 'send'],
    ['IUS ignored when If-Match present', 'GET', { 'if-match': ETAG, 'if-unmodified-since': EARLIER }, 'send'],
    ['IUS earlier on PUT', 'PUT', { 'if-unmodified-since': EARLIER }, 'precondition-failed'],

    // If-None-Match: weak comparison, "*", lists, 304 only for GET/HEAD
    ['INM same', 'GET', { 'if-none-match': ETAG }, 'not-modified'],
    ['INM same, HEAD', 'HEAD', { 'if-none-match': ETAG }, 'not-modified'],
    ['INM weak form of ours (weak comparison matches)', 'GET', { 'if-none-match': `W/${ETAG}` }, 'not-modified'],
    ['INM other', 'GET', { 'if-none-match': '"other"' }, 'send'],
    ['INM *', 'GET', { 'if-none-match': '*' }, 'not-modified'],
    ['INM list', 'GET', { 'if-none-match': '"a", W/"xyzzy"' }, 'not-modified'],
    ['INM list without spaces', 'GET', { 'if-none-match': '"a","xyzzy"' }, 'not-modified'],
    ['INM tag containing a comma', 'GET', { 'if-none-match': '"a,b", "c"' }, 'send'],
    ['INM same on POST', 'POST', { 'if-none-match': ETAG }, 'precondition-failed'],
    ['INM * on PUT', 'PUT', { 'if-none-match': '*' }, 'precondition-failed'],
    ['INM other on PUT', 'PUT', { 'if-none-match': '"other"' }, 'send'],
    ['INM lowercase w/ is not weak syntax', 'GET', { 'if-none-match': `w/${ETAG}` }, 'send'],

    // If-Modified-Since: GET/HEAD only, ignored with If-None-Match, invalid ignored
    ['IMS equal', 'GET', { 'if-modified-since': LM_HTTP }, 'not-modified'],
    ['IMS later', 'GET', { 'if-modified-since': LATER }, 'not-modified'],
    ['IMS earlier', 'GET', { 'if-modified-since': EARLIER }, 'send'],
    ['IMS equal, HEAD', 'HEAD', { 'if-modified-since': LM_HTTP }, 'not-modified'],
    ['IMS equal on POST ignored', 'POST', { 'if-modified-since': LM_HTTP }, 'send'],
    ['IMS invalid ignored', 'GET', { 'if-modified-since': 'garbage' }, 'send'],
    ['IMS two members ignored', 'GET', { 'if-modified-since': [LM_HTTP, LM_HTTP] }, 'send'],
    ['IMS rfc850 form', 'GET', { 'if-modified-since': 'Sunday, 06-Nov-94 08:49:37 GMT' }, 'not-modified'],
    ['IMS asctime form', 'GET', { 'if-modified-since': 'Sun Nov  6 08:49:37 1994' }, 'not-modified'],
    ['IMS ignored when INM present and not matching', 'GET', { 'if-none-match': '"other"', 'if-modified-since': LATER }, 'send'],
    ['IMS ignored when INM present and matching', 'GET', { 'if-none-match': ETAG, 'if-modified-since': EARLIER }, 'not-modified'],
  ];

  it.each(cases)('%s', (_name, method, headers, expected) => {
    expect(evaluateConditionals({ method, headers }, { etag: ETAG, lastModified: LM })).toBe(expected);
  });

  it('compares dates at one-second granularity', () => {
    // Last-Modified has sub-second precision on disk but is sent truncated to seconds.
    const lm = new Date(LM.getTime() + 999);
    expect(evaluateConditionals(get({ 'if-modified-since': LM_HTTP }), { etag: ETAG, lastModified: lm })).toBe('not-modified');
    expect(evaluateConditionals(get({ 'if-unmodified-since': LM_HTTP }), { etag: ETAG, lastModified: lm })).toBe('send');
  });

  it('ignores date conditions for a resource without Last-Modified', () => {
    expect(evaluateConditionals(get({ 'if-modified-since': LATER }), { etag: ETAG })).toBe('send');
    expect(evaluateConditionals(get({ 'if-unmodified-since': EARLIER }), { etag: ETAG })).toBe('send');
  });

  it('a weak current ETag satisfies If-None-Match but never If-Match', () => {
    const weak = { etag: 'W/"xyzzy"' };
    expect(evaluateConditionals(get({ 'if-none-match': '"xyzzy"' }), weak)).toBe('not-modified');
    expect(evaluateConditionals(get({ 'if-match': 'W/"xyzzy"' }), weak)).toBe('precondition-failed');
    expect(evaluateConditionals(get({ 'if-match': '*' }), weak)).toBe('send');
  });
});

describe('rangeApplies (If-Range)', () => {
  const cases: Array<[string, string, HeaderMap, boolean]> = [
    ['no Range', 'GET', {}, false],
    ['If-Range without Range', 'GET', { 'if-range': ETAG }, false],
    ['Range alone', 'GET', { range: 'bytes=0-1' }, true],
    ['Range on HEAD', 'HEAD', { range: 'bytes=0-1' }, false],
    ['Range on POST', 'POST', { range: 'bytes=0-1' }, false],
    ['If-Range matching etag', 'GET', { range: 'bytes=0-1', 'if-range': ETAG }, true],
    ['If-Range other etag', 'GET', { range: 'bytes=0-1', 'if-range': '"other"' }, false],
    ['If-Range weak etag', 'GET', { range: 'bytes=0-1', 'if-range': `W/${ETAG}` }, false],
    ['If-Range equal date', 'GET', { range: 'bytes=0-1', 'if-range': LM_HTTP }, true],
    ['If-Range later date (must be exact)', 'GET', { range: 'bytes=0-1', 'if-range': LATER }, false],
    ['If-Range earlier date', 'GET', { range: 'bytes=0-1', 'if-range': EARLIER }, false],
    ['If-Range invalid date', 'GET', { range: 'bytes=0-1', 'if-range': 'xyzzy' }, false],
  ];
  it.each(cases)('%s', (_name, method, headers, expected) => {
    expect(rangeApplies({ method, headers }, { etag: ETAG, lastModified: LM })).toBe(expected);
  });

  it('If-Range with a date never matches a resource without Last-Modified', () => {
    expect(rangeApplies(get({ range: 'bytes=0-1', 'if-range': LM_HTTP }), { etag: ETAG })).toBe(false);
  });

  it('If-Range etag never matches when our own ETag is weak', () => {
    expect(rangeApplies(get({ range: 'bytes=0-1', 'if-range': '"xyzzy"' }), { etag: 'W/"xyzzy"' })).toBe(false);
  });
});

describe('planResponse', () => {
  const base = { 'Accept-Ranges': 'bytes', ETag: ETAG, 'Last-Modified': LM_HTTP };
  const full = { ...base, 'Content-Type': 'text/plain', 'Content-Length': '9' };
  const partial = (start: number, end: number) => ({
    status: 206,
    headers: { ...base, 'Content-Type': 'text/plain', 'Content-Length': String(end - start + 1), 'Content-Range': `bytes ${start}-${end}/9` },
    body: { kind: 'range', start, end },
  });
  const ok = { status: 200, headers: full, body: { kind: 'full' } };

  const cases: Array<[string, { method: string; headers: HeaderMap }, unknown]> = [
    ['plain GET', get(), ok],
    ['HEAD: same headers, no body', head(), { status: 200, headers: full, body: { kind: 'none' } }],
    ['Range 2-5', get({ range: 'bytes=2-5' }), partial(2, 5)],
    ['suffix', get({ range: 'bytes=-4' }), partial(5, 8)],
    ['open-ended', get({ range: 'bytes=4-' }), partial(4, 8)],
    ['clamped', get({ range: 'bytes=7-20' }), partial(7, 8)],
    ['unsatisfiable', get({ range: 'bytes=9-' }), { status: 416, headers: { ...base, 'Content-Range': 'bytes */9' }, body: { kind: 'none' } }],
    ['suffix zero', get({ range: 'bytes=-0' }), { status: 416, headers: { ...base, 'Content-Range': 'bytes */9' }, body: { kind: 'none' } }],
    ['multiple ranges', get({ range: 'bytes=0-1,3-4' }), ok],
    ['malformed Range', get({ range: 'bytes=x-y' }), ok],
    ['unknown unit', get({ range: 'lines=1-2' }), ok],
    ['HEAD ignores Range', head({ range: 'bytes=2-5' }), { status: 200, headers: full, body: { kind: 'none' } }],
    ['HEAD ignores unsatisfiable Range', head({ range: 'bytes=50-' }), { status: 200, headers: full, body: { kind: 'none' } }],
    ['If-None-Match 304', get({ 'if-none-match': ETAG }), { status: 304, headers: base, body: { kind: 'none' } }],
    ['If-None-Match 304 HEAD', head({ 'if-none-match': ETAG }), { status: 304, headers: base, body: { kind: 'none' } }],
    ['If-Modified-Since 304', get({ 'if-modified-since': LM_HTTP }), { status: 304, headers: base, body: { kind: 'none' } }],
    ['304 beats Range', get({ 'if-none-match': ETAG, range: 'bytes=0-1' }), { status: 304, headers: base, body: { kind: 'none' } }],
    ['If-Match 412', get({ 'if-match': '"other"' }), { status: 412, headers: base, body: { kind: 'none' } }],
    ['412 beats Range', get({ 'if-match': '"other"', range: 'bytes=0-1' }), { status: 412, headers: base, body: { kind: 'none' } }],
    ['If-Unmodified-Since 412', get({ 'if-unmodified-since': EARLIER }), { status: 412, headers: base, body: { kind: 'none' } }],
    ['If-Range etag match', get({ range: 'bytes=2-5', 'if-range': ETAG }), partial(2, 5)],
    ['If-Range etag mismatch', get({ range: 'bytes=2-5', 'if-range': '"old"' }), ok],
    ['If-Range date match', get({ range: 'bytes=2-5', 'if-range': LM_HTTP }), partial(2, 5)],
    ['If-Range date mismatch', get({ range: 'bytes=2-5', 'if-range': EARLIER }), ok],
    ['If-Range mismatch beats unsatisfiable', get({ range: 'bytes=50-', 'if-range': '"old"' }), ok],
    ['If-None-Match miss, Range', get({ 'if-none-match': '"old"', range: 'bytes=2-5' }), partial(2, 5)],
  ];

  it.each(cases)('%s', (_name, req, expected) => {
    expect(planResponse(req, META)).toEqual(expected);
  });

  it('omits Last-Modified when unknown', () => {
    const plan = planResponse(get(), { size: 9, etag: ETAG, contentType: 'text/plain' });
    expect(plan.headers).not.toHaveProperty('Last-Modified');
    expect(plan.headers.ETag).toBe(ETAG);
  });

  it('empty representation', () => {
    const meta = { ...META, size: 0 };
    expect(planResponse(get(), meta)).toMatchObject({ status: 200, headers: { 'Content-Length': '0' }, body: { kind: 'full' } });
    expect(planResponse(get({ range: 'bytes=0-' }), meta)).toMatchObject({ status: 416, headers: { 'Content-Range': 'bytes */0' } });
    expect(planResponse(get({ range: 'bytes=-5' }), meta)).toMatchObject({ status: 200, body: { kind: 'full' } });
  });
});

describe('ETags', () => {
  it('strongEtag is quoted, not weak, and changes with size, mtime and inode', () => {
    const a = strongEtag({ size: 9, mtimeMs: 1700000000123.456, ino: 42 });
    expect(a).toMatch(/^"[^"]+"$/);
    expect(strongEtag({ size: 9, mtimeMs: 1700000000123.456, ino: 42 })).toBe(a);
    expect(strongEtag({ size: 10, mtimeMs: 1700000000123.456, ino: 42 })).not.toBe(a);
    expect(strongEtag({ size: 9, mtimeMs: 1700000000123.457, ino: 42 })).not.toBe(a);
    expect(strongEtag({ size: 9, mtimeMs: 1700000000123.456, ino: 43 })).not.toBe(a);
    expect(strongEtag({ size: 9, mtimeMs: 1700000000123.456 })).not.toBe(a);
  });

  it('etagForBytes is a quoted digest of the content', () => {
    const a = etagForBytes(Buffer.from('123456789'));
    expect(a).toMatch(/^"9-[A-Za-z0-9_-]{27}"$/);
    expect(etagForBytes(new Uint8Array(Buffer.from('123456789')))).toBe(a);
    expect(etagForBytes(Buffer.from('123456788'))).not.toBe(a);
    expect(etagForBytes(Buffer.alloc(0))).toMatch(/^"0-[A-Za-z0-9_-]{27}"$/);
  });

  it('generated ETags round-trip through If-None-Match and If-Range', () => {
    const etag = etagForBytes(BODY);
    const meta = { ...META, etag };
    expect(planResponse(get({ 'if-none-match': etag }), meta).status).toBe(304);
    expect(planResponse(get({ range: 'bytes=2-5', 'if-range': etag }), meta).status).toBe(206);
  });
});
