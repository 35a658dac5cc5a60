import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/text-button.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/switch/switch.js';
import '@material/web/tabs/primary-tab.js';
import '@material/web/tabs/tabs.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdSwitch } from '@material/web/switch/switch.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { TailStatus } from '../data/log-tail.js';
import { icons } from './icons.js';

export type LogStream = 'stdout' | 'stderr';
export const LOG_STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** Highlights past this many matches would cost more than they help. */
const MAX_MARKS = 2000;

/**
 * A task's output: stdout/stderr tabs, follow, search within, download. Shows what it is
 * given; the page owns the tail. Out: `yg-log-stream`, `yg-log-follow`, `yg-log-download`,
 * `yg-log-retry`.
 */
@customElement('yg-log-viewer')
export class YgLogViewer extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .frame {
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: var(--yg-radius, 12px);
      overflow: hidden;
      background: var(--yg-card-container, transparent);
    }
    .tabbar {
      border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    }
    md-tabs {
      max-width: 16rem;
      --md-primary-tab-container-color: transparent;
    }
    md-tabs::part(divider) {
      display: none;
    }
    .toolbar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px 12px;
      padding: 12px 12px 8px 16px;
    }
    md-outlined-text-field {
      flex: 1 1 14rem;
      min-width: 0;
      --md-outlined-text-field-top-space: 8px;
      --md-outlined-text-field-bottom-space: 8px;
    }
    .matches {
      min-width: 5.5rem;
      font-size: 0.8125rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-variant-numeric: tabular-nums;
    }
    .group {
      display: inline-flex;
      align-items: center;
      gap: 4px;
    }
    label.follow {
      display: inline-flex;
      align-items: center;
      gap: 8px;
      font-size: 0.875rem;
    }
    .status {
      display: flex;
      align-items: center;
      gap: 8px;
      min-height: 24px;
      padding: 0 16px 8px;
      font-size: 0.8125rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .status.error {
      color: var(--md-sys-color-error, #ba1a1a);
    }
    .status .retry {
      margin-block: -8px;
    }
    .log {
      height: var(--yg-log-height, min(60vh, 36rem));
      overflow: auto;
      margin: 0;
      padding: 12px 16px;
      background: var(--yg-log-container, #f2f3fa);
      border-top: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      font: 0.8125rem/1.35 var(--yg-font-mono, monospace);
      white-space: pre-wrap;
      overflow-wrap: anywhere;
      tab-size: 4;
    }
    .log:focus-visible {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: -2px;
    }
    .empty {
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-family: var(--yg-font, sans-serif);
    }
    mark {
      background: var(--yg-match-container, #ffe08b);
      color: var(--yg-match-on-container, #241a00);
      border-radius: 2px;
    }
    mark.current {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
    }
    svg {
      width: 20px;
      height: 20px;
    }
  `;

  @property() stream: LogStream = 'stdout';
  @property() text = '';
  @property() status: TailStatus = 'connecting';
  @property() message = '';
  @property({ type: Boolean }) truncated = false;
  /** Keep the newest line in view as output arrives. */
  @property({ type: Boolean }) follow = true;

  @state() private query = '';
  @state() private current = 0;

  @query('.log') private log?: HTMLElement;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('query' as keyof YgLogViewer)) this.current = 0;
  }

  protected override updated(changed: PropertyValues<this>): void {
    const log = this.log;
    if (!log) return;
    if (this.follow && (changed.has('text') || changed.has('follow') || changed.has('stream'))) {
      log.scrollTop = log.scrollHeight;
    } else if (changed.has('current' as keyof YgLogViewer) || changed.has('query' as keyof YgLogViewer)) {
      const mark = log.querySelector<HTMLElement>('mark.current');
      if (mark) log.scrollTop = mark.offsetTop - log.clientHeight / 2;
    }
  }

  /** Positions of the query in the text, case-insensitive. */
  get matchPositions(): number[] {
    const q = this.query.toLowerCase();
    if (!q) return [];
    const hay = this.text.toLowerCase();
    const out: number[] = [];
    for (let at = hay.indexOf(q); at >= 0 && out.length < MAX_MARKS; at = hay.indexOf(q, at + q.length)) out.push(at);
    return out;
  }

  override render() {
    const matches = this.matchPositions;
    const current = matches.length ? Math.min(this.current, matches.length - 1) : 0;
    return html`<div class="frame">
      <div class="tabbar">
        <md-tabs aria-label="Output stream" .activeTabIndex=${LOG_STREAMS.indexOf(this.stream)} @change=${this.#onTab}>
          ${LOG_STREAMS.map((s) => html`<md-primary-tab id=${`tab-${s}`} aria-controls="log">${s}</md-primary-tab>`)}
        </md-tabs>
      </div>
      <div class="toolbar">
        <md-outlined-text-field
          type="search"
          label=${`Search ${this.stream}`}
          .value=${this.query}
          @input=${(e: Event) => (this.query = (e.target as MdOutlinedTextField).value)}
          @keydown=${this.#onSearchKey}
        >
          <span slot="leading-icon">${icons.search}</span>
        </md-outlined-text-field>
        <span class="group">
          <span class="matches" role="status">${this.query ? (matches.length ? `${current + 1} of ${matches.length}${matches.length === MAX_MARKS ? '+' : ''}` : 'No matches') : ''}</span>
          <md-icon-button aria-label="Previous match" ?disabled=${matches.length === 0} @click=${() => this.#step(-1)}>${icons.up}</md-icon-button>
          <md-icon-button aria-label="Next match" ?disabled=${matches.length === 0} @click=${() => this.#step(1)}>${icons.down}</md-icon-button>
        </span>
        <label class="follow">
          <md-switch .selected=${this.follow} @change=${(e: Event) => this.#setFollow((e.target as MdSwitch).selected)}></md-switch>
          Follow
        </label>
        <md-text-button @click=${() => this.#emit('yg-log-download', { stream: this.stream })}>
          Download
          <span slot="icon">${icons.download}</span>
        </md-text-button>
      </div>
      <div class="status ${this.status === 'error' ? 'error' : ''}" role="status">
        <span>${this.#statusText()}</span>
        ${this.status === 'error' || this.status === 'ended'
          ? html`<md-text-button class="retry" @click=${() => this.#emit('yg-log-retry', { stream: this.stream })}>Reconnect</md-text-button>`
          : nothing}
      </div>
      <pre
        id="log"
        class="log"
        role="tabpanel"
        aria-labelledby=${`tab-${this.stream}`}
        tabindex="0"
        @scroll=${this.#onScroll}
      >${this.#body(matches, current)}</pre>
    </div>`;
  }

  #statusText() {
    switch (this.status) {
      case 'connecting':
        return 'Connecting to the agent…';
      case 'live':
        return html`Live${this.truncated ? ' · showing the end of the file' : nothing}`;
      case 'ended':
        return `The stream ended${this.message ? `: ${this.message}` : '.'}`;
      case 'error':
        return `The log could not be read${this.message ? `: ${this.message}` : '.'}`;
    }
  }

  #body(matches: number[], current: number) {
    if (!this.text) {
      return html`<span class="empty">${this.status === 'connecting' ? '' : `Nothing on ${this.stream} yet.`}</span>`;
    }
    if (matches.length === 0) return this.text;
    const length = this.query.length;
    const parts: unknown[] = [];
    let at = 0;
    matches.forEach((start, i) => {
      parts.push(this.text.slice(at, start));
      parts.push(html`<mark class=${i === current ? 'current' : ''}>${this.text.slice(start, start + length)}</mark>`);
      at = start + length;
    });
    parts.push(this.text.slice(at));
    return parts;
  }

  #step(delta: number) {
    const n = this.matchPositions.length;
    if (n === 0) return;
    // Jumping to a match means reading: stop following.
    if (this.follow) this.#setFollow(false);
    this.current = (((Math.min(this.current, n - 1) + delta) % n) + n) % n;
  }

  #onSearchKey(event: KeyboardEvent) {
    if (event.key === 'Enter') {
      event.preventDefault();
      this.#step(event.shiftKey ? -1 : 1);
    }
  }

  #onTab(event: Event) {
    const index = (event.target as MdTabs).activeTabIndex;
    const stream = LOG_STREAMS[index];
    if (stream && stream !== this.stream) this.#emit('yg-log-stream', { stream });
  }

  #onScroll() {
    const log = this.log;
    if (!log || !this.follow) return;
    // Scrolling up to read stops following; the switch shows it.
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    if (!atBottom) this.#setFollow(false);
  }

  #setFollow(follow: boolean) {
    if (follow === this.follow) return;
    this.#emit('yg-log-follow', { follow });
  }

  #emit<K extends 'yg-log-stream' | 'yg-log-follow' | 'yg-log-download' | 'yg-log-retry'>(type: K, detail: GlobalEventHandlersEventMap[K]['detail']) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-log-viewer': YgLogViewer;
  }
  interface GlobalEventHandlersEventMap {
    'yg-log-stream': CustomEvent<{ stream: LogStream }>;
    'yg-log-follow': CustomEvent<{ follow: boolean }>;
    'yg-log-download': CustomEvent<{ stream: LogStream }>;
    /** Open the tail again after it ended or failed. */
    'yg-log-retry': CustomEvent<{ stream: LogStream }>;
  }
}
