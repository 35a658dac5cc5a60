import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/outlined-button.js';
import '@material/web/divider/divider.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/menu/menu.js';
import '@material/web/menu/menu-item.js';
import type { MdMenu } from '@material/web/menu/menu.js';
import type { PackageSummary } from '../data/catalog.js';
import type { DeployOption, DeployTarget } from '../state/drag.js';

export interface DeploySelectDetail {
  pkg: PackageSummary;
  target: DeployTarget;
}

export interface DeployMenuOpenDetail {
  pkg: PackageSummary;
}

// Material Symbols "rocket_launch" (Apache 2.0), inlined like icons.ts.
const rocket = svg`<svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor" aria-hidden="true" focusable="false"><path d="M9.19 6.35c-2.04 2.29-3.44 5.58-3.57 5.89L2 10.69l4.05-4.05c.47-.47 1.15-.68 1.81-.55l1.33.26zM11.17 17s3.74-1.55 5.89-3.7c5.4-5.4 4.5-9.62 4.21-10.57-.95-.3-5.17-1.19-10.57 4.21C8.55 9.09 7 12.83 7 12.83L11.17 17zm6.48-2.19c-2.29 2.04-5.58 3.44-5.89 3.57L13.31 22l4.05-4.05c.47-.47.68-1.15.55-1.81l-.26-1.33zM9 18c0 .83-.34 1.58-.88 2.12C6.94 21.3 2 22 2 22s.7-4.94 1.88-6.12A2.996 2.996 0 0 1 9 18zm4-9c0-1.1.9-2 2-2s2 .9 2 2-.9 2-2 2-2-.9-2-2z"/></svg>`;

let ids = 0;

/**
 * "Deploy to…": the keyboard's (and anyone's) way to do what a drag does. A button opens a menu
 * of targets — any node, each node, each region — each with what choosing it would do or why
 * it cannot. Targets that cannot take the package stay selectable (so their reason is read out
 * and kept on screen after the choice); the page refuses them as it refuses a drop there.
 * Properties: `pkg`, `options`, `loading` (room still being checked). Events (with the package):
 * `yg-deploy-menu-open` when opened (the page may then check room), `yg-deploy-select`.
 */
@customElement('yg-deploy-menu')
export class YgDeployMenu extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      position: relative;
    }
    md-menu {
      --md-menu-container-color: var(--md-sys-color-surface-container, #eceef4);
      max-width: min(26rem, calc(100vw - 24px));
      /* Many nodes: the list scrolls inside the window. */
      max-height: min(32rem, calc(100dvh - 96px));
    }
    md-menu-item {
      max-width: min(26rem, calc(100vw - 24px));
    }
    md-menu-item.blocked [slot='headline'] {
      text-decoration: line-through;
      text-decoration-thickness: 1px;
    }
    md-menu-item.blocked [slot='supporting-text'] {
      color: var(--md-sys-color-error, #ba1a1a);
    }
    [slot='supporting-text'] {
      white-space: normal;
    }
    .busy {
      padding: 4px 16px 8px;
      font: 0.75rem/1rem var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    svg {
      width: 18px;
      height: 18px;
    }
  `;

  @property({ attribute: false }) pkg?: PackageSummary;
  @property({ attribute: false }) options: readonly DeployOption[] = [];
  /**
   * The options, asked for only while the menu is open (instead of `options`): with 10,000 nodes
   * a closed menu holds no items, and nothing judges the nodes for it while the cluster changes.
   */
  @property({ attribute: false }) optionsFor?: () => readonly DeployOption[];
  /** Room on the nodes is still being checked (the verdicts may change). */
  @property({ type: Boolean }) loading = false;
  /** An icon button instead of a text button. */
  @property({ type: Boolean, reflect: true }) compact = false;

  @state() private open = false;
  @query('md-menu') private menu?: MdMenu;
  readonly #anchorId = `deploy-anchor-${++ids}`;

  override render() {
    const label = `Deploy ${this.pkg?.name ?? ''} to…`;
    return html`${this.compact
        ? html`<md-icon-button
            id=${this.#anchorId}
            aria-label=${label}
            title=${label}
            aria-haspopup="menu"
            aria-expanded=${this.open ? 'true' : 'false'}
            @click=${this.#toggle}
            >${rocket}</md-icon-button
          >`
        : html`<md-outlined-button
            id=${this.#anchorId}
            aria-label=${`Deploy to… (${this.pkg?.name ?? ''})`}
            aria-haspopup="menu"
            aria-expanded=${this.open ? 'true' : 'false'}
            @click=${this.#toggle}
            >Deploy to…<span slot="icon">${rocket}</span></md-outlined-button
          >`}
      <md-menu
        anchor=${this.#anchorId}
        positioning="popover"
        aria-label=${label}
        @opening=${this.#onOpening}
        @closed=${() => (this.open = false)}
        @close-menu=${this.#onChoose}
      >
        ${this.#options().map(
          (o, i, all) => html`${i > 0 && o.target.kind !== all[i - 1]!.target.kind ? html`<md-divider role="separator"></md-divider>` : nothing}
            <md-menu-item class=${o.verdict.ok ? '' : 'blocked'} data-target=${JSON.stringify(o.target)}>
              <div slot="headline">${o.label}</div>
              ${o.verdict.ok ? nothing : html`<div slot="supporting-text">${o.verdict.text}</div>`}
            </md-menu-item>`,
        )}
        ${this.loading ? html`<div class="busy" role="status">Checking room on the nodes…</div>` : nothing}
      </md-menu>`;
  }

  #options(): readonly DeployOption[] {
    if (!this.optionsFor) return this.options;
    return this.open ? this.optionsFor() : [];
  }

  /** Opens the menu (a page may offer this from elsewhere, e.g. a shortcut). */
  async show() {
    if (!this.menu) return;
    // the items first, so the menu opens at its size
    this.open = true;
    await this.updateComplete;
    this.menu.open = true;
  }

  #toggle() {
    if (!this.menu) return;
    if (this.menu.open) this.menu.open = false;
    else void this.show();
  }

  #onOpening() {
    this.open = true;
    if (this.pkg) this.dispatchEvent(new CustomEvent<DeployMenuOpenDetail>('yg-deploy-menu-open', { detail: { pkg: this.pkg }, bubbles: true, composed: true }));
  }

  #onChoose(event: CustomEvent<{ initiator: HTMLElement }>) {
    const raw = event.detail.initiator?.dataset.target;
    if (!raw || !this.pkg) return;
    const target = JSON.parse(raw) as DeployTarget;
    this.dispatchEvent(new CustomEvent<DeploySelectDetail>('yg-deploy-select', { detail: { pkg: this.pkg, target }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-deploy-menu': YgDeployMenu;
  }
  interface GlobalEventHandlersEventMap {
    'yg-deploy-select': CustomEvent<DeploySelectDetail>;
    'yg-deploy-menu-open': CustomEvent<DeployMenuOpenDetail>;
  }
}
