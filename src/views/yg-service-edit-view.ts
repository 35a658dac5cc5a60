import { consume } from '@lit/context';
import { LitElement, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/progress/linear-progress.js';
import type { ErrorDetail } from '../../protocol/types.js';
import '../components/yg-app-form.js';
import type { AppSubmitDetail } from '../components/yg-app-form.js';
import { createApp, definitionOf, getApp, replaceApp } from '../data/marathon.js';
import type { AppDefinition } from '../data/marathon.js';
import { serviceHref } from '../state/activity.js';
import { ApiError } from '../state/api.js';
import type { Api } from '../state/api.js';
import { apiContext } from '../state/context.js';
import { StoreController } from '../state/store-controller.js';
import { unsavedWork } from '../state/unsaved.js';
import { commandsUnavailable, errorText, unavailableNote } from './command-state.js';
import { matchPage, navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';

/** What a new service starts from: small, one port, no health check yet. */
export const NEW_SERVICE: AppDefinition = Object.freeze({
  id: '',
  cmd: '',
  instances: 1,
  cpus: 0.1,
  mem: 128,
  disk: 0,
  portDefinitions: [{ port: 0, protocol: 'tcp' }],
  env: {},
  labels: {},
});

/** Create (`/services/new`) or edit (`/services/<id>/edit`) a service with the form + JSON editor. */
@customElement('yg-service-edit-view')
export class YgServiceEditView extends LitElement {
  static override styles = viewStyles;

  @property() path = '';

  @consume({ context: apiContext }) api?: Api;

  @state() private definition: AppDefinition | undefined;
  @state() private loadError = '';
  @state() private errors: readonly ErrorDetail[] = [];
  @state() private message = '';
  @state() private busy = false;
  /** The master answered 409 (a deployment holds the app): the next submit forces. */
  @state() private force = false;
  readonly #unavailable = new StoreController(this, commandsUnavailable);
  #loadedFor: string | undefined;

  get #editing(): string | undefined {
    const found = matchPage(this.path);
    if (!found || found.page.tag !== 'yg-service-edit-view' || !found.match[1]) return undefined;
    try {
      return decodeURIComponent(found.match[1]);
    } catch {
      return found.match[1];
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('path')) return;
    const id = this.#editing;
    const key = id ?? '';
    if (key === this.#loadedFor) return;
    this.#loadedFor = key;
    unsavedWork.clear(this);
    this.errors = [];
    this.message = '';
    this.force = false;
    this.loadError = '';
    if (id === undefined) {
      this.definition = structuredClone(NEW_SERVICE) as AppDefinition;
      return;
    }
    this.definition = undefined;
    if (!this.api) return;
    getApp(this.api, id).then(
      (app) => {
        if (this.#editing === id) this.definition = definitionOf(app);
      },
      (error: unknown) => {
        if (this.#editing === id) this.loadError = errorText(error);
      },
    );
  }

  override render() {
    const id = this.#editing;
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb">
      <a href="/services">Services</a><span class="sep">/</span>
      ${id ? html`<a href=${serviceHref(id)}>${id}</a><span class="sep">/</span><span>Edit</span>` : html`<span>New</span>`}
    </nav>`;
    return html`${crumbs}
      <header><h1>${id ? `Edit ${id}` : 'Create a service'}</h1></header>
      ${this.loadError
        ? html`<p class="alert" role="alert">The definition could not be read: ${this.loadError}</p>`
        : !this.definition
          ? html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading the definition"></md-linear-progress></div>`
          : html`${this.force
                ? html`<p class="notice" role="status">A deployment of this service is in progress. Submitting again replaces it (force).</p>`
                : nothing}
              <yg-app-form
                .definition=${this.definition}
                .errors=${this.errors}
                .message=${this.message}
                mode=${id ? 'edit' : 'create'}
                ?busy=${this.busy}
                ?unavailable=${!!this.#unavailable.value}
                @yg-app-submit=${this.#submit}
                @yg-app-cancel=${() => {
                  unsavedWork.clear(this);
                  this.dispatchEvent(navigateEvent(id ? serviceHref(id) : '/services'));
                }}
                @input=${this.#touched}
                @change=${this.#touched}
                @yg-entries-change=${this.#touched}
                >${unavailableNote(this.#unavailable.value ?? '', 'unavailable')}</yg-app-form
              >`}`;
  }

  /** Changed and not saved yet: a reload into a new build waits for it (src/state/unsaved.ts). */
  #touched = () => {
    const id = this.#editing;
    unsavedWork.set(this, { label: id ? `Edit ${id}` : 'Create a service', href: this.path || '/services/new' });
  };

  async #submit(event: CustomEvent<AppSubmitDetail>) {
    const api = this.api;
    if (!api || this.busy) return;
    if (commandsUnavailable.value) {
      this.message = commandsUnavailable.value;
      return;
    }
    const editing = this.#editing;
    const definition = event.detail.definition;
    this.busy = true;
    try {
      if (editing) await replaceApp(api, editing, definition, { force: this.force });
      else await createApp(api, definition, { force: this.force });
      const id = editing ?? normalizeId(definition.id);
      this.errors = [];
      this.message = '';
      this.#loadedFor = undefined;
      unsavedWork.clear(this);
      this.dispatchEvent(navigateEvent(serviceHref(id)));
    } catch (error) {
      if (error instanceof ApiError && error.body) {
        this.errors = error.body.details ?? [];
        this.message = error.body.message;
        this.force = error.status === 409 && !/already exists/i.test(error.body.message);
      } else {
        this.errors = [];
        this.message = errorText(error);
      }
    } finally {
      this.busy = false;
    }
  }
}

/** Marathon ids are absolute; a relative one in the form is relative to the root. */
function normalizeId(id: unknown): string {
  const text = typeof id === 'string' ? id.trim() : '';
  return text.startsWith('/') ? text.replace(/\/+$/, '') : `/${text.replace(/\/+$/, '')}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-service-edit-view': YgServiceEditView;
  }
}
