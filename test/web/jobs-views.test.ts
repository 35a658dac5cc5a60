// The jobs list and a job's page, on the contexts the shell would hand them, with a fake
// /v1/jobs API; live changes arrive as stream events, as they would from the master.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import type { StreamEvent, JobRunView, JobView } from '../../protocol/types.js';
import '../../src/components/yg-job-digest.js';
import type { YgJobDigest } from '../../src/components/yg-job-digest.js';
import { applyEvents, fromSnapshot } from '../../src/state/cluster-state.js';
import '../../src/views/yg-job-view.js';
import '../../src/views/yg-jobs-view.js';
import type { NavigateDetail, RoutedView } from '../../src/views/routes.js';
import { mockSnapshot } from '../support/builders.js';
import { $, $$, apiError, settle, text, typeInto } from './harness.js';
import type { ApiCall, YgTestHost } from './harness.js';
import { mockJob, mockRun, NOW, runJson } from './mock-jobs.js';
import { useTheme } from './theme.js';

/** The jobs as the master would show them at `now`: prod.backup is due in 5½ minutes. */
const makeJobs = (now = Date.now()): JobView[] => [
  mockJob({
    id: 'prod.backup',
    description: 'Nightly database dump',
    cmd: 'pg_dump orders',
    status: 'scheduled',
    schedules: [{ id: 'nightly', kind: 'cron', expr: '*/5 * * * *', timezone: 'UTC', enabled: true, concurrencyPolicy: 'ALLOW', nextRunAt: now + 5 * 60_000 + 30_000 }],
    successCount: 2,
    failureCount: 1,
    lastRunStatus: 'FAILED',
    lastFailureAt: NOW,
  }),
  mockJob({ id: 'prod.report', dependencies: ['prod.backup'], successCount: 1, lastRunStatus: 'SUCCESS', lastSuccessAt: NOW }),
  mockJob({ id: 'tools.cleanup' }),
];

// The stream has the latest finished run; the history (REST) has older ones too.
const r3 = mockRun({ id: 'r3', jobId: 'prod.backup', status: 'FAILED', createdAt: NOW - 3000, startedAt: NOW - 3000, finishedAt: NOW - 1000, durationMs: 2000, exitCode: 1 });
const r2 = mockRun({ id: 'r2', jobId: 'prod.backup', createdAt: NOW - 7000, startedAt: NOW - 7000, finishedAt: NOW - 6000, durationMs: 1000, exitCode: 0 });
const r1 = mockRun({ id: 'r1', jobId: 'prod.backup', createdAt: NOW - 9000, startedAt: NOW - 9000, finishedAt: NOW - 8500, durationMs: 500, exitCode: 0 });
const started = mockRun({ id: 'r9', jobId: 'prod.backup', status: 'INITIAL', createdAt: NOW + 1000, taskIds: [] });

function handler(call: ApiCall): unknown {
  if (call.method === 'GET' && call.path === '/v1/jobs/prod.backup/runs?all=true') return [r3, r2, r1].map((r) => runJson(r));
  if (call.method === 'GET' && call.path === '/v1/jobs/prod.backup/runs/r3') return runJson(r3, { stdout: 'dumping\n', stderr: 'pg_dump: connection refused\n' });
  if (call.method === 'GET' && call.path === '/v1/jobs/prod.backup/runs/r9') {
    return runJson({ ...started, status: 'SUCCESS', startedAt: NOW + 1000, finishedAt: NOW + 2000, durationMs: 1000, exitCode: 0 }, { stdout: 'hello-from-job\n', stderr: '' });
  }
  if (call.method === 'GET' && call.path === '/v1/jobs/prod.backup?embed=schedules') return { id: 'prod.backup', run: { cmd: 'pg_dump orders', cpus: 0.5, mem: 64 } };
  if (call.method === 'POST' && /^\/v1\/jobs\/[^/]+\/runs$/.test(call.path)) return runJson({ ...started, jobId: decodeURIComponent(call.path.split('/')[3]!) });
  return {};
}

async function page<T extends RoutedView>(tag: string, path: string, params = '', loaded = true) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.api.handler = handler;
  if (loaded) host.cluster.set(fromSnapshot(mockSnapshot({ seq: 1, jobs: makeJobs(), jobRuns: [r3] })));
  const navigations: NavigateDetail[] = [];
  host.addEventListener('yg-navigate', (e) => navigations.push(e.detail));
  const view = document.createElement(tag) as T;
  view.path = path;
  view.params = new URLSearchParams(params);
  host.append(view);
  await settle(view);
  return { host, view, navigations };
}

/** Follows a navigation the way the shell would: new params on the same view. */
async function follow(view: RoutedView, to: string) {
  const url = new URL(to, 'http://dashboard.test');
  view.path = url.pathname;
  view.params = url.searchParams;
  await settle(view);
}

let seq = 1;
type Change = { kind: 'jobRun'; op: 'put'; id: string; data: JobRunView } | { kind: 'jobRun'; op: 'patch'; id: string; data: Partial<JobRunView> };
function stream(host: YgTestHost, ...events: Change[]) {
  host.cluster.set(applyEvents(host.cluster.value, events.map((e): StreamEvent => ({ ...e, seq: ++seq, at: Date.now() }))));
}

const rows = (el: Element) => $$(el, 'tbody tr.row');

describe('yg-jobs-view', () => {
  before(() => useTheme());

  it('lists jobs with counts per status and last outcome, and filters by the address', async () => {
    const { view } = await page('yg-jobs-view', '/jobs', 'outcome=Failed');
    const table = $(view, 'yg-job-table');
    await settle(table);
    expect(rows(table).map((r) => text($(r, 'td.title a')))).to.deep.equal(['prod.backup']);
    expect(text($(view, '.count'))).to.equal('1 of 3 jobs');
    const [status, outcome] = $$(view, 'yg-filter-chips');
    const chips = (el: Element) => $$<HTMLElement & { label: string; selected: boolean }>(el, 'md-filter-chip').map((c) => `${c.label}${c.selected ? ' ✓' : ''}`);
    expect(chips(status!)).to.deep.equal(['Running 0', 'Waiting 0', 'Scheduled 1', 'Idle 2', 'Disabled 0']);
    expect(chips(outcome!)).to.deep.equal(['Succeeded 1', 'Failed 1 ✓', 'Never run 1']);
    await expect(view).to.be.accessible();
  });

  it('puts filters, the search and the graph tab into the address', async () => {
    const { view, navigations } = await page('yg-jobs-view', '/jobs', 'outcome=Failed');
    const [status] = $$(view, 'yg-filter-chips');
    $($$(status!, 'md-filter-chip')[0]!, 'button').click();
    expect(navigations.pop()).to.deep.equal({ to: '/jobs?status=Running&outcome=Failed' });
    await typeInto($(view, 'md-outlined-text-field'), 'rep');
    expect(navigations.pop()).to.deep.equal({ to: '/jobs?outcome=Failed&q=rep', replace: true });
    $$(view, 'md-primary-tab')[1]!.click();
    await waitUntil(() => navigations.length > 0);
    expect(navigations.pop()).to.deep.equal({ to: '/jobs?view=graph&outcome=Failed' });
  });

  it('runs a job now from its row and links to the new run', async () => {
    const { view, host } = await page('yg-jobs-view', '/jobs');
    const table = $(view, 'yg-job-table');
    await settle(table);
    const row = rows(table).find((r) => text($(r, 'td.title a')) === 'tools.cleanup')!;
    $(row, 'md-icon-button').click();
    await waitUntil(() => view.shadowRoot!.querySelector('.started'), 'the run is reported');
    expect(host.api.commands).to.deep.equal([{ method: 'POST', path: '/v1/jobs/tools.cleanup/runs', body: {} }]);
    expect(text($(view, '.started'))).to.contain('Started a run of tools.cleanup.');
    expect($(view, '.started a').getAttribute('href')).to.equal('/jobs/tools.cleanup?run=r9');
    await expect(view).to.be.accessible();
  });

  it('says why a run could not start', async () => {
    const { view, host } = await page('yg-jobs-view', '/jobs');
    host.api.handler = () => {
      throw apiError(404, { message: "Job 'tools.cleanup' does not exist", details: [] });
    };
    const table = $(view, 'yg-job-table');
    await settle(table);
    $(rows(table).find((r) => text($(r, 'td.title a')) === 'tools.cleanup')!, 'md-icon-button').click();
    await waitUntil(() => view.shadowRoot!.querySelector('[role="alert"]'));
    expect(text($(view, '[role="alert"]'))).to.equal("tools.cleanup could not be started: Job 'tools.cleanup' does not exist");
  });

  it('shows the dependency graph, whose nodes route within the app', async () => {
    const { view, navigations } = await page('yg-jobs-view', '/jobs', 'view=graph');
    const graph = $(view, 'yg-job-graph');
    await settle(graph);
    const nodes = $$<SVGAElement>(graph, 'svg a.node');
    expect(nodes.map((n) => n.getAttribute('href')).sort()).to.deep.equal(['/jobs/prod.backup', '/jobs/prod.report']);
    const click = new MouseEvent('click', { bubbles: true, composed: true, cancelable: true, button: 0 });
    nodes.find((n) => n.getAttribute('href') === '/jobs/prod.report')!.dispatchEvent(click);
    expect(click.defaultPrevented).to.equal(true, 'no page load');
    expect(navigations).to.deep.equal([{ to: '/jobs/prod.report' }]);
    await expect(view).to.be.accessible();
  });

  it('shows loading until the first snapshot', async () => {
    const { view } = await page('yg-jobs-view', '/jobs', '', false);
    const table = $(view, 'yg-job-table');
    await settle(table);
    expect(table.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    expect(view.shadowRoot!.querySelector('.count')).to.equal(null);
    await expect(view).to.be.accessible();
  });
});

describe('yg-job-view', () => {
  before(() => useTheme());

  it('shows the job live from the store and its history merged from the API', async () => {
    const { view, host } = await page('yg-job-view', '/jobs/prod.backup');
    expect(text($(view, 'h1'))).to.equal('prod.backup');
    expect(text($(view, 'header yg-state-chip'))).to.equal('Scheduled');
    const summary = text($(view, '.summary'));
    expect(summary).to.contain('*/5 * * * * cron in UTC · next in 5 min');
    expect(summary).to.contain('0.5 CPUs · 64 MiB memory · 0 MiB disk');
    expect(summary).to.contain('2 ok · 1 failed');
    expect($(view, '.summary .links a').getAttribute('href')).to.equal('/jobs/prod.report', 'followed by');
    const history = $(view, 'yg-run-history');
    await waitUntil(() => rows(history).length === 3, 'the history arrives');
    expect(rows(history).map((r) => text($(r, '.run-id')))).to.deep.equal(['r3', 'r2', 'r1']);
    expect(host.api.calls.filter((c) => c.path.includes('/runs?all=true'))).to.have.length(1, 'read once, not polled');
    await expect(view).to.be.accessible();
  });

  it('runs it now and shows the new run going live, then its output', async () => {
    const { view, host, navigations } = await page('yg-job-view', '/jobs/prod.backup');
    $(view, 'header md-filled-tonal-button').click();
    await waitUntil(() => navigations.length === 1);
    expect(host.api.commands).to.deep.equal([{ method: 'POST', path: '/v1/jobs/prod.backup/runs', body: {} }]);
    expect(navigations[0]).to.deep.equal({ to: '/jobs/prod.backup?run=r9', replace: true });
    await follow(view, navigations[0]!.to);

    stream(host, { kind: 'jobRun', op: 'put', id: 'r9', data: started });
    const history = $(view, 'yg-run-history');
    await waitUntil(() => history.shadowRoot!.querySelector('#output-r9'), 'the new run appears, open');
    expect(text($(rows(history)[0]!, 'yg-state-chip'))).to.equal('Queued');
    expect(host.api.calls.some((c) => c.path.endsWith('/runs/r9'))).to.equal(false, 'no output before it ends');

    stream(host, { kind: 'jobRun', op: 'patch', id: 'r9', data: { status: 'ACTIVE', startedAt: NOW + 1000, taskIds: ['prod.backup_r9.1'], attempts: 1 } });
    await settle(view);
    expect(text($(rows(history)[0]!, 'yg-state-chip'))).to.equal('Running');
    stream(host, { kind: 'jobRun', op: 'patch', id: 'r9', data: { status: 'SUCCESS', finishedAt: NOW + 2000, durationMs: 1000, exitCode: 0 } });
    await waitUntil(() => history.shadowRoot!.querySelector('#output-r9 pre'), 'the output arrives once the run ended');
    expect($(history, '#output-r9 pre').textContent).to.equal('hello-from-job\n');
    expect(text($(rows(history)[0]!, 'yg-state-chip'))).to.equal('Succeeded');
    await expect(view).to.be.accessible();
  });

  it('opens a finished run’s output by its address', async () => {
    const { view, navigations } = await page('yg-job-view', '/jobs/prod.backup');
    const history = $(view, 'yg-run-history');
    await waitUntil(() => rows(history).length === 3);
    $(rows(history)[0]!, 'button.toggle').click();
    expect(navigations.pop()).to.deep.equal({ to: '/jobs/prod.backup?run=r3', replace: true });
    await follow(view, '/jobs/prod.backup?run=r3');
    await waitUntil(() => history.shadowRoot!.querySelectorAll('#output-r3 pre').length === 2, 'stdout and stderr');
    expect($$(history, '#output-r3 pre').map((p) => p.textContent)).to.deep.equal(['dumping\n', 'pg_dump: connection refused\n']);
    await expect(view).to.be.accessible();
  });

  it('removes the job after confirming, and shows why the master refused', async () => {
    const { view, host, navigations } = await page('yg-job-view', '/jobs/prod.backup');
    host.api.handler = (call) => {
      if (call.method === 'DELETE') throw apiError(409, { message: "Job 'prod.backup' cannot be deleted: other jobs depend on it", details: [] });
      return handler(call);
    };
    $(view, 'header md-text-button').click();
    const dialog = $(view, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    await settle(dialog);
    expect(text(dialog)).to.contain('prod.report runs after it');
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => dialog.shadowRoot!.querySelector('[role="alert"]'));
    expect(text($(dialog, '[role="alert"]'))).to.contain('other jobs depend on it');
    expect(host.api.commands.map((c) => `${c.method} ${c.path}`)).to.deep.equal(['DELETE /v1/jobs/prod.backup']);
    await expect(dialog).to.be.accessible();

    host.api.handler = handler;
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => navigations.length === 1);
    expect(navigations).to.deep.equal([{ to: '/jobs' }]);
  });

  it('stops an active run after confirming', async () => {
    const { view, host } = await page('yg-job-view', '/jobs/prod.backup', 'run=r4');
    stream(host, { kind: 'jobRun', op: 'put', id: 'r4', data: mockRun({ id: 'r4', jobId: 'prod.backup', status: 'ACTIVE', createdAt: NOW, startedAt: NOW }) });
    const history = $(view, 'yg-run-history');
    await waitUntil(() => history.shadowRoot!.querySelector('#output-r4 md-text-button'));
    $(history, '#output-r4 md-text-button').click();
    const dialog = $(view, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]).to.deep.equal({ method: 'POST', path: '/v1/jobs/prod.backup/runs/r4/actions/stop', body: {} });
  });

  it('shows where the job sits among its dependencies', async () => {
    const { view } = await page('yg-job-view', '/jobs/prod.report', 'tab=dependencies');
    const graph = $(view, 'yg-job-graph');
    await settle(graph);
    const labels = $$(graph, 'svg a.node').map((n) => n.getAttribute('aria-label')!);
    expect(labels).to.have.length(2);
    expect(labels[0]).to.match(/^prod\.backup: failed /);
    expect(labels[1]).to.match(/^prod\.report \(this job\): succeeded .*, runs after prod\.backup$/);
    expect($(graph, 'svg a.node.focus').getAttribute('href')).to.equal('/jobs/prod.report');
    await expect(view).to.be.accessible();
  });

  it('shows the definition as JSON', async () => {
    const def = await page('yg-job-view', '/jobs/prod.backup', 'tab=definition');
    await waitUntil(() => def.view.shadowRoot!.querySelector('pre.code'), 'the definition loads');
    expect(JSON.parse($(def.view, 'pre.code').textContent!)).to.deep.equal({ id: 'prod.backup', run: { cmd: 'pg_dump orders', cpus: 0.5, mem: 64 } });
    await expect(def.view).to.be.accessible();
  });

  it('shows loading until the first snapshot', async () => {
    const loading = await page('yg-job-view', '/jobs/prod.backup', '', false);
    expect(loading.view.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    await expect(loading.view).to.be.accessible();
  });

  it('says when the job is not there', async () => {
    const missing = await page('yg-job-view', '/jobs/nope');
    expect(text($(missing.view, '.state-page'))).to.contain('No job nope');
    await expect(missing.view).to.be.accessible();
  });
});

describe('the overview’s jobs card', () => {
  before(() => useTheme());

  it('lists jobs due next and jobs whose last run failed', async () => {
    const now = Date.now();
    const el = await fixture<YgJobDigest>(html`<yg-job-digest
      .now=${now}
      .jobs=${[
        ...makeJobs(now),
        mockJob({ id: 'a.sooner', schedules: [{ id: 's', kind: 'cron', expr: '* * * * *', timezone: 'UTC', enabled: true, concurrencyPolicy: 'ALLOW', nextRunAt: now + 30_000 }] }),
        mockJob({ id: 'b.paused', schedules: [{ id: 's', kind: 'cron', expr: '* * * * *', timezone: 'UTC', enabled: false, concurrencyPolicy: 'ALLOW', nextRunAt: now + 1000 }] }),
      ]}
    ></yg-job-digest>`);
    const [due, failed] = $$(el, 'section');
    expect($$(due!, 'li').map((li) => text(li))).to.deep.equal(['a.sooner in 30 s', 'prod.backup in 5 min']);
    expect($$<HTMLAnchorElement>(failed!, 'li a').map((a) => a.getAttribute('href'))).to.deep.equal(['/jobs/prod.backup']);
    expect(text($(el, '.summary'))).to.equal('5 jobs. All jobs');
    await expect(el).to.be.accessible();
    el.jobs = [];
    await el.updateComplete;
    expect(text(el)).to.contain('No jobs yet');
  });
});

describe('jobs in the dark theme', () => {
  before(() => useTheme());
  afterEach(() => delete document.documentElement.dataset.theme);

  it('keeps the list, the graph and a run’s output readable', async () => {
    document.documentElement.dataset.theme = 'dark';
    const list = await page('yg-jobs-view', '/jobs');
    await settle($(list.view, 'yg-job-table'));
    await expect(list.view).to.be.accessible();
    list.host.remove();
    const graph = await page('yg-jobs-view', '/jobs', 'view=graph');
    await settle($(graph.view, 'yg-job-graph'));
    await expect(graph.view).to.be.accessible();
    graph.host.remove();
    const job = await page('yg-job-view', '/jobs/prod.backup', 'run=r3');
    const history = $(job.view, 'yg-run-history');
    await waitUntil(() => history.shadowRoot!.querySelectorAll('#output-r3 pre').length === 2);
    await expect(job.view).to.be.accessible();
  });
});
