// What `deskset check` says about security, beyond rendering: certificates that expire or
// that phones reject, vendor default credentials, and passwords typed into profiles that
// git tracks (anyone who can clone the repository can read them).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Diagnostic } from '../check/diagnostics.js';
import { resolveSubject, subjectOf } from '../config/resolve.js';
import { securityPolicy } from '../config/security-profile.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { describeDefaultCredential, KNOWN_DEFAULT_CREDENTIALS, verifyPassword } from '../security/password.js';
import { loadServerTls } from '../security/server-tls.js';

const run = promisify(execFile);

export async function securityChecks(snap: Snapshot): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  if (snap.config.tls) out.push(...(await loadServerTls(snap.rootDir, snap.config.tls)).diagnostics);
  out.push(...(await defaultCredentials(snap)));
  out.push(...(await plaintextInGit(snap)));
  return out;
}

async function defaultCredentials(snap: Snapshot): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const subjects = [undefined, ...[...snap.profiles.devices.values()].map(subjectOf)];
  for (const s of subjects) {
    const eff = resolveSubject(snap.profiles, snap.config.layers, s ?? { known: false, vendor: '', groups: [] });
    const auth = securityPolicy(eff).policy.auth;
    if (!auth || seen.has(auth.credential.value)) continue;
    seen.add(auth.credential.value);
    let what: string | undefined;
    if (auth.credential.kind === 'secret') what = describeDefaultCredential(auth.user, auth.credential.value);
    else {
      for (const d of KNOWN_DEFAULT_CREDENTIALS) {
        if (d.user !== undefined && auth.user !== undefined && d.user.toLowerCase() !== auth.user.toLowerCase()) continue;
        if (await verifyPassword(d.password, auth.credential.value)) what = d.what;
      }
    }
    if (what) out.push({ code: 'DEFAULT_CREDENTIAL', severity: 'warning', message: `auth uses a well-known vendor default: ${what}; anyone can guess it`, loc: auth.loc });
  }
  // Phone admin passwords left at a vendor default (Poly's 456) are as good as none.
  for (const p of snap.plaintextSecrets) {
    if (!p.key.endsWith('admin_password')) continue;
    const what = describeDefaultCredential(undefined, p.value);
    if (what) out.push({ code: 'DEFAULT_CREDENTIAL', severity: 'warning', message: `${p.key} is a well-known vendor default: ${what}`, loc: p.loc });
  }
  return out;
}

async function plaintextInGit(snap: Snapshot): Promise<Diagnostic[]> {
  if (!snap.rootDir || snap.plaintextSecrets.length === 0) return [];
  let tracked: Set<string>;
  try {
    const { stdout } = await run('git', ['-C', snap.rootDir, 'ls-files', '--full-name', '--', 'profiles'], { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
    const { stdout: prefix } = await run('git', ['-C', snap.rootDir, 'rev-parse', '--show-prefix'], { timeout: 10_000 });
    const pre = prefix.trim();
    tracked = new Set(stdout.split('\n').filter(Boolean).map((f) => (f.startsWith(pre) ? f.slice(pre.length) : f)));
  } catch {
    return []; // not a git checkout, or no git: nothing to say
  }
  const out: Diagnostic[] = [];
  const byFile = new Map<string, number>();
  for (const p of snap.plaintextSecrets) {
    if (!tracked.has(p.rel)) continue;
    byFile.set(p.rel, (byFile.get(p.rel) ?? 0) + 1);
    if (byFile.get(p.rel)! > 3) continue; // a few per file is enough to make the point
    out.push({ code: 'PLAINTEXT_IN_GIT', severity: 'warning', message: `${p.key} is a plaintext secret in a file git tracks; use \${env:NAME} or \${file:path} (kept out of git)`, loc: p.loc });
  }
  return out;
}
