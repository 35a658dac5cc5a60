import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/progress/linear-progress.js';
import type { TaskSummary } from '../../protocol/types.js';
import { ClockController } from './clock-controller.js';
import type { TaskColumn } from './yg-task-row.js';
import './yg-task-row.js';
import type { YgTaskRow } from './yg-task-row.js';

const ROW_HEIGHT = 52;
const NARROW_ROW_HEIGHT = 92;
/** Rows rendered beyond each edge of the window, so a fast scroll does not show blank space. */
const OVERSCAN = 8;
const NARROW_BELOW = 640;

const COLUMN_WIDTHS: Record<'name' | TaskColumn | 'state' | 'cpus' | 'mem' | 'time', string> = {
  name: 'minmax(7rem, 1.3fr)',
  id: 'minmax(6rem, 1.2fr)',
  state: '7.5rem',
  service: 'minmax(5rem, 1fr)',
  agent: 'minmax(5rem, 1fr)',
  cpus: '3.5rem',
  mem: '5rem',
  time: '5.5rem',
};

/**
 * Every task, virtualized: only the rows in (and near) the window exist, positioned inside a
 * body as tall as all rows, so 10,000 tasks scroll like 20. The page scrolls, not the list.
 * Keyboard: one row is in the tab order; arrows, Page Up/Down, Home and End move between rows.
 */
@customElement('yg-task-list')
export class YgTaskList extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .frame {
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: var(--yg-radius, 12px);
      background: var(--yg-card-container, transparent);
      overflow: hidden;
    }
    .head {
      display: grid;
      grid-template-columns: var(--yg-task-columns);
      column-gap: 16px;
      align-items: center;
      padding: 0 16px;
      height: 44px;
      border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      font-size: 0.75rem;
      font-weight: 500;
      letter-spacing: 0.04em;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .head .num {
      text-align: end;
    }
    .narrow .head {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }
    .body {
      position: relative;
      /* The last row's border would double the frame's. */
      margin-bottom: -1px;
    }
    .message {
      padding: 32px 16px;
      text-align: center;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .message strong {
      display: block;
      color: var(--md-sys-color-on-surface, #191c20);
      font-weight: 500;
      margin-bottom: 4px;
    }
    md-linear-progress {
      width: 100%;
    }
  `;

  /** In display order; the view sorts and filters. */
  @property({ attribute: false }) tasks: readonly TaskSummary[] = [];
  /** Agent id → hostname. */
  @property({ attribute: false }) agentNames: ReadonlyMap<string, string> = new Map();
  /** Optional columns to show; a node's page leaves out the agent, a service's the service. */
  @property({ attribute: false }) columns: readonly TaskColumn[] = ['id', 'service', 'agent'];
  @property() label = 'Tasks';
  @property({ type: Boolean }) loading = false;
  /** What to say when there are no tasks (the view knows why: filters, an idle node…). */
  @property() emptyTitle = 'No tasks';
  @property() emptyText = 'Tasks appear here when a service or job launches them.';
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  @state() private narrow = false;
  @state() private range: [number, number] = [0, 40];
  /**
   * The task the keyboard's tab stop rests on, by id: when the list re-sorts (a changed task moves
   * to the top), the tab stop stays with its task and no other row has to re-render.
   */
  @state() private activeId: string | undefined;

  @query('.body') private body?: HTMLElement;

  readonly #clock = new ClockController(this, 1000);
  #observer?: ResizeObserver;

  get rowHeight(): number {
    return this.narrow ? NARROW_ROW_HEIGHT : ROW_HEIGHT;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('scroll', this.#onScroll, { passive: true });
    window.addEventListener('resize', this.#onScroll, { passive: true });
    this.#observer = new ResizeObserver(() => {
      // Switching layout changes this element's height: do it in a task of its own, or the
      // browser reports a resize loop.
      setTimeout(() => this.#checkWidth());
    });
    this.#observer.observe(this);
  }

  protected override firstUpdated(): void {
    this.#checkWidth();
  }

  #checkWidth(): void {
    const width = this.getBoundingClientRect().width;
    if (width > 0) this.narrow = width < NARROW_BELOW;
    this.#measure();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('scroll', this.#onScroll);
    window.removeEventListener('resize', this.#onScroll);
    this.#observer?.disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('tasks') && (this.activeId === undefined || this.#indexOf(this.activeId) < 0)) this.activeId = this.tasks[0]?.id;
  }

  #indexCache: { tasks: readonly TaskSummary[]; id: string | undefined; index: number } | undefined;

  #indexOf(id: string | undefined): number {
    const c = this.#indexCache;
    if (c && c.tasks === this.tasks && c.id === id) return c.index;
    const index = id === undefined ? -1 : this.tasks.findIndex((t) => t.id === id);
    this.#indexCache = { tasks: this.tasks, id, index };
    return index;
  }

  /** The index of the tab stop's row. */
  private get active(): number {
    return Math.max(0, this.#indexOf(this.activeId));
  }

  protected override updated(changed: PropertyValues<this>): void {
    // After this update, not inside it: the window may then need other rows. Only a list of
    // another length can need them (a re-sorted one shows other tasks in the same rows), and
    // measuring forces a layout, which a change a few times a second should not pay for.
    const previous = changed.get('tasks') as readonly TaskSummary[] | undefined;
    const resized = changed.has('tasks') && (previous === undefined || previous.length !== this.tasks.length);
    if (resized || changed.has('narrow' as keyof YgTaskList)) queueMicrotask(() => this.#measure());
  }

  override render() {
    if (this.tasks.length === 0) {
      return html`<div class="frame">${this.loading
        ? html`<div class="message" role="status">
            <md-linear-progress indeterminate aria-label="Loading tasks"></md-linear-progress>
            <p>Waiting for the master…</p>
          </div>`
        : html`<div class="message"><strong>${this.emptyTitle}</strong> ${this.emptyText}</div>`}</div>`;
    }
    const [first, last] = this.range;
    const end = Math.min(this.tasks.length, last);
    const start = Math.min(first, end);
    const indexes: number[] = [];
    for (let i = start; i < end; i++) indexes.push(i);
    // The row keyboard focus rests on stays rendered, wherever the page has scrolled.
    if (this.active < this.tasks.length && (this.active < start || this.active >= end)) indexes.push(this.active);
    const now = this.now ?? this.#clock.now;
    const h = this.rowHeight;
    const template = [
      COLUMN_WIDTHS.name,
      ...(this.columns.includes('id') ? [COLUMN_WIDTHS.id] : []),
      COLUMN_WIDTHS.state,
      ...(this.columns.includes('service') ? [COLUMN_WIDTHS.service] : []),
      ...(this.columns.includes('agent') ? [COLUMN_WIDTHS.agent] : []),
      COLUMN_WIDTHS.cpus,
      COLUMN_WIDTHS.mem,
      COLUMN_WIDTHS.time,
    ].join(' ');
    return html`
      <div
        class="frame ${this.narrow ? 'narrow' : ''}"
        role="table"
        aria-label=${this.label}
        aria-rowcount=${this.tasks.length + 1}
        style="--yg-task-columns:${template};--yg-task-row-height:${h}px"
      >
        <div role="rowgroup">
          <div class="head" role="row" aria-rowindex="1">
            <span role="columnheader">Name</span>
            ${this.columns.includes('id') ? html`<span role="columnheader">ID</span>` : nothing}
            <span role="columnheader">State</span>
            ${this.columns.includes('service') ? html`<span role="columnheader">Service</span>` : nothing}
            ${this.columns.includes('agent') ? html`<span role="columnheader">Agent</span>` : nothing}
            <span role="columnheader" class="num">CPUs</span>
            <span role="columnheader" class="num">Memory</span>
            <span role="columnheader" class="num">Updated</span>
          </div>
        </div>
        <div class="body" role="rowgroup" style="height:${this.tasks.length * h}px" @keydown=${this.#onKeyDown} @focusin=${this.#onFocusIn}>
          ${repeat(
            indexes,
            (i) => this.tasks[i]!.id,
            (i) => {
              const task = this.tasks[i]!;
              return html`<yg-task-row
                role="row"
                aria-rowindex=${i + 2}
                data-index=${i}
                style="transform:translateY(${i * h}px)"
                .task=${task}
                .agentName=${this.agentNames.get(task.agentId)}
                .now=${now}
                .columns=${this.columns}
                ?narrow=${this.narrow}
                ?active=${task.id === this.activeId}
              ></yg-task-row>`;
            },
          )}
        </div>
      </div>
    `;
  }

  /** The row element of a task index, when it is rendered. */
  rowAt(index: number): YgTaskRow | null {
    return this.renderRoot.querySelector<YgTaskRow>(`yg-task-row[data-index="${index}"]`);
  }

  /** Brings row `index` into the window, makes it the active row and focuses its link. */
  async focusRow(index: number): Promise<void> {
    const target = Math.max(0, Math.min(this.tasks.length - 1, index));
    this.activeId = this.tasks[target]?.id;
    const body = this.body;
    if (body) {
      const top = body.getBoundingClientRect().top + target * this.rowHeight;
      const bottom = top + this.rowHeight;
      if (top < 0) window.scrollBy({ top: top - 8 });
      else if (bottom > window.innerHeight) window.scrollBy({ top: bottom - window.innerHeight + 8 });
    }
    this.#measure();
    await this.updateComplete;
    const row = this.rowAt(target);
    if (row) {
      await row.updateComplete;
      row.focusLink();
    }
  }

  // Browsers send scroll events once per frame at most; measuring is one rectangle.
  #onScroll = () => this.#measure();

  #measure(): void {
    const body = this.body;
    if (!body) return;
    const h = this.rowHeight;
    const top = -body.getBoundingClientRect().top;
    const view = window.innerHeight || 800;
    const first = Math.max(0, Math.floor(top / h) - OVERSCAN);
    const last = Math.max(first, Math.min(this.tasks.length, Math.ceil((top + view) / h) + OVERSCAN));
    if (first !== this.range[0] || last !== this.range[1]) this.range = [first, last];
  }

  #onFocusIn = (event: FocusEvent) => {
    const row = event.composedPath().find((node): node is YgTaskRow => node instanceof HTMLElement && node.localName === 'yg-task-row');
    const id = row?.task?.id;
    if (id !== undefined && id !== this.activeId) this.activeId = id;
  };

  #onKeyDown = (event: KeyboardEvent) => {
    const page = Math.max(1, Math.floor((window.innerHeight || 800) / this.rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: this.active + 1,
      ArrowUp: this.active - 1,
      PageDown: this.active + page,
      PageUp: this.active - page,
      Home: 0,
      End: this.tasks.length - 1,
    };
    const next = moves[event.key];
    if (next === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    void this.focusRow(next);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-task-list': YgTaskList;
  }
}
