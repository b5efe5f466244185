// The server's TLS settings from deskset.yaml (or a dev certificate), checked and loaded.

import type { Diagnostic } from '../check/diagnostics.js';
import type { TlsConfig } from '../config/root-config.js';
import type { DevCertificate } from './dev-cert.js';
import { loadTlsMaterial, type TlsServerOptions } from './tls-config.js';

export interface ServerTls {
  options?: TlsServerOptions;
  diagnostics: Diagnostic[];
  fingerprint256?: string;
}

export async function loadServerTls(rootDir: string, cfg: TlsConfig | undefined, dev?: DevCertificate): Promise<ServerTls> {
  const settingsLoc = { file: 'deskset.yaml', line: 1, col: 1 };
  if (dev) {
    // The dev certificate lives in the state directory, which may be outside the root.
    const m = await loadTlsMaterial('/', { cert: dev.certPath, key: dev.keyPath, minVersion: cfg?.minVersion }, { settingsLoc });
    let options = m.options;
    const diagnostics = [...m.diagnostics];
    if (options && cfg?.clientCa) {
      const ca = await loadTlsMaterial(rootDir, { cert: dev.certPath, key: dev.keyPath, clientCa: cfg.clientCa, minVersion: cfg.minVersion }, { settingsLoc });
      diagnostics.push(...ca.diagnostics.filter((d) => d.code.startsWith('TLS_CLIENT_CA') || d.code === 'TLS_PATH_OUTSIDE_ROOT'));
      options = ca.options ? { ...options, ca: ca.options.ca, requestCert: true, rejectUnauthorized: false } : options;
    }
    // A self-signed certificate is expected to look like one: keep only real problems.
    return { options, diagnostics: diagnostics.filter((d) => d.severity === 'error'), fingerprint256: dev.fingerprint256 };
  }
  if (!cfg) return { diagnostics: [] };
  const m = await loadTlsMaterial(rootDir, { cert: cfg.cert, key: cfg.key, pfx: cfg.pfx, passphrase: cfg.passphrase, minVersion: cfg.minVersion, clientCa: cfg.clientCa }, { settingsLoc });
  return { options: m.options, diagnostics: m.diagnostics, fingerprint256: m.leaf?.fingerprint256 };
}
