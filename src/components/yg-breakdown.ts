import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Tone } from './states.js';

export interface BreakdownItem {
  label: string;
  count: number;
  tone: Tone;
  /** Per-state colour token, as the state chips use. */
  token: string;
  /** Where the filtered list of these lives. */
  href?: string;
}

/**
 * Counts per state: a stacked bar for the shape, and one line per state with its number,
 * linking to the list filtered to it. Zero counts are left out unless nothing is non-zero.
 */
@customElement('yg-breakdown')
export class YgBreakdown extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .total {
      display: flex;
      align-items: baseline;
      gap: 8px;
      margin-bottom: 12px;
    }
    .total strong {
      font-size: 1.75rem;
      line-height: 2.25rem;
      font-weight: 400;
      font-variant-numeric: tabular-nums;
    }
    .total span {
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .stack {
      display: flex;
      height: 8px;
      border-radius: 4px;
      overflow: hidden;
      background: var(--md-sys-color-surface-container-highest, #e0e2e8);
      margin-bottom: 12px;
      gap: 2px;
    }
    .stack span {
      min-width: 4px;
    }
    ul {
      margin: 0;
      padding: 0;
      list-style: none;
      display: grid;
      gap: 2px;
    }
    li a,
    li > span {
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 4px 6px;
      margin: 0 -6px;
      border-radius: 6px;
      color: inherit;
      text-decoration: none;
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    li a:hover {
      background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.04));
    }
    li a:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: 0;
    }
    .dot {
      flex: none;
      width: 10px;
      height: 10px;
      border-radius: 3px;
    }
    .name {
      flex: 1;
    }
    .n {
      font-variant-numeric: tabular-nums;
      font-weight: 500;
    }
    .none {
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
  `;

  @property({ attribute: false }) items: readonly BreakdownItem[] = [];
  /** What is counted, for the total line: "agents", "services". */
  @property() noun = '';
  @property({ type: Boolean }) loading = false;

  override render() {
    const total = this.items.reduce((sum, item) => sum + item.count, 0);
    const shown = this.items.filter((item) => item.count > 0);
    return html`
      <div class="total">
        <strong>${this.loading ? '–' : total}</strong> <span>${this.noun}</span>
      </div>
      ${total > 0
        ? html`<div class="stack" aria-hidden="true">
            ${shown.map((item) => html`<span style="flex:${item.count};background:${colour(item)}"></span>`)}
          </div>`
        : nothing}
      ${shown.length === 0
        ? html`<p class="none">${this.loading ? 'Waiting for the master…' : `No ${this.noun} yet.`}</p>`
        : html`<ul>
            ${shown.map((item) => {
              const body = html`<span class="dot" style="background:${colour(item)}" aria-hidden="true"></span>
                <span class="name">${item.label}</span> <span class="n">${item.count}</span>`;
              return html`<li>${item.href ? html`<a href=${item.href}>${body}</a>` : html`<span>${body}</span>`}</li>`;
            })}
          </ul>`}
    `;
  }
}

/** Chip containers are pale; marks want the tone's strong middle colour. */
function colour(item: BreakdownItem): string {
  return `var(--yg-state-${item.token}-dot, var(--yg-tone-${item.tone}-dot, #73777f))`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-breakdown': YgBreakdown;
  }
}
