import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { TaskSummary } from '../../protocol/types.js';
import { nodeHref, serviceHref, taskHref } from '../state/activity.js';
import { serviceOf } from '../state/labels.js';
import { formatCpus, formatMiB } from './format.js';
import { taskStateChip } from './states.js';
import { timeAgo } from './time.js';
import './yg-state-chip.js';

export type TaskColumn = 'id' | 'service' | 'agent';

/**
 * One task in a yg-task-list. Its own element so that a changed task re-renders only its row:
 * the list hands each row its task object, and an unchanged object is no update.
 */
@customElement('yg-task-row')
export class YgTaskRow extends LitElement {
  static override styles = css`
    :host {
      position: absolute;
      left: 0;
      right: 0;
      top: 0;
      box-sizing: border-box;
      display: grid;
      grid-template-columns: var(--yg-task-columns);
      align-items: center;
      column-gap: 16px;
      height: var(--yg-task-row-height, 52px);
      padding: 0 16px;
      border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      font-size: 0.875rem;
      line-height: 1.25rem;
      color: var(--md-sys-color-on-surface, #191c20);
      contain: layout style;
    }
    :host(:hover) {
      background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.04));
    }
    [role='cell'] {
      min-width: 0;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .num {
      text-align: end;
      font-variant-numeric: tabular-nums;
    }
    .mono {
      font-family: var(--yg-font-mono, monospace);
      font-size: 0.8125rem;
    }
    .muted {
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    a {
      color: var(--md-sys-color-primary, #36618e);
      text-decoration: none;
      border-radius: 4px;
    }
    a.name {
      font-weight: 500;
      color: var(--md-sys-color-on-surface, #191c20);
    }
    a:hover {
      text-decoration: underline;
    }
    a:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: 1px;
    }
    .unit {
      display: none;
    }
    time {
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }

    /* Narrow: a three-line card. Same cells, placed by area. */
    :host([narrow]) {
      grid-template-columns: minmax(0, 1fr) auto auto auto;
      grid-template-areas:
        'name name name state'
        'agent agent agent time'
        'id id cpus mem';
      align-content: center;
      row-gap: 2px;
      column-gap: 12px;
    }
    :host([narrow]) .c-name {
      grid-area: name;
      font-size: 1rem;
    }
    :host([narrow]) .c-state {
      grid-area: state;
      justify-self: end;
    }
    :host([narrow]) .c-id {
      grid-area: id;
    }
    :host([narrow]) .c-agent {
      grid-area: agent;
    }
    :host([narrow]) .c-cpus {
      grid-area: cpus;
    }
    :host([narrow]) .c-mem {
      grid-area: mem;
    }
    :host([narrow]) .c-time {
      grid-area: time;
    }
    :host([narrow]) .c-service {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }
    :host([narrow]) .unit {
      display: inline;
    }
    :host([narrow]) .c-cpus,
    :host([narrow]) .c-mem {
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
  `;

  @property({ attribute: false }) task?: TaskSummary;
  @property() agentName?: string;
  @property({ type: Number }) now = Date.now();
  @property({ type: Boolean, reflect: true }) narrow = false;
  /** The row keyboard focus rests on: its links are in the tab order, other rows' are not. */
  @property({ type: Boolean }) active = false;
  @property({ attribute: false }) columns: readonly TaskColumn[] = ['id', 'service', 'agent'];

  /** Moves focus to the task's link. */
  focusLink(): void {
    this.renderRoot.querySelector<HTMLAnchorElement>('a.name')?.focus();
  }

  override render() {
    const task = this.task;
    if (!task) return nothing;
    const chip = taskStateChip(task.state);
    const tab = this.active ? 0 : -1;
    const service = serviceOf(task);
    return html`
      <span role="cell" class="c-name"><a class="name" href=${taskHref(task.id)} tabindex=${tab}>${task.name || task.id}</a></span>
      ${this.columns.includes('id') ? html`<span role="cell" class="c-id mono muted" title=${task.id}>${task.id}</span>` : nothing}
      <span role="cell" class="c-state">
        <yg-state-chip tone=${chip.tone} token=${chip.token} title=${task.message ?? task.state}>${chip.label}</yg-state-chip>
      </span>
      ${this.columns.includes('service')
        ? html`<span role="cell" class="c-service">
            ${service ? html`<a href=${serviceHref(service)} tabindex=${tab}>${service}</a>` : html`<span class="muted">—</span>`}
          </span>`
        : nothing}
      ${this.columns.includes('agent')
        ? html`<span role="cell" class="c-agent">
            ${this.agentName === undefined
              ? html`<span class="mono muted" title="Agent not known">${task.agentId}</span>`
              : html`<a href=${nodeHref(task.agentId)} tabindex=${tab}>${this.agentName}</a>`}
          </span>`
        : nothing}
      <span role="cell" class="c-cpus num">${formatCpus(task.cpus)}<span class="unit"> CPUs</span></span>
      <span role="cell" class="c-mem num">${formatMiB(task.mem)}</span>
      <span role="cell" class="c-time num">${timeAgo(task.updatedAt, this.now)}</span>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-task-row': YgTaskRow;
  }
}
