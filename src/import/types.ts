// Plain values passed between the import stages: input files in, per-subject effective
// settings in the middle, layered profile documents and a report out.

import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';

export type Vendor = 'avaya' | 'polycom' | 'yealink' | 'cisco' | 'grandstream' | 'snom';

export const VENDORS: readonly Vendor[] = ['avaya', 'polycom', 'yealink', 'cisco', 'grandstream', 'snom'];

/** Where a value came from in the input, which decides the layer it is written to before hoisting. */
export type Scope = 'global' | 'model' | 'group' | 'device';

/** One effective vendor parameter, as the phone would end up with it. */
export interface Param {
  key: string;
  value: string;
  loc: SourceLoc;
  scope: Scope;
  /** Comment lines directly above it in the source (without their comment markers' file syntax). */
  comments: string[];
}

/**
 * A phone the input describes (a device with a MAC), or a probe: a stand-in for the phones of a
 * model, group or "any phone" when the input holds shared files only. Probes are never written;
 * the round-trip check renders them to prove the shared layers.
 */
export interface Subject {
  id: string;
  vendor: Vendor;
  mac?: string;
  /** Catalog model name, when known. */
  model?: string;
  /** How the model was learned, for the report ("y000000000028.cfg", "--model", "CSV"). */
  modelFrom?: string;
  groups: string[];
  probe: boolean;
  /** Effective parameters in the order the phone applies them (later keys were set later). */
  params: Map<string, Param>;
  /** The rendered device file the round trip reads back (Cisco: "sep" or "profile"); default: every device file. */
  compare?: string;
  /** Firmware image the input points this subject at (file name inside the folder), if any. */
  firmware?: { image: string; loc: SourceLoc; everyModel?: boolean };
}

/** A parameter of the input that is not in the result, and why. */
export interface Dropped {
  loc: SourceLoc;
  key: string;
  reason: string;
}

/** A file copied as-is into the new root (resources/…, firmware/…). */
export interface CopiedFile {
  path: string;
  bytes: Uint8Array;
}

export interface InputFile {
  /** Path relative to the import folder, forward slashes; how every message names it. */
  name: string;
  bytes: Uint8Array;
}

export interface ParsedFolder {
  subjects: Subject[];
  dropped: Dropped[];
  findings: Diagnostic[];
  copies: CopiedFile[];
  /** Files read and understood, with their line counts (for the compression figure). */
  used: Map<string, number>;
  /** Firmware policy per model: model -> image file name in the folder. */
  firmware: Map<string, { image: string; loc: SourceLoc }>;
  /** Avaya group numbers seen in IF $GROUP branches. */
  groups: Map<string, { vendor: Vendor; description: string; settings: Record<string, unknown> }>;
}

export function emptyFolder(): ParsedFolder {
  return { subjects: [], dropped: [], findings: [], copies: [], used: new Map(), firmware: new Map(), groups: new Map() };
}
