// Layers to profile files. Secrets become ${env:NAME} references with generated names (and a
// .env.example listing the names, never the values) unless inline secrets were asked for.
// Source comments travel as YAML comments above the key they describe.

import { Document, isMap, isScalar, Scalar, type YAMLMap } from 'yaml';
import { isSecretPath, type Entry, type LayerDoc, type Layers } from './layers.js';

export interface SecretRef {
  name: string;
  value: string;
  where: string;
}

/** Replace secret values by references; returns the names and values (for the check and the report). */
export function externalizeSecrets(layers: Layers, taken: ReadonlySet<string> = new Set()): SecretRef[] {
  const byName = new Map<string, SecretRef>();
  const byValueAndBase = new Map<string, string>();
  const ref = (base: string, value: string, where: string): string => {
    const bare = base.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'SECRET';
    // A device's scope is its MAC, which may start with a digit: no environment variable may.
    const clean = /^[0-9]/.test(bare) ? `DEVICE_${bare}` : bare;
    const known = byValueAndBase.get(`${clean}\u0000${value}`);
    if (known) return `\${env:${known}}`;
    let name = clean;
    // A name the root already uses (its own .env.example, ${env:…} in its profiles) stays theirs.
    for (let i = 2; byName.has(name) || taken.has(name); i++) name = `${clean}_${i}`;
    byName.set(name, { name, value, where });
    byValueAndBase.set(`${clean}\u0000${value}`, name);
    return `\${env:${name}}`;
  };
  const visit = (doc: LayerDoc, scope: string, where: string) => {
    for (const e of doc.values()) {
      if (e.value === null) continue;
      if (e.path[0] === 'lines' && Array.isArray(e.value)) {
        e.value = (e.value as Array<Record<string, string>>).map((l) =>
          l.password !== undefined && l.password !== '' ? { ...l, password: ref(`LINE_${l.extension}_PASSWORD`, l.password, where) } : l,
        );
      } else if (isSecretPath(e.path) && typeof e.value === 'string' && e.value !== '' && !/^\$\{/.test(e.value) && !/^\$[A-Za-z0-9_]+$/.test(e.value)) {
        const key = e.path[e.path.length - 1]!;
        e.value = ref(`${e.path.length > 1 ? e.path[0] : ''}_${scope}_${key}`, e.value, where);
      }
    }
  };
  visit(layers.global, '', 'profiles/global.yaml');
  for (const [m, doc] of layers.models) visit(doc, m, `profiles/models/${m}.yaml`);
  for (const [g, x] of layers.groups) visit(x.doc, g, `profiles/groups/${g}.yaml`);
  for (const [mac, d] of layers.devices) visit(d.doc, mac, `profiles/devices/${mac}.yaml`);
  return [...byName.values()];
}

export interface ProfileHead {
  description?: string;
  model?: string;
  groups?: string[];
  firmware?: Record<string, unknown>;
  /** A comment at the top of the file (e.g. asking for the model). */
  note?: string;
}

/** One profile file's YAML text. */
export function profileYaml(head: ProfileHead, doc: LayerDoc): string {
  const d = new Document({});
  const root = d.contents as YAMLMap;
  if (head.description !== undefined) d.set('description', head.description);
  if (head.model !== undefined) d.set('model', head.model);
  if (head.groups?.length) d.set('groups', d.createNode(head.groups, { flow: true }));
  if (head.firmware) d.set('firmware', head.firmware);
  const entries = [...doc.values()].sort(compareEntries);
  if (entries.length) {
    for (const e of entries) d.setIn(['settings', ...e.path], e.value);
    // A comment block travels once per file: three keys made from one parameter share it.
    const written = new Set<string>();
    for (const e of entries) {
      if (!e.comments.length || written.has(e.comments.join('\n'))) continue;
      written.add(e.comments.join('\n'));
      const parent = d.getIn(['settings', ...e.path.slice(0, -1)], true);
      if (!isMap(parent)) continue;
      const last = e.path[e.path.length - 1];
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
      if (!pair) continue;
      // setIn on an existing map adds plain keys, which cannot carry a comment.
      if (!isScalar(pair.key)) pair.key = new Scalar(last);
      if (isScalar(pair.key)) pair.key.commentBefore = e.comments.map((c) => ` ${c.replace(/[\r\n]+/g, ' ')}`).join('\n');
    }
  }
  if (head.note) d.commentBefore = ` ${head.note}`;
  void root;
  return d.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Vocabulary first (as docs/config.md lists it), then vendor maps; keys in source order. */
function compareEntries(a: Entry, b: Entry): number {
  const rank = (e: Entry) => ['sip', 'lines', 'time', 'language', 'admin_password'].indexOf(e.path[0]!);
  const ra = rank(a) === -1 ? 99 : rank(a);
  const rb = rank(b) === -1 ? 99 : rank(b);
  return ra - rb;
}

export function envExample(secrets: SecretRef[]): string {
  const lines = ['# Secrets found by deskset import. Set each in the environment deskset runs in;', '# the values are not written here or in any profile.'];
  for (const s of secrets) lines.push(`# used in ${s.where}`, `${s.name}=`);
  return `${lines.join('\n')}\n`;
}
