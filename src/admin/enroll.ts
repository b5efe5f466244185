// Redeeming a code for a phone that cannot type one: `POST /api/v1/enroll {code, mac}` for
// scripts, and a form at /enroll for the installer at the desk. Both are public: the code is
// the credential, and the phone port's defences apply as they are (a wrong code counts toward
// the MAC's lockout and the enumeration limit, for the caller's address only). Every refusal
// reads the same, whatever the reason, so neither tells which codes exist; the audit log has
// the reason.

import { Router } from '@koa/router';
import { normalizeMac } from '../config/mac.js';
import type { Enrollment, RedeemResult } from '../enroll/service.js';
import { describeCode } from '../enroll/bindings.js';
import type { EnumerationGuard } from '../security/enumeration-guard.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { AdminAppState, AdminContext } from './app.js';
import { badParam, Problem } from './problem.js';
import { readBody } from './request.js';
import { createUiRenderer } from './ui/render.js';
import { pageHeaders } from './ui/router.js';

export interface EnrollDeps {
  /** The serving snapshot (with the bindings in force). */
  snapshot: () => Snapshot;
  /** Absent when enrollment was off at start (it needs a state store). */
  enrollment?: Enrollment;
  guard: Pick<EnumerationGuard, 'blocked' | 'deviceLocked' | 'recordAuthFailure' | 'recordMiss'>;
  /** The model the inventory last saw this MAC's User-Agent name. */
  modelSeen: (mac: string) => Promise<string | undefined>;
  maxBodyBytes: () => number;
}

export interface EnrollInput {
  code: string;
  mac: string;
  model?: string;
}

export type EnrollOutcome =
  | { ok: true; status: 201; body: { mac: string; model: string; code: string; placeholder: string | null; site: string | null; groups: string[]; boundAt: string } }
  | { ok: false; problem: Problem };

const REFUSED = 'the code was not accepted for this phone: check the digits, the MAC and the model, or ask for a new code';

/** Redeem `input` from the client at `ip`. The HTTP shape is the caller's. */
export async function enroll(deps: EnrollDeps, input: EnrollInput, ip: string, actor: string): Promise<EnrollOutcome> {
  const snap = deps.snapshot();
  if (!deps.enrollment || !snap.config.enrollment.enabled) return { ok: false, problem: new Problem('not-found', 'enrollment is off (enrollment: {enabled: true} in deskset.yaml)') };
  const mac = input.mac.length <= 40 ? normalizeMac(input.mac) : undefined;
  if (!mac) return { ok: false, problem: badParam('mac', 'not a MAC address (12 hex digits, with or without : - or .)') };
  if (input.code.length > 64) return { ok: false, problem: badParam('code', 'longer than any code') };
  if (deps.guard.blocked(ip)) return { ok: false, problem: new Problem('too-many-requests', 'too many devices tried from this address; wait and try again') };
  if (deps.guard.deviceLocked(mac, ip)) return { ok: false, problem: new Problem('device-locked', 'too many wrong codes for this phone from this address; wait and try again (other addresses are not affected)') };
  const named = input.model?.trim() || (await deps.modelSeen(mac));
  if (!named) return { ok: false, problem: badParam('model', 'which model is the phone? Give it, or let the phone ask for its file once so its User-Agent names it') };
  const model = named.length <= 64 ? snap.catalog.find(named) : undefined;
  if (!model) return { ok: false, problem: badParam('model', `unknown model ${JSON.stringify(named.slice(0, 64))}`) };

  const enrollment = deps.enrollment;
  const bound = enrollment.bindings().get(mac);
  // A phone with its own device file is not enrolled again (the file would win anyway).
  let r: RedeemResult;
  if (snap.profiles.devices.has(mac) && bound?.state !== 'enrolled') {
    r = { ok: false, reason: 'already bound' };
    enrollment.refuse({ mac, ip, actor }, 'has a device file');
  } else r = await enrollment.redeem(snap, { typed: input.code, mac, model: model.name, ip, actor });
  if (!r.ok) {
    deps.guard.recordMiss(ip, mac);
    deps.guard.recordAuthFailure(mac, ip);
    return { ok: false, problem: new Problem('code-refused', REFUSED) };
  }
  const b = r.binding;
  // An activation code's site and groups are its placeholder's.
  const p = b.placeholder === undefined ? undefined : snap.profiles.placeholders.get(b.placeholder);
  return { ok: true, status: 201, body: { mac, model: b.model ?? model.name, code: describeCode(b), placeholder: b.placeholder ?? null, site: (p ? p.site : b.site) ?? null, groups: p ? p.groups : b.groups, boundAt: b.boundAt } };
}

export function createEnrollRouter(deps: EnrollDeps): Router<AdminAppState> {
  const r = new Router<AdminAppState>();
  const render = createUiRenderer();
  const ipOf = (ctx: AdminContext) => ctx.req.socket.remoteAddress ?? '-';

  r.post('/api/v1/enroll', async (ctx) => {
    if (!ctx.is('application/json')) throw new Problem('unsupported-media-type', 'send JSON {"code": "…", "mac": "…", "model": "…"}');
    const input = jsonInput(await readBody(ctx.req, Math.min(deps.maxBodyBytes(), 4096)));
    const out = await enroll(deps, input, ipOf(ctx), 'api');
    ctx.state.auditTarget = normalizeMac(input.mac) ?? undefined;
    if (!out.ok) throw out.problem;
    ctx.status = out.status;
    ctx.body = out.body;
  });

  const page = (ctx: AdminContext, status: number, data: Record<string, unknown>) => {
    const snap = deps.snapshot();
    pageHeaders(ctx);
    ctx.status = status;
    ctx.body = render('enroll', { ...data, title: 'Enroll a phone', nav: [], inventory: true, models: snap.catalog.names(), enabled: snap.config.enrollment.enabled });
  };

  r.get('/enroll', (ctx) => page(ctx, 200, {}));

  r.post('/enroll', async (ctx) => {
    if (!ctx.is('application/x-www-form-urlencoded')) throw new Problem('unsupported-media-type', 'the form posts application/x-www-form-urlencoded');
    const form = new URLSearchParams((await readBody(ctx.req, Math.min(deps.maxBodyBytes(), 4096))).toString('utf8'));
    const input = { code: form.get('code') ?? '', mac: form.get('mac') ?? '', model: form.get('model') ?? undefined };
    const out = await enroll(deps, input, ipOf(ctx), 'form');
    ctx.state.auditTarget = normalizeMac(input.mac) ?? undefined;
    // The MAC and model are shown again so a typo can be fixed; the code never is.
    if (out.ok) page(ctx, 201, { done: out.body });
    else page(ctx, out.problem.status, { error: out.problem.detail, mac: input.mac.slice(0, 40), model: (input.model ?? '').slice(0, 64) });
  });

  return r;
}

function jsonInput(body: Buffer): EnrollInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badParam('body', `not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badParam('body', 'expected a JSON object {"code": "…", "mac": "…"}');
  const o = parsed as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'code' && k !== 'mac' && k !== 'model');
  if (extra.length) throw badParam('body', `unknown key ${JSON.stringify(extra[0]!.slice(0, 40))} (known: code, mac, model)`);
  for (const k of ['code', 'mac'] as const) if (typeof o[k] !== 'string') throw badParam(k, 'required, a string');
  if (o.model !== undefined && typeof o.model !== 'string') throw badParam('model', 'a string');
  return { code: o.code as string, mac: o.mac as string, model: o.model as string | undefined };
}
