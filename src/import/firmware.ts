// Firmware the input names (Avaya SET APPNAME in an upgrade script's model branch, Poly
// APP_FILE_PATH / APP_FILE_PATH_<model>) becomes a pinned policy in the model's profile, with
// the image copied to firmware/<vendor>/<version>/ and a release.yaml saying which models it
// serves. An image that is not in the folder is a warning, and no policy is written.

import type { SourceLoc } from '../check/diagnostics.js';
import { decodeLines } from './text.js';
import type { CopiedFile, Dropped, ParsedFolder, Vendor } from './types.js';
import { drop, type ImportContext } from './context.js';

export interface FirmwareRef {
  vendor: Vendor;
  /** '' for every model of the vendor (the policy goes to global.yaml). */
  model: string;
  /** The image as the input names it (a file name or a path relative to the server). */
  image: string;
  loc: SourceLoc;
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const VERSION = /^\d+(?:\.\d+){1,5}[A-Za-z0-9-]*$/;

/** The release version an image stands for: from its name (Avaya _R4_1_3_0_6), a folder in its path (5.9.5/sip.ld), or a sip.ver beside it. */
function versionOf(ctx: ImportContext, ref: FirmwareRef, hit: string): string | undefined {
  if (ref.vendor === 'avaya') return /_R(\d+(?:_\d+)+)/.exec(ref.image)?.[1]?.replace(/_/g, '.') ?? base(ref.image).replace(/\.[^.]+$/, '');
  const dir = [...ref.image.split('/').slice(0, -1), ...hit.split('/').slice(0, -1)].reverse().find((d) => VERSION.test(d));
  if (dir) return dir;
  const named = /(\d+(?:\.\d+){2,5})/.exec(base(ref.image))?.[1];
  if (named) return named;
  const ver = ctx.files.get(`${hit.slice(0, hit.lastIndexOf('/') + 1)}sip.ver`);
  const text = ver ? decodeLines(ver.bytes).find((l) => l.trim() !== '')?.trim() : undefined;
  return text && VERSION.test(text) ? text : undefined;
}

/**
 * Copies, release files and per-model policies for the images the input names. Images found
 * are no longer "skipped" files: the findings and dropped entries that said so are removed.
 */
export function planFirmware(ctx: ImportContext, refs: FirmwareRef[]): Map<string, Record<string, unknown>> {
  const out: ParsedFolder = ctx.out;
  const heads = new Map<string, Record<string, unknown>>();
  const releases = new Map<string, { models: Map<string, string>; everyModel: boolean }>();
  const chosen = new Map<string, FirmwareRef>();
  for (const ref of refs) {
    const prev = chosen.get(ref.model);
    if (!prev) chosen.set(ref.model, ref);
    else if (prev.image !== ref.image)
      out.findings.push({ code: 'IMPORT_FIRMWARE_SPLIT', severity: 'warning', message: `${ref.model}: phones of this model name different images (${prev.image} at ${prev.loc.file}:${prev.loc.line}, ${ref.image}); the model's policy pins the first`, loc: ref.loc });
  }
  for (const [model, ref] of chosen) {
    const hit = [...ctx.files.keys()].find((n) => base(n) === base(ref.image));
    const what = ref.vendor === 'avaya' ? 'APPNAME' : 'APP_FILE_PATH';
    if (!hit) {
      out.findings.push({ code: 'IMPORT_FIRMWARE_MISSING', severity: 'warning', message: `${model || `every ${ref.vendor} model`}: firmware ${ref.image} is not in the folder; no firmware policy written (copy the image to firmware/${ref.vendor}/<version>/ and pin it)`, loc: ref.loc });
      drop(ctx, ref.loc, what, `image ${ref.image} is not in the folder`);
      continue;
    }
    const version = versionOf(ctx, ref, hit);
    if (!version) {
      out.findings.push({ code: 'IMPORT_FIRMWARE_VERSION', severity: 'warning', message: `${model || `every ${ref.vendor} model`}: nothing says which version ${ref.image} is (no version in its name or path, no sip.ver beside it); no firmware policy written (put it under firmware/${ref.vendor}/<version>/ and pin it)`, loc: ref.loc });
      drop(ctx, ref.loc, what, `the version of ${ref.image} is unknown`);
      continue;
    }
    const dir = `firmware/${ref.vendor}/${version}`;
    let rel = releases.get(dir);
    if (!rel) {
      rel = { models: new Map(), everyModel: false };
      releases.set(dir, rel);
    }
    if (![...rel.models.values()].includes(base(ref.image))) out.copies.push({ path: `${dir}/${base(ref.image)}`, bytes: ctx.files.get(hit)!.bytes });
    if (model === '') rel.everyModel = true;
    else rel.models.set(model, base(ref.image));
    // Not "skipped" after all: the image is the firmware the input names.
    out.findings = out.findings.filter((f) => !(f.code === 'IMPORT_SKIPPED' && f.loc?.file === hit));
    out.dropped = out.dropped.filter((d: Dropped) => d.loc.file !== hit);
    out.used.set(hit, 0);
    heads.set(model, { policy: 'pinned', version });
  }
  // An image every model uses is served by the vendor's naming convention (sip.ld): a release.yaml would narrow it.
  for (const [dir, rel] of releases) if (!rel.everyModel && rel.models.size) out.copies.push(releaseFile(dir, rel.models));
  return heads;
}

function releaseFile(dir: string, models: Map<string, string>): CopiedFile {
  const lines = ['models:', ...[...models].map(([m, image]) => `  ${JSON.stringify(m)}: ${JSON.stringify(image)}`)];
  return { path: `${dir}/release.yaml`, bytes: new TextEncoder().encode(`${lines.join('\n')}\n`) };
}
