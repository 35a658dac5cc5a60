import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/outlined-button.js';
import '@material/web/button/text-button.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/select/outlined-select.js';
import '@material/web/select/select-option.js';
import '@material/web/tabs/primary-tab.js';
import '@material/web/tabs/tabs.js';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { AgentView, DeploymentView, ServiceView, TaskSummary } from '../../protocol/types.js';
import { ClockController } from '../components/clock-controller.js';
import { formatCpus, formatDateTime, formatMiB, parseIso } from '../components/format.js';
import { icons } from '../components/icons.js';
import { serviceStatusChip } from '../components/states.js';
import { timeAgo } from '../components/time.js';
import '../components/yg-confirm-dialog.js';
import '../components/yg-deployment-progress.js';
import '../components/yg-json-diff.js';
import '../components/yg-scale-dialog.js';
import '../components/yg-state-chip.js';
import '../components/yg-task-list.js';
import type { TaskColumn } from '../components/yg-task-row.js';
import { health } from '../components/yg-service-table.js';
import {
  cancelDeployment,
  definitionOf,
  getApp,
  getQueue,
  getVersion,
  listVersions,
  removeApp,
  restartApp,
  scaleApp,
  rollbackApp,
} from '../data/marathon.js';
import type { AppDefinition, QueueEntry } from '../data/marathon.js';
import { serviceHref, taskHref } from '../state/activity.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import { serviceOf } from '../state/labels.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { hostnames, tasksByActivity } from './cluster-selectors.js';
import { CommandController, errorText, unavailableNote } from './command-state.js';
import { navigateEvent, pathParam } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskSummary> = new Map();
const NO_SERVICES: ReadonlyMap<string, ServiceView> = new Map();
const NO_DEPLOYMENTS: ReadonlyMap<string, DeploymentView> = new Map();
const COLUMNS: readonly TaskColumn[] = ['id', 'agent'];
const TABS = ['tasks', 'config', 'versions'] as const;
type Tab = (typeof TABS)[number];
type Action = 'restart' | 'suspend' | 'remove' | 'rollback' | 'cancel';

interface Loaded<T> {
  key: string;
  value?: T;
  error?: string;
  loading: boolean;
}

const idle = <T>(): Loaded<T> => ({ key: '', loading: false });

/** One service: status, why it waits, deployments, tasks, configuration, versions, and its commands. */
@customElement('yg-service-view')
export class YgServiceView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .summary {
        margin-bottom: 16px;
      }
      yg-deployment-progress {
        margin-bottom: 16px;
      }
      .notice ul {
        margin: 8px 0 0;
        padding-inline-start: 20px;
      }
      .versions {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 16px;
      }
      .compare {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px;
      }
      .compare md-outlined-select {
        min-width: 14rem;
        flex: 1 1 14rem;
      }
      ol.version-list {
        margin: 0;
        padding: 0;
        list-style: none;
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        border-radius: var(--yg-radius, 12px);
      }
      ol.version-list li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 16px;
        padding: 8px 16px;
        border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        font-size: 0.875rem;
      }
      ol.version-list li:last-child {
        border-bottom: 0;
      }
      .version-id {
        flex: 1;
        min-width: 12rem;
        font-family: var(--yg-font-mono, monospace);
        font-size: 0.8125rem;
        overflow-wrap: anywhere;
      }
      .config-actions {
        display: flex;
        justify-content: flex-end;
        margin-bottom: 8px;
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) params = new URLSearchParams();

  @consume({ context: apiContext }) api?: Api;

  @state() private dialog: Action | 'scale' | null = null;
  @state() private force = false;
  @state() private app: Loaded<AppDefinition> = idle();
  @state() private versions: Loaded<string[]> = idle();
  @state() private queue: Loaded<QueueEntry | null> = idle();
  @state() private compare: [string, string] | null = null;
  @state() private rollbackTo = '';
  @state() private cancelId = '';
  /** Definitions of versions by version, fetched for diffs. */
  @state() private definitions: ReadonlyMap<string, AppDefinition | Error> = new Map();

  readonly #services = new StoreController(this, clusterContext, (s) => s.services);
  readonly #deployments = new StoreController(this, clusterContext, (s) => s.deployments);
  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #sorted = tasksByActivity();
  readonly #names = hostnames();
  readonly #tasksOf = memoize((tasks: readonly TaskSummary[], id: string) => tasks.filter((t) => serviceOf(t) === id));
  readonly #deploymentsOf = memoize((deployments: ReadonlyMap<string, DeploymentView>, id: string) =>
    [...deployments.values()].filter((d) => d.affectedApps.includes(id)).sort((a, b) => a.startedAt - b.startedAt),
  );
  readonly #command = new CommandController(this);
  readonly #clock = new ClockController(this, 5000);
  #lastId = '';

  get #id(): string {
    return pathParam(this.path);
  }

  get #tab(): Tab {
    const tab = this.params.get('tab') as Tab | null;
    return tab && TABS.includes(tab) ? tab : 'tasks';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const id = this.#id;
    if (changed.has('path') && id !== this.#lastId) {
      this.#lastId = id;
      this.app = idle();
      this.versions = idle();
      this.queue = idle();
      this.compare = null;
      this.definitions = new Map();
      this.dialog = null;
      this.#command.clear();
    }
    const service = (this.#services.value ?? NO_SERVICES).get(id);
    if (!service || !this.api) return;
    // What the stream does not carry is fetched when what it depends on changes: the
    // definition and versions when the version does, the queue when the status does.
    const versionKey = `${id}\n${service.version}`;
    if (this.#tab === 'config' && this.app.key !== versionKey) this.#fetch('app', versionKey, () => getApp(this.api!, id));
    if (this.#tab === 'versions' && this.versions.key !== versionKey) this.#fetch('versions', versionKey, () => listVersions(this.api!, id));
    const queueKey = `${id}\n${service.status}\n${service.waiting ?? ''}\n${service.tasksRunning < service.instances}`;
    if (this.#needsReason(service) && this.queue.key !== queueKey) {
      this.#fetch('queue', queueKey, async () => (await getQueue(this.api!)).find((q) => q.app.id === id) ?? null);
    }
  }

  #needsReason(s: ServiceView): boolean {
    // Removed fields arrive as null in the stream's patches: test for a value, not for undefined.
    return s.status === 'Waiting' || s.status === 'Delayed' || !!s.waiting || (s.tasksRunning < s.instances && s.status !== 'Deploying');
  }

  /** Loads into one of the `Loaded` fields; an answer for an older key is dropped. */
  #fetch(field: 'app' | 'versions' | 'queue', key: string, load: () => Promise<unknown>) {
    const slots = this as unknown as Record<typeof field, Loaded<unknown>>;
    slots[field] = { key, loading: true, value: slots[field].value };
    load().then(
      (value) => {
        if (slots[field].key === key) slots[field] = { key, loading: false, value };
      },
      (error: unknown) => {
        if (slots[field].key === key) slots[field] = { key, loading: false, error: errorText(error) };
      },
    );
  }

  override render() {
    const id = this.#id;
    const service = (this.#services.value ?? NO_SERVICES).get(id);
    const groups = id.split('/').filter(Boolean);
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb">
      <a href="/services">Services</a>
      ${groups.slice(0, -1).map((g, i) => html`<span class="sep">/</span><a href=${`/services?q=${encodeURIComponent(`/${groups.slice(0, i + 1).join('/')}/`)}`}>${g}</a>`)}
      <span class="sep">/</span><span>${groups[groups.length - 1] ?? id}</span>
    </nav>`;
    if (!service) {
      return html`${crumbs}${this.#loaded.value
        ? html`<div class="state-page"><strong>No service ${id}</strong> There is no service with this ID (any more). <a href="/services">All services</a></div>`
        : html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading"></md-linear-progress>Waiting for the master…</div>`}`;
    }
    const chip = serviceStatusChip(service.status);
    const deployments = this.#deploymentsOf(this.#deployments.value ?? NO_DEPLOYMENTS, id);
    const tab = this.#tab;
    const off = this.#command.unavailable;
    return html`
      ${crumbs}
      <header>
        <h1>${id}</h1>
        <yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>
        <span class="grow"></span>
        <div class="actions">
          <md-filled-tonal-button ?disabled=${!!off} @click=${() => this.#open('scale')}>Scale<span slot="icon">${icons.scale}</span></md-filled-tonal-button>
          <md-outlined-button ?disabled=${!!off} @click=${() => this.#open('restart')}>Restart<span slot="icon">${icons.restart}</span></md-outlined-button>
          ${service.instances > 0
            ? html`<md-outlined-button ?disabled=${!!off} @click=${() => this.#open('suspend')}>Suspend<span slot="icon">${icons.pause}</span></md-outlined-button>`
            : nothing}
          <md-outlined-button href=${`${serviceHref(id)}/edit`}>Edit<span slot="icon">${icons.edit}</span></md-outlined-button>
          <md-text-button ?disabled=${!!off} @click=${() => this.#open('remove')}>Remove<span slot="icon">${icons.delete}</span></md-text-button>
          ${unavailableNote(off)}
        </div>
      </header>
      ${this.#command.error && this.dialog === null ? html`<p class="alert" role="alert">${this.#command.error}</p>` : nothing}
      ${this.#reason(service)}
      ${deployments.map(
        (d) => html`<yg-deployment-progress
          .deployment=${d}
          ?busy=${this.#command.busy || !!off}
          @yg-deployment-cancel=${(e: CustomEvent<{ id: string }>) => {
            this.cancelId = e.detail.id;
            this.#open('cancel');
          }}
        ></yg-deployment-progress>`,
      )}
      ${this.#summary(service)}
      <div class="tabbar">
        <md-tabs aria-label="Service details" .activeTabIndex=${TABS.indexOf(tab)} @change=${this.#onTab}>
          <md-primary-tab id="tab-tasks" aria-controls="panel">Tasks</md-primary-tab>
          <md-primary-tab id="tab-config" aria-controls="panel">Configuration</md-primary-tab>
          <md-primary-tab id="tab-versions" aria-controls="panel">Versions</md-primary-tab>
        </md-tabs>
      </div>
      <div id="panel" role="tabpanel" aria-labelledby=${`tab-${tab}`}>
        ${tab === 'tasks' ? this.#tasksPanel(service) : tab === 'config' ? this.#configPanel() : this.#versionsPanel(service)}
      </div>
      ${this.#dialogs(service)}
    `;
  }

  /** "Why isn't it running": the framework's own words, the queue's offer verdicts, the last failure. */
  #reason(s: ServiceView) {
    if (!this.#needsReason(s) && !s.lastTaskFailure) return nothing;
    const entry = this.queue.value ?? undefined;
    const reasons = entry?.processedOffersSummary?.rejectSummaryLastOffers.filter((r) => r.declined > 0) ?? [];
    const now = this.#clock.now;
    const failure = s.lastTaskFailure;
    if (!this.#needsReason(s) && failure) {
      return html`<p class="notice" role="status">
        <strong>Last failure:</strong> <a href=${taskHref(failure.taskId)}>${failure.taskId}</a> ${failure.state.replace(/^TASK_/, '').toLowerCase()}
        ${timeAgo(failure.timestamp, now)}${failure.message ? `: ${failure.message}` : ''}
      </p>`;
    }
    return html`<div class="notice" role="status">
      <strong>Why isn't it running?</strong>
      ${s.waiting ? html` ${sentence(s.waiting)}` : s.status === 'Suspended' ? ' It is suspended: its target is 0 instances.' : ` ${s.tasksRunning} of ${s.instances} instances run.`}
      ${s.delayedUntil && s.delayedUntil > now
        ? html`<div>Launches are delayed after failures until ${html`<time datetime=${new Date(s.delayedUntil).toISOString()}>${formatDateTime(s.delayedUntil)}</time>`}.</div>`
        : nothing}
      ${reasons.length
        ? html`<ul aria-label="Offers declined">
            ${reasons.map((r) => html`<li>${r.reason}: ${r.declined} of ${r.processed} offers</li>`)}
          </ul>`
        : nothing}
      ${entry?.delay && entry.delay.timeLeftSeconds > 0 ? html`<div>Next launch attempt in ${entry.delay.timeLeftSeconds} s.</div>` : nothing}
      ${this.queue.error ? html`<div>The launch queue could not be read: ${this.queue.error}</div>` : nothing}
      ${failure
        ? html`<div>
            Last failure: <a href=${taskHref(failure.taskId)}>${failure.taskId}</a> ${failure.state.replace(/^TASK_/, '').toLowerCase()}
            ${timeAgo(failure.timestamp, now)}${failure.message ? `: ${failure.message}` : ''}
          </div>`
        : nothing}
    </div>`;
  }

  #summary(s: ServiceView) {
    const now = this.#clock.now;
    const labels = Object.entries(s.labels);
    return html`<section class="card summary" aria-label="Summary">
      <dl class="fields">
        <dt>Instances</dt>
        <dd>${s.tasksRunning} running of ${s.instances}${s.tasksStaged ? `, ${s.tasksStaged} starting` : ''}</dd>
        <dt>Health</dt>
        <dd>${health(s)}</dd>
        <dt>Per instance</dt>
        <dd>${formatCpus(s.cpus)} ${s.cpus === 1 ? 'CPU' : 'CPUs'} · ${formatMiB(s.mem)} memory · ${formatMiB(s.disk)} disk</dd>
        ${s.cmd ? html`<dt>Command</dt><dd class="mono">${s.cmd}</dd>` : nothing}
        <dt>Version</dt>
        <dd>${timeAgo(parseIso(s.version), now)} <span class="muted mono">${s.version}</span></dd>
        ${labels.length ? html`<dt>Labels</dt><dd>${labels.map(([k, v]) => `${k}=${v}`).join(', ')}</dd>` : nothing}
      </dl>
    </section>`;
  }

  #tasksPanel(s: ServiceView) {
    const tasks = this.#tasksOf(this.#sorted(this.#tasks.value ?? NO_TASKS), s.id);
    return html`<yg-task-list
      label=${`Tasks of ${s.id}`}
      .tasks=${tasks}
      .agentNames=${this.#names(this.#agents.value ?? NO_AGENTS)}
      .columns=${COLUMNS}
      emptyTitle="No tasks"
      emptyText=${s.instances === 0 ? 'The service is suspended. Scale it up to start instances.' : 'Instances appear here as they are launched.'}
    ></yg-task-list>`;
  }

  #configPanel() {
    if (this.app.error) return html`<p class="alert" role="alert">The definition could not be read: ${this.app.error}</p>`;
    if (!this.app.value) {
      return html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading the definition"></md-linear-progress></div>`;
    }
    return html`<div class="config-actions">
        <md-outlined-button href=${`${serviceHref(this.#id)}/edit`}>Edit<span slot="icon">${icons.edit}</span></md-outlined-button>
      </div>
      <pre class="code" tabindex="0" aria-label="Definition as JSON">${JSON.stringify(definitionOf(this.app.value), null, 2)}</pre>`;
  }

  #versionsPanel(s: ServiceView) {
    if (this.versions.error) return html`<p class="alert" role="alert">The versions could not be read: ${this.versions.error}</p>`;
    const list = this.versions.value;
    if (!list) {
      return html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading versions"></md-linear-progress></div>`;
    }
    const now = this.#clock.now;
    const [from, to] = this.compare ?? [list[1] ?? list[0] ?? '', list[0] ?? ''];
    const a = this.definitions.get(from);
    const b = this.definitions.get(to);
    const option = (v: string, selected: string) => html`<md-select-option value=${v} ?selected=${v === selected}>
      <div slot="headline">${formatDateTime(parseIso(v))}${v === s.version ? ' (current)' : ''}</div>
    </md-select-option>`;
    return html`<div class="versions">
      <ol class="version-list" aria-label="Versions, newest first">
        ${list.map(
          (v) => html`<li>
            <span class="version-id">${v}</span>
            <span>${timeAgo(parseIso(v), now)}</span>
            ${v === s.version
              ? html`<yg-state-chip tone="ok" token="version-current">Current</yg-state-chip>`
              : html`<md-text-button
                  ?disabled=${!!this.#command.unavailable}
                  @click=${() => {
                    this.rollbackTo = v;
                    this.#open('rollback');
                  }}
                  >Roll back to this<span slot="icon">${icons.history}</span></md-text-button
                >`}
          </li>`,
        )}
      </ol>
      ${list.length < 2
        ? html`<p class="muted">There is one version so far. Edits, scaling and restarts make new ones to compare.</p>`
        : html`<div class="compare">
              <md-outlined-select label="Compare" .value=${from} @change=${(e: Event) => this.#compare((e.target as MdOutlinedSelect).value, to)}>
                ${list.map((v) => option(v, from))}
              </md-outlined-select>
              <md-outlined-select label="with" .value=${to} @change=${(e: Event) => this.#compare(from, (e.target as MdOutlinedSelect).value)}>
                ${list.map((v) => option(v, to))}
              </md-outlined-select>
            </div>
            ${a instanceof Error || b instanceof Error
              ? html`<p class="alert" role="alert">A version could not be read: ${(a instanceof Error ? a : (b as Error)).message}</p>`
              : a && b
                ? html`<yg-json-diff .oldValue=${strip(a)} .newValue=${strip(b)} beforeLabel=${formatDateTime(parseIso(from))} afterLabel=${formatDateTime(parseIso(to))}></yg-json-diff>`
                : html`<md-linear-progress indeterminate aria-label="Loading the versions to compare"></md-linear-progress>`}`}
    </div>`;
  }

  protected override updated(): void {
    // Fetch the two definitions the diff needs once the version list is known.
    const list = this.versions.value;
    if (this.#tab !== 'versions' || !list || list.length < 2 || !this.api) return;
    const [from, to] = this.compare ?? [list[1]!, list[0]!];
    for (const v of [from, to]) {
      if (this.definitions.has(v) || this.#fetching.has(v)) continue;
      this.#fetching.add(v);
      const id = this.#id;
      getVersion(this.api, id, v).then(
        (def) => this.#definition(id, v, def),
        (error: unknown) => this.#definition(id, v, new Error(errorText(error))),
      );
    }
  }

  readonly #fetching = new Set<string>();

  #definition(id: string, version: string, value: AppDefinition | Error) {
    this.#fetching.delete(version);
    if (id !== this.#id) return;
    this.definitions = new Map([...this.definitions, [version, value]]);
  }

  #compare(from: string, to: string) {
    this.compare = [from, to];
  }

  #dialogs(s: ServiceView) {
    const confirm: Record<Action, { heading: string; label: string; destructive?: boolean; body: unknown }> = {
      restart: {
        heading: `Restart ${s.id}?`,
        label: 'Restart',
        body: html`<p>Every instance is replaced, following the upgrade strategy (new instances start before old ones stop).</p>`,
      },
      suspend: {
        heading: `Suspend ${s.id}?`,
        label: 'Suspend',
        destructive: true,
        body: html`<p>All ${s.instances} instances are stopped (scaled to 0). Scale it up again to resume.</p>`,
      },
      remove: {
        heading: `Remove ${s.id}?`,
        label: 'Remove',
        destructive: true,
        body: html`<p>Its instances are stopped and the service and its versions are deleted. This cannot be undone.</p>`,
      },
      rollback: {
        heading: `Roll back ${s.id}?`,
        label: 'Roll back',
        body: html`<p>The definition of ${formatDateTime(parseIso(this.rollbackTo))} is deployed as a new version.</p>`,
      },
      cancel: {
        heading: 'Cancel the deployment?',
        label: 'Cancel deployment',
        destructive: true,
        body: html`<p>Marathon stops the deployment and rolls the service back to where it was before it.</p>`,
      },
    };
    const current = this.dialog && this.dialog !== 'scale' ? confirm[this.dialog] : undefined;
    return html`<yg-scale-dialog
        .open=${this.dialog === 'scale'}
        service=${s.id}
        .instances=${s.instances}
        ?busy=${this.#command.busy}
        .error=${this.#command.error}
        @yg-scale=${(e: CustomEvent<{ instances: number }>) => this.#run((api, force) => scaleApp(api, s.id, e.detail.instances, { force }))}
        @yg-dialog-close=${this.#close}
      ></yg-scale-dialog>
      <yg-confirm-dialog
        .open=${current !== undefined}
        heading=${current?.heading ?? ''}
        confirmLabel=${current ? `${this.force ? 'Force: ' : ''}${current.label}` : ''}
        ?destructive=${current?.destructive ?? false}
        ?busy=${this.#command.busy}
        .error=${this.#command.error ? `${this.#command.error}${this.#command.conflict ? ' Confirm again to force it.' : ''}` : ''}
        @yg-confirm=${this.#confirm}
        @yg-dialog-close=${this.#close}
        >${current?.body ?? nothing}</yg-confirm-dialog
      >`;
  }

  #open(action: Action | 'scale') {
    this.#command.clear();
    this.force = false;
    this.dialog = action;
  }

  #close = () => {
    this.dialog = null;
    this.force = false;
  };

  #confirm = () => {
    const id = this.#id;
    switch (this.dialog) {
      case 'restart':
        return this.#run((api, force) => restartApp(api, id, { force }));
      case 'suspend':
        return this.#run((api, force) => scaleApp(api, id, 0, { force }));
      case 'remove':
        return this.#run((api, force) => removeApp(api, id, { force }), () => this.dispatchEvent(navigateEvent('/services')));
      case 'rollback':
        return this.#run((api, force) => rollbackApp(api, id, this.rollbackTo, { force }));
      case 'cancel':
        return this.#run((api, force) => cancelDeployment(api, this.cancelId, { force }));
      default:
        return undefined;
    }
  };

  async #run(command: (api: Api, force: boolean) => Promise<unknown>, then?: () => void) {
    const api = this.api;
    if (!api) return;
    const ok = await this.#command.run(() => command(api, this.force));
    if (ok) {
      this.dialog = null;
      this.force = false;
      then?.();
    } else if (this.#command.conflict) {
      // A deployment holds the app: the next confirmation forces it, as Marathon allows.
      this.force = true;
    }
  }

  #onTab(event: Event) {
    const tab = TABS[(event.target as MdTabs).activeTabIndex] ?? 'tasks';
    if (tab === this.#tab) return;
    this.dispatchEvent(navigateEvent(`${serviceHref(this.#id)}${tab === 'tasks' ? '' : `?tab=${tab}`}`));
  }
}

/** The framework's "waiting: no agent can take it — …" as a sentence under "Why isn't it running?". */
function sentence(waiting: string): string {
  const text = waiting.replace(/^waiting:\s*/i, '');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?)]$/.test(text) ? '' : '.'}`;
}

/** The bookkeeping fields differ between every two versions; they would only add noise. */
function strip(def: AppDefinition): AppDefinition {
  const out = { ...def };
  delete out.version;
  delete out.versionInfo;
  return out;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-service-view': YgServiceView;
  }
}
