import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AgentView, TaskView } from '../../protocol/types.js';
import '../components/yg-task-table.js';
import { clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { hostnames, tasksByActivity } from './cluster-selectors.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskView> = new Map();

@customElement('yg-tasks-view')
export class YgTasksView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .filter {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        font-size: 0.875rem;
      }
    `,
  ];

  /** `?agent=<id>` narrows the list to one agent. */
  @property({ attribute: false }) params = new URLSearchParams();

  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #sorted = tasksByActivity();
  readonly #names = hostnames();
  readonly #onAgent = memoize((tasks: readonly TaskView[], agentId: string | null) =>
    agentId === null ? tasks : tasks.filter((task) => task.agentId === agentId),
  );

  override render() {
    const names = this.#names(this.#agents.value ?? NO_AGENTS);
    const all = this.#sorted(this.#tasks.value ?? NO_TASKS);
    const agentId = this.params.get('agent');
    const tasks = this.#onAgent(all, agentId);
    return html`
      <header>
        <h1>Tasks</h1>
        ${this.#loaded.value ? html`<span class="count">${tasks.length} shown</span>` : nothing}
        ${agentId === null
          ? nothing
          : html`<span class="filter"
              >on ${names.get(agentId) ?? agentId} · <a href="/tasks">show all</a></span
            >`}
      </header>
      <yg-task-table
        .tasks=${tasks}
        .agentNames=${names}
        ?loading=${!this.#loaded.value}
        @yg-agent-select=${(e: CustomEvent<{ agentId: string }>) =>
          this.dispatchEvent(navigateEvent(`/tasks?agent=${encodeURIComponent(e.detail.agentId)}`))}
      ></yg-task-table>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-tasks-view': YgTasksView;
  }
}
