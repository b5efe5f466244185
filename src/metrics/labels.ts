// Label values for request metrics, bounded by construction: whatever a client sends, a
// series is one of a fixed set of kinds, a status code deskset can answer, and one of the
// vendors the snapshot knows (MACs and paths never become labels: one scan of an OUI would
// create 16.7M series and take the scraper down with the server).

/** What a request was for. Rendered files carry their manifest scope (device, model, shared). */
export const KINDS = ['device', 'model', 'shared', 'firmware', 'resource', 'upload', 'uploaded', 'operator', 'none'] as const;
export type RequestKind = (typeof KINDS)[number];

// A Map, not an object: a kind named `constructor` must not find Object.prototype's.
const KIND_INDEX = new Map<string, number>(KINDS.map((k, i) => [k, i]));
const NONE = KINDS.indexOf('none');

/** The index of a kind; anything unforeseen counts as `none` rather than growing the set. */
export function kindIndex(kind: string | undefined): number {
  return (kind === undefined ? undefined : KIND_INDEX.get(kind)) ?? NONE;
}

/** Status codes 100..599 have a slot each; anything else (there is none today) shares one. */
export const STATUS_SLOTS = 501;

export function statusSlot(status: number): number {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? status - 100 : STATUS_SLOTS - 1;
}

export function statusLabel(slot: number): string {
  return slot === STATUS_SLOTS - 1 ? 'other' : String(slot + 100);
}

/** Distinct vendor labels kept; past it (a root with dozens of vendor folders) they share `other`. */
export const MAX_VENDORS = 32;

/** `unknown` when nobody could tell (no MAC, no User-Agent deskset recognises). */
export function vendorLabel(vendor: string | undefined): string {
  return vendor === undefined || vendor === '' ? 'unknown' : vendor;
}
