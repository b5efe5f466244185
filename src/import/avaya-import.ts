// Avaya scripts, read with the parser `lint` uses and run the way a phone runs them: top to
// bottom, GOTO jumps, IF compares a phone property, GET continues in another file (and resumes
// here when that file is absent). Running the script for "any phone", for each model it names
// and for each group gives the global, model and group layers; <mac>.txt files give devices.
// Conditions deskset has no layer for ($SIG, $IPADD, models outside the catalog) are copied
// verbatim into an overlay resource, with a warning.

import { normalizeMac } from '../config/mac.js';
import { parseAvayaScript, type ParsedScript, type Statement } from '../vendors/avaya/script/index.js';
import { drop, markUsed, modelFor, newSubject, param, resolveRef, setLast, unknownModel, warn, type ImportContext } from './context.js';
import { decodeLines } from './text.js';
import type { Param, Subject } from './types.js';
import { baseName } from './yealink-import.js';

interface Env {
  MODEL4?: string;
  GROUP?: string;
  MACADDR?: string;
}

interface Script {
  name: string;
  parsed: ParsedScript;
  labels: Map<string, number>;
}

export const OVERLAY = 'avaya-overlay.txt';

const UPGRADE = /upgrade\.txt$/i;

export function isAvayaUpgrade(name: string): boolean {
  return UPGRADE.test(baseName(name));
}

export function importAvaya(ctx: ImportContext, names: string[]): Subject[] {
  const scripts = new Map<string, Script>();
  const load = (name: string): Script => {
    let s = scripts.get(name);
    if (!s) {
      const lines = decodeLines(ctx.files.get(name)!.bytes);
      const parsed = parseAvayaScript(lines.join('\n'), name);
      const labels = new Map<string, number>();
      parsed.statements.forEach((st, i) => {
        if (st.kind === 'label' && !labels.has(st.name.toUpperCase())) labels.set(st.name.toUpperCase(), i);
      });
      // A value an editor wrapped onto the next line: the phone reads that line as a comment.
      for (const st of parsed.statements) {
        const next = lines[st.line];
        if (st.kind === 'set' && st.raw === '' && next !== undefined && /^[ \t]+\S|^"/.test(next) && !/^[ \t]*(SET|ADD|IF|GOTO|GET|#)/i.test(next))
          warn(ctx, 'IMPORT_WRAPPED_VALUE', `${st.name} has no value and line ${st.line + 1} looks like its value wrapped by an editor; phones read that line as a comment, so ${st.name} is imported empty`, { file: name, line: st.line + 1, col: 1 });
      }
      for (const d of parsed.diagnostics) if (d.severity === 'error') ctx.out.findings.push({ ...d, severity: 'warning', message: `${d.message} (the phone skips it; not imported)` });
      s = { name, parsed, labels };
      scripts.set(name, s);
      markUsed(ctx, name, lines.length);
    }
    return s;
  };

  const catalogModel4 = new Map<string, string>(); // model4 -> catalog name
  for (const m of ctx.catalog.vendor('avaya')?.models ?? []) catalogModel4.set(String(m.fields.model4 ?? m.name).toUpperCase(), m.name);

  // Which scripts start a chain: upgrade scripts (they GET the settings file), else settings files
  // no other script GETs.
  for (const n of names) load(n);
  const gotten = new Set<string>();
  for (const s of scripts.values())
    for (const st of s.parsed.statements) if (st.kind === 'get' && !st.file.includes('$')) {
      const hit = resolveRef(ctx, s.name, st.file);
      if (hit) gotten.add(hit);
    }
  const perMac = new Map<string, string>();
  for (const n of names) {
    const mac = normalizeMac(baseName(n).replace(/\.txt$/i, ''));
    if (mac) perMac.set(mac, n);
  }
  const entries = names.filter((n) => !gotten.has(n) && ![...perMac.values()].includes(n));
  const upgrades = entries.filter(isAvayaUpgrade);
  const starts = upgrades.length ? upgrades : entries;
  if (starts.length > 1) warn(ctx, 'IMPORT_SEVERAL_ENTRIES', `several Avaya scripts start a chain (${starts.join(', ')}); they are read one after another in that order`, { file: starts[1]!, line: 1, col: 1 });

  const executed = new Set<string>(); // "file:line" of SETs some run executed
  const overlay = new Map<string, { file: string; ifLine: number; from: number; to: number; why: string }>();
  const firmware = new Map<string, { image: string; loc: { file: string; line: number; col: number } }>();
  const models = new Set<string>();
  const groups = new Set<string>();

  /** Run a chain for one phone; `record` collects firmware and overlay only once (base run). */
  const run = (env: Env): Map<string, Param> => {
    const params = new Map<string, Param>();
    for (const st of starts) exec(load(st), env, params, 0);
    return params;
  };

  const exec = (s: Script, env: Env, params: Map<string, Param>, depth: number): boolean => {
    const sts = s.parsed.statements;
    let steps = 0;
    for (let pc = 0; pc < sts.length; pc++) {
      if (++steps > 100_000) break; // A backward GOTO loop: stop, lint reports it.
      const st = sts[pc]!;
      if (st.kind === 'set') {
        executed.add(`${s.name}:${st.line}`);
        if (st.keyword === 'ADD') continue; // reported below: templates write SET only
        if (/^APPNAME$/i.test(st.name)) {
          if (env.MODEL4) firmware.set(env.MODEL4, { image: st.value, loc: { file: s.name, line: st.line, col: st.col } });
          continue;
        }
        setLast(params, param(st.name, st.value, { file: s.name, line: st.line, col: st.nameCol }, 'global', commentsAbove(s.parsed, st.line)));
      } else if (st.kind === 'goto') {
        const to = s.labels.get(st.label.toUpperCase());
        if (to !== undefined) pc = to;
      } else if (st.kind === 'if') {
        const taken = decide(s, st, env);
        if (taken) {
          const to = s.labels.get(st.label.toUpperCase());
          if (to !== undefined) pc = to;
        }
      } else if (st.kind === 'get') {
        if (depth > 8) continue;
        let file = st.file;
        if (/\$MACADDR/i.test(file)) {
          if (!env.MACADDR) continue;
          file = file.replace(/\$MACADDR/gi, env.MACADDR);
        }
        if (file.includes('$')) continue;
        const hit = resolveRef(ctx, s.name, file);
        // The phone stops this file and reads the other; when that fails it carries on here.
        if (hit) {
          exec(load(hit), env, params, depth + 1);
          return true;
        }
      }
    }
    return false;
  };

  const decide = (s: Script, st: Extract<Statement, { kind: 'if' }>, env: Env): boolean => {
    const variable = st.variable.toUpperCase();
    const values = st.value.split('|').map((v) => v.trim().toUpperCase());
    if (variable === '$MODEL4' || variable === '$MODEL') {
      const known = values.filter((v) => catalogModel4.has(v));
      for (const v of known) models.add(v);
      if (known.length < values.length) block(s, st, `model ${values.filter((v) => !catalogModel4.has(v)).join('|')} is not a deskset model (the catalog has ${[...catalogModel4.values()].join(', ')})`);
      return env.MODEL4 !== undefined && known.includes(env.MODEL4.toUpperCase());
    }
    if (variable === '$GROUP') {
      for (const v of values) groups.add(v);
      return env.GROUP !== undefined && values.includes(env.GROUP);
    }
    block(s, st, `a condition on ${st.variable} has no deskset layer`);
    return false;
  };

  /** The IF line and the block it jumps to (to the next GOTO or label), for the overlay. */
  const block = (s: Script, st: Extract<Statement, { kind: 'if' }>, why: string): void => {
    const key = `${s.name}:${st.line}`;
    if (overlay.has(key)) return;
    const sts = s.parsed.statements;
    const at = s.labels.get(st.label.toUpperCase());
    let to = st.line;
    if (at !== undefined) {
      to = sts[at]!.line;
      for (let i = at + 1; i < sts.length; i++) {
        const x = sts[i]!;
        if (x.kind === 'label') break;
        to = x.line;
        if (x.kind === 'goto') break;
      }
    }
    overlay.set(key, { file: s.name, ifLine: st.line, from: at !== undefined ? sts[at]!.line : st.line, to, why: `IF ${st.variable} SEQ ${st.value} (line ${st.line}): ${why}` });
    // One warning per file and reason: the official template has dozens of model branches.
    const kind = `${s.name}\u0000${why.replace(/^model \S+/, 'model')}`;
    const seen = overlayWarnings.get(kind);
    if (seen) seen.lines.push(st.line);
    else overlayWarnings.set(kind, { file: s.name, lines: [st.line], col: st.col, why, variable: st.variable });
  };
  const overlayWarnings = new Map<string, { file: string; lines: number[]; col: number; why: string; variable: string }>();

  const subjects: Subject[] = [];
  const base = run({});
  const anyModel = [...(ctx.catalog.vendor('avaya')?.models ?? [])].map((m) => m.name);
  for (const m4 of [...models].sort()) {
    const name = catalogModel4.get(m4)!;
    subjects.push(newSubject(`${name} (probe)`, 'avaya', { model: name, modelFrom: 'IF $MODEL4', probe: true, params: scoped(run({ MODEL4: m4 }), base, 'model') }));
  }
  const modelProbes = new Set(subjects.map((s) => s.model));
  const plain = anyModel.find((m) => !modelProbes.has(m));
  // "Any phone": the base run, shown by a model with no branch of its own.
  if (plain && base.size) subjects.push(newSubject(`any ${plain} (probe)`, 'avaya', { model: plain, modelFrom: 'no IF $MODEL4 branch', probe: true, params: base }));
  for (const g of [...groups].sort()) {
    const s = newSubject(`group ${g} (probe)`, 'avaya', { model: plain ?? anyModel[0], probe: true, groups: [`avaya-group-${g}`], params: scoped(run({ GROUP: g }), base, 'group') });
    subjects.push(s);
  }
  const macs = new Set(perMac.keys());
  for (const [mac, g] of ctx.givenModels) if (g.model.vendor === 'avaya') macs.add(mac);
  for (const mac of [...macs].sort()) {
    const { model, from } = modelFor(ctx, 'avaya', mac);
    const m4 = model ? String(ctx.catalog.find(model)!.fields.model4 ?? model) : undefined;
    let params = run({ MACADDR: mac, MODEL4: m4 });
    const own = perMac.get(mac);
    // A <mac>.txt nothing GETs is still that phone's file: read after the chain.
    if (own && ![...scripts.values()].some((s) => s.parsed.statements.some((st) => st.kind === 'get' && /\$MACADDR/i.test(st.file)))) exec(load(own), {}, params, 1);
    const modelRun = m4 ? run({ MODEL4: m4 }) : base;
    params = scoped(params, modelRun, 'device', base);
    if (!model) unknownModel(ctx, mac, own);
    subjects.push(newSubject(mac, 'avaya', { mac, model, modelFrom: from, params }));
  }

  // Firmware: model -> image named by APPNAME in that model's branch.
  for (const [m4, fw] of firmware) {
    const name = catalogModel4.get(m4.toUpperCase());
    if (name) ctx.out.firmware.set(name, fw);
  }

  // Overlay resource: a script of its own that a phone could GET — the IF lines, then each
  // block verbatim, then the labels the blocks jump to — so `check` lints it like any script.
  if (overlay.size) {
    const parts = ['## Avaya script lines deskset import could not map to profile layers, kept verbatim.', '## Merge them by hand (or GET this file from a template override); each block says why.'];
    const defined = new Set<string>();
    const targets: string[] = [];
    for (const o of overlay.values()) parts.push(scripts.get(o.file)!.parsed.lines[o.ifLine - 1]!.trim());
    parts.push('GOTO IMPORT_OVERLAY_END');
    const blocks = new Set<string>();
    for (const o of overlay.values()) {
      if (blocks.has(`${o.file}:${o.from}`)) continue;
      blocks.add(`${o.file}:${o.from}`);
      const script = scripts.get(o.file)!;
      parts.push('', `## ${o.file}:${o.from}-${o.to}: ${o.why}`);
      for (const st of script.parsed.statements) {
        if (st.line < o.from || st.line > o.to) continue;
        if (st.kind === 'label') defined.add(st.name.toUpperCase());
        if (st.kind === 'goto' || st.kind === 'if') targets.push(st.label);
      }
      parts.push(...script.parsed.lines.slice(o.from - 1, o.to));
    }
    for (const t of new Set(targets)) if (!defined.has(t.toUpperCase()) && t.toUpperCase() !== 'IMPORT_OVERLAY_END') {
      defined.add(t.toUpperCase());
      parts.push('', `# ${t}`);
    }
    parts.push('', '# IMPORT_OVERLAY_END');
    ctx.out.copies.push({ path: `resources/${OVERLAY}`, bytes: new TextEncoder().encode(`${parts.join('\n')}\n`) });
  }
  for (const w of overlayWarnings.values()) {
    const what = w.lines.length > 1 ? `${w.lines.length} IF ${w.variable} branches (lines ${w.lines.slice(0, 8).join(', ')}${w.lines.length > 8 ? ', …' : ''})` : `IF ${w.variable} (line ${w.lines[0]})`;
    const why = w.lines.length > 1 && /^model /.test(w.why) ? 'their models are not deskset models (the catalog has J100 phones only)' : w.why;
    warn(ctx, 'IMPORT_AVAYA_OVERLAY', `${what}: ${why}; kept verbatim in resources/${OVERLAY}, not in the profiles`, { file: w.file, line: w.lines[0]!, col: w.col });
  }

  // Every SET no run executed, every ADD: listed with the reason.
  for (const s of scripts.values()) {
    for (const st of s.parsed.statements) {
      if (st.kind !== 'set') continue;
      const loc = { file: s.name, line: st.line, col: st.col };
      if (st.keyword === 'ADD') drop(ctx, loc, st.name, 'ADD (append to a list) has no profile equivalent; deskset writes SET only');
      else if (!executed.has(`${s.name}:${st.line}`)) {
        const inOverlay = [...overlay.values()].some((o) => o.file === s.name && st.line >= o.from && st.line <= o.to);
        drop(ctx, loc, st.name, inOverlay ? `in a block kept in resources/${OVERLAY}` : 'no phone reaches this line (after a GOTO, or only reached by a branch no phone takes)');
      } else if (st.quote === 'inner' || st.value.includes('"')) {
        /* handled by vocabulary/render check */
      }
    }
  }
  return subjects;
}

/** Marks each parameter's scope: the same as `parent` (a broader run) -> that run's scope. */
function scoped(params: Map<string, Param>, parent: Map<string, Param>, scope: 'model' | 'group' | 'device', base?: Map<string, Param>): Map<string, Param> {
  const out = new Map<string, Param>();
  for (const [k, p] of params) {
    const inBase = base?.get(k);
    const inParent = parent.get(k);
    const s = inBase && inBase.value === p.value ? 'global' : inParent && inParent.value === p.value ? (base ? 'model' : 'global') : scope;
    out.set(k, { ...p, scope: s });
  }
  return out;
}

/** Comment lines directly above a statement: contiguous non-blank lines that are not statements. */
function commentsAbove(parsed: ParsedScript, line: number): string[] {
  const out: string[] = [];
  for (let l = line - 1; l >= 1; l--) {
    const text = parsed.lines[l - 1]!.trim();
    if (text === '' || /^(SET|ADD|IF|GOTO|GET)[ \t]/i.test(text) || text.startsWith('# ')) break;
    out.unshift(text.replace(/^#+/, '').trim());
    if (out.length >= 20) break;
  }
  return out.filter((c) => c !== '');
}
