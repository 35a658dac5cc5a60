import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/button/text-button.js';

// Material Icons "cloud_off" (Apache 2.0).
const cloudOff = svg`<svg viewBox="0 0 24 24" width="24" height="24" fill="currentColor" aria-hidden="true" focusable="false"><path d="M19.35 10.04C18.67 6.59 15.64 4 12 4c-1.48 0-2.85.43-4.01 1.17l1.46 1.46C10.21 6.23 11.08 6 12 6c3.04 0 5.5 2.46 5.5 5.5v.5H19c1.66 0 3 1.34 3 3 0 1.13-.64 2.11-1.56 2.62l1.45 1.45C23.16 18.16 24 16.68 24 15c0-2.64-2.05-4.78-4.65-4.96zM3 5.27l2.75 2.74C2.56 8.15 0 10.77 0 14c0 3.31 2.69 6 6 6h11.73l2 2L21 20.73 4.27 4 3 5.27zM7.73 10l8 8H6c-2.21 0-4-1.79-4-4s1.79-4 4-4h1.73z"></path></svg>`;

/** "14:03:12" today; "12 Mar, 14:03" on another day (the seconds matter only for today). */
export function formatAsOf(at: number, now: number = Date.now(), locale?: string): string {
  const date = new Date(at);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(locale, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });
}

/**
 * Says the page shows a kept state because the master cannot be reached, since when it is
 * that old, and that commands wait until it answers. Nothing shows while `asOf` is unset.
 * `yg-retry` asks the shell to try the master again now.
 */
@customElement('yg-offline-banner')
export class YgOfflineBanner extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    .banner {
      display: flex;
      align-items: center;
      gap: 12px;
      margin-bottom: 20px;
      padding: 8px 8px 8px 16px;
      border-radius: var(--yg-radius, 12px);
      background: var(--yg-tone-warn-container, #ffe08b);
      color: var(--yg-tone-warn-on-container, #3a2c00);
      font-family: var(--yg-font, sans-serif);
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    .banner svg {
      flex: none;
      width: 24px;
      height: 24px;
    }
    p {
      flex: 1;
      margin: 0;
    }
    strong {
      font-weight: 500;
    }
    md-text-button {
      flex: none;
      --md-text-button-label-text-color: currentColor;
      --md-text-button-hover-label-text-color: currentColor;
      --md-text-button-focus-label-text-color: currentColor;
      --md-text-button-pressed-label-text-color: currentColor;
    }
    @media (max-width: 599px) {
      .banner {
        flex-wrap: wrap;
        padding: 12px 8px 4px 12px;
        gap: 4px 12px;
      }
      p {
        flex: 1 1 calc(100% - 48px);
      }
      md-text-button {
        margin-left: auto;
      }
    }
  `;

  /** When the state on screen was last known current (ms since epoch); unset hides the banner. */
  @property({ type: Number }) asOf?: number;
  /** For tests: what "today" is. */
  @property({ type: Number }) now?: number;

  override render() {
    // The live region stays in the page, so its text appearing is announced.
    return html`<div role="status">
      ${this.asOf === undefined
        ? nothing
        : html`<div class="banner">
            ${cloudOff}
            <p>
              <strong>Offline — showing the cluster as of ${formatAsOf(this.asOf, this.now ?? Date.now())}.</strong>
              Commands are off until the master answers again; the page keeps trying.
            </p>
            <md-text-button @click=${this.#retry}>Retry now</md-text-button>
          </div>`}
    </div>`;
  }

  #retry() {
    this.dispatchEvent(new CustomEvent('yg-retry', { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-offline-banner': YgOfflineBanner;
  }
  interface GlobalEventHandlersEventMap {
    'yg-retry': CustomEvent<undefined>;
  }
}
