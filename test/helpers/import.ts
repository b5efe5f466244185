// Shared set-up for the import tests: the shipped catalog and templates, and a folder read the
// way the CLI reads it (relative names, sorted, dot files skipped).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelCatalog, parseVendorManifest } from '../../src/vendors/manifest.js';
import type { InputFile } from '../../src/import/index.js';
import { REPO } from './cli.js';

export function shippedTemplates(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(REPO, rel)).sort()) {
      const r = `${rel}/${e}`;
      if (statSync(path.join(REPO, r)).isDirectory()) walk(r);
      else out.set(r, readFileSync(path.join(REPO, r), 'utf8'));
    }
  };
  walk('templates');
  return out;
}

export function shippedCatalog(): ModelCatalog {
  return new ModelCatalog(
    ['avaya', 'polycom', 'yealink', 'cisco', 'grandstream', 'snom'].map((v) => parseVendorManifest(readFileSync(path.join(REPO, 'templates', v, 'vendor.yaml'), 'utf8'), `templates/${v}/vendor.yaml`).manifest!),
  );
}

/** Every file under `dir`, named `<label>/<relative path>`. */
export function readFolder(dir: string, label = path.basename(dir)): InputFile[] {
  const out: InputFile[] = [];
  const walk = (abs: string, shown: string) => {
    for (const e of readdirSync(abs).sort()) {
      if (e.startsWith('.')) continue;
      const p = path.join(abs, e);
      if (statSync(p).isDirectory()) walk(p, `${shown}/${e}`);
      else out.push({ name: `${shown}/${e}`, bytes: readFileSync(p) });
    }
  };
  walk(dir, label);
  return out;
}
