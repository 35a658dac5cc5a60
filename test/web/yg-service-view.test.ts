import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import '../../src/views/yg-service-view.js';
import type { YgServiceView } from '../../src/views/yg-service-view.js';
import { mockAgent, mockSnapshot, mockTask } from '../support/builders.js';
import { $, $$, apiError, press, settle, text, typeInto } from './harness.js';
import type { YgTestHost } from './harness.js';
import { mockDeployment, mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const ID = '/prod/web';
const PATH = `/services/${encodeURIComponent(ID)}`;
const V1 = '2026-01-01T11:00:00.000Z';
const V2 = '2026-01-01T12:00:00.000Z';

const snapshot = () =>
  mockSnapshot({
    seq: 1,
    agents: [mockAgent({ id: 'a1', hostname: 'node-1' })],
    tasks: [
      mockTask({ id: 'prod_web.1', name: 'web', agentId: 'a1', labels: { YAGURA_APP_ID: ID } }),
      mockTask({ id: 'other.1', name: 'other', agentId: 'a1' }),
    ],
    services: [
      mockService({
        id: ID,
        version: V2,
        instances: 2,
        tasksRunning: 1,
        status: 'Waiting',
        waiting: 'waiting: no agent can take it — not enough free cpus (3 offers)',
        cmd: 'python3 -m http.server $PORT0',
      }),
    ],
  });

async function page(params = new URLSearchParams(), snap = snapshot()) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.api.handler = (call) => {
    if (call.path === '/v2/queue') {
      return { queue: [{ app: { id: ID }, count: 1, delay: { timeLeftSeconds: 0, overdue: true }, since: null, processedOffersSummary: { processedOffersCount: 3, unusedOffersCount: 3, rejectSummaryLastOffers: [{ reason: 'InsufficientCpus', declined: 3, processed: 3 }] } }] };
    }
    if (call.path.startsWith('/v2/apps/prod/web?embed')) return { app: { id: ID, cmd: 'python3 -m http.server $PORT0', instances: 2, version: V2, tasksRunning: 1, tasks: [], constraints: [] } };
    if (call.path === '/v2/apps/prod/web/versions') return { versions: [V2, V1] };
    if (call.path === `/v2/apps/prod/web/versions/${encodeURIComponent(V1)}`) return { id: ID, instances: 1, version: V1 };
    if (call.path === `/v2/apps/prod/web/versions/${encodeURIComponent(V2)}`) return { id: ID, instances: 2, version: V2 };
    return { deploymentId: 'd9', version: 'v9' };
  };
  host.cluster.set(fromSnapshot(snap));
  const view = document.createElement('yg-service-view') as YgServiceView;
  view.path = PATH;
  view.params = params;
  const navigations: string[] = [];
  host.addEventListener('yg-navigate', (e) => navigations.push(e.detail.to));
  host.append(view);
  await settle(view);
  return { host, view, navigations };
}

async function openDialog(view: YgServiceView, tag: string): Promise<HTMLElement> {
  const el = $(view, tag);
  await waitUntil(() => $<MdDialog>(el, 'md-dialog').open, `${tag} opens`);
  await settle(el);
  return el;
}

describe('yg-service-view', () => {
  before(() => useTheme());

  it('shows the service live from the store, its tasks, and why it is not running', async () => {
    const { view, host } = await page();
    expect(text($(view, 'h1'))).to.equal(ID);
    expect(text($(view, 'header yg-state-chip'))).to.equal('Waiting');
    const list = $(view, 'yg-task-list');
    await settle(list);
    expect($$(list, 'yg-task-row').map((r) => (r as HTMLElement & { task: { id: string } }).task.id)).to.deep.equal(['prod_web.1']);
    await waitUntil(() => view.shadowRoot!.querySelector('.notice li'), 'the queue reasons arrive');
    const notice = text($(view, '.notice'));
    expect(notice).to.contain('not enough free cpus');
    expect(notice).to.contain('InsufficientCpus: 3 of 3 offers');
    expect(host.api.calls.filter((c) => c.path === '/v2/queue')).to.have.length(1, 'asked once, not polled');
    await expect(view).to.be.accessible();
  });

  it('scales from a dialog', async () => {
    const { view, host } = await page();
    $(view, 'md-filled-tonal-button').click();
    const dialog = await openDialog(view, 'yg-scale-dialog');
    await typeInto($(dialog, 'md-outlined-text-field'), '4');
    await press('Enter');
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]).to.deep.equal({ method: 'PUT', path: '/v2/apps/prod/web', body: { instances: 4 } });
    await waitUntil(() => !$<MdDialog>(dialog, 'md-dialog').open, 'closes once done');
  });

  it('restarts after confirming, and forces it when a deployment holds the app', async () => {
    const { view, host } = await page();
    let locked = true;
    const normal = host.api.handler;
    host.api.handler = (call) => {
      if (call.method === 'POST' && locked) {
        locked = false;
        throw apiError(409, { message: 'App is locked by one or more deployments.', details: [] });
      }
      return normal(call);
    };
    $$(view, 'md-outlined-button').find((b) => b.textContent!.includes('Restart'))!.click();
    const dialog = await openDialog(view, 'yg-confirm-dialog');
    expect(text($(dialog, '[slot="headline"]'))).to.equal(`Restart ${ID}?`);
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => dialog.shadowRoot!.querySelector('[role="alert"]'), 'the conflict shows');
    expect(text($(dialog, '[role="alert"]'))).to.contain('Confirm again to force it.');
    await settle(dialog);
    expect(text($(dialog, 'md-filled-button'))).to.equal('Force: Restart');
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 2);
    expect(host.api.commands.map((c) => `${c.method} ${c.path}`)).to.deep.equal(['POST /v2/apps/prod/web/restart', 'POST /v2/apps/prod/web/restart?force=true']);
  });

  it('removes after confirming and goes back to the list', async () => {
    const { view, host, navigations } = await page();
    $$(view, 'md-text-button').find((b) => b.textContent!.includes('Remove'))!.click();
    const dialog = await openDialog(view, 'yg-confirm-dialog');
    await expect(dialog).to.be.accessible();
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => navigations.length === 1);
    expect(host.api.commands[0]).to.deep.include({ method: 'DELETE', path: '/v2/apps/prod/web' });
    expect(navigations).to.deep.equal(['/services']);
  });

  it('shows deployment progress and cancels it', async () => {
    const snap = snapshot();
    snap.services[0] = { ...snap.services[0]!, status: 'Deploying', waiting: undefined, deployments: ['d1'] };
    snap.deployments = [mockDeployment({ id: 'd1', affectedApps: [ID] })];
    const { view, host } = await page(new URLSearchParams(), snap);
    const progress = $(view, 'yg-deployment-progress');
    await settle(progress);
    $(progress, 'md-outlined-button').click();
    const dialog = await openDialog(view, 'yg-confirm-dialog');
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]).to.deep.include({ method: 'DELETE', path: '/v2/deployments/d1' });
  });

  it('shows the configuration as JSON without runtime fields', async () => {
    const { view } = await page(new URLSearchParams('tab=config'));
    await waitUntil(() => view.shadowRoot!.querySelector('pre.code'), 'the definition loads');
    expect(JSON.parse($(view, 'pre.code').textContent!)).to.deep.equal({ id: ID, cmd: 'python3 -m http.server $PORT0', instances: 2, constraints: [] });
    await expect(view).to.be.accessible();
  });

  it('lists versions, diffs two of them and rolls back', async () => {
    const { view, host } = await page(new URLSearchParams('tab=versions'));
    await waitUntil(() => view.shadowRoot!.querySelector('yg-json-diff'), 'both versions load and the diff shows');
    const diff = $(view, 'yg-json-diff');
    await settle(diff);
    expect($$(diff, '.line.added, .line.removed').map((l) => l.textContent!.replace(/\s+/g, ' ').trim())).to.deep.equal([
      '3−removed: "instances": 1',
      '3+added: "instances": 2',
    ]);
    const rows = $$(view, 'ol.version-list li');
    expect(rows.map((r) => text($(r, '.version-id')))).to.deep.equal([V2, V1]);
    $(rows[1]!, 'md-text-button').click();
    const dialog = await openDialog(view, 'yg-confirm-dialog');
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]).to.deep.equal({ method: 'PUT', path: '/v2/apps/prod/web', body: { version: V1 } });
    await expect(view).to.be.accessible();
  });

  it('says when the service does not exist, and while the store is loading', async () => {
    const { view, host } = await page(new URLSearchParams(), mockSnapshot({ seq: 1 }));
    expect(text($(view, '.state-page'))).to.contain(`No service ${ID}`);
    await expect(view).to.be.accessible();
    host.cluster.set({ ...host.cluster.value, loaded: false });
    await settle(view);
    expect(text($(view, '.state-page'))).to.contain('Waiting for the master');
  });
});
