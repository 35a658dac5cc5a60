import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/outlined-button.js';
import '@material/web/radio/radio.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { icons } from '../components/icons.js';
import type { ClusterStore, ConnectionInfo } from '../state/cluster-store.js';
import { connectionContext, storeContext, themeContext } from '../state/context.js';
import type { ThemeChoice, ThemeSetting } from '../state/settings.js';
import { StoreController } from '../state/store-controller.js';
import { viewStyles } from './view-styles.js';

const THEMES: ReadonlyArray<{ value: ThemeChoice; label: string; hint: string }> = [
  { value: 'system', label: 'Follow the system', hint: 'Light or dark, as this device is set.' },
  { value: 'light', label: 'Light', hint: '' },
  { value: 'dark', label: 'Dark', hint: '' },
];

/** Session (token), theme, and the place where package repositories will be managed. */
@customElement('yg-settings-view')
export class YgSettingsView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .sections {
        display: grid;
        gap: 16px;
        max-width: 48rem;
      }
      .card p {
        margin: 0 0 16px;
        font-size: 0.875rem;
        line-height: 1.25rem;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 12px;
        align-items: flex-start;
      }
      form md-outlined-text-field {
        flex: 1 1 16rem;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px;
      }
      fieldset {
        margin: 0;
        padding: 0;
        border: 0;
        display: grid;
        gap: 12px;
      }
      legend {
        padding: 0;
        margin-bottom: 12px;
        font-size: 0.875rem;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      label.choice {
        display: flex;
        align-items: center;
        gap: 12px;
        font-size: 0.875rem;
        cursor: pointer;
      }
      .hint {
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      code {
        font-family: var(--yg-font-mono, monospace);
        font-size: 0.8125rem;
      }
    `,
  ];

  @consume({ context: storeContext }) store?: ClusterStore;
  @consume({ context: themeContext, subscribe: true }) theme?: ThemeSetting;

  @state() private fieldError = '';

  @query('#token') private tokenField?: MdOutlinedTextField;

  readonly #connection = new StoreController(this, connectionContext);
  #themeValue?: StoreController<ThemeChoice>;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.theme && !this.#themeValue) this.#themeValue = new StoreController(this, this.theme.value);
  }

  override render() {
    const connection: ConnectionInfo = this.#connection.value ?? { status: 'idle', attempt: 0 };
    const token = this.store?.token ?? '';
    const choice = this.theme?.value.value ?? 'system';
    return html`
      <header><h1>Settings</h1></header>
      <div class="sections">
        <section class="card" aria-labelledby="session-title">
          <h2 id="session-title">Session</h2>
          <p>
            ${token
              ? html`Signed in with a token ending in <code>…${token.slice(-4)}</code>. The connection is ${connection.status}.`
              : 'Not signed in.'}
            The token stays in this browser until you log out.
          </p>
          <form @submit=${this.#switchToken} novalidate>
            <md-outlined-text-field
              id="token"
              label="Use another token"
              type="password"
              autocomplete="off"
              spellcheck="false"
              ?error=${!!this.fieldError}
              error-text=${this.fieldError}
              @input=${() => (this.fieldError = '')}
              @keydown=${this.#submitOnEnter}
            ></md-outlined-text-field>
            <md-filled-tonal-button type="submit">Sign in</md-filled-tonal-button>
          </form>
          <div class="row" style="margin-top:16px">
            <md-outlined-button @click=${() => this.store?.logout()}>Log out<span slot="icon">${icons.logout}</span></md-outlined-button>
          </div>
        </section>
        <section class="card" aria-labelledby="theme-title">
          <h2 id="theme-title">Theme</h2>
          <fieldset>
            <legend>Colours of this dashboard, kept in this browser.</legend>
            ${THEMES.map(
              (t) => html`<label class="choice">
                <md-radio name="theme" value=${t.value} .checked=${choice === t.value} @change=${() => this.theme?.set(t.value)}></md-radio>
                <span>${t.label}${t.hint ? html` <span class="hint">— ${t.hint}</span>` : nothing}</span>
              </label>`,
            )}
          </fieldset>
        </section>
        <section class="card" aria-labelledby="repos-title">
          <h2 id="repos-title">Repositories</h2>
          <p>
            The package catalog comes in a later version. Universe-format repositories will be added and ordered here;
            none are configured yet.
          </p>
        </section>
      </div>
    `;
  }

  #submitOnEnter(event: KeyboardEvent) {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  }

  #switchToken(event: SubmitEvent) {
    event.preventDefault();
    const value = this.tokenField?.value.trim() ?? '';
    if (!value) {
      this.fieldError = 'Enter a token';
      this.tokenField?.focus();
      return;
    }
    this.store?.login(value);
    if (this.tokenField) this.tokenField.value = '';
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-settings-view': YgSettingsView;
  }
}
