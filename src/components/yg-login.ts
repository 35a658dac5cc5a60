import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';

export interface LoginDetail {
  token: string;
}

/** Asks for an access token. Emits `yg-login`; the app decides what to do with it. */
@customElement('yg-login')
export class YgLogin extends LitElement {
  static override styles = css`
    :host {
      display: block;
      box-sizing: border-box;
      width: 100%;
      max-width: 26rem;
      padding: 32px 24px 24px;
      border-radius: 28px;
      background: var(--md-sys-color-surface-container-low, #f2f3fa);
      color: var(--md-sys-color-on-surface, #191c20);
      font-family: var(--yg-font, sans-serif);
    }
    h1 {
      margin: 0 0 8px;
      font-size: 1.5rem;
      line-height: 2rem;
      font-weight: 400;
    }
    p {
      margin: 0 0 24px;
      font-size: 0.875rem;
      line-height: 1.25rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    code {
      font-family: var(--yg-font-mono, monospace);
      font-size: 0.8125rem;
    }
    .error {
      margin: 0 0 16px;
      padding: 12px 16px;
      border-radius: 12px;
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
    }
    form {
      display: grid;
      gap: 16px;
    }
    md-outlined-text-field {
      width: 100%;
    }
    md-filled-button {
      justify-self: end;
    }
  `;

  /** Why the last token did not work, shown above the form. */
  @property() error = '';
  /** While a login is in flight: the button is disabled so one click is one attempt. */
  @property({ type: Boolean }) busy = false;

  @query('md-outlined-text-field') private field!: MdOutlinedTextField;

  override render() {
    return html`
      <h1>Sign in to Yagura</h1>
      <p>
        Paste an access token. <code>yagura up</code> prints a login link that carries one; the admin token is
        also in <code>&lt;data-dir&gt;/admin-token</code>.
      </p>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      <form @submit=${this.#submit} novalidate>
        <md-outlined-text-field
          label="Access token"
          name="token"
          type="password"
          autocomplete="current-password"
          spellcheck="false"
          @input=${this.#clearFieldError}
          @keydown=${this.#submitOnEnter}
        ></md-outlined-text-field>
        <md-filled-button type="submit" ?disabled=${this.busy}>Sign in</md-filled-button>
      </form>
    `;
  }

  /** Puts the cursor in the token field, e.g. right after the master refused a token. */
  override focus() {
    this.field?.focus();
  }

  #clearFieldError() {
    if (this.field.error) {
      this.field.error = false;
      this.field.errorText = '';
    }
  }

  // The field's input lives in its own shadow root, so the browser's implicit submission on
  // Enter never reaches our form.
  #submitOnEnter(event: KeyboardEvent) {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  }

  #submit(event: SubmitEvent) {
    event.preventDefault();
    const token = this.field.value.trim();
    if (!token) {
      this.field.error = true;
      this.field.errorText = 'Enter a token';
      this.field.focus();
      return;
    }
    this.dispatchEvent(new CustomEvent<LoginDetail>('yg-login', { detail: { token }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-login': YgLogin;
  }
  interface GlobalEventHandlersEventMap {
    'yg-login': CustomEvent<LoginDetail>;
  }
}
