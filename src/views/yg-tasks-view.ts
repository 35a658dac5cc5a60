import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AgentView, ServiceView, TaskSummary } from '../../protocol/types.js';
import '../components/yg-task-filters.js';
import type { TaskFilter } from '../components/yg-task-filters.js';
import '../components/yg-task-list.js';
import { clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { agentsByHostname, filterTasks, hostnames, tasksByActivity } from './cluster-selectors.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskSummary> = new Map();
const NO_SERVICES: ReadonlyMap<string, ServiceView> = new Map();

/** Every task, filtered by the address (`?state=&agent=&service=&q=`) so a filter is a bookmark. */
@customElement('yg-tasks-view')
export class YgTasksView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      yg-task-filters {
        margin-bottom: 16px;
      }
      .clear {
        font-size: 0.875rem;
      }
    `,
  ];

  @property({ attribute: false }) params = new URLSearchParams();

  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #services = new StoreController(this, clusterContext, (s) => s.services);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #sorted = tasksByActivity();
  readonly #names = hostnames();
  readonly #agentList = agentsByHostname();
  readonly #filter = filterTasks();
  readonly #serviceIds = memoize((services: ReadonlyMap<string, ServiceView>) => [...services.keys()].sort());
  readonly #value = memoize((state: string, agent: string, service: string, q: string): TaskFilter => ({ state, agent, service, q }));

  override render() {
    const agents = this.#agents.value ?? NO_AGENTS;
    const all = this.#sorted(this.#tasks.value ?? NO_TASKS);
    const p = this.params;
    const filter = this.#value(p.get('state') ?? '', p.get('agent') ?? '', p.get('service') ?? '', p.get('q') ?? '');
    const tasks = this.#filter(all, filter.state, filter.agent, filter.service, filter.q);
    const filtered = tasks !== all;
    return html`
      <header>
        <h1>Tasks</h1>
        ${this.#loaded.value
          ? html`<span class="count" role="status">${filtered ? `${tasks.length} of ${all.length}` : all.length} ${all.length === 1 ? 'task' : 'tasks'}</span>`
          : nothing}
        ${filtered ? html`<a class="clear" href="/tasks">Clear filters</a>` : nothing}
      </header>
      <yg-task-filters
        .value=${filter}
        .agents=${this.#agentList(agents)}
        .services=${this.#serviceIds(this.#services.value ?? NO_SERVICES)}
        @yg-task-filter-change=${this.#onFilter}
      ></yg-task-filters>
      <yg-task-list
        .tasks=${tasks}
        .agentNames=${this.#names(agents)}
        ?loading=${!this.#loaded.value}
        emptyTitle=${filtered ? 'No tasks match' : 'No tasks'}
        emptyText=${filtered ? 'Change or clear the filters to see more.' : 'Tasks appear here when a service or job launches them.'}
      ></yg-task-list>
    `;
  }

  #onFilter(event: CustomEvent<TaskFilter>) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(event.detail)) if (value) query.set(key, value);
    const search = query.toString();
    // Typing in the search box should not leave a history entry per letter.
    this.dispatchEvent(navigateEvent(`/tasks${search ? `?${search}` : ''}`, { replace: event.detail.q !== (this.params.get('q') ?? '') }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-tasks-view': YgTasksView;
  }
}
