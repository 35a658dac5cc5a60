import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/button/outlined-button.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { icons } from '../components/icons.js';
import '../components/yg-filter-chips.js';
import type { FilterChangeDetail } from '../components/yg-filter-chips.js';
import '../components/yg-deploy-menu.js';
import '../components/yg-package-tile.js';
import { catalogCache, searchPackages } from '../data/catalog.js';
import type { PackageSummary } from '../data/catalog.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import { deployOptions, deployRequirements, requirementsKey } from '../state/drag.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { errorText } from './command-state.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';
import './yg-deploy-launcher.js';

/** Tag chips offered at most: the most common tags of the results. */
const MAX_TAGS = 8;

/** Tags by how many of the packages carry them, then by name. */
export function commonTags(packages: readonly PackageSummary[], limit = MAX_TAGS): Array<{ tag: string; count: number }> {
  const counts = new Map<string, number>();
  for (const p of packages) for (const tag of new Set(p.tags.map((t) => t.toLowerCase()))) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  return [...counts.entries()]
    .map(([tag, count]) => ({ tag, count }))
    .sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag))
    .slice(0, limit);
}

/**
 * The package catalog: a search (`?q=`) over name, description and tags, answered by the
 * master, and tag chips (`?tags=a,b`: a package with any of them) over the answer. Selected
 * packages first. Each tile leads to the package's page; a service's tile has "Deploy to…"
 * (any node, a node, a region), which the launcher carries out.
 */
@customElement('yg-catalog-view')
export class YgCatalogView extends LitElement {
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
        flex: 0 1 24rem;
        min-width: 12rem;
      }
      .filters yg-filter-chips {
        flex: 1 1 auto;
      }
      .filters svg {
        width: 20px;
        height: 20px;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 18rem), 1fr));
        gap: 16px;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .grid yg-package-tile {
        height: 100%;
      }
      .progress {
        height: 4px;
        margin-bottom: 12px;
      }
      .state-page md-outlined-button {
        margin-top: 16px;
      }
      @media (max-width: 599px) {
        .filters md-outlined-text-field {
          flex: 1 1 100%;
        }
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) params = new URLSearchParams();

  @consume({ context: apiContext }) api?: Api;

  /** The answer shown, for `query`; kept while a newer search runs. */
  @state() private packages: readonly PackageSummary[] | undefined;
  @state() private loading = false;
  @state() private error = '';
  #asked: string | undefined;
  #abort: AbortController | undefined;

  readonly #tags = memoize((raw: string) => raw.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
  readonly #byTags = memoize((packages: readonly PackageSummary[], tags: readonly string[]) =>
    tags.length === 0 ? packages : packages.filter((p) => p.tags.some((t) => tags.includes(t.toLowerCase()))),
  );
  readonly #common = memoize((packages: readonly PackageSummary[]) => commonTags(packages));
  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #requirements = new StoreController(this, deployRequirements);

  get #query(): string {
    return (this.params.get('q') ?? '').trim();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('params') || this.#asked === undefined) this.#search(this.#query);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#abort?.abort();
    this.#abort = undefined;
    // Asked again on the next visit: repositories may have changed meanwhile.
    this.#asked = undefined;
  }

  #search(query: string, force = false) {
    if (!this.api || (query === this.#asked && !force)) return;
    this.#asked = query;
    // What this page (or the last visit) already knows shows at once; the answer replaces it.
    const cached = catalogCache.get(query);
    if (cached) {
      this.packages = cached.packages;
    }
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.loading = true;
    this.error = '';
    searchPackages(this.api, query, abort.signal).then(
      (packages) => {
        if (this.#asked !== query) return;
        this.packages = packages;
          this.loading = false;
      },
      (error: unknown) => {
        if (this.#asked !== query || abort.signal.aborted) return;
        this.error = errorText(error);
        this.loading = false;
      },
    );
  }

  override render() {
    const q = this.params.get('q') ?? '';
    const tags = this.#tags(this.params.get('tags') ?? '');
    const all = this.packages;
    const shown = all ? this.#byTags(all, tags) : undefined;
    const common = all ? this.#common(all) : [];
    // Selected tags stay offered even when the answer has none of them, so they can be cleared.
    const options = [...common, ...tags.filter((t) => !common.some((c) => c.tag === t)).map((tag) => ({ tag, count: 0 }))];
    const filtered = !!this.#query || tags.length > 0;
    return html`
      <header>
        <h1>Catalog</h1>
        ${shown ? html`<span class="count" role="status">${shown.length} ${shown.length === 1 ? 'package' : 'packages'}</span>` : nothing}
        <span class="grow"></span>
        <md-outlined-button href="/settings#repositories">Repositories<span slot="icon">${icons.settings}</span></md-outlined-button>
      </header>
      <yg-deploy-launcher></yg-deploy-launcher>
      <div class="filters" role="search" aria-label="Search packages">
        <md-outlined-text-field type="search" label="Search packages" .value=${q} @input=${this.#onSearch}>
          <span slot="leading-icon">${icons.search}</span>
        </md-outlined-text-field>
        ${options.length
          ? html`<yg-filter-chips
              label="Tags"
              .options=${options.map((o) => ({ value: o.tag, label: o.tag, count: o.count }))}
              .selected=${tags}
              @yg-filter-change=${this.#onTags}
            ></yg-filter-chips>`
          : nothing}
      </div>
      ${this.loading && all
        ? html`<md-linear-progress class="progress" indeterminate aria-label="Searching"></md-linear-progress>`
        : html`<div class="progress"></div>`}
      ${this.error
        ? html`<div class="alert" role="alert">
            The catalog could not be searched: ${this.error}
            <md-outlined-button @click=${() => this.#search(this.#query, true)}>Try again</md-outlined-button>
          </div>`
        : nothing}
      ${this.#body(shown, filtered)}
    `;
  }

  #body(shown: readonly PackageSummary[] | undefined, filtered: boolean) {
    if (!shown) {
      return this.error
        ? nothing
        : html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading the catalog"></md-linear-progress>Loading the catalog…</div>`;
    }
    if (shown.length === 0) {
      return filtered
        ? html`<div class="state-page"><strong>No packages match</strong>Try other words, or <a href="/catalog">show all packages</a>.</div>`
        : html`<div class="state-page">
            <strong>The catalog is empty</strong>No repository offers any package. <a href="/settings#repositories">Add a repository</a> in
            Settings.
          </div>`;
    }
    return html`<ul class="grid" aria-label="Packages">
      ${repeat(
        shown,
        (p) => p.name,
        (p) => html`<li>
          <yg-package-tile .pkg=${p}>
            ${p.kind === 'service'
              ? html`<yg-deploy-menu
                  slot="actions"
                  .pkg=${p}
                  .optionsFor=${() => deployOptions((this.#agents.value ?? new Map()).values(), p.name, this.#requirements.value?.get(requirementsKey(p)))}
                ></yg-deploy-menu>`
              : nothing}
          </yg-package-tile>
        </li>`,
      )}
    </ul>`;
  }

  #onSearch(event: Event) {
    this.#go((event.target as MdOutlinedTextField).value, this.params.get('tags') ?? '', true);
  }

  #onTags(event: CustomEvent<FilterChangeDetail>) {
    this.#go(this.params.get('q') ?? '', event.detail.selected.join(','), false);
  }

  #go(q: string, tags: string, replace: boolean) {
    const query = new URLSearchParams();
    if (q) query.set('q', q);
    if (tags) query.set('tags', tags);
    const search = query.toString();
    this.dispatchEvent(navigateEvent(`/catalog${search ? `?${search}` : ''}`, { replace }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-catalog-view': YgCatalogView;
  }
}
