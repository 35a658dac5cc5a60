import { LitElement, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/button/text-button.js';
import '@material/web/dialog/dialog.js';
import { dialogStyles } from './dialog-styles.js';

/**
 * "Are you sure?" for actions that cannot be undone or that disturb running work. Controlled:
 * the page sets `open`, and closes it after `yg-confirm` succeeded (or shows `error`).
 * `yg-dialog-close` says the user dismissed it.
 */
@customElement('yg-confirm-dialog')
export class YgConfirmDialog extends LitElement {
  static override styles = dialogStyles;

  @property({ type: Boolean }) open = false;
  @property() heading = '';
  @property() confirmLabel = 'Confirm';
  /** The action destroys something: the button says so in colour too. */
  @property({ type: Boolean }) destructive = false;
  @property({ type: Boolean }) busy = false;
  @property() error = '';

  override render() {
    return html`<md-dialog .open=${this.open} @close=${this.#onClose} @cancel=${this.#onCancel}>
      <div slot="headline">${this.heading}</div>
      <form slot="content" id="form" @submit=${this.#onSubmit}>
        <div><slot></slot></div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      </form>
      <div slot="actions">
        <md-text-button form="form" value="cancel" type="button" @click=${this.#cancel}>Cancel</md-text-button>
        <md-filled-button form="form" type="submit" class=${this.destructive ? 'danger' : ''} ?disabled=${this.busy}>
          ${this.confirmLabel}
        </md-filled-button>
      </div>
    </md-dialog>`;
  }

  #onSubmit(event: SubmitEvent) {
    // The page decides when to close: after the command succeeded.
    event.preventDefault();
    if (this.busy) return;
    this.dispatchEvent(new CustomEvent('yg-confirm', { bubbles: true, composed: true }));
  }

  #cancel() {
    this.#closed();
  }

  #onCancel() {
    this.#closed();
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
    'yg-confirm-dialog': YgConfirmDialog;
  }
  interface GlobalEventHandlersEventMap {
    'yg-confirm': CustomEvent<void>;
    'yg-dialog-close': CustomEvent<void>;
  }
}
