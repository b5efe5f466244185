// HTTP conditional requests and byte ranges as pure functions over plain header objects.
// Modelled on jshttp/fresh and jshttp/range-parser, but returning tagged unions instead of
// magic numbers, and following RFC 9110 (June 2022) to the letter where the older libraries
// are lenient. No I/O here: pipeline/file-reply.ts and rendered.ts turn these plans into replies.

import crypto from 'node:crypto';

/** Header map as Node's `IncomingMessage.headers` and Koa's `ctx.headers` present it: lower-case names. */
export type HeaderMap = Record<string, string | string[] | undefined>;

export interface RequestLike {
  method: string;
  headers: HeaderMap;
}

export interface Validators {
  etag: string;
  lastModified?: Date;
}

export interface RepresentationMeta extends Validators {
  size: number;
  contentType: string;
}

export type RangeResult =
  | { kind: 'none' }
  | { kind: 'single'; start: number; end: number }
  | { kind: 'unsatisfiable' }
  | { kind: 'ignored' };

export type ConditionalOutcome = 'send' | 'not-modified' | 'precondition-failed';

export type ResponseBody = { kind: 'none' } | { kind: 'full' } | { kind: 'range'; start: number; end: number };

export interface ResponsePlan {
  status: 200 | 206 | 304 | 412 | 416;
  headers: Record<string, string>;
  body: ResponseBody;
}

// ---------------------------------------------------------------------------------------------
// Range (RFC 9110 §14)
// ---------------------------------------------------------------------------------------------

/**
 * Interpret a `Range` header against a representation of `size` bytes.
 *
 * Only a single byte range is served. Everything else falls back to the full body, which
 * §14.2 permits ("A server MAY ignore the Range header field"); phones resume downloads with
 * one open-ended range, and multipart/byteranges is a lot of surface for no client we serve.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };

  // §14.1.1: ranges-specifier = range-unit "=" range-set, and range units are compared
  // case-insensitively. §14.2: "A server MUST ignore a Range header field received with a
  // request method that is unrecognized [...] or a range unit it does not understand."
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'ignored' };
  if (header.slice(0, eq).toLowerCase() !== 'bytes') return { kind: 'ignored' };

  // §5.6.1.2: a recipient MUST parse and ignore a reasonable number of empty list elements,
  // so "bytes=0-1," is one range. OWS is only allowed around the commas.
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'ignored' };
  // §14.2: a server MAY ignore Range; we serve 200 with the whole body rather than
  // multipart/byteranges (also sidesteps the many-small-ranges DoS noted in §14.2).
  if (specs.length > 1) return { kind: 'ignored' };

  const m = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!m) return { kind: 'ignored' };
  const [, first, last] = m as unknown as [string, string, string];

  if (first === '') {
    // suffix-range = "-" suffix-length
    if (last === '') return { kind: 'ignored' }; // "bytes=-" is not a range-spec at all
    const suffix = Number(last);
    // §14.1.1: "A suffix-range is satisfiable if the suffix-length is not 0" ...
    if (suffix === 0) return { kind: 'unsatisfiable' };
    // ... §14.1.1: "If the selected representation has zero length, the only satisfiable form of
    // range-spec is a suffix-range with a non-zero suffix-length" — but the result would be an
    // empty range, which Content-Range cannot express ("bytes 0--1/0"). Serve the (empty) full
    // body instead, which ignoring Range allows.
    if (size === 0) return { kind: 'ignored' };
    // §14.1.2: "If the selected representation is shorter than the specified suffix-length,
    // the entire representation is used."
    return { kind: 'single', start: Math.max(0, size - suffix), end: size - 1 };
  }

  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  // §14.1.1: "An int-range is invalid if the last-pos value is present and less than the
  // first-pos." An invalid ranges-specifier MAY be ignored (§14.2).
  if (end < start) return { kind: 'ignored' };
  // §14.1.1: "an int-range is satisfiable if the first-pos is less than the current length of
  // the selected representation" — so any int-range against an empty body is unsatisfiable.
  if (start >= size) return { kind: 'unsatisfiable' };
  // §14.1.2: "If the last-pos value is absent, or if the value is greater than or equal to the
  // current length of the representation data, the byte range is interpreted as the remainder."
  return { kind: 'single', start, end: Math.min(end, size - 1) };
}

// ---------------------------------------------------------------------------------------------
// Entity tags (RFC 9110 §8.8.3)
// ---------------------------------------------------------------------------------------------

interface EntityTag {
  weak: boolean;
  /** The opaque-tag including its quotes, which is what comparison looks at. */
  opaque: string;
}

function parseEntityTag(raw: string): EntityTag | undefined {
  // entity-tag = [ weak ] opaque-tag ; weak = %s"W/" (case-sensitive) ; opaque-tag = DQUOTE *etagc DQUOTE
  const m = /^(W\/)?("[\x21\x23-\x7e\x80-\xff]*")$/.exec(raw);
  return m ? { weak: m[1] !== undefined, opaque: m[2]! } : undefined;
}

/**
 * Parse `If-Match` / `If-None-Match`: either "*" or a comma-separated list of entity-tags.
 * etagc allows commas inside the quotes, so this scans rather than splitting on ",".
 * Malformed members are skipped, so a garbage list simply matches nothing.
 */
function parseEtagList(value: string): '*' | EntityTag[] {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= value.length) break;
    const begin = i;
    if (value.startsWith('W/', i)) i += 2;
    if (value[i] === '"') {
      const close = value.indexOf('"', i + 1);
      if (close < 0) break; // unterminated: nothing more can be parsed
      const tag = parseEntityTag(value.slice(begin, close + 1));
      if (tag) tags.push(tag);
      i = close + 1;
    }
    // Skip to the next list separator, dropping anything trailing the tag (or an unquoted token).
    while (i < value.length && value[i] !== ',') i++;
  }
  return tags;
}

/** §8.8.3.2: strong comparison — both not weak and opaque-tags identical. */
function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** §8.8.3.2: weak comparison — opaque-tags identical, either or both may be weak. */
function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

// ---------------------------------------------------------------------------------------------
// HTTP-date (RFC 9110 §5.6.7)
// ---------------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function utc(year: number, monthName: string, day: number, h: number, mi: number, s: number): number | undefined {
  const month = MONTHS.indexOf(monthName);
  if (month < 0 || h > 23 || mi > 59 || s > 60) return undefined;
  const t = Date.UTC(year, month, day, h, mi, Math.min(s, 59)); // a leap second sorts as :59
  // Date.UTC rolls "Feb 30" over into March; reject instead of guessing.
  if (new Date(t).getUTCDate() !== day) return undefined;
  return t;
}

/**
 * Parse an HTTP-date into epoch milliseconds, or undefined if it is not one.
 * Hand-written rather than `Date.parse` because V8 reads asctime-date (which carries no zone)
 * as local time and accepts all sorts of non-HTTP formats; §5.6.7 says all three forms are UTC.
 */
export function parseHttpDate(value: string, now: number = Date.now()): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(+m[3]!, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  m = RFC850_DATE.exec(value);
  if (m) {
    // §5.6.7: "Recipients of a timestamp value in rfc850-date format, which uses a two-digit year,
    // MUST interpret a timestamp that appears to be more than 50 years in the future as
    // representing the most recent year in the past that had the same last two digits."
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + +m[3]!;
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(+m[6]!, m[1]!, +m[2]!.trim(), +m[3]!, +m[4]!, +m[5]!);
  return undefined;
}

/** Last-Modified travels with one-second resolution, so comparisons happen in whole seconds. */
function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

// ---------------------------------------------------------------------------------------------
// Header access
// ---------------------------------------------------------------------------------------------

/** A list-valued header: Node joins most repeats with ", ", but be robust to arrays too. */
function listHeader(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * A single-valued header. Repeats make it ambiguous, e.g. §13.1.3: "A recipient MUST ignore
 * If-Modified-Since if [...] the field value has more than one member".
 */
function singleHeader(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v.length === 1 ? v[0] : undefined;
  return v;
}

function isGetOrHead(method: string): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD';
}

// ---------------------------------------------------------------------------------------------
// Preconditions (RFC 9110 §13.2.2)
// ---------------------------------------------------------------------------------------------

/**
 * Evaluate If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order
 * §13.2.2 prescribes, for a resource that exists with the given validators.
 */
export function evaluateConditionals(req: RequestLike, meta: Validators): ConditionalOutcome {
  const lastModified = meta.lastModified?.getTime();
  const getOrHead = isGetOrHead(req.method);

  // Step 1. "When recipient is the origin server and If-Match is present, evaluate the If-Match
  // precondition: if true, continue to step 3; if false, respond 412 (Precondition Failed)".
  // (The "unless the state change has already succeeded" escape only concerns unsafe methods.)
  const ifMatch = listHeader(req.headers, 'if-match');
  if (ifMatch !== undefined) {
    const list = parseEtagList(ifMatch);
    // §13.1.1: "*" is true if the origin has a current representation — we always do here.
    // Otherwise true only on a *strong* match with one of the listed tags.
    // The current tag is parsed only here and below: most requests name none.
    const tag = list === '*' ? undefined : parseEntityTag(meta.etag);
    const ok = list === '*' || (tag !== undefined && list.some((t) => strongMatch(t, tag)));
    if (!ok) return 'precondition-failed';
  } else {
    // Step 2. "When [...] If-Match is not present, and If-Unmodified-Since is present, evaluate
    // the If-Unmodified-Since precondition: if true, continue to step 3; if false, respond 412".
    const ius = singleHeader(req.headers, 'if-unmodified-since');
    // §13.1.4: ignore it if the value is not a valid HTTP-date or the resource has no
    // modification date available.
    const since = ius === undefined ? undefined : parseHttpDate(ius);
    if (since !== undefined && lastModified !== undefined) {
      // §13.1.4: "false if the selected representation's last modification date is more recent
      // than the date provided in the field value".
      if (seconds(lastModified) > seconds(since)) return 'precondition-failed';
    }
  }

  // Step 3. "When If-None-Match is present, evaluate the If-None-Match precondition: if true,
  // continue to step 5; if false for GET/HEAD, respond 304 (Not Modified); if false for other
  // methods, respond 412 (Precondition Failed)".
  const ifNoneMatch = listHeader(req.headers, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    const list = parseEtagList(ifNoneMatch);
    // §13.1.2: "*" is false if the origin has a current representation; otherwise false when
    // any listed tag matches using the *weak* comparison function.
    const tag = list === '*' ? undefined : parseEntityTag(meta.etag);
    const matched = list === '*' || (tag !== undefined && list.some((t) => weakMatch(t, tag)));
    if (matched) return getOrHead ? 'not-modified' : 'precondition-failed';
    return 'send';
  }

  // Step 4. "When the method is GET or HEAD, If-None-Match is not present, and
  // If-Modified-Since is present, evaluate the If-Modified-Since precondition: if true,
  // continue to step 5; if false, respond 304 (Not Modified)".
  if (getOrHead) {
    const ims = singleHeader(req.headers, 'if-modified-since');
    // §13.1.3: ignore an invalid HTTP-date; without a Last-Modified there is nothing to compare.
    const since = ims === undefined ? undefined : parseHttpDate(ims);
    if (since !== undefined && lastModified !== undefined) {
      // §13.1.3: "false if the selected representation's last modification date is earlier or
      // equal to the date provided in the field value".
      if (seconds(lastModified) <= seconds(since)) return 'not-modified';
    }
  }

  return 'send';
}

/**
 * Whether a Range header on this request should be honoured at all (§13.2.2 step 5 and
 * §13.1.5 If-Range). False means "ignore Range and send 200 with the full representation".
 */
export function rangeApplies(req: RequestLike, meta: Validators): boolean {
  // §14.2: "A server MUST ignore a Range header field received with a request method that is
  // unrecognized or for which range handling is not defined. For this specification, GET is
  // the only method for which range handling is defined." That includes HEAD.
  if (req.method.toUpperCase() !== 'GET') return false;
  if (req.headers['range'] === undefined) return false;

  // §13.1.5: "A server MUST ignore an If-Range header field received in a request that does not
  // contain a Range header field" — handled above; absent If-Range means Range applies.
  const ifRange = singleHeader(req.headers, 'if-range');
  if (ifRange === undefined) return true;
  const value = ifRange.trim();

  // §13.1.5: "A valid entity-tag can be distinguished from a valid HTTP-date by examining the
  // first three characters for a DQUOTE" (covers `"x"` and `W/"x"`).
  if (value.slice(0, 3).includes('"')) {
    const given = parseEntityTag(value);
    const current = parseEntityTag(meta.etag);
    // §13.1.5: "If the field value is an entity-tag, the condition is true if the ETag of the
    // selected representation is a strong match for the field value" — so weak tags never match.
    return given !== undefined && current !== undefined && strongMatch(given, current);
  }

  // §13.1.5: "If the field value is an HTTP-date, the condition is true if the
  // Last-Modified [...] is an exact match" — an invalid date or a resource without
  // Last-Modified fails the condition, and the full representation is sent.
  const date = parseHttpDate(value);
  if (date === undefined || meta.lastModified === undefined) return false;
  return seconds(date) === seconds(meta.lastModified.getTime());
}

// ---------------------------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------------------------

const NO_BODY: ResponsePlan['body'] = Object.freeze({ kind: 'none' });
const FULL_BODY: ResponsePlan['body'] = Object.freeze({ kind: 'full' });

/** Decide status, headers and which bytes to send for a GET/HEAD of a known representation. */
export function planResponse(req: RequestLike, meta: RepresentationMeta): ResponsePlan {
  // Validators go on every response: a 304 MUST carry the ETag a 200 would (§15.4.5), and
  // 412/416 responses tell the client what the current representation is. The object is the
  // plan's own: each outcome below adds its headers to it in place, never by spreading into a
  // copy (V8 builds `{ ...headers, k: v }` through a slow runtime path, over a microsecond here).
  const headers: Record<string, string> = { 'Accept-Ranges': 'bytes', ETag: meta.etag };
  if (meta.lastModified) headers['Last-Modified'] = meta.lastModified.toUTCString(); // IMF-fixdate
  const head = req.method.toUpperCase() === 'HEAD';

  const outcome = evaluateConditionals(req, meta);
  if (outcome === 'precondition-failed') return { status: 412, headers, body: { kind: 'none' } };
  // §15.4.5: a 304 "SHOULD NOT generate representation metadata other than the above listed
  // fields" — hence no Content-Type / Content-Length.
  if (outcome === 'not-modified') return { status: 304, headers, body: { kind: 'none' } };

  if (rangeApplies(req, meta)) {
    // Repeated Range fields join into a list, which parseRange treats as multiple ranges.
    const range = parseRange(listHeader(req.headers, 'range'), meta.size);
    if (range.kind === 'unsatisfiable') {
      // §15.5.17: "A server that generates a 416 response to a byte-range request SHOULD generate
      // a Content-Range header field specifying the current length of the selected representation".
      headers['Content-Range'] = `bytes */${meta.size}`;
      return { status: 416, headers, body: { kind: 'none' } };
    }
    if (range.kind === 'single') {
      const { start, end } = range;
      headers['Content-Type'] = meta.contentType;
      headers['Content-Length'] = String(end - start + 1);
      // §14.4: Content-Range = range-unit SP first-pos "-" last-pos "/" complete-length
      headers['Content-Range'] = `bytes ${start}-${end}/${meta.size}`;
      // rangeApplies() is false for HEAD, so a 206 always has a body.
      return { status: 206, headers, body: { kind: 'range', start, end } };
    }
    // 'none' / 'ignored': fall through to the full representation.
  }

  // §9.3.2: HEAD gets the header fields a GET would, including Content-Length, but no content.
  headers['Content-Type'] = meta.contentType;
  headers['Content-Length'] = String(meta.size);
  return { status: 200, headers, body: head ? NO_BODY : FULL_BODY };
}

// ---------------------------------------------------------------------------------------------
// ETag generation
// ---------------------------------------------------------------------------------------------

/**
 * A strong ETag from file metadata: size, mtime to the microsecond and, when given, the inode.
 * The inode catches a file atomically replaced by one with equal size and a preserved mtime
 * (rsync -t, cp -p); the price is that replicas behind a load balancer disagree, which only
 * costs a redundant 200, never wrong bytes.
 */
export function strongEtag(stat: { size: number; mtimeMs: number; ino?: number }): string {
  const parts = [stat.size.toString(16), Math.round(stat.mtimeMs * 1000).toString(16)];
  if (stat.ino !== undefined) parts.push(stat.ino.toString(16));
  return `"${parts.join('-')}"`;
}

// crypto.hash (one-shot, no Hash object) exists from Node 20.12 / 21.7; package.json requires
// >= 20.19, the fallback is only for odd runtimes.
const oneShotHash: ((algorithm: string, data: Uint8Array, encoding: 'base64url') => string) | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** A strong ETag for in-memory content: length plus SHA-1, base64url (jshttp/etag's shape). */
export function etagForBytes(buf: Uint8Array): string {
  // SHA-1 is fine here: this is a cache validator, not a security boundary.
  const digest = oneShotHash
    ? oneShotHash('sha1', buf, 'base64url')
    : crypto.createHash('sha1').update(buf).digest('base64url');
  return `"${buf.byteLength.toString(16)}-${digest}"`;
}
