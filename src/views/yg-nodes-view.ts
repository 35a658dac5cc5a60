import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { AgentView, TaskView } from '../../protocol/types.js';
import '../components/yg-agent-table.js';
import { clusterContext } from '../state/context.js';
import { StoreController } from '../state/store-controller.js';
import { activeTaskCounts, agentsByHostname } from './cluster-selectors.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskView> = new Map();

@customElement('yg-nodes-view')
export class YgNodesView extends LitElement {
  static override styles = viewStyles;

  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #sorted = agentsByHostname();
  readonly #counts = activeTaskCounts();

  override render() {
    const agents = this.#sorted(this.#agents.value ?? NO_AGENTS);
    const active = agents.filter((agent) => agent.state === 'ACTIVE').length;
    return html`
      <header>
        <h1>Nodes</h1>
        ${this.#loaded.value ? html`<span class="count">${active} of ${agents.length} active</span>` : ''}
      </header>
      <yg-agent-table
        .agents=${agents}
        .taskCounts=${this.#counts(this.#tasks.value ?? NO_TASKS)}
        ?loading=${!this.#loaded.value}
      ></yg-agent-table>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-nodes-view': YgNodesView;
  }
}
