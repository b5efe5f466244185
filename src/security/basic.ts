// HTTP Basic authentication (RFC 7617), the only scheme every supported phone speaks:
// Poly (device.prov.user/password), Yealink (auto_provision.server.username/password), Avaya.
// Poly phones send credentials only after a 401 with a challenge, so `challenge()` is part
// of the contract, not a nicety.

import basicAuth from 'basic-auth';

/** Headers longer than this are refused before any decoding (phones send well under 200 bytes). */
export const MAX_AUTHORIZATION_LENGTH = 4096;

// C0 controls and DEL: RFC 7617 §2 excludes control characters from user-id and password,
// and a NUL in particular could truncate a value in some later comparison or log.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The user and password from an `Authorization: Basic …` header, or undefined for anything else. */
export function parseBasic(header: string | undefined): { user: string; pass: string } | undefined {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  let parsed: basicAuth.BasicAuthResult | undefined;
  try {
    // basic-auth checks the scheme and token68 syntax, decodes base64 as UTF-8 and splits at the first ':'.
    parsed = basicAuth.parse(header);
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  if (CONTROL.test(parsed.name) || CONTROL.test(parsed.pass)) return undefined;
  return { user: parsed.name, pass: parsed.pass };
}

/**
 * The `WWW-Authenticate` value for a 401. The realm is a quoted-string (RFC 9110 §5.6.4):
 * backslash and quote are escaped, controls dropped, so a configured realm can never break
 * the header. `charset="UTF-8"` (RFC 7617 §2.1) tells clients how to encode non-ASCII.
 */
export function challenge(realm: string): string {
  const safe = String(realm).replace(/[\u0000-\u001f\u007f]/g, '').replace(/[\\"]/g, (c) => `\\${c}`);
  return `Basic realm="${safe}", charset="UTF-8"`;
}
