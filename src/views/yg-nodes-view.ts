import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/tabs/primary-tab.js';
import '@material/web/tabs/tabs.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { AgentView, TaskSummary } from '../../protocol/types.js';
import '../components/yg-agent-table.js';
import { nodeHref } from '../state/activity.js';
import { clusterContext } from '../state/context.js';
import { mapTilesSetting } from '../state/settings.js';
import { StoreController } from '../state/store-controller.js';
import { activeTaskCounts, agentsByHostname } from './cluster-selectors.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';
import './yg-deploy-launcher.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskSummary> = new Map();

const VIEWS = ['list', 'map'] as const;

/** The nodes as a table (`/nodes`) or on a map (`/nodes?view=map`; Leaflet loads on the first visit), with the catalog tray: a package dropped on a node's row or a map region deploys there. */
@customElement('yg-nodes-view')
export class YgNodesView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .map-loading {
        padding: 48px 16px;
      }
    `,
  ];

  @property({ attribute: false }) params = new URLSearchParams();
  /** The map's module has loaded. */
  @state() private mapReady = false;
  @state() private mapError = '';
  readonly #tiles = new StoreController(this, mapTilesSetting().value);

  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #sorted = agentsByHostname();
  readonly #counts = activeTaskCounts();

  get #view(): (typeof VIEWS)[number] {
    return this.params.get('view') === 'map' ? 'map' : 'list';
  }

  protected override willUpdate(): void {
    if (this.#view === 'map' && !this.mapReady && !this.mapError) {
      import('../components/yg-node-map.js').then(
        () => (this.mapReady = true),
        (error: unknown) => (this.mapError = error instanceof Error ? error.message : String(error)),
      );
    }
  }

  override render() {
    const agents = this.#sorted(this.#agents.value ?? NO_AGENTS);
    const active = agents.filter((agent) => agent.state === 'ACTIVE').length;
    const view = this.#view;
    return html`
      <header>
        <h1>Nodes</h1>
        ${this.#loaded.value ? html`<span class="count">${active} of ${agents.length} active</span>` : ''}
      </header>
      <yg-deploy-launcher tray hint=${view === 'map' ? 'onto a region of the map' : 'onto a node'}></yg-deploy-launcher>
      <div class="tabbar">
        <md-tabs aria-label="Show nodes as" .activeTabIndex=${VIEWS.indexOf(view)} @change=${this.#onTab}>
          <md-primary-tab id="tab-list" aria-controls="panel">List</md-primary-tab>
          <md-primary-tab id="tab-map" aria-controls="panel">Map</md-primary-tab>
        </md-tabs>
      </div>
      <div id="panel" role="tabpanel" aria-labelledby=${`tab-${view}`}>
        ${view === 'list'
          ? html`<yg-agent-table
              .agents=${agents}
              .taskCounts=${this.#counts(this.#tasks.value ?? NO_TASKS)}
              ?loading=${!this.#loaded.value}
            ></yg-agent-table>`
          : this.#map(agents)}
      </div>
    `;
  }

  #map(agents: readonly AgentView[]) {
    if (this.mapError) return html`<p class="alert" role="alert">The map could not be loaded: ${this.mapError}</p>`;
    if (!this.mapReady || !this.#loaded.value) {
      return html`<div class="state-page map-loading" role="status"><md-linear-progress indeterminate aria-label="Loading the map"></md-linear-progress>Loading the map…</div>`;
    }
    return html`<yg-node-map
      .agents=${agents}
      tileUrl=${this.#tiles.value ?? ''}
      @yg-node-open=${(e: CustomEvent<{ id: string }>) => this.dispatchEvent(navigateEvent(nodeHref(e.detail.id)))}
    ></yg-node-map>`;
  }

  #onTab(event: Event) {
    const view = VIEWS[(event.target as MdTabs).activeTabIndex] ?? 'list';
    if (view === this.#view) return;
    this.dispatchEvent(navigateEvent(view === 'map' ? '/nodes?view=map' : '/nodes'));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-nodes-view': YgNodesView;
  }
}
