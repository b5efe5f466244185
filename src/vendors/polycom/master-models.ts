// The models Poly's master config (000000000000.cfg) may name, for its schemas: more than
// deskset provisions (templates/polycom/vendor.yaml), because the vendor's own files list
// legacy models too.

/**
 * Model names as they appear in `APPLICATION_<MODEL>` (the phone's own spelling, case
 * matters). Sources: the models UC Software 4.x-6.x knows, plus the legacy SoundPoint /
 * SoundStation entries (SPIP300/301/500/501/600/601, SSIP4000) that Poly's shipped
 * 000000000000.cfg still lists up to UCS 5.9.8 (realworld/polycom/adriacunanan06__...);
 * without them the vendor's own file would fail the schema. Add a model here, rerun
 * src/vendors/polycom/build-master-xsd.ts. Every model of templates/polycom/vendor.yaml must be here
 * (the vendor contract suite checks it).
 */
export const POLY_MODELS: readonly string[] = [
  // SoundPoint IP
  'SPIP300', 'SPIP301', 'SPIP320', 'SPIP321', 'SPIP330', 'SPIP331', 'SPIP335',
  'SPIP430', 'SPIP450', 'SPIP500', 'SPIP501', 'SPIP550', 'SPIP560',
  'SPIP600', 'SPIP601', 'SPIP650', 'SPIP670',
  // SoundStation IP / Duo
  'SSIP4000', 'SSIP5000', 'SSIP6000', 'SSIP7000', 'SSDuo',
  // VVX
  'VVX101', 'VVX150', 'VVX201', 'VVX250', 'VVX300', 'VVX301', 'VVX310', 'VVX311', 'VVX350',
  'VVX400', 'VVX401', 'VVX410', 'VVX411', 'VVX450', 'VVX500', 'VVX501', 'VVX600', 'VVX601',
  'VVX1500', 'VVXD60',
  // RealPresence Trio
  'Trio8300', 'Trio8500', 'Trio8800', 'TrioC60',
];

/** Models whose child may also name a bootblock image (only the VVX1500 has a separate one). */
export const BOOTBLOCK_MODELS: ReadonlySet<string> = new Set(['VVX1500']);

