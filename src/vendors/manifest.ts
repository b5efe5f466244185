// Vendor manifests: templates/<vendor>/vendor.yaml, read as data. Adding a model or a file
// kind means editing that YAML, not this code.

import type { Diagnostic } from '../check/diagnostics.js';
import { checkShape, listOf, mapOf, oneOf, openMap, str, text, any, type Shape } from '../config/shape.js';
import { parseYamlTree, toPlain, type PNode } from '../config/yaml-tree.js';

export type FileScope = 'shared' | 'model' | 'device';
export type FileFormat = 'xml' | 'avaya-script' | 'yealink-cfg' | 'text';

export interface FileSpec {
  vendor: string;
  id: string;
  scope: FileScope;
  /** Request path patterns, first one canonical (it names the file in `render`). */
  paths: string[];
  template: string;
  contentType: string;
  format: FileFormat;
  /** Schema path relative to a schemas/ directory, for XML files. */
  schema?: string;
  /**
   * `shared`: a device file that unidentified or unknown phones still get, rendered from
   * the global and model layers (the Avaya upgrade script: every J100 needs its firmware).
   */
  fallback?: 'shared';
}

export interface ModelInfo {
  /** Canonical catalog name, e.g. `VVX450`, `T46S`, `J179`. */
  name: string;
  vendor: string;
  aliases: string[];
  /** Everything else in the catalog entry, for templates (`part`, `cfg_id`, `model4`, …). */
  fields: Record<string, unknown>;
}

export interface UaPattern {
  regex: RegExp;
  modelStrip?: string;
  requireOui: boolean;
}

export interface VendorManifest {
  vendor: string;
  label: string;
  oui: Set<string>;
  userAgents: UaPattern[];
  models: ModelInfo[];
  files: FileSpec[];
  /** Image-name conventions: which model(s) a firmware file serves, when there is no release.yaml. */
  firmwarePatterns: Array<{ regex: RegExp; all: boolean }>;
  /** The manifest's `data:` map, exposed to templates as `vendor`. */
  data: Record<string, unknown>;
}

const manifestShape: Shape = mapOf(
  {
    vendor: str,
    label: str,
    oui: listOf(text),
    firmware: mapOf({ file_patterns: listOf(mapOf({ pattern: str, all: { type: 'boolean' } }, { required: ['pattern'] })) }),
    // Vendor-specific lookup tables for templates (language names, transport codes, …).
    data: any,
    user_agents: listOf(mapOf({ pattern: str, flags: str, model_strip: str, require_oui: { type: 'boolean' } }, { required: ['pattern'] })),
    models: openMap(mapOf({ aliases: listOf(str) }, { open: any })),
    files: listOf(
      mapOf(
        {
          id: str,
          scope: oneOf('shared', 'model', 'device'),
          paths: listOf(str),
          template: str,
          content_type: str,
          format: oneOf('xml', 'avaya-script', 'yealink-cfg', 'text'),
          schema: str,
          fallback: oneOf('shared'),
        },
        { required: ['id', 'scope', 'paths', 'template', 'content_type', 'format'] },
      ),
    ),
  },
  { required: ['vendor', 'models', 'files'] },
);

/** Model names are compared loosely: `vvx 450`, `VVX_450` and `VVX450` are one model. */
export function modelKey(name: string): string {
  return name.replace(/[\s_-]/g, '').toUpperCase();
}

export function parseVendorManifest(text: string, file: string): { manifest?: VendorManifest; diagnostics: Diagnostic[] } {
  const parsed = parseYamlTree(text, file);
  if (!parsed.root) return { diagnostics: parsed.diagnostics.length ? parsed.diagnostics : [{ code: 'MANIFEST_EMPTY', severity: 'error', message: 'empty vendor manifest', loc: { file, line: 1, col: 1 } }] };
  const diagnostics = checkShape(parsed.root, manifestShape, '', 'MANIFEST');
  if (diagnostics.length) return { diagnostics };
  const raw = toPlain(parsed.root) as {
    vendor: string;
    label?: string;
    data?: Record<string, unknown>;
    oui?: string[];
    user_agents?: Array<{ pattern: string; flags?: string; model_strip?: string; require_oui?: boolean }>;
    models: Record<string, Record<string, unknown>>;
    files: Array<{ id: string; scope: FileScope; paths: string[]; template: string; content_type: string; format: FileFormat; schema?: string; fallback?: 'shared' }>;
    firmware?: { file_patterns?: Array<{ pattern: string; all?: boolean }> };
  };
  const vendor = raw.vendor;
  const userAgents: UaPattern[] = [];
  for (const [i, ua] of (raw.user_agents ?? []).entries()) {
    try {
      userAgents.push({ regex: new RegExp(ua.pattern, ua.flags ?? ''), modelStrip: ua.model_strip, requireOui: ua.require_oui ?? false });
    } catch (e) {
      diagnostics.push({ code: 'MANIFEST', severity: 'error', message: `user_agents[${i}]: bad pattern: ${(e as Error).message}`, loc: locOf(parsed.root, ['user_agents']) });
    }
  }
  const models: ModelInfo[] = Object.entries(raw.models).map(([name, f]) => {
    const { aliases, ...fields } = f ?? {};
    return { name, vendor, aliases: (aliases as string[] | undefined) ?? [], fields };
  });
  const files: FileSpec[] = raw.files.map((f) => ({
    vendor,
    id: f.id,
    scope: f.scope,
    paths: f.paths,
    template: f.template,
    contentType: f.content_type,
    format: f.format,
    schema: f.schema,
    fallback: f.fallback,
  }));
  const firmwarePatterns: Array<{ regex: RegExp; all: boolean }> = [];
  for (const fp of raw.firmware?.file_patterns ?? []) {
    try {
      firmwarePatterns.push({ regex: new RegExp(fp.pattern, 'i'), all: fp.all ?? false });
    } catch (e) {
      diagnostics.push({ code: 'MANIFEST', severity: 'error', message: `firmware.file_patterns: bad pattern: ${(e as Error).message}`, loc: locOf(parsed.root, ['firmware']) });
    }
  }
  return {
    manifest: { vendor, label: raw.label ?? vendor, oui: new Set((raw.oui ?? []).map((o) => o.toLowerCase())), userAgents, models, files, firmwarePatterns, data: raw.data ?? {} },
    diagnostics,
  };
}

function locOf(root: PNode, path: string[]) {
  let n: PNode = root;
  for (const k of path) {
    if (n.kind !== 'map') break;
    const e = n.entries.get(k);
    if (!e) break;
    n = e.node;
  }
  return n.loc;
}

/** One lookup table over every vendor's models, by loose name and alias. */
export class ModelCatalog {
  private readonly byKey = new Map<string, ModelInfo>();
  constructor(readonly vendors: readonly VendorManifest[]) {
    for (const v of vendors) {
      for (const m of v.models) {
        this.byKey.set(modelKey(m.name), m);
        for (const a of m.aliases) this.byKey.set(modelKey(a), m);
      }
    }
  }
  find(name: string): ModelInfo | undefined {
    return this.byKey.get(modelKey(name));
  }
  names(): string[] {
    return this.vendors.flatMap((v) => v.models.map((m) => m.name));
  }
  vendor(name: string): VendorManifest | undefined {
    return this.vendors.find((v) => v.vendor === name);
  }
  vendorForOui(oui: string): VendorManifest | undefined {
    return this.vendors.find((v) => v.oui.has(oui));
  }
}
