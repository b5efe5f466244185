// The admin API's Koa app: one responder that turns a Problem (or anything thrown) into
// problem+json, authentication and the lockout, the audit line of every call, and the seam
// (`mount`) through which /metrics and a dashboard are added beside /api/v1.

import Koa from 'koa';
import type { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { AdminConfig, AdminRole } from '../config/root-config.js';
import { CredentialVerifier } from '../security/password.js';
import { hashApiToken, lockoutKey, looksLikeApiToken, mayAct, parseAuthorization, type Principal } from './auth.js';
import { Problem, problemBody } from './problem.js';
import type { AdminState, AuditEntry } from './state.js';

export interface AdminAppState {
  principal?: Principal;
  /** A note for the audit line (`secrets shown`). */
  auditDetail?: string;
  /** Set by routes mounted with `audit: false`. */
  noAudit?: boolean;
}

export type AdminContext = Koa.ParameterizedContext<AdminAppState>;

export interface AdminAppOptions {
  /** Read on every call, so a reload of deskset.yaml changes users and limits at once. */
  config: () => AdminConfig;
  state: AdminState;
  log: Logger;
  now?: () => number;
}

export interface MountOptions {
  /** Who may call: a role, or 'public' (no authentication; e.g. a scrape target on loopback). */
  access: AdminRole | 'public';
  /** Write each call to the audit log (default true). */
  audit?: boolean;
}

export interface AdminApp {
  app: Koa<AdminAppState>;
  /** Add routes (a /metrics endpoint, a dashboard) beside /api/v1; may be called after start. */
  mount(router: Router<AdminAppState>, opts: MountOptions): void;
}

const REALM = 'deskset admin';

export function createAdminApp(opts: AdminAppOptions, api: { router: Router<AdminAppState>; publicPaths: ReadonlySet<string> }): AdminApp {
  const now = opts.now ?? Date.now;
  const verifier = new CredentialVerifier({ now });
  const app = new Koa<AdminAppState>();
  app.proxy = false; // the admin listener is reached directly; X-Forwarded-For is not believed
  app.silent = true;
  const extras: Array<{ router: Router<AdminAppState>; opts: MountOptions; mw: Koa.Middleware<AdminAppState> }> = [];

  /** Who is calling, or a Problem: 401 (no or wrong credentials), 429 (locked out). */
  const authenticate = async (ctx: AdminContext): Promise<Principal> => {
    const cfg = opts.config();
    const creds = parseAuthorization(ctx.get('authorization') || undefined);
    const challenge = { 'WWW-Authenticate': `Basic realm="${REALM}", Bearer realm="${REALM}"` };
    if (creds.kind === 'none') throw new Problem('unauthorized', 'send HTTP Basic credentials of an admin.users entry, or an API token as "Authorization: Bearer dsk_…"', { headers: challenge });
    if (creds.kind === 'bad') throw new Problem('unauthorized', creds.why, { headers: challenge });
    const ip = ctx.req.socket.remoteAddress ?? '-';
    const user = creds.kind === 'basic' ? creds.user : '(token)';
    const key = lockoutKey(ip, user);
    const t = now();
    const windowMs = cfg.lockout.windowS * 1000;
    if ((await opts.state.countFailures(key, t - windowMs)) >= cfg.lockout.attempts) {
      // No check while locked: a guess costs nothing to refuse and teaches nothing.
      throw new Problem('locked-out', `${cfg.lockout.attempts} failed logins for "${user}" from ${ip} within ${cfg.lockout.windowS} s; try again later (other addresses are not affected)`, { headers: { 'Retry-After': String(cfg.lockout.windowS) } });
    }
    let principal: Principal | undefined;
    if (creds.kind === 'basic') {
      const u = cfg.users.get(creds.user);
      // An unknown user costs a check too, so timing does not tell which names exist.
      if (await verifier.verify(creds.password, u?.credential)) principal = { name: creds.user, role: u!.role, via: 'basic' };
    } else if (looksLikeApiToken(creds.token)) {
      const rec = await opts.state.findApiToken(hashApiToken(creds.token));
      if (rec) principal = { name: `token:${rec.id}`, role: rec.role, via: 'token' };
    }
    if (!principal) {
      await opts.state.recordFailure(key, t);
      throw new Problem('unauthorized', creds.kind === 'basic' ? 'wrong user name or password' : 'unknown or revoked API token', { headers: challenge });
    }
    await opts.state.clearFailures(key);
    return principal;
  };

  const authorize = async (ctx: AdminContext, access: MountOptions['access']): Promise<void> => {
    if (access === 'public') return;
    const p = await authenticate(ctx);
    ctx.state.principal = p;
    if (!mayAct(p, access)) throw new Problem('forbidden', `this needs the ${access} role; ${p.name} has ${p.role}`);
  };

  // The one responder: audit line, then problem+json for anything that went wrong.
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new Problem('not-found', `no route ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const p = err instanceof Problem ? err : toProblem(err);
      if (!(err instanceof Problem) || p.kind === 'internal') opts.log.error({ err: (err as Error)?.message, path: ctx.path }, 'admin API call failed');
      ctx.status = p.status;
      for (const [k, v] of Object.entries(p.extra.headers ?? {})) ctx.set(k, v);
      ctx.type = 'application/problem+json';
      ctx.body = problemBody(p.kind, p.detail, ctx.path, p.extra.errors);
    } finally {
      if (ctx.state.noAudit !== true) {
        const entry: AuditEntry = {
          at: new Date(now()).toISOString(),
          who: ctx.state.principal?.name ?? '-',
          ip: ctx.req.socket.remoteAddress ?? '-',
          what: `${ctx.method} ${ctx.path.slice(0, 500)}`,
          status: ctx.status,
          result: ctx.status < 400 ? 'ok' : [401, 403, 429].includes(ctx.status) ? 'denied' : 'error',
          ...(ctx.state.auditDetail ? { detail: ctx.state.auditDetail } : {}),
        };
        await opts.state.appendAudit(entry).catch((e: Error) => opts.log.error({ err: e.message }, 'audit log write failed'));
      }
    }
  });

  // Routes mounted through the seam come first; each one guards itself.
  app.use(async (ctx, next) => {
    for (const x of extras) {
      if (x.router.match(ctx.path, ctx.method).route) return x.mw(ctx, next);
    }
    return next();
  });

  app.use(async (ctx, next) => {
    if (!api.publicPaths.has(ctx.path)) await authorize(ctx, 'viewer');
    return next();
  });
  app.use(api.router.routes());
  app.use(
    api.router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new Problem('method-not-allowed', 'this resource does not answer that method'),
      notImplemented: () => new Problem('not-implemented', 'this method is not implemented'),
    }),
  );

  return {
    app,
    mount(router, mo) {
      const routes = router.routes();
      const mw: Koa.Middleware<AdminAppState> = async (ctx, next) => {
        if (mo.audit === false) ctx.state.noAudit = true;
        await authorize(ctx, mo.access);
        return routes(ctx as never, next);
      };
      extras.push({ router, opts: mo, mw });
    },
  };
}

function toProblem(err: unknown): Problem {
  const e = err as { status?: number; expose?: boolean; message?: string; headers?: Record<string, string> } | undefined;
  // Koa and the router throw http-errors: a 4xx with expose is safe to pass on; anything else is internal.
  if (e?.status === 405) return new Problem('method-not-allowed', 'this resource does not answer that method', { headers: e.headers });
  if (e?.status === 413) return new Problem('payload-too-large', 'request body too large');
  if (e?.status && e.status >= 400 && e.status < 500 && e.expose) return new Problem('bad-request', e.message ?? 'bad request');
  return new Problem('internal', 'the server could not answer this call; the server log has the reason');
}
