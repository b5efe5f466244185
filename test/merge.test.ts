// The layered merge with provenance (src/config/merge.ts), driven by real YAML through
// parseYamlTree so every origin carries a true file:line:col.
//   maps merge deeply; scalars and lists replace; explicit null removes an inherited key;
//   every leaf keeps the layer and file:line:col that set it and what it overrode, newest first.

import { describe, expect, it } from 'vitest';
import { findPath, flattenLeaves, mergeLayers, plainOf, type EMap, type ENode, type Layer, type LayerKind } from '../src/config/merge.js';
import { toPlain, parseYamlTree, type PNode } from '../src/config/yaml-tree.js';

function layer(kind: LayerKind, name: string, file: string, text: string): Layer {
  const parsed = parseYamlTree(text, file);
  expect(parsed.diagnostics).toEqual([]);
  expect(parsed.root?.kind).toBe('map');
  return { ref: { kind, name, file }, tree: parsed.root! };
}

function leafAt(root: EMap, dotted: string) {
  const found = findPath(root, dotted);
  expect(found, `no value at ${dotted}`).toBeDefined();
  expect(found!.node.kind).toBe('leaf');
  return found!.node as Extract<ENode, { kind: 'leaf' }>;
}

function valueAt(root: EMap, dotted: string): unknown {
  const found = findPath(root, dotted);
  return found ? plainOf(found.node) : undefined;
}

const at = (o: { loc: { file: string; line: number; col: number } }) => `${o.loc.file}:${o.loc.line}:${o.loc.col}`;

/** A deep, order-preserving dump of a PNode tree (Maps included) to compare before/after. */
function dump(n: PNode): unknown {
  switch (n.kind) {
    case 'scalar':
      return { s: n.value, loc: n.loc };
    case 'list':
      return { l: n.items.map(dump), loc: n.loc };
    case 'map':
      return { m: [...n.entries].map(([k, e]) => [k, e.keyLoc, dump(e.node)]), loc: n.loc };
  }
}

const GLOBAL = `description: defaults
settings:
  sip:
    server: pbx.example
    port: 5061
    transport: tls
  time:
    zone: America/New_York
    ntp: [0.pool.ntp.org, 1.pool.ntp.org]
  language: en
`;

const SITE = `settings:
  sip:
    server: pbx-lis.example
  time:
    ntp: [pt.pool.ntp.org]
`;

describe('mergeLayers: maps merge deeply', () => {
  it('keeps sibling keys a higher layer does not mention', () => {
    const root = mergeLayers([layer('global', 'global', 'global.yaml', GLOBAL), layer('site', 'lisbon', 'sites/lisbon.yaml', SITE)]);
    expect(valueAt(root, 'settings.sip')).toEqual({ server: 'pbx-lis.example', port: 5061, transport: 'tls' });
    expect(valueAt(root, 'settings.time.zone')).toBe('America/New_York');
    expect(valueAt(root, 'settings.language')).toBe('en');
    expect(valueAt(root, 'description')).toBe('defaults');
  });

  it('merges three levels deep and adds keys only a higher layer has', () => {
    const a = layer('global', 'global', 'g.yaml', 'settings:\n  polycom:\n    params:\n      a: "1"\n      b: "2"\n');
    const b = layer('model', 'VVX450', 'm.yaml', 'settings:\n  polycom:\n    params:\n      b: "20"\n      c: "30"\n  language: de\n');
    const root = mergeLayers([a, b]);
    expect(plainOf(root)).toEqual({ settings: { polycom: { params: { a: '1', b: '20', c: '30' } }, language: 'de' } });
  });

  it('keeps the first place of a key overridden later (stable order for diffs)', () => {
    const a = layer('global', 'global', 'g.yaml', 'settings:\n  yealink:\n    params:\n      x: 1\n      y: 2\n');
    const b = layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  yealink:\n    params:\n      z: 3\n      x: 10\n');
    const root = mergeLayers([a, b]);
    expect(Object.keys(valueAt(root, 'settings.yealink.params') as object)).toEqual(['x', 'y', 'z']);
    expect(valueAt(root, 'settings.yealink.params.x')).toBe(10);
  });
});

describe('mergeLayers: scalars and lists replace', () => {
  it('replaces a scalar, whatever its type', () => {
    const root = mergeLayers([
      layer('global', 'global', 'g.yaml', 'settings:\n  sip:\n    port: 5061\n    transport: tls\n'),
      layer('site', 'lisbon', 's.yaml', 'settings:\n  sip:\n    port: "5060"\n    transport: udp\n'),
    ]);
    expect(valueAt(root, 'settings.sip.port')).toBe('5060');
    expect(valueAt(root, 'settings.sip.transport')).toBe('udp');
  });

  it('replaces a list as a whole: never concatenated, never merged by index', () => {
    const root = mergeLayers([layer('global', 'global', 'global.yaml', GLOBAL), layer('site', 'lisbon', 'sites/lisbon.yaml', SITE)]);
    expect(valueAt(root, 'settings.time.ntp')).toEqual(['pt.pool.ntp.org']);
    const leaf = leafAt(root, 'settings.time.ntp');
    expect(leaf.node.kind).toBe('list');
    expect(leaf.overridden.map((p) => p.value)).toEqual([['0.pool.ntp.org', '1.pool.ntp.org']]);
  });

  it('replaces a list of maps (lines) whole: a device with one line does not inherit line 2', () => {
    const root = mergeLayers([
      layer('group', 'sales', 'g.yaml', 'settings:\n  lines:\n    - {extension: "1", password: p1}\n    - {extension: "2", password: p2}\n'),
      layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  lines:\n    - {extension: "9"}\n'),
    ]);
    expect(valueAt(root, 'settings.lines')).toEqual([{ extension: '9' }]);
  });

  it('a scalar replaces a map, and a later map replaces that scalar without resurrecting the old map', () => {
    const root = mergeLayers([
      layer('global', 'global', 'g.yaml', 'settings:\n  custom:\n    a: 1\n'),
      layer('site', 'nyc', 's.yaml', 'settings:\n  custom: 5\n'),
      layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  custom:\n    b: 2\n'),
    ]);
    expect(valueAt(root, 'settings.custom')).toEqual({ b: 2 });
    const custom = findPath(root, 'settings.custom')!.node as EMap;
    expect(custom.kind).toBe('map');
    expect(custom.overridden.map((p) => [p.value, p.origin.layer.kind])).toEqual([
      [5, 'site'],
      [{ a: 1 }, 'global'],
    ]);
  });
});

describe('mergeLayers: explicit null removes an inherited key', () => {
  const device = layer('device', '2cf4c5001122', 'devices/2cf4c5001122.yaml', 'model: J179\nsettings:\n  time:\n    ntp: null\n');

  it('removes the key, leaves its siblings', () => {
    const root = mergeLayers([layer('global', 'global', 'global.yaml', GLOBAL), layer('site', 'lisbon', 'sites/lisbon.yaml', SITE), device]);
    expect(findPath(root, 'settings.time.ntp')).toBeUndefined();
    expect(valueAt(root, 'settings.time')).toEqual({ zone: 'America/New_York' });
    expect(flattenLeaves(root).map((f) => f.path.join('.'))).not.toContain('settings.time.ntp');
  });

  it('records the removal: who removed it (file:line:col of the key) and everything it hid, newest first', () => {
    const root = mergeLayers([layer('global', 'global', 'global.yaml', GLOBAL), layer('site', 'lisbon', 'sites/lisbon.yaml', SITE), device]);
    const time = findPath(root, 'settings.time')!.node as EMap;
    expect(time.removed).toHaveLength(1);
    const r = time.removed[0]!;
    expect(r.key).toBe('ntp');
    expect(r.origin.layer).toEqual({ kind: 'device', name: '2cf4c5001122', file: 'devices/2cf4c5001122.yaml' });
    expect(at(r.origin)).toBe('devices/2cf4c5001122.yaml:4:5');
    expect(r.previous.map((p) => ({ value: p.value, layer: p.origin.layer.kind, at: at(p.origin) }))).toEqual([
      { value: ['pt.pool.ntp.org'], layer: 'site', at: 'sites/lisbon.yaml:5:5' },
      { value: ['0.pool.ntp.org', '1.pool.ntp.org'], layer: 'global', at: 'global.yaml:9:5' },
    ]);
  });

  it('the `~` and empty-value spellings of null remove too', () => {
    const base = layer('global', 'global', 'g.yaml', 'settings:\n  language: en\n  admin_password: x\n');
    const root = mergeLayers([base, layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  language: ~\n  admin_password:\n')]);
    expect(findPath(root, 'settings.language')).toBeUndefined();
    expect(findPath(root, 'settings.admin_password')).toBeUndefined();
    const settings = findPath(root, 'settings')!.node as EMap;
    expect(settings.removed.map((r) => r.key).sort()).toEqual(['admin_password', 'language']);
  });

  it('removes a whole inherited map (and says what the map was)', () => {
    const root = mergeLayers([
      layer('group', 'support', 'support.yaml', 'settings:\n  polycom:\n    params:\n      "call.autoAnswer.SIP": "1"\n'),
      layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  polycom: null\n'),
    ]);
    expect(findPath(root, 'settings.polycom')).toBeUndefined();
    const settings = findPath(root, 'settings')!.node as EMap;
    expect(settings.removed[0]!.key).toBe('polycom');
    expect(settings.removed[0]!.previous[0]!.value).toEqual({ params: { 'call.autoAnswer.SIP': '1' } });
  });

  it('a null for a key nobody set leaves no value behind', () => {
    const root = mergeLayers([layer('global', 'global', 'g.yaml', 'settings:\n  language: en\n'), layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  time: {ntp: null}\n')]);
    expect(findPath(root, 'settings.time.ntp')).toBeUndefined();
    expect(flattenLeaves(root).map((f) => f.path.join('.'))).toEqual(['settings.language']);
  });

  it('a key removed by one layer can be set again by a higher one', () => {
    const root = mergeLayers([
      layer('global', 'global', 'g.yaml', 'settings:\n  language: en\n'),
      layer('group', 'sales', 'grp.yaml', 'settings:\n  language: null\n'),
      layer('device', 'aabbccddeeff', 'd.yaml', 'settings:\n  language: fr\n'),
    ]);
    expect(valueAt(root, 'settings.language')).toBe('fr');
    expect(leafAt(root, 'settings.language').origin.layer.kind).toBe('device');
  });
});

describe('mergeLayers: groups merge in the order the device lists them', () => {
  const sales = layer('group', 'sales', 'groups/sales.yaml', 'settings:\n  polycom:\n    params:\n      "call.autoAnswer.SIP": "0"\n      "only.sales": "s"\n');
  const support = layer('group', 'support', 'groups/support.yaml', 'settings:\n  polycom:\n    params:\n      "call.autoAnswer.SIP": "1"\n');

  it('the later group wins', () => {
    const root = mergeLayers([sales, support]);
    expect(valueAt(root, 'settings.polycom.params.call.autoAnswer.SIP')).toBe('1');
    expect(leafAt(root, 'settings.polycom.params.call.autoAnswer.SIP').origin.layer.name).toBe('support');
    expect(valueAt(root, 'settings.polycom.params.only.sales')).toBe('s');
  });

  it('and the other order gives the other answer', () => {
    const root = mergeLayers([support, sales]);
    expect(valueAt(root, 'settings.polycom.params.call.autoAnswer.SIP')).toBe('0');
    const leaf = leafAt(root, 'settings.polycom.params.call.autoAnswer.SIP');
    expect(leaf.origin.layer.name).toBe('sales');
    expect(leaf.overridden.map((p) => [p.origin.layer.name, p.value])).toEqual([['support', '1']]);
  });
});

describe('provenance', () => {
  const layers = [
    layer('global', 'global', 'profiles/global.yaml', 'settings:\n  sip:\n    server: g.example\n'),
    layer('model', 'J179', 'profiles/models/J179.yaml', '# J179\n\nsettings:\n  sip:\n    server: m.example\n'),
    layer('group', 'support', 'profiles/groups/support.yaml', 'description: x\nsettings:\n  sip: {server: grp.example}\n'),
    layer('site', 'nyc', 'profiles/sites/nyc.yaml', 'settings:\n    sip:\n        server:   "s.example"\n'),
    layer('device', 'c81fea83e85a', 'profiles/devices/c81fea83e85a.yaml', 'model: J179\nsettings:\n  sip:\n    server: d.example\n'),
  ];

  it('the winning leaf names its layer and the file:line:col of its key and of its value', () => {
    const leaf = leafAt(mergeLayers(layers), 'settings.sip.server');
    expect(toPlain(leaf.node)).toBe('d.example');
    expect(leaf.origin.layer).toEqual({ kind: 'device', name: 'c81fea83e85a', file: 'profiles/devices/c81fea83e85a.yaml' });
    expect(at(leaf.origin)).toBe('profiles/devices/c81fea83e85a.yaml:4:5');
    expect(`${leaf.origin.valueLoc.file}:${leaf.origin.valueLoc.line}:${leaf.origin.valueLoc.col}`).toBe('profiles/devices/c81fea83e85a.yaml:4:13');
  });

  it('overridden lists every earlier value, newest first, each with its own file:line:col', () => {
    const leaf = leafAt(mergeLayers(layers), 'settings.sip.server');
    expect(leaf.overridden.map((p) => `${p.origin.layer.kind} ${p.origin.layer.name} ${at(p.origin)} ${String(p.value)}`)).toEqual([
      'site nyc profiles/sites/nyc.yaml:3:9 s.example',
      'group support profiles/groups/support.yaml:3:9 grp.example',
      'model J179 profiles/models/J179.yaml:5:5 m.example',
      'global global profiles/global.yaml:3:5 g.example',
    ]);
  });

  it('a value set once has an empty history', () => {
    const root = mergeLayers([...layers, layer('device', 'x', 'x.yaml', 'settings:\n  language: de\n')]);
    expect(leafAt(root, 'settings.language').overridden).toEqual([]);
  });

  it('flattenLeaves lists every effective leaf with its full key path', () => {
    const root = mergeLayers([layer('global', 'global', 'global.yaml', GLOBAL), layer('site', 'lisbon', 'sites/lisbon.yaml', SITE)]);
    const flat = flattenLeaves(root).map((f) => [f.path.join('/'), f.leaf.origin.layer.kind]);
    expect(flat).toEqual([
      ['description', 'global'],
      ['settings/sip/server', 'site'],
      ['settings/sip/port', 'global'],
      ['settings/sip/transport', 'global'],
      ['settings/time/zone', 'global'],
      ['settings/time/ntp', 'site'],
      ['settings/language', 'global'],
    ]);
  });
});

describe('findPath: dotted keys whose keys contain dots', () => {
  const root = mergeLayers([
    layer('global', 'global', 'g.yaml', 'settings:\n  polycom:\n    params:\n      "call.autoAnswer": "x"\n      "call.autoAnswer.SIP": "1"\n      "dialplan.digitmap": "xxxx"\n'),
    layer('site', 's', 's.yaml', 'settings:\n  custom:\n    a:\n      b: 1\n    "a.c": 2\n'),
  ]);

  it('finds polycom.params key call.autoAnswer.SIP and returns the real key path', () => {
    const found = findPath(root, 'settings.polycom.params.call.autoAnswer.SIP');
    expect(found).toBeDefined();
    expect(found!.path).toEqual(['settings', 'polycom', 'params', 'call.autoAnswer.SIP']);
    expect(plainOf(found!.node)).toBe('1');
  });

  it('a key that is a prefix of another key is found exactly', () => {
    const found = findPath(root, 'settings.polycom.params.call.autoAnswer');
    expect(found!.path).toEqual(['settings', 'polycom', 'params', 'call.autoAnswer']);
    expect(plainOf(found!.node)).toBe('x');
  });

  it('backtracks when a nested map does not hold the rest of the path', () => {
    const found = findPath(root, 'settings.custom.a.c');
    expect(found!.path).toEqual(['settings', 'custom', 'a.c']);
    expect(plainOf(found!.node)).toBe(2);
    expect(findPath(root, 'settings.custom.a.b')!.path).toEqual(['settings', 'custom', 'a', 'b']);
  });

  it('flattenLeaves keeps a dotted key as one path element', () => {
    const paths = flattenLeaves(root).map((f) => f.path);
    expect(paths).toContainEqual(['settings', 'polycom', 'params', 'call.autoAnswer.SIP']);
  });

  it('unknown paths, partial keys and paths through a leaf give undefined', () => {
    expect(findPath(root, 'settings.polycom.params.call.auto')).toBeUndefined();
    expect(findPath(root, 'settings.polycom.params.call')).toBeUndefined();
    expect(findPath(root, 'settings.polycom.params.dialplan.digitmap.more')).toBeUndefined();
    expect(findPath(root, 'nothing')).toBeUndefined();
  });

  it('the empty path is the root', () => {
    expect(findPath(root, '')?.node).toBe(root);
  });
});

describe('purity', () => {
  it('does not modify the input trees, and merging twice gives the same result', () => {
    const inputs = [
      layer('global', 'global', 'global.yaml', GLOBAL),
      layer('site', 'lisbon', 'sites/lisbon.yaml', SITE),
      layer('device', 'd', 'd.yaml', 'settings:\n  time:\n    ntp: null\n  sip: 5\n  custom: {a: {b: [1, 2]}}\n'),
    ];
    const before = inputs.map((l) => JSON.stringify(dump(l.tree)));
    const first = mergeLayers(inputs);
    const second = mergeLayers(inputs);
    expect(inputs.map((l) => JSON.stringify(dump(l.tree)))).toEqual(before);
    expect(plainOf(second)).toEqual(plainOf(first));
    expect(flattenLeaves(second).map((f) => [f.path, f.leaf.overridden.length])).toEqual(flattenLeaves(first).map((f) => [f.path, f.leaf.overridden.length]));
  });

  it('changing a merged result does not reach the layers or a later merge', () => {
    const inputs = [layer('global', 'global', 'global.yaml', GLOBAL), layer('site', 'lisbon', 'sites/lisbon.yaml', SITE)];
    const before = inputs.map((l) => JSON.stringify(dump(l.tree)));
    const first = mergeLayers(inputs);
    (findPath(first, 'settings.sip')!.node as EMap).children.clear();
    first.children.delete('description');
    expect(inputs.map((l) => JSON.stringify(dump(l.tree)))).toEqual(before);
    const again = mergeLayers(inputs);
    expect(valueAt(again, 'settings.sip.port')).toBe(5061);
    expect(valueAt(again, 'description')).toBe('defaults');
  });

  it('layers that are not maps are ignored, an empty list of layers gives an empty map', () => {
    expect(plainOf(mergeLayers([]))).toEqual({});
    const list = parseYamlTree('- a\n- b\n', 'x.yaml').root!;
    expect(plainOf(mergeLayers([{ ref: { kind: 'global', name: 'global', file: 'x.yaml' }, tree: list }]))).toEqual({});
  });
});
