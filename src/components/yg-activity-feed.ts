import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ActivityItem } from '../state/activity.js';
import { ClockController } from './clock-controller.js';
import { timeAgo } from './time.js';

/** Recent cluster changes, newest first. A polite live region: new items are announced. */
@customElement('yg-activity-feed')
export class YgActivityFeed extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    ol {
      margin: 0;
      padding: 0;
      list-style: none;
    }
    li {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr) auto;
      align-items: baseline;
      gap: 10px;
      padding: 8px 0;
      border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    li:last-child {
      border-bottom: 0;
    }
    .dot {
      width: 8px;
      height: 8px;
      border-radius: 50%;
      transform: translateY(-1px);
    }
    .text {
      overflow-wrap: anywhere;
    }
    a {
      color: inherit;
      text-decoration: none;
    }
    a:hover {
      text-decoration: underline;
    }
    a:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: 2px;
      border-radius: 2px;
    }
    time,
    .muted {
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-size: 0.8125rem;
      white-space: nowrap;
      font-variant-numeric: tabular-nums;
    }
    .empty {
      margin: 0;
      padding: 16px 0;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
  `;

  @property({ attribute: false }) items: readonly ActivityItem[] = [];
  @property() label = 'Recent activity';
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this, 5000);

  override render() {
    const now = this.now ?? this.#clock.now;
    return html`<div role="log" aria-live="polite" aria-label=${this.label}>
      ${this.items.length === 0
        ? html`<p class="empty">Nothing has changed since this page opened. Task, agent and deployment changes appear here as they happen.</p>`
        : html`<ol>
            ${repeat(
              this.items,
              (item) => item.key,
              (item) => html`<li>
                <span class="dot" style="background:var(--yg-tone-${item.tone}-dot)" aria-hidden="true"></span>
                <span class="text">${item.href ? html`<a href=${item.href}>${item.text}</a>` : item.text}</span>
                ${timeAgo(item.at, now)}
              </li>`,
            )}
          </ol>`}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-activity-feed': YgActivityFeed;
  }
}
