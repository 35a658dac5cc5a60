import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/progress/linear-progress.js';
import type { AgentView, TaskSummary } from '../../protocol/types.js';
import { ClockController } from '../components/clock-controller.js';
import { icons } from '../components/icons.js';
import { agentStateChip } from '../components/states.js';
import { timeAgo } from '../components/time.js';
import '../components/yg-confirm-dialog.js';
import '../components/yg-resource-bar.js';
import '../components/yg-state-chip.js';
import '../components/yg-task-list.js';
import type { TaskColumn } from '../components/yg-task-row.js';
import { drainAgent, reactivateAgent } from '../data/cluster.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { hostnames, tasksByActivity } from './cluster-selectors.js';
import { CommandController, unavailableNote } from './command-state.js';
import { pathParam } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskSummary> = new Map();
const COLUMNS: readonly TaskColumn[] = ['id', 'service'];

/** One node: its resources, attributes and tasks, and Drain / Reactivate. */
@customElement('yg-node-view')
export class YgNodeView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .resources {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 24px;
        margin-bottom: 24px;
      }
      .attributes {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .attributes li {
        padding: 0 8px;
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        border-radius: 6px;
        font-size: 0.8125rem;
        line-height: 1.5rem;
      }
      @media (max-width: 799px) {
        .resources {
          grid-template-columns: minmax(0, 1fr);
          gap: 16px;
        }
      }
    `,
  ];

  @property() path = '';

  @consume({ context: apiContext }) api?: Api;

  @state() private confirming: 'drain' | 'reactivate' | null = null;

  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #names = hostnames();
  readonly #sorted = tasksByActivity();
  readonly #onAgent = memoize((tasks: readonly TaskSummary[], id: string) => tasks.filter((t) => t.agentId === id));
  readonly #command = new CommandController(this);
  readonly #clock = new ClockController(this, 5000);

  override render() {
    const id = pathParam(this.path);
    const agent = (this.#agents.value ?? NO_AGENTS).get(id);
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/nodes">Nodes</a><span class="sep">/</span><span>${agent?.hostname ?? id}</span></nav>`;
    if (!agent) {
      return html`${crumbs}${this.#loaded.value
        ? html`<div class="state-page"><strong>No node ${id}</strong> The master does not know this agent (any more). <a href="/nodes">All nodes</a></div>`
        : html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading"></md-linear-progress>Waiting for the master…</div>`}`;
    }
    const chip = agentStateChip(agent.state);
    const tasks = this.#onAgent(this.#sorted(this.#tasks.value ?? NO_TASKS), id);
    const now = this.#clock.now;
    const attributes = Object.entries(agent.attributes);
    return html`
      ${crumbs}
      <header>
        <h1>${agent.hostname}</h1>
        <yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>
        <span class="grow"></span>
        <div class="actions">
          ${agent.state === 'ACTIVE' || agent.state === 'UNREACHABLE'
            ? html`<md-filled-tonal-button ?disabled=${!!this.#command.unavailable} @click=${() => this.#confirm('drain')}>Drain<span slot="icon">${icons.drain}</span></md-filled-tonal-button>`
            : nothing}
          ${agent.state === 'DRAINING' || agent.state === 'DRAINED'
            ? html`<md-filled-tonal-button ?disabled=${!!this.#command.unavailable} @click=${() => this.#confirm('reactivate')}>Reactivate<span slot="icon">${icons.play}</span></md-filled-tonal-button>`
            : nothing}
          ${agent.state === 'GONE' ? nothing : unavailableNote(this.#command.unavailable)}
        </div>
      </header>
      ${this.#command.error && !this.confirming ? html`<p class="alert" role="alert">${this.#command.error}</p>` : nothing}
      <section class="card" aria-label="Resources and details">
        <div class="resources">
          <yg-resource-bar compact label="CPU" unit="cpus" .used=${agent.allocated.cpus} .total=${agent.resources.cpus}></yg-resource-bar>
          <yg-resource-bar compact label="Memory" unit="mib" .used=${agent.allocated.mem} .total=${agent.resources.mem}></yg-resource-bar>
          <yg-resource-bar compact label="Disk" unit="mib" .used=${agent.allocated.disk} .total=${agent.resources.disk}></yg-resource-bar>
        </div>
        <dl class="fields">
          <dt>Agent ID</dt>
          <dd class="mono">${agent.id}</dd>
          <dt>Attributes</dt>
          <dd>
            ${attributes.length
              ? html`<ul class="attributes">${attributes.map(([k, v]) => html`<li>${k}: ${v}</li>`)}</ul>`
              : html`<span class="muted">None</span>`}
          </dd>
          <dt>Ports</dt>
          <dd>${agent.resources.ports.length ? agent.resources.ports.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ') : html`<span class="muted">None</span>`}</dd>
          <dt>Isolation</dt>
          <dd>${agent.isolators.join(', ') || html`<span class="muted">None</span>`}</dd>
          <dt>Version</dt>
          <dd>${agent.version}</dd>
          <dt>Registered</dt>
          <dd>${timeAgo(agent.registeredAt, now)}</dd>
          <dt>Last heard from</dt>
          <dd>${timeAgo(agent.lastSeenAt, now)}</dd>
          ${agent.unreachableAt ? html`<dt>Unreachable since</dt><dd>${timeAgo(agent.unreachableAt, now)}</dd>` : nothing}
        </dl>
      </section>
      <h2>Tasks <span class="count">${tasks.length}</span></h2>
      <yg-task-list
        label=${`Tasks on ${agent.hostname}`}
        .tasks=${tasks}
        .agentNames=${this.#names(this.#agents.value ?? NO_AGENTS)}
        .columns=${COLUMNS}
        emptyTitle="No tasks on this node"
        emptyText="Tasks placed on this agent appear here."
      ></yg-task-list>
      <yg-confirm-dialog
        .open=${this.confirming !== null}
        heading=${this.confirming === 'drain' ? `Drain ${agent.hostname}?` : `Reactivate ${agent.hostname}?`}
        confirmLabel=${this.confirming === 'drain' ? 'Drain' : 'Reactivate'}
        ?destructive=${this.confirming === 'drain'}
        ?busy=${this.#command.busy}
        .error=${this.#command.error}
        @yg-confirm=${this.#run}
        @yg-dialog-close=${() => (this.confirming = null)}
      >
        ${this.confirming === 'drain'
          ? html`<p>The agent gets no new tasks, and its ${tasks.filter((t) => t.state === 'TASK_RUNNING').length} running tasks are killed so their services move them elsewhere.</p>`
          : html`<p>The agent takes new tasks again.</p>`}
      </yg-confirm-dialog>
    `;
  }

  #confirm(action: 'drain' | 'reactivate') {
    this.#command.clear();
    this.confirming = action;
  }

  async #run() {
    const api = this.api;
    const id = pathParam(this.path);
    if (!api || !this.confirming) return;
    const action = this.confirming;
    const ok = await this.#command.run(() => (action === 'drain' ? drainAgent(api, id) : reactivateAgent(api, id)));
    if (ok) this.confirming = null;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-node-view': YgNodeView;
  }
}
