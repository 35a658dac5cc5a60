import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/button/text-button.js';
import '@material/web/iconbutton/icon-button.js';
import type { UnsavedWork } from '../state/unsaved.js';

const close = svg`<svg viewBox="0 0 24 24" width="24" height="24" fill="currentColor" aria-hidden="true" focusable="false"><path d="M19 6.41L17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z"></path></svg>`;

/** “a” / “a and b” / “a, b and c”. */
function listOf(labels: readonly string[]): string {
  const quoted = labels.map((l) => `“${l}”`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

/**
 * Offers a new build of the dashboard. While a form has unsaved changes (`unsaved`), the reload
 * is not offered: the snackbar says which form holds it up and links to it. Emits
 * `yg-update-apply` (reload now) and `yg-update-dismiss` (later; a full reload applies it too).
 */
@customElement('yg-update-snackbar')
export class YgUpdateSnackbar extends LitElement {
  static override styles = css`
    :host {
      position: fixed;
      z-index: 5;
      left: 0;
      right: 0;
      bottom: var(--yg-snackbar-bottom, 16px);
      display: block;
      padding: 0 12px;
      pointer-events: none;
    }
    .region {
      display: flex;
      justify-content: center;
      width: 100%;
    }
    .snackbar {
      pointer-events: auto;
      box-sizing: border-box;
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: flex-end;
      gap: 0 4px;
      width: max-content;
      max-width: min(40rem, 100%);
      min-height: 48px;
      padding: 4px 4px 4px 16px;
      border-radius: 4px;
      background: var(--md-sys-color-inverse-surface, #2e3135);
      color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      box-shadow:
        0 3px 5px -1px rgb(0 0 0 / 20%),
        0 6px 10px 0 rgb(0 0 0 / 14%),
        0 1px 18px 0 rgb(0 0 0 / 12%);
      font-family: var(--yg-font, sans-serif);
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    .text {
      flex: 1 1 16rem;
      padding: 10px 8px 10px 0;
    }
    .actions {
      display: flex;
      align-items: center;
      gap: 4px;
    }
    md-text-button {
      --md-text-button-label-text-color: var(--md-sys-color-inverse-primary, #a0cafd);
      --md-text-button-hover-label-text-color: var(--md-sys-color-inverse-primary, #a0cafd);
      --md-text-button-focus-label-text-color: var(--md-sys-color-inverse-primary, #a0cafd);
      --md-text-button-pressed-label-text-color: var(--md-sys-color-inverse-primary, #a0cafd);
      --md-text-button-hover-state-layer-color: var(--md-sys-color-inverse-primary, #a0cafd);
      --md-text-button-pressed-state-layer-color: var(--md-sys-color-inverse-primary, #a0cafd);
      --md-focus-ring-color: var(--md-sys-color-inverse-primary, #a0cafd);
    }
    md-icon-button {
      --md-icon-button-icon-color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      --md-icon-button-hover-icon-color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      --md-icon-button-focus-icon-color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      --md-icon-button-pressed-icon-color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      --md-icon-button-hover-state-layer-color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      --md-icon-button-pressed-state-layer-color: var(--md-sys-color-inverse-on-surface, #eff0f7);
      --md-focus-ring-color: var(--md-sys-color-inverse-primary, #a0cafd);
    }
  `;

  @property({ type: Boolean, reflect: true }) open = false;
  /** Forms with unsaved changes: the reload waits for them. */
  @property({ attribute: false }) unsaved: readonly UnsavedWork[] = [];

  override render() {
    const waiting = this.unsaved.length > 0;
    return html`<div class="region" role="status">
      ${!this.open
        ? nothing
        : html`<div class="snackbar">
            <span class="text">
              ${waiting
                ? `A new version of the dashboard is ready. It loads once your changes to ${listOf(this.unsaved.map((u) => u.label))} are saved or discarded.`
                : 'A new version of the dashboard is ready.'}
            </span>
            <span class="actions">
              ${waiting
                ? html`<md-text-button href=${this.unsaved[0]!.href}>Open form</md-text-button>`
                : html`<md-text-button @click=${this.#apply}>Reload to update</md-text-button>`}
              <md-icon-button aria-label="Later" title="Later" @click=${this.#dismiss}>${close}</md-icon-button>
            </span>
          </div>`}
    </div>`;
  }

  #apply() {
    // Checked again here: a form could have become dirty between render and click.
    if (this.unsaved.length) return;
    this.dispatchEvent(new CustomEvent('yg-update-apply', { bubbles: true, composed: true }));
  }

  #dismiss() {
    this.dispatchEvent(new CustomEvent('yg-update-dismiss', { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-update-snackbar': YgUpdateSnackbar;
  }
  interface GlobalEventHandlersEventMap {
    'yg-update-apply': CustomEvent<undefined>;
    'yg-update-dismiss': CustomEvent<undefined>;
  }
}
