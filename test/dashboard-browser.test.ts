// The dashboard in a real browser: Debian's chromium driven by playwright-core against a real
// server (admin listener, SQLite store, a phone that fetched its files). It logs in, searches,
// opens a device's layer view, looks for secrets and injected markup, walks every control with
// Tab, checks a 375 px wide phone screen, and keeps screenshots in test-artifacts/dashboard/.

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN, VIEWER, startAdminHarness, type AdminHarness } from './helpers/admin.js';
import { get } from './helpers/serve-root.js';
import { REPO } from './helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`dashboard-browser.test.ts: ${CHROMIUM} is absent (apt-get install chromium): the browser tests are skipped`);

const ARTIFACTS = path.join(REPO, 'test-artifacts', 'dashboard');
const POLY = '0004f2a1b2c3';
const SECRETS = ['Vv-45-ab', 'T54-mm3k', 'Nw-Adm1n-2024', 'rc9-Tq2m', 'sL4-xx91', 'T46-pq7z', 'Tr-88-cc', 'J17-ss0q', 'T54-mm3l'];
const PAGES = ['/', '/devices', `/devices/${POLY}`, '/snapshot', '/firmware'];

describe.skipIf(!HAVE_CHROMIUM)('dashboard in chromium', () => {
  let h: AdminHarness;
  let browser: Browser;
  let base: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    h = await startAdminHarness({
      edits: {
        [`profiles/devices/${POLY}.yaml`]: (old: string) => old.replace('model: VVX450', `model: VVX450\ndescription: '<img src=x onerror="window.__pwned=1">'`),
      },
    });
    expect((await get(h.running, `/${POLY}.cfg`, { 'User-Agent': 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2945 Type/Application' })).status).toBe(200);
    await h.running.inventory!.flush();
    base = h.running.admin!.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(ARTIFACTS, { recursive: true });
    console.log(`dashboard screenshots: ${ARTIFACTS}`);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function open(user: { user: string; password: string }, width = 1280): Promise<Page> {
    const context = await browser.newContext({ httpCredentials: { username: user.user, password: user.password }, viewport: { width, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return page;
  }

  it('without credentials, or with wrong ones, the browser shows no page: it is challenged for a login', async () => {
    for (const creds of [undefined, { username: ADMIN.user, password: 'wrong' }]) {
      const context = await browser.newContext(creds ? { httpCredentials: creds } : {});
      const page = await context.newPage();
      // Headless chromium has no login prompt to show: the navigation fails, or ends on the 401.
      const nav = await page.goto(`${base}/`).catch((e: Error) => e);
      if (nav instanceof Error) expect(nav.message).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
      else {
        expect(nav?.status()).toBe(401);
        expect(await page.locator('h1').count()).toBe(0);
      }
      const r = await context.request.get(`${base}/`);
      expect(r.status()).toBe(401);
      expect(r.headers()['www-authenticate']).toMatch(/^Basic /);
      expect(await r.text()).not.toContain('<h1>');
      await context.close();
    }
  });

  it('logs in, searches for a device, opens its layer view: no secret and no injected markup anywhere', async () => {
    const page = await open(VIEWER);
    const fleet = await page.goto(`${base}/`);
    expect(fleet?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Fleet');
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet.png'), fullPage: true });

    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    await page.getByLabel('Filter (--where)').fill('model=VVX450 and site^=ny');
    await page.getByLabel('Filter (--where)').press('Enter');
    await page.waitForURL(/\/devices\?where=/);
    const links = await page.locator('tbody a').allTextContents();
    expect(links).toEqual([POLY]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'devices-search.png'), fullPage: true });

    await page.getByRole('link', { name: POLY }).click();
    await page.waitForURL(new RegExp(`/devices/${POLY}$`));
    await expect(page.locator('h2#layers').isVisible()).resolves.toBe(true);
    const layers = await page.locator('ol.layers li').allTextContents();
    expect(layers.map((l) => l.split(' ')[0])).toEqual(['global', 'group', 'site', 'device']);
    const rows = await page.locator('table.values tbody tr').count();
    expect(rows).toBeGreaterThan(3);
    // Every value row names the file:line:col that set it.
    const places = await page.locator('table.values tbody tr td:nth-child(3) code.at').allTextContents();
    expect(places.length).toBe(rows);
    for (const p of places) expect(p).toMatch(/^profiles\/.+\.yaml:\d+:\d+$/);
    // Open every file preview, so its text counts in what the page shows.
    for (const s of await page.locator('details summary').all()) await s.click();
    await page.screenshot({ path: path.join(ARTIFACTS, 'device.png'), fullPage: true });

    const htmlText = await page.content();
    const shown = await page.locator('body').innerText();
    expect(shown).toContain('••••');
    for (const s of SECRETS) {
      expect(htmlText).not.toContain(s);
      expect(shown).not.toContain(s);
    }
    // The hostile description is shown as text and never ran.
    expect(shown).toContain('<img src=x onerror="window.__pwned=1">');
    await expect(page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).resolves.toBeUndefined();
    expect(await page.locator('dd img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.context().close();
  });

  it('Tab reaches every control of every page, and every control has a label', async () => {
    const page = await open(ADMIN);
    for (const target of PAGES) {
      await page.goto(`${base}${target}`);
      // The controls a keyboard user must reach, each with the name a screen reader would read.
      const controls = await page.evaluate(() => {
        const all = [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])')].filter((el) => el.checkVisibility() || el.classList.contains('skip'));
        return all.map((el, i) => {
          el.dataset.ctl = String(i);
          const input = el as HTMLInputElement;
          const label = el.getAttribute('aria-label') ?? (input.labels?.length ? [...input.labels].map((l) => l.textContent).join(' ') : el.textContent);
          return { id: String(i), tag: el.tagName.toLowerCase(), label: (label ?? '').trim() };
        });
      });
      expect(controls.length, target).toBeGreaterThan(3);
      for (const c of controls) expect(c.label, `${target}: a <${c.tag}> without a label`).not.toBe('');
      const reached = new Set<string>();
      for (let i = 0; i < controls.length + 5; i++) {
        await page.keyboard.press('Tab');
        const id = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.ctl ?? null);
        if (id !== null) reached.add(id);
      }
      const missed = controls.filter((c) => !reached.has(c.id));
      expect(missed, `${target}: not reachable with Tab`).toEqual([]);
    }
    await page.context().close();
  });

  it('fits a 375 px phone screen: no horizontal scroll on any page', async () => {
    const page = await open(ADMIN, 375);
    for (const target of PAGES) {
      await page.goto(`${base}${target}`);
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      expect(scroll, `${target} is ${scroll} px wide at 375`).toBeLessThanOrEqual(client);
      const name = target === '/' ? 'fleet' : target.slice(1).replace(/\//g, '-');
      await page.screenshot({ path: path.join(ARTIFACTS, `phone-${name}.png`), fullPage: true });
    }
    // The layer view as a phone shows it, one screen (the full page is too tall to read at once).
    await page.goto(`${base}/devices/${POLY}`);
    await page.locator('#layers').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-layers.png') });
    await page.context().close();
  });
});
