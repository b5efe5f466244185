// The dashboard's Handlebars templates (src/admin/ui/templates/*.hbs), compiled once into an
// instance of their own so no helper or partial of the phones' templates can reach them.
// Only {{ }} is used, never {{{ }}}: every value is HTML-escaped (a test reads the templates).

import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { PACKAGE_ROOT } from '../../io/package-root.js';

export const UI_DIR = path.join(PACKAGE_ROOT, 'src', 'admin', 'ui');
const TEMPLATE_DIR = path.join(UI_DIR, 'templates');

export type PageName = 'fleet' | 'devices' | 'device' | 'snapshot' | 'firmware' | 'not-found' | 'enroll';

/** A `--where` clause that selects exactly the rows whose column is `value` ('' for none). */
export function whereEquals(column: string, value: string): string {
  return `${column}='${(value === '(none)' ? '' : value).replace(/'/g, "''")}'`;
}

export function createUiRenderer(): (page: PageName, data: Record<string, unknown>) => string {
  const hb = Handlebars.create();
  hb.registerHelper('whereLink', (column: unknown, value: unknown) => encodeURIComponent(whereEquals(String(column), String(value))));
  const layout = hb.compile(fs.readFileSync(path.join(TEMPLATE_DIR, 'layout.hbs'), 'utf8'), { strict: false, noEscape: false });
  for (const f of fs.readdirSync(TEMPLATE_DIR)) {
    if (f.endsWith('.hbs') && f !== 'layout.hbs') hb.registerPartial(f.slice(0, -4), fs.readFileSync(path.join(TEMPLATE_DIR, f), 'utf8'));
  }
  return (page, data) => layout({ ...data, view: page });
}

/** The two static files the pages load (no build step: served as written). */
export function readAsset(name: 'style.css' | 'app.js'): Buffer {
  return fs.readFileSync(path.join(UI_DIR, 'static', name));
}
