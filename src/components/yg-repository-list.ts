import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/button/filled-tonal-button.js';
import '@material/web/button/text-button.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { Repository } from '../data/catalog.js';
import { ClockController } from './clock-controller.js';
import { icons } from './icons.js';
import { timeAgo } from './time.js';
import './yg-confirm-dialog.js';

export interface RepositoryAddDetail {
  name: string;
  uri: string;
}
export interface RepositoryNameDetail {
  name: string;
}
export interface RepositoryMoveDetail {
  name: string;
  direction: -1 | 1;
}
export interface RepositoryRefreshDetail {
  /** Absent: all of them. */
  name?: string;
}

const refreshedAt = (r: Repository): number | undefined => {
  if (r.lastRefreshedAt === undefined) return undefined;
  const at = typeof r.lastRefreshedAt === 'number' ? r.lastRefreshedAt : Date.parse(r.lastRefreshedAt);
  return Number.isFinite(at) ? at : undefined;
};

/**
 * Package repositories in the order they are searched: add (name and URL), remove, move up and
 * down, refresh one or all; each shows its package count, last refresh and last error.
 * Controlled: the page runs the commands and hands back `repositories`, `busy`, `error`.
 * Out: `yg-repository-add`, `-remove`, `-move`, `-refresh`, `-reload`.
 */
@customElement('yg-repository-list')
export class YgRepositoryList extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    p {
      margin: 0 0 12px;
    }
    .muted {
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    ol {
      margin: 0 0 16px;
      padding: 0;
      list-style: none;
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: var(--yg-radius, 12px);
    }
    li {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 4px 12px;
      padding: 8px 8px 8px 16px;
      border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    }
    li:last-child {
      border-bottom: 0;
    }
    .main {
      flex: 1 1 16rem;
      min-width: 0;
    }
    .title {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 4px 8px;
    }
    .pos {
      min-width: 1.25rem;
      font-variant-numeric: tabular-nums;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .name {
      font-weight: 500;
      overflow-wrap: anywhere;
    }
    .uri {
      font-family: var(--yg-font-mono, monospace);
      font-size: 0.8125rem;
      overflow-wrap: anywhere;
    }
    .meta {
      font-size: 0.75rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .row-error {
      margin: 4px 0 0;
      font-size: 0.75rem;
      color: var(--md-sys-color-error, #ba1a1a);
      overflow-wrap: anywhere;
    }
    .buttons {
      display: flex;
      justify-content: flex-end;
      min-width: 160px;
      margin-inline-start: auto;
    }
    md-icon-button svg,
    md-text-button svg,
    md-filled-tonal-button svg {
      width: 20px;
      height: 20px;
    }
    .toolbar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
      margin-bottom: 8px;
    }
    form {
      display: flex;
      flex-wrap: wrap;
      gap: 12px;
      align-items: flex-start;
    }
    form md-outlined-text-field {
      flex: 1 1 12rem;
      min-width: 0;
    }
    form md-outlined-text-field.uri-field {
      flex: 3 1 18rem;
    }
    form md-filled-tonal-button {
      margin-top: 8px;
    }
    .alert {
      margin: 0 0 12px;
      padding: 12px 16px;
      border-radius: 12px;
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
    }
    .status {
      min-height: 1.25rem;
    }
    h3 {
      margin: 0 0 12px;
      font-size: 0.875rem;
      font-weight: 500;
    }
    md-linear-progress {
      width: 100%;
      margin-bottom: 12px;
    }
  `;

  @property({ attribute: false }) repositories: readonly Repository[] = [];
  /** The list is being read (the first time: nothing to show yet). */
  @property({ type: Boolean }) loading = false;
  /** The list could not be read. */
  @property() loadError = '';
  /** A command is running. */
  @property({ type: Boolean }) busy = false;
  /** Commands cannot reach the master now: add, remove, move and refresh are disabled (the page says why). */
  @property({ type: Boolean }) unavailable = false;
  /** How the last command failed. */
  @property() error = '';
  /** Errors of the last add by field: `name`, `uri`. */
  @property({ attribute: false }) fieldErrors: Readonly<Record<string, string>> = {};
  /** What the last command did, announced politely. */
  @property() status = '';

  @state() private confirming: string | null = null;
  @state() private name = '';
  @state() private uri = '';
  @state() private invalid: Record<string, string> = {};

  @query('#repo-name') private nameField?: MdOutlinedTextField;

  readonly #clock = new ClockController(this, 30_000);
  #pending: Pending | undefined;
  #refocus: Pending | undefined;

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A command ended (its answer or its error arrived): finish what the user started — clear
    // the form, close the confirmation, keep the focus on the moved row.
    const answered = changed.has('busy') || changed.has('repositories') || changed.has('error');
    if (this.#pending && !this.busy && answered) {
      const pending = this.#pending;
      this.#pending = undefined;
      if (!this.error) {
        if (pending.kind === 'add') {
          this.name = '';
          this.uri = '';
        }
        if (pending.kind === 'remove') this.confirming = null;
        if (pending.kind === 'move') this.#refocus = pending;
      }
    }
  }

  protected override updated(): void {
    const moved = this.#refocus;
    if (!moved) return;
    this.#refocus = undefined;
    // Keep the keyboard on the row that moved, on the same button while it can go further.
    const index = this.repositories.findIndex((r) => r.name === moved.name);
    const canGoOn = moved.direction === -1 ? index > 0 : index < this.repositories.length - 1;
    const label = `Move ${moved.name} ${(moved.direction === -1) === canGoOn ? 'up' : 'down'}`;
    const button = [...this.renderRoot.querySelectorAll<HTMLElement & { updateComplete?: Promise<unknown> }>('md-icon-button')].find(
      (b) => b.getAttribute('aria-label') === label,
    );
    // The button was disabled while the command ran: it takes the focus once it is enabled again.
    void button?.updateComplete?.then(() => button.focus());
  }

  override render() {
    const list = this.repositories;
    const now = this.#clock.now;
    const removing = list.find((r) => r.name === this.confirming);
    return html`
      <div class="toolbar">
        <p class="muted" style="margin:0">Searched in this order: the first repository that has a package wins.</p>
        <md-text-button ?disabled=${this.busy || this.unavailable || list.length === 0} @click=${() => this.#emit('yg-repository-refresh', {}, { kind: 'refresh' })}>
          Refresh all<span slot="icon">${icons.restart}</span>
        </md-text-button>
      </div>
      ${this.loading || this.busy ? html`<md-linear-progress indeterminate aria-label=${this.loading ? 'Loading the repositories' : 'Working'}></md-linear-progress>` : nothing}
      ${this.loadError
        ? html`<div class="alert" role="alert">
            The repositories could not be read: ${this.loadError}
            <md-text-button @click=${() => this.#emit('yg-repository-reload', {})}>Try again</md-text-button>
          </div>`
        : nothing}
      ${this.error && this.confirming === null ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}
      ${list.length === 0 && !this.loading && !this.loadError
        ? html`<p class="muted">No repositories: the catalog is empty. Add a Universe repository below.</p>`
        : nothing}
      ${list.length
        ? html`<ol aria-label="Repositories">
            ${repeat(
              list,
              (r) => r.name,
              (r, i) => {
                const at = refreshedAt(r);
                return html`<li>
                  <div class="main">
                    <div class="title">
                      <span class="pos" aria-hidden="true">${i + 1}</span>
                      <span class="name">${r.name}</span>
                    </div>
                    <div class="uri">${r.uri}</div>
                    <div class="meta">
                      ${r.packages === undefined ? nothing : html`${r.packages} ${r.packages === 1 ? 'package' : 'packages'} · `}
                      ${r.builtIn ? 'comes with Yagura' : at === undefined ? 'never refreshed' : html`refreshed ${timeAgo(at, now)}`}
                    </div>
                    ${r.error ? html`<p class="row-error">Last refresh failed: ${r.error}</p>` : nothing}
                  </div>
                  <div class="buttons">
                    <md-icon-button
                      aria-label=${`Move ${r.name} up`}
                      ?disabled=${this.busy || this.unavailable || i === 0 || (r.builtIn && list[i - 1]?.builtIn)}
                      @click=${() => this.#emit('yg-repository-move', { name: r.name, direction: -1 }, { kind: 'move', name: r.name, direction: -1 })}
                      >${icons.up}</md-icon-button
                    >
                    <md-icon-button
                      aria-label=${`Move ${r.name} down`}
                      ?disabled=${this.busy || this.unavailable || i === list.length - 1 || (r.builtIn && list[i + 1]?.builtIn)}
                      @click=${() => this.#emit('yg-repository-move', { name: r.name, direction: 1 }, { kind: 'move', name: r.name, direction: 1 })}
                      >${icons.down}</md-icon-button
                    >
                    ${r.builtIn
                      ? nothing
                      : html`<md-icon-button
                          aria-label=${`Refresh ${r.name}`}
                          ?disabled=${this.busy || this.unavailable}
                          @click=${() => this.#emit('yg-repository-refresh', { name: r.name }, { kind: 'refresh', name: r.name })}
                          >${icons.restart}</md-icon-button
                        >`}
                    <md-icon-button aria-label=${`Remove ${r.name}`} ?disabled=${this.busy || this.unavailable} @click=${() => (this.confirming = r.name)}
                      >${icons.delete}</md-icon-button
                    >
                  </div>
                </li>`;
              },
            )}
          </ol>`
        : nothing}
      <h3 id="add-title">Add a repository</h3>
      <form aria-labelledby="add-title" novalidate @submit=${this.#add}>
        <md-outlined-text-field
          id="repo-name"
          label="Name"
          .value=${this.name}
          spellcheck="false"
          autocapitalize="off"
          autocomplete="off"
          ?error=${!!(this.invalid.name || this.fieldErrors.name)}
          error-text=${this.invalid.name || this.fieldErrors.name || ''}
          @input=${(e: Event) => {
            this.name = (e.target as MdOutlinedTextField).value;
            this.invalid = { ...this.invalid, name: '' };
          }}
          @keydown=${this.#submitOnEnter}
        ></md-outlined-text-field>
        <md-outlined-text-field
          class="uri-field"
          label="Index URL"
          type="url"
          .value=${this.uri}
          spellcheck="false"
          autocapitalize="off"
          autocomplete="off"
          supporting-text="A Universe repository index (http, https or file URL), read by the master."
          ?error=${!!(this.invalid.uri || this.fieldErrors.uri)}
          error-text=${this.invalid.uri || this.fieldErrors.uri || ''}
          @input=${(e: Event) => {
            this.uri = (e.target as MdOutlinedTextField).value;
            this.invalid = { ...this.invalid, uri: '' };
          }}
          @keydown=${this.#submitOnEnter}
        ></md-outlined-text-field>
        <md-filled-tonal-button type="submit" ?disabled=${this.busy || this.unavailable}>Add<span slot="icon">${icons.add}</span></md-filled-tonal-button>
      </form>
      <div class="status muted" role="status">${this.busy ? '' : this.status}</div>
      <yg-confirm-dialog
        .open=${removing !== undefined}
        heading=${removing ? `Remove ${removing.name}?` : ''}
        confirmLabel="Remove"
        destructive
        ?busy=${this.busy}
        .error=${this.confirming !== null ? this.error : ''}
        @yg-confirm=${() => removing && this.#emit('yg-repository-remove', { name: removing.name }, { kind: 'remove', name: removing.name })}
        @yg-dialog-close=${() => (this.confirming = null)}
        ><p>
          Its packages leave the catalog. Services and jobs already installed from it keep running. You can add it again later.
        </p></yg-confirm-dialog
      >
    `;
  }

  #submitOnEnter(event: KeyboardEvent) {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  }

  #add(event: SubmitEvent) {
    event.preventDefault();
    if (this.busy || this.unavailable) return;
    const name = this.name.trim();
    const uri = this.uri.trim();
    const invalid: Record<string, string> = {};
    if (!name) invalid.name = 'Enter a name';
    else if (this.repositories.some((r) => r.name === name)) invalid.name = 'A repository has this name already';
    if (!uri) invalid.uri = 'Enter the URL of the index';
    else if (!/^(https?|file):\/\/\S+$/i.test(uri)) invalid.uri = 'An http://, https:// or file:// URL';
    this.invalid = invalid;
    if (invalid.name || invalid.uri) {
      if (invalid.name) this.nameField?.focus();
      else this.renderRoot.querySelector<HTMLElement>('.uri-field')?.focus();
      return;
    }
    this.#emit('yg-repository-add', { name, uri }, { kind: 'add', name });
  }

  #emit<K extends keyof RepositoryEvents>(type: K, detail: RepositoryEvents[K], pending?: Pending) {
    if (pending) this.#pending = pending;
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/** The command the user started and the list waits on. */
interface Pending {
  kind: 'add' | 'remove' | 'move' | 'refresh';
  name?: string;
  direction?: -1 | 1;
}

interface RepositoryEvents {
  'yg-repository-add': RepositoryAddDetail;
  'yg-repository-remove': RepositoryNameDetail;
  'yg-repository-move': RepositoryMoveDetail;
  'yg-repository-refresh': RepositoryRefreshDetail;
  'yg-repository-reload': Record<string, never>;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-repository-list': YgRepositoryList;
  }
  interface GlobalEventHandlersEventMap {
    'yg-repository-add': CustomEvent<RepositoryAddDetail>;
    'yg-repository-remove': CustomEvent<RepositoryNameDetail>;
    'yg-repository-move': CustomEvent<RepositoryMoveDetail>;
    'yg-repository-refresh': CustomEvent<RepositoryRefreshDetail>;
    'yg-repository-reload': CustomEvent<Record<string, never>>;
  }
}
