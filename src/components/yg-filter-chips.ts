import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/chips/chip-set.js';
import '@material/web/chips/filter-chip.js';
import type { MdFilterChip } from '@material/web/chips/filter-chip.js';

export interface FilterOption {
  value: string;
  label: string;
  count?: number;
}

export interface FilterChangeDetail {
  selected: string[];
}

/**
 * A row of toggle chips, each with its count: "Running 3". Any number may be on; none on means
 * no filter. Controlled: `selected` in, `yg-filter-change` out.
 */
@customElement('yg-filter-chips')
export class YgFilterChips extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    md-filter-chip {
      --md-filter-chip-label-text-font: var(--yg-font, sans-serif);
    }
    .n {
      font-variant-numeric: tabular-nums;
      opacity: 0.8;
    }
  `;

  @property({ attribute: false }) options: readonly FilterOption[] = [];
  @property({ attribute: false }) selected: readonly string[] = [];
  /** Accessible name of the group. */
  @property() label = 'Filters';

  override render() {
    return html`<md-chip-set role="group" aria-label=${this.label}>
      ${this.options.map(
        (option) => html`<md-filter-chip
          data-value=${option.value}
          label=${option.count === undefined ? option.label : `${option.label} ${option.count}`}
          .selected=${this.selected.includes(option.value)}
          @click=${this.#toggle}
        ></md-filter-chip>`,
      )}
    </md-chip-set>`;
  }

  #toggle(event: Event) {
    const chip = event.currentTarget as MdFilterChip;
    const value = chip.dataset.value!;
    const selected = chip.selected
      ? [...this.selected.filter((v) => v !== value), value]
      : this.selected.filter((v) => v !== value);
    // Keep the options' order, whatever order they were clicked in.
    const ordered = this.options.map((o) => o.value).filter((v) => selected.includes(v));
    this.dispatchEvent(
      new CustomEvent<FilterChangeDetail>('yg-filter-change', { detail: { selected: ordered }, bubbles: true, composed: true }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-filter-chips': YgFilterChips;
  }
  interface GlobalEventHandlersEventMap {
    'yg-filter-change': CustomEvent<FilterChangeDetail>;
  }
}
