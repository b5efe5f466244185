// Scenario TW: each of deskset's faster twins of a library against the reference it stands in
// for, in ONE process over the same generated root, so the machine's load hits both alike.
//
//   yaml      parseYamlTree (js-yaml fast path, `yaml` for what it declines) vs parseWithYaml
//             (`yaml` alone), over every YAML file of the root
//   template  the closure compiler (CompiledTemplate.fn) vs Handlebars' own function for the same
//             text (CompiledTemplate.handlebars), over the contexts of every rendered file
//   merge     plainSettings (values only, shared prefixes cached) vs plainOf(resolveLayers(...))
//             (the provenance merge), over the layers of every rendered file
//
// Rounds alternate twin, reference, twin, reference, … after one unmeasured pass of each (the
// JIT, Handlebars' lazy compile, the merge's prefix cache). Reported per twin: the median time
// of each side, the ratio reference / twin of those medians and the median of the per-round
// paired ratios, and what the step weighs in the work around it: the snapshot build (start-up
// and reload) for YAML, rendering every file for templates and the merge. Rendering every file
// is also timed end to end with the templates switched to Handlebars' function. The scenario
// only measures: it never fails.

import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { log, median } from './lib.js';
import { round } from './servers.js';

/** The built modules of the package under `pkg` (the bench's private copy). */
async function modules(pkg) {
  const m = (rel) => import(pathToFileURL(path.join(pkg, 'dist', rel)).href);
  const [tree, fast, load, render, request, resolve, merge, plain] = await Promise.all([
    m('config/yaml-tree.js'),
    m('config/yaml-fast.js'),
    m('io/load-root.js'),
    m('render/render.js'),
    m('pipeline/request.js'),
    m('config/resolve.js'),
    m('config/merge.js'),
    m('config/plain-merge.js'),
  ]);
  return { tree, fast, load, render, request, resolve, merge, plain };
}

const timeMs = (fn) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

/**
 * `twin` and `reference` each do the whole step once per call. One unmeasured pass of each,
 * then `rounds` alternating measured passes.
 */
function interleaved(rounds, twin, reference) {
  const first = { twinMs: timeMs(twin), referenceMs: timeMs(reference) };
  const t = [];
  const r = [];
  for (let i = 0; i < rounds; i++) {
    t.push(timeMs(twin));
    r.push(timeMs(reference));
  }
  const paired = t.map((x, i) => r[i] / x);
  return {
    rounds,
    twinMs: round(median(t), 1),
    referenceMs: round(median(r), 1),
    ratio: round(median(r) / median(t), 2),
    ratioPaired: round(median(paired), 2),
    ratioRange: [round(Math.min(...paired), 2), round(Math.max(...paired), 2)],
    firstPass: { twinMs: round(first.twinMs, 1), referenceMs: round(first.referenceMs, 1) },
    roundsMs: { twin: t.map((x) => round(x, 1)), reference: r.map((x) => round(x, 1)) },
  };
}

export async function scenarioTW({ pkg, root, rounds = 7 }) {
  const mod = await modules(pkg);
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  const rf = await mod.load.readRoot(root);
  const out = { devices: undefined, rounds, loadAverageBefore: loadBefore };

  // ---- YAML: every profile and deskset.yaml as the snapshot build parses them ----
  const yamlFiles = [...rf.files].filter(([k]) => k.endsWith('.yaml'));
  const fastAnswered = yamlFiles.filter(([k, v]) => mod.fast.parseYamlFast(v, k) !== undefined).length;
  log(`TW: yaml, ${yamlFiles.length} files (the fast path answers ${fastAnswered}), ${rounds} rounds`);
  out.yaml = {
    files: yamlFiles.length,
    fastPathAnswers: fastAnswered,
    ...interleaved(
      rounds,
      () => yamlFiles.forEach(([k, v]) => mod.tree.parseYamlTree(v, k)),
      () => yamlFiles.forEach(([k, v]) => mod.tree.parseWithYaml(v, k)),
    ),
  };
  // What it weighs: the in-process snapshot build from files in memory (start-up after reading
  // the disk, and a global reload), which parses every one of those files once.
  let snap;
  const builds = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    snap = await mod.load.buildFromRoot(rf);
    builds.push(performance.now() - t0);
  }
  const buildMs = median(builds);
  out.yaml.snapshotBuildMs = round(buildMs, 0);
  out.yaml.shareOfBuild = round(out.yaml.twinMs / buildMs, 2);
  // The reference in the build's place: the build plus the difference of the two parses.
  out.yaml.buildWithReferenceMs = round(buildMs + out.yaml.referenceMs - out.yaml.twinMs, 0);
  out.yaml.buildRatio = round(out.yaml.buildWithReferenceMs / buildMs, 2);
  out.devices = snap.profiles.devices.size;
  log(`TW: yaml ${out.yaml.referenceMs} / ${out.yaml.twinMs} ms = ${out.yaml.ratio}x; snapshot build ${out.yaml.snapshotBuildMs} ms (${out.yaml.buildWithReferenceMs} ms with the reference)`);

  // ---- templates and the merge: every file `render` writes ----
  const targets = mod.request.allTargets(snap);
  const { renderTarget, templateKey } = mod.render;
  // Record the context each render hands its template (the same objects the server renders).
  const calls = [];
  let seen;
  const recording = new Map([...snap.render.templates].map(([k, v]) => [k, { ...v, fn: (ctx) => ((seen = ctx), v.fn(ctx)) }]));
  for (const t of targets) {
    seen = undefined;
    renderTarget({ ...snap.render, templates: recording }, t);
    const tpl = snap.render.templates.get(templateKey(t.file));
    if (seen !== undefined && tpl) calls.push({ tpl, ctx: seen });
  }
  const onFast = calls.filter((c) => c.tpl.engine === 'fast');
  log(`TW: templates, ${targets.length} files (${onFast.length} on the closure compiler, ${calls.length - onFast.length} on Handlebars), ${rounds} rounds`);
  out.template = {
    files: targets.length,
    onTwin: onFast.length,
    ...interleaved(
      rounds,
      () => onFast.forEach((c) => c.tpl.fn(c.ctx)),
      () => onFast.forEach((c) => c.tpl.handlebars(c.ctx)),
    ),
  };
  // End to end: every file rendered (merge, context, template, ETag), templates switched.
  const withHandlebars = { ...snap.render, templates: new Map([...snap.render.templates].map(([k, v]) => [k, { ...v, fn: v.handlebars }])) };
  const renderAll = interleaved(
    rounds,
    () => targets.forEach((t) => renderTarget(snap.render, t)),
    () => targets.forEach((t) => renderTarget(withHandlebars, t)),
  );
  out.template.renderAll = { twinMs: renderAll.twinMs, referenceMs: renderAll.referenceMs, ratio: renderAll.ratio, ratioPaired: renderAll.ratioPaired, ratioRange: renderAll.ratioRange };
  out.template.shareOfRender = round(out.template.twinMs / renderAll.twinMs, 2);
  log(`TW: template ${out.template.referenceMs} / ${out.template.twinMs} ms = ${out.template.ratio}x; rendering every file ${renderAll.referenceMs} / ${renderAll.twinMs} ms = ${renderAll.ratio}x`);

  const { layersFor, resolveLayers } = mod.resolve;
  const subjects = targets.map((t) => t.subject ?? { known: false, vendor: t.file.vendor, model: t.model, groups: [] });
  const layerLists = subjects.map((s) => ({ layers: layersFor(snap.profiles, snap.config.layers, s), known: s.known }));
  log(`TW: merge, ${layerLists.length} files' settings, ${rounds} rounds`);
  out.merge = {
    files: layerLists.length,
    ...interleaved(
      rounds,
      () => layerLists.forEach((l) => mod.plain.plainSettings(snap.profiles, l.layers, l.known)),
      () =>
        layerLists.forEach((l) => {
          const n = resolveLayers(l.layers, l.known).children.get('settings');
          return n ? mod.merge.plainOf(n) : undefined;
        }),
    ),
  };
  out.merge.renderAllMs = renderAll.twinMs;
  out.merge.shareOfRender = round(out.merge.twinMs / renderAll.twinMs, 2);
  out.merge.renderAllWithReferenceMs = round(renderAll.twinMs + out.merge.referenceMs - out.merge.twinMs, 0);
  out.merge.renderRatio = round(out.merge.renderAllWithReferenceMs / renderAll.twinMs, 2);
  log(`TW: merge ${out.merge.referenceMs} / ${out.merge.twinMs} ms = ${out.merge.ratio}x; rendering every file ${out.merge.renderAllWithReferenceMs} ms with the reference, ${renderAll.twinMs} ms with the twin`);
  out.loadAverageAfter = os.loadavg().map((x) => round(x, 2));
  return out;
}
