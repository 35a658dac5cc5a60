import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import '@material/web/progress/linear-progress.js';
import type { ServiceView } from '../../protocol/types.js';
import { serviceHref } from '../state/activity.js';
import { memoize } from '../state/memo.js';
import { ClockController } from './clock-controller.js';
import { formatCpus, formatMiB, parseIso } from './format.js';
import { icons } from './icons.js';
import { serviceStatusChip } from './states.js';
import { moreRows, ROWS_PER_PAGE } from './more-rows.js';
import { tableStyles } from './table-styles.js';
import { timeAgo } from './time.js';
import './yg-state-chip.js';

interface GroupRow {
  kind: 'group';
  id: string;
  name: string;
  depth: number;
  services: number;
  running: number;
  target: number;
}

interface AppRow {
  kind: 'app';
  id: string;
  name: string;
  depth: number;
  service: ServiceView;
}

type Row = GroupRow | AppRow;

interface Node {
  groups: Map<string, Node>;
  apps: ServiceView[];
}

/** App ids are paths: `/prod/web` sits in group `/prod`. Groups first, then apps, by name. */
export function serviceTree(services: readonly ServiceView[]): Row[] {
  const root: Node = { groups: new Map(), apps: [] };
  for (const service of services) {
    const parts = service.id.split('/').filter(Boolean);
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = node.groups.get(part);
      if (!next) {
        next = { groups: new Map(), apps: [] };
        node.groups.set(part, next);
      }
      node = next;
    }
    node.apps.push(service);
  }
  const rows: Row[] = [];
  const walk = (node: Node, prefix: string, depth: number) => {
    for (const name of [...node.groups.keys()].sort()) {
      const child = node.groups.get(name)!;
      const id = `${prefix}/${name}`;
      const all = collect(child);
      rows.push({
        kind: 'group',
        id,
        name,
        depth,
        services: all.length,
        running: all.reduce((n, s) => n + s.tasksRunning, 0),
        target: all.reduce((n, s) => n + s.instances, 0),
      });
      walk(child, id, depth + 1);
    }
    for (const service of [...node.apps].sort((a, b) => a.id.localeCompare(b.id))) {
      rows.push({ kind: 'app', id: service.id, name: service.id.split('/').filter(Boolean).pop() ?? service.id, depth, service });
    }
  };
  walk(root, '', 0);
  return rows;
}

function collect(node: Node): ServiceView[] {
  return [...node.apps, ...[...node.groups.values()].flatMap(collect)];
}

/** Services as their group tree. Groups fold; each app links to its page. */
@customElement('yg-service-table')
export class YgServiceTable extends LitElement {
  static override styles = [
    tableStyles,
    css`
      .name {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        padding-inline-start: calc(var(--depth, 0) * 20px);
        min-width: 0;
      }
      .toggle {
        all: unset;
        display: inline-flex;
        align-items: center;
        gap: 6px;
        cursor: pointer;
        border-radius: 6px;
        font-weight: 500;
        color: var(--md-sys-color-on-surface, #191c20);
      }
      .toggle:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
        outline-offset: 2px;
      }
      .toggle svg {
        width: 20px;
        height: 20px;
        transition: transform 150ms ease;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .toggle[aria-expanded='false'] .chev {
        transform: rotate(-90deg);
      }
      .folder svg {
        width: 18px;
        height: 18px;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      tr.group td {
        background: var(--md-sys-color-surface-container, rgba(0, 0, 0, 0.03));
      }
      .health {
        white-space: nowrap;
      }
      .bad {
        color: var(--md-sys-color-error, #ba1a1a);
        font-weight: 500;
      }
      @container (max-width: 639px) {
        .name {
          padding-inline-start: 0;
        }
        tr.group td:not(.title) {
          display: none;
        }
      }
    `,
  ];

  @property({ attribute: false }) services: readonly ServiceView[] = [];
  @property({ type: Boolean }) loading = false;
  @property() label = 'Services';
  @property() emptyTitle = 'No services yet';
  @property() emptyText = 'Create one to run it on the cluster.';
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  /** Group ids folded by the user. */
  @state() private collapsed: ReadonlySet<string> = new Set();
  /** Rows rendered at first and added per "Show more" (more-rows.ts). */
  @property({ type: Number }) pageSize = ROWS_PER_PAGE;
  /** Pages shown. */
  @state() private pages = 1;

  readonly #clock = new ClockController(this, 10_000);
  readonly #tree = memoize(serviceTree);

  override render() {
    const rows = this.#tree(this.services);
    const visible = rows.filter((row) => ![...this.collapsed].some((g) => row.id.startsWith(`${g}/`)));
    return html`
      <div class="frame">
        <table aria-label=${this.label}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Health</th>
              <th scope="col" class="num">Instances</th>
              <th scope="col" class="num">CPUs</th>
              <th scope="col" class="num">Memory</th>
              <th scope="col" class="num">Version</th>
            </tr>
          </thead>
          <tbody>
            ${rows.length === 0
              ? html`<tr><td colspan="7">${this.#placeholder()}</td></tr>`
              : repeat(visible.slice(0, this.pages * this.pageSize), (row) => `${row.kind}:${row.id}`, (row) => (row.kind === 'group' ? this.#group(row) : this.#app(row)))}
            ${moreRows(Math.min(this.pages * this.pageSize, visible.length), visible.length, 'rows', 7, this.pageSize, () => this.pages++)}
          </tbody>
        </table>
      </div>
    `;
  }

  #placeholder() {
    if (this.loading) {
      return html`<div class="message" role="status">
        <md-linear-progress indeterminate aria-label="Loading services"></md-linear-progress>
        <p>Waiting for the master…</p>
      </div>`;
    }
    return html`<div class="message"><strong>${this.emptyTitle}</strong> ${this.emptyText} <slot name="empty"></slot></div>`;
  }

  #group(row: GroupRow) {
    const open = !this.collapsed.has(row.id);
    return html`<tr class="row group">
      <td class="title">
        <span class="name" style="--depth:${row.depth}">
          <button class="toggle" aria-expanded=${open ? 'true' : 'false'} @click=${() => this.#toggle(row.id)}>
            <span class="chev">${icons.expandMore}</span>
            <span class="folder">${icons.folder}</span>
            <span>${row.name}</span>
            <span class="muted">· ${row.services} ${row.services === 1 ? 'service' : 'services'}</span>
          </button>
        </span>
      </td>
      <td data-label="Status"></td>
      <td data-label="Health"></td>
      <td data-label="Instances" class="num">${row.running} / ${row.target}</td>
      <td data-label="CPUs" class="num"></td>
      <td data-label="Memory" class="num"></td>
      <td data-label="Version" class="num"></td>
    </tr>`;
  }

  #app(row: AppRow) {
    const s = row.service;
    const chip = serviceStatusChip(s.status);
    const now = this.now ?? this.#clock.now;
    return html`<tr class="row">
      <td class="title">
        <span class="name" style="--depth:${row.depth}">
          <a class="link" href=${serviceHref(s.id)} title=${s.id}>${row.name}</a>
        </span>
      </td>
      <td data-label="Status">
        <yg-state-chip tone=${chip.tone} token=${chip.token} title=${s.waiting ?? s.status}>${chip.label}</yg-state-chip>
      </td>
      <td data-label="Health" class="health">${health(s)}</td>
      <td data-label="Instances" class="num">${s.tasksRunning} / ${s.instances}</td>
      <td data-label="CPUs" class="num" title="per instance">${formatCpus(s.cpus)}</td>
      <td data-label="Memory" class="num" title="per instance">${formatMiB(s.mem)}</td>
      <td data-label="Version" class="num">${timeAgo(parseIso(s.version), now)}</td>
    </tr>`;
  }

  #toggle(id: string) {
    const next = new Set(this.collapsed);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.collapsed = next;
  }
}

/** "2 healthy", "1 healthy · 1 unhealthy", or "No checks" when the app has none. */
export function health(s: ServiceView) {
  if (!s.healthChecked) return html`<span class="muted">No checks</span>`;
  if (s.tasksRunning === 0) return html`<span class="muted">—</span>`;
  return html`<span>${s.tasksHealthy} healthy</span>${s.tasksUnhealthy > 0
      ? html` · <span class="bad">${s.tasksUnhealthy} unhealthy</span>`
      : nothing}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-service-table': YgServiceTable;
  }
}
