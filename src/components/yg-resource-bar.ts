import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatCpus, formatMiB, percent } from './format.js';

export type ResourceUnit = 'cpus' | 'mib';

/**
 * Allocated of total as a labelled bar: "1.5 of 4 CPUs · 38 %". The numbers are text; the bar
 * repeats them for the eye and is a meter for assistive technology.
 */
@customElement('yg-resource-bar')
export class YgResourceBar extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .head {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 2px 12px;
      margin-bottom: 8px;
    }
    .label {
      font-size: 0.875rem;
      font-weight: 500;
    }
    .value {
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-variant-numeric: tabular-nums;
    }
    .pct {
      font-size: 1.5rem;
      line-height: 2rem;
      font-variant-numeric: tabular-nums;
    }
    .bar {
      height: 8px;
      border-radius: 4px;
      background: var(--md-sys-color-surface-container-highest, #e0e2e8);
      overflow: hidden;
    }
    .fill {
      height: 100%;
      border-radius: 4px;
      background: var(--yg-resource-bar-color, var(--md-sys-color-primary, #36618e));
      transition: width 300ms ease;
    }
    :host([compact]) .pct {
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    :host([compact]) .bar {
      height: 4px;
    }
  `;

  @property() label = '';
  @property({ type: Number }) used = 0;
  @property({ type: Number }) total = 0;
  @property() unit: ResourceUnit = 'cpus';
  /** Smaller type and bar, for table cells and detail pages. */
  @property({ type: Boolean, reflect: true }) compact = false;

  override render() {
    const share = percent(this.used, this.total);
    const text = `${this.#format(this.used)} of ${this.#format(this.total)}${this.unit === 'cpus' ? (this.total === 1 ? ' CPU' : ' CPUs') : ''}`;
    const rounded = Math.round(share);
    return html`
      <div class="head">
        <span class="label" id="label">${this.label}</span>
        <span class="value">${text}</span>
        <span class="pct">${this.total > 0 ? `${rounded} %` : '–'}</span>
      </div>
      <div
        class="bar"
        role="meter"
        aria-labelledby="label"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${rounded}
        aria-valuetext=${`${text}, ${rounded} %`}
      >
        <div class="fill" style="width:${share.toFixed(1)}%"></div>
      </div>
    `;
  }

  #format(value: number): string {
    return this.unit === 'cpus' ? formatCpus(value) : formatMiB(value);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-resource-bar': YgResourceBar;
  }
}
