// The admin API's Koa app: one responder that turns a Problem (or anything thrown) into
// problem+json, authentication and the lockout, the audit line of every call, and the seam
// (`mount`) through which /metrics and a dashboard are added beside /api/v1.

import Koa from 'koa';
import type { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { AdminConfig, AdminRole } from '../config/root-config.js';
import { CredentialVerifier } from '../security/password.js';
import { apiTokenId, type AuditInput } from '../store/contract.js';
import { mayAct, parseAuthorization, type Principal } from './auth.js';
import { Problem, problemBody } from './problem.js';
import type { AdminStore } from './store.js';

export interface AdminAppState {
  principal?: Principal;
  /** Facts for the audit line (`secrets: 'shown'`); never secrets themselves. */
  auditDetail?: Record<string, unknown>;
  /** What the call was about (a MAC), for the audit line. */
  auditTarget?: string;
  /** Set by routes mounted with `audit: false`. */
  noAudit?: boolean;
}

export type AdminContext = Koa.ParameterizedContext<AdminAppState>;

export interface AdminAppOptions {
  /** Read on every call, so a reload of deskset.yaml changes users and limits at once. */
  config: () => AdminConfig;
  /** Audit log, API tokens and lockout counters; without one (`state: off`) audit lines go to the log and counters stay in memory. */
  store?: AdminStore;
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
  const failures = opts.store ?? new MemoryLockout();
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
    const t = now();
    const since = new Date(t - cfg.lockout.windowS * 1000).toISOString();
    if ((await failures.countLoginFailures(ip, user, since)) >= cfg.lockout.attempts) {
      // No check while locked: a guess costs nothing to refuse and teaches nothing.
      throw new Problem('locked-out', `${cfg.lockout.attempts} failed logins for "${user}" from ${ip} within ${cfg.lockout.windowS} s; try again later (other addresses are not affected)`, { headers: { 'Retry-After': String(cfg.lockout.windowS) } });
    }
    let principal: Principal | undefined;
    if (creds.kind === 'basic') {
      const u = cfg.users.get(creds.user);
      // An unknown user costs a check too, so timing does not tell which names exist.
      if (await verifier.verify(creds.password, u?.credential)) principal = { name: creds.user, role: u!.role, via: 'basic' };
    } else if (opts.store && apiTokenId(creds.token)) {
      const info = await opts.store.verifyApiToken(creds.token, new Date(t).toISOString());
      if (info) principal = { name: `token:${info.id}`, role: info.role, via: 'token' };
    }
    if (!principal) {
      await failures.recordLoginFailure(ip, user, new Date(t).toISOString());
      throw new Problem('unauthorized', creds.kind === 'basic' ? 'wrong user name or password' : 'unknown or revoked API token', { headers: challenge });
    }
    await failures.clearLoginFailures(ip, user);
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
        const status = ctx.status;
        const entry: AuditInput = {
          at: new Date(now()).toISOString(),
          actor: ctx.state.principal?.name ?? '-',
          source: ctx.req.socket.remoteAddress ?? '-',
          action: `${ctx.method} ${ctx.path.slice(0, 500)}`,
          result: status < 400 ? 'ok' : status === 401 || status === 403 || status === 429 ? 'denied' : String(status),
          ...(ctx.state.auditTarget ? { target: ctx.state.auditTarget } : {}),
          detail: { status, ...ctx.state.auditDetail },
        };
        if (opts.store) await opts.store.appendAudit(entry).catch((e: Error) => opts.log.error({ err: e.message }, 'audit log write failed'));
        else opts.log.info({ event: 'admin_audit', ...entry }, 'admin API call');
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

/** Lockout counters when there is no state store (`state: off`): per process, bounded. */
class MemoryLockout {
  private readonly failures = new Map<string, string[]>();

  async countLoginFailures(source: string, user: string, since: string): Promise<number> {
    return (this.failures.get(`${source}\0${user}`) ?? []).filter((t) => t >= since).length;
  }

  async recordLoginFailure(source: string, user: string, at: string): Promise<void> {
    const k = `${source}\0${user}`;
    const list = (this.failures.get(k) ?? []).slice(-99);
    list.push(at);
    this.failures.delete(k);
    this.failures.set(k, list);
    // A flood from many addresses must not grow memory without end: the oldest keys go.
    while (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  async clearLoginFailures(source: string, user: string): Promise<void> {
    this.failures.delete(`${source}\0${user}`);
  }
}
