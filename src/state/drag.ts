// Drag-and-drop launch: where a package can be deployed (the cluster, a node, a region), whether
// it fits there, and the one drag in progress. Pointer events carry every kind of drag (mouse,
// pen, touch with a long press or a handle): drop targets register their elements here, so a
// drag can find a target in any shadow root of the page, and they are told how to look (a
// `data-drop` attribute on every target while a drag runs, `data-drop-over` on the one under
// the pointer). The keyboard's way is the "Deploy to…" menu, which asks the same questions.
import { nothing } from 'lit';
import type { ElementPart } from 'lit';
import { AsyncDirective } from 'lit/async-directive.js';
import { PartType, directive } from 'lit/directive.js';
import type { PartInfo } from 'lit/directive.js';
import type { AgentView } from '../../protocol/types.js';
import type { PackageSummary } from '../data/catalog.js';
import { compareHostnames } from './labels.js';
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

// --- targets and verdicts (pure) --------------------------------------------------------------

export type DeployTarget =
  | { kind: 'services' }
  | { kind: 'node'; agentId: string; hostname: string }
  | { kind: 'region'; region: string };

/** What one instance of a package takes, and how many it starts: read from a render. */
export interface Requirements {
  cpus: number;
  mem: number;
  instances: number;
}

export interface Verdict {
  ok: boolean;
  /** "Deploy on node-1", or why not: "node-1 is drained: it takes no new tasks". */
  text: string;
}

/** The Marathon constraints that pin a package to a target (sent with the install). */
export function constraintsFor(target: DeployTarget): string[][] {
  switch (target.kind) {
    case 'node':
      return [['hostname', 'CLUSTER', target.hostname]];
    case 'region':
      return [['region', 'CLUSTER', target.region]];
    default:
      return [];
  }
}

export function targetText(target: DeployTarget): string {
  switch (target.kind) {
    case 'node':
      return `on node ${target.hostname}`;
    case 'region':
      return `in region ${target.region}`;
    default:
      return 'on any node';
  }
}

export const targetKey = (target: DeployTarget): string =>
  target.kind === 'node' ? `node:${target.agentId}` : target.kind === 'region' ? `region:${target.region}` : 'services';

/** The rendered Marathon app's per-instance resources; Marathon's defaults where it says none. */
export function requirementsOf(marathonJson: Record<string, unknown> | undefined): Requirements | undefined {
  if (!marathonJson) return undefined;
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback);
  return { cpus: num(marathonJson.cpus, 1), mem: num(marathonJson.mem, 128), instances: num(marathonJson.instances, 1) };
}

/** Agents' `region` attribute values, sorted. */
export function regionsOf(agents: Iterable<AgentView>): string[] {
  const regions = new Set<string>();
  for (const agent of agents) if (agent.attributes.region && agent.state !== 'GONE') regions.add(agent.attributes.region);
  return [...regions].sort((a, b) => a.localeCompare(b));
}

const STATE_REASONS: Record<Exclude<AgentView['state'], 'ACTIVE'>, string> = {
  DRAINING: 'is draining: it takes no new tasks',
  DRAINED: 'is drained: it takes no new tasks',
  UNREACHABLE: 'is unreachable: the master cannot launch anything there',
  GONE: 'is gone from the cluster',
};

const cpus = (n: number) => `${Number(n.toFixed(2))} ${n === 1 ? 'CPU' : 'CPUs'}`;
const mib = (n: number) => `${Math.round(n)} MiB`;
const free = (agent: AgentView) => ({ cpus: agent.resources.cpus - agent.allocated.cpus, mem: agent.resources.mem - agent.allocated.mem });
const fits = (agent: AgentView, cpu: number, mem: number) => {
  const f = free(agent);
  // Allocations are sums of decimals: a hair of rounding must not refuse an exact fit.
  return f.cpus + 1e-9 >= cpu && f.mem + 1e-9 >= mem;
};

/**
 * May `pkg` go to `target`? A node must be ACTIVE and have room for all instances (they all
 * land on it); a region needs an active node, one with room for an instance, and room for all
 * of them together. Without requirements yet, only the states are judged.
 */
export function judgeTarget(target: DeployTarget, agents: Iterable<AgentView>, pkgName: string, req?: Requirements): Verdict {
  const deploy = `Deploy ${pkgName} ${targetText(target)}`;
  if (target.kind === 'services') return { ok: true, text: deploy };
  const list = [...agents];
  if (target.kind === 'node') {
    const agent = list.find((a) => a.id === target.agentId);
    if (!agent) return { ok: false, text: `${target.hostname} is no longer part of the cluster` };
    if (agent.state !== 'ACTIVE') return { ok: false, text: `${agent.hostname} ${STATE_REASONS[agent.state]}` };
    if (!req) return { ok: true, text: deploy };
    const n = Math.max(1, req.instances);
    if (!fits(agent, req.cpus * n, req.mem * n)) {
      const f = free(agent);
      return {
        ok: false,
        text: `${agent.hostname} has no room: ${pkgName} needs ${cpus(req.cpus * n)} and ${mib(req.mem * n)}${n > 1 ? ` for ${n} instances` : ''}, ${cpus(Math.max(0, f.cpus))} and ${mib(Math.max(0, f.mem))} are free`,
      };
    }
    return { ok: true, text: deploy };
  }
  const inRegion = list.filter((a) => a.attributes.region === target.region);
  const active = inRegion.filter((a) => a.state === 'ACTIVE');
  if (active.length === 0) {
    return { ok: false, text: inRegion.length ? `No node in region ${target.region} is active` : `No node is in region ${target.region}` };
  }
  if (!req) return { ok: true, text: deploy };
  const n = Math.max(1, req.instances);
  const room = active.reduce((sum, a) => sum + Math.min(Math.floor((free(a).cpus + 1e-9) / (req.cpus || Infinity)), Math.floor((free(a).mem + 1e-9) / (req.mem || Infinity))), 0);
  if (room < n) {
    return {
      ok: false,
      text: `Region ${target.region} has no room: ${pkgName} needs ${cpus(req.cpus)} and ${mib(req.mem)} per instance${n > 1 ? ` for ${n} instances` : ''}, and its active nodes have room for ${room}`,
    };
  }
  return { ok: true, text: deploy };
}

/** One entry of a "Deploy to…" menu. */
export interface DeployOption {
  target: DeployTarget;
  label: string;
  verdict: Verdict;
}

/** Anywhere, then each node that is not gone (by hostname), then each region. */
export function deployOptions(agents: Iterable<AgentView>, pkgName: string, req?: Requirements): DeployOption[] {
  const list = [...agents].filter((a) => a.state !== 'GONE').sort((a, b) => compareHostnames(a.hostname, b.hostname));
  const targets: Array<[DeployTarget, string]> = [
    [{ kind: 'services' }, 'Any node'],
    ...list.map((a): [DeployTarget, string] => [{ kind: 'node', agentId: a.id, hostname: a.hostname }, `Node ${a.hostname}`]),
    ...regionsOf(list).map((region): [DeployTarget, string] => [{ kind: 'region', region }, `Region ${region}`]),
  ];
  return targets.map(([target, label]) => ({ target, label, verdict: judgeTarget(target, list, pkgName, req) }));
}

/** `hello-world` taken → `hello-world-node-1`, then `hello-world-node-1-2`…: a free Marathon app id. */
export function freeAppName(base: string, taken: ReadonlySet<string>, target: DeployTarget): string {
  const norm = (id: string) => id.replace(/^\/+/, '');
  const used = new Set([...taken].map(norm));
  if (!used.has(norm(base))) return base;
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40);
  const suffix = target.kind === 'node' ? slug(target.hostname) : target.kind === 'region' ? slug(target.region) : '';
  const stem = suffix ? `${base}-${suffix}` : base;
  if (suffix && !used.has(norm(stem))) return stem;
  for (let i = 2; ; i++) if (!used.has(norm(`${stem}-${i}`))) return `${stem}-${i}`;
}

// --- requirements, shared between the views that ask for them ----------------------------------

/** Requirements per `name@version`, filled by whoever rendered the package (the launcher). */
export const deployRequirements = new Writable<ReadonlyMap<string, Requirements>>(new Map());
export const requirementsKey = (pkg: Pick<PackageSummary, 'name' | 'currentVersion'>) => `${pkg.name}@${pkg.currentVersion}`;

// --- drop targets -----------------------------------------------------------------------------

interface DropEntry {
  el: HTMLElement | SVGElement;
  target: DeployTarget;
}

const entries = new Set<DropEntry>();

/** Makes `el` a drop target for `target` until the returned function is called. */
export function registerDropTarget(el: HTMLElement | SVGElement, target: DeployTarget): () => void {
  const entry: DropEntry = { el, target };
  entries.add(entry);
  const session = drag.value;
  if (session) paint(session);
  return () => {
    entries.delete(entry);
    delete el.dataset.drop;
    delete el.dataset.dropOver;
  };
}

class DropTargetDirective extends AsyncDirective {
  #el: HTMLElement | undefined;
  #target: DeployTarget | undefined;
  #key = '';
  #unregister: (() => void) | undefined;

  constructor(part: PartInfo) {
    super(part);
    if (part.type !== PartType.ELEMENT) throw new Error('dropTarget() goes on an element');
  }

  render(_target: DeployTarget) {
    return nothing;
  }

  override update(part: ElementPart, [target]: [DeployTarget]) {
    const el = part.element as HTMLElement;
    const key = `${targetKey(target)}|${target.kind === 'node' ? target.hostname : ''}`;
    if (el !== this.#el || key !== this.#key || !this.#unregister) {
      this.#unregister?.();
      this.#el = el;
      this.#key = key;
      this.#target = target;
      this.#unregister = this.isConnected ? registerDropTarget(el, target) : undefined;
    }
    return nothing;
  }

  protected override disconnected() {
    this.#unregister?.();
    this.#unregister = undefined;
  }

  protected override reconnected() {
    if (this.#el && this.#target) this.#unregister = registerDropTarget(this.#el, this.#target);
  }
}

/** `<tr ${dropTarget({kind: 'node', …})}>`: the element takes drops while it is rendered. */
export const dropTarget = directive(DropTargetDirective);

// --- the drag in progress ---------------------------------------------------------------------

export interface DragSession {
  pkg: PackageSummary;
  x: number;
  y: number;
  /** The target under the pointer, and what dropping there would do. */
  over?: { target: DeployTarget; verdict: Verdict };
}

export interface DragOptions {
  /** Judges a target; called again on every move, so it sees live state and new requirements. */
  judge: (target: DeployTarget) => Verdict;
  /** Released over a target (allowed or not: the caller says why not). */
  onDrop: (target: DeployTarget, verdict: Verdict) => void;
}

const drag = new Writable<DragSession | null>(null);
/** The drag in progress, or null. */
export const dragSession: Readable<DragSession | null> = drag;

let options: DragOptions | undefined;
let ghost: HTMLElement | undefined;
let scrollFrame = 0;

function hit(x: number, y: number): DropEntry | undefined {
  let best: DropEntry | undefined;
  let bestArea = Infinity;
  for (const entry of entries) {
    if (!entry.el.isConnected) continue;
    const r = entry.el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || x < r.left || x > r.right || y < r.top || y > r.bottom) continue;
    // The innermost target wins: a node's marker over the map, a row over its table.
    const area = r.width * r.height;
    if (area < bestArea) {
      best = entry;
      bestArea = area;
    }
  }
  return best;
}

function paint(session: DragSession) {
  const judge = options?.judge;
  for (const entry of entries) {
    const verdict = judge?.(entry.target);
    entry.el.dataset.drop = verdict?.ok === false ? 'blocked' : 'ok';
    const over = session.over && targetKey(session.over.target) === targetKey(entry.target);
    if (over) entry.el.dataset.dropOver = session.over!.verdict.ok ? 'ok' : 'blocked';
    else delete entry.el.dataset.dropOver;
  }
  if (ghost) {
    const over = session.over;
    ghost.dataset.state = over ? (over.verdict.ok ? 'ok' : 'blocked') : 'none';
    const status = ghost.querySelector('.status')!;
    const text = over ? over.verdict.text : `Drop ${session.pkg.name} on a node, a region or the services list`;
    if (status.textContent !== text) status.textContent = text;
    // Beside the pointer, on the side where it fits in the window.
    const [w, h] = [ghost.offsetWidth, ghost.offsetHeight];
    let x = session.x + 14;
    let y = session.y + 14;
    if (x + w > innerWidth - 8) x = Math.max(8, Math.min(session.x - 14 - w, innerWidth - 8 - w));
    if (y + h > innerHeight - 8) y = Math.max(8, session.y - 14 - h);
    ghost.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }
}

function makeGhost(pkg: PackageSummary): HTMLElement {
  const el = document.createElement('div');
  el.className = 'yg-drag-ghost';
  // Outside every shadow root: styled inline, from the theme's custom properties on :root.
  el.style.cssText = [
    'position:fixed',
    'left:0',
    'top:0',
    'z-index:2147483647',
    'pointer-events:none',
    'max-width:min(22rem,calc(100vw - 24px))',
    'padding:8px 12px',
    'border-radius:12px',
    'box-shadow:0 4px 12px rgb(0 0 0 / 0.3)',
    'font:500 0.875rem/1.25rem var(--yg-font, sans-serif)',
    'background:var(--md-sys-color-inverse-surface, #2e3135)',
    'color:var(--md-sys-color-inverse-on-surface, #eff0f7)',
  ].join(';');
  const name = document.createElement('div');
  name.className = 'name';
  name.textContent = pkg.name;
  const status = document.createElement('div');
  status.className = 'status';
  status.setAttribute('role', 'status');
  status.style.cssText = 'font-weight:400;font-size:0.8125rem;overflow-wrap:anywhere';
  el.append(name, status);
  const style = document.createElement('style');
  style.textContent =
    '.yg-drag-ghost[data-state="blocked"]{background:var(--md-sys-color-error-container,#ffdad6)!important;color:var(--md-sys-color-on-error-container,#410002)!important}' +
    '.yg-drag-ghost[data-state="ok"]{background:var(--md-sys-color-primary-container,#d1e4ff)!important;color:var(--md-sys-color-on-primary-container,#001d36)!important}';
  el.append(style);
  return el;
}

function autoScroll() {
  cancelAnimationFrame(scrollFrame);
  const session = drag.value;
  if (!session) return;
  const edge = 48;
  const dy = session.y < edge ? -(edge - session.y) / 3 : session.y > innerHeight - edge ? (session.y - (innerHeight - edge)) / 3 : 0;
  if (dy === 0) return;
  scrollBy(0, dy);
  moveDrag(session.x, session.y);
  scrollFrame = requestAnimationFrame(autoScroll);
}

/** Starts a drag of `pkg` at (x, y). Only one at a time: a new one replaces the old. */
export function beginDrag(pkg: PackageSummary, x: number, y: number, dragOptions: DragOptions): void {
  cancelDrag();
  options = dragOptions;
  ghost = makeGhost(pkg);
  document.body.append(ghost);
  document.documentElement.style.cursor = 'grabbing';
  const session: DragSession = { pkg, x, y };
  drag.set(session);
  moveDrag(x, y);
}

export function moveDrag(x: number, y: number): void {
  const session = drag.value;
  if (!session || !options) return;
  const entry = hit(x, y);
  const next: DragSession = { ...session, x, y, ...(entry ? { over: { target: entry.target, verdict: options.judge(entry.target) } } : {}) };
  drag.set(next);
  paint(next);
  if (y < 48 || y > innerHeight - 48) {
    cancelAnimationFrame(scrollFrame);
    scrollFrame = requestAnimationFrame(autoScroll);
  }
}

/** Re-judges the targets (new requirements, a node changed state) without a move. */
export function refreshDrag(): void {
  const session = drag.value;
  if (session) moveDrag(session.x, session.y);
}

/** Ends the drag at (x, y): a drop on the target there, if any. */
export function endDrag(x: number, y: number): void {
  const session = drag.value;
  const current = options;
  if (!session || !current) return;
  moveDrag(x, y);
  const over = drag.value?.over;
  cancelDrag();
  if (over) current.onDrop(over.target, current.judge(over.target));
}

export function cancelDrag(): void {
  cancelAnimationFrame(scrollFrame);
  ghost?.remove();
  ghost = undefined;
  options = undefined;
  document.documentElement.style.cursor = '';
  for (const entry of entries) {
    delete entry.el.dataset.drop;
    delete entry.el.dataset.dropOver;
  }
  drag.set(null);
}

// --- the gesture on a drag source -------------------------------------------------------------

/** Mouse and pen: a drag starts after the pointer moved this far with the button down. */
const MOVE_THRESHOLD = 6;
/** Touch: a press held this long without moving starts a drag (elsewhere the finger scrolls). */
export const LONG_PRESS_MS = 450;
const TOUCH_SLOP = 10;

export interface GestureOptions {
  /** The drag began (threshold passed or long press): return false to let it go. */
  start: (x: number, y: number) => boolean;
}

/**
 * Watches one pointer press on `source` and turns it into a drag: mouse and pen after a small
 * move, touch after a long press, or at once when the press began on a `[data-drag-handle]`
 * (which should have `touch-action: none`). Presses on `[data-no-drag]` are left alone. A click
 * that ends a drag is swallowed, so the tile's link does not open. Escape cancels.
 */
export function watchPress(source: HTMLElement, event: PointerEvent, gesture: GestureOptions): void {
  if (event.button !== 0 || !event.isPrimary) return;
  const path = event.composedPath();
  if (path.some((n) => n instanceof Element && n.hasAttribute('data-no-drag'))) return;
  const onHandle = path.some((n) => n instanceof Element && n.hasAttribute('data-drag-handle'));
  const touch = event.pointerType === 'touch';
  const startX = event.clientX;
  const startY = event.clientY;
  const id = event.pointerId;
  let active = false;
  let timer = 0;

  const activate = (x: number, y: number) => {
    if (active) return;
    if (!gesture.start(x, y)) {
      stop();
      return;
    }
    active = true;
    try {
      source.setPointerCapture(id);
    } catch {
      // the pointer is gone already
    }
    // A long press that became a drag is felt, where the device can.
    if (touch) navigator.vibrate?.(10);
  };
  const onMove = (e: PointerEvent) => {
    if (e.pointerId !== id) return;
    if (!active) {
      const far = Math.hypot(e.clientX - startX, e.clientY - startY);
      if (touch) {
        // A finger that moves before the long press is scrolling.
        if (far > TOUCH_SLOP) stop();
        return;
      }
      if (far < MOVE_THRESHOLD) return;
      activate(e.clientX, e.clientY);
      if (!active) return;
    }
    e.preventDefault();
    moveDrag(e.clientX, e.clientY);
  };
  const onUp = (e: PointerEvent) => {
    if (e.pointerId !== id) return;
    const was = active;
    stop();
    if (was) {
      swallowClick();
      endDrag(e.clientX, e.clientY);
    }
  };
  const onCancel = (e: PointerEvent) => {
    if (e.pointerId !== id) return;
    const was = active;
    stop();
    if (was) cancelDrag();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'Escape') return;
    const was = active;
    stop();
    if (was) {
      e.preventDefault();
      cancelDrag();
    }
  };
  // While dragging by touch, the page must not scroll: listened on the source, not passive,
  // so the browser sends the moves here before it would pan.
  const onTouchMove = (e: TouchEvent) => {
    if (active && e.cancelable) e.preventDefault();
  };
  const onContextMenu = (e: Event) => e.preventDefault();

  function stop() {
    clearTimeout(timer);
    source.removeEventListener('touchmove', onTouchMove);
    source.removeEventListener('contextmenu', onContextMenu);
    window.removeEventListener('pointermove', onMove);
    window.removeEventListener('pointerup', onUp);
    window.removeEventListener('pointercancel', onCancel);
    window.removeEventListener('keydown', onKey, true);
    try {
      if (source.hasPointerCapture(id)) source.releasePointerCapture(id);
    } catch {
      // released already
    }
  }

  source.addEventListener('touchmove', onTouchMove, { passive: false });
  source.addEventListener('contextmenu', onContextMenu);
  // On the window: before the capture (the mouse's threshold) moves arrive at whatever is under
  // the pointer, and captured ones bubble up to it as well.
  window.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);
  window.addEventListener('pointercancel', onCancel);
  window.addEventListener('keydown', onKey, true);
  if (touch) {
    if (onHandle) activate(startX, startY);
    else timer = window.setTimeout(() => activate(startX, startY), LONG_PRESS_MS);
  }
}

/**
 * A drag by touch must not scroll the page. The listener has to be in place before the finger
 * touches (the browser decides at touchstart whether moves may block scrolling), so a drag
 * source's container keeps this one for its whole life. Returns the remover.
 */
export function holdScrollWhileDragging(el: HTMLElement): () => void {
  const onTouchMove = (e: TouchEvent) => {
    if (drag.value && e.cancelable) e.preventDefault();
  };
  el.addEventListener('touchmove', onTouchMove, { passive: false });
  return () => el.removeEventListener('touchmove', onTouchMove);
}

/** The click that follows a pointer-up after a drag would open the tile's link: eat it. */
function swallowClick() {
  const eat = (e: Event) => {
    e.preventDefault();
    e.stopPropagation();
  };
  window.addEventListener('click', eat, { capture: true, once: true });
  setTimeout(() => window.removeEventListener('click', eat, { capture: true }), 0);
}
