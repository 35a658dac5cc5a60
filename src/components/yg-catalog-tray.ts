import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/button/text-button.js';
import '@material/web/progress/linear-progress.js';
import type { PackageSummary } from '../data/catalog.js';
import { dragSession, holdScrollWhileDragging, watchPress } from '../state/drag.js';
import type { DeployOption } from '../state/drag.js';
import './yg-deploy-menu.js';
import './yg-package-tile.js';

export interface DeployDragDetail {
  pkg: PackageSummary;
  x: number;
  y: number;
}

const handleIcon = svg`<svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor" aria-hidden="true" focusable="false"><path d="M11 18c0 1.1-.9 2-2 2s-2-.9-2-2 .9-2 2-2 2 .9 2 2zm-2-8c-1.1 0-2 .9-2 2s.9 2 2 2 2-.9 2-2-.9-2-2-2zm0-6c-1.1 0-2 .9-2 2s.9 2 2 2 2-.9 2-2-.9-2-2-2zm6 4c1.1 0 2-.9 2-2s-.9-2-2-2-2 .9-2 2 .9 2 2 2zm0 2c-1.1 0-2 .9-2 2s.9 2 2 2 2-.9 2-2-.9-2-2-2zm0 6c-1.1 0-2 .9-2 2s.9 2 2 2 2-.9 2-2-.9-2-2-2z"/></svg>`;
const chevron = svg`<svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor" aria-hidden="true" focusable="false"><path d="M16.59 8.59L12 13.17 7.41 8.59 6 10l6 6 6-6z"/></svg>`;

/**
 * The catalog as a strip on the pages that take drops (services, nodes): compact tiles that are
 * drag sources — mouse and pen after a small move, touch by a long press or at once from the
 * handle — each with its "Deploy to…" menu. Collapsible. Properties: `packages`, `loading`,
 * `error`, `optionsFor` (the menu of a package), `checking` (packages whose room is being
 * checked), `collapsed`, `hint` (where drops go on this page). Events: `yg-deploy-drag` (a drag
 * begins: the page starts it with beginDrag, or it does not happen), `yg-tray-toggle`,
 * `yg-tray-retry`; the menus' `yg-deploy-menu-open` and `yg-deploy-select` bubble out.
 */
@customElement('yg-catalog-tray')
export class YgCatalogTray extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    section {
      border-radius: var(--yg-radius, 12px);
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      background: var(--md-sys-color-surface-container-low, #f2f3fa);
      padding: 4px 8px 8px;
    }
    section.collapsed {
      padding-bottom: 4px;
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0 12px;
      min-height: 40px;
    }
    button.toggle {
      all: unset;
      box-sizing: border-box;
      display: inline-flex;
      align-items: center;
      gap: 4px;
      min-height: 40px;
      padding: 0 8px 0 4px;
      border-radius: 20px;
      cursor: pointer;
      font-size: 0.875rem;
      font-weight: 500;
      color: var(--md-sys-color-on-surface, #191c20);
    }
    button.toggle:hover {
      background: var(--yg-table-row-hover, #e6e8ee);
    }
    button.toggle:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
    }
    button.toggle svg {
      transition: transform 120ms;
    }
    section.collapsed button.toggle svg {
      transform: rotate(-90deg);
    }
    .hint {
      flex: 1 1 16rem;
      font-size: 0.8125rem;
      line-height: 1.25rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    ul {
      display: flex;
      gap: 8px;
      margin: 4px 0 0;
      padding: 0 0 4px;
      list-style: none;
      overflow-x: auto;
      scroll-snap-type: x proximity;
      overscroll-behavior-x: contain;
    }
    ul[hidden] {
      display: none;
    }
    li {
      flex: 0 0 auto;
      width: min(16rem, 78vw);
      scroll-snap-align: start;
    }
    yg-package-tile {
      height: 100%;
      user-select: none;
      -webkit-user-select: none;
      -webkit-touch-callout: none;
      cursor: grab;
    }
    .handle {
      display: grid;
      place-items: center;
      width: 40px;
      height: 40px;
      border-radius: 20px;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      touch-action: none;
      cursor: grab;
    }
    .handle:hover {
      background: var(--yg-table-row-hover, #e6e8ee);
    }
    .dragging yg-package-tile.source {
      opacity: 0.5;
    }
    .message {
      margin: 4px 4px 0;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .message md-linear-progress {
      margin-bottom: 8px;
    }
    @media (max-width: 599px) {
      .hint {
        flex-basis: 100%;
        padding: 0 4px 4px;
      }
    }
  `;

  @property({ attribute: false }) packages: readonly PackageSummary[] = [];
  @property({ type: Boolean }) loading = false;
  @property() error = '';
  @property({ attribute: false }) optionsFor: (pkg: PackageSummary) => readonly DeployOption[] = () => [];
  @property({ attribute: false }) checking: ReadonlySet<string> = new Set();
  @property({ type: Boolean, reflect: true }) collapsed = false;
  /** Where drops go on this page: "onto the list or a node". */
  @property() hint = 'onto this page';

  #unhold: (() => void) | undefined;
  #dragging = '';
  #unwatch: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.#unhold = holdScrollWhileDragging(this);
    this.#unwatch = dragSession.subscribe((s) => {
      const name = s?.pkg.name ?? '';
      if (name !== this.#dragging) {
        this.#dragging = name;
        this.requestUpdate();
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unwatch?.();
    this.#unhold?.();
    this.#unhold = undefined;
  }

  override render() {
    return html`<section class=${this.collapsed ? 'collapsed' : ''} aria-labelledby="tray-title">
      <div class="bar">
        <button class="toggle" type="button" aria-expanded=${this.collapsed ? 'false' : 'true'} aria-controls="strip" @click=${this.#toggle}>
          ${chevron}<span id="tray-title">Deploy from the catalog</span>
        </button>
        ${this.collapsed ? nothing : html`<span class="hint">Drag a package ${this.hint}, or choose where from its menu.</span>`}
      </div>
      ${this.#body()}
    </section>`;
  }

  #body() {
    if (this.collapsed) return html`<ul id="strip" hidden></ul>`;
    if (this.error) {
      return html`<ul id="strip" hidden></ul>
        <p class="message" role="alert">
          The catalog could not be read: ${this.error}
          <md-text-button @click=${() => this.dispatchEvent(new CustomEvent('yg-tray-retry', { bubbles: true, composed: true }))}>Try again</md-text-button>
        </p>`;
    }
    if (this.packages.length === 0) {
      return html`<ul id="strip" hidden></ul>
        ${this.loading
          ? html`<div class="message" role="status"><md-linear-progress indeterminate aria-label="Loading the catalog"></md-linear-progress>Loading the catalog…</div>`
          : html`<p class="message">No service packages in the catalog. <a href="/settings#repositories">Add a repository</a>.</p>`}`;
    }
    return html`<ul id="strip" class=${this.#dragging ? 'dragging' : ''} aria-label="Service packages" @dragstart=${(e: Event) => e.preventDefault()}>
      ${repeat(
        this.packages,
        (p) => p.name,
        (p) => html`<li>
          <yg-package-tile
            compact
            class=${this.#dragging === p.name ? 'source' : ''}
            .pkg=${p}
            @pointerdown=${(e: PointerEvent) => this.#press(e, p)}
          >
            <span slot="actions" class="handle" data-drag-handle title=${`Drag ${p.name}`} aria-hidden="true">${handleIcon}</span>
            <yg-deploy-menu slot="actions" data-no-drag compact .pkg=${p} .optionsFor=${() => this.optionsFor(p)} ?loading=${this.checking.has(p.name)}></yg-deploy-menu>
          </yg-package-tile>
        </li>`,
      )}
    </ul>`;
  }

  #press(event: PointerEvent, pkg: PackageSummary) {
    const tile = event.currentTarget as HTMLElement;
    watchPress(tile, event, {
      start: (x, y) => {
        this.dispatchEvent(new CustomEvent<DeployDragDetail>('yg-deploy-drag', { detail: { pkg, x, y }, bubbles: true, composed: true }));
        // The page began the drag, or there is nowhere to drop on this page.
        return dragSession.value?.pkg === pkg;
      },
    });
  }

  #toggle() {
    this.collapsed = !this.collapsed;
    this.dispatchEvent(new CustomEvent<{ collapsed: boolean }>('yg-tray-toggle', { detail: { collapsed: this.collapsed }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-catalog-tray': YgCatalogTray;
  }
  interface GlobalEventHandlersEventMap {
    'yg-deploy-drag': CustomEvent<DeployDragDetail>;
    'yg-tray-toggle': CustomEvent<{ collapsed: boolean }>;
    'yg-tray-retry': CustomEvent<void>;
  }
}
