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
import { isTerminal } from '../../protocol/types.js';
import type { AgentView, FileEntry, TaskSummary, TaskView } from '../../protocol/types.js';
import { ClockController } from '../components/clock-controller.js';
import { formatCpus, formatMiB } from '../components/format.js';
import { icons } from '../components/icons.js';
import { taskStateChip } from '../components/states.js';
import { timeAgo } from '../components/time.js';
import '../components/yg-confirm-dialog.js';
import '../components/yg-file-browser.js';
import '../components/yg-log-viewer.js';
import type { LogStream } from '../components/yg-log-viewer.js';
import '../components/yg-state-chip.js';
import { browseSandbox, downloadSandboxFile, getTask, killTask, saveBlob } from '../data/cluster.js';
import { TailController } from '../data/tail-controller.js';
import { nodeHref, serviceHref } from '../state/activity.js';
import type { Api } from '../state/api.js';
import type { ClusterStore, StreamSocket } from '../state/cluster-store.js';
import { apiContext, clusterContext, storeContext } from '../state/context.js';
import { serviceOf } from '../state/labels.js';
import { StoreController } from '../state/store-controller.js';
import { CommandController, errorText, unavailableNote } from './command-state.js';
import { navigateEvent, pathParam } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskSummary> = new Map();
const TABS = ['logs', 'files'] as const;
type Tab = (typeof TABS)[number];

/** One task: what it is, its live output and its sandbox. `?tab=files&path=…` is bookmarkable. */
@customElement('yg-task-view')
export class YgTaskView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .card {
        margin-bottom: 24px;
      }
      .labels {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .labels li {
        padding: 0 8px;
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        border-radius: 6px;
        font-size: 0.8125rem;
        line-height: 1.5rem;
        overflow-wrap: anywhere;
        max-width: 100%;
        box-sizing: border-box;
      }
      .error-text {
        color: var(--md-sys-color-error, #ba1a1a);
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) params = new URLSearchParams();
  /** Tests hand in a fake socket for the log tail. */
  @property({ attribute: false }) createSocket?: (url: string) => StreamSocket;

  @consume({ context: apiContext }) api?: Api;
  @consume({ context: storeContext }) store?: ClusterStore;

  @state() private stream: LogStream = 'stdout';
  @state() private follow = true;
  @state() private confirmKill = false;
  @state() private files: { key: string; entries: readonly FileEntry[]; loading: boolean; error: string } = { key: '', entries: [], loading: false, error: '' };
  /** The task in full (command, labels, ports, disk), read once per task: the stream carries summaries. */
  @state() private detail: { id: string; task?: TaskView; loading: boolean; error: string } = { id: '', loading: false, error: '' };

  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #tail = new TailController(this);
  readonly #kill = new CommandController(this);
  readonly #download = new CommandController(this);
  readonly #clock = new ClockController(this, 1000);
  #filesAbort?: AbortController;
  #detailAbort?: AbortController;
  #lastTask = '';

  get #taskId(): string {
    return pathParam(this.path);
  }

  get #tab(): Tab {
    const tab = this.params.get('tab');
    return tab === 'files' ? 'files' : 'logs';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('path') && this.#taskId !== this.#lastTask) {
      // Another task: start from its stdout, following.
      this.#lastTask = this.#taskId;
      this.stream = 'stdout';
      this.follow = true;
      this.confirmKill = false;
      this.#kill.clear();
    }
    this.#sync();
  }

  /** Opens what the page shows: the tail of the chosen stream, or the sandbox directory. */
  #sync(): void {
    const task = (this.#tasks.value ?? NO_TASKS).get(this.#taskId);
    if (!task || !this.isConnected) return;
    this.#loadDetail(task.id);
    if (this.#tab === 'logs') {
      this.#tail.createSocket = this.createSocket;
      this.#tail.open(task.id, this.stream, this.store?.token ?? null);
    } else {
      this.#tail.close();
      this.#loadFiles(task.id, this.params.get('path') ?? '');
    }
  }

  override render() {
    const id = this.#taskId;
    const task = (this.#tasks.value ?? NO_TASKS).get(id);
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/tasks">Tasks</a><span class="sep">/</span><span>${task?.name || id}</span></nav>`;
    if (!task) {
      return html`${crumbs}${this.#loaded.value
        ? html`<div class="state-page"><strong>No task ${id}</strong> The master does not know this task: it may have been removed after it ended. <a href="/tasks">All tasks</a></div>`
        : html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading"></md-linear-progress>Waiting for the master…</div>`}`;
    }
    const chip = taskStateChip(task.state);
    const tab = this.#tab;
    return html`
      ${crumbs}
      <header>
        <h1>${task.name || task.id}</h1>
        <yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>
        <span class="grow"></span>
        ${isTerminal(task.state)
          ? nothing
          : html`<div class="actions">
              <md-filled-tonal-button ?disabled=${!!this.#kill.unavailable} @click=${this.#askKill}>Kill task<span slot="icon">${icons.close}</span></md-filled-tonal-button>
              ${unavailableNote(this.#kill.unavailable)}
            </div>`}
      </header>
      ${this.#download.error ? html`<p class="alert" role="alert">${this.#download.error}</p>` : nothing}
      ${this.#details(task)}
      <div class="tabbar">
        <md-tabs aria-label="Task output" .activeTabIndex=${TABS.indexOf(tab)} @change=${this.#onTab}>
          <md-primary-tab id="tab-logs" aria-controls="panel">Logs</md-primary-tab>
          <md-primary-tab id="tab-files" aria-controls="panel">Sandbox files</md-primary-tab>
        </md-tabs>
      </div>
      <div id="panel" role="tabpanel" aria-labelledby=${`tab-${tab}`}>
        ${tab === 'logs'
          ? html`<yg-log-viewer
              .stream=${this.stream}
              .text=${this.#tail.state.text}
              .status=${this.#tail.state.status}
              .message=${this.#tail.state.message ?? ''}
              ?truncated=${this.#tail.state.truncated}
              ?follow=${this.follow}
              @yg-log-stream=${(e: CustomEvent<{ stream: LogStream }>) => (this.stream = e.detail.stream)}
              @yg-log-follow=${(e: CustomEvent<{ follow: boolean }>) => (this.follow = e.detail.follow)}
              @yg-log-download=${(e: CustomEvent<{ stream: LogStream }>) => this.#downloadFile(e.detail.stream)}
              @yg-log-retry=${() => {
                this.#tail.close();
                this.requestUpdate();
              }}
            ></yg-log-viewer>`
          : html`<yg-file-browser
              .path=${this.params.get('path') ?? ''}
              .entries=${this.files.entries}
              ?loading=${this.files.loading}
              .error=${this.files.error}
              @yg-file-navigate=${(e: CustomEvent<{ path: string }>) => this.#go('files', e.detail.path)}
              @yg-file-download=${(e: CustomEvent<{ path: string }>) => this.#downloadFile(e.detail.path)}
            ></yg-file-browser>`}
      </div>
      <yg-confirm-dialog
        .open=${this.confirmKill}
        heading=${`Kill ${task.name || task.id}?`}
        confirmLabel="Kill"
        destructive
        ?busy=${this.#kill.busy}
        .error=${this.#kill.error}
        @yg-confirm=${this.#doKill}
        @yg-dialog-close=${() => (this.confirmKill = false)}
      >
        <p>
          The agent sends the task SIGTERM, then SIGKILL after its grace period.
          ${serviceOf(task) ? `Its service, ${serviceOf(task)}, starts a replacement.` : ''}
        </p>
      </yg-confirm-dialog>
    `;
  }

  #details(task: TaskSummary) {
    const agent = (this.#agents.value ?? NO_AGENTS).get(task.agentId);
    const service = serviceOf(task);
    const now = this.#clock.now;
    const full = this.detail.id === task.id ? this.detail.task : undefined;
    return html`<section class="card" aria-label="Task details">
      <dl class="fields">
        <dt>Task ID</dt>
        <dd class="mono">${task.id}</dd>
        <dt>State</dt>
        <dd>
          ${task.state}${task.reason ? html` · <span class="muted">${task.reason}</span>` : nothing}
          ${task.message ? html`<div class=${isTerminal(task.state) && task.state !== 'TASK_FINISHED' ? 'error-text' : ''}>${task.message}</div>` : nothing}
        </dd>
        ${task.exitCode !== undefined ? html`<dt>Exit code</dt><dd>${task.exitCode}</dd>` : nothing}
        ${task.healthy !== undefined ? html`<dt>Health</dt><dd>${task.healthy ? 'Healthy' : html`<span class="error-text">Unhealthy</span>`}</dd>` : nothing}
        <dt>Service</dt>
        <dd>${service ? html`<a href=${serviceHref(service)}>${service}</a>` : html`<span class="muted">None (framework ${task.frameworkId})</span>`}</dd>
        <dt>Agent</dt>
        <dd>${agent ? html`<a href=${nodeHref(agent.id)}>${agent.hostname}</a>` : html`<span class="mono muted">${task.agentId}</span>`}</dd>
        <dt>Resources</dt>
        <dd>
          ${formatCpus(task.cpus)} ${task.cpus === 1 ? 'CPU' : 'CPUs'} · ${formatMiB(task.mem)} memory${full
            ? ` · ${formatMiB(full.resources.disk)} disk${full.resources.ports.length
                ? ` · ports ${full.resources.ports.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ')}`
                : ''}`
            : ''}
        </dd>
        <dt>Command</dt>
        <dd class="mono">${full ? `${full.command.value}${full.command.args?.length ? ` ${full.command.args.join(' ')}` : ''}` : this.#detailStatus()}</dd>
        <dt>Created</dt>
        <dd>${timeAgo(task.createdAt, now)}</dd>
        <dt>Started</dt>
        <dd>${timeAgo(task.startedAt, now)}</dd>
        ${task.endedAt ? html`<dt>Ended</dt><dd>${timeAgo(task.endedAt, now)}</dd>` : nothing}
        <dt>Labels</dt>
        <dd>${full ? this.#labels(full) : this.#detailStatus()}</dd>
      </dl>
    </section>`;
  }

  #labels(task: TaskView) {
    const labels = Object.entries(task.labels);
    return labels.length ? html`<ul class="labels">${labels.map(([k, v]) => html`<li>${k}=${v}</li>`)}</ul>` : html`<span class="muted">None</span>`;
  }

  /** In place of a detail that has not arrived: loading, or why it could not be read, with a retry. */
  #detailStatus() {
    if (this.detail.error) {
      return html`<span class="error-text">${this.detail.error}</span>
        <md-text-button @click=${this.#retryDetail}>Retry</md-text-button>`;
    }
    return html`<span class="muted">Loading…</span>`;
  }

  #retryDetail = () => {
    const id = this.detail.id;
    this.detail = { id: '', loading: false, error: '' };
    this.#loadDetail(id);
  };

  /** Reads the task in full once per task (what the stream leaves out never changes while it lives). */
  #loadDetail(taskId: string) {
    if (this.detail.id === taskId || !this.api) return;
    this.#detailAbort?.abort();
    const abort = new AbortController();
    this.#detailAbort = abort;
    this.detail = { id: taskId, loading: true, error: '' };
    getTask(this.api, taskId, abort.signal).then(
      (task) => {
        if (abort.signal.aborted) return;
        // an answer without the parts this page reads (a proxy's error page, an older master) is no answer
        this.detail = task && typeof task.command?.value === 'string' && Array.isArray(task.resources?.ports)
          ? { id: taskId, task, loading: false, error: '' }
          : { id: taskId, loading: false, error: 'The master sent no details for this task.' };
      },
      (error: unknown) => {
        if (!abort.signal.aborted) this.detail = { id: taskId, loading: false, error: errorText(error) };
      },
    );
  }

  #onTab(event: Event) {
    const tab = TABS[(event.target as MdTabs).activeTabIndex] ?? 'logs';
    if (tab !== this.#tab) this.#go(tab, tab === 'files' ? (this.params.get('path') ?? '') : '');
  }

  #go(tab: Tab, path: string) {
    const query = new URLSearchParams();
    if (tab !== 'logs') query.set('tab', tab);
    if (path) query.set('path', path);
    const search = query.toString();
    this.dispatchEvent(navigateEvent(`/tasks/${encodeURIComponent(this.#taskId)}${search ? `?${search}` : ''}`));
  }

  #loadFiles(taskId: string, path: string) {
    const key = `${taskId}\n${path}`;
    if (this.files.key === key || !this.api) return;
    this.#filesAbort?.abort();
    const abort = new AbortController();
    this.#filesAbort = abort;
    this.files = { key, entries: [], loading: true, error: '' };
    browseSandbox(this.api, taskId, path, abort.signal).then(
      (entries) => {
        if (!abort.signal.aborted) this.files = { key, entries, loading: false, error: '' };
      },
      (error: unknown) => {
        if (!abort.signal.aborted) this.files = { key, entries: [], loading: false, error: errorText(error) };
      },
    );
  }

  async #downloadFile(path: string) {
    const api = this.api;
    if (!api) return;
    const taskId = this.#taskId;
    await this.#download.run(async () => {
      const blob = await downloadSandboxFile(api, taskId, path);
      saveBlob(blob, `${taskId}-${path.split('/').pop() || 'file'}`);
    });
  }

  #askKill() {
    this.#kill.clear();
    this.confirmKill = true;
  }

  async #doKill() {
    const api = this.api;
    if (!api) return;
    const ok = await this.#kill.run(() => killTask(api, this.#taskId));
    if (ok) this.confirmKill = false;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#filesAbort?.abort();
    this.#detailAbort?.abort();
    // The directory may have changed by the next visit.
    this.files = { key: '', entries: [], loading: false, error: '' };
    this.detail = { id: '', loading: false, error: '' };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-task-view': YgTaskView;
  }
}
