import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/button/text-button.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { icons } from './icons.js';

export type Entry = readonly [string, string];

export interface EntriesDetail {
  entries: Entry[];
}

const same = (a: readonly Entry[], b: readonly Entry[]) =>
  a.length === b.length && a.every(([k, v], i) => b[i]![0] === k && b[i]![1] === v);

/**
 * Name/value pairs (environment, labels). A new row stays here until it has a name; what goes
 * out in `yg-entries-change` is the named rows, in order.
 */
@customElement('yg-key-value-editor')
export class YgKeyValueEditor extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
    }
    fieldset {
      margin: 0;
      padding: 0;
      border: 0;
      min-width: 0;
    }
    legend {
      padding: 0;
      margin-bottom: 8px;
      font-size: 0.875rem;
      font-weight: 500;
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .row {
      display: grid;
      grid-template-columns: minmax(0, 1fr) minmax(0, 1.4fr) auto;
      gap: 8px;
      align-items: center;
      margin-bottom: 8px;
    }
    md-outlined-text-field {
      min-width: 0;
      --md-outlined-text-field-top-space: 10px;
      --md-outlined-text-field-bottom-space: 10px;
    }
    .error {
      margin: 0 0 8px;
      font-size: 0.75rem;
      color: var(--md-sys-color-error, #ba1a1a);
    }
    .none {
      margin: 0 0 4px;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    svg {
      width: 20px;
      height: 20px;
    }
    @media (max-width: 479px) {
      .row {
        grid-template-columns: minmax(0, 1fr) auto;
      }
      .row md-outlined-text-field:nth-child(2) {
        grid-column: 1;
      }
      .row md-icon-button {
        grid-row: 1 / span 2;
        grid-column: 2;
      }
    }
  `;

  @property({ attribute: false }) entries: readonly Entry[] = [];
  @property() label = 'Entries';
  @property() keyLabel = 'Name';
  @property() valueLabel = 'Value';
  @property() addLabel = 'Add';
  @property() error = '';
  @property({ type: Boolean }) disabled = false;

  @state() private rows: Array<[string, string]> = [];

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Take the entries when they change from outside; our own echo changes nothing.
    if (changed.has('entries') && !same(this.entries, this.#named())) this.rows = this.entries.map(([k, v]) => [k, v]);
  }

  override render() {
    return html`<fieldset ?disabled=${this.disabled}>
      <legend>${this.label}</legend>
      ${this.rows.length === 0 ? html`<p class="none">None.</p>` : nothing}
      ${this.rows.map(
        ([key, value], i) => html`<div class="row">
          <md-outlined-text-field
            label=${this.keyLabel}
            .value=${key}
            ?disabled=${this.disabled}
            spellcheck="false"
            @input=${(e: Event) => this.#edit(i, 0, (e.target as MdOutlinedTextField).value)}
          ></md-outlined-text-field>
          <md-outlined-text-field
            label=${this.valueLabel}
            .value=${value}
            ?disabled=${this.disabled}
            spellcheck="false"
            @input=${(e: Event) => this.#edit(i, 1, (e.target as MdOutlinedTextField).value)}
          ></md-outlined-text-field>
          <md-icon-button
            aria-label=${`Remove ${key || `row ${i + 1}`}`}
            ?disabled=${this.disabled}
            @click=${() => this.#remove(i)}
            >${icons.close}</md-icon-button
          >
        </div>`,
      )}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <md-text-button type="button" ?disabled=${this.disabled} @click=${this.#add}>
        ${this.addLabel}
        <span slot="icon">${icons.add}</span>
      </md-text-button>
    </fieldset>`;
  }

  #named(): Entry[] {
    return this.rows.filter(([k]) => k.trim() !== '');
  }

  #edit(index: number, part: 0 | 1, text: string) {
    const rows = this.rows.map((row) => [...row] as [string, string]);
    rows[index]![part] = text;
    this.rows = rows;
    this.#emit();
  }

  async #add() {
    this.rows = [...this.rows, ['', '']];
    await this.updateComplete;
    const fields = this.renderRoot.querySelectorAll<MdOutlinedTextField>('.row md-outlined-text-field:first-child');
    fields[fields.length - 1]?.focus();
  }

  #remove(index: number) {
    this.rows = this.rows.filter((_, i) => i !== index);
    this.#emit();
  }

  #emit() {
    this.dispatchEvent(new CustomEvent<EntriesDetail>('yg-entries-change', { detail: { entries: this.#named() }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-key-value-editor': YgKeyValueEditor;
  }
  interface GlobalEventHandlersEventMap {
    'yg-entries-change': CustomEvent<EntriesDetail>;
  }
}
