// The door every phone request passes before anything is rendered or read from disk:
// client address (X-Forwarded-For only from trusted proxies), enumeration cool-down, CIDR
// allow-list, client certificate, per-device URL token, then HTTP Basic with device lockout.
// Shared by the fast path, the Koa path, uploads and disk files, so they cannot disagree.
//
// No oracle: a MAC file the client has not proven it may have is refused the same way
// whether the MAC is known or not (one refusal per snapshot: 401 once any profile sets
// `auth`, 403 once any sets `access`, else 404), every such refusal counts toward the
// cool-down, and a refusal of presented credentials costs one check of the same cost.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { SecurityConfig } from '../config/root-config.js';
import { allProfiles, type Profile } from '../config/profiles.js';
import { layersFor, type Subject } from '../config/resolve.js';
import { mergeLayers } from '../config/merge.js';
import { securityPolicy, type SecurityPolicy } from '../config/security-profile.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { challenge, parseBasic } from './basic.js';
import { clientCertFromSocket, decideClientCert } from './client-cert.js';
import { EnumerationGuard, logGuardEvent } from './enumeration-guard.js';
import { clientIp, IpAllowList } from '../config/ip-allow.js';
import { CredentialVerifier, credentialCost, type StoredCredential } from './password.js';
import type { TokenStore } from './tokens.js';
import type { Enrollment } from '../enroll/service.js';
import type { Metrics } from '../metrics/index.js';
import { emptyReply, type Reply } from '../pipeline/reply.js';

export interface GateRequest {
  ip: string;
  headers: IncomingHttpHeaders;
  socket: unknown;
  /** Who the file is for: a known or unknown device, or nobody (shared files). */
  subject?: Subject;
  /** Set when the request came in through /p/<token>/: the MAC the token belongs to. */
  tokenMac?: string;
}

/**
 * How an admitted request proved itself: the device's own certificate, URL token or
 * credentials; credentials shared by a site/group/global layer; or nothing was asked.
 * Uploads need to know (a shared credential may not write a device's files by default).
 */
export type Proof = 'certificate' | 'token' | 'device' | 'shared' | 'none';

export type Admission = { ok: true; mac?: string; proof?: Proof } | { ok: false; reply: Reply };

/** What a MAC file is refused with, known MAC or not: a challenge, a plain no, or "no such file". */
export type Refusal = 401 | 403 | 404;

/** Whether a refused request's credentials were checked, or not checked because of a lock. */
type Credentials = 'unchecked' | 'checked' | 'locked';

/** Enough of a request to refuse it (and to check credentials it presents). */
export type Asker = Pick<GateRequest, 'ip' | 'headers'>;

interface SnapshotSecurity {
  /** Policies by the layers that set auth or access (a handful per root). */
  policies: Map<string, SecurityPolicy>;
  /** The same policies by device MAC (or ~model), for the per-request lookup. */
  bySubject: Map<string, SecurityPolicy>;
  allowLists: Map<string, IpAllowList>;
  /** How every MAC file is refused, whether the MAC is known or not. */
  refusal: Refusal;
  /** What a decoy check mirrors (worked out at the first decoy, off the path of served requests). */
  decoy?: { credential?: StoredCredential };
  /** Device-level auth user names, for shared files fetched with a device's credentials. */
  deviceUsers: Map<string, string>;
}

export class Gate {
  readonly guard: EnumerationGuard;
  /** Public for its work counter (`checks`): tests prove refusals cost the same through it. */
  readonly verifier = new CredentialVerifier();
  private readonly operators: IpAllowList;
  private readonly perSnapshot = new WeakMap<Snapshot, SnapshotSecurity>();
  private readonly trusted?: IpAllowList;
  private readonly retryAfter: string;

  constructor(
    security: SecurityConfig,
    private readonly log: Logger,
    readonly tokens?: TokenStore,
    /** Codes: a bound phone's code is its credential until the binding is adopted. */
    readonly enrollment?: Enrollment,
    private readonly metrics?: Metrics,
  ) {
    this.trusted = security.trustedProxies.length ? new IpAllowList(security.trustedProxies) : undefined;
    this.operators = new IpAllowList(security.operators);
    this.retryAfter = String(security.enumeration.cooldownS);
    this.guard = new EnumerationGuard({
      maxDistinct: security.enumeration.maxDistinct,
      windowMs: security.enumeration.windowS * 1000,
      cooldownMs: security.enumeration.cooldownS * 1000,
      lockoutAttempts: security.lockout.attempts,
      lockoutMs: security.lockout.durationS * 1000,
      onEvent: (e) => {
        metrics?.recordGuardEvent(e.event);
        logGuardEvent(log, e);
        if (e.event === 'device_locked') enrollment?.recordLocked(e.mac, e.ip, e.lock_s);
      },
    });
  }

  clientIp(remote: string | undefined, headers: IncomingHttpHeaders): string {
    const xff = headers['x-forwarded-for'];
    return clientIp(remote ?? '', Array.isArray(xff) ? xff.join(',') : xff, this.trusted);
  }

  /** A client in cool-down gets 429 before any other work. */
  coolingDown(ip: string): Reply | undefined {
    if (!this.guard.blocked(ip)) return undefined;
    this.metrics?.recordBlocked();
    return emptyReply(429, { reason: 'enumeration cool-down' }, { 'Retry-After': this.retryAfter });
  }

  /** Count a request for a MAC file we will not serve (unknown, or not authorised). */
  miss(ip: string, mac: string | undefined): void {
    if (mac) this.guard.recordMiss(ip, mac);
  }

  /** Operators (loopback unless `security.operators` says otherwise) see detailed health and status. */
  isOperator(ip: string): boolean {
    return this.operators.allows(ip);
  }

  /**
   * Whether unknown MACs are refused like known ones rather than served defaults or a shared
   * fallback: whenever access is controlled anywhere and `unknown_devices` is `reject`.
   */
  guardsUnknown(snap: Snapshot): boolean {
    return this.state(snap).refusal !== 404 && snap.config.unknownDevices === 'reject';
  }

  /** What an unknown MAC's file request gets: exactly what a known MAC's gets without proof. */
  unknownDevice(snap: Snapshot, req: Asker, mac: string | undefined, log: Reply['log']): Promise<Reply> {
    return this.refuseMac(snap, req, mac, log, 'unchecked');
  }

  /**
   * The one refusal of a MAC file, for known and unknown MACs alike: credentials presented and
   * not checked get a decoy check of the same cost (a failure, unless the lock is why they
   * were not checked), the miss counts toward the cool-down, and the request that trips it is
   * itself answered 429.
   */
  private async refuseMac(snap: Snapshot, req: Asker, mac: string | undefined, log: Reply['log'], creds: Credentials): Promise<Reply> {
    const st = this.state(snap);
    const presented = creds !== 'checked' && st.refusal === 401 && mac ? basicCredentials(req.headers) : undefined;
    if (presented) {
      st.decoy ??= { credential: decoyCredential(allProfiles(snap.profiles).filter((p) => p.keys.has('auth'))) };
      await this.verifier.decoy(presented.pass, st.decoy.credential);
      if (creds === 'unchecked') this.guard.recordAuthFailure(mac!, req.ip);
    }
    this.miss(req.ip, mac);
    if (st.refusal === 401) return this.coolingDown(req.ip) ?? this.challenge(snap, log);
    return this.coolingDown(req.ip) ?? emptyReply(st.refusal, log);
  }

  policyFor(snap: Snapshot, subject: Subject | undefined): SecurityPolicy {
    const st = this.state(snap);
    // Every request asks: one lookup by device (or model, for shared files) first.
    const subjectKey = subject?.known && subject.mac ? subject.mac : `~${subject?.model?.name ?? ''}`;
    let p = st.bySubject.get(subjectKey);
    if (p) return p;
    // Unknown and shared: the global and model layers decide, as for their rendering.
    const s: Subject = subject?.known ? subject : { known: false, vendor: subject?.vendor ?? '', model: subject?.model, groups: [] };
    // Only layers that say something about auth or access count, and most say nothing: the
    // policy is merged once per set of layers that do, and shared by every device with that
    // set (a device's own tree is only rebuilt when its file sets auth or access).
    const relevant = layersFor(snap.profiles, snap.config.layers, s).filter((l) => l.keys.has('auth') || l.keys.has('access'));
    const key = relevant.map((l) => `${l.ref.kind}:${l.ref.name}`).join('|');
    p = st.policies.get(key);
    if (!p) {
      p = securityPolicy(mergeLayers(relevant, ['auth', 'access'])).policy;
      st.policies.set(key, p);
    }
    st.bySubject.set(subjectKey, p);
    return p;
  }

  async admit(snap: Snapshot, req: GateRequest): Promise<Admission> {
    const subject = req.subject;
    const mac = subject?.known ? subject.mac : undefined;
    const log = { mac: subject?.mac, model: subject?.model?.name };
    const policy = this.policyFor(snap, subject);
    if (policy.allow && !this.allowList(snap, policy.allow).allows(req.ip)) {
      return this.deny(snap, req, mac, { ...log, reason: 'address not allowed' }, emptyReply(403, { ...log, reason: 'address not allowed' }));
    }

    const presented = clientCertFromSocket(req.socket);
    const cert = decideClientCert(policy.clientCert, presented, mac);
    if (!cert.ok) {
      this.log.warn({ event: cert.event, ip: req.ip, mac, cert_mac: presented.mac, cert_error: presented.authorizationError }, 'client certificate refused');
      return this.deny(snap, req, mac, { ...log, reason: cert.event }, emptyReply(403, { ...log, reason: cert.event }));
    }
    if (req.tokenMac !== undefined && mac !== undefined && req.tokenMac !== mac) {
      this.log.warn({ event: 'token_mac_mismatch', ip: req.ip, mac }, 'URL token used for another device');
      return this.deny(snap, req, mac, { ...log, reason: 'token for another device' }, emptyReply(403, { ...log, reason: 'token for another device' }));
    }
    // A verified certificate or URL token for this device is its authentication.
    const proven = (cert.mac !== undefined && (mac === undefined || cert.mac === mac)) || req.tokenMac !== undefined;
    if (proven) return this.admitted(req.ip, mac, cert.mac ?? req.tokenMac ?? mac, cert.mac !== undefined ? 'certificate' : 'token');
    if (!policy.auth) return { ok: true, mac, proof: 'none' };

    // Locks are per client and device, so a stranger cannot lock the real phone out. Shared
    // files have no device: their lock is the client's own.
    const lockKey = mac ?? `shared@${req.ip}`;
    const creds = basicCredentials(req.headers);
    if (this.guard.deviceLocked(lockKey, req.ip)) return this.deny(snap, req, mac, { ...log, reason: mac ? 'device locked' : 'locked' }, this.challenge(snap, { ...log, reason: 'locked' }), 'locked');
    if (!creds) return this.deny(snap, req, mac, { ...log, reason: 'credentials required' }, this.challenge(snap, { ...log, reason: 'credentials required' }));
    if (mac && this.enrollment?.credentialMatches(mac, creds.pass)) return this.admitted(req.ip, mac, mac, 'device');
    const userOk = policy.auth.user === undefined || policy.auth.user === creds.user;
    // A wrong user name costs what a wrong password does.
    const passOk = userOk ? await this.verifier.verify(creds.pass, policy.auth.credential) : await this.verifier.decoy(creds.pass, policy.auth.credential);
    if (userOk && passOk) {
      if (mac) this.guard.recordAuthSuccess(mac, req.ip);
      return this.admitted(req.ip, mac, mac, policy.auth.level === 'device' ? 'device' : 'shared');
    }
    // Shared files also accept a device's own credentials (that phone fetches them too).
    if (!mac && (await this.deviceCredentialsMatch(snap, req.ip, creds.user, creds.pass))) return { ok: true, proof: 'device' };
    this.guard.recordAuthFailure(lockKey, req.ip);
    return this.deny(snap, req, mac, { ...log, reason: 'bad credentials' }, this.challenge(snap, { ...log, reason: 'bad credentials' }), 'checked');
  }

  /** A device's file is refused the one way an unknown MAC's is; a shared file says why. */
  private async deny(snap: Snapshot, req: Asker, mac: string | undefined, log: Reply['log'], shared: Reply, creds: Credentials = 'unchecked'): Promise<Admission> {
    return { ok: false, reply: mac ? await this.refuseMac(snap, req, mac, log, creds) : shared };
  }

  /** Proof for a MAC takes back the miss its first, unproven request counted. */
  private admitted(ip: string, asked: string | undefined, mac: string | undefined, proof: Proof): Admission {
    if (asked) this.guard.forgive(ip, asked);
    return { ok: true, mac, proof };
  }

  private challenge(snap: Snapshot, log: Reply['log']): Reply {
    return emptyReply(401, log, { 'WWW-Authenticate': challenge(snap.config.security.realm) });
  }

  private async deviceCredentialsMatch(snap: Snapshot, ip: string, user: string, pass: string): Promise<boolean> {
    const mac = this.state(snap).deviceUsers.get(user);
    const device = mac ? snap.profiles.devices.get(mac) : undefined;
    // A locked device's password must not be confirmable through the shared files either.
    if (!device || this.guard.deviceLocked(device.mac, ip)) return false;
    const p = this.policyFor(snap, { known: true, mac: device.mac, vendor: device.model.vendor, model: device.model, site: device.site, groups: device.groups });
    return !!p.auth && p.auth.level === 'device' && (await this.verifier.verify(pass, p.auth.credential));
  }

  private allowList(snap: Snapshot, cidrs: string[]): IpAllowList {
    const st = this.state(snap);
    const key = cidrs.join(',');
    let l = st.allowLists.get(key);
    if (!l) st.allowLists.set(key, (l = new IpAllowList(cidrs)));
    return l;
  }

  private state(snap: Snapshot): SnapshotSecurity {
    let st = this.perSnapshot.get(snap);
    if (!st) {
      // From what each profile says about itself: no device's tree is rebuilt for this.
      const profiles = allProfiles(snap.profiles);
      // With enrollment on, an unknown phone must be asked for credentials: that prompt is where its user types a code.
      const refusal: Refusal = snap.config.enrollment.enabled || profiles.some((p) => p.keys.has('auth')) ? 401 : profiles.some((p) => p.keys.has('access')) ? 403 : 404;
      const deviceUsers = new Map<string, string>();
      for (const d of snap.profiles.devices.values()) if (d.authUser !== undefined) deviceUsers.set(d.authUser, d.mac);
      st = { policies: new Map(), bySubject: new Map(), allowLists: new Map(), refusal, deviceUsers };
      this.perSnapshot.set(snap, st);
    }
    return st;
  }
}

function basicCredentials(headers: IncomingHttpHeaders): { user: string; pass: string } | undefined {
  const header = headers.authorization;
  return parseBasic(Array.isArray(header) ? header[0] : header);
}

/** Profiles looked at for the decoy: the shared layers come first, then a sample of devices. */
const DECOY_SAMPLE = 256;

/**
 * The credential a decoy check mirrors: the cost most auth-setting profiles use, the costliest
 * on a tie (global and site credentials come first, so they win a tie among equals).
 */
function decoyCredential(withAuth: readonly Profile[]): StoredCredential | undefined {
  const byCost = new Map<string, { credential: StoredCredential; count: number }>();
  for (const p of withAuth.slice(0, DECOY_SAMPLE)) {
    const credential = securityPolicy(mergeLayers([p], ['auth'])).policy.auth?.credential;
    if (!credential) continue;
    const cost = credentialCost(credential);
    const seen = byCost.get(cost);
    if (seen) seen.count++;
    else byCost.set(cost, { credential, count: 1 });
  }
  let best: { credential: StoredCredential; count: number; work: number } | undefined;
  for (const [cost, c] of byCost) {
    const work = scryptWork(cost);
    if (!best || c.count > best.count || (c.count === best.count && work > best.work)) best = { ...c, work };
  }
  return best?.credential;
}

/** N·r·p of a `scrypt:N:r:p:len` cost key; 0 for a plain secret. */
function scryptWork(cost: string): number {
  const [kind, n, r, p] = cost.split(':');
  return kind === 'scrypt' ? Number(n) * Number(r) * Number(p) : 0;
}
