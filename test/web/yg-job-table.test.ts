import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../src/components/yg-job-table.js';
import type { YgJobTable } from '../../src/components/yg-job-table.js';
import { formatDuration, formatIn } from '../../src/components/job-format.js';
import { $, $$, press, text } from './harness.js';
import { mockJob, NOW } from './mock-jobs.js';
import { useTheme } from './theme.js';

const jobs = [
  mockJob({
    id: 'prod.backup',
    description: 'Nightly database dump',
    status: 'scheduled',
    schedules: [{ id: 'nightly', kind: 'cron', expr: '0 2 * * *', timezone: 'Europe/Berlin', enabled: true, concurrencyPolicy: 'FORBID', nextRunAt: NOW + 5 * 60_000 }],
    successCount: 12,
    failureCount: 1,
    lastRunStatus: 'FAILED',
    lastFailureAt: NOW - 2 * 3600_000,
    lastSuccessAt: NOW - 26 * 3600_000,
    p50DurationMs: 12_400,
    p95DurationMs: 95_000,
  }),
  mockJob({ id: 'prod.report', dependencies: ['prod.backup'], status: 'running', activeRuns: 1, successCount: 3, lastRunStatus: 'SUCCESS', lastSuccessAt: NOW - 30_000 }),
  mockJob({ id: 'tools.cleanup' }),
];

const rowOf = (el: YgJobTable, id: string) => $$<HTMLTableRowElement>(el, 'tbody tr.row').find((r) => text($(r, 'td.title a')) === id)!;
const cell = (row: HTMLTableRowElement, label: string) => text($(row, `td[data-label="${label}"]`));

describe('yg-job-table', () => {
  before(() => useTheme());

  it('shows status, schedule, next run, last outcome, counts and duration with units', async () => {
    const el = await fixture<YgJobTable>(html`<yg-job-table .jobs=${jobs} .now=${NOW}></yg-job-table>`);
    const backup = rowOf(el, 'prod.backup');
    expect($(backup, 'td.title a').getAttribute('href')).to.equal('/jobs/prod.backup');
    expect(text($(backup, '.description'))).to.equal('Nightly database dump');
    expect(cell(backup, 'Status')).to.equal('Scheduled');
    expect(cell(backup, 'Schedule')).to.equal('0 2 * * * Europe/Berlin');
    expect(cell(backup, 'Next run')).to.equal('in 5 min');
    expect($(backup, 'td[data-label="Next run"] time').getAttribute('datetime')).to.equal(new Date(NOW + 5 * 60_000).toISOString());
    expect(cell(backup, 'Last run')).to.equal('Failed 2 h ago');
    expect($(backup, 'td[data-label="Last run"] yg-state-chip').getAttribute('tone')).to.equal('error');
    expect(cell(backup, 'Runs')).to.equal('12 ok · 1 failed');
    expect(cell(backup, 'Typical duration')).to.equal('12 s');

    const report = rowOf(el, 'prod.report');
    expect(cell(report, 'Status')).to.equal('Running');
    expect(cell(report, 'Schedule')).to.equal('after prod.backup');
    expect(cell(report, 'Next run')).to.equal('—');
    expect(cell(report, 'Last run')).to.equal('Succeeded 30 s ago');

    const cleanup = rowOf(el, 'tools.cleanup');
    expect(cell(cleanup, 'Schedule')).to.equal('On demand');
    expect(cell(cleanup, 'Last run')).to.equal('Never run');
    expect(cell(cleanup, 'Runs')).to.equal('none yet');
    await expect(el).to.be.accessible();
  });

  it('asks to run a job now from its row, with the keyboard, and waits while it starts', async () => {
    const el = await fixture<YgJobTable>(html`<yg-job-table .jobs=${jobs} .now=${NOW}></yg-job-table>`);
    const button = $<HTMLElement & { disabled: boolean }>(rowOf(el, 'tools.cleanup'), 'md-icon-button');
    expect(button.getAttribute('aria-label')).to.equal('Run tools.cleanup now');
    button.focus();
    setTimeout(() => void press('Enter'));
    const event = await oneEvent(el, 'yg-job-run');
    expect(event.detail).to.deep.equal({ id: 'tools.cleanup' });

    el.starting = new Set(['tools.cleanup']);
    await el.updateComplete;
    expect($<HTMLElement & { disabled: boolean }>(rowOf(el, 'tools.cleanup'), 'md-icon-button').disabled).to.equal(true);
    expect($<HTMLElement & { disabled: boolean }>(rowOf(el, 'prod.backup'), 'md-icon-button').disabled).to.equal(false);
    await expect(el).to.be.accessible();
  });

  it('tells loading from empty', async () => {
    const loading = await fixture<YgJobTable>(html`<yg-job-table loading></yg-job-table>`);
    expect(loading.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    await expect(loading).to.be.accessible();
    const empty = await fixture<YgJobTable>(html`<yg-job-table></yg-job-table>`);
    expect(text($(empty, '.message'))).to.contain('No jobs yet');
    await expect(empty).to.be.accessible();
  });

  it('formats durations and times ahead', () => {
    expect([850, 12_400, 3_600, 184_000, 3 * 3600_000 + 5 * 60_000, undefined].map(formatDuration)).to.deep.equal([
      '850 ms',
      '12 s',
      '3.6 s',
      '3 min 4 s',
      '3 h 5 min',
      '—',
    ]);
    expect([0, 30_000, 5 * 60_000, 3 * 3600_000, 72 * 3600_000].map((d) => formatIn(NOW + d, NOW))).to.deep.equal(['due now', 'in 30 s', 'in 5 min', 'in 3 h', 'in 3 d']);
  });
});
