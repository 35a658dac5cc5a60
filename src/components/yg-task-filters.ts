import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/select/outlined-select.js';
import '@material/web/select/select-option.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { TASK_STATES } from '../../protocol/types.js';
import { icons } from './icons.js';

export interface TaskFilter {
  /** '' any; 'active' not terminal; or one TASK_* state. */
  state: string;
  agent: string;
  service: string;
  q: string;
}

export const NO_TASK_FILTER: TaskFilter = Object.freeze({ state: '', agent: '', service: '', q: '' });

/**
 * Above this many choices a select would put thousands of option elements into the page (10,000
 * agents: seconds to render, and every layout of the page pays for them); the field then takes a
 * hostname or service id typed in, checked on Enter or when it loses focus.
 */
export const MAX_SELECT_OPTIONS = 200;

/** State, agent, service and free text. Controlled: `value` in, `yg-task-filter-change` out. */
@customElement('yg-task-filters')
export class YgTaskFilters extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    form {
      display: grid;
      grid-template-columns: minmax(12rem, 2fr) repeat(3, minmax(10rem, 1fr));
      gap: 12px;
      /* a field with supporting text (many agents or services) is taller: the others keep their height */
      align-items: start;
    }
    md-outlined-select,
    md-outlined-text-field {
      min-width: 0;
      width: 100%;
    }
    svg {
      width: 20px;
      height: 20px;
    }
    @media (max-width: 899px) {
      form {
        grid-template-columns: 1fr 1fr;
      }
      md-outlined-text-field {
        grid-column: 1 / -1;
      }
    }
    @media (max-width: 479px) {
      form {
        grid-template-columns: 1fr;
      }
    }
  `;

  @property({ attribute: false }) value: TaskFilter = NO_TASK_FILTER;
  /** Agents to offer, id and hostname, in display order. */
  @property({ attribute: false }) agents: ReadonlyArray<{ id: string; hostname: string }> = [];
  /** Service ids to offer. */
  @property({ attribute: false }) services: readonly string[] = [];

  /** What was typed into a large list's field that names nothing, per field. */
  @state() private unknown: { agent?: string; service?: string } = {};

  override render() {
    const v = this.value;
    return html`<form role="search" aria-label="Filter tasks" @submit=${(e: Event) => e.preventDefault()}>
      <md-outlined-text-field
        name="q"
        type="search"
        label="Search name or ID"
        .value=${v.q}
        @input=${(e: Event) => this.#change({ q: (e.target as MdOutlinedTextField).value })}
      >
        <span slot="leading-icon">${icons.search}</span>
      </md-outlined-text-field>
      <md-outlined-select name="state" label="State" .value=${v.state} @change=${(e: Event) => this.#change({ state: (e.target as MdOutlinedSelect).value })}>
        <md-select-option value="" ?selected=${v.state === ''}><div slot="headline">Any state</div></md-select-option>
        <md-select-option value="active" ?selected=${v.state === 'active'}><div slot="headline">Not finished</div></md-select-option>
        ${TASK_STATES.map(
          (state) => html`<md-select-option value=${state} ?selected=${v.state === state}>
            <div slot="headline">${state.replace(/^TASK_/, '')}</div>
          </md-select-option>`,
        )}
      </md-outlined-select>
      ${this.agents.length > MAX_SELECT_OPTIONS ? this.#agentField(v) : this.#agentSelect(v)}
      ${this.services.length > MAX_SELECT_OPTIONS ? this.#serviceField(v) : this.#serviceSelect(v)}
    </form>`;
  }

  #agentSelect(v: TaskFilter) {
    return html`<md-outlined-select name="agent" label="Agent" .value=${v.agent} @change=${(e: Event) => this.#change({ agent: (e.target as MdOutlinedSelect).value })}>
      <md-select-option value="" ?selected=${v.agent === ''}><div slot="headline">Any agent</div></md-select-option>
      ${this.agents.map(
        (agent) => html`<md-select-option value=${agent.id} ?selected=${v.agent === agent.id}>
          <div slot="headline">${agent.hostname}</div>
        </md-select-option>`,
      )}
    </md-outlined-select>`;
  }

  #serviceSelect(v: TaskFilter) {
    return html`<md-outlined-select name="service" label="Service" .value=${v.service} @change=${(e: Event) => this.#change({ service: (e.target as MdOutlinedSelect).value })}>
      <md-select-option value="" ?selected=${v.service === ''}><div slot="headline">Any service</div></md-select-option>
      ${this.services.map(
        (id) => html`<md-select-option value=${id} ?selected=${v.service === id}><div slot="headline">${id}</div></md-select-option>`,
      )}
    </md-outlined-select>`;
  }

  /** Many agents: the hostname (or agent id) typed in. */
  #agentField(v: TaskFilter) {
    const typed = this.unknown.agent;
    const shown = typed ?? (v.agent ? (this.agents.find((a) => a.id === v.agent)?.hostname ?? v.agent) : '');
    return html`<md-outlined-text-field
      name="agent"
      label="Agent hostname"
      .value=${shown}
      ?error=${typed !== undefined}
      error-text=${typed !== undefined ? `No agent is named ${typed}` : ''}
      supporting-text=${typed === undefined ? `${this.agents.length.toLocaleString('en')} agents` : ''}
      @change=${(e: Event) => this.#pick('agent', (e.target as MdOutlinedTextField).value)}
    ></md-outlined-text-field>`;
  }

  /** Many services: the service id typed in. */
  #serviceField(v: TaskFilter) {
    const typed = this.unknown.service;
    return html`<md-outlined-text-field
      name="service"
      label="Service ID"
      .value=${typed ?? v.service}
      ?error=${typed !== undefined}
      error-text=${typed !== undefined ? `No service ${typed}` : ''}
      supporting-text=${typed === undefined ? `${this.services.length.toLocaleString('en')} services` : ''}
      @change=${(e: Event) => this.#pick('service', (e.target as MdOutlinedTextField).value)}
    ></md-outlined-text-field>`;
  }

  /** A typed agent or service: chosen when it names one (or is empty: any), else shown as unknown. */
  #pick(field: 'agent' | 'service', text: string) {
    const wanted = text.trim();
    let id: string | undefined;
    if (!wanted) id = '';
    else if (field === 'service') id = this.services.includes(wanted) ? wanted : undefined;
    else {
      const lower = wanted.toLowerCase();
      id = (this.agents.find((a) => a.hostname.toLowerCase() === lower) ?? this.agents.find((a) => a.id === wanted))?.id;
    }
    if (id === undefined) {
      this.unknown = { ...this.unknown, [field]: wanted };
      return;
    }
    this.unknown = { ...this.unknown, [field]: undefined };
    if (id !== this.value[field]) this.#change({ [field]: id });
  }

  #change(patch: Partial<TaskFilter>) {
    const next = { ...this.value, ...patch };
    this.dispatchEvent(new CustomEvent<TaskFilter>('yg-task-filter-change', { detail: next, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-task-filters': YgTaskFilters;
  }
  interface GlobalEventHandlersEventMap {
    'yg-task-filter-change': CustomEvent<TaskFilter>;
  }
}
