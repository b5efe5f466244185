// What enrollment keeps in the state store: codes (as digests) and the bindings they made.
// Part of the StateStore contract; one contract suite runs it on SQLite and PostgreSQL.

import type { Binding, BindingState } from './bindings.js';
import type { CodeKind } from './codes.js';

export interface CodeRecord {
  /** Public id (lists, audit lines, `codes release`); never the code. */
  id: string;
  /** codeHash(code). */
  hash: string;
  /** Last four digits, shown as `…1234`. */
  tail: string;
  kind: CodeKind;
  /** Activation: the placeholder it binds, or the MAC it is pinned to (or both). */
  placeholder?: string;
  mac?: string;
  /** Enrollment: where it admits phones. */
  site?: string;
  groups: string[];
  /** Enrollment: how many phones it admits (null: no cap). Activation codes admit one. */
  maxDevices: number | null;
  used: number;
  issuedAt: string;
  /** null: never expires. */
  expiresAt: string | null;
  releasedAt?: string;
  issuedBy: string;
}

/** Why a redemption did not bind (a refused phone gets the ordinary 401 whatever the reason). */
export type RedeemRefusal = 'expired' | 'released' | 'used' | 'cap reached' | 'already bound' | 'placeholder taken';

export type Redeemed = { ok: true; binding: Binding } | { ok: false; reason: RedeemRefusal };

export interface CodeStore {
  insertCode(c: CodeRecord): Promise<void>;
  findCodeByHash(hash: string): Promise<CodeRecord | undefined>;
  /** By issue time. */
  listCodes(): Promise<CodeRecord[]>;
  /** Release a code and the bindings it made; false for an unknown id. */
  releaseCode(id: string, at: string): Promise<boolean>;
  /**
   * One transaction: check the code is still usable at `binding.boundAt` (not released, not
   * expired, under its cap, its placeholder not already bound), count the use and store the
   * binding. Two phones racing for one code, on one server or two, give exactly one winner.
   * The same MAC redeeming the same code again gets its binding back.
   */
  redeem(codeId: string, binding: Binding): Promise<Redeemed>;
  /** Every binding, by MAC. */
  listBindings(): Promise<Binding[]>;
  setBindingState(mac: string, state: BindingState, at: string): Promise<boolean>;
}
