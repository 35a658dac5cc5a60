import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../src/components/yg-run-history.js';
import type { RunOutputState, YgRunHistory } from '../../src/components/yg-run-history.js';
import { $, $$, press, text } from './harness.js';
import { mockRun, NOW } from './mock-jobs.js';
import { useTheme } from './theme.js';

const JOB = 'prod.backup';
const runs = [
  mockRun({ id: 'r4', jobId: JOB, status: 'ACTIVE', trigger: 'manual', createdAt: NOW - 20_000, startedAt: NOW - 15_000, agentId: 'a1', hostname: 'node-1' }),
  mockRun({
    id: 'r3',
    jobId: JOB,
    status: 'FAILED',
    trigger: 'schedule',
    scheduledAt: NOW - 3600_000,
    createdAt: NOW - 3600_000,
    startedAt: NOW - 3600_000 + 2000,
    finishedAt: NOW - 3600_000 + 14_400,
    durationMs: 12_400,
    attempts: 2,
    taskIds: ['t3.1', 't3.2'],
    exitCode: 2,
    reason: 'failed: exit code 2',
    agentId: 'a1',
    hostname: 'node-1',
  }),
  mockRun({ id: 'r2', jobId: JOB, status: 'SUCCESS', createdAt: NOW - 7200_000, startedAt: NOW - 7200_000, finishedAt: NOW - 7200_000 + 850, durationMs: 850, exitCode: 0 }),
  mockRun({ id: 'r1', jobId: JOB, status: 'FAILED', skipped: true, trigger: 'schedule', scheduledAt: NOW - 86_400_000, createdAt: NOW - 80_000_000, taskIds: [], attempts: 0, reason: 'missed: master was down' }),
];

const rowOf = (el: YgRunHistory, id: string) => $$<HTMLTableRowElement>(el, 'tbody tr.row').find((r) => text($(r, '.run-id')) === id)!;
const cell = (row: HTMLTableRowElement, label: string) => text($(row, `td[data-label="${label}"]`));

describe('yg-run-history', () => {
  before(() => useTheme());

  it('shows each run with start, duration, status, exit code and node', async () => {
    const el = await fixture<YgRunHistory>(html`<yg-run-history .runs=${runs} .now=${NOW}></yg-run-history>`);
    expect($$(el, 'tbody tr.row').map((r) => text($(r, '.run-id')))).to.deep.equal(['r4', 'r3', 'r2', 'r1']);
    const active = rowOf(el, 'r4');
    expect(cell(active, 'Status')).to.equal('Running');
    expect(cell(active, 'Started')).to.equal('15 s ago');
    expect(cell(active, 'Duration')).to.equal('15 s…', 'a running run counts up');
    expect(cell(active, 'Exit code')).to.equal('—');
    expect($(active, 'td[data-label="Node"] a').getAttribute('href')).to.equal('/nodes/a1');

    const failed = rowOf(el, 'r3');
    expect(text($(failed, '.trigger'))).to.equal('Scheduled · 2 attempts');
    expect(cell(failed, 'Status')).to.equal('Failed');
    expect($(failed, 'yg-state-chip').getAttribute('title')).to.equal('failed: exit code 2');
    expect(cell(failed, 'Started')).to.equal('59 min ago');
    expect(cell(failed, 'Duration')).to.equal('12 s');
    expect(cell(failed, 'Exit code')).to.equal('2');
    expect($(failed, 'td[data-label="Exit code"] .bad')).to.exist;

    const ok = rowOf(el, 'r2');
    expect([cell(ok, 'Status'), cell(ok, 'Duration'), cell(ok, 'Exit code'), text($(ok, '.trigger'))]).to.deep.equal(['Succeeded', '850 ms', '0', 'Run now']);
    expect(cell(rowOf(el, 'r1'), 'Status')).to.equal('Skipped');
    expect(cell(rowOf(el, 'r1'), 'Duration')).to.equal('—');
    await expect(el).to.be.accessible();
  });

  it('asks for a run’s output with the keyboard and shows stdout and stderr once the page has them', async () => {
    const el = await fixture<YgRunHistory>(html`<yg-run-history .runs=${runs} .now=${NOW}></yg-run-history>`);
    const toggle = $<HTMLButtonElement>(rowOf(el, 'r3'), 'button.toggle');
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    toggle.focus();
    setTimeout(() => void press('Enter'));
    expect((await oneEvent(el, 'yg-run-toggle')).detail).to.deep.equal({ runId: 'r3', open: true });

    el.open = 'r3';
    el.outputs = new Map<string, RunOutputState>([['r3', { state: 'loading' }]]);
    await el.updateComplete;
    expect($(rowOf(el, 'r3'), 'button.toggle').getAttribute('aria-expanded')).to.equal('true');
    const panel = $(el, '#output-r3');
    expect($(rowOf(el, 'r3'), 'button.toggle').getAttribute('aria-controls')).to.equal('output-r3');
    expect(panel.querySelector('md-linear-progress')).to.exist;
    expect(text(panel)).to.contain('Reason: failed: exit code 2');
    expect([...panel.querySelectorAll('a')].map((a) => a.getAttribute('href'))).to.deep.equal(['/tasks/t3.1', '/tasks/t3.2']);

    el.outputs = new Map<string, RunOutputState>([['r3', { state: 'done', stdout: 'dumping orders\n', stderr: 'pg_dump: connection refused\n' }]]);
    await el.updateComplete;
    const [stdout, stderr] = $$(el, '#output-r3 pre');
    expect(stdout!.textContent).to.equal('dumping orders\n');
    expect(stderr!.textContent).to.equal('pg_dump: connection refused\n');
    expect($$(el, '#output-r3 .stream-title').map((h) => text(h))).to.deep.equal(['stdout 15 B', 'stderr 28 B']);
    await expect(el).to.be.accessible();

    const closing = oneEvent(el, 'yg-run-toggle');
    $<HTMLButtonElement>(rowOf(el, 'r3'), 'button.toggle').click();
    expect((await closing).detail).to.deep.equal({ runId: 'r3', open: false });
  });

  it('says why output cannot be read, and that a skipped slot has none', async () => {
    const el = await fixture<YgRunHistory>(html`<yg-run-history
      .runs=${runs}
      .now=${NOW}
      open="r2"
      .outputs=${new Map<string, RunOutputState>([['r2', { state: 'error', message: 'Run not found' }]])}
    ></yg-run-history>`);
    expect(text($(el, '#output-r2 [role="alert"]'))).to.equal('The output could not be read: Run not found');
    el.open = 'r1';
    await el.updateComplete;
    expect(text($(el, '#output-r1'))).to.contain('This slot was skipped');
    await expect(el).to.be.accessible();
  });

  it('points an active run to its live task log and offers to stop it', async () => {
    const el = await fixture<YgRunHistory>(html`<yg-run-history .runs=${runs} .now=${NOW} open="r4"></yg-run-history>`);
    const panel = $(el, '#output-r4');
    expect(text(panel)).to.contain('The output is kept when the run ends.');
    expect([...panel.querySelectorAll('a')].map((a) => a.getAttribute('href'))).to.include(`/tasks/${JOB}_r4.1`);
    await expect(el).to.be.accessible();
    setTimeout(() => panel.querySelector<HTMLElement>('md-text-button')!.click());
    expect((await oneEvent(el, 'yg-run-stop')).detail).to.deep.equal({ runId: 'r4' });
    el.stopping = new Set(['r4']);
    await el.updateComplete;
    expect(panel.querySelector<HTMLElement & { disabled: boolean }>('md-text-button')!.disabled).to.equal(true);
  });

  it('tells loading from empty, and shows a failed history read', async () => {
    const loading = await fixture<YgRunHistory>(html`<yg-run-history loading></yg-run-history>`);
    expect(loading.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    await expect(loading).to.be.accessible();
    const empty = await fixture<YgRunHistory>(html`<yg-run-history error="403 Forbidden"></yg-run-history>`);
    expect(text($(empty, '.message'))).to.contain('No runs yet');
    expect(text($(empty, '[role="alert"]'))).to.contain('403 Forbidden');
    await expect(empty).to.be.accessible();
  });
});
