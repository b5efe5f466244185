// docs/monitoring/: the Grafana dashboard and the Prometheus alert rules use only metrics the
// registry really exports (a renamed metric would leave an empty panel and an alert that can
// never fire), the rules are well-formed, and, where promtool is installed, Prometheus' own
// checker accepts them and their unit tests (test/fixtures/monitoring/) fire as expected.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics/index.js';
import { REPO } from './helpers/cli.js';

const DIR = path.join(REPO, 'docs', 'monitoring');
const RULES_FILE = path.join(DIR, 'deskset-alerts.yml');
const RULE_TESTS = path.join(REPO, 'test', 'fixtures', 'monitoring', 'deskset-alerts.promtest.yml');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(readFileSync(path.join(DIR, 'deskset-dashboard.json'), 'utf8')) as { panels: Panel[]; templating: { list: Array<{ query?: unknown; definition?: string }> } };
const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);

/** Metric names a PromQL expression reads (ours and the process metrics; `up` is Prometheus' own). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:deskset|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** Every sample name the registry can export: its metrics, plus _bucket/_sum/_count for histograms. */
async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of (await new Metrics().text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return names;
}

let known: Set<string>;
beforeAll(async () => {
  known = await exported();
});

describe('every metric the monitoring files use exists', () => {
  it('finds a misspelled one (the check can fail)', () => {
    const used = metricNames('rate(deskset_requests_totl[5m]) / deskset_requests_total');
    expect(used).toEqual(['deskset_requests_totl', 'deskset_requests_total']);
    expect(used.filter((n) => !known.has(n))).toEqual(['deskset_requests_totl']);
  });

  it('in the Grafana dashboard', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    exprs.push(...dashboard.templating.list.map((v) => v.definition ?? '').filter(Boolean));
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
  });

  it('in the alert rules', () => {
    const used = new Set(rules.flatMap((r) => metricNames(r.expr)));
    expect(used.size).toBeGreaterThan(4);
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  it('has unique panel ids, a query on every panel, and panels inside the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refs = p.targets!.map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
    }
  });

  it('never groups by a MAC or a path (there are no such labels)', () => {
    const text = JSON.stringify(dashboard);
    expect(text).not.toMatch(/by \([^)]*\b(mac|path|ip)\b/);
  });
});

describe('the alert rules', () => {
  it('cover what the issue asks for: reload failing, snapshot too old, error rate, phones failing', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining(['DesksetReloadFailing', 'DesksetSnapshotBehind', 'DesksetSnapshotOlderThanExpected', 'DesksetErrorRate', 'DesksetPhonesFailing']));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s has an expression, a severity and a summary', (_name, r) => {
    expect(r.expr.trim()).not.toBe('');
    expect(['critical', 'warning', 'info']).toContain(r.labels?.severity);
    expect(r.annotations?.summary).toBeTruthy();
    if (r.for) expect(r.for).toMatch(/^\d+[smh]$/);
  });
});

/** promtool from PATH or $PROMTOOL (Debian's `prometheus` package ships it, but it is 96 MB). */
function findPromtool(): string | undefined {
  const candidates = [process.env.PROMTOOL, ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'promtool'))].filter((p): p is string => !!p);
  return candidates.find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
const PROMTOOL = findPromtool();
if (!PROMTOOL) console.log('monitoring: skipping promtool checks (promtool not installed; set PROMTOOL=/path/to/promtool)');

describe.skipIf(!PROMTOOL)('promtool', () => {
  it('check rules accepts the alert rules', () => {
    const r = spawnSync(PROMTOOL!, ['check', 'rules', RULES_FILE], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('test rules: each alert fires when it should and not before', () => {
    const r = spawnSync(PROMTOOL!, ['test', 'rules', RULE_TESTS], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });
});
