import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { ServiceStatus, ServiceView } from '../../protocol/types.js';
import { icons } from '../components/icons.js';
import { SERVICE_STATUSES } from '../components/states.js';
import '../components/yg-filter-chips.js';
import type { FilterChangeDetail } from '../components/yg-filter-chips.js';
import '../components/yg-service-table.js';
import { clusterContext } from '../state/context.js';
import { dropTarget } from '../state/drag.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { serviceStatusCounts, servicesById } from './cluster-selectors.js';
import { commandsUnavailable, unavailableNote } from './command-state.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';
import './yg-deploy-launcher.js';

const NO_SERVICES: ReadonlyMap<string, ServiceView> = new Map();

/** Services as their group tree, filtered by status chips and a search (`?status=Running,Waiting&q=web`). */
@customElement('yg-services-view')
export class YgServicesView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .filters {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px 16px;
        margin-bottom: 16px;
      }
      .filters md-outlined-text-field {
        flex: 0 1 20rem;
        min-width: 12rem;
      }
      .filters yg-filter-chips {
        flex: 1 1 auto;
      }
      svg {
        width: 20px;
        height: 20px;
      }
      @media (max-width: 599px) {
        .filters md-outlined-text-field {
          flex: 1 1 100%;
        }
      }
      /* The list takes a dragged catalog package (see state/drag.ts). */
      .drop {
        position: relative;
        border-radius: var(--yg-radius, 12px);
      }
      .drop[data-drop] {
        outline: 2px dashed var(--md-sys-color-primary, #36618e);
        outline-offset: 4px;
      }
      .drop[data-drop-over='ok'] {
        outline-style: solid;
        background: var(--md-sys-color-primary-container, #d1e4ff);
      }
      .drop[data-drop]::after {
        content: 'Drop here to deploy on any node';
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        padding: 16px;
        border-radius: inherit;
        font-weight: 500;
        text-align: center;
        background: color-mix(in srgb, var(--md-sys-color-surface, #f8f9ff) 70%, transparent);
        color: var(--md-sys-color-primary, #36618e);
        pointer-events: none;
      }
      .drop[data-drop-over='ok']::after {
        background: color-mix(in srgb, var(--md-sys-color-primary-container, #d1e4ff) 80%, transparent);
        color: var(--md-sys-color-on-primary-container, #001d36);
      }
    `,
  ];

  @property({ attribute: false }) params = new URLSearchParams();

  readonly #services = new StoreController(this, clusterContext, (s) => s.services);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #unavailable = new StoreController(this, commandsUnavailable);
  readonly #sorted = servicesById();
  readonly #counts = serviceStatusCounts();
  readonly #statuses = memoize((raw: string): ServiceStatus[] =>
    raw.split(',').filter((s): s is ServiceStatus => (SERVICE_STATUSES as readonly string[]).includes(s)),
  );
  readonly #filter = memoize((services: readonly ServiceView[], statuses: readonly ServiceStatus[], q: string) => {
    const query = q.trim().toLowerCase();
    if (statuses.length === 0 && !query) return services;
    return services.filter((s) => (statuses.length === 0 || statuses.includes(s.status)) && (!query || s.id.toLowerCase().includes(query)));
  });

  override render() {
    const map = this.#services.value ?? NO_SERVICES;
    const all = this.#sorted(map);
    const counts = this.#counts(map);
    const statuses = this.#statuses(this.params.get('status') ?? '');
    const q = this.params.get('q') ?? '';
    const shown = this.#filter(all, statuses, q);
    const filtered = shown !== all;
    return html`
      <header>
        <h1>Services</h1>
        ${this.#loaded.value
          ? html`<span class="count" role="status">${filtered ? `${shown.length} of ${all.length}` : all.length} ${all.length === 1 ? 'service' : 'services'}</span>`
          : nothing}
        <span class="grow"></span>
        <md-filled-button href="/services/new" ?disabled=${!!this.#unavailable.value}>Create service<span slot="icon">${icons.add}</span></md-filled-button>
        ${unavailableNote(this.#unavailable.value ?? '')}
      </header>
      <yg-deploy-launcher tray hint="onto the list"></yg-deploy-launcher>
      <div class="filters" role="search" aria-label="Filter services">
        <md-outlined-text-field type="search" label="Search by ID" .value=${q} @input=${this.#onSearch}>
          <span slot="leading-icon">${icons.search}</span>
        </md-outlined-text-field>
        <yg-filter-chips
          label="Status"
          .options=${SERVICE_STATUSES.map((status) => ({ value: status, label: status, count: counts.get(status) ?? 0 }))}
          .selected=${statuses}
          @yg-filter-change=${this.#onStatus}
        ></yg-filter-chips>
      </div>
      <div class="drop" ${dropTarget({ kind: 'services' })}>
        <yg-service-table
          .services=${shown}
          ?loading=${!this.#loaded.value}
          emptyTitle=${filtered ? 'No services match' : 'No services yet'}
          emptyText=${filtered ? 'Change or clear the filters to see more. ' : 'Create one to run it on the cluster. '}
        >
          ${filtered ? html`<a slot="empty" href="/services">Clear filters</a>` : html`<a slot="empty" href="/services/new">Create a service</a>`}
        </yg-service-table>
      </div>
    `;
  }

  #onSearch(event: Event) {
    this.#go(this.params.get('status') ?? '', (event.target as MdOutlinedTextField).value, true);
  }

  #onStatus(event: CustomEvent<FilterChangeDetail>) {
    this.#go(event.detail.selected.join(','), this.params.get('q') ?? '', false);
  }

  #go(status: string, q: string, replace: boolean) {
    const query = new URLSearchParams();
    if (status) query.set('status', status);
    if (q) query.set('q', q);
    const search = query.toString();
    this.dispatchEvent(navigateEvent(`/services${search ? `?${search}` : ''}`, { replace }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-services-view': YgServicesView;
  }
}
