// Render one vendor file for one subject. Pure: a snapshot and a target in, bytes out.
// The server and the CLI both call this, so a preview is byte-for-byte what a phone gets.

import { hash } from 'node:crypto';
import Handlebars from 'handlebars';
import type { Diagnostic } from '../check/diagnostics.js';
import { macForms } from '../config/mac.js';
import { chooseFirmware, type FirmwareCatalog, type FirmwareChoice } from './firmware.js';
import { flattenLeaves, mergeLayers, type EMap, type Layer } from '../config/merge.js';
import { plainSettings } from '../config/plain-merge.js';
import { layersFor, resolveLayers, type Subject } from '../config/resolve.js';
import { compileFast, type TemplateFn } from './template-compile.js';
import { sourceExcerpt, templateErrorPos, templateSyntaxDiagnostic } from './template-errors.js';
import { lintTemplate, type Names, type TemplateFinding } from './template-names.js';
import { helpers, RenderValueError } from './template-helpers.js';
import { REDACTED, redactTree } from '../config/redact.js';
import type { FileSpec, ModelInfo } from '../vendors/manifest.js';
import type { ProfileSet } from '../config/profiles.js';
import type { RootConfig } from '../config/root-config.js';


export interface CompiledTemplate {
  fn: TemplateFn;
  /** Which back end runs it: deskset's closure compiler, or the Handlebars runtime (template-compile.ts). */
  engine: 'fast' | 'handlebars';
  /** The Handlebars runtime's function for the same text: the reference the fast one is tested against. */
  handlebars: TemplateFn;
  /** Where the template came from: `templates/polycom/master.cfg.hbs` (shipped) or the root's override. */
  source: string;
  /** Its text, to quote the offending line of an error. */
  text: string;
  /** The names it reads that `root` does not hold, as warnings at their template (or partial) line. */
  unknownNames(root: Names): Diagnostic[];
}

/** A template source: its text and how messages name its file. */
export interface TemplateSource {
  text: string;
  source: string;
}

export interface RenderTarget {
  file: FileSpec;
  /** The device the file is for; absent for shared files. */
  subject?: Subject;
  /** The model a model-scope file is for. */
  model?: ModelInfo;
  /** The name the file is served and written under. */
  path: string;
}

export interface Rendered {
  path: string;
  file: FileSpec;
  /** The file as text; phones get its UTF-8 encoding. */
  readonly text: string;
  /** Its length in UTF-8 bytes (Content-Length). */
  readonly size: number;
  /** The UTF-8 bytes, made on first read: serving writes `text` and most files are never asked for as bytes. */
  readonly bytes: Buffer;
  etag: string;
  contentType: string;
  /** The merged tree with provenance, for `check` and error mapping: built on first read. */
  readonly effective: EMap;
}

/**
 * A rendered file. It keeps the text rather than a Buffer: encoding every render into a new
 * Buffer was a sixth of a cold render (each small Buffer comes from an 8 KB pool that is
 * allocated and tracked as external memory), and node:http encodes a string body straight
 * into the socket write anyway.
 */
class RenderedFile implements Rendered {
  #bytes: Buffer | undefined;
  readonly size: number;
  readonly etag: string;
  constructor(
    readonly path: string,
    readonly file: FileSpec,
    readonly text: string,
    readonly contentType: string,
    private readonly provenance: () => EMap,
  ) {
    this.size = Buffer.byteLength(text, 'utf8');
    this.etag = etagOf(text);
  }
  get bytes(): Buffer {
    return (this.#bytes ??= Buffer.from(this.text, 'utf8'));
  }
  get effective(): EMap {
    return this.provenance();
  }
}

export interface RenderInputs {
  config: RootConfig;
  profiles: ProfileSet;
  templates: ReadonlyMap<string, CompiledTemplate>;
  modelsOf: (vendor: string) => readonly ModelInfo[];
  vendorData: (vendor: string) => Record<string, unknown>;
  firmware: FirmwareCatalog;
  /** Templates that failed to compile (already reported once, not again per device). */
  brokenTemplates?: ReadonlySet<string>;
  version: string;
}

export function templateKey(file: FileSpec): string {
  return `${file.vendor}/${file.template}`;
}

export function createTemplateEnv(): typeof Handlebars {
  const env = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) env.registerHelper(name, fn);
  return env;
}

export const TEMPLATE_OPTIONS = Object.freeze({ noEscape: true, strict: false, preventIndent: true });

/**
 * Compile a template, reporting syntax errors and calls of helpers that do not exist at the
 * template's file:line:col, with Handlebars' explanation and the source line. `partials` are
 * the vendor's partials by name, followed where the template includes them.
 */
export function compileTemplate(env: typeof Handlebars, text: string, source: string, partials: ReadonlyMap<string, TemplateSource> = new Map()): { template?: CompiledTemplate; diagnostics: Diagnostic[] } {
  let ast: hbs.AST.Program;
  try {
    ast = env.parse(text);
  } catch (e) {
    return { diagnostics: [templateSyntaxDiagnostic(text, source, e)] };
  }
  const helpers = new Set(Object.keys(env.helpers));
  const partial = (name: string) => partialAst(env, partials.get(name)?.text);
  const findings = (root?: Names) => lintTemplate({ ast, helpers, root, partial });
  const diagnostic = (f: TemplateFinding, code: string, severity: Diagnostic['severity']): Diagnostic => {
    const where = f.partial !== undefined ? partials.get(f.partial)! : { text, source };
    return { code, severity, message: f.message, loc: { file: where.source, ...f.pos }, excerpt: sourceExcerpt(where.text, f.pos) };
  };
  // A call of a helper that does not exist fails every render ("Missing helper"): say where, once.
  const missing = findings().map((f) => diagnostic(f, 'TEMPLATE_HELPER', 'error'));
  if (missing.length) return { diagnostics: missing };
  try {
    const fn = env.compile(text, TEMPLATE_OPTIONS);
    // The Handlebars function is compiled lazily on first call, so keeping it costs nothing.
    const fast = compileFast(env, text, TEMPLATE_OPTIONS, fn);
    const unknownNames = (root: Names) => findings(root).filter((f) => f.kind === 'unknown-name').map((f) => diagnostic(f, 'TEMPLATE_UNKNOWN_NAME', 'warning'));
    return { template: { fn: fast ?? fn, engine: fast ? 'fast' : 'handlebars', handlebars: fn, source, text, unknownNames }, diagnostics: [] };
  } catch (e) {
    return { diagnostics: [templateSyntaxDiagnostic(text, source, e)] };
  }
}

function partialAst(env: typeof Handlebars, text: string | undefined): hbs.AST.Program | undefined {
  if (text === undefined) return undefined;
  try {
    return env.parse(text);
  } catch {
    return undefined; // reported where the partial is registered
  }
}

/** A strong ETag: SHA-1 of the bytes (a string is hashed as its UTF-8 encoding, the bytes served). */
export function etagOf(content: Uint8Array | string): string {
  // crypto.hash (one shot) skips building a Hash object: a third of the cost for a small file.
  return `"${hash('sha1', content, 'base64url')}"`;
}

export interface RenderOptions {
  /** Replace secrets with •••• (previews): values at secret-looking keys and these values. */
  redact?: { secrets: ReadonlySet<string>; extraKeys?: RegExp };
}

export function renderTarget(inp: RenderInputs, t: RenderTarget, opts: RenderOptions = {}): { rendered?: Rendered; diagnostics: Diagnostic[] } {
  const tpl = inp.templates.get(templateKey(t.file));
  const device = t.subject?.mac;
  if (!tpl) {
    if (inp.brokenTemplates?.has(templateKey(t.file))) return { diagnostics: [] };
    return { diagnostics: [{ code: 'TEMPLATE_MISSING', severity: 'error', message: `no template ${templateKey(t.file)}`, device, path: t.path }] };
  }
  const subject: Subject = t.subject ?? { known: false, vendor: t.file.vendor, model: t.model, groups: [] };
  const layers = layersFor(inp.profiles, inp.config.layers, subject);
  // Provenance is for `check` and errors only; rendering reads plain values (plain-merge.ts).
  let effective: EMap | undefined;
  const provenance = (): EMap => (effective ??= resolveLayers(layers, subject.known));
  const ctx = contextFor(inp, t, subject, layers, opts);
  try {
    let text = tpl.fn(ctx);
    // Handlebars' standalone-block rule eats the newline after a closing tag on the last
    // line; phones and diff tools both want files to end with one.
    if (!text.endsWith('\n')) text += '\n';
    const rendered: Rendered = new RenderedFile(t.path, t.file, text, t.file.contentType, provenance);
    return { rendered, diagnostics: [] };
  } catch (e) {
    const reason = e instanceof RenderValueError ? e.message : `template error: ${(e as Error).message.split('\n')[0]}`;
    // The compiled template tags an error with the statement that threw (template-errors.ts).
    const pos = templateErrorPos(e);
    const d: Diagnostic = { code: 'RENDER', severity: 'error', message: `${reason} (template ${tpl.source})`, loc: { file: tpl.source, line: pos?.line ?? 1, col: pos?.col ?? 1 }, device, path: t.path };
    if (pos) d.excerpt = sourceExcerpt(tpl.text, pos);
    // Point at the profile line that set the offending parameter, when one did.
    const key = e instanceof RenderValueError ? e.key : undefined;
    const leaf = key ? flattenLeaves(provenance()).find(({ path }) => path.join('.').endsWith(`.${key}`) || path.join('.') === key) : undefined;
    if (leaf) {
      d.related = [{ message: 'template', loc: d.loc! }];
      d.loc = leaf.leaf.origin.loc;
    }
    return { diagnostics: [d] };
  }
}

/**
 * The device as templates see it. Written out property by property: V8 (Node 20) builds
 * `{ ...macForms(mac), model, … }` through a slow runtime path, measured at 5–9 µs per render,
 * a sixth of a cold render; this literal costs well under one.
 */
function deviceView(s: Subject, mac: string): Record<string, unknown> {
  const f = macForms(mac);
  return { mac: f.mac, MAC: f.MAC, mac_colon: f.mac_colon, MAC_colon: f.MAC_colon, model: s.model?.name, vendor: s.vendor, site: s.site, groups: s.groups, known: s.known };
}

const modelViews = new WeakMap<ModelInfo, Record<string, unknown>>();

/** The catalog entry as templates see it; built once per model (templates never mutate it). */
function modelView(m: ModelInfo | undefined): Record<string, unknown> | undefined {
  if (!m) return undefined;
  let v = modelViews.get(m);
  if (!v) modelViews.set(m, (v = Object.freeze({ ...m.fields, name: m.name, vendor: m.vendor })));
  return v;
}

function firmwareView(c: FirmwareChoice | undefined): Record<string, unknown> | undefined {
  // Only a chosen image reaches templates: `off`, or nothing on disk, means "say nothing".
  return c?.path ? { version: c.version, file: c.file, path: c.path, url: c.url, app_file_path: c.path, policy: c.policy } : undefined;
}

function contextFor(inp: RenderInputs, t: RenderTarget, s: Subject, layers: readonly Layer[], opts: RenderOptions): unknown {
  let settings = (plainSettings(inp.profiles, layers, s.known) ?? {}) as Record<string, unknown>;
  if (opts.redact) settings = redactValues(redactTree(settings, opts.redact.extraKeys), opts.redact.secrets) as Record<string, unknown>;
  const model = s.model ?? t.model;
  const publicUrl = inp.config.publicUrl;
  // Without releases no policy can name an image, and templates only see a chosen image.
  // The policy reads nothing outside `firmware`, so only that key is merged.
  const withFirmware = inp.firmware.releases.length > 0;
  const own = model && withFirmware ? chooseFirmware(inp.firmware, mergeLayers(layers, ['firmware']), model, publicUrl, inp.config.layers) : undefined;
  // Shared files (Poly's 000000000000.cfg, the Avaya upgrade script) carry one entry per
  // model, each from the global and that model's layers.
  const perModel = (m: ModelInfo) => {
    if (model && m.name === model.name) return own;
    if (t.subject?.known) return undefined;
    const eff = mergeLayers(layersFor(inp.profiles, inp.config.layers, { known: false, vendor: m.vendor, model: m, groups: [] }), ['firmware']);
    return chooseFirmware(inp.firmware, eff, m, publicUrl, inp.config.layers);
  };
  return {
    device: s.mac ? deviceView(s, s.mac) : undefined,
    model: modelView(model),
    firmware: firmwareView(own),
    models: modelsView(inp, t, perModel),
    vendor: inp.vendorData(t.file.vendor),
    settings,
    file: { id: t.file.id, path: t.path },
    deskset: { version: inp.version },
  };
}

/**
 * One template context per model of `vendor`, and one of a shared file, without settings:
 * every field a template can read besides the profiles' values, built by the same views a
 * render uses (for `check`'s unknown-name warnings). Firmware is filled in as if chosen.
 */
export function contextSamples(inp: RenderInputs, vendor: string): Array<Record<string, unknown>> {
  const models = inp.modelsOf(vendor);
  const chosen = { policy: 'latest', version: '', file: '', path: '', url: '', reason: '', setAt: [] } as unknown as FirmwareChoice;
  const base = {
    firmware: firmwareView(chosen),
    models: models.map((m) => ({ ...modelView(m), firmware: firmwareView(chosen) })),
    vendor: inp.vendorData(vendor),
    file: { id: '', path: '' },
    deskset: { version: inp.version },
  };
  return [base, ...models.map((m) => ({ ...base, device: deviceView({ known: true, vendor, model: m, mac: '000000000000', site: '', groups: [] }, '000000000000'), model: modelView(m) }))];
}

/**
 * The vendor's models for templates. A known device's files only use its own model's
 * firmware, so the list is shared between renders unless firmware is in play.
 */
function modelsView(inp: RenderInputs, t: RenderTarget, perModel: (m: ModelInfo) => FirmwareChoice | undefined): unknown[] {
  const models = inp.modelsOf(t.file.vendor);
  if (inp.firmware.releases.length === 0) {
    let list = plainModelLists.get(models);
    if (!list) plainModelLists.set(models, (list = Object.freeze(models.map((m) => modelView(m)))));
    return list as unknown[];
  }
  return models.map((m) => ({ ...modelView(m), firmware: firmwareView(perModel(m)) }));
}
const plainModelLists = new WeakMap<readonly ModelInfo[], readonly unknown[]>();

/** Values that came from secret references are secrets wherever they are used. */
function redactValues(v: unknown, secrets: ReadonlySet<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => redactValues(x, secrets));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValues(x, secrets)]));
  return typeof v === 'string' && secrets.has(v) ? REDACTED : v;
}
