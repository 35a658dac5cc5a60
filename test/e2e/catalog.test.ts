// A package from the catalog through the dashboard, against a real `yagura up`: find it by
// searching, open it, install it with an option changed in the generated form, follow the
// progress to healthy, and find the service answering with that option — then uninstall it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchBrowser, logIn, startCluster, type Browser, type Cluster } from './harness.js';

const WAIT = { timeout: 60_000 };
const GREETING = 'Hello from the e2e catalog test';

describe('the catalog through the dashboard, against a real master', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;

  before(async () => {
    cluster = await startCluster();
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('logs in and finds a package by searching', async () => {
    await logIn(page, cluster, '/catalog', WAIT.timeout);
    const view = page.locator('yg-catalog-view');
    await view.getByRole('link', { name: 'hello-world', exact: true }).waitFor(WAIT);
    await view.locator('md-outlined-text-field input, input[type="search"]').first().fill('key-value');
    await view.getByRole('link', { name: 'kv-store', exact: true }).waitFor(WAIT);
    await view.getByRole('link', { name: 'hello-world', exact: true }).waitFor({ state: 'detached', timeout: WAIT.timeout });
    assert.match(new URL(page.url()).search, /q=key-value/, 'the search is in the address');
  });

  it('installs hello-world with a changed option and follows it to healthy', async () => {
    await page.goto(`${cluster.url}/catalog/hello-world`);
    const view = page.locator('yg-package-view');
    await view.getByRole('button', { name: 'Install…' }).click(WAIT);
    const dialog = page.locator('yg-install-dialog');
    const greeting = dialog.locator('md-outlined-text-field[label="greeting"] input');
    await greeting.waitFor(WAIT);
    await greeting.fill(GREETING);
    await dialog.getByRole('button', { name: 'Install', exact: true }).click();
    await dialog.getByText('Installed hello-world').waitFor(WAIT);
    await dialog.getByRole('link', { name: /Go to the service/ }).click();
    await page.waitForURL(/\/services\/(%2F)?hello-world/, WAIT);

    const res = await fetch(`${cluster.url}/service/hello-world/`, { headers: { authorization: `Bearer ${cluster.token}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(GREETING), 'the option reached the running service');
  });

  it('shows the installation on the package page and uninstalls it', async () => {
    await page.goto(`${cluster.url}/catalog/hello-world`);
    const view = page.locator('yg-package-view');
    await view.getByRole('button', { name: 'Uninstall /hello-world' }).click(WAIT);
    await page.locator('yg-confirm-dialog, md-dialog').getByRole('button', { name: /^Uninstall/ }).last().click();
    await view.getByRole('button', { name: 'Uninstall /hello-world' }).waitFor({ state: 'detached', timeout: WAIT.timeout });
    const list = await fetch(`${cluster.url}/package/list`, { method: 'POST', headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' }, body: '{}' });
    assert.deepEqual(((await list.json()) as { packages: unknown[] }).packages, []);
  });
});
