import { ContextProvider } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/text-button.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/progress/linear-progress.js';
import { brandMark, icons } from '../components/icons.js';
import type { Tone } from '../components/states.js';
import type { YgLogin } from '../components/yg-login.js';
import '../components/yg-state-chip.js';
import { ActivityFeed } from '../state/activity.js';
import { AllocationHistory } from '../state/allocation-history.js';
import { createApi } from '../state/api.js';
import type { Api } from '../state/api.js';
import { createBrowserStore } from '../state/browser-store.js';
import type { ClusterStore, ConnectionInfo, ConnectionStatus } from '../state/cluster-store.js';
import {
  activityContext,
  allocationContext,
  apiContext,
  clusterContext,
  connectionContext,
  storeContext,
  themeContext,
} from '../state/context.js';
import { ThemeSetting, browserStorage } from '../state/settings.js';
import { StoreController } from '../state/store-controller.js';
import { NOT_FOUND, SECTIONS, matchPage, sectionOf } from './routes.js';
import type { RoutedView } from './routes.js';

const CONNECTION_CHIP: Record<ConnectionStatus, { label: string; tone: Tone }> = {
  idle: { label: 'Signed out', tone: 'neutral' },
  connecting: { label: 'Connecting', tone: 'pending' },
  live: { label: 'Live', tone: 'ok' },
  reconnecting: { label: 'Reconnecting', tone: 'warn' },
  unauthorized: { label: 'Signed out', tone: 'error' },
};

/** Paths the master serves itself: links to them leave the single-page app. */
const SERVER_PATHS = /^\/(?:api|v1|v2|master|files|package|service|health|state\.json)(?:\/|$)/;

export interface UpdateAvailableDetail {
  /** Activates the waiting service worker and reloads into the new version. */
  apply(): void;
}

interface Address {
  path: string;
  params: URLSearchParams;
}

function currentAddress(): Address {
  return { path: window.location.pathname, params: new URLSearchParams(window.location.search) };
}

/**
 * The shell: owns the store, hands it down through contexts, routes between lazily loaded
 * views, and shows the login form whenever there is no accepted token.
 */
@customElement('yg-app')
export class YgApp extends LitElement {
  static override styles = css`
    :host {
      display: grid;
      min-height: 100vh;
      min-height: 100dvh;
      grid-template: 'bar bar' auto 'nav main' 1fr / auto minmax(0, 1fr);
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-background, #191c20);
      background: var(--md-sys-color-background, #f8f9ff);
    }
    .app-bar {
      grid-area: bar;
      position: sticky;
      top: 0;
      z-index: 2;
      display: flex;
      align-items: center;
      gap: 12px;
      min-height: 64px;
      padding: 0 12px 0 16px;
      background: var(--yg-app-bar-container, #eceef4);
    }
    .brand {
      display: inline-flex;
      align-items: center;
      gap: 12px;
      color: inherit;
      text-decoration: none;
      font-size: 1.375rem;
      line-height: 1.75rem;
      border-radius: 8px;
    }
    .brand:focus-visible,
    nav a:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: 2px;
    }
    .spacer {
      flex: 1;
    }
    .logout-icon {
      display: none;
    }
    nav {
      grid-area: nav;
      display: flex;
      flex-direction: column;
      align-items: center;
      gap: 12px;
      width: 88px;
      padding-top: 12px;
    }
    nav a {
      display: flex;
      flex-direction: column;
      align-items: center;
      gap: 4px;
      min-width: 56px;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      text-decoration: none;
      font-size: 0.75rem;
      font-weight: 500;
      line-height: 1rem;
      letter-spacing: 0.04em;
      border-radius: 16px;
    }
    nav .indicator {
      display: grid;
      place-items: center;
      width: 56px;
      height: 32px;
      border-radius: 16px;
    }
    nav a:hover .indicator {
      background: var(--md-sys-color-surface-container-highest, #e0e2e8);
    }
    nav a[aria-current='page'] {
      color: var(--md-sys-color-on-surface, #191c20);
    }
    nav a[aria-current='page'] .indicator {
      background: var(--yg-nav-indicator, #d7e3f7);
      color: var(--md-sys-color-on-secondary-container, #101c2b);
    }
    main {
      grid-area: main;
      box-sizing: border-box;
      width: 100%;
      max-width: 1440px;
      padding: 24px 24px 48px;
    }
    .banner {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 8px 16px;
      margin-bottom: 20px;
      padding: 8px 8px 8px 16px;
      border-radius: var(--yg-radius, 12px);
      background: var(--md-sys-color-secondary-container, #d7e3f7);
      color: var(--md-sys-color-on-secondary-container, #101c2b);
      font-size: 0.875rem;
    }
    .banner.error {
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
    }
    md-linear-progress {
      width: 100%;
    }
    .login-page {
      grid-column: 1 / -1;
      grid-row: 1 / -1;
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      gap: 24px;
      padding: 24px 16px;
    }
    .login-page .brand {
      font-size: 1.75rem;
      line-height: 2.25rem;
    }
    .login-page .brand svg {
      width: 48px;
      height: 48px;
    }

    @media (max-width: 599px) {
      :host {
        grid-template: 'bar' auto 'main' 1fr 'nav' auto / minmax(0, 1fr);
      }
      .app-bar {
        min-height: 56px;
        padding: 0 4px 0 12px;
        gap: 8px;
      }
      .logout-text {
        display: none;
      }
      .logout-icon {
        display: inline-flex;
      }
      nav {
        position: sticky;
        bottom: 0;
        z-index: 2;
        flex-direction: row;
        justify-content: space-around;
        width: auto;
        padding: 12px 0 max(16px, env(safe-area-inset-bottom));
        background: var(--yg-app-bar-container, #eceef4);
      }
      main {
        padding: 16px 12px 32px;
      }
    }
  `;

  /** Injected by tests; otherwise built from the page's address and storage on connect. */
  @property({ attribute: false }) store?: ClusterStore;
  /** Injected by tests; otherwise REST with the store's token. */
  @property({ attribute: false }) api?: Api;
  /** Injected by tests; otherwise the theme persisted in this browser. */
  @property({ attribute: false }) theme?: ThemeSetting;

  @state() private address: Address = currentAddress();
  @state() private viewError = '';
  @state() private applyUpdate?: () => void;
  /** A login from the form is in flight: keep the form (busy) until the master answers. */
  @state() private loginPending = false;

  @query('yg-login') private loginForm?: YgLogin;

  readonly #clusterProvider = new ContextProvider(this, { context: clusterContext });
  readonly #connectionProvider = new ContextProvider(this, { context: connectionContext });
  readonly #storeProvider = new ContextProvider(this, { context: storeContext });
  readonly #apiProvider = new ContextProvider(this, { context: apiContext });
  readonly #activityProvider = new ContextProvider(this, { context: activityContext });
  readonly #allocationProvider = new ContextProvider(this, { context: allocationContext });
  readonly #themeProvider = new ContextProvider(this, { context: themeContext });
  #connection?: StoreController<ConnectionInfo>;
  #attached?: ClusterStore;
  #activity?: ActivityFeed;
  #allocation?: AllocationHistory;
  readonly #views = new Map<string, RoutedView>();
  readonly #loading = new Set<string>();

  constructor() {
    super();
    this.addEventListener('click', this.#onClick);
    this.addEventListener('yg-navigate', (event) => this.#navigate(event.detail.to, event.detail.replace));
  }

  override connectedCallback(): void {
    this.store ??= createBrowserStore();
    this.theme ??= new ThemeSetting({ storage: browserStorage() });
    this.#themeProvider.setValue(this.theme);
    this.#attach(this.store);
    this.#activity?.start();
    this.#allocation?.start();
    window.addEventListener('popstate', this.#onPopState);
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('yg-update-available', this.#onUpdateAvailable);
    super.connectedCallback();
    this.store.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.#onPopState);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('yg-update-available', this.#onUpdateAvailable);
    this.#activity?.stop();
    this.#allocation?.stop();
    this.store?.stop();
  }

  #attach(store: ClusterStore): void {
    if (this.#attached === store) return;
    this.#attached = store;
    this.#clusterProvider.setValue(store.cluster);
    this.#connectionProvider.setValue(store.connection);
    this.#storeProvider.setValue(store);
    this.api ??= createApi({ getToken: () => store.token, onUnauthorized: () => store.unauthorized() });
    this.#apiProvider.setValue(this.api);
    this.#activity?.stop();
    this.#allocation?.stop();
    this.#activity = new ActivityFeed(store.cluster);
    this.#allocation = new AllocationHistory(store.cluster);
    this.#activityProvider.setValue(this.#activity.items);
    this.#allocationProvider.setValue(this.#allocation.samples);
    this.#connection ??= new StoreController(this, store.connection);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const status = this.#connection?.value?.status;
    if (this.loginPending && status !== 'connecting') this.loginPending = false;
    if (changed.has('address' as keyof YgApp)) {
      const found = matchPage(this.address.path);
      const title = found ? found.page.title(found.match) : NOT_FOUND.title([]);
      document.title = found?.page.section === '/' ? 'Yagura' : `${title} · Yagura`;
    }
  }

  protected override updated(): void {
    const status = this.#connection?.value?.status;
    if (status === 'unauthorized' && this.loginForm && !this.loginForm.matches(':focus-within')) {
      this.loginForm.focus();
    }
  }

  override render() {
    const connection = this.#connection?.value ?? { status: 'idle' as const, attempt: 0 };
    const needsLogin =
      connection.status === 'idle' || connection.status === 'unauthorized' || this.loginPending;
    if (needsLogin) return this.#renderLogin(connection);
    return html`
      <header class="app-bar">
        <a class="brand" href="/">${brandMark}<span>Yagura</span></a>
        <span class="spacer"></span>
        ${this.#renderConnection(connection)}
        <md-text-button class="logout-text" @click=${this.#logout}>
          Log out
          <span slot="icon">${icons.logout}</span>
        </md-text-button>
        <md-icon-button class="logout-icon" aria-label="Log out" @click=${this.#logout}>${icons.logout}</md-icon-button>
      </header>
      <nav aria-label="Sections">
        ${SECTIONS.map((section) => {
          const current = sectionOf(this.address.path) === section;
          return html`<a href=${section.path} aria-current=${current ? 'page' : 'false'}>
            <span class="indicator">${section.icon}</span>
            <span>${section.label}</span>
          </a>`;
        })}
      </nav>
      <main id="main">${this.#renderBanners()} ${this.#renderView()}</main>
    `;
  }

  #renderLogin(connection: ConnectionInfo) {
    // Most visits come with a token; the form (and its text field) loads only when needed.
    void import('../components/yg-login.js');
    const error = connection.status === 'unauthorized' ? (connection.message ?? 'The master refused the access token.') : '';
    return html`<div class="login-page">
      <span class="brand">${brandMark}<span>Yagura</span></span>
      <yg-login .error=${error} ?busy=${this.loginPending} @yg-login=${this.#login}></yg-login>
    </div>`;
  }

  #renderConnection(connection: ConnectionInfo) {
    const chip = CONNECTION_CHIP[connection.status];
    const title =
      connection.status === 'reconnecting' && connection.retryAt
        ? `Connection to the master lost; retry ${connection.attempt} at ${new Date(connection.retryAt).toLocaleTimeString()}`
        : (connection.message ?? chip.label);
    return html`<span role="status" title=${title}>
      <yg-state-chip tone=${chip.tone} token=${`connection-${connection.status}`}>${chip.label}</yg-state-chip>
    </span>`;
  }

  #renderBanners() {
    return html`
      ${this.applyUpdate
        ? html`<div class="banner" role="status">
            <span>A new version of the dashboard is ready.</span>
            <md-text-button @click=${() => this.applyUpdate?.()}>Reload</md-text-button>
          </div>`
        : nothing}
      ${this.viewError
        ? html`<div class="banner error" role="alert">
            <span>${this.viewError}</span>
            <md-text-button @click=${() => window.location.reload()}>Reload</md-text-button>
          </div>`
        : nothing}
    `;
  }

  #renderView() {
    const found = matchPage(this.address.path);
    const page = found?.page ?? NOT_FOUND;
    if (!customElements.get(page.tag)) {
      this.#load(page.tag, page.load);
      return html`<md-linear-progress indeterminate aria-label="Loading ${page.title(found?.match ?? [])}"></md-linear-progress>`;
    }
    // Views are kept once made: going back to a page keeps its local state (filters, tabs).
    let view = this.#views.get(page.tag);
    if (!view) {
      view = document.createElement(page.tag) as RoutedView;
      this.#views.set(page.tag, view);
    }
    view.path = this.address.path;
    view.params = this.address.params;
    return view;
  }

  #load(tag: string, load: () => Promise<unknown>): void {
    if (this.#loading.has(tag)) return;
    this.#loading.add(tag);
    load().then(
      () => {
        this.#loading.delete(tag);
        this.viewError = '';
        this.requestUpdate();
      },
      (error: unknown) => {
        this.#loading.delete(tag);
        // Usually a deploy replaced the chunk this old page asks for, or the page is offline.
        this.viewError = `This page could not be loaded (${error instanceof Error ? error.message : String(error)}).`;
      },
    );
  }

  #navigate(to: string, replace = false): void {
    const url = new URL(to, window.location.href);
    if (url.origin !== window.location.origin || SERVER_PATHS.test(url.pathname)) {
      window.location.assign(url.href);
      return;
    }
    const next = `${url.pathname}${url.search}${url.hash}`;
    const samePath = url.pathname === window.location.pathname;
    if (next !== `${window.location.pathname}${window.location.search}${window.location.hash}`) {
      if (replace) window.history.replaceState(null, '', next);
      else window.history.pushState(null, '', next);
    }
    this.address = currentAddress();
    // A new page starts at its top; a changed filter on the same page keeps the place.
    if (!samePath) window.scrollTo({ top: 0 });
  }

  #login = (event: CustomEvent<{ token: string }>) => {
    this.loginPending = true;
    this.store?.login(event.detail.token);
  };

  #logout = () => {
    this.store?.logout();
  };

  /** Same-origin links anywhere in the app (even inside views' shadow roots) route in place. */
  #onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    const anchor = event.composedPath().find((node): node is HTMLAnchorElement => node instanceof HTMLAnchorElement);
    if (!anchor || !anchor.href || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href);
    if (url.origin !== window.location.origin || SERVER_PATHS.test(url.pathname)) return;
    event.preventDefault();
    this.#navigate(url.href);
  };

  #onPopState = () => {
    this.address = currentAddress();
  };

  #onOnline = () => {
    this.store?.retryNow();
  };

  #onUpdateAvailable = (event: CustomEvent<UpdateAvailableDetail>) => {
    this.applyUpdate = () => event.detail.apply();
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-app': YgApp;
  }
  interface WindowEventMap {
    'yg-update-available': CustomEvent<UpdateAvailableDetail>;
  }
}
