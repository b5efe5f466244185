// Start a deskset server on a config root: load, refuse on errors, listen (HTTP, and HTTPS
// when configured: old phones bootstrap over HTTP, so both may run at once). Used by
// `deskset serve` and by the end-to-end tests, so both run the same code.

import { existsSync } from 'node:fs';
import http, { type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { DiagnosticsError, hasErrors, type Diagnostic } from './check/diagnostics.js';
import type { Snapshot } from './snapshot/snapshot.js';
import { createLogger } from './http/access-log.js';
import { Gate } from './security/gate.js';
import { createListener } from './http/listener.js';
import { createPipeline } from './pipeline/handle.js';
import { logPath, logRecord, type AccessSinks, type Observe } from './pipeline/access.js';
import type { PhoneRequest } from './pipeline/handle.js';
import type { Reply } from './pipeline/reply.js';
import { servedTrees } from './io/disk-file.js';
import type { Health } from './service/reloader.js';
import { TftpServer, desksetSource } from './tftp/index.js';
import { targetOf } from './tftp/deskset-source.js';
import { ConnectionGuard, defaultMaxPerAddress } from './http/connection-limits.js';
import type { ConnectionsConfig } from './config/root-config.js';
import { IpAllowList } from './config/ip-allow.js';
import { SMALL_FLEET, type ParseCache } from './config/profiles.js';
import { CheckThreads, defaultCheckThreads } from './service/check-threads.js';
import { deviceTargets, sharedTargets } from './pipeline/request.js';
import { warmUp, type WarmUpResult } from './http/warm-up.js';
import { buildFromRoot, readRoot } from './io/load-root.js';
import { createValidators } from './io/validators.js';
import { watchRoot } from './io/watch.js';
import { collectGarbage, watchHeap } from './service/heap.js';
import { ensureDevCertificate } from './security/dev-cert.js';
import { loadServerTls } from './security/server-tls.js';
import { TokenStore } from './security/tokens.js';
import { Provisioner } from './service/provisioner.js';
import { Enrollment } from './enroll/service.js';
import { Reloader, validateSnapshot } from './service/reloader.js';
import { UPLOAD_KINDS } from './service/upload-backend.js';
import { openUploads } from './service/open-uploads.js';
import type { StateStore } from './store/contract.js';
import { openStateStore } from './store/open.js';
import { Inventory } from './inventory/inventory.js';
import { startAdminListener, type RunningAdmin } from './admin/listener.js';
import { readLifecycles } from './enroll/read-lifecycles.js';
import { VERSION } from './io/package-root.js';
import { Metrics } from './metrics/index.js';
import { metricsRouter } from './metrics/route.js';
import type { AdminAppState } from './admin/app.js';

export interface ServerOptions {
  root: string;
  host?: string;
  port?: number;
  /** HTTPS port (overrides tls.port); 0 picks a free one. */
  httpsPort?: number;
  /** Serve HTTPS with a self-signed certificate kept in the state directory. */
  devTls?: boolean;
  log?: Logger;
  /** Watch the root and reload on change (default true). */
  watch?: boolean;
  /**
   * Roots with more devices than this start serving once shared files and profiles are
   * checked, and validate every device in the background (renders are checked one by one
   * until then). Default 20,000: a 10,000-device root validates in ~3 s.
   */
  validateSyncMax?: number;
  /** Debounce for the watcher, ms. */
  debounceMs?: number;
  /** Threads that check large reloads (0: on the serving thread, in slices). Default: see defaultCheckThreads. */
  checkThreads?: number;
  /**
   * Requests to answer over loopback, through a throwaway copy of the request stack, before
   * listening (http/warm-up.ts). Default 0 here; `deskset serve` warms with 1,500.
   */
  warmUp?: number;
  /** Serve TFTP on this UDP port (overrides tftp.listen.port; 0 picks a free one). Absent and unset in deskset.yaml: no TFTP. */
  tftpPort?: number;
  /**
   * The admin API listener (src/admin/): off unless asked (`deskset serve` asks), so tests
   * and embedders do not all bind 127.0.0.1:9090. `true` listens where deskset.yaml says
   * (admin.listen); host/port override it (port 0 picks a free one).
   */
  admin?: boolean | { host?: string; port?: number };
  /** The registry requests, reloads and the guard report to (default: a fresh one per server). */
  metrics?: Metrics;
}

/** How often a server reads the bindings again (another replica may have bound a phone). */
const BINDINGS_REFRESH_MS = 2_000;

/** The warm-up stops after this long whatever is left: start-up at 100,000 devices must stay under 10 s. */
const WARM_UP_BUDGET_MS = 750;
/** Distinct device files the warm-up asks for: renders and cache hits both get warmed. */
const WARM_UP_DEVICES = 500;

export interface RunningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  /** The TFTP listener, when on. */
  tftp?: { server: TftpServer; port: number; host: string };
  /** The HTTPS listener, when TLS is on. */
  https?: { server: Server; url: string; port: number; fingerprint256?: string; devCertPath?: string };
  /** The request pipeline every transport adapter calls. */
  handle: (req: PhoneRequest) => Promise<Reply>;
  provisioner: Provisioner;
  reloader: Reloader;
  gate: Gate;
  /** Open connections per source address (both listeners). */
  connections: ConnectionGuard;
  /** Resolves when the watcher is ready (immediately when not watching). */
  watching: Promise<void>;
  /** Warnings found while loading (errors refuse the start). */
  warnings: Diagnostic[];
  /** What the warm-up before listening did. */
  warmedUp: WarmUpResult;
  /** The state store (`state:` in deskset.yaml); undefined with `state: off`. */
  store?: StateStore;
  /** The inventory writer, when there is a store. */
  inventory?: Inventory;
  /** The admin API listener, when started. */
  admin?: RunningAdmin;
  /** This server's Prometheus metrics (served as /metrics on the admin listener). */
  metrics: Metrics;
  /** Read and check the whole root again (SIGHUP); a failure degrades /healthz, never throws. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** Node's defaults let a client dribble headers for a minute; phones send a request in milliseconds. */
// Node enforces headersTimeout only when it checks connections, every 30 s by default: check
// every second so a slow-header (slowloris) client is cut off after ~10 s, not ~30.
export const SERVER_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 };
/** A connection that sends nothing (not even its first byte) for this long is closed. */
export const IDLE_TIMEOUT_MS = 10_000;

/** Node's timeouts for both listeners: deskset.yaml's `connections:` over SERVER_TIMEOUTS. */
function serverTimeouts(c: ConnectionsConfig): typeof SERVER_TIMEOUTS {
  const ms = (s: number | undefined, dflt: number) => (s === undefined ? dflt : s * 1000);
  return {
    headersTimeout: ms(c.headersTimeoutS, SERVER_TIMEOUTS.headersTimeout),
    requestTimeout: ms(c.requestTimeoutS, SERVER_TIMEOUTS.requestTimeout),
    keepAliveTimeout: ms(c.keepAliveTimeoutS, SERVER_TIMEOUTS.keepAliveTimeout),
    connectionsCheckingInterval: SERVER_TIMEOUTS.connectionsCheckingInterval,
  };
}

/**
 * Entries the reader left out (a symlink loop, a link out of the root, an unreadable file):
 * errors for `check` and for a reload, but at start-up, with no last good config to fall
 * back on, the server starts without them and reports them on /healthz instead of exiting.
 */
const NOT_READ = new Set(['SYMLINK_LOOP', 'OUTSIDE_ROOT', 'UNREADABLE']);

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const rootFiles = await readRoot(opts.root);
  const unread = rootFiles.problems.filter((d) => NOT_READ.has(d.code));
  const parseCache: ParseCache = new Map();
  const snap: Snapshot = await buildFromRoot({ ...rootFiles, problems: rootFiles.problems.filter((d) => !NOT_READ.has(d.code)) }, parseCache);
  // A large fleet's parse, kept for the first reload, would hold its start-up memory up by a
  // tenth (100,000 devices): that reload parses afresh instead.
  if (snap.profiles.devices.size > SMALL_FLEET) parseCache.clear();
  // The same gate a reload must pass: everything renders and validates, or we do not start.
  const startValidators = createValidators({ root: rootFiles.dir, resourceNames: rootFiles.resources });
  const background = snap.profiles.devices.size > (opts.validateSyncMax ?? SMALL_FLEET);
  const found = await validateSnapshot(snap, startValidators, background ? new Set() : undefined);
  await startValidators.close();
  collectGarbage(); // before the first phone: the validation's garbage would slow every request
  const stateDir = path.resolve(rootFiles.dir, snap.config.stateDir);

  let dev: Awaited<ReturnType<typeof ensureDevCertificate>> | undefined;
  if (opts.devTls && !snap.config.tls?.cert && !snap.config.tls?.pfx) dev = await ensureDevCertificate(stateDir);
  const tls = snap.config.tls || dev ? await loadServerTls(rootFiles.dir, snap.config.tls, dev) : undefined;
  if (tls) found.push(...tls.diagnostics);
  if (hasErrors(found)) throw new DiagnosticsError(found);

  const host = opts.host ?? snap.config.listen.host;
  const port = opts.port ?? snap.config.listen.port;
  const log = opts.log ?? createLogger();
  const metrics = opts.metrics ?? new Metrics();
  // The state store before the first phone: a database migrated by a newer deskset refuses the start.
  const store = await openStateStore(rootFiles.dir, snap.config);
  // Phones bound by codes are state: read before serving, then again every few seconds so a
  // replica on the same PostgreSQL serves the phones another one bound.
  const enrollment = store && snap.config.enrollment.enabled ? new Enrollment(store, log) : undefined;
  await enrollment?.refresh();
  const provisioner = new Provisioner(snap, enrollment, metrics);
  const reloader = new Reloader(rootFiles, provisioner, log, metrics, { parseCache, threads: new CheckThreads(opts.checkThreads ?? defaultCheckThreads()) });
  const unreadShown = unread.map((d) => ({ ...d, loc: d.loc && { ...d.loc, file: snap.display(d.loc.file) } }));
  if (unread.length) reloader.degrade('not_read', unreadShown);
  // On disk, or in the state database when it is PostgreSQL (every replica serves them back).
  const uploads = openUploads(rootFiles.dir, snap.config, store);
  // Before the first phone: temp files and half-done log appends a killed process left behind.
  const orphans = await uploads.removeStaleTemps().catch((e: Error) => (log.warn({ err: e.message }, 'upload housekeeping failed'), 0));
  if (orphans) log.info({ event: 'upload_orphans_removed', files: orphans }, 'removed temp files of an earlier, interrupted run');
  // What the serving snapshot serves at a path (rendering it if the cache has not): the inventory and the admin views judge phones by it.
  const etagOf = (p: string) => provisioner.serve({ path: p }).rendered?.etag;
  const inventory = store && new Inventory({ store, snapshot: () => provisioner.current(), etagOf, flushMs: snap.config.inventory.flushMs, touchMs: snap.config.inventory.touchS * 1000, maxUnknown: snap.config.inventory.maxUnknown, log });
  const tokens = store ? TokenStore.onStore(store) : new TokenStore(path.join(stateDir, 'tokens.json'));
  await tokens.load();
  // Migration 0002 imports tokens.json once per database: a second server's file on a shared PostgreSQL is not.
  if (store && existsSync(path.join(stateDir, 'tokens.json'))) log.warn({ event: 'tokens_json_ignored', file: path.join(snap.config.stateDir, 'tokens.json') }, `${path.join(snap.config.stateDir, 'tokens.json')} is not used: URL tokens live in the state store (this database imported its tokens before); re-issue the tokens it holds, then delete it`);
  const gate = new Gate(snap.config.security, log, tokens, enrollment, metrics);
  metrics.wire({
    snapshot: () => {
      const s = provisioner.current();
      return { id: s.id, loadedAt: s.loadedAt, devices: s.profiles.devices.size };
    },
    healthy: () => reloader.status().ok,
    guard: () => gate.guard.stats(),
    cachedFiles: () => provisioner.cachedFiles(),
  });
  // The phones by provision result, read from the store at scrape time.
  if (store) metrics.setInventorySource(() => store.countByResult());
  // Housekeeping: old day logs and temp files a crash left behind, daily; tokens
  // issued by `deskset token` in another process, every few seconds (one stat).
  const housekeep = () => void Promise.all([uploads.pruneLogs(), uploads.removeStaleTemps()]).catch((e: Error) => log.warn({ err: e.message }, 'upload housekeeping failed'));
  // Temp files were swept above, before listening; old day logs can go in the background.
  void uploads.pruneLogs().catch((e: Error) => log.warn({ err: e.message }, 'upload housekeeping failed'));
  const timers = [setInterval(() => void enrollment?.refresh().catch((e: Error) => log.warn({ err: e.message }, 'bindings unreadable')), BINDINGS_REFRESH_MS), setInterval(housekeep, 24 * 3600_000), setInterval(() => void tokens.refresh().catch((e: Error) => log.warn({ err: e.message }, 'token store unreadable')), 5_000), watchHeap()];
  for (const t of timers) t.unref();

  // The request stack: the HTTP adapter around the one pipeline. The warm-up builds one of its own.
  const requestStack = (p: Provisioner, g: Gate, l: Logger, health?: () => Health, observe?: Observe, m?: Metrics) => {
    // Files are checked on the descriptor they are read from; each refused one is logged once.
    const trees = servedTrees(rootFiles.dir, (sub, rel) => l.warn({ event: 'outside_root', file: `${sub}/${rel}` }, `refused a file that leads outside ${sub}/ (answered 404)`));
    const handle = createPipeline({ provisioner: p, gate: g, log: l, uploads, trees, metrics: m });
    return { handle, listener: createListener({ handle, provisioner: p, gate: g, log: l, health, observe, metrics: m }) };
  };

  let warmedUp: WarmUpResult = { requests: 0, ms: 0 };
  if (opts.warmUp) {
    // The throwaway stack: its own cache and gate state, a log that writes nowhere (but still
    // formats every line, so that code is warmed too). The served provisioner starts empty.
    const quiet = createLogger({ write: () => undefined });
    const scratch = requestStack(new Provisioner(snap), new Gate(snap.config.security, quiet, tokens), quiet).listener;
    warmedUp = await warmUp(scratch, warmUpPaths(snap), { requests: opts.warmUp, budgetMs: WARM_UP_BUDGET_MS });
  }

  // Only the served stack observes: the warm-up's own requests are not phones.
  const observe: Observe | undefined = inventory && ((r, ua, etag) => inventory.observe(r, ua, etag));
  const stack = requestStack(provisioner, gate, log, () => reloader.status(), observe, metrics);
  const listener = stack.listener;
  const timeouts = serverTimeouts(snap.config.connections);
  const idleMs = snap.config.connections.idleTimeoutS === undefined ? IDLE_TIMEOUT_MS : snap.config.connections.idleTimeoutS * 1000;
  // One count per source address over both listeners; a reverse proxy we trust is not capped.
  const proxies = snap.config.security.trustedProxies.length ? new IpAllowList(snap.config.security.trustedProxies) : undefined;
  const connections = new ConnectionGuard({
    maxPerAddress: snap.config.connections.maxPerAddress ?? defaultMaxPerAddress(),
    exempt: (a) => proxies?.allows(a) ?? false,
    onRefused: (ip, max) => log.warn({ event: 'connection_limit', ip, max }, 'too many connections from one address; refusing more'),
  });
  const server = http.createServer(timeouts, listener);
  connections.attach(server, idleMs);
  const actual = await listen(server, port, host);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let secure: RunningServer['https'];
  if (tls?.options) {
    // handshakeTimeout: a TCP connection that never completes (or starts) its handshake.
    const s = https.createServer({ ...timeouts, handshakeTimeout: idleMs, ...tls.options }, listener);
    connections.attach(s, idleMs);
    const p = await listen(s, opts.httpsPort ?? snap.config.tls?.port ?? 8443, host);
    secure = { server: s, url: `https://${shown === '127.0.0.1' ? 'localhost' : shown}:${p}`, port: p, fingerprint256: dev?.fingerprint256 ?? tls.fingerprint256, devCertPath: dev?.certPath };
  }

  // A TFTP port that cannot be bound stops the start: the listeners already up are closed first.
  const tftp = await startTftp(opts, snap, host, { handle: stack.handle, provisioner, gate, log, observe, metrics }).catch(async (err: unknown) => {
    for (const t of timers) clearInterval(t);
    await Promise.all([server, secure?.server].filter((s): s is Server => !!s).map(close));
    throw err;
  });
  let admin: RunningAdmin | undefined;
  const adminCfg = snap.config.admin;
  if (opts.admin && (adminCfg.listen || typeof opts.admin === 'object')) {
    const at = typeof opts.admin === 'object' ? opts.admin : {};
    try {
      if (adminCfg.tls && !tls?.options) throw new DiagnosticsError([{ code: 'CONFIG', severity: 'error', message: 'admin.tls: true needs a certificate (tls: in deskset.yaml, or --dev-tls)', loc: { file: 'deskset.yaml', line: 1, col: 1 } }]);
      admin = await startAdminListener({
        host: at.host ?? adminCfg.listen?.host ?? '127.0.0.1',
        port: at.port ?? adminCfg.listen?.port ?? 9090,
        tls: (adminCfg.tls ?? !!tls?.options) ? tls?.options : undefined,
        // Read per call: a reload of deskset.yaml changes users and limits (not the address).
        config: () => provisioner.current().config.admin,
        snapshot: () => provisioner.current(),
        etagOf,
        health: () => reloader.status(),
        store,
        lifecycles: async () => (store ? readLifecycles(store, provisioner.current(), new Date(), enrollment && { bindings: [...enrollment.bindings().values()] }) : undefined),
        enroll: { snapshot: () => provisioner.current(), enrollment, guard: gate.guard, modelSeen: async (mac) => (await store?.getDevice(mac))?.model },
        phoneOverrides: async (mac) => (await uploads.listForDevice(mac)).filter((u) => UPLOAD_KINDS[u.kind as keyof typeof UPLOAD_KINDS]?.override),
        log,
        version: VERSION,
        startedAt: new Date(),
        now: Date.now,
      });
    } catch (e) {
      // Not started: nothing this call opened may outlive it.
      for (const t of timers) clearInterval(t);
      await reloader.close();
      await inventory?.close().catch(() => undefined);
      await store?.close();
      await Promise.all([...[server, secure?.server].filter((s): s is Server => !!s).map(close), tftp?.server.close()]);
      throw e;
    }
  }

  // /metrics beside the admin API. No audit line per call: a scrape every 30 s would bury it.
  admin?.mount(metricsRouter<AdminAppState>(metrics), { access: adminCfg.metrics === 'public' ? 'public' : 'viewer', audit: false });

  if (background) void reloader.validateInBackground(snap);
  // Neither a watcher error nor a reload that throws may end the process: both degrade /healthz.
  const failed = (err: unknown) => reloader.degrade('reload_failed', [problemOf('RELOAD_FAILED', err)]);
  const onBatch = (changed: string[]) => void reloader.reload(changed).catch(failed);
  const onError = (err: Error, rel: string | undefined) => reloader.degrade('watch_error', [problemOf('WATCH_ERROR', err, rel)]);
  const watcher = opts.watch === false ? undefined : watchRoot(rootFiles.dir, onBatch, { debounceMs: opts.debounceMs, onError });
  return {
    server,
    url: `http://${shown}:${actual}`,
    host,
    port: actual,
    https: secure,
    tftp,
    handle: stack.handle,
    provisioner,
    reloader,
    gate,
    connections,
    watching: watcher?.ready ?? Promise.resolve(),
    warnings: [...unreadShown, ...found],
    warmedUp,
    store,
    inventory,
    admin,
    metrics,
    reload: () => reloader.reloadAll().then(() => undefined, failed),
    close: async () => {
      for (const t of timers) clearInterval(t);
      await watcher?.close();
      await Promise.all([...[server, secure?.server].filter((s): s is Server => !!s).map(close), tftp?.server.close()]);
      await admin?.close();
      await reloader.close();
      // After the listeners: the last requests' observations are written, then the store closes.
      await inventory?.close().catch((e: Error) => log.warn({ err: e.message }, 'inventory: last batch not written'));
      await store?.close();
    },
  };
}

/** The TFTP listener when asked for (serve --tftp-port, or tftp.listen in deskset.yaml): one more adapter of the pipeline. */
async function startTftp(opts: ServerOptions, snap: Snapshot, httpHost: string, deps: { handle: (req: PhoneRequest) => Promise<Reply>; provisioner: Provisioner; gate: Gate; log: Logger; observe?: Observe; metrics?: Metrics }): Promise<RunningServer['tftp']> {
  const cfg = snap.config.tftp;
  const sinks: AccessSinks = { log: deps.log, observe: deps.observe, metrics: deps.metrics };
  const port = opts.tftpPort ?? cfg.listen?.port;
  if (port === undefined) return undefined;
  const host = cfg.listen?.host ?? httpHost;
  const server = new TftpServer({
    host,
    port,
    source: desksetSource({ handle: deps.handle, provisioner: deps.provisioner, gate: deps.gate, log: deps.log, config: cfg }),
    limits: { maxTransfers: cfg.maxTransfers, maxPerSource: cfg.maxPerSource, ratePerSource: cfg.ratePerSource, burstPerSource: cfg.ratePerSource * 2 },
    options: { maxBlksize: cfg.maxBlksize, maxWindowsize: cfg.maxWindowsize },
    onRecord: (r) => logRecord(sinks, { ip: r.ip, method: r.op, path: logPath(targetOf(r.path)), status: r.status, bytes: r.bytes, ms: r.ms, mac: r.log.mac, model: r.log.model, reason: r.log.reason, transport: 'tftp' }, r.log, undefined, undefined),
    onProblem: (what, err) => deps.log.warn({ event: 'tftp_problem', err: err instanceof Error ? err.message : String(err) }, what),
  });
  return { server, port: await server.listen(), host };
}

/** The shared files, and device files spread evenly over the fleet. */
function warmUpPaths(snap: Snapshot): string[] {
  const step = Math.max(1, Math.floor(snap.profiles.devices.size / WARM_UP_DEVICES));
  const picked: string[] = [];
  let i = 0;
  for (const mac of snap.profiles.devices.keys()) {
    if (picked.length === WARM_UP_DEVICES) break;
    if (i++ % step === 0) picked.push(mac);
  }
  return [...sharedTargets(snap), ...deviceTargets(snap, picked)].map((t) => `/${t.path}`);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A failure that is not about one line of one file, as a diagnostic /healthz can show (no absolute paths). */
function problemOf(code: string, err: unknown, rel?: string): Diagnostic {
  const why = (err as NodeJS.ErrnoException | undefined)?.code ?? (err instanceof Error ? err.message : String(err));
  const what = code === 'WATCH_ERROR' ? 'watching failed' : 'reload failed';
  return { code, severity: 'error', message: `${rel ? `${rel}: ` : ''}${what} (${why}); still serving the last good config`, ...(rel ? { loc: { file: rel, line: 1, col: 1 } } : {}) };
}
