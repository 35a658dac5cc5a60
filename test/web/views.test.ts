// The list pages and the overview, each on the contexts the shell would hand it.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import type { MdRadio } from '@material/web/radio/radio.js';
import type { AgentView } from '../../protocol/types.js';
import type { ActivityItem } from '../../src/state/activity.js';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import '../../src/views/yg-node-view.js';
import '../../src/views/yg-overview-view.js';
import '../../src/views/yg-services-view.js';
import '../../src/views/yg-settings-view.js';
import '../../src/views/yg-tasks-view.js';
import type { RoutedView } from '../../src/views/routes.js';
import { mockAgent, mockSnapshot, mockTask, resources } from '../support/builders.js';
import { $, $$, settle, text, typeInto } from './harness.js';
import type { YgTestHost } from './harness.js';
import { mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const agents = [
  mockAgent({ id: 'a1', hostname: 'node-1', resources: resources({ cpus: 4, mem: 8192, disk: 1024 }), allocated: resources({ cpus: 1, mem: 2048 }) }),
  mockAgent({ id: 'a2', hostname: 'node-2', state: 'DRAINING' }),
];
const tasks = [
  mockTask({ id: 'web.1', name: 'web', agentId: 'a1', labels: { YAGURA_APP_ID: '/prod/web' }, updatedAt: 3 }),
  mockTask({ id: 'web.2', name: 'web', agentId: 'a2', labels: { YAGURA_APP_ID: '/prod/web' }, state: 'TASK_FAILED', updatedAt: 2 }),
  mockTask({ id: 'batch.1', name: 'batch', agentId: 'a1', state: 'TASK_FINISHED', updatedAt: 1 }),
];
const services = [
  mockService({ id: '/prod/web', status: 'Running' }),
  mockService({ id: '/prod/api', status: 'Deploying' }),
  mockService({ id: '/batch/reindex', status: 'Waiting', instances: 1, tasksRunning: 0 }),
];

async function page<T extends RoutedView>(tag: string, path: string, params = '', agentList: AgentView[] = agents) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.cluster.set(fromSnapshot(mockSnapshot({ seq: 1, agents: agentList, tasks, services })));
  const navigations: Array<{ to: string; replace?: boolean }> = [];
  host.addEventListener('yg-navigate', (e) => navigations.push(e.detail));
  const view = document.createElement(tag) as T;
  view.path = path;
  view.params = new URLSearchParams(params);
  host.append(view);
  await settle(view);
  return { host, view, navigations };
}

describe('yg-overview-view', () => {
  before(() => useTheme());

  it('shows allocation against capacity, counts by state with links, the sparkline and the live feed', async () => {
    const { view, host } = await page('yg-overview-view', '/');
    const bars = $$(view, 'yg-resource-bar');
    expect(bars.map((b) => text($(b, '.value')))).to.deep.equal(['1 of 4 CPUs', '2 GiB of 8 GiB', '0 MiB of 1 GiB'], 'only the active agent counts');
    const [agentCounts, serviceCounts, taskCounts] = $$(view, 'yg-breakdown');
    expect($$(agentCounts!, 'li').map((li) => text(li))).to.deep.equal(['active 1', 'draining 1']);
    expect($$<HTMLAnchorElement>(serviceCounts!, 'li a').map((a) => a.getAttribute('href'))).to.deep.equal([
      '/services?status=Running',
      '/services?status=Deploying',
      '/services?status=Waiting',
    ]);
    expect($$(taskCounts!, 'li').map((li) => text(li))).to.deep.equal(['running 1', 'finished 1', 'failed 1']);

    host.allocation.set([
      { at: 0, cpus: 1, cpusTotal: 4, mem: 1024, memTotal: 8192, disk: 0, diskTotal: 1 },
      { at: 5000, cpus: 2, cpusTotal: 4, mem: 2048, memTotal: 8192, disk: 0, diskTotal: 1 },
    ]);
    const item: ActivityItem = { key: '1', at: Date.now(), kind: 'task', tone: 'error', text: 'Task web failed', href: '/tasks/web.2' };
    host.activity.set([item]);
    await settle(view);
    expect($(view, 'yg-sparkline').shadowRoot!.querySelector('svg')!.getAttribute('aria-label')).to.contain('CPU 50 % now');
    expect(text($(view, 'yg-activity-feed'))).to.contain('Task web failed');
    await expect(view).to.be.accessible();
  });
});

describe('dark theme', () => {
  before(() => useTheme());
  afterEach(() => delete document.documentElement.dataset.theme);

  it('keeps text readable on the overview', async () => {
    document.documentElement.dataset.theme = 'dark';
    const { view } = await page('yg-overview-view', '/');
    expect(getComputedStyle(document.documentElement).colorScheme).to.equal('dark');
    await expect(view).to.be.accessible();
  });

  it('keeps text readable on the services list', async () => {
    document.documentElement.dataset.theme = 'dark';
    const { view } = await page('yg-services-view', '/services');
    await settle($(view, 'yg-service-table'));
    await expect(view).to.be.accessible();
  });
});

describe('yg-services-view', () => {
  before(() => useTheme());

  it('lists services with status counts, and filters by the address', async () => {
    const { view } = await page('yg-services-view', '/services', 'status=Running,Waiting');
    const table = $(view, 'yg-service-table');
    await settle(table);
    expect($$(table, 'tbody tr.row a').map((a) => a.textContent)).to.deep.equal(['reindex', 'web']);
    expect(text($(view, '.count'))).to.equal('2 of 3 services');
    const chips = $$<HTMLElement & { label: string; selected: boolean }>($(view, 'yg-filter-chips'), 'md-filter-chip');
    expect(chips.map((c) => `${c.label}${c.selected ? ' ✓' : ''}`)).to.deep.equal(['Running 1 ✓', 'Deploying 1', 'Suspended 0', 'Delayed 0', 'Waiting 1 ✓']);
    await expect(view).to.be.accessible();
  });

  it('puts chip choices and the search into the address', async () => {
    const { view, navigations } = await page('yg-services-view', '/services');
    const chips = $$($(view, 'yg-filter-chips'), 'md-filter-chip');
    $(chips[1]!, 'button').click();
    expect(navigations.pop()).to.deep.equal({ to: '/services?status=Deploying' });
    await typeInto($(view, 'md-outlined-text-field'), 'web');
    expect(navigations.pop()).to.deep.equal({ to: '/services?q=web', replace: true });
    expect($(view, 'md-filled-button').getAttribute('href')).to.equal('/services/new');
  });

  it('says when no service matches and offers to clear', async () => {
    const { view } = await page('yg-services-view', '/services', 'q=nothing-like-this');
    const table = $(view, 'yg-service-table');
    await settle(table);
    expect(text($(table, '.message'))).to.contain('No services match');
    expect($(view, 'a[slot="empty"]').getAttribute('href')).to.equal('/services');
  });
});

describe('yg-tasks-view', () => {
  before(() => useTheme());

  it('filters by state, agent, service and text from the address', async () => {
    const { view } = await page('yg-tasks-view', '/tasks', 'service=%2Fprod%2Fweb&state=active');
    const list = $(view, 'yg-task-list');
    await settle(list);
    await waitUntil(() => list.shadowRoot!.querySelectorAll('yg-task-row').length === 1);
    expect(text($(view, '.count'))).to.equal('1 of 3 tasks');
    expect($(view, 'a.clear').getAttribute('href')).to.equal('/tasks');
    await expect(view).to.be.accessible();
  });

  it('writes a changed filter to the address', async () => {
    const { view, navigations } = await page('yg-tasks-view', '/tasks', 'state=TASK_FAILED');
    const filters = $(view, 'yg-task-filters');
    await settle(filters);
    await typeInto($(filters, 'md-outlined-text-field'), 'w');
    expect(navigations.pop()).to.deep.equal({ to: '/tasks?state=TASK_FAILED&q=w', replace: true });
  });
});

describe('yg-node-view', () => {
  before(() => useTheme());

  it('shows the node with its resources and tasks, and drains it after confirming', async () => {
    const { view, host } = await page('yg-node-view', '/nodes/a1');
    expect(text($(view, 'h1'))).to.equal('node-1');
    expect($$(view, 'yg-resource-bar').map((b) => text($(b, '.value')))).to.deep.equal(['1 of 4 CPUs', '2 GiB of 8 GiB', '0 MiB of 1 GiB']);
    const list = $(view, 'yg-task-list');
    await settle(list);
    expect($$(list, 'yg-task-row').map((r) => (r as HTMLElement & { task: { id: string } }).task.id)).to.deep.equal(['web.1', 'batch.1']);
    await expect(view).to.be.accessible();

    $(view, 'md-filled-tonal-button').click();
    const dialog = $(view, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    expect(text($(dialog, '[slot="headline"]'))).to.equal('Drain node-1?');
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]).to.deep.equal({ method: 'POST', path: '/api/v1/agents/a1/drain', body: {} });
  });

  it('offers Reactivate for a draining node', async () => {
    const { view, host } = await page('yg-node-view', '/nodes/a2');
    expect(text($(view, 'md-filled-tonal-button'))).to.equal('Reactivate');
    $(view, 'md-filled-tonal-button').click();
    const dialog = $(view, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]!.path).to.equal('/api/v1/agents/a2/reactivate');
  });

  it('says when the node is unknown', async () => {
    const { view } = await page('yg-node-view', '/nodes/nope');
    expect(text($(view, '.state-page'))).to.contain('No node nope');
    await expect(view).to.be.accessible();
  });
});

describe('yg-settings-view', () => {
  before(() => useTheme());

  it('switches and keeps the theme', async () => {
    const { view, host } = await page('yg-settings-view', '/settings');
    const radios = $$<MdRadio>(view, 'md-radio');
    expect(radios.map((r) => `${r.value}${r.checked ? ' ✓' : ''}`)).to.deep.equal(['system ✓', 'light', 'dark']);
    radios[2]!.click();
    await settle(view);
    expect(host.theme.value.value).to.equal('dark');
    expect($$<MdRadio>(view, 'md-radio').map((r) => r.checked)).to.deep.equal([false, false, true]);
    await expect(view).to.be.accessible();
  });

  it('signs in with another token and logs out', async () => {
    const { view, host } = await page('yg-settings-view', '/settings');
    expect(text($(view, '#session-title + p'))).to.contain('…oken');
    await typeInto($(view, '#token'), 'second-token');
    $(view, 'md-filled-tonal-button').click();
    expect(host.tokens.value).to.equal('second-token');
    await settle(view);
    $(view, 'md-outlined-button').click();
    expect(host.tokens.value).to.equal(null);
  });

});
