// The dashboard as a PWA, end to end in Chromium against a real master: installable (manifest,
// icons, screenshots, a controlling service worker, the Install button), offline (a reload with
// the master stopped renders from the worker's cache and IndexedDB), resume on reconnect, the
// update flow with a second build, and a system notification for a failed task. The last test
// prints the repeat-visit figures (no thresholds: the machine is shared).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { build, type Yagura } from '../../server/app.js';
import { CHROME_FLAGS, chromePath } from '../support/chrome.mjs';
import { commandTask, SchedulerClient } from '../support/mesos-client.js';
import { launchBrowser, ROOT, startCluster, type Cluster } from './harness.js';

/** Generous: a wait that fails only when the thing never happens, not when it is slow. */
const WAIT = { timeout: 30_000 };
const DIST = join(ROOT, 'dist');

async function api<T = unknown>(base: { url: string; token: string }, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${base.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${base.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const app = (id: string) => ({ id, cmd: 'sleep 600', instances: 1, cpus: 0.1, mem: 32 });

async function signIn(page: Page, base: { url: string; token: string }, path: string): Promise<void> {
  await page.goto(`${base.url}${path}#token=${encodeURIComponent(base.token)}`);
  await live(page);
}

const live = (page: Page) => page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);
const serviceRow = (page: Page, id: string) => page.locator(`yg-service-table a[href="/services/${encodeURIComponent(id)}"]`);
const swReady = (page: Page) => page.evaluate('navigator.serviceWorker.ready.then((r) => !!r.active)');

/** What the page keeps in IndexedDB (src/state/offline-cache.ts), without creating the database. */
function kept(page: Page): Promise<{ epoch: string; seq: number; services: string[]; savedAt: number } | null> {
  return page.evaluate(`(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'yagura')) return null;
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('yagura');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    try {
      if (!db.objectStoreNames.contains('kv')) return null;
      const record = await new Promise((resolve, reject) => {
        const get = db.transaction('kv').objectStore('kv').get('cluster');
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error);
      });
      // collections are stored as arrays of objects (format 2; a big state's objects are in parts)
      return record ? { epoch: record.state.epoch, seq: record.state.seq, services: record.state.services.map((s) => s.id), savedAt: record.savedAt } : null;
    } finally {
      db.close();
    }
  })()`);
}

async function waitKept(page: Page, service: string) {
  const deadline = Date.now() + WAIT.timeout;
  for (;;) {
    const record = await kept(page);
    if (record?.services.includes(service)) return record;
    if (Date.now() > deadline) throw new Error(`IndexedDB never kept ${service}: ${JSON.stringify(record)}`);
    await page.waitForTimeout(200);
  }
}

/** Every URL in the page's Cache Storage. */
function cachedUrls(page: Page): Promise<string[]> {
  return page.evaluate(`(async () => {
    const urls = [];
    for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
    return urls;
  })()`);
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): [number, number] {
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG file');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

/** The URLs the build's service worker precaches (its injected manifest). */
async function precacheList(dist: string): Promise<string[]> {
  const sw = await readFile(join(dist, 'service-worker.js'), 'utf8');
  return [...sw.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]!);
}

interface Manifest {
  name: string;
  short_name: string;
  description: string;
  start_url: string;
  scope: string;
  display: string;
  theme_color: string;
  background_color: string;
  icons: Array<{ src: string; sizes: string; type: string; purpose?: string }>;
  shortcuts: Array<{ name: string; url: string }>;
  screenshots: Array<{ src: string; sizes: string; type: string; form_factor?: string; label?: string }>;
}

describe('PWA: installable', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ agents: false });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('has a valid manifest with real icons and screenshots', async () => {
    const html = await (await fetch(`${cluster.url}/`)).text();
    assert.equal(html.match(/<link rel="manifest"/g)?.length, 1, 'one manifest link, to the checked-in manifest');
    const res = await fetch(`${cluster.url}/manifest.webmanifest`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/manifest\+json/);
    const m = (await res.json()) as Manifest;
    assert.equal(m.name, 'Yagura');
    assert.ok(m.short_name && m.short_name.length <= 12, 'a short name that fits under an icon');
    assert.ok(m.description.length > 10);
    assert.equal(m.start_url, '/');
    assert.equal(m.scope, '/');
    assert.equal(m.display, 'standalone');
    assert.match(m.theme_color, /^#[0-9a-f]{6}$/i);
    assert.match(m.background_color, /^#[0-9a-f]{6}$/i);
    assert.deepEqual(
      m.shortcuts.map((s) => [s.name, s.url]),
      [
        ['Services', '/services'],
        ['Catalog', '/catalog'],
      ],
    );

    const fetchPng = async (src: string) => {
      const r = await fetch(`${cluster.url}${src}`);
      assert.equal(r.status, 200, `${src} is served`);
      return pngSize(Buffer.from(await r.arrayBuffer()));
    };
    for (const purpose of ['any', 'maskable']) {
      for (const size of [192, 512]) {
        const icon = m.icons.find((i) => i.purpose === purpose && i.sizes === `${size}x${size}` && i.type === 'image/png');
        assert.ok(icon, `a ${purpose} ${size} px PNG icon`);
        assert.deepEqual(await fetchPng(icon.src), [size, size], `${icon.src} is really ${size} px`);
      }
    }
    for (const form of ['wide', 'narrow']) {
      const shots = m.screenshots.filter((s) => s.form_factor === form);
      assert.ok(shots.length > 0, `a ${form} screenshot`);
      for (const shot of shots) {
        const [w, h] = await fetchPng(shot.src);
        assert.equal(`${w}x${h}`, shot.sizes, `${shot.src} has the size it declares`);
        assert.ok(form === 'wide' ? w > h : h > w, `${shot.src} is ${form}`);
        assert.ok(Math.max(w, h) / Math.min(w, h) <= 2.3, 'within the aspect ratio Chromium accepts');
        assert.ok(shot.label, 'screenshots have labels');
      }
    }
  });

  it('passes Chromium’s installability checks, offers Install, and the worker controls the page', async () => {
    // Chromium fires beforeinstallprompt only after engagement; this flag skips the wait.
    const profile = await mkdtemp(join(tmpdir(), 'yagura-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromePath(),
      headless: true,
      args: [...CHROME_FLAGS, '--bypass-app-banner-engagement-checks'],
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = await context.newPage();
      await signIn(page, cluster, '/services');
      assert.equal(await swReady(page), true);
      const cdp = await context.newCDPSession(page);
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors' as never)) as { installabilityErrors: unknown[] };
      assert.deepEqual(installabilityErrors, []);
      const { errors } = (await cdp.send('Page.getAppManifest' as never)) as { errors: unknown[] };
      assert.deepEqual(errors, []);
      await page.locator('yg-app .install-text', { hasText: 'Install' }).waitFor(WAIT);

      await page.reload();
      await live(page);
      assert.match(String(await page.evaluate('navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL')), /\/service-worker\.js$/);

      // Precached: the shell and every lazy view; never an API answer.
      const cached = (await cachedUrls(page)).map((u) => new URL(u).pathname);
      const views = (await readdir(join(DIST, 'assets'))).filter((f) => /^yg-[a-z-]+-view-.*\.js$/.test(f));
      assert.ok(views.length >= 10, `the build has its lazy views (${views.length})`);
      for (const view of views) assert.ok(cached.includes(`/assets/${view}`), `${view} is precached`);
      assert.ok(cached.includes('/index.html'));
      assert.deepEqual(
        cached.filter((p) => /^\/(api|v1|v2|master|files|package|service|health|state\.json)(\/|$)/.test(p)),
        [],
        'no API or stream traffic in the cache',
      );
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});

describe('PWA: offline', () => {
  it('reloads with the master stopped and the browser offline: Services from the worker and IndexedDB', async () => {
    const cluster = await startCluster({ agents: false });
    const browser = await launchBrowser();
    try {
      await api(cluster, '/v2/apps', { method: 'POST', body: app('/e2e/kept-web') });
      const page = await browser.context.newPage();
      await signIn(page, cluster, '/services');
      await serviceRow(page, '/e2e/kept-web').waitFor(WAIT);
      assert.equal(await swReady(page), true);
      const record = await waitKept(page, '/e2e/kept-web');

      await cluster.stop();
      await browser.context.setOffline(true);
      const response = await page.reload();
      assert.ok(response, 'the reload got a response');
      assert.equal(response.fromServiceWorker(), true, 'the page came from the service worker');
      await serviceRow(page, '/e2e/kept-web').waitFor(WAIT);
      const banner = page.locator('yg-offline-banner .banner');
      await banner.waitFor(WAIT);
      const said = (await banner.textContent())!.replace(/\s+/g, ' ');
      assert.match(said, /Offline — showing the cluster as of \S/);
      assert.match(said, /Commands are off until the master answers again/);
      assert.ok(record.savedAt > 0);

      // Every section renders from the precache, with no "could not be loaded".
      for (const label of ['Overview', 'Jobs', 'Tasks', 'Nodes', 'Catalog', 'Settings', 'Services']) {
        await page.locator('yg-app nav a', { hasText: label }).click();
        await page.locator('yg-app main h1', { hasText: label }).first().waitFor(WAIT);
        assert.equal(await page.locator('yg-app main .banner.error').count(), 0, `${label} loaded offline`);
      }
      await serviceRow(page, '/e2e/kept-web').waitFor(WAIT);
    } finally {
      await browser.close();
      await cluster.stop();
    }
  });

  it('resumes from the kept sequence number when the network is back, and the banner goes', async () => {
    const cluster = await startCluster({ agents: false });
    const browser = await launchBrowser();
    try {
      await api(cluster, '/v2/apps', { method: 'POST', body: app('/e2e/before') });
      const page = await browser.context.newPage();
      const hellos: Array<{ epoch?: string; seq?: number }> = [];
      page.on('websocket', (ws) =>
        ws.on('framesent', (frame) => {
          const message = JSON.parse(String(frame.payload)) as { type: string; epoch?: string; seq?: number };
          if (message.type === 'hello') hellos.push({ epoch: message.epoch, seq: message.seq });
        }),
      );
      await signIn(page, cluster, '/services');
      await serviceRow(page, '/e2e/before').waitFor(WAIT);
      assert.equal(await swReady(page), true);
      await waitKept(page, '/e2e/before');

      await browser.context.setOffline(true);
      const response = await page.reload();
      assert.equal(response?.fromServiceWorker(), true);
      await page.locator('yg-offline-banner .banner').waitFor(WAIT);
      await serviceRow(page, '/e2e/before').waitFor(WAIT);
      const restored = await kept(page);
      assert.ok(restored);

      // The cluster moves on while this browser is away.
      await api(cluster, '/v2/apps', { method: 'POST', body: app('/e2e/while-away') });
      await browser.context.setOffline(false);
      await serviceRow(page, '/e2e/while-away').waitFor(WAIT);
      await live(page);
      await page.locator('yg-offline-banner .banner').waitFor({ state: 'detached', ...WAIT });
      const resume = hellos[hellos.length - 1]!;
      assert.equal(resume.epoch, restored.epoch, 'the hello names the kept epoch');
      assert.equal(resume.seq, restored.seq, 'and the kept sequence number: only what was missed is sent');
    } finally {
      await browser.close();
      await cluster.stop();
    }
  });
});

/** Builds the dashboard again into `outDir`, labelled `buildId` (main.ts puts it on <html data-build>). */
function buildInto(outDir: string, buildId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: ROOT,
      env: { ...process.env, VITE_BUILD_ID: buildId },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c));
    child.stderr!.on('data', (c: Buffer) => (output += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited ${code}\n${output}`))));
  });
}

describe('PWA: update', () => {
  let work: string;
  let master: Yagura | undefined;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'yagura-update-'));
  });
  after(async () => {
    await master?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('offers a second build, waits while a form is unsaved, then reloads into it', async () => {
    const served = join(work, 'served');
    const second = join(work, 'second');
    // The master serves a copy of dist/; the second build replaces it while the page is open.
    await Promise.all([cp(DIST, served, { recursive: true }), buildInto(second, 'e2e-second')]);
    master = await build({ dataDir: join(work, 'data'), port: 0, distDir: served });
    const base = { url: await master.listen(), token: master.adminToken };
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await signIn(page, base, '/services');
      assert.equal(await swReady(page), true);
      await page.reload();
      await live(page);
      assert.equal(await page.evaluate('document.documentElement.dataset.build || null'), null, 'the first build');

      await cp(second, served, { recursive: true, force: true });
      // A navigation makes the browser check the worker script; the new one installs and waits.
      await page.reload();
      await live(page);
      const snackbar = page.locator('yg-update-snackbar .snackbar');
      await snackbar.locator('md-text-button', { hasText: 'Reload to update' }).waitFor(WAIT);

      // A form with unsaved changes holds the reload back.
      await page.locator('yg-services-view md-filled-button', { hasText: 'Create service' }).click();
      await page.waitForURL(/\/services\/new$/);
      await page.locator('yg-app-form md-outlined-text-field').first().locator('input').fill('/e2e/draft');
      await snackbar.getByText('once your changes to “Create a service” are saved or discarded').waitFor(WAIT);
      assert.equal(await snackbar.locator('md-text-button', { hasText: 'Reload to update' }).count(), 0);
      await page.evaluate('window.__ygSamePage = true');
      assert.equal(await page.evaluate('navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)'), true, 'the new build still waits');
      assert.equal(await page.locator('yg-app-form md-outlined-text-field').first().locator('input').inputValue(), '/e2e/draft');

      // Discarding the form releases it.
      await page.locator('yg-app-form md-text-button', { hasText: 'Cancel' }).click();
      await page.waitForURL(/\/services$/);
      assert.equal(await page.evaluate('window.__ygSamePage === true'), true, 'no reload happened meanwhile');
      await snackbar.locator('md-text-button', { hasText: 'Reload to update' }).click();
      await page.waitForFunction("document.documentElement.dataset.build === 'e2e-second'", undefined, WAIT);
      assert.equal(await page.evaluate('window.__ygSamePage === true'), false, 'the page reloaded');
      await live(page);
      assert.equal(await page.locator('yg-update-snackbar .snackbar').count(), 0);
      assert.equal(await page.evaluate('navigator.serviceWorker.getRegistration().then((r) => !r.waiting && !!r.active)'), true);
    } finally {
      await browser.close();
    }
  });
});

describe('PWA: notifications', () => {
  it('shows a system notification through the service worker when a task fails', async () => {
    const cluster = await startCluster();
    const browser = await launchBrowser();
    let fw: SchedulerClient | undefined;
    try {
      await browser.context.grantPermissions(['notifications'], { origin: cluster.url });
      const page = await browser.context.newPage();
      await signIn(page, cluster, '/settings');
      assert.equal(await swReady(page), true);
      await page.locator('yg-settings-view #notify-switch').click();
      await page.locator('yg-settings-view #notify-status', { hasText: 'On for this browser' }).waitFor(WAIT);

      fw = await SchedulerClient.subscribe({ master: cluster.url, token: cluster.token, autoAck: true }, { user: 'root', name: 'e2e-notify', roles: ['*'] });
      const agents = await api<{ agents: Array<{ id: string; state: string }> }>(cluster, '/api/v1/agents');
      const [offer] = await fw.offersOf(agents.agents.map((a) => a.id), WAIT.timeout);
      const accepted = await fw.accept([offer.id.value], [commandTask(offer, 'e2e-failer', { cpus: 0.1, mem: 32, command: 'echo failing >&2; exit 3' })], 0);
      assert.equal(accepted.status, 202, accepted.text);

      const deadline = Date.now() + WAIT.timeout;
      let shown: Array<{ title: string; body: string; url?: string }> = [];
      while (!shown.some((n) => n.title === 'Task failed: e2e-failer')) {
        if (Date.now() > deadline) throw new Error(`no notification for the failed task: ${JSON.stringify(shown)}`);
        await page.waitForTimeout(200);
        shown = await page.evaluate(
          'navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({ title: n.title, body: n.body, url: n.data && n.data.url })))',
        );
      }
      const note = shown.find((n) => n.title === 'Task failed: e2e-failer')!;
      assert.equal(note.url, '/tasks/e2e-failer');
      assert.match(note.body, /exit code 3|failing|exit/i);
    } finally {
      fw?.close();
      await browser.close();
      await cluster.stop();
    }
  });
});

describe('PWA: figures', () => {
  it('measures a repeat visit served by the service worker, the precache and the initial JavaScript', async (t) => {
    const cluster = await startCluster({ agents: false });
    const browser = await launchBrowser();
    try {
      for (const id of ['/figures/web', '/figures/api', '/figures/worker']) await api(cluster, '/v2/apps', { method: 'POST', body: app(id) });
      const first = await browser.context.newPage();
      await signIn(first, cluster, '/services');
      await serviceRow(first, '/figures/web').waitFor(WAIT);
      assert.equal(await swReady(first), true);
      await waitKept(first, '/figures/web');
      await first.close();

      const runs: Array<{ fcp: number; data: number }> = [];
      for (let i = 0; i < 5; i++) {
        const page = await browser.context.newPage();
        const response = await page.goto(`${cluster.url}/services`);
        assert.equal(response?.fromServiceWorker(), true, 'a repeat visit is answered by the service worker');
        const data = Number(
          await (
            await page.waitForFunction(
              `(() => {
                const table = document.querySelector('yg-app')?.shadowRoot?.querySelector('yg-services-view')?.shadowRoot?.querySelector('yg-service-table');
                return table?.shadowRoot?.querySelector('tbody a[href="/services/%2Ffigures%2Fweb"]') ? performance.now() : 0;
              })()`,
              undefined,
              { polling: 'raf', ...WAIT },
            )
          ).jsonValue(),
        );
        const fcp = Number(await page.evaluate("new Promise((resolve) => { const get = () => { const e = performance.getEntriesByName('first-contentful-paint')[0]; e ? resolve(e.startTime) : setTimeout(get, 20); }; get(); })"));
        assert.ok(fcp > 0 && data > 0);
        runs.push({ fcp, data });
        await page.close();
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

      const precache = await precacheList(DIST);
      let precacheBytes = 0;
      for (const url of precache) precacheBytes += (await stat(join(DIST, url))).size;
      const index = await readFile(join(DIST, 'index.html'), 'utf8');
      const initial = [...index.matchAll(/<(?:script type="module"[^>]*src|link rel="modulepreload"[^>]*href)="\/([^"]+\.js)"/g)].map((m) => m[1]!);
      assert.ok(initial.length > 0);
      let raw = 0;
      let gzip = 0;
      for (const file of initial) {
        const bytes = await readFile(join(DIST, file));
        raw += bytes.length;
        gzip += gzipSync(bytes).length;
      }
      const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
      const lines = [
        `repeat visit of /services (service worker, 5 runs, median): first contentful paint ${median(runs.map((r) => r.fcp)).toFixed(0)} ms, Services shows data at ${median(runs.map((r) => r.data)).toFixed(0)} ms`,
        `  runs: ${runs.map((r) => `${r.fcp.toFixed(0)}/${r.data.toFixed(0)}`).join(', ')} ms (FCP/data)`,
        `precache: ${precache.length} entries, ${kib(precacheBytes)}`,
        `initial JavaScript (entry + modulepreloads, ${initial.length} files): ${kib(raw)}, gzip ${kib(gzip)}`,
      ];
      for (const line of lines) t.diagnostic(line);
    } finally {
      await browser.close();
      await cluster.stop();
    }
  });
});
