// The catalog pages and the repositories in Settings, each on the contexts the shell would hand
// it, against a fake /package API.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { ServiceView } from '../../protocol/types.js';
import type { YgInstallDialog } from '../../src/components/yg-install-dialog.js';
import { catalogCache } from '../../src/data/catalog.js';
import type { InstalledPackage, PackageDefinition, PackageSummary, Repository } from '../../src/data/catalog.js';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import '../../src/views/yg-catalog-view.js';
import '../../src/views/yg-package-view.js';
import '../../src/views/yg-settings-view.js';
import type { RoutedView } from '../../src/views/routes.js';
import { mockSnapshot } from '../support/builders.js';
import { $, $$, apiError, byLabel, settle, text, typeInto } from './harness.js';
import type { ApiCall, YgTestHost } from './harness.js';
import { mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const summary = (name: string, overrides: Partial<PackageSummary> = {}): PackageSummary => ({
  name,
  currentVersion: '1.0.0',
  versions: { '1.0.0': '0' },
  description: `${name} does things.`,
  framework: false,
  tags: [],
  selected: false,
  kind: 'service',
  repository: 'Built-in',
  images: {},
  ...overrides,
});

const PACKAGES = [
  summary('hello-web', { selected: true, tags: ['web', 'demo'] }),
  summary('backup', { kind: 'job', tags: ['storage'] }),
  summary('cache', { tags: ['storage', 'demo'] }),
];

const HELLO: PackageDefinition = {
  packagingVersion: '4.0',
  name: 'hello-web',
  version: '1.2.0',
  releaseVersion: 2,
  maintainer: 'Ops Team <ops@example.com>',
  description: 'A tiny web server that says hello.',
  tags: ['web', 'demo'],
  selected: true,
  framework: false,
  kind: 'service',
  repository: 'Built-in',
  licenses: [{ name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' }],
  preInstallNotes: 'Takes 0.1 CPU.',
  postInstallNotes: 'Say hello at /service/hello/.',
  postUninstallNotes: 'Gone; nothing left behind.',
  config: { type: 'object', properties: { service: { type: 'object', properties: { name: { type: 'string', default: 'hello' } } } } },
};

const installedHello = (appId: string, version = '1.2.0'): InstalledPackage => ({
  appId,
  kind: 'service',
  packageInformation: { packageDefinition: { ...HELLO, version } },
});

type Handler = (call: ApiCall, body: Record<string, unknown>) => unknown;

async function page<T extends RoutedView>(tag: string, path: string, params: string, handler: Handler, services: ServiceView[] = []) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.cluster.set(fromSnapshot(mockSnapshot({ seq: 1, services })));
  host.api.handler = (call) => handler(call, (call.body ?? {}) as Record<string, unknown>);
  const navigations: Array<{ to: string; replace?: boolean }> = [];
  host.addEventListener('yg-navigate', (e) => navigations.push(e.detail));
  const view = document.createElement(tag) as T;
  view.path = path;
  view.params = new URLSearchParams(params);
  host.append(view);
  await settle(view);
  return { host, view, navigations };
}

/** A /package API over a list of packages, matching queries the way the master does. */
const catalogApi: Handler = (call, body) => {
  if (call.path !== '/package/search') throw new Error(`unexpected ${call.path}`);
  const q = String(body.query ?? '').toLowerCase();
  return { packages: PACKAGES.filter((p) => !q || p.name.includes(q) || p.description.toLowerCase().includes(q) || p.tags.includes(q)) };
};

const tiles = (view: HTMLElement) => $$(view, 'yg-package-tile').map((t) => text($(t, 'h2')));

describe('yg-catalog-view', () => {
  before(() => useTheme());
  beforeEach(() => catalogCache.clear());

  it('shows the packages as tiles, selected first, and keeps the answer for later', async () => {
    const { view, host } = await page('yg-catalog-view', '/catalog', '', catalogApi);
    await waitUntil(() => $$(view, 'yg-package-tile').length === 3, 'the tiles appear');
    await settle(view);
    expect(host.api.calls).to.deep.equal([{ method: 'POST', path: '/package/search', body: {} }]);
    expect(tiles(view)).to.deep.equal(['hello-web', 'backup', 'cache']);
    expect(text($(view, '.count'))).to.equal('3 packages');
    expect(catalogCache.get('')?.packages.map((p) => p.name)).to.deep.equal(['hello-web', 'backup', 'cache']);
    const chips = $$<HTMLElement & { label: string }>($(view, 'yg-filter-chips'), 'md-filter-chip').map((c) => c.label);
    expect(chips).to.deep.equal(['demo 2', 'storage 2', 'web 1']);
    await expect(view).to.be.accessible();
  });

  it('searches through the master from the address, and writes what is typed to it', async () => {
    const { view, host, navigations } = await page('yg-catalog-view', '/catalog', 'q=cache', catalogApi);
    await waitUntil(() => $$(view, 'yg-package-tile').length === 1);
    expect(host.api.calls[0]!.body).to.deep.equal({ query: 'cache' });
    expect(tiles(view)).to.deep.equal(['cache']);
    await typeInto($<MdOutlinedTextField>(view, 'md-outlined-text-field'), 'web');
    expect(navigations.pop()).to.deep.equal({ to: '/catalog?q=web', replace: true });
  });

  it('filters by tag chips from the address', async () => {
    const { view, navigations } = await page('yg-catalog-view', '/catalog', 'tags=storage', catalogApi);
    await waitUntil(() => $$(view, 'yg-package-tile').length === 2);
    expect(tiles(view)).to.deep.equal(['backup', 'cache']);
    expect(text($(view, '.count'))).to.equal('2 packages');
    const web = $$<HTMLElement & { label: string }>($(view, 'yg-filter-chips'), 'md-filter-chip').find((c) => c.label === 'web 1')!;
    $(web, 'button').click();
    expect(navigations.pop()).to.deep.equal({ to: '/catalog?tags=storage%2Cweb' });
  });

  it('says when nothing matches', async () => {
    const { view } = await page('yg-catalog-view', '/catalog', 'q=nothing-like-this', catalogApi);
    await waitUntil(() => view.shadowRoot!.querySelector('.state-page strong'));
    expect(text($(view, '.state-page strong'))).to.equal('No packages match');
    expect($(view, '.state-page a').getAttribute('href')).to.equal('/catalog');
    await expect(view).to.be.accessible();
  });

  it('says when the catalog is empty, and where to add a repository', async () => {
    const empty = await page('yg-catalog-view', '/catalog', '', () => ({ packages: [] }));
    await waitUntil(() => empty.view.shadowRoot!.querySelector('.state-page strong'));
    expect(text($(empty.view, '.state-page strong'))).to.equal('The catalog is empty');
    expect($(empty.view, '.state-page a').getAttribute('href')).to.equal('/settings#repositories');
    await expect(empty.view).to.be.accessible();
  });

  it('says when the search failed, and tries again', async () => {
    let fail = true;
    const { view } = await page('yg-catalog-view', '/catalog', '', (call, body) => {
      if (fail) throw apiError(502, { message: 'Repository Built-in is unreachable', details: [] });
      return catalogApi(call, body);
    });
    await waitUntil(() => view.shadowRoot!.querySelector('[role="alert"]'));
    expect(text($(view, '[role="alert"]'))).to.contain('The catalog could not be searched: Repository Built-in is unreachable');
    await expect(view).to.be.accessible();
    fail = false;
    $(view, '[role="alert"] md-outlined-button').click();
    await waitUntil(() => $$(view, 'yg-package-tile').length === 3, 'the retry brings the tiles');
  });
});

/** The package API of one package with one installed instance (`/hello`), as a fake master. */
function packageApi(installed: InstalledPackage[] = [installedHello('/hello')]): Handler {
  return (call, body) => {
    switch (call.path) {
      case '/package/describe':
        if (body.packageVersion === '9.9.9') throw apiError(404, { message: 'Version 9.9.9 of package hello-web not found', details: [] });
        return { package: body.packageVersion ? { ...HELLO, version: body.packageVersion } : HELLO };
      case '/package/list-versions':
        return { results: { '1.2.0': '2', '1.0.0': '0', '1.1.0': '1' } };
      case '/package/list':
        return { packages: installed };
      case '/package/install':
        return { packageName: 'hello-web', packageVersion: '1.2.0', appId: '/greeter', kind: 'service', deploymentId: 'd1', postInstallNotes: 'Say hello.' };
      case '/package/uninstall':
        installed = installed.filter((i) => i.appId !== body.appId);
        return { results: [{ packageName: 'hello-web', packageVersion: '1.2.0', appId: body.appId, kind: 'service', postUninstallNotes: HELLO.postUninstallNotes }] };
      default:
        throw new Error(`unexpected ${call.path}`);
    }
  };
}

describe('yg-package-view', () => {
  before(() => useTheme());

  it('shows the package, its versions and where it is installed', async () => {
    const { view, host } = await page('yg-package-view', '/catalog/hello-web', '', packageApi(), [mockService({ id: '/hello', instances: 1, tasksRunning: 1 })]);
    await waitUntil(() => view.shadowRoot!.querySelector('h1'));
    await waitUntil(() => view.shadowRoot!.querySelector('ul.installed'));
    await settle(view);
    expect(host.api.calls.map((c) => [c.path, c.body])).to.deep.equal([
      ['/package/describe', { packageName: 'hello-web' }],
      ['/package/list-versions', { packageName: 'hello-web', includePackageVersions: true }],
      ['/package/list', { packageName: 'hello-web' }],
    ]);
    expect(text($(view, 'h1'))).to.equal('hello-web');
    expect(text($(view, '.description'))).to.equal('A tiny web server that says hello.');
    const select = $<MdOutlinedSelect>(view, 'md-outlined-select');
    expect([...select.querySelectorAll<HTMLElement & { value: string }>('md-select-option')].map((o) => o.value)).to.deep.equal(['1.2.0', '1.1.0', '1.0.0']);
    const details = Object.fromEntries($$(view, 'dl.fields dt').map((dt) => [text(dt), dt.nextElementSibling as HTMLElement]));
    expect(text(details.Maintainer)).to.equal('Ops Team ops@example.com');
    expect($(details.Maintainer!, 'a').getAttribute('href')).to.equal('mailto:ops@example.com');
    expect($(details.License!, 'a').getAttribute('href')).to.equal('https://www.apache.org/licenses/LICENSE-2.0');
    expect($$(details.Tags!, 'a').map((a) => a.getAttribute('href'))).to.deep.equal(['/catalog?tags=web', '/catalog?tags=demo']);
    expect(text($(view, '#pre-title + .notes'))).to.equal('Takes 0.1 CPU.');
    const row = $(view, 'ul.installed li');
    expect($(row, 'a').getAttribute('href')).to.equal('/services/%2Fhello');
    expect(text(row)).to.contain('1 of 1 running');
    await expect(view).to.be.accessible();
  });

  it('puts another version into the address', async () => {
    const { view, navigations } = await page('yg-package-view', '/catalog/hello-web', '', packageApi());
    await waitUntil(() => view.shadowRoot!.querySelector('md-outlined-select'));
    const select = $<MdOutlinedSelect>(view, 'md-outlined-select');
    await settle(select);
    select.select('1.0.0');
    select.dispatchEvent(new Event('change', { bubbles: true }));
    expect(navigations.pop()).to.deep.equal({ to: '/catalog/hello-web?version=1.0.0' });
  });

  it('says when a version does not exist', async () => {
    const { view } = await page('yg-package-view', '/catalog/hello-web', 'version=9.9.9', packageApi());
    await waitUntil(() => view.shadowRoot!.querySelector('.state-page strong'));
    expect(text($(view, '.state-page strong'))).to.equal('No version 9.9.9 of hello-web');
    expect($$<HTMLAnchorElement>(view, '.state-page a').map((a) => a.getAttribute('href'))).to.deep.equal(['/catalog/hello-web', '/catalog']);
    await expect(view).to.be.accessible();
  });

  it('installs from the dialog and follows the new service until it runs', async () => {
    const { view, host, navigations } = await page('yg-package-view', '/catalog/hello-web', '', packageApi([]));
    await waitUntil(() => view.shadowRoot!.querySelector('header md-filled-button'));
    $(view, 'header md-filled-button').click();
    expect(navigations.pop()).to.deep.equal({ to: '/catalog/hello-web?install=1' }, 'the dialog is part of the address');
    view.params = new URLSearchParams('install=1');
    const dialog = $<YgInstallDialog>(view, 'yg-install-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    await settle(dialog, 6);
    $$<HTMLElement>(dialog, 'md-filled-button').find((b) => text(b) === 'Install')!.click();
    await waitUntil(() => dialog.result, 'the install answers');
    expect(host.api.commands.find((c) => c.path === '/package/install')!.body).to.deep.equal({
      packageName: 'hello-web',
      packageVersion: '1.2.0',
      options: { service: { name: 'hello' } },
    });
    await settle(dialog);
    expect(text($(dialog, '[slot="headline"]'))).to.equal('Installing hello-web');

    host.cluster.set(fromSnapshot(mockSnapshot({ seq: 2, services: [mockService({ id: '/greeter', instances: 1, tasksRunning: 1 })] })));
    await settle(view);
    await settle(dialog);
    expect(text($(dialog, '[slot="headline"]'))).to.equal('Installed hello-web');
    expect(text($(dialog, '.notes'))).to.equal('Say hello.');
    await expect(view).to.be.accessible();

    $$<HTMLElement>(dialog, 'md-text-button').find((b) => text(b) === 'Close')!.click();
    await waitUntil(() => navigations.length > 0);
    expect(navigations.pop()).to.deep.equal({ to: '/catalog/hello-web', replace: true });
  });

  it('shows the master\'s 422 in the dialog', async () => {
    const api = packageApi([]);
    const { view } = await page('yg-package-view', '/catalog/hello-web', 'install=1', (call, body) => {
      if (call.path === '/package/install') throw apiError(422, { message: 'Options are not valid', details: [{ path: '/service/name', errors: ['must match ^[a-z]+$'] }] });
      return api(call, body);
    });
    await waitUntil(() => view.shadowRoot!.querySelector('yg-install-dialog'));
    const dialog = $<YgInstallDialog>(view, 'yg-install-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    await settle(dialog, 6);
    $$<HTMLElement>(dialog, 'md-filled-button').find((b) => text(b) === 'Install')!.click();
    await waitUntil(() => dialog.message);
    await settle(dialog, 6);
    const name = $$<MdOutlinedTextField>($(dialog, 'yg-schema-form'), 'md-outlined-text-field').find((f) => f.label === 'name')!;
    expect(name.errorText).to.equal('must match ^[a-z]+$');
    await expect(view).to.be.accessible();
  });

  it('uninstalls an instance after confirming and shows the notes', async () => {
    const { view, host } = await page('yg-package-view', '/catalog/hello-web', '', packageApi());
    await waitUntil(() => view.shadowRoot!.querySelector('ul.installed'));
    await settle(view);
    byLabel(view, 'md-text-button', 'Uninstall /hello').click();
    const confirm = $(view, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(confirm, 'md-dialog').open);
    expect(text($(confirm, '[slot="headline"]'))).to.equal('Uninstall /hello?');
    $(confirm, 'md-filled-button').click();
    await waitUntil(() => view.shadowRoot!.querySelector('.notice[role="status"]'));
    expect(host.api.commands.find((c) => c.path === '/package/uninstall')!.body).to.deep.equal({ packageName: 'hello-web', appId: '/hello' });
    expect(text($(view, '.notice[role="status"]'))).to.equal('Uninstalled /hello. Gone; nothing left behind.');
    await waitUntil(() => text($(view, '#installed-title')) === 'Installed (0)', 'the list is read again');
  });
});

describe('Settings: repositories', () => {
  before(() => useTheme());

  it('lists the repositories and adds one through the master', async () => {
    let repos: Repository[] = [{ name: 'Built-in', uri: 'yagura:builtin', builtIn: true, packages: 6 }];
    const { view, host } = await page('yg-settings-view', '/settings', '', (call, body) => {
      if (call.path === '/package/repository/list') return { repositories: repos };
      if (call.path === '/package/repository/add') {
        repos = [...repos, { name: String(body.name), uri: String(body.uri), packages: 2, lastRefreshedAt: Date.now() }];
        return { repositories: repos };
      }
      throw new Error(`unexpected ${call.path}`);
    });
    const list = $(view, 'yg-repository-list');
    await waitUntil(() => list.shadowRoot!.querySelectorAll('ol li').length === 1, 'the list loads');
    const fields = $$<MdOutlinedTextField>(list, 'md-outlined-text-field');
    await typeInto(fields[0]!, 'team');
    await typeInto(fields[1]!, 'https://repo.example/team.json');
    $(list, 'md-filled-tonal-button').click();
    await waitUntil(() => list.shadowRoot!.querySelectorAll('ol li').length === 2, 'the new repository shows');
    expect(host.api.commands.map((c) => [c.path, c.body])).to.deep.equal([
      ['/package/repository/list', {}],
      ['/package/repository/add', { name: 'team', uri: 'https://repo.example/team.json' }],
    ]);
    await settle(list);
    expect(text($(list, '.status'))).to.equal('Added team.');
    await expect(view).to.be.accessible();
  });

  it('moves a repository by removing and adding again the built-in one, which is not fetched', async () => {
    let repos: Repository[] = [
      { name: 'Built-in', uri: 'yagura:builtin', builtIn: true },
      { name: 'team', uri: 'https://repo.example/team.json' },
    ];
    const { view, host } = await page('yg-settings-view', '/settings', '', (call, body) => {
      if (call.path === '/package/repository/list') return { repositories: repos };
      if (call.path === '/package/repository/delete') repos = repos.filter((r) => r.name !== body.name);
      if (call.path === '/package/repository/add') repos.splice(Number(body.index ?? repos.length), 0, { name: String(body.name), uri: String(body.uri) });
      return { repositories: [...repos] };
    });
    const list = $(view, 'yg-repository-list');
    await waitUntil(() => list.shadowRoot!.querySelectorAll('ol li').length === 2);
    await settle(list);
    byLabel(list, 'md-icon-button', 'Move Built-in down').click();
    await waitUntil(() => text($(list, 'ol li .name')) === 'team', 'team comes first');
    expect(host.api.commands.slice(1).map((c) => [c.path, c.body])).to.deep.equal([
      ['/package/repository/delete', { name: 'Built-in' }],
      ['/package/repository/add', { name: 'Built-in', uri: 'yagura:builtin', index: 1 }],
    ]);
  });

  it('puts a repository back where it was when adding it at its new place fails', async () => {
    let repos: Repository[] = [
      { name: 'team', uri: 'https://repo.example/team.json' },
      { name: 'lab', uri: 'https://lab.example/index.json' },
    ];
    let adds = 0;
    const { view, host } = await page('yg-settings-view', '/settings', '', (call, body) => {
      if (call.path === '/package/repository/list') return { repositories: repos };
      if (call.path === '/package/repository/delete') repos = repos.filter((r) => r.name !== body.name);
      if (call.path === '/package/repository/add') {
        // The first add (at the new place) cannot fetch the index; the second (back) can.
        if (adds++ === 0) throw apiError(502, { message: 'Repository https://lab.example/index.json could not be read: timeout', details: [] });
        repos.splice(Number(body.index), 0, { name: String(body.name), uri: String(body.uri) });
      }
      return { repositories: [...repos] };
    });
    const list = $(view, 'yg-repository-list');
    await waitUntil(() => list.shadowRoot!.querySelectorAll('ol li').length === 2);
    await settle(list);
    byLabel(list, 'md-icon-button', 'Move lab up').click();
    await waitUntil(() => list.shadowRoot!.querySelector('.alert'), 'the failure shows');
    expect(text($(list, '.alert'))).to.contain('could not be read: timeout');
    expect(host.api.commands.slice(1).map((c) => [c.path, c.body])).to.deep.equal([
      ['/package/repository/delete', { name: 'lab' }],
      ['/package/repository/add', { name: 'lab', uri: 'https://lab.example/index.json', index: 0 }],
      ['/package/repository/add', { name: 'lab', uri: 'https://lab.example/index.json', index: 1 }],
      ['/package/repository/list', {}],
    ]);
    await waitUntil(() => $$(list, 'ol li .name').map((n) => text(n)).join() === 'team,lab', 'the order is as before');
  });
});
