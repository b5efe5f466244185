// What each bundle may hold, as pure checks over names and sizes: every problem is found (and
// names its file) before anything is written.

import type { Diagnostic } from '../check/diagnostics.js';

/**
 * Avaya DES, "Using Device Enrollment Services to Manage Endpoints" (shared/seeds/000_…): "The
 * zip file can use .xml, .png, .jpg, .jpeg, .gif, .bmp, .mp3, .wav, .ogg, .pkcs12, .p12, .pfx,
 * and .txt files … The settings and upgrade file names are case-sensitive." and "The filename
 * must be 46xxsettings.txt for Device Enrollment Services to work as a provisioning server."
 */
export const DES_EXTENSIONS = ['.xml', '.png', '.jpg', '.jpeg', '.gif', '.bmp', '.mp3', '.wav', '.ogg', '.pkcs12', '.p12', '.pfx', '.txt'];
export const DES_REQUIRED = ['46xxsettings.txt', 'J100Supgrade.txt'];
/**
 * The DES guide states no size limit for the zip. deskset assumes IP Office's documented 10 MB
 * (below) until one is known; `--max-bytes` changes it.
 */
export const DES_DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** IP Office, "Using Customer Operations Manager for IP Office" (shared/seeds/003_…): "Note that the limit for file size is 10MB." */
export const IPOFFICE_MAX_BYTES = 10 * 1024 * 1024;

const problem = (file: string, message: string, code = 'BUNDLE'): Diagnostic => ({ code, severity: 'error', message, loc: { file, line: 1, col: 1 } });

/**
 * `names`: the zip's entries. `others`: more names a phone could ask for (the root's resources,
 * which deskset matches case-insensitively, so only one of a clashing pair reaches the zip).
 * `where`: how a message names an entry's source (`samples/resources/logo.png`).
 */
export function desProblems(names: readonly string[], others: readonly string[] = [], where: (name: string) => string = (n) => n): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byLower = new Map<string, string>();
  const inZip = new Set(names);
  for (const n of [...new Set([...names, ...others])].sort()) {
    const base = n.slice(n.lastIndexOf('/') + 1);
    const dot = base.lastIndexOf('.');
    const ext = dot > 0 ? base.slice(dot).toLowerCase() : '';
    if (inZip.has(n) && !DES_EXTENSIONS.includes(ext)) out.push(problem(where(n), `DES accepts only ${DES_EXTENSIONS.join(' ')} files in its zip; ${ext ? `"${ext}"` : 'a name without an extension'} would be rejected`, 'DES_EXTENSION'));
    const prev = byLower.get(n.toLowerCase());
    if (prev !== undefined) out.push(problem(where(n), `differs from ${prev} only by letter case: DES names are case-sensitive, and a phone asking for either would get one of them`, 'DES_CASE_CLASH'));
    else byLower.set(n.toLowerCase(), n);
  }
  for (const req of DES_REQUIRED) {
    if (names.includes(req)) continue;
    const near = names.find((n) => n.toLowerCase() === req.toLowerCase());
    out.push(problem(near ?? req, near ? `DES needs this file named exactly ${req}` : `${req} is missing: DES serves the phones their settings and upgrade script from it (are there Avaya devices in the root?)`, 'DES_NAME'));
  }
  return out;
}

export function sizeProblem(archiveName: string, size: number, max: number, largest: ReadonlyArray<{ name: string; size: number }>, who: string): Diagnostic | undefined {
  if (size <= max) return undefined;
  const top = [...largest].sort((a, b) => b.size - a.size).slice(0, 3).map((f) => `${f.name} ${f.size} B`).join(', ');
  return problem(archiveName, `${archiveName} would be ${size} bytes, over ${who}'s limit of ${max}; the largest files: ${top}`, 'BUNDLE_TOO_LARGE');
}

/** IP Office serves firmware itself; the guide: CustomPhoneFiles.tar "does not include phone firmware files such as .bin files", and advises against a 46xxsettings.txt. */
export function ipofficeProblems(names: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const n of names) {
    if (/\.bin$/i.test(n)) out.push(problem(n, 'CustomPhoneFiles.tar must not hold firmware (.bin): IP Office serves firmware itself', 'IPOFFICE_FIRMWARE'));
    if (n.toLowerCase() === '46xxsettings.txt') out.push(problem(n, 'IP Office generates 46xxsettings.txt itself; settings go in 46xxspecials.txt', 'IPOFFICE_SETTINGS'));
  }
  return out;
}
