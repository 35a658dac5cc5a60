import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/button/text-button.js';
import '@material/web/progress/linear-progress.js';
import type { JobRunView } from '../../protocol/types.js';
import { nodeHref, taskHref } from '../state/activity.js';
import { ClockController } from './clock-controller.js';
import { formatBytes, formatDateTime } from './format.js';
import { icons } from './icons.js';
import { formatDuration, runStatusChip } from './job-format.js';
import { tableStyles } from './table-styles.js';
import { timeAgo } from './time.js';
import './yg-state-chip.js';

/** A run's output as the page has it: being fetched, failed to fetch, or the tails. */
export type RunOutputState =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'done'; stdout?: string; stderr?: string };

export interface RunToggleDetail {
  runId: string;
  open: boolean;
}

export interface RunStopDetail {
  runId: string;
}

const TRIGGER: Record<JobRunView['trigger'], string> = {
  schedule: 'Scheduled',
  manual: 'Run now',
  dependency: 'After parents',
};

const finished = (run: JobRunView) => run.status === 'SUCCESS' || run.status === 'FAILED';

/**
 * A job's runs, newest first: when each started, how long it took, how it ended (status, exit
 * code, reason) and, opened one at a time, its output. Controlled: `open` names the run whose
 * output shows and `outputs` holds what the page fetched; `yg-run-toggle` and `yg-run-stop`
 * report what the user asked for. Never fetches.
 */
@customElement('yg-run-history')
export class YgRunHistory extends LitElement {
  static override styles = [
    tableStyles,
    css`
      .run-id {
        font-family: var(--yg-font-mono, monospace);
        font-size: 0.8125rem;
      }
      .trigger {
        display: block;
        font-size: 0.75rem;
      }
      .bad {
        color: var(--md-sys-color-error, #ba1a1a);
        font-weight: 500;
      }
      .toggle {
        all: unset;
        display: inline-flex;
        align-items: center;
        gap: 4px;
        padding: 6px 8px;
        margin: -6px -8px;
        border-radius: 8px;
        cursor: pointer;
        font-weight: 500;
        color: var(--md-sys-color-primary, #36618e);
        white-space: nowrap;
      }
      .toggle:hover {
        background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.04));
      }
      .toggle:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
        outline-offset: 2px;
      }
      .toggle svg {
        width: 20px;
        height: 20px;
        transition: transform 150ms ease;
      }
      .toggle[aria-expanded='false'] svg {
        transform: rotate(-90deg);
      }
      tr.open td {
        border-bottom: 0;
      }
      tr.detail > td {
        padding: 0 16px 16px;
        background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.03));
      }
      tr.open > td {
        background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.03));
      }
      .detail-body {
        display: grid;
        gap: 12px;
        padding-top: 8px;
      }
      .facts {
        overflow-wrap: anywhere;
        display: flex;
        flex-wrap: wrap;
        gap: 4px 24px;
        font-size: 0.8125rem;
      }
      .facts a {
        color: var(--md-sys-color-primary, #36618e);
      }
      .stream-title {
        display: flex;
        align-items: baseline;
        gap: 8px;
        margin: 0 0 4px;
        font-size: 0.8125rem;
        font-weight: 500;
      }
      .stream-title span {
        font-weight: 400;
      }
      pre {
        margin: 0;
        padding: 8px 12px;
        max-height: 20rem;
        overflow: auto;
        border-radius: 8px;
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        background: var(--yg-log-container, #f2f3fa);
        color: var(--md-sys-color-on-surface, #191c20);
        font: 0.8125rem/1.4 var(--yg-font-mono, monospace);
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      pre:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
      }
      .alert {
        margin: 0;
        padding: 8px 12px;
        border-radius: 8px;
        background: var(--md-sys-color-error-container, #ffdad6);
        color: var(--md-sys-color-on-error-container, #410002);
        font-size: 0.8125rem;
      }
      md-text-button svg {
        width: 18px;
        height: 18px;
      }
      @container (max-width: 639px) {
        tr.detail > td {
          display: block;
          padding: 0 16px 16px;
        }
        tr.open {
          border-bottom: 0 !important;
        }
        tr.row.open {
          background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.03));
        }
        tr.row.open td {
          background: none;
        }
        .trigger {
          display: inline;
          margin-inline-start: 8px;
        }
      }
    `,
  ];

  /** Newest first. */
  @property({ attribute: false }) runs: readonly JobRunView[] = [];
  @property({ type: Boolean }) loading = false;
  /** The history could not be read (the live runs still show). */
  @property() error = '';
  @property() label = 'Runs';
  /** The run whose output is open, or ''. */
  @property() open = '';
  @property({ attribute: false }) outputs: ReadonlyMap<string, RunOutputState> = new Map();
  /** Runs with a stop in flight. */
  @property({ attribute: false }) stopping: ReadonlySet<string> = new Set();
  /** Commands cannot reach the master now: Stop run is disabled (the page says why). */
  @property({ type: Boolean }) unavailable = false;
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this, 5000);

  override render() {
    return html`
      ${this.error ? html`<p class="alert" role="alert">The run history could not be read: ${this.error}</p>` : nothing}
      <div class="frame">
        <table aria-label=${this.label}>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col" class="num">Duration</th>
              <th scope="col" class="num">Exit code</th>
              <th scope="col">Node</th>
              <th scope="col">Output</th>
            </tr>
          </thead>
          <tbody>
            ${this.runs.length === 0
              ? html`<tr><td colspan="7">${this.#placeholder()}</td></tr>`
              : repeat(this.runs, (run) => run.id, (run) => this.#run(run))}
          </tbody>
        </table>
      </div>
    `;
  }

  #placeholder() {
    if (this.loading) {
      return html`<div class="message" role="status">
        <md-linear-progress indeterminate aria-label="Loading runs"></md-linear-progress>
        <p>Reading the run history…</p>
      </div>`;
    }
    return html`<div class="message"><strong>No runs yet</strong> Runs appear here as they start, from the schedule, after their parents, or with Run now.</div>`;
  }

  #run(run: JobRunView) {
    const now = this.now ?? this.#clock.now;
    const chip = runStatusChip(run);
    const open = this.open === run.id;
    const started = run.startedAt ?? run.scheduledAt ?? run.createdAt;
    const live = run.startedAt !== undefined && !finished(run) ? now - run.startedAt : undefined;
    const panel = `output-${run.id}`;
    const row = html`<tr class=${open ? 'row open' : 'row'}>
      <td class="title">
        <span class="run-id">${run.id}</span>
        <span class="trigger muted">${TRIGGER[run.trigger] ?? run.trigger}${run.attempts > 1 ? ` · ${run.attempts} attempts` : ''}</span>
      </td>
      <td data-label="Status">
        <yg-state-chip tone=${chip.tone} token=${chip.token} title=${run.reason ?? run.waiting ?? chip.label}>${chip.label}</yg-state-chip>
      </td>
      <td data-label="Started">
        ${timeAgo(started, now)}${run.startedAt === undefined && !run.skipped && !finished(run) ? html` <span class="muted">(not yet)</span>` : nothing}
      </td>
      <td data-label="Duration" class="num">
        ${live !== undefined ? html`<span title="so far">${formatDuration(live)}…</span>` : formatDuration(run.durationMs)}
      </td>
      <td data-label="Exit code" class="num">
        ${run.exitCode === undefined ? html`<span class="muted">—</span>` : run.exitCode === 0 ? '0' : html`<span class="bad">${run.exitCode}</span>`}
      </td>
      <td data-label="Node">${run.hostname && run.agentId ? html`<a class="link" href=${nodeHref(run.agentId)}>${run.hostname}</a>` : html`<span class="muted">—</span>`}</td>
      <td data-label="Output">
        <button
          class="toggle"
          aria-expanded=${open ? 'true' : 'false'}
          aria-controls=${panel}
          @click=${() => this.#toggle(run.id, !open)}
        >
          ${icons.expandMore}Output<span class="visually-hidden"> of run ${run.id}</span>
        </button>
      </td>
    </tr>`;
    if (!open) return row;
    return html`${row}
      <tr class="detail">
        <td colspan="7" id=${panel}>${this.#detail(run)}</td>
      </tr>`;
  }

  #detail(run: JobRunView) {
    const out = this.outputs.get(run.id);
    const lastTask = run.taskIds[run.taskIds.length - 1];
    const facts = html`<div class="facts">
      ${run.scheduledAt !== undefined ? html`<span>Slot ${formatDateTime(run.scheduledAt)}</span>` : nothing}
      <span>Created ${formatDateTime(run.createdAt)}</span>
      ${run.startedAt !== undefined ? html`<span>Started ${formatDateTime(run.startedAt)}</span>` : nothing}
      ${run.finishedAt !== undefined ? html`<span>Ended ${formatDateTime(run.finishedAt)}</span>` : nothing}
      ${run.reason ? html`<span>Reason: ${run.reason}</span>` : nothing}
      ${run.waiting ? html`<span>Waiting: ${run.waiting}</span>` : nothing}
      ${run.taskIds.length
        ? html`<span
            >${run.taskIds.length === 1 ? 'Task' : 'Tasks'}:
            ${run.taskIds.map((id, i) => html`${i ? ', ' : ''}<a href=${taskHref(id)}>${id}</a>`)}</span
          >`
        : nothing}
    </div>`;
    if (!finished(run)) {
      return html`<div class="detail-body">
        ${facts}
        <p class="muted">
          The output is kept when the run ends.
          ${lastTask ? html`Follow it live in the log of <a href=${taskHref(lastTask)}>task ${lastTask}</a>.` : nothing}
        </p>
        <div>
          <md-text-button ?disabled=${this.stopping.has(run.id) || this.unavailable} @click=${() => this.#stop(run.id)}
            >Stop run<span slot="icon">${icons.cancel}</span></md-text-button
          >
        </div>
      </div>`;
    }
    if (run.skipped) return html`<div class="detail-body">${facts}<p class="muted">This slot was skipped: nothing ran, so there is no output.</p></div>`;
    let body;
    if (!out || out.state === 'loading') {
      body = html`<div role="status"><md-linear-progress indeterminate aria-label=${`Loading the output of run ${run.id}`}></md-linear-progress></div>`;
    } else if (out.state === 'error') {
      body = html`<p class="alert" role="alert">The output could not be read: ${out.message}</p>`;
    } else {
      body = html`${this.#stream(run, 'stdout', out.stdout)}${this.#stream(run, 'stderr', out.stderr)}`;
    }
    return html`<div class="detail-body">${facts}${body}</div>`;
  }

  #stream(run: JobRunView, name: 'stdout' | 'stderr', value: string | undefined) {
    const bytes = value === undefined ? 0 : new TextEncoder().encode(value).length;
    return html`<section class="stream">
      <p class="stream-title">${name} <span class="muted">${value === undefined ? 'not kept' : value === '' ? 'empty' : `${formatBytes(bytes)}${bytes >= 64 * 1024 ? ', its end' : ''}`}</span></p>
      ${value ? html`<pre tabindex="0" aria-label=${`${name} of run ${run.id}`}>${value}</pre>` : nothing}
    </section>`;
  }

  #toggle(runId: string, open: boolean) {
    this.dispatchEvent(new CustomEvent<RunToggleDetail>('yg-run-toggle', { detail: { runId, open }, bubbles: true, composed: true }));
  }

  #stop(runId: string) {
    this.dispatchEvent(new CustomEvent<RunStopDetail>('yg-run-stop', { detail: { runId }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-run-history': YgRunHistory;
  }
  interface GlobalEventHandlersEventMap {
    'yg-run-toggle': CustomEvent<RunToggleDetail>;
    'yg-run-stop': CustomEvent<RunStopDetail>;
  }
}
