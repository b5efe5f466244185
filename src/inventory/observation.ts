// From an access-log record (what the hot path knew) to an inventory observation, at flush
// time, off the hot path: the User-Agent is parsed and the path resolved to a manifest file
// here, not while the phone waits.

import type { AccessRecord } from '../http/access-log.js';
import { resolveRequest } from '../pipeline/request.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { parseUserAgent } from '../pipeline/user-agent.js';
import type { Observation } from '../store/contract.js';

/** What observe() keeps per request: the record, plus the two headers the log line does not carry. */
export interface Seen {
  r: AccessRecord;
  userAgent?: string;
  etag?: string;
  /** Date.now() when the reply was sent. */
  t: number;
}

/** The file name the phone asked for: no leading slash, no /p/<token>/ prefix (logged masked). */
export function fileName(logPath: string): string {
  return logPath.replace(/^\/+/, '').replace(/^p\/[^/]+\//, '');
}

/**
 * Undefined for requests that are not about one phone (no MAC), and for MACs the root does
 * not configure unless a vendor's User-Agent came with them: a MAC walk from a scanner does
 * not fill the inventory.
 */
export function observationOf(s: Seen, snap: Snapshot): Observation | undefined {
  const mac = s.r.mac;
  if (!mac) return undefined;
  const device = snap.profiles.devices.get(mac);
  const ua = parseUserAgent(s.userAgent, snap.vendors);
  if (!device && !ua) return undefined;
  const at = new Date(s.t).toISOString();
  const name = fileName(s.r.path);
  const res = name ? resolveRequest(snap, { path: name, userAgent: s.userAgent }) : undefined;
  const o: Observation = {
    mac,
    at,
    configured: !!device,
    vendor: device?.model.vendor ?? ua?.vendor,
    // What the phone says it is, else what the root says it should be.
    model: ua?.model ?? device?.model.name ?? s.r.model,
    firmware: ua?.firmware,
    hardware: ua?.hardware,
    ip: s.r.ip,
    site: device?.site,
  };
  if (name) o.file = { name, ...(res?.kind === 'render' ? { fileId: res.target.file.id } : {}), status: s.r.status, bytes: s.r.bytes, ...(s.etag ? { etag: s.etag } : {}), at };
  return o;
}
