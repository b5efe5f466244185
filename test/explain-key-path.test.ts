// `explain` key paths: vendor parameter names contain dots, so a path is resolved against the
// merged tree (longest matching key at each level), and a removed key resolves to its removal.

import { describe, expect, it } from 'vitest';
import { explainTree, resolveKeyPath } from '../src/config/explain.js';
import { mergeLayers, type Layer, type LayerKind } from '../src/config/merge.js';
import { parseYamlTree } from '../src/config/yaml-tree.js';

function layer(kind: LayerKind, name: string, file: string, text: string): Layer {
  const parsed = parseYamlTree(text, file);
  expect(parsed.diagnostics).toEqual([]);
  return { ref: { kind, name, file }, tree: parsed.root! };
}

const GROUP = `settings:
  polycom:
    params:
      call.autoAnswer.SIP: "1"
      call.autoAnswer: "x"
      up.screenSaver.enabled: "0"
      feature:
        enabled: "1"
      feature.enabled: "2"
`;
const DEVICE = `settings:
  polycom:
    params:
      call.autoAnswer.SIP: null
`;
const tree = mergeLayers([layer('group', 'support', 'groups/support.yaml', GROUP), layer('device', 'aa', 'devices/aa.yaml', DEVICE)]);

describe('resolveKeyPath', () => {
  it('a removed key whose name contains dots resolves to its removal', () => {
    const r = resolveKeyPath(tree, 'settings.polycom.params.call.autoAnswer.SIP');
    expect(r?.kind).toBe('removed');
    expect(r?.path).toEqual(['settings', 'polycom', 'params', 'call.autoAnswer.SIP']);
  });

  it('a dotted key next to a shorter key that is its prefix: the exact key wins', () => {
    const r = resolveKeyPath(tree, 'settings.polycom.params.call.autoAnswer');
    expect(r).toMatchObject({ kind: 'node', path: ['settings', 'polycom', 'params', 'call.autoAnswer'] });
  });

  it('a flat dotted key beats a nested path spelling the same name (longest key first)', () => {
    const r = resolveKeyPath(tree, 'settings.polycom.params.feature.enabled');
    expect(r).toMatchObject({ kind: 'node', path: ['settings', 'polycom', 'params', 'feature.enabled'] });
  });

  it('a value inside a dotted key', () => {
    expect(resolveKeyPath(tree, 'settings.polycom.params.up.screenSaver.enabled')).toMatchObject({ kind: 'node' });
  });

  it('a path that names nothing is undefined, also one that runs past a leaf', () => {
    expect(resolveKeyPath(tree, 'settings.polycom.params.call.autoAnswer.H323')).toBeUndefined();
    expect(resolveKeyPath(tree, 'settings.polycom.params.up.screenSaver.enabled.more')).toBeUndefined();
    expect(resolveKeyPath(tree, 'settings.polycom.param')).toBeUndefined();
  });
});

describe('explainTree with a dotted removed key', () => {
  it('shows the removal with the file:line that removed it and what it hid', () => {
    const e = explainTree(tree, { key: 'polycom.params.call.autoAnswer.SIP' });
    expect(e?.values).toEqual([]);
    expect(e?.removed).toEqual([
      {
        key: 'settings.polycom.params.call.autoAnswer.SIP',
        removedBy: { layer: 'device aa', at: 'devices/aa.yaml:4:7' },
        was: [{ value: '1', layer: 'group support', at: 'groups/support.yaml:4:7' }],
      },
    ]);
  });
});
