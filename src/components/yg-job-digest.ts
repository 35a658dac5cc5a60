import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/progress/linear-progress.js';
import type { JobView } from '../../protocol/types.js';
import { memoize } from '../state/memo.js';
import { ClockController } from './clock-controller.js';
import { jobHref, jobOutcome, lastRunAt, nextRunAt, timeUntil } from './job-format.js';
import { timeAgo } from './time.js';

/** How many jobs each list shows before "all …". */
const SHOWN = 5;

/** The jobs due next and those whose last run failed, newest failure first. */
export function jobDigest(jobs: Iterable<JobView>): { due: JobView[]; failed: JobView[]; running: number; total: number } {
  const all = [...jobs];
  const due = all
    .filter((j) => !j.disabled && nextRunAt(j) !== undefined)
    .sort((a, b) => nextRunAt(a)! - nextRunAt(b)! || a.id.localeCompare(b.id));
  const failed = all.filter((j) => jobOutcome(j) === 'Failed').sort((a, b) => (lastRunAt(b) ?? 0) - (lastRunAt(a) ?? 0) || a.id.localeCompare(b.id));
  return { due, failed, running: all.filter((j) => j.status === 'running').length, total: all.length };
}

/** For the overview: which jobs run next and which failed last time, each linking to its job. */
@customElement('yg-job-digest')
export class YgJobDigest extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
      font-size: 0.875rem;
    }
    .lists {
      display: grid;
      grid-template-columns: repeat(2, minmax(0, 28rem));
      gap: 16px 48px;
    }
    h3 {
      margin: 0 0 8px;
      font-size: 0.875rem;
      font-weight: 500;
    }
    h3 .n {
      font-weight: 400;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    ul {
      margin: 0;
      padding: 0;
      list-style: none;
      display: grid;
      gap: 6px;
    }
    li {
      display: flex;
      justify-content: space-between;
      gap: 12px;
      min-width: 0;
    }
    li a {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
      min-width: 0;
    }
    li time,
    li .muted {
      flex: none;
      white-space: nowrap;
    }
    a {
      color: var(--md-sys-color-primary, #36618e);
      font-weight: 500;
      text-decoration: none;
      border-radius: 2px;
    }
    a:hover {
      text-decoration: underline;
    }
    a:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: 2px;
    }
    .muted,
    time {
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .failed-time,
    .failed-time time {
      color: var(--md-sys-color-error, #ba1a1a);
    }
    .more {
      margin-top: 8px;
      display: inline-block;
    }
    .summary {
      margin: 0 0 12px;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    @media (max-width: 599px) {
      .lists {
        grid-template-columns: minmax(0, 1fr);
      }
    }
  `;

  @property({ attribute: false }) jobs: readonly JobView[] = [];
  @property({ type: Boolean }) loading = false;
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this, 5000);
  readonly #digest = memoize(jobDigest);

  override render() {
    if (this.loading) return html`<div role="status"><md-linear-progress indeterminate aria-label="Loading jobs"></md-linear-progress></div>`;
    const d = this.#digest(this.jobs);
    if (d.total === 0) return html`<p class="summary">No jobs yet. <a href="/jobs">Jobs</a></p>`;
    const now = this.now ?? this.#clock.now;
    return html`
      <p class="summary">${d.total} ${d.total === 1 ? 'job' : 'jobs'}${d.running ? `, ${d.running} running now` : ''}. <a href="/jobs">All jobs</a></p>
      <div class="lists">
        <section aria-labelledby="due">
          <h3 id="due">Due next <span class="n">${d.due.length}</span></h3>
          ${d.due.length
            ? html`<ul>
                ${d.due.slice(0, SHOWN).map((j) => html`<li><a href=${jobHref(j.id)}>${j.id}</a> ${timeUntil(nextRunAt(j), now)}</li>`)}
              </ul>`
            : html`<span class="muted">No schedule is armed.</span>`}
          ${d.due.length > SHOWN ? html`<a class="more" href="/jobs?status=Scheduled">All ${d.due.length} scheduled</a>` : nothing}
        </section>
        <section aria-labelledby="failed">
          <h3 id="failed">Last run failed <span class="n">${d.failed.length}</span></h3>
          ${d.failed.length
            ? html`<ul>
                ${d.failed.slice(0, SHOWN).map((j) => html`<li><a href=${jobHref(j.id)}>${j.id}</a> <span class="failed-time">${timeAgo(lastRunAt(j), now)}</span></li>`)}
              </ul>`
            : html`<span class="muted">None.</span>`}
          ${d.failed.length > SHOWN ? html`<a class="more" href="/jobs?outcome=Failed">All ${d.failed.length} failed</a>` : nothing}
        </section>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-job-digest': YgJobDigest;
  }
}
