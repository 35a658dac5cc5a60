import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/text-button.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/tabs/primary-tab.js';
import '@material/web/tabs/tabs.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { JobRunView, JobView } from '../../protocol/types.js';
import { ClockController } from '../components/clock-controller.js';
import { formatCpuCount, formatMiB } from '../components/format.js';
import { icons } from '../components/icons.js';
import { formatDuration, jobHref, jobOutcome, jobState, jobStateChip, lastRunAt, outcomeChip, timeUntil } from '../components/job-format.js';
import { timeAgo } from '../components/time.js';
import '../components/yg-confirm-dialog.js';
import '../components/yg-job-graph.js';
import type { JobOpenDetail } from '../components/yg-job-graph.js';
import '../components/yg-run-history.js';
import type { RunOutputState, RunStopDetail, RunToggleDetail } from '../components/yg-run-history.js';
import '../components/yg-state-chip.js';
import { runCounts } from '../components/yg-job-table.js';
import { getJob, getRunOutput, isFinishedRun, listRuns, mergeRuns, removeJob, runJobNow, stopRun } from '../data/jobs.js';
import type { JobDefinition } from '../data/jobs.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { CommandController, errorText, unavailableNote } from './command-state.js';
import { navigateEvent, pathParam } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_JOBS: ReadonlyMap<string, JobView> = new Map();
const NO_RUNS: ReadonlyMap<string, JobRunView> = new Map();
const TABS = ['runs', 'dependencies', 'definition'] as const;
type Tab = (typeof TABS)[number];

interface Loaded<T> {
  key: string;
  value?: T;
  error?: string;
  loading: boolean;
}

const idle = <T>(): Loaded<T> => ({ key: '', loading: false });

/**
 * One job: what it does and when, its runs with their output, where it sits among the jobs it
 * depends on, its definition; Run now, stop a run, remove. The live parts (status, next run,
 * active runs) come from the stream; the retained history and run output from /v1/jobs.
 * `?run=<id>` opens one run's output, `?tab=dependencies|definition` the other panels.
 */
@customElement('yg-job-view')
export class YgJobView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .summary {
        margin-bottom: 16px;
      }
      .schedules {
        margin: 0;
        padding: 0;
        list-style: none;
        display: grid;
        gap: 4px;
      }
      .schedules .mono {
        margin-inline-end: 4px;
      }
      .links a + a::before {
        content: ', ';
        color: var(--md-sys-color-on-surface, #191c20);
      }
      .bad {
        color: var(--md-sys-color-error, #ba1a1a);
        font-weight: 500;
      }
      .outcome {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) params = new URLSearchParams();

  @consume({ context: apiContext }) api?: Api;

  @state() private dialog: 'remove' | 'stop' | null = null;
  @state() private stopRunId = '';
  @state() private history: Loaded<JobRunView[]> = idle();
  @state() private definition: Loaded<JobDefinition> = idle();
  @state() private outputs: ReadonlyMap<string, RunOutputState> = new Map();
  @state() private stopping: ReadonlySet<string> = new Set();

  readonly #jobs = new StoreController(this, clusterContext, (s) => s.jobs);
  readonly #runs = new StoreController(this, clusterContext, (s) => s.jobRuns);
  readonly #epoch = new StoreController(this, clusterContext, (s) => s.epoch);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #merged = memoize((history: readonly JobRunView[], live: ReadonlyMap<string, JobRunView>, id: string) => mergeRuns(history, live.values(), id));
  readonly #allJobs = memoize((jobs: ReadonlyMap<string, JobView>) => [...jobs.values()]);
  readonly #children = memoize((jobs: ReadonlyMap<string, JobView>, id: string) =>
    [...jobs.values()].filter((j) => j.dependencies.includes(id)).map((j) => j.id).sort(),
  );
  readonly #command = new CommandController(this);
  readonly #clock = new ClockController(this, 5000);
  #lastId = '';

  get #id(): string {
    return pathParam(this.path);
  }

  get #tab(): Tab {
    const tab = this.params.get('tab') as Tab | null;
    return tab && TABS.includes(tab) ? tab : 'runs';
  }

  get #openRun(): string {
    return this.params.get('run') ?? '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const id = this.#id;
    if (changed.has('path') && id !== this.#lastId) {
      this.#lastId = id;
      this.history = idle();
      this.definition = idle();
      this.outputs = new Map();
      this.stopping = new Set();
      this.dialog = null;
      this.#command.clear();
    }
    const job = (this.#jobs.value ?? NO_JOBS).get(id);
    if (!job || !this.api) return;
    // The stream carries active runs and the latest finished one; the rest of the retained
    // history is read once per master run (a new epoch may have missed runs).
    const historyKey = `${id}\n${this.#epoch.value ?? ''}`;
    if (this.#tab === 'runs' && this.history.key !== historyKey) {
      this.#fetch('history', historyKey, () => listRuns(this.api!, id));
    }
    const defKey = `${id}\n${JSON.stringify([job.cmd, job.cpus, job.mem, job.disk, job.description, job.labels, job.schedules.map((s) => [s.id, s.expr, s.timezone, s.enabled, s.concurrencyPolicy]), job.dependencies])}`;
    if (this.#tab === 'definition' && this.definition.key !== defKey) {
      this.#fetch('definition', defKey, () => getJob(this.api!, id));
    }
    // The open run's output, once it has ended (the master keeps it from then on).
    const open = this.#openRun;
    if (open && this.#tab === 'runs' && !this.outputs.has(open)) {
      const run = this.#runList().find((r) => r.id === open);
      if (run && isFinishedRun(run) && !run.skipped) this.#loadOutput(id, open);
    }
  }

  #runList(): JobRunView[] {
    return this.#merged(this.history.value ?? [], this.#runs.value ?? NO_RUNS, this.#id);
  }

  /** Loads into one of the `Loaded` fields; an answer for an older key is dropped. */
  #fetch(field: 'history' | 'definition', key: string, load: () => Promise<unknown>) {
    const slots = this as unknown as Record<typeof field, Loaded<unknown>>;
    slots[field] = { key, loading: true, value: slots[field].value };
    load().then(
      (value) => {
        if (slots[field].key === key) slots[field] = { key, loading: false, value };
      },
      (error: unknown) => {
        if (slots[field].key === key) slots[field] = { key, loading: false, value: slots[field].value, error: errorText(error) };
      },
    );
  }

  #loadOutput(jobId: string, runId: string) {
    this.outputs = new Map([...this.outputs, [runId, { state: 'loading' }]]);
    const set = (value: RunOutputState) => {
      if (jobId === this.#id) this.outputs = new Map([...this.outputs, [runId, value]]);
    };
    getRunOutput(this.api!, jobId, runId).then(
      (out) => {
        // Read a moment before the run ended (no output yet): ask again when it has.
        if (!isFinishedRun(out.run)) {
          const next = new Map(this.outputs);
          next.delete(runId);
          if (jobId === this.#id) this.outputs = next;
          return;
        }
        set({ state: 'done', ...(out.stdout !== undefined ? { stdout: out.stdout } : {}), ...(out.stderr !== undefined ? { stderr: out.stderr } : {}) });
      },
      (error: unknown) => set({ state: 'error', message: errorText(error) }),
    );
  }

  override render() {
    const id = this.#id;
    const jobs = this.#jobs.value ?? NO_JOBS;
    const job = jobs.get(id);
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb">
      <a href="/jobs">Jobs</a><span class="sep">/</span><span>${id}</span>
    </nav>`;
    if (!job) {
      return html`${crumbs}${this.#loaded.value
        ? html`<div class="state-page"><strong>No job ${id}</strong> There is no job with this ID (any more). <a href="/jobs">All jobs</a></div>`
        : html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading"></md-linear-progress>Waiting for the master…</div>`}`;
    }
    const chip = jobStateChip(jobState(job));
    const tab = this.#tab;
    const off = this.#command.unavailable;
    return html`
      ${crumbs}
      <header>
        <h1>${id}</h1>
        <yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>
        <span class="grow"></span>
        <div class="actions">
          <md-filled-tonal-button ?disabled=${(this.#command.busy && this.dialog === null) || !!off} @click=${this.#runNow}
            >Run now<span slot="icon">${icons.play}</span></md-filled-tonal-button
          >
          <md-text-button ?disabled=${!!off} @click=${() => this.#open('remove')}>Remove<span slot="icon">${icons.delete}</span></md-text-button>
          ${unavailableNote(off)}
        </div>
      </header>
      ${this.#command.error && this.dialog === null ? html`<p class="alert" role="alert">${this.#command.error}</p>` : nothing}
      ${job.waiting ? html`<p class="notice" role="status"><strong>Why isn't it running?</strong> ${job.waiting}</p>` : nothing}
      ${this.#summary(job, this.#children(jobs, id))}
      <div class="tabbar">
        <md-tabs aria-label="Job details" .activeTabIndex=${TABS.indexOf(tab)} @change=${this.#onTab}>
          <md-primary-tab id="tab-runs" aria-controls="panel">Runs</md-primary-tab>
          <md-primary-tab id="tab-dependencies" aria-controls="panel">Dependencies</md-primary-tab>
          <md-primary-tab id="tab-definition" aria-controls="panel">Definition</md-primary-tab>
        </md-tabs>
      </div>
      <div id="panel" role="tabpanel" aria-labelledby=${`tab-${tab}`}>
        ${tab === 'runs' ? this.#runsPanel(job) : tab === 'dependencies' ? this.#dependenciesPanel(job, jobs) : this.#definitionPanel()}
      </div>
      ${this.#dialogs(job)}
    `;
  }

  #summary(job: JobView, children: string[]) {
    const now = this.#clock.now;
    const outcome = jobOutcome(job);
    const chip = outcomeChip(outcome);
    const labels = Object.entries(job.labels ?? {});
    return html`<section class="card summary" aria-label="Summary">
      <dl class="fields">
        ${job.description ? html`<dt>Description</dt><dd>${job.description}</dd>` : nothing}
        ${job.cmd ? html`<dt>Command</dt><dd class="mono">${job.cmd}</dd>` : nothing}
        <dt>Per run</dt>
        <dd>${formatCpuCount(job.cpus)} · ${formatMiB(job.mem)} memory · ${formatMiB(job.disk)} disk</dd>
        <dt>Schedule</dt>
        <dd>
          ${job.schedules.length
            ? html`<ul class="schedules">
                ${job.schedules.map(
                  (s) => html`<li>
                    <span class="mono">${s.expr}</span>
                    <span class="muted">${s.kind === 'cron' ? 'cron' : 'ISO 8601'} in ${s.timezone}${s.concurrencyPolicy === 'FORBID' ? ', never overlapping' : ''}</span>
                    · ${s.enabled ? html`next ${timeUntil(s.nextRunAt, now)}` : html`<span class="muted">paused</span>`}
                  </li>`,
                )}
              </ul>`
            : job.dependencies.length
              ? 'After its parents succeed'
              : html`<span class="muted">None: it runs when started</span>`}
        </dd>
        ${job.dependencies.length
          ? html`<dt>Runs after</dt>
              <dd class="links">${job.dependencies.map((p) => html`<a href=${jobHref(p)}>${p}</a>`)}</dd>`
          : nothing}
        ${children.length
          ? html`<dt>Followed by</dt>
              <dd class="links">${children.map((c) => html`<a href=${jobHref(c)}>${c}</a>`)}</dd>`
          : nothing}
        <dt>Last run</dt>
        <dd>
          ${outcome === 'Never run'
            ? html`<span class="muted">Never run</span>`
            : html`<span class="outcome"><yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip> ${timeAgo(lastRunAt(job), now)}</span>`}
        </dd>
        <dt>Runs</dt>
        <dd>
          ${runCounts(job)}${job.activeRuns ? ` · ${job.activeRuns} active` : ''}${job.lastFailureAt !== undefined && outcome !== 'Failed'
            ? html` · last failure ${timeAgo(job.lastFailureAt, now)}`
            : nothing}
        </dd>
        <dt>Duration</dt>
        <dd>${job.p50DurationMs !== undefined ? `median ${formatDuration(job.p50DurationMs)}, p95 ${formatDuration(job.p95DurationMs)}` : html`<span class="muted">—</span>`}</dd>
        ${labels.length ? html`<dt>Labels</dt><dd>${labels.map(([k, v]) => `${k}=${v}`).join(', ')}</dd>` : nothing}
      </dl>
    </section>`;
  }

  #runsPanel(job: JobView) {
    const runs = this.#runList();
    const open = this.#openRun;
    const missing = open && this.history.value && !runs.some((r) => r.id === open);
    return html`${missing ? html`<p class="notice" role="status">Run ${open} is not in the retained history (the newest finished runs are kept).</p>` : nothing}
      <yg-run-history
        label=${`Runs of ${job.id}, newest first`}
        .runs=${runs}
        ?loading=${this.history.loading && runs.length === 0}
        .error=${this.history.error ?? ''}
        .open=${open}
        .outputs=${this.outputs}
        .stopping=${this.stopping}
        ?unavailable=${!!this.#command.unavailable}
        @yg-run-toggle=${this.#onToggle}
        @yg-run-stop=${(e: CustomEvent<RunStopDetail>) => {
          this.stopRunId = e.detail.runId;
          this.#open('stop');
        }}
      ></yg-run-history>`;
  }

  #dependenciesPanel(job: JobView, jobs: ReadonlyMap<string, JobView>) {
    return html`<yg-job-graph
      .jobs=${this.#allJobs(jobs)}
      around=${job.id}
      label=${`Jobs ${job.id} depends on and jobs that depend on it`}
      emptyText=${`${job.id} neither runs after another job nor has jobs that run after it.`}
      @yg-job-open=${(e: CustomEvent<JobOpenDetail>) => {
        e.preventDefault();
        this.dispatchEvent(navigateEvent(`${jobHref(e.detail.id)}?tab=dependencies`));
      }}
    ></yg-job-graph>`;
  }

  #definitionPanel() {
    if (this.definition.error) return html`<p class="alert" role="alert">The definition could not be read: ${this.definition.error}</p>`;
    if (!this.definition.value) {
      return html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading the definition"></md-linear-progress></div>`;
    }
    return html`<pre class="code" tabindex="0" aria-label="Definition as JSON">${JSON.stringify(this.definition.value, null, 2)}</pre>`;
  }

  #dialogs(job: JobView) {
    const children = this.#children(this.#jobs.value ?? NO_JOBS, job.id);
    const remove = this.dialog === 'remove';
    const stop = this.dialog === 'stop';
    return html`<yg-confirm-dialog
      .open=${remove || stop}
      heading=${remove ? `Remove ${job.id}?` : stop ? `Stop run ${this.stopRunId}?` : ''}
      confirmLabel=${remove ? 'Remove' : 'Stop run'}
      destructive
      ?busy=${this.#command.busy}
      .error=${this.#command.error}
      @yg-confirm=${remove ? this.#remove : this.#stop}
      @yg-dialog-close=${this.#close}
    >
      ${remove
        ? html`<p>
              Its schedules stop and its run history is deleted.${job.activeRuns
                ? ` Its ${job.activeRuns === 1 ? 'active run is' : `${job.activeRuns} active runs are`} stopped.`
                : ''}
              This cannot be undone.
            </p>
            ${children.length ? html`<p>${children.join(', ')} ${children.length === 1 ? 'runs' : 'run'} after it: the master keeps it until they no longer do.</p>` : nothing}`
        : stop
          ? html`<p>Its task is killed; the run ends as failed (stopped).</p>`
          : nothing}
    </yg-confirm-dialog>`;
  }

  #open(dialog: 'remove' | 'stop') {
    this.#command.clear();
    this.dialog = dialog;
  }

  #close = () => {
    this.dialog = null;
  };

  #runNow = async () => {
    const api = this.api;
    const id = this.#id;
    if (!api) return;
    let started: JobRunView | undefined;
    const ok = await this.#command.run(async () => {
      started = await runJobNow(api, id);
    });
    // Open the new run: its status follows live, and its output shows once it ends.
    if (ok && started && id === this.#id) this.#go({ tab: '', run: started.id }, true);
  };

  #remove = async () => {
    const api = this.api;
    const job = (this.#jobs.value ?? NO_JOBS).get(this.#id);
    if (!api || !job) return;
    const ok = await this.#command.run(() => removeJob(api, job.id, { stopCurrentJobRuns: job.activeRuns > 0 }));
    if (ok) {
      this.dialog = null;
      this.dispatchEvent(navigateEvent('/jobs'));
    }
  };

  #stop = async () => {
    const api = this.api;
    const runId = this.stopRunId;
    const id = this.#id;
    if (!api || !runId) return;
    this.stopping = new Set([...this.stopping, runId]);
    const ok = await this.#command.run(() => stopRun(api, id, runId));
    const next = new Set(this.stopping);
    next.delete(runId);
    this.stopping = next;
    if (ok) this.dialog = null;
  };

  #onToggle(event: CustomEvent<RunToggleDetail>) {
    const { runId, open } = event.detail;
    // A failed read is tried again when the run is opened again.
    if (open && this.outputs.get(runId)?.state === 'error') {
      const next = new Map(this.outputs);
      next.delete(runId);
      this.outputs = next;
    }
    this.#go({ run: open ? runId : '' }, true);
  }

  #onTab(event: Event) {
    const tab = TABS[(event.target as MdTabs).activeTabIndex] ?? 'runs';
    if (tab === this.#tab) return;
    this.#go({ tab: tab === 'runs' ? '' : tab, run: tab === 'runs' ? this.#openRun : '' });
  }

  #go(change: Partial<Record<'tab' | 'run', string>>, replace = false) {
    const query = new URLSearchParams();
    for (const key of ['tab', 'run'] as const) {
      const value = key in change ? change[key] : (this.params.get(key) ?? '');
      if (value) query.set(key, value);
    }
    const search = query.toString();
    this.dispatchEvent(navigateEvent(`${jobHref(this.#id)}${search ? `?${search}` : ''}`, { replace }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-job-view': YgJobView;
  }
}
