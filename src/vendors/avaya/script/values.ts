// Knowledge about SET values that the grammar does not carry: which parameters are
// secrets and which name files the phone will download. Both lists come from reading
// Avaya's 22-July-2022 template (realworld/avaya/drugalek2__…/46xxsettings.txt).

// Printed instead of any secret value; one constant for all of deskset's redaction.
export { REDACTED } from '../../../config/redact.js';

// Name patterns for credentials. PSWD is Avaya's own abbreviation (PROCPSWD, NVVPNPSWDTYPE);
// the rest are the template's other credential parameters (VPN pre-shared key, WEP keys,
// SNMP community string, the phone-lock PIN).
export const DEFAULT_SECRET_PATTERNS: readonly RegExp[] = [
  /PASSWORD/i,
  /PSWD/i,
  /PASSWD/i,
  /^NVIKEPSK$/i,
  /^WEP_KEY[1-4]$/i,
  /^SNMPSTRING$/i,
  /^PHONE_LOCK_PIN$/i,
];

// Template parameters whose names mention a password but whose values are flags or
// counters (PRESERVE_LOGIN_PASSWORD 1). Listed by name because no pattern separates
// them from real secrets without also missing some.
const NOT_SECRETS = new Set([
  'PRESERVE_LOGIN_PASSWORD',
  'PHONE_LOCK_PASSWORD_FAILED_ATTEMPTS',
  'PHONE_LOCK_PASSWORD_LOCKED_TIME',
  'NVVPNPSWDTYPE',
  'CLEAR_EXTPSWD_ON_LOGOUT',
  'PKCS12_PASSWD_RETRY',
]);

function matches(pattern: RegExp, name: string): boolean {
  pattern.lastIndex = 0; // A caller's /g or /y pattern would otherwise remember the last match.
  return pattern.test(name);
}

export function isSecretName(name: string, extra: readonly RegExp[] = []): boolean {
  if (extra.some((p) => matches(p, name))) return true;
  return !NOT_SECRETS.has(name.toUpperCase()) && DEFAULT_SECRET_PATTERNS.some((p) => matches(p, name));
}

/** `scheme://user:password@host` — the template's own BRURI example does this. */
export const URL_WITH_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/i;

/** A value that is only a phone variable (`"$SERIALNO"`) is filled in by the phone, not a stored secret. */
export function isVariableOnly(value: string): boolean {
  return /^\$[A-Za-z0-9_]+$/.test(value.trim());
}

/**
 * Parameters whose values name files the phone downloads from the file server.
 * `one`: a single file; `list`: comma-separated files; `named`: comma-separated
 * `Display name=file` pairs (or bare files — the template allows both for RINGTONES).
 */
export const RESOURCE_PARAMETERS: ReadonlyMap<string, 'one' | 'list' | 'named'> = new Map<string, 'one' | 'list' | 'named'>([
  ['TRUSTCERTS', 'list'],
  ['OCSP_TRUSTCERTS', 'list'],
  ['EASG_SITE_CERTS', 'list'],
  ['EASG_SITE_CERT_FILES', 'list'],
  ['LANGUAGES', 'list'],
  ['VOXFILES', 'list'],
  ['BACKGROUND_IMAGE', 'list'],
  ['BACKGROUND_IMAGE_SECONDARY', 'list'],
  ['SCREENSAVER_IMAGE', 'list'],
  ['SCREENSAVER_IMAGE_SECONDARY', 'list'],
  ['BACKGROUND_IMAGE_DISPLAY', 'one'],
  ['BACKGROUND_IMAGE_DISPLAY_SECONDARY', 'one'],
  ['SCREENSAVER_IMAGE_DISPLAY', 'one'],
  ['SCREENSAVER_IMAGE_DISPLAY_SECONDARY', 'one'],
  ['SCREENSAVER', 'one'],
  ['SCREENSAVER_QD', 'one'],
  ['BRANDING_FILE', 'one'],
  ['COMPANION_APPLICATION_BRANDING_FILE', 'one'],
  ['WARNING_FILE', 'one'],
  ['SSH_BANNER_FILE', 'one'],
  ['APPS_CONTROL_FILE', 'one'],
  ['KEY_LAYOUT_FILES', 'list'],
  ['PKCS12URL', 'one'],
  ['SYSTEM_LANGUAGE', 'one'],
  ['LANGLARGEFONT', 'one'],
  ['LANG1FILE', 'one'],
  ['LANG2FILE', 'one'],
  ['LANG3FILE', 'one'],
  ['LANG4FILE', 'one'],
  ['FONTFILE', 'one'],
  // Upgrade scripts: firmware the phone fetches.
  ['APPNAME', 'one'],
  ['RFSNAME', 'one'],
  ['RINGTONES', 'named'],
  ['LOGOS', 'named'],
]);

/** The file names a resource parameter's value refers to, leaving out what cannot be checked locally (URLs, `$VARIABLES`). */
export function resourceNames(kind: 'one' | 'list' | 'named', value: string): string[] {
  const items = kind === 'one' ? [value] : value.split(',');
  return items
    .map((item) => (kind === 'named' && item.includes('=') ? item.slice(item.indexOf('=') + 1) : item).trim())
    .filter((f) => f !== '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(f) && !f.includes('$'));
}
