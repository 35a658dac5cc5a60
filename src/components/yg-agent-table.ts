import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/progress/linear-progress.js';
import type { AgentView } from '../../protocol/types.js';
import { nodeHref } from '../state/activity.js';
import { dropTarget } from '../state/drag.js';
import { formatCpus, formatMiB, percent } from './format.js';
import { moreRows, ROWS_PER_PAGE } from './more-rows.js';
import { agentStateChip } from './states.js';
import { tableStyles } from './table-styles.js';
import './yg-state-chip.js';

const MAX_ATTRIBUTES = 4;

/**
 * Rows in the first render after the table is connected (more than a screenful); the rest of
 * the page follows in a task of its own. Opening Nodes over 10,000 agents is then two shorter
 * tasks, not one long one that builds and lays out 100 rows at once.
 */
export const FIRST_ROWS = 20;

/**
 * Agents with their state, resources in use and task count; each hostname links to its node
 * page. Each row takes a dragged catalog package (deploy pinned to that node).
 */
@customElement('yg-agent-table')
export class YgAgentTable extends LitElement {
  static override styles = [
    tableStyles,
    css`
      .attributes {
        display: flex;
        flex-wrap: wrap;
        justify-content: inherit;
        gap: 4px;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .attributes li {
        padding: 0 6px;
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        border-radius: 6px;
        font-size: 0.75rem;
        line-height: 1.25rem;
        white-space: nowrap;
      }
      @container (max-width: 639px) {
        .attributes {
          justify-content: flex-end;
        }
      }
      /* While a package is dragged, every row is a drop target (see state/drag.ts). */
      tr[data-drop] {
        outline: 2px dashed var(--md-sys-color-primary, #36618e);
        outline-offset: -3px;
      }
      tr[data-drop='blocked'] {
        outline-color: var(--md-sys-color-outline-variant, #c3c7cf);
        opacity: 0.7;
      }
      tr[data-drop-over='ok'] {
        outline-style: solid;
        background: var(--md-sys-color-primary-container, #d1e4ff);
        color: var(--md-sys-color-on-primary-container, #001d36);
      }
      tr[data-drop-over='blocked'] {
        outline: 2px solid var(--md-sys-color-error, #ba1a1a);
        background: var(--md-sys-color-error-container, #ffdad6);
        color: var(--md-sys-color-on-error-container, #410002);
        opacity: 1;
      }
    `,
  ];

  /** In display order; the view decides the order. */
  @property({ attribute: false }) agents: readonly AgentView[] = [];
  /** Non-terminal tasks per agent id. */
  @property({ attribute: false }) taskCounts: ReadonlyMap<string, number> = new Map();
  /** Accessible name of the table. */
  @property() label = 'Agents';
  /** True until the first snapshot: shows progress instead of "no agents". */
  @property({ type: Boolean }) loading = false;

  /** Rows rendered at first and added per "Show more" (more-rows.ts). */
  @property({ type: Number }) pageSize = ROWS_PER_PAGE;
  /** Pages shown. */
  @state() private pages = 1;
  /** The first render is done: every row of the shown pages is rendered, not only FIRST_ROWS. */
  @state() private settled = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this.settled = false;
    // a task of its own after the first render (not a frame: a background tab gets none)
    void this.updateComplete.then(() => setTimeout(() => (this.settled = true)));
  }

  override render() {
    return html`
      <div class="frame">
        <table aria-label=${this.label}>
          <thead>
            <tr>
              <th scope="col">Hostname</th>
              <th scope="col">State</th>
              <th scope="col" class="num">CPUs</th>
              <th scope="col" class="num">Memory</th>
              <th scope="col" class="num">Disk</th>
              <th scope="col">Attributes</th>
              <th scope="col" class="num">Tasks</th>
            </tr>
          </thead>
          <tbody>
            ${this.agents.length === 0
              ? html`<tr><td colspan="7">${this.#placeholder()}</td></tr>`
              : repeat(
                  this.agents.slice(0, this.settled ? this.pages * this.pageSize : Math.min(FIRST_ROWS, this.pages * this.pageSize)),
                  (agent) => agent.id,
                  (agent) => this.#row(agent),
                )}
            ${moreRows(Math.min(this.pages * this.pageSize, this.agents.length), this.agents.length, 'nodes', 7, this.pageSize, () => this.pages++)}
          </tbody>
        </table>
      </div>
    `;
  }

  #placeholder() {
    if (this.loading) {
      return html`<div class="message" role="status">
        <md-linear-progress indeterminate aria-label="Loading agents"></md-linear-progress>
        <p>Waiting for the master…</p>
      </div>`;
    }
    return html`<div class="message">
      <strong>No agents yet</strong>
      Agents appear here as soon as they register with the master.
    </div>`;
  }

  #row(agent: AgentView) {
    const chip = agentStateChip(agent.state);
    const attributes = Object.entries(agent.attributes);
    const hidden = attributes.length - MAX_ATTRIBUTES;
    return html`
      <tr class="row" data-agent=${agent.id} ${dropTarget({ kind: 'node', agentId: agent.id, hostname: agent.hostname })}>
        <td class="title">
          <a class="link" href=${nodeHref(agent.id)}>${agent.hostname}</a>
        </td>
        <td data-label="State">
          <yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>
        </td>
        <td data-label="CPUs" class="num">
          ${usage(formatCpus(agent.allocated.cpus), formatCpus(agent.resources.cpus), agent.allocated.cpus, agent.resources.cpus)}
        </td>
        <td data-label="Memory" class="num">
          ${usage(formatMiB(agent.allocated.mem), formatMiB(agent.resources.mem), agent.allocated.mem, agent.resources.mem)}
        </td>
        <td data-label="Disk" class="num">
          ${usage(formatMiB(agent.allocated.disk), formatMiB(agent.resources.disk), agent.allocated.disk, agent.resources.disk)}
        </td>
        <td data-label="Attributes">
          ${attributes.length === 0
            ? html`<span class="muted">—</span>`
            : html`<ul class="attributes">
                ${attributes.slice(0, MAX_ATTRIBUTES).map(([key, value]) => html`<li>${key}: ${value}</li>`)}
                ${hidden > 0
                  ? html`<li title=${attributes.slice(MAX_ATTRIBUTES).map(([k, v]) => `${k}: ${v}`).join(', ')}>+${hidden}</li>`
                  : nothing}
              </ul>`}
        </td>
        <td data-label="Tasks" class="num">${this.taskCounts.get(agent.id) ?? 0}</td>
      </tr>
    `;
  }

}

/** "1.5 / 4" with a thin bar; the bar is decoration, the text carries the numbers. */
function usage(usedLabel: string, totalLabel: string, used: number, total: number) {
  return html`<span class="usage">
    <span>${usedLabel} / ${totalLabel}</span>
    <span class="bar" aria-hidden="true"><span style="width:${percent(used, total).toFixed(1)}%"></span></span>
  </span>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-agent-table': YgAgentTable;
  }
}
