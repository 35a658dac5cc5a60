import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/outlined-button.js';
import '@material/web/radio/radio.js';
import '@material/web/switch/switch.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { icons } from '../components/icons.js';
import '../components/yg-repository-list.js';
import { RepositoriesController } from '../data/catalog.js';
import type { ClusterStore, ConnectionInfo } from '../state/cluster-store.js';
import { connectionContext, storeContext, themeContext } from '../state/context.js';
import { notificationsContext } from '../state/notifications.js';
import type { NotificationSetting } from '../state/notifications.js';
import { mapTilesSetting, validTileUrl } from '../state/settings.js';
import type { ThemeChoice, ThemeSetting } from '../state/settings.js';
import { StoreController } from '../state/store-controller.js';
import { commandsUnavailable, errorText, unavailableNote } from './command-state.js';
import { viewStyles } from './view-styles.js';

const THEMES: ReadonlyArray<{ value: ThemeChoice; label: string; hint: string }> = [
  { value: 'system', label: 'Follow the system', hint: 'Light or dark, as this device is set.' },
  { value: 'light', label: 'Light', hint: '' },
  { value: 'dark', label: 'Dark', hint: '' },
];

/** Session (token), theme, and the package repositories of the catalog. */
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
  @consume({ context: notificationsContext, subscribe: true }) notifications?: NotificationSetting;

  @state() private fieldError = '';
  @state() private tilesError = '';
  @state() private tilesSaved = '';
  readonly #tiles = new StoreController(this, mapTilesSetting().value);

  @query('#token') private tokenField?: MdOutlinedTextField;

  readonly #connection = new StoreController(this, connectionContext);
  readonly #repos = new RepositoriesController(this, errorText);
  readonly #unavailable = new StoreController(this, commandsUnavailable);
  #themeValue?: StoreController<ThemeChoice>;
  #unwatchNotifications: Array<() => void> = [];
  /** The browser's permission question is open. */
  @state() private asking = false;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.theme && !this.#themeValue) this.#themeValue = new StoreController(this, this.theme.value);
    // The permission may have been changed in the browser's site settings since the last visit.
    this.notifications?.refresh();
    const setting = this.notifications;
    if (setting && this.#unwatchNotifications.length === 0) {
      const update = () => this.requestUpdate();
      this.#unwatchNotifications = [setting.enabled.subscribe(update), setting.permission.subscribe(update)];
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const unwatch of this.#unwatchNotifications) unwatch();
    this.#unwatchNotifications = [];
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
        ${this.#renderNotifications()}
        ${this.#renderMapTiles()}
        <section class="card" id="repositories" aria-labelledby="repos-title">
          <h2 id="repos-title">Repositories</h2>
          ${this.#unavailable.value ? html`<div style="margin-bottom:12px">${unavailableNote(this.#unavailable.value)}</div>` : nothing}
          <yg-repository-list
            .repositories=${this.#repos.repositories}
            ?loading=${this.#repos.loading && !this.#repos.loaded}
            .loadError=${this.#repos.loadError}
            ?busy=${this.#repos.busy}
            ?unavailable=${!!this.#unavailable.value}
            .error=${this.#repos.error}
            .fieldErrors=${this.#repos.fieldErrors}
            .status=${this.#repos.status}
            @yg-repository-add=${(e: CustomEvent<{ name: string; uri: string }>) => this.#repos.add(e.detail.name, e.detail.uri)}
            @yg-repository-remove=${(e: CustomEvent<{ name: string }>) => this.#repos.remove(e.detail.name)}
            @yg-repository-move=${(e: CustomEvent<{ name: string; direction: -1 | 1 }>) => this.#repos.move(e.detail.name, e.detail.direction)}
            @yg-repository-refresh=${(e: CustomEvent<{ name?: string }>) => this.#repos.refresh(e.detail.name)}
            @yg-repository-reload=${() => this.#repos.load()}
          ></yg-repository-list>
        </section>
      </div>
    `;
  }

  #renderNotifications() {
    const permission = this.notifications?.permission.value ?? 'unsupported';
    const on = (this.notifications?.enabled.value ?? false) && permission === 'granted';
    const status =
      permission === 'unsupported'
        ? 'This browser cannot show notifications.'
        : permission === 'denied'
          ? 'Notifications are blocked for this site. To turn them on, allow them in the browser’s site settings, then come back here.'
          : on
            ? 'On for this browser.'
            : permission === 'granted'
              ? 'Off. The browser already allows them, so turning this on asks nothing.'
              : 'Turning this on asks the browser for permission. If you refuse, nothing else changes.';
    return html`<section class="card" id="notifications" aria-labelledby="notify-title">
      <h2 id="notify-title">Notifications</h2>
      <p>
        A system notification when a task fails, a service turns unhealthy, a job run fails or an agent becomes
        unreachable, while this dashboard is open in a tab or as an installed app. Clicking one opens what it is about.
      </p>
      <label class="choice">
        <md-switch
          id="notify-switch"
          aria-describedby="notify-status"
          .selected=${on}
          ?disabled=${permission === 'unsupported' || permission === 'denied' || this.asking}
          @change=${this.#toggleNotifications}
        ></md-switch>
        <span>Notify me about failures</span>
      </label>
      <p id="notify-status" class="hint" role="status" style="margin:12px 0 0">${status}</p>
    </section>`;
  }

  #renderMapTiles() {
    const current = this.#tiles.value ?? '';
    return html`<section class="card" id="map-tiles" aria-labelledby="tiles-title">
      <h2 id="tiles-title">Map tiles</h2>
      <p>
        The nodes map draws world outlines that come with the dashboard: it works offline and asks no other server. For a
        detailed map, give a tile server's URL template with <code>{z}</code>, <code>{x}</code> and <code>{y}</code>; the
        tiles then load from that server. Kept in this browser.
      </p>
      <form @submit=${this.#saveTiles} novalidate>
        <md-outlined-text-field
          id="tiles"
          label="Tile URL template"
          type="url"
          placeholder="https://tiles.example.org/{z}/{x}/{y}.png"
          autocomplete="off"
          spellcheck="false"
          .value=${current}
          ?error=${!!this.tilesError}
          error-text=${this.tilesError}
          @input=${() => {
            this.tilesError = '';
            this.tilesSaved = '';
          }}
          @keydown=${(e: KeyboardEvent) => {
            if (e.key === 'Enter' && !e.isComposing) {
              e.preventDefault();
              (e.target as HTMLElement).closest('form')?.requestSubmit();
            }
          }}
        ></md-outlined-text-field>
        <md-filled-tonal-button type="submit">Save</md-filled-tonal-button>
        ${current ? html`<md-outlined-button type="button" @click=${this.#clearTiles}>Use the outlines</md-outlined-button>` : nothing}
      </form>
      <p class="hint" role="status" style="margin:12px 0 0">
        ${this.tilesSaved || (current ? html`The map loads tiles from <code>${current}</code>.` : 'The map uses the built-in outlines.')}
      </p>
    </section>`;
  }

  #saveTiles(event: SubmitEvent) {
    event.preventDefault();
    const field = this.renderRoot.querySelector<MdOutlinedTextField>('#tiles');
    const value = field?.value.trim() ?? '';
    if (value && !validTileUrl(value)) {
      this.tilesError = 'An http(s) URL, or a path on this site, with {z}, {x} and {y}';
      field?.focus();
      return;
    }
    mapTilesSetting().set(value);
    this.tilesSaved = value ? 'Saved: the map loads tiles from there.' : 'Saved: the map uses the built-in outlines.';
  }

  #clearTiles() {
    mapTilesSetting().set('');
    this.tilesError = '';
    this.tilesSaved = 'Saved: the map uses the built-in outlines.';
  }

  async #toggleNotifications(event: Event) {
    const setting = this.notifications;
    if (!setting) return;
    const target = event.target as HTMLElement & { selected: boolean };
    if (!target.selected) {
      setting.disable();
      return;
    }
    this.asking = true;
    try {
      const permission = await setting.enable();
      // Refused or dismissed: the switch goes back to off; nothing else is touched.
      if (permission !== 'granted') target.selected = false;
    } finally {
      this.asking = false;
    }
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
