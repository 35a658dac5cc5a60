import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { isTerminal } from '../../protocol/types.js';
import type { AgentView, FrameworkView, TaskView } from '../../protocol/types.js';
import { formatCpus, formatMiB, percent } from '../components/format.js';
import '../components/yg-task-table.js';
import { clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { hostnames, tasksByActivity } from './cluster-selectors.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskView> = new Map();
const NO_FRAMEWORKS: ReadonlyMap<string, FrameworkView> = new Map();
const RECENT = 5;

interface Totals {
  activeAgents: number;
  agents: number;
  cpus: { used: number; total: number };
  mem: { used: number; total: number };
}

/** Resources count only on agents that can run tasks: a drained node's CPUs are not capacity. */
function totals(agents: ReadonlyMap<string, AgentView>): Totals {
  const result: Totals = { activeAgents: 0, agents: agents.size, cpus: { used: 0, total: 0 }, mem: { used: 0, total: 0 } };
  for (const agent of agents.values()) {
    if (agent.state !== 'ACTIVE') continue;
    result.activeAgents += 1;
    result.cpus.used += agent.allocated.cpus;
    result.cpus.total += agent.resources.cpus;
    result.mem.used += agent.allocated.mem;
    result.mem.total += agent.resources.mem;
  }
  return result;
}

@customElement('yg-overview-view')
export class YgOverviewView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .cards {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr));
        gap: 12px;
        margin: 0;
        padding: 0;
      }
      .card {
        padding: 16px;
        border-radius: var(--yg-radius, 12px);
        background: var(--yg-card-container, #f2f3fa);
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      }
      dt {
        font-size: 0.75rem;
        font-weight: 500;
        letter-spacing: 0.04em;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      dd {
        margin: 4px 0 0;
        font-size: 1.75rem;
        line-height: 2.25rem;
        font-variant-numeric: tabular-nums;
      }
      dd small {
        display: block;
        font-size: 0.8125rem;
        line-height: 1.25rem;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
    `,
  ];

  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #frameworks = new StoreController(this, clusterContext, (s) => s.frameworks);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #totals = memoize(totals);
  readonly #sorted = tasksByActivity();
  readonly #recent = memoize((tasks: readonly TaskView[]) => tasks.slice(0, RECENT));
  readonly #names = hostnames();
  readonly #running = memoize((tasks: ReadonlyMap<string, TaskView>) => {
    let running = 0;
    let active = 0;
    for (const task of tasks.values()) {
      if (task.state === 'TASK_RUNNING') running += 1;
      if (!isTerminal(task.state)) active += 1;
    }
    return { running, active };
  });

  override render() {
    const agents = this.#agents.value ?? NO_AGENTS;
    const tasks = this.#tasks.value ?? NO_TASKS;
    const frameworks = this.#frameworks.value ?? NO_FRAMEWORKS;
    const loaded = this.#loaded.value ?? false;
    const t = this.#totals(agents);
    const counts = this.#running(tasks);
    const dash = '–';
    return html`
      <header><h1>Overview</h1></header>
      <dl class="cards">
        <div class="card">
          <dt>Agents</dt>
          <dd>${loaded ? t.activeAgents : dash}<small>active of ${loaded ? t.agents : dash}</small></dd>
        </div>
        <div class="card">
          <dt>Tasks running</dt>
          <dd>${loaded ? counts.running : dash}<small>${loaded ? counts.active : dash} not finished</small></dd>
        </div>
        <div class="card">
          <dt>CPUs allocated</dt>
          <dd>
            ${loaded ? `${Math.round(percent(t.cpus.used, t.cpus.total))} %` : dash}
            <small>${formatCpus(t.cpus.used)} of ${formatCpus(t.cpus.total)}</small>
          </dd>
        </div>
        <div class="card">
          <dt>Memory allocated</dt>
          <dd>
            ${loaded ? `${Math.round(percent(t.mem.used, t.mem.total))} %` : dash}
            <small>${formatMiB(t.mem.used)} of ${formatMiB(t.mem.total)}</small>
          </dd>
        </div>
        <div class="card">
          <dt>Frameworks</dt>
          <dd>${loaded ? frameworks.size : dash}<small>registered</small></dd>
        </div>
      </dl>
      <h2>Recent tasks</h2>
      <yg-task-table
        label="Recent tasks"
        .tasks=${this.#recent(this.#sorted(tasks))}
        .agentNames=${this.#names(agents)}
        ?loading=${!loaded}
        @yg-agent-select=${(e: CustomEvent<{ agentId: string }>) =>
          this.dispatchEvent(navigateEvent(`/tasks?agent=${encodeURIComponent(e.detail.agentId)}`))}
      ></yg-task-table>
      <p><a href="/tasks">All tasks</a></p>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-overview-view': YgOverviewView;
  }
}
