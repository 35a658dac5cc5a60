import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/progress/linear-progress.js';
import type { TaskView } from '../../protocol/types.js';
import type { AgentSelectDetail } from './yg-agent-table.js';
import { ClockController } from './clock-controller.js';
import { formatAgo, formatCpus, formatMiB } from './format.js';
import { taskStateChip } from './states.js';
import { tableStyles } from './table-styles.js';
import './yg-state-chip.js';

/**
 * Tasks with their state, placement and size. Properties in; `yg-agent-select` out when the
 * user picks a task's agent.
 */
@customElement('yg-task-table')
export class YgTaskTable extends LitElement {
  static override styles = [
    tableStyles,
    css`
      .name {
        font-weight: 500;
        overflow-wrap: anywhere;
      }
      .id {
        display: inline-block;
        max-width: 16rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        vertical-align: bottom;
      }
      @container (max-width: 639px) {
        .name {
        font-weight: 500;
        overflow-wrap: anywhere;
      }
      .id {
          max-width: 60%;
        }
      }
    `,
  ];

  /** In display order; the view decides the order. */
  @property({ attribute: false }) tasks: readonly TaskView[] = [];
  /** Agent id → hostname, for the Agent column. */
  @property({ attribute: false }) agentNames: ReadonlyMap<string, string> = new Map();
  @property() label = 'Tasks';
  @property({ type: Boolean }) loading = false;
  /** Fixed "now" for relative times (tests, printing); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this);

  override render() {
    return html`
      <div class="frame">
        <table aria-label=${this.label}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">State</th>
              <th scope="col">Agent</th>
              <th scope="col" class="num">CPUs</th>
              <th scope="col" class="num">Memory</th>
              <th scope="col" class="num">Updated</th>
            </tr>
          </thead>
          <tbody>
            ${this.tasks.length === 0
              ? html`<tr><td colspan="7">${this.#placeholder()}</td></tr>`
              : repeat(this.tasks, (task) => task.id, (task) => this.#row(task))}
          </tbody>
        </table>
      </div>
    `;
  }

  #placeholder() {
    if (this.loading) {
      return html`<div class="message" role="status">
        <md-linear-progress indeterminate aria-label="Loading tasks"></md-linear-progress>
        <p>Waiting for the master…</p>
      </div>`;
    }
    return html`<div class="message">
      <strong>No tasks</strong>
      Tasks appear here when a service or job launches them.
    </div>`;
  }

  #row(task: TaskView) {
    const chip = taskStateChip(task.state);
    const now = this.now ?? this.#clock.now;
    const agent = this.agentNames.get(task.agentId);
    return html`
      <tr class="row">
        <td class="title">
          <span class="name">${task.name || task.id}</span>
        </td>
        <td data-label="ID"><span class="id mono" title=${task.id}>${task.id}</span></td>
        <td data-label="State">
          <yg-state-chip tone=${chip.tone} token=${chip.token} title=${task.message ?? task.state}>${chip.label}</yg-state-chip>
        </td>
        <td data-label="Agent">
          ${agent === undefined
            ? html`<span class="muted mono" title="Agent not known">${task.agentId}</span>`
            : html`<button class="link" @click=${() => this.#selectAgent(task.agentId)}>${agent}</button>`}
        </td>
        <td data-label="CPUs" class="num">${formatCpus(task.resources.cpus)}</td>
        <td data-label="Memory" class="num">${formatMiB(task.resources.mem)}</td>
        <td data-label="Updated" class="num">
          <time datetime=${new Date(task.updatedAt).toISOString()} title=${new Date(task.updatedAt).toLocaleString()}
            >${formatAgo(task.updatedAt, now)}</time
          >
        </td>
      </tr>
    `;
  }

  #selectAgent(agentId: string) {
    this.dispatchEvent(
      new CustomEvent<AgentSelectDetail>('yg-agent-select', { detail: { agentId }, bubbles: true, composed: true }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-task-table': YgTaskTable;
  }
}
