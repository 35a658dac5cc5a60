import { ContextProvider } from '@lit/context';
import { LitElement, css, html, nothing, svg } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/text-button.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/progress/linear-progress.js';
import { brandMark, icons } from '../components/icons.js';
import type { Tone } from '../components/states.js';
import type { YgLogin } from '../components/yg-login.js';
import '../components/yg-offline-banner.js';
import '../components/yg-state-chip.js';
import '../components/yg-update-snackbar.js';
import { ActivityFeed } from '../state/activity.js';
import { AllocationHistory } from '../state/allocation-history.js';
import { createApi } from '../state/api.js';
import type { Api } from '../state/api.js';
import { createBrowserStore, createOfflineSync } from '../state/browser-store.js';
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
import { ClusterNotifier, NotificationSetting, notificationsContext } from '../state/notifications.js';
import type { OfflineSync } from '../state/offline-cache.js';
import { ThemeSetting, browserStorage } from '../state/settings.js';
import { StoreController } from '../state/store-controller.js';
import { unsavedWork } from '../state/unsaved.js';
import { SharedSelectorWarmer } from './cluster-selectors.js';
import { commandsUnavailable } from './command-state.js';
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

/** Chromium's install offer (not in TypeScript's DOM types). */
interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  readonly userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

// Material Icons "install_desktop" (Apache 2.0).
const installIcon = svg`<svg viewBox="0 0 24 24" width="24" height="24" fill="currentColor" aria-hidden="true" focusable="false"><path d="M20 17H4V5h8V3H4c-1.11 0-2 .89-2 2v12c0 1.1.89 2 2 2h4v2h8v-2h4c1.1 0 2-.9 2-2v-3h-2v3z"></path><path d="M17 14l5-5-1.41-1.41L18 10.17V3h-2v7.17l-2.59-2.58L12 9z"></path></svg>`;

/** What commands say while the master cannot be reached (see command-state.ts). */
const UNREACHABLE = 'Not available offline: the master cannot be reached, so nothing was sent. Try again once it answers.';

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
    .logout-icon,
    .install-icon {
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
      .logout-text,
      .install-text {
        display: none;
      }
      .logout-icon,
      .install-icon {
        display: inline-flex;
      }
      /* Above the bottom navigation bar. */
      yg-update-snackbar {
        --yg-snackbar-bottom: calc(92px + env(safe-area-inset-bottom, 0px));
      }
      nav {
        position: sticky;
        bottom: 0;
        z-index: 2;
        flex-direction: row;
        justify-content: space-around;
        gap: 0;
        width: auto;
        padding: 12px 0 max(16px, env(safe-area-inset-bottom));
        background: var(--yg-app-bar-container, #eceef4);
      }
      /* Seven sections share the width: each takes what its label needs plus an equal share
         of the rest; labels shrink on narrow phones (as iOS tab bars do) and never wrap. */
      nav a {
        flex: 1 1 auto;
        min-width: 0;
        max-width: 88px;
      }
      nav a > span:last-child {
        max-width: 100%;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      main {
        padding: 16px 12px 32px;
      }
    }
    @media (max-width: 419px) {
      nav {
        padding-inline: 2px;
      }
      nav a {
        font-size: 0.625rem;
        letter-spacing: 0;
      }
      nav .indicator {
        width: 44px;
      }
    }
  `;

  /** Injected by tests; otherwise built from the page's address and storage on connect. */
  @property({ attribute: false }) store?: ClusterStore;
  /** Injected by tests; otherwise REST with the store's token. */
  @property({ attribute: false }) api?: Api;
  /** Injected by tests; otherwise the theme persisted in this browser. */
  @property({ attribute: false }) theme?: ThemeSetting;
  /** Keeps the cluster for offline visits; made only with the app's own store (tests inject one). */
  @property({ attribute: false }) offline?: OfflineSync;
  /** Injected by tests; otherwise the opt-in kept in this browser. */
  @property({ attribute: false }) notifications?: NotificationSetting;

  @state() private address: Address = currentAddress();
  @state() private viewError = '';
  @state() private applyUpdate?: () => void;
  @state() private updateDismissed = false;
  /** Chromium offers to install the app: the Install button shows while this is set. */
  @state() private installPrompt?: BeforeInstallPromptEvent;
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
  readonly #notificationsProvider = new ContextProvider(this, { context: notificationsContext });
  readonly #unsaved = new StoreController(this, unsavedWork.list);
  #asOf?: StoreController<number | undefined>;
  #notifier?: ClusterNotifier;
  #unsubscribeLink?: () => void;
  #connection?: StoreController<ConnectionInfo>;
  #attached?: ClusterStore;
  #activity?: ActivityFeed;
  #allocation?: AllocationHistory;
  #warmer?: SharedSelectorWarmer;
  readonly #views = new Map<string, RoutedView>();
  readonly #loading = new Set<string>();

  constructor() {
    super();
    this.addEventListener('click', this.#onClick);
    this.addEventListener('yg-navigate', (event) => this.#navigate(event.detail.to, event.detail.replace));
  }

  override connectedCallback(): void {
    if (!this.store) {
      this.store = createBrowserStore();
      this.offline ??= createOfflineSync(this.store);
    }
    this.theme ??= new ThemeSetting({ storage: browserStorage() });
    this.#themeProvider.setValue(this.theme);
    this.notifications ??= new NotificationSetting({ storage: browserStorage() });
    this.#notificationsProvider.setValue(this.notifications);
    this.#attach(this.store);
    this.#activity?.start();
    this.#allocation?.start();
    this.#warmer?.start();
    this.#notifier?.start();
    window.addEventListener('popstate', this.#onPopState);
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('yg-update-available', this.#onUpdateAvailable);
    window.addEventListener('beforeinstallprompt', this.#onInstallPrompt);
    window.addEventListener('appinstalled', this.#onInstalled);
    window.addEventListener('yg-open', this.#onOpen);
    // Before super.connectedCallback: a StoreController made later would not subscribe.
    if (this.offline) this.#asOf ??= new StoreController(this, this.offline.asOf);
    super.connectedCallback();
    this.store.start();
    void this.offline?.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.#onPopState);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('yg-update-available', this.#onUpdateAvailable);
    window.removeEventListener('beforeinstallprompt', this.#onInstallPrompt);
    window.removeEventListener('appinstalled', this.#onInstalled);
    window.removeEventListener('yg-open', this.#onOpen);
    this.#activity?.stop();
    this.#allocation?.stop();
    this.#warmer?.stop();
    this.#notifier?.stop();
    this.offline?.stop();
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
    this.#warmer?.stop();
    this.#activity = new ActivityFeed(store.cluster);
    this.#allocation = new AllocationHistory(store.cluster);
    this.#warmer = new SharedSelectorWarmer(store.cluster);
    this.#activityProvider.setValue(this.#activity.items);
    this.#allocationProvider.setValue(this.#allocation.samples);
    this.#connection ??= new StoreController(this, store.connection);
    this.#notifier?.stop();
    this.#notifier = new ClusterNotifier({ cluster: store.cluster, connection: store.connection, setting: this.notifications! });
    // Commands refuse (with this reason) while the link is down rather than time out.
    this.#unsubscribeLink?.();
    const link = () => commandsUnavailable.set(store.connection.value.status === 'reconnecting' ? UNREACHABLE : '');
    this.#unsubscribeLink = store.connection.subscribe(link);
    link();
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
        ${this.installPrompt
          ? html`<md-text-button class="install-text" @click=${this.#install}>Install<span slot="icon">${installIcon}</span></md-text-button>
              <md-icon-button class="install-icon" aria-label="Install Yagura" title="Install Yagura" @click=${this.#install}>${installIcon}</md-icon-button>`
          : nothing}
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
      <yg-update-snackbar
        ?open=${!!this.applyUpdate && !this.updateDismissed}
        .unsaved=${this.#unsaved.value ?? []}
        @yg-update-apply=${this.#applyUpdate}
        @yg-update-dismiss=${() => (this.updateDismissed = true)}
      ></yg-update-snackbar>
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
      <yg-offline-banner .asOf=${this.#asOf?.value} @yg-retry=${this.#onOnline}></yg-offline-banner>
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
    this.updateDismissed = false;
  };

  /** The reload waits while a form has unsaved changes: they would be lost with the page. */
  #applyUpdate = () => {
    if (unsavedWork.list.value.length) return;
    this.applyUpdate?.();
  };

  #onInstallPrompt = (event: Event) => {
    // Keep the offer for the Install button instead of the browser's own mini-bar.
    event.preventDefault();
    this.installPrompt = event as BeforeInstallPromptEvent;
  };

  #onInstalled = () => {
    this.installPrompt = undefined;
  };

  #install = async () => {
    const prompt = this.installPrompt;
    if (!prompt) return;
    // A prompt can be shown once; whatever the answer, the button goes.
    this.installPrompt = undefined;
    await prompt.prompt();
    await prompt.userChoice.catch(() => undefined);
  };

  #onOpen = (event: CustomEvent<{ url: string }>) => {
    this.#navigate(event.detail.url);
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
