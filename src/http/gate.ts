// The door every phone request passes before anything is rendered or read from disk:
// client address (X-Forwarded-For only from trusted proxies), enumeration cool-down, CIDR
// allow-list, client certificate, per-device URL token, then HTTP Basic with device lockout.
// Shared by the fast path, the Koa path, uploads and disk files, so they cannot disagree.
//
// No oracle: once any profile configures `auth`, a request for an unknown MAC's files gets
// the same 401 challenge a known device without credentials gets; an attacker walking the
// MAC space learns nothing from the status, and every miss counts toward the cool-down.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { SecurityConfig } from '../core/root-config.js';
import { allProfiles } from '../core/profiles.js';
import { layersFor, type Subject } from '../core/resolve.js';
import { mergeLayers } from '../core/merge.js';
import { securityPolicy, type SecurityPolicy } from '../core/security-profile.js';
import type { Snapshot } from '../core/snapshot.js';
import { challenge, parseBasic } from '../security/basic.js';
import { clientCertFromSocket, decideClientCert } from '../security/client-cert.js';
import { EnumerationGuard, logGuardEvent } from '../security/enumeration-guard.js';
import { clientIp, IpAllowList } from '../security/ip-allow.js';
import { CredentialVerifier } from '../security/password.js';
import type { TokenStore } from '../security/tokens.js';
import { emptyReply, type Reply } from './reply.js';

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

interface SnapshotSecurity {
  /** Policies by the layers that set auth or access (a handful per root). */
  policies: Map<string, SecurityPolicy>;
  /** The same policies by device MAC (or ~model), for the per-request lookup. */
  bySubject: Map<string, SecurityPolicy>;
  allowLists: Map<string, IpAllowList>;
  /** Any profile configures auth: unknown MACs are challenged like known ones. */
  authConfigured: boolean;
  /** Device-level auth user names, for shared files fetched with a device's credentials. */
  deviceUsers: Map<string, string>;
}

export class Gate {
  readonly guard: EnumerationGuard;
  private readonly verifier = new CredentialVerifier();
  private readonly perSnapshot = new WeakMap<Snapshot, SnapshotSecurity>();
  private readonly trusted?: IpAllowList;
  private readonly retryAfter: string;

  constructor(
    security: SecurityConfig,
    private readonly log: Logger,
    readonly tokens?: TokenStore,
  ) {
    this.trusted = security.trustedProxies.length ? new IpAllowList(security.trustedProxies) : undefined;
    this.retryAfter = String(security.enumeration.cooldownS);
    this.guard = new EnumerationGuard({
      maxDistinct: security.enumeration.maxDistinct,
      windowMs: security.enumeration.windowS * 1000,
      cooldownMs: security.enumeration.cooldownS * 1000,
      lockoutAttempts: security.lockout.attempts,
      lockoutMs: security.lockout.durationS * 1000,
      onEvent: (e) => logGuardEvent(log, e),
    });
  }

  clientIp(remote: string | undefined, headers: IncomingHttpHeaders): string {
    const xff = headers['x-forwarded-for'];
    return clientIp(remote ?? '', Array.isArray(xff) ? xff.join(',') : xff, this.trusted);
  }

  /** A client in cool-down gets 429 before any other work. */
  coolingDown(ip: string): Reply | undefined {
    return this.guard.blocked(ip) ? emptyReply(429, { reason: 'enumeration cool-down' }, { 'Retry-After': this.retryAfter }) : undefined;
  }

  /** Count a request for a MAC file we will not serve (unknown, or not authorised). */
  miss(ip: string, mac: string | undefined): void {
    if (mac) this.guard.recordMiss(ip, mac);
  }

  /** Count the miss; the request that trips the cool-down is itself answered 429. */
  private refuse(ip: string, mac: string | undefined, reply: Reply): Reply {
    this.miss(ip, mac);
    return this.coolingDown(ip) ?? reply;
  }

  /** What an unknown MAC's file request gets: a challenge when auth exists anywhere, else 404. */
  unknownDevice(snap: Snapshot, ip: string, mac: string | undefined, log: Reply['log']): Reply {
    return this.refuse(ip, mac, this.state(snap).authConfigured ? this.challenge(snap, log) : emptyReply(404, log));
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
      return { ok: false, reply: emptyReply(403, { ...log, reason: 'address not allowed' }) };
    }

    const presented = clientCertFromSocket(req.socket);
    const cert = decideClientCert(policy.clientCert, presented, mac);
    if (!cert.ok) {
      this.log.warn({ event: cert.event, ip: req.ip, mac, cert_mac: presented.mac, cert_error: presented.authorizationError }, 'client certificate refused');
      return { ok: false, reply: this.refuse(req.ip, mac, emptyReply(403, { ...log, reason: cert.event })) };
    }
    if (req.tokenMac !== undefined && mac !== undefined && req.tokenMac !== mac) {
      this.log.warn({ event: 'token_mac_mismatch', ip: req.ip, mac }, 'URL token used for another device');
      return { ok: false, reply: this.refuse(req.ip, mac, emptyReply(403, { ...log, reason: 'token for another device' })) };
    }
    // A verified certificate or URL token for this device is its authentication.
    const proven = (cert.mac !== undefined && (mac === undefined || cert.mac === mac)) || req.tokenMac !== undefined;
    if (!policy.auth || proven) return { ok: true, mac: cert.mac ?? req.tokenMac ?? mac, proof: !proven ? 'none' : cert.mac !== undefined ? 'certificate' : 'token' };

    // Shared files have no device to lock; lock the shared credentials per client instead
    // (locking them for everyone would let one client lock every phone out).
    const lockKey = mac ?? `shared@${req.ip}`;
    if (this.guard.deviceLocked(lockKey)) return { ok: false, reply: this.challenge(snap, { ...log, reason: mac ? 'device locked' : 'locked' }) };
    const header = req.headers.authorization;
    const creds = parseBasic(Array.isArray(header) ? header[0] : header);
    if (!creds) return { ok: false, reply: this.challenge(snap, { ...log, reason: 'credentials required' }) };
    const userOk = policy.auth.user === undefined || policy.auth.user === creds.user;
    // Always run the (cached) verifier, so a wrong user name costs what a wrong password does.
    const passOk = await this.verifier.verify(creds.pass, userOk ? policy.auth.credential : undefined);
    if (userOk && passOk) {
      if (mac) this.guard.recordAuthSuccess(mac);
      return { ok: true, mac, proof: policy.auth.level === 'device' ? 'device' : 'shared' };
    }
    // Shared files also accept a device's own credentials (that phone fetches them too).
    if (!mac && (await this.deviceCredentialsMatch(snap, creds.user, creds.pass))) return { ok: true, proof: 'device' };
    this.guard.recordAuthFailure(lockKey, req.ip);
    return { ok: false, reply: this.refuse(req.ip, mac, this.challenge(snap, { ...log, reason: 'bad credentials' })) };
  }

  private challenge(snap: Snapshot, log: Reply['log']): Reply {
    return emptyReply(401, log, { 'WWW-Authenticate': challenge(snap.config.security.realm) });
  }

  private async deviceCredentialsMatch(snap: Snapshot, user: string, pass: string): Promise<boolean> {
    const mac = this.state(snap).deviceUsers.get(user);
    const device = mac ? snap.profiles.devices.get(mac) : undefined;
    // A locked device's password must not be confirmable through the shared files either.
    if (!device || this.guard.deviceLocked(device.mac)) return false;
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
      const authConfigured = allProfiles(snap.profiles).some((p) => p.keys.has('auth'));
      const deviceUsers = new Map<string, string>();
      for (const d of snap.profiles.devices.values()) if (d.authUser !== undefined) deviceUsers.set(d.authUser, d.mac);
      st = { policies: new Map(), bySubject: new Map(), allowLists: new Map(), authConfigured, deviceUsers };
      this.perSnapshot.set(snap, st);
    }
    return st;
  }
}
