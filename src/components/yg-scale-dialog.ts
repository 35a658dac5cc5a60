import { LitElement, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/button/text-button.js';
import '@material/web/dialog/dialog.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { dialogStyles } from './dialog-styles.js';

export interface ScaleDetail {
  instances: number;
}

/** How many instances a service should run. Out: `yg-scale` with a whole number ≥ 0. */
@customElement('yg-scale-dialog')
export class YgScaleDialog extends LitElement {
  static override styles = dialogStyles;

  @property({ type: Boolean }) open = false;
  /** The service's id, for the heading. */
  @property() service = '';
  /** The current target, shown when the dialog opens. */
  @property({ type: Number }) instances = 1;
  @property({ type: Boolean }) busy = false;
  @property() error = '';

  @state() private value = '1';
  @state() private invalid = '';

  @query('md-outlined-text-field') private field?: MdOutlinedTextField;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('open') && this.open) {
      this.value = String(this.instances);
      this.invalid = '';
    }
  }

  override render() {
    return html`<md-dialog .open=${this.open} @opened=${() => this.field?.select()} @close=${this.#onClose} @cancel=${this.#closed}>
      <div slot="headline">Scale ${this.service}</div>
      <form slot="content" id="scale-form" novalidate @submit=${this.#onSubmit}>
        <p>Marathon starts or stops instances to reach the new count. 0 suspends the service.</p>
        <md-outlined-text-field
          label="Instances"
          type="number"
          min="0"
          step="1"
          inputmode="numeric"
          .value=${this.value}
          ?error=${!!this.invalid}
          error-text=${this.invalid}
          @input=${(e: Event) => {
            this.value = (e.target as MdOutlinedTextField).value;
            this.invalid = '';
          }}
          @keydown=${this.#submitOnEnter}
        ></md-outlined-text-field>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      </form>
      <div slot="actions">
        <md-text-button type="button" @click=${this.#closed}>Cancel</md-text-button>
        <md-filled-button form="scale-form" type="submit" ?disabled=${this.busy}>Scale</md-filled-button>
      </div>
    </md-dialog>`;
  }

  // The field's input sits in its own shadow root: Enter would not submit the form by itself.
  #submitOnEnter(event: KeyboardEvent) {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  }

  #onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (this.busy) return;
    const text = this.value.trim();
    const n = Number(text);
    if (text === '' || !Number.isInteger(n) || n < 0) {
      this.invalid = 'Enter a whole number, 0 or more';
      this.field?.focus();
      return;
    }
    this.dispatchEvent(new CustomEvent<ScaleDetail>('yg-scale', { detail: { instances: n }, bubbles: true, composed: true }));
  }

  #onClose(event: Event) {
    if (event.target !== event.currentTarget) return;
    if (this.open) this.#closed();
  }

  #closed() {
    this.dispatchEvent(new CustomEvent('yg-dialog-close', { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-scale-dialog': YgScaleDialog;
  }
  interface GlobalEventHandlersEventMap {
    'yg-scale': CustomEvent<ScaleDetail>;
  }
}
