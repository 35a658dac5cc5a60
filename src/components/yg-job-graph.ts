import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { JobView } from '../../protocol/types.js';
import { memoize } from '../state/memo.js';
import { ClockController } from './clock-controller.js';
import { formatAgo } from './format.js';
import { jobHref, jobOutcome, lastRunAt } from './job-format.js';
import type { Tone } from './states.js';

export interface GraphNode {
  id: string;
  /** Undefined for a parent the dashboard does not know (yet). */
  job: JobView | undefined;
  layer: number;
  x: number;
  y: number;
  width: number;
  parents: string[];
  children: string[];
}

export interface GraphEdge {
  from: string;
  to: string;
  /** SVG path data from the parent's right edge to the child's left edge. */
  d: string;
}

export interface GraphLayout {
  orientation: GraphOrientation;
  nodeHeight: number;
  /** Node ids per layer, in drawing order (top to bottom). */
  layers: string[][];
  nodes: Map<string, GraphNode>;
  edges: GraphEdge[];
  width: number;
  height: number;
  /** Jobs in the set that neither depend on another nor have dependents (not drawn). */
  unconnected: number;
}

/** Left to right (layers are columns), or top to bottom (layers are rows) for narrow screens. */
export type GraphOrientation = 'horizontal' | 'vertical';

/** Node heights: two text lines across, three down (the outcome and its time apart). */
export const NODE_HEIGHT = { horizontal: 52, vertical: 66 } as const;
/** Between layers, and between nodes of one layer. */
const LAYER_GAP = { horizontal: 56, vertical: 40 } as const;
const NODE_GAP = 16;
const PAD = 8;
/** Average advance of a name character (13 px, medium) and of a state character (12 px). */
const CHAR = 7.4;
const SMALL_CHAR = 6.6;
/**
 * Across, wide enough for the longest state line ("succeeded 59 min ago"); down, the outcome and
 * its time take a line each, so nodes can be narrower. Names up to ~44 characters fit whole.
 */
const MIN_WIDTH = { horizontal: 176, vertical: 112 } as const;
const MAX_WIDTH = 360;
/** Text starts this far into a node, and keeps this much room at its end. */
const TEXT_X = 26;
const TEXT_END = 10;
const SWEEPS = 4;
/** Arrowhead length in px; edges stop this short of the child. */
const ARROW = 9;

/**
 * A layered drawing of the dependency DAG, parents left of children. A job's layer is its
 * longest path from a job without parents; within a layer, nodes are ordered by the mean
 * position of their neighbours (a few barycenter sweeps down and up), which removes most
 * crossings in the small graphs jobs make. With `focus`, only that job's ancestors and
 * descendants are drawn; otherwise every job that has a parent or a child.
 */
export function layoutJobGraph(jobs: readonly JobView[], focus?: string, orientation: GraphOrientation = 'horizontal'): GraphLayout {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const parentsOf = new Map<string, string[]>();
  const childrenOf = new Map<string, string[]>();
  const link = (map: Map<string, string[]>, key: string, value: string) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const job of jobs) {
    for (const parent of new Set(job.dependencies)) {
      if (parent === job.id) continue;
      link(parentsOf, job.id, parent);
      link(childrenOf, parent, job.id);
    }
  }

  let ids: string[];
  if (focus !== undefined) {
    const seen = new Set<string>([focus]);
    const walk = (from: string, next: Map<string, string[]>) => {
      for (const id of next.get(from) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        walk(id, next);
      }
    };
    walk(focus, parentsOf);
    walk(focus, childrenOf);
    ids = seen.size > 1 ? [...seen] : [];
  } else {
    ids = [...new Set([...parentsOf.keys(), ...childrenOf.keys()])];
  }
  const inSet = new Set(ids);
  const unconnected = focus === undefined ? jobs.filter((j) => !inSet.has(j.id)).length : 0;
  ids.sort();

  // Longest path from a root; a cycle (the master refuses them) is cut where it closes.
  const layerOf = new Map<string, number>();
  const visiting = new Set<string>();
  const layer = (id: string): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let l = 0;
    for (const p of parentsOf.get(id) ?? []) if (inSet.has(p)) l = Math.max(l, layer(p) + 1);
    visiting.delete(id);
    layerOf.set(id, l);
    return l;
  };
  const layers: string[][] = [];
  for (const id of ids) (layers[layer(id)] ??= []).push(id);
  for (let i = 0; i < layers.length; i++) layers[i] ??= [];

  const position = new Map<string, number>();
  const index = () => layers.forEach((row) => row.forEach((id, i) => position.set(id, i)));
  index();
  const mean = (neighbours: string[] | undefined, fallback: number): number => {
    const known = (neighbours ?? []).filter((n) => position.has(n) && inSet.has(n));
    return known.length ? known.reduce((sum, n) => sum + position.get(n)!, 0) / known.length : fallback;
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.map((_, i) => i).slice(1) : layers.map((_, i) => i).reverse().slice(1);
    for (const l of order) {
      const row = layers[l]!;
      const bary = new Map(row.map((id, i) => [id, mean(down ? parentsOf.get(id) : childrenOf.get(id), i)]));
      row.sort((a, b) => bary.get(a)! - bary.get(b)! || a.localeCompare(b));
      index();
    }
  }

  const across = orientation === 'horizontal';
  const nodeHeight = NODE_HEIGHT[orientation];
  const layerGap = LAYER_GAP[orientation];
  const need = (ids: string[]) =>
    Math.min(
      MAX_WIDTH,
      Math.max(MIN_WIDTH[orientation], Math.max(0, ...ids.map((id) => id.length)) * CHAR + TEXT_X + TEXT_END, (across ? 0 : longestWord(ids, byId)) * SMALL_CHAR + TEXT_X + TEXT_END),
    );
  // Across, each column is as wide as its longest name; down, all nodes share one width.
  const shared = across ? 0 : need(ids);
  const widths = layers.map((row) => (across ? need(row) : shared));
  const rowSpan = (row: string[]) => (across ? row.length * nodeHeight : row.length * shared) + Math.max(0, row.length - 1) * NODE_GAP;
  const widest = Math.max(0, ...layers.map(rowSpan));
  const nodes = new Map<string, GraphNode>();
  let along = PAD;
  layers.forEach((row, l) => {
    let offset = PAD + (widest - rowSpan(row)) / 2;
    for (const id of row) {
      nodes.set(id, {
        id,
        job: byId.get(id),
        layer: l,
        x: across ? along : offset,
        y: across ? offset : along,
        width: widths[l]!,
        parents: (parentsOf.get(id) ?? []).filter((p) => inSet.has(p)).sort(),
        children: (childrenOf.get(id) ?? []).filter((c) => inSet.has(c)).sort(),
      });
      offset += (across ? nodeHeight : shared) + NODE_GAP;
    }
    along += (across ? widths[l]! : nodeHeight) + layerGap;
  });
  const length = layers.length ? along - layerGap + PAD : 0;
  const breadth = layers.length ? widest + PAD * 2 : 0;
  const width = across ? length : breadth;
  const height = across ? breadth : length;

  const edges: GraphEdge[] = [];
  for (const node of nodes.values()) {
    for (const parent of node.parents) {
      const from = nodes.get(parent)!;
      if (across) {
        const x1 = from.x + from.width;
        const y1 = from.y + nodeHeight / 2;
        const x2 = node.x - ARROW - 1;
        const y2 = node.y + nodeHeight / 2;
        const bend = Math.max(24, (x2 - x1) / 2);
        edges.push({ from: parent, to: node.id, d: `M${x1} ${y1} C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}` });
      } else {
        const x1 = from.x + from.width / 2;
        const y1 = from.y + nodeHeight;
        const x2 = node.x + node.width / 2;
        const y2 = node.y - ARROW - 1;
        const bend = Math.max(16, (y2 - y1) / 2);
        edges.push({ from: parent, to: node.id, d: `M${x1} ${y1} C${x1} ${y1 + bend} ${x2} ${y2 - bend} ${x2} ${y2}` });
      }
    }
  }
  return { orientation, nodeHeight, layers, nodes, edges, width, height, unconnected };
}

/** The longest state word a node of these jobs may show, in characters ("10 min ago" is 10). */
function longestWord(ids: string[], byId: ReadonlyMap<string, JobView>): number {
  return Math.max(10, ...ids.map((id) => look(byId.get(id), 0).word.length));
}

type NodeTone = Extract<Tone, 'ok' | 'error' | 'pending' | 'neutral' | 'warn'>;

/** Colour and words for a node: running first, then how the last run ended, and when. */
function look(job: JobView | undefined, now: number): { tone: NodeTone; word: string; when: string; text: string } {
  const says = (tone: NodeTone, word: string, when = '') => ({ tone, word, when, text: when ? `${word} ${when}` : word });
  if (!job) return says('neutral', 'not known');
  if (job.status === 'running') return says('pending', job.activeRuns > 1 ? `${job.activeRuns} runs active` : 'running');
  if (job.waiting) return says('warn', 'waiting');
  const outcome = jobOutcome(job);
  const at = lastRunAt(job);
  const when = at !== undefined ? formatAgo(at, now) : '';
  if (outcome === 'Succeeded') return says('ok', 'succeeded', when);
  if (outcome === 'Failed') return says('error', 'failed', when);
  return says('neutral', job.disabled ? 'disabled' : 'never run');
}

function clip(text: string, width: number, char = CHAR): string {
  const max = Math.floor((width - TEXT_X - TEXT_END) / char);
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

function sentence(ids: string[]): string {
  return ids.length <= 1 ? (ids[0] ?? '') : `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`;
}

export interface JobOpenDetail {
  id: string;
}

/**
 * Jobs and the jobs they run after, as a layered drawing: each node links to its job and is
 * coloured by what it is doing or how its last run ended (the node says it in words too).
 * The same structure is there as a list for screen readers. A click on a node fires a
 * cancelable `yg-job-open`; when a page cancels it (to route itself), the link does not load.
 */
@customElement('yg-job-graph')
export class YgJobGraph extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 16px;
      margin: 0 0 8px;
      padding: 0;
      list-style: none;
      font-size: 0.75rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .legend li {
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
    .swatch {
      width: 12px;
      height: 12px;
      border-radius: 4px;
      border: 2px solid var(--_dot);
      background: var(--_fill);
      box-sizing: border-box;
    }
    .scroller {
      box-sizing: border-box;
      width: fit-content;
      max-width: 100%;
      overflow: auto;
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: var(--yg-radius, 12px);
      background: var(--yg-card-container, transparent);
      max-height: 70vh;
    }
    svg {
      display: block;
    }
    .edge {
      fill: none;
      stroke: var(--md-sys-color-outline, #73777f);
      stroke-width: 1.5;
    }
    .edge.near {
      stroke: var(--md-sys-color-primary, #36618e);
      stroke-width: 2.5;
    }
    marker path {
      fill: var(--md-sys-color-outline, #73777f);
    }
    marker.near path {
      fill: var(--md-sys-color-primary, #36618e);
    }
    .ok {
      --_fill: var(--yg-tone-ok-container, #c9ecc9);
      --_on: var(--yg-tone-ok-on-container, #0b3914);
      --_dot: var(--yg-tone-ok-dot, #2e7d32);
    }
    .error {
      --_fill: var(--yg-tone-error-container, #ffdad6);
      --_on: var(--yg-tone-error-on-container, #410002);
      --_dot: var(--yg-tone-error-dot, #ba1a1a);
    }
    .pending {
      --_fill: var(--yg-tone-pending-container, #d1e4ff);
      --_on: var(--yg-tone-pending-on-container, #001d36);
      --_dot: var(--yg-tone-pending-dot, #36618e);
    }
    .warn {
      --_fill: var(--yg-tone-warn-container, #ffe08b);
      --_on: var(--yg-tone-warn-on-container, #3a2c00);
      --_dot: var(--yg-tone-warn-dot, #a87c00);
    }
    .neutral {
      --_fill: var(--yg-tone-neutral-container, #e0e2e8);
      --_on: var(--yg-tone-neutral-on-container, #43474e);
      --_dot: var(--yg-tone-neutral-dot, #73777f);
    }
    .node rect.box {
      fill: var(--_fill);
      stroke: var(--_dot);
      stroke-width: 1.5;
    }
    .node.focus rect.box {
      stroke-width: 3;
    }
    .node rect.ring {
      fill: none;
      stroke: none;
      stroke-width: 2;
    }
    .node:focus {
      outline: none;
    }
    .node:focus-visible rect.ring,
    .node:hover rect.ring {
      stroke: var(--md-sys-color-primary, #36618e);
    }
    .node circle {
      fill: var(--_dot);
    }
    .node text {
      fill: var(--_on);
      font-size: 13px;
    }
    .node .name {
      font-weight: 500;
    }
    .node .state {
      font-size: 12px;
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }
    .empty {
      margin: 0;
      padding: 24px 16px;
      text-align: center;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: var(--yg-radius, 12px);
    }
    .empty strong {
      display: block;
      margin-bottom: 4px;
      font-weight: 500;
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .note {
      margin: 8px 0 0;
      font-size: 0.8125rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
  `;

  @property({ attribute: false }) jobs: readonly JobView[] = [];
  /** Draw only this job's ancestors and descendants, and mark it. */
  @property() around?: string;
  @property() label = 'Job dependencies';
  @property() emptyText = 'No job runs after another yet. Jobs with dependencies (Metronome) or parents (Chronos) appear here.';
  /** Fixed "now" for relative times (tests); the ticking clock when unset. */
  @property({ type: Number }) now?: number;

  /** The width the drawing may take; 0 until measured. */
  @state() private available = 0;

  readonly #clock = new ClockController(this, 10_000);
  readonly #across = memoize((jobs: readonly JobView[], around: string | undefined) => layoutJobGraph(jobs, around, 'horizontal'));
  readonly #down = memoize((jobs: readonly JobView[], around: string | undefined) => layoutJobGraph(jobs, around, 'vertical'));
  readonly #resize = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0]?.contentRect.width ?? 0);
    // After this delivery: re-drawing changes this element's height, which inside the observer's
    // own delivery would be a resize loop. A task, not a frame: a hidden tab gets no frames.
    if (width !== this.available) setTimeout(() => (this.available = width));
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.#resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize.disconnect();
  }

  /** The first width is read at once: observers only report at the next rendering, which a hidden tab never does. */
  override firstUpdated(): void {
    const width = Math.floor(this.getBoundingClientRect().width);
    if (width > 0 && width !== this.available) this.available = width;
  }

  /** Parents left of children while that fits; on a narrow screen, parents above children. */
  #layout(): GraphLayout {
    const across = this.#across(this.jobs, this.around);
    return this.available > 0 && across.width + 2 > this.available ? this.#down(this.jobs, this.around) : across;
  }

  override render() {
    const layout = this.#layout();
    if (layout.nodes.size === 0) return html`<p class="empty"><strong>No dependencies</strong>${this.emptyText}</p>`;
    const now = this.now ?? this.#clock.now;
    const near = (e: GraphEdge) => this.around !== undefined && (e.from === this.around || e.to === this.around);
    return html`
      <ul class="legend" aria-hidden="true">
        <li><span class="swatch ok"></span>Last run succeeded</li>
        <li><span class="swatch error"></span>Last run failed</li>
        <li><span class="swatch pending"></span>Running</li>
        <li><span class="swatch warn"></span>Waiting</li>
        <li><span class="swatch neutral"></span>Never run</li>
      </ul>
      <div class="scroller">
        <svg
          role="group"
          aria-label=${`${this.label}: ${layout.nodes.size} jobs, parents before children`}
          width=${layout.width}
          height=${layout.height}
          viewBox=${`0 0 ${layout.width} ${layout.height}`}
        >
          <defs aria-hidden="true">
            <marker id="arrow" viewBox="0 0 10 10" refX="0" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto">
              <path d="M0 0L10 5L0 10z"></path>
            </marker>
            <marker id="arrow-near" class="near" viewBox="0 0 10 10" refX="0" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto">
              <path d="M0 0L10 5L0 10z"></path>
            </marker>
          </defs>
          <g aria-hidden="true">
            ${repeat(
              layout.edges,
              (e) => `${e.from}>${e.to}`,
              (e) => svg`<path class=${near(e) ? 'edge near' : 'edge'} d=${e.d} marker-end=${near(e) ? 'url(#arrow-near)' : 'url(#arrow)'}></path>`,
            )}
          </g>
          ${repeat(
            [...layout.nodes.values()],
            (n) => n.id,
            (n) => this.#node(layout, n, now),
          )}
        </svg>
      </div>
      ${layout.unconnected > 0
        ? html`<p class="note">${layout.unconnected} ${layout.unconnected === 1 ? 'job neither depends on another nor has' : 'jobs neither depend on another nor have'} dependents; they are not drawn.</p>`
        : nothing}
      <ol class="visually-hidden" aria-label=${`${this.label} as a list, parents first`}>
        ${layout.layers.flat().map((id) => {
          const n = layout.nodes.get(id)!;
          const state = look(n.job, now).text;
          return html`<li>
            ${id}${id === this.around ? ' (this job)' : ''}: ${state}.
            ${n.parents.length ? `Runs after ${sentence(n.parents)}.` : 'Runs first.'}
            ${n.children.length ? `Then ${sentence(n.children)} ${n.children.length === 1 ? 'runs' : 'run'}.` : ''}
          </li>`;
        })}
      </ol>
    `;
  }

  #node(layout: GraphLayout, n: GraphNode, now: number) {
    const { tone, text, word, when } = look(n.job, now);
    const h = layout.nodeHeight;
    const lines = layout.orientation === 'horizontal' ? [text] : when ? [word, when] : [word];
    const mine = n.id === this.around;
    const label = `${n.id}${mine ? ' (this job)' : ''}: ${text}${n.parents.length ? `, runs after ${sentence(n.parents)}` : ''}`;
    return svg`<a
      class=${`node ${tone}${mine ? ' focus' : ''}`}
      href=${jobHref(n.id)}
      aria-label=${label}
      aria-current=${mine ? 'page' : 'false'}
      @click=${(event: MouseEvent) => this.#open(event, n.id)}
    >
      <title>${label}</title>
      <rect class="ring" x=${n.x - 3} y=${n.y - 3} width=${n.width + 6} height=${h + 6} rx="13"></rect>
      <rect class="box" x=${n.x} y=${n.y} width=${n.width} height=${h} rx="10"></rect>
      <circle cx=${n.x + 14} cy=${n.y + 18} r="4"></circle>
      <text>
        <tspan class="name" x=${n.x + TEXT_X} y=${n.y + 22}>${clip(n.id, n.width)}</tspan>
        ${lines.map((line, i) => svg` <tspan class="state" x=${n.x + TEXT_X} y=${n.y + 40 + i * 16}>${clip(line, n.width, SMALL_CHAR)}</tspan>`)}
      </text>
    </a>`;
  }

  #open(event: MouseEvent, id: string) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const open = new CustomEvent<JobOpenDetail>('yg-job-open', { detail: { id }, bubbles: true, composed: true, cancelable: true });
    if (!this.dispatchEvent(open)) event.preventDefault();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-job-graph': YgJobGraph;
  }
  interface GlobalEventHandlersEventMap {
    'yg-job-open': CustomEvent<JobOpenDetail>;
  }
}
