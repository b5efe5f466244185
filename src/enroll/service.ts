// Enrollment while serving: the bindings in force (kept in memory, read again from the store
// so replicas see each other's), redemption of a code a phone typed at its credentials prompt,
// and the code as that phone's credential afterwards. Each event is an audit record; the code
// itself is never logged, audited or kept.

import type { Logger } from 'pino';
import type { DeviceEntry } from '../config/profiles.js';
import type { UserAgentInfo } from '../pipeline/user-agent.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { boundDevices, describeCode, type Binding } from './bindings.js';
import { codeHash, codeState, codeTail, normalizeCode } from './codes.js';
import type { CodeStore, RedeemRefusal } from './contract.js';
import { LOCK_AUDIT_ACTION } from './lifecycle.js';

/** What enrollment writes to the audit log (the state store's audit table). */
export interface AuditSink {
  appendAudit(e: { at: string; actor: string; source: string; action: string; result: string; target?: string; detail?: Record<string, unknown> }): Promise<unknown>;
}

export interface RedeemRequest {
  /** What the phone sent as its password. */
  typed: string;
  mac: string;
  ua?: UserAgentInfo;
  ip: string;
  /** Who redeemed, for the audit log: the phone itself, or an installer through the admin listener's form. */
  actor?: string;
  /** The model, when no User-Agent names it (the admin API: given, or from the inventory). */
  model?: string;
}

/** A refusal names the code it found (its id), so a lockout it leads to can be audited with it. */
export type RedeemResult = { ok: true; binding: Binding } | { ok: false; reason: RedeemRefusal | 'not a code' | 'no such code' | 'wrong model' | 'model unknown' | 'wrong device' | 'placeholder missing'; codeId?: string };

export class Enrollment {
  private byMac = new Map<string, Binding>();
  private listeners: Array<() => void> = [];
  private derived?: { base: Snapshot; bindings: Map<string, Binding>; devices: DeviceEntry[] };
  /** Codes whose expiry this server has audited (once each; another replica may audit it too). */
  private expiredSeen = new Set<string>();

  constructor(
    private readonly store: CodeStore & AuditSink,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Read the bindings again (at start, and periodically so replicas see each other's). */
  async refresh(): Promise<void> {
    const next = new Map((await this.store.listBindings()).map((b) => [b.mac, b]));
    if (!sameBindings(this.byMac, next)) {
      this.byMac = next;
      this.changed();
    }
  }

  bindings(): ReadonlyMap<string, Binding> {
    return this.byMac;
  }

  /** Called whenever the bindings change (the provisioner makes its snapshot again). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** The devices the bindings add to `base` (cached per base snapshot and bindings). */
  devicesFor(base: Snapshot): DeviceEntry[] {
    if (this.derived?.base === base && this.derived.bindings === this.byMac) return this.derived.devices;
    const { devices } = boundDevices(base.profiles, base.catalog, this.byMac.values());
    this.derived = { base, bindings: this.byMac, devices };
    return devices;
  }

  /** Whether `password` is the code this bound phone redeemed: its credential until it is adopted. */
  credentialMatches(mac: string, password: string): boolean {
    const b = this.byMac.get(mac);
    const code = normalizeCode(password);
    return !!b && b.state === 'enrolled' && code !== undefined && codeHash(code) === b.codeHash;
  }

  /**
   * Redeem what an unknown phone typed. The model is enforced: an activation code binds only a
   * phone of its placeholder's model (or the MAC it is pinned to); an enrollment code takes the
   * model the User-Agent names, and refuses a phone that names none.
   */
  async redeem(snap: Snapshot, r: RedeemRequest): Promise<RedeemResult> {
    const code = normalizeCode(r.typed);
    if (!code) return { ok: false, reason: 'not a code' };
    const at = this.now().toISOString();
    const found = await this.store.findCodeByHash(codeHash(code));
    const refuse = (reason: Exclude<RedeemResult, { ok: true }>['reason']): RedeemResult => {
      void this.audit(at, r, 'refused', found?.id, reason);
      if (reason === 'expired' && found && !this.expiredSeen.has(found.id)) {
        this.expiredSeen.add(found.id);
        void this.write({ at, actor: 'phone', source: r.ip, action: 'code.expire', result: 'ok', target: r.mac, detail: { code: found.id, expired_at: found.expiresAt } });
      }
      return { ok: false, reason, ...(found ? { codeId: found.id } : {}) };
    };
    if (!found) return refuse('no such code');
    // Told before the model is looked at: an expired code is refused as expired, whoever types it.
    const state = codeState(found, this.now());
    if (state === 'expired' || state === 'released') return refuse(state);
    const named = r.ua?.model ?? r.model;
    const model = named ? snap.catalog.find(named) : undefined;
    const binding: Binding = { mac: r.mac, codeId: found.id, tail: codeTail(code), kind: found.kind, groups: found.groups, boundAt: at, boundFrom: r.ip, state: 'enrolled', codeHash: found.hash };
    if (found.kind === 'activation') {
      if (found.mac !== undefined && found.mac !== r.mac) return refuse('wrong device');
      if (found.placeholder !== undefined) {
        const p = snap.profiles.placeholders.get(found.placeholder);
        if (!p) return refuse('placeholder missing');
        if (!model) return refuse('model unknown');
        if (model.name !== p.model.name) return refuse('wrong model');
        binding.placeholder = found.placeholder;
        binding.model = p.model.name;
      } else {
        if (!model) return refuse('model unknown');
        binding.model = model.name;
      }
    } else {
      if (!model) return refuse('model unknown');
      binding.model = model.name;
      binding.site = found.site;
    }
    const done = await this.store.redeem(found.id, binding);
    if (!done.ok) return refuse(done.reason);
    const next = new Map(this.byMac);
    next.set(r.mac, done.binding);
    this.byMac = next;
    this.log.info({ event: 'code_redeemed', mac: r.mac, ip: r.ip, code: found.id, kind: found.kind }, `${r.mac} bound by ${describeCode(done.binding)}`);
    void this.audit(at, r, 'ok', found.id);
    this.changed();
    return { ok: true, binding: done.binding };
  }

  /** A refusal decided before any code was looked up (a phone that has its own device file): audited like the others. */
  refuse(r: Pick<RedeemRequest, 'mac' | 'ip' | 'actor'>, reason: string): void {
    void this.write({ at: this.now().toISOString(), actor: r.actor ?? 'phone', source: r.ip, action: 'code.redeem', result: 'refused', target: r.mac, detail: { reason } });
  }

  /**
   * The enumeration guard locked `mac` for the client at `ip` (wrong codes or passwords): an
   * audit record, so `deskset devices` and other replicas can show the phone as locked.
   */
  recordLocked(mac: string, ip: string, lockS: number): void {
    void this.write({ at: this.now().toISOString(), actor: 'phone', source: ip, action: LOCK_AUDIT_ACTION, result: 'locked', target: mac, detail: { lock_s: lockS } });
  }

  private audit(at: string, r: RedeemRequest, result: string, codeId: string | undefined, reason?: string): Promise<void> {
    return this.write({ at, actor: r.actor ?? 'phone', source: r.ip, action: 'code.redeem', result, target: r.mac, detail: { ...(codeId ? { code: codeId } : {}), ...(reason ? { reason } : {}) } });
  }

  private async write(entry: Parameters<AuditSink['appendAudit']>[0]): Promise<void> {
    try {
      await this.store.appendAudit(entry);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'audit write failed');
    }
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}

function sameBindings(a: ReadonlyMap<string, Binding>, b: ReadonlyMap<string, Binding>): boolean {
  if (a.size !== b.size) return false;
  for (const [mac, x] of a) {
    const y = b.get(mac);
    if (!y || y.state !== x.state || y.codeId !== x.codeId || y.placeholder !== x.placeholder) return false;
  }
  return true;
}
