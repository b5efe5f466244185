// `deskset render [ROOT] --out DIR [--device MAC] [--show-secrets] [--json] [--quiet]`: write
// every file of every device, plus the shared files, under DIR at their request paths: the
// bytes the server would send.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hasErrors } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import { renderTarget } from '../render/render.js';
import { allTargets } from '../pipeline/request.js';
import { loadRoot } from '../io/load-root.js';
import { mirrorFiles } from '../io/mirror.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { startProgress } from './progress.js';

export function run(args: string[]): Promise<number> {
  return guarded('render', async () => {
    const { values, positionals } = parse(args, COMMANDS.render);
    if (!values.out) throw new UsageError('--out DIR is required');
    const root = positionals[0] ?? '.';
    const only = values.device === undefined ? undefined : normalizeMac(values.device);
    if (values.device !== undefined && !only) throw new UsageError(`"${values.device}" is not a MAC address`);
    const rendering = startProgress('rendering', { quiet: values.quiet });
    rendering.say(`loading ${root}…`);
    const snap = await loadRoot(root).finally(() => rendering.end());
    if (hasErrors(snap.diagnostics)) {
      printDiagnostics(snap.diagnostics, process.stderr, snap.secrets);
      return 1;
    }
    if (only && !snap.profiles.devices.has(only)) throw new UsageError(`no device ${only} in ${root}`);
    const outDir = path.resolve(values.out);
    const problems = [];
    const files: Array<{ dest: string; bytes?: Buffer; from?: string; secret?: boolean }> = [];
    const place = (rel: string): string => {
      const dest = path.join(outDir, rel);
      // Request paths come from manifests and the root's file names; still, never write outside --out.
      if (!dest.startsWith(outDir + path.sep)) throw new Error(`refusing to write outside ${outDir}: ${rel}`);
      return dest;
    };
    // Previews mask secrets; --show-secrets writes the real files for deployment.
    const masking = { redact: { secrets: snap.secrets, extraKeys: snap.secretKeys } };
    const renderOpts = values['show-secrets'] ? {} : masking;
    const written = new Map<string, Buffer>();
    const secretBytes = new Set<Buffer>();
    const targets = only ? allTargets(snap).filter((t) => t.subject?.mac === only) : allTargets(snap);
    for (const [i, t] of targets.entries()) {
      rendering.update(i, targets.length);
      const { rendered, diagnostics } = renderTarget(snap.render, t, renderOpts);
      for (const d of diagnostics) problems.push(d);
      if (!rendered) continue;
      // A hash of a file that holds a secret can be tested against guesses offline: --json
      // leaves it out, so the list stays safe to keep in a CI log.
      const secret = values['show-secrets'] && values.json ? !renderTarget(snap.render, t, masking).rendered?.bytes.equals(rendered.bytes) : undefined;
      files.push({ dest: place(rendered.path), bytes: rendered.bytes, secret });
      written.set(rendered.path, rendered.bytes);
      if (secret) secretBytes.add(rendered.bytes);
    }
    rendering.end();
    // The rest of what a static server needs to answer every phone as deskset does (docs/cli.md).
    const mirror = await mirrorFiles(snap, written, renderOpts, only);
    for (const d of mirror.diagnostics) problems.push(d);
    // A mirror name of a rendered file (J179/<mac>/46xxsettings.txt) shares its bytes, and its secrets.
    const holdsSecret = (b: Buffer) => secretBytes.has(b) || [...snap.secrets].some((v) => v.length > 0 && b.includes(v));
    for (const f of mirror.files) files.push({ dest: place(f.path), bytes: f.bytes, from: f.from, secret: values['show-secrets'] && values.json && f.bytes ? holdsSecret(f.bytes) : undefined });
    // Directories once, then the files a few at a time: one await per file made a 10,000-device
    // render three times slower than check, which renders the same files.
    for (const dir of new Set(files.map((f) => path.dirname(f.dest)))) await fs.mkdir(dir, { recursive: true });
    const writing = startProgress('writing', { quiet: values.quiet });
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < files.length) {
        writing.update(next, files.length);
        const f = files[next++]!;
        await (f.bytes ? fs.writeFile(f.dest, f.bytes) : fs.copyFile(f.from!, f.dest));
      }
    }));
    writing.end();
    // Findings are incidental here (the files are the result): stderr, also under --json.
    const { errors, warnings } = printDiagnostics(problems, process.stderr, snap.secrets);
    if (values.json) {
      const list = [];
      for (const f of files) {
        // Copied files (firmware, resources) are hashed as written.
        const bytes = f.bytes ?? (await fs.readFile(f.dest));
        list.push({
          path: path.relative(outDir, f.dest).split(path.sep).join('/'),
          bytes: bytes.length,
          sha256: f.secret ? null : createHash('sha256').update(bytes).digest('hex'),
          ...(f.secret ? { secrets: true } : {}),
        });
      }
      process.stdout.write(`${JSON.stringify({ out: outDir, secrets: values['show-secrets'] ? 'shown' : 'masked', errors, warnings, files: list }, null, 2)}\n`);
    } else {
      process.stdout.write(`rendered ${files.length} files to ${outDir}${values['show-secrets'] ? ' (with secrets: handle with care)' : ' (secrets shown as ••••; --show-secrets for deployable files)'}\n`);
    }
    return hasErrors(problems) ? 1 : 0;
  });
}
