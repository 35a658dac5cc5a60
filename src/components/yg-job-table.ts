import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/progress/linear-progress.js';
import type { JobView } from '../../protocol/types.js';
import { ClockController } from './clock-controller.js';
import { icons } from './icons.js';
import { formatDuration, jobHref, jobOutcome, jobState, jobStateChip, lastRunAt, nextRunAt, outcomeChip, timeUntil } from './job-format.js';
import { tableStyles } from './table-styles.js';
import { timeAgo } from './time.js';
import './yg-state-chip.js';

export interface JobRunRequestDetail {
  id: string;
}

/**
 * Jobs, one row each: what it is doing, when it runs next, how its last run ended, its run
 * counts and typical duration, and a "Run now" button (`yg-job-run`). Never fetches.
 */
@customElement('yg-job-table')
export class YgJobTable extends LitElement {
  static override styles = [
    tableStyles,
    css`
      .name {
        display: grid;
        justify-items: start;
        gap: 2px;
        min-width: 0;
        text-align: start;
      }
      .description {
        max-width: 22rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-size: 0.8125rem;
      }
      .schedule {
        display: grid;
        gap: 2px;
      }
      .schedule .tz {
        font-size: 0.75rem;
      }
      .last {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        white-space: nowrap;
      }
      .nowrap {
        white-space: nowrap;
      }
      .bad {
        color: var(--md-sys-color-error, #ba1a1a);
        font-weight: 500;
      }
      td.action {
        width: 48px;
        padding-block: 0;
        text-align: end;
      }
      md-icon-button svg {
        width: 24px;
        height: 24px;
      }
      @container (max-width: 639px) {
        .description {
          max-width: none;
          white-space: normal;
        }
        .schedule {
          justify-items: end;
        }
        tr.row td.action {
          width: auto;
          padding-block: 0;
        }
        tr.row td.action md-icon-button {
          margin-inline-end: -8px;
        }
      }
    `,
  ];

  @property({ attribute: false }) jobs: readonly JobView[] = [];
  @property({ type: Boolean }) loading = false;
  @property() label = 'Jobs';
  @property() emptyTitle = 'No jobs yet';
  @property() emptyText = 'Add one with yagura job add FILE, or POST it to /v1/jobs.';
  /** Jobs whose "Run now" is in flight: their buttons wait. */
  @property({ attribute: false }) starting: ReadonlySet<string> = new Set();
  /** Commands cannot reach the master now: every "Run now" is disabled (the page says why). */
  @property({ type: Boolean }) unavailable = false;
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this, 5000);

  override render() {
    return html`<div class="frame">
      <table aria-label=${this.label}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Schedule</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col" class="num">Runs</th>
            <th scope="col" class="num">Typical duration</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${this.jobs.length === 0
            ? html`<tr><td colspan="8">${this.#placeholder()}</td></tr>`
            : repeat(this.jobs, (job) => job.id, (job) => this.#row(job))}
        </tbody>
      </table>
    </div>`;
  }

  #placeholder() {
    if (this.loading) {
      return html`<div class="message" role="status">
        <md-linear-progress indeterminate aria-label="Loading jobs"></md-linear-progress>
        <p>Waiting for the master…</p>
      </div>`;
    }
    return html`<div class="message"><strong>${this.emptyTitle}</strong> ${this.emptyText} <slot name="empty"></slot></div>`;
  }

  #row(job: JobView) {
    const now = this.now ?? this.#clock.now;
    const state = jobStateChip(jobState(job));
    const outcome = jobOutcome(job);
    const chip = outcomeChip(outcome);
    const last = lastRunAt(job);
    const busy = this.starting.has(job.id);
    return html`<tr class="row">
      <td class="title">
        <span class="name">
          <a class="link" href=${jobHref(job.id)}>${job.id}</a>
          ${job.description ? html`<span class="description muted" title=${job.description}>${job.description}</span>` : nothing}
        </span>
      </td>
      <td data-label="Status">
        <yg-state-chip tone=${state.tone} token=${state.token} title=${job.waiting ?? state.label}
          >${state.label}${job.activeRuns > 1 ? ` (${job.activeRuns})` : ''}</yg-state-chip
        >
      </td>
      <td data-label="Schedule">${schedule(job)}</td>
      <td data-label="Next run" class="nowrap">${timeUntil(nextRunAt(job), now)}</td>
      <td data-label="Last run">
        ${outcome === 'Never run'
          ? html`<span class="muted">Never run</span>`
          : html`<span class="last"
              ><yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip> ${timeAgo(last, now)}</span
            >`}
      </td>
      <td data-label="Runs" class="num">${runCounts(job)}</td>
      <td data-label="Typical duration" class="num" title=${job.p95DurationMs !== undefined ? `median ${formatDuration(job.p50DurationMs)}, p95 ${formatDuration(job.p95DurationMs)}` : ''}>
        ${formatDuration(job.p50DurationMs)}
      </td>
      <td class="action" data-label="Run now">
        <md-icon-button
          aria-label=${`Run ${job.id} now`}
          title="Run now"
          ?disabled=${busy || this.unavailable}
          @click=${() => this.dispatchEvent(new CustomEvent<JobRunRequestDetail>('yg-job-run', { detail: { id: job.id }, bubbles: true, composed: true }))}
          >${icons.play}</md-icon-button
        >
      </td>
    </tr>`;
  }
}

/** The job's schedules (expression and zone) and what it runs after. */
export function schedule(job: JobView) {
  const enabled = job.schedules.filter((s) => s.enabled);
  const paused = job.schedules.length - enabled.length;
  const first = enabled[0];
  return html`<span class="schedule">
    ${first
      ? html`<span class="mono" title=${`${first.kind === 'cron' ? 'cron' : 'ISO 8601'} in ${first.timezone}`}>${first.expr}</span>
          <span class="tz muted">${first.timezone}${enabled.length > 1 ? ` · +${enabled.length - 1} more` : ''}</span>`
      : nothing}
    ${paused > 0 ? html`<span class="muted">${paused} paused</span>` : nothing}
    ${job.dependencies.length ? html`<span>after ${job.dependencies.join(', ')}</span>` : nothing}
    ${!job.schedules.length && !job.dependencies.length ? html`<span class="muted">On demand</span>` : nothing}
  </span>`;
}

/** "12 ok · 1 failed · 2 skipped", the failures stand out. */
export function runCounts(job: JobView) {
  if (job.successCount + job.failureCount + job.skippedCount === 0) return html`<span class="muted">none yet</span>`;
  const parts = [
    job.successCount || !job.failureCount ? html`<span>${job.successCount} ok</span>` : undefined,
    job.failureCount ? html`<span class="bad">${job.failureCount} failed</span>` : undefined,
    job.skippedCount ? html`<span class="muted">${job.skippedCount} skipped</span>` : undefined,
  ].filter((p) => p !== undefined);
  // One element: the phone layout spreads a cell's children apart.
  return html`<span>${parts.map((p, i) => html`${i ? ' · ' : ''}${p}`)}</span>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-job-table': YgJobTable;
  }
  interface GlobalEventHandlersEventMap {
    'yg-job-run': CustomEvent<JobRunRequestDetail>;
  }
}
