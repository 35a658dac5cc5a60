import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import * as L from 'leaflet/dist/leaflet-src.esm.js';
import type { AgentState, AgentView } from '../../protocol/types.js';
import { nodeHref } from '../state/activity.js';
import { compareHostnames } from '../state/labels.js';
import { dragSession, registerDropTarget } from '../state/drag.js';
import { validTileUrl } from '../state/settings.js';
import { leafletStyles } from './leaflet-styles.js';
import { regionCoordinates } from './region-coordinates.js';

/** A marker: the nodes of one zone (or of one region without zones, or at one spot). */
export interface NodeGroup {
  key: string;
  /** Zone name, else region, else the first hostname. */
  label: string;
  region?: string;
  zone?: string;
  lat: number;
  lon: number;
  /** Placed by the region table (no node of the group has its own lat/lon). */
  fromTable: boolean;
  agents: AgentView[];
  counts: Map<AgentState, number>;
}

export const MAP_STATES: readonly AgentState[] = ['ACTIVE', 'DRAINING', 'DRAINED', 'UNREACHABLE', 'GONE'];
const STATE_TONE: Record<AgentState, string> = {
  ACTIVE: 'ok',
  DRAINING: 'warn',
  DRAINED: 'neutral',
  UNREACHABLE: 'lost',
  GONE: 'neutral',
};
const STATE_WORD: Record<AgentState, string> = {
  ACTIVE: 'active',
  DRAINING: 'draining',
  DRAINED: 'drained',
  UNREACHABLE: 'unreachable',
  GONE: 'gone',
};

function coordinate(attributes: Record<string, string>, ...names: string[]): number | undefined {
  for (const name of names) {
    const raw = attributes[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

/** A node's own position from its `lat`/`lon` (or `latitude`/`longitude`) attributes. */
export function ownPosition(agent: AgentView): [number, number] | undefined {
  const lat = coordinate(agent.attributes, 'lat', 'latitude');
  const lon = coordinate(agent.attributes, 'lon', 'lng', 'longitude');
  if (lat === undefined || lon === undefined || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return [lat, lon];
}

/**
 * Groups agents per zone (per region when they have no zone, per spot when neither) and
 * places each group: at the mean of its nodes' own coordinates, else at its region's from the
 * built-in table. Agents that can be placed neither way are `unplaced`.
 */
export function groupNodes(agents: Iterable<AgentView>): { groups: NodeGroup[]; unplaced: AgentView[] } {
  const byKey = new Map<string, { agents: AgentView[]; region?: string; zone?: string }>();
  const unplaced: AgentView[] = [];
  for (const agent of agents) {
    const region = agent.attributes.region || undefined;
    const zone = agent.attributes.zone || undefined;
    const own = ownPosition(agent);
    if (!own && !regionCoordinates(region)) {
      unplaced.push(agent);
      continue;
    }
    const key = zone ? `zone:${region ?? ''}/${zone}` : region ? `region:${region}` : `at:${own![0].toFixed(2)},${own![1].toFixed(2)}`;
    const entry = byKey.get(key) ?? { agents: [], ...(region ? { region } : {}), ...(zone ? { zone } : {}) };
    entry.agents.push(agent);
    byKey.set(key, entry);
  }
  const groups: NodeGroup[] = [];
  for (const [key, entry] of byKey) {
    const own = entry.agents.map(ownPosition).filter((p): p is [number, number] => !!p);
    const table = regionCoordinates(entry.region);
    const [lat, lon] = own.length ? [mean(own.map((p) => p[0])), mean(own.map((p) => p[1]))] : table ? [table[0], table[1]] : [NaN, NaN];
    if (!Number.isFinite(lat)) {
      unplaced.push(...entry.agents);
      continue;
    }
    const counts = new Map<AgentState, number>();
    for (const a of entry.agents) counts.set(a.state, (counts.get(a.state) ?? 0) + 1);
    const sorted = [...entry.agents].sort((a, b) => compareHostnames(a.hostname, b.hostname));
    groups.push({
      key,
      label: entry.zone ?? entry.region ?? sorted[0]!.hostname,
      ...(entry.region ? { region: entry.region } : {}),
      ...(entry.zone ? { zone: entry.zone } : {}),
      lat,
      lon,
      fromTable: own.length === 0,
      agents: sorted,
      counts,
    });
  }
  groups.sort((a, b) => a.label.localeCompare(b.label) || a.key.localeCompare(b.key));
  return { groups, unplaced: unplaced.sort((a, b) => compareHostnames(a.hostname, b.hostname)) };
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** "3 nodes: 2 active, 1 draining". */
export function groupSummary(group: Pick<NodeGroup, 'agents' | 'counts'>): string {
  const n = group.agents.length;
  return `${n} ${n === 1 ? 'node' : 'nodes'}: ${stateSummary(group.counts)}`;
}

/** "1 active, 1 draining". */
export function stateSummary(counts: ReadonlyMap<AgentState, number>): string {
  return MAP_STATES.filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${STATE_WORD[s]}`).join(', ');
}

/** The ring around a marker: one arc per state, as long as its share. */
function ring(counts: Map<AgentState, number>, total: number): string {
  let at = 0;
  const stops: string[] = [];
  for (const s of MAP_STATES) {
    const n = counts.get(s) ?? 0;
    if (!n) continue;
    const from = (at / total) * 360;
    at += n;
    const to = (at / total) * 360;
    stops.push(`var(--yg-tone-${STATE_TONE[s]}-dot) ${from}deg ${to}deg`);
  }
  return `conic-gradient(${stops.join(', ')})`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The nodes on a world map (Leaflet, inside this shadow root): one marker per zone with the
 * number of nodes and a ring of their states' colours; a click opens the node, or a list of the
 * zone's nodes. Nodes are placed by their `lat`/`lon` attributes or their region's place in a
 * built-in table. The base map is bundled world outlines (Natural Earth), so it works offline
 * and asks no server; `tileUrl` puts a tile layer under the markers instead. While a package
 * is dragged, each region shows a drop zone (region:CLUSTER). Properties: `agents`, `tileUrl`.
 * Event: `yg-node-open` ({id}; the page navigates).
 */
@customElement('yg-node-map')
export class YgNodeMap extends LitElement {
  static override styles = [
    leafletStyles,
    css`
      :host {
        display: block;
        font-family: var(--yg-font, sans-serif);
        color: var(--md-sys-color-on-surface, #191c20);
      }
      .map {
        height: clamp(320px, 62vh, 640px);
        border-radius: var(--yg-radius, 12px);
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        overflow: hidden;
        background: var(--md-sys-color-surface-container-low, #f2f3fa);
        font: inherit;
      }
      .map:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
        outline-offset: 2px;
      }
      .land {
        fill: var(--md-sys-color-surface-container-highest, #e0e2e8);
        fill-opacity: 1;
        stroke: var(--md-sys-color-outline-variant, #c3c7cf);
        stroke-width: 0.75;
      }
      .leaflet-container a {
        color: var(--md-sys-color-primary, #36618e);
      }
      .leaflet-control-attribution {
        background: color-mix(in srgb, var(--md-sys-color-surface, #f8f9ff) 85%, transparent) !important;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .leaflet-bar a {
        background: var(--md-sys-color-surface-container-high, #e6e8ee);
        color: var(--md-sys-color-on-surface, #191c20);
        border-bottom-color: var(--md-sys-color-outline-variant, #c3c7cf);
        width: 36px;
        height: 36px;
        line-height: 36px;
      }
      .leaflet-bar a:hover,
      .leaflet-bar a:focus {
        background: var(--md-sys-color-surface-container-highest, #e0e2e8);
        color: var(--md-sys-color-on-surface, #191c20);
      }
      .leaflet-bar a.leaflet-disabled {
        background: var(--md-sys-color-surface-container, #eceef4);
        color: var(--md-sys-color-outline, #73777f);
      }
      .leaflet-bar {
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf) !important;
        box-shadow: none !important;
      }
      .yg-zone {
        background: none;
        border: 0;
      }
      .yg-zone .dot {
        box-sizing: border-box;
        width: 44px;
        height: 44px;
        border-radius: 50%;
        display: grid;
        place-items: center;
        box-shadow: 0 1px 4px rgb(0 0 0 / 0.35);
      }
      .yg-zone .count {
        width: 30px;
        height: 30px;
        border-radius: 50%;
        background: var(--md-sys-color-surface, #f8f9ff);
        color: var(--md-sys-color-on-surface, #191c20);
        font: 600 0.8125rem/30px var(--yg-font, sans-serif);
        text-align: center;
      }
      .yg-zone .label {
        position: absolute;
        top: 46px;
        left: 50%;
        transform: translateX(-50%);
        white-space: nowrap;
        padding: 0 6px;
        border-radius: 6px;
        font: 500 0.75rem/1.125rem var(--yg-font, sans-serif);
        background: color-mix(in srgb, var(--md-sys-color-surface, #f8f9ff) 88%, transparent);
        color: var(--md-sys-color-on-surface, #191c20);
      }
      .yg-zone:focus-visible {
        outline: none;
      }
      .yg-zone:focus-visible .dot {
        outline: 3px solid var(--md-sys-color-primary, #36618e);
        outline-offset: 2px;
      }
      .yg-region {
        display: none;
        background: none;
        border: 0;
      }
      .dragging .yg-region {
        display: block;
        box-sizing: border-box;
        border-radius: 50%;
        border: 2px dashed var(--md-sys-color-primary, #36618e);
        background: color-mix(in srgb, var(--md-sys-color-primary-container, #d1e4ff) 35%, transparent);
      }
      /* The region's name sits above its circle, clear of the zones' labels inside. */
      .yg-region span {
        position: absolute;
        bottom: calc(100% + 4px);
        left: 50%;
        transform: translateX(-50%);
        padding: 0 6px;
        border-radius: 6px;
        font: 500 0.75rem/1.125rem var(--yg-font, sans-serif);
        background: var(--md-sys-color-surface, #f8f9ff);
        color: var(--md-sys-color-on-surface, #191c20);
        white-space: nowrap;
      }
      .yg-region[data-drop='blocked'] {
        border-color: var(--md-sys-color-outline, #73777f);
        background: color-mix(in srgb, var(--md-sys-color-surface-container-highest, #e0e2e8) 45%, transparent);
      }
      .yg-region[data-drop-over='ok'] {
        border-style: solid;
        background: color-mix(in srgb, var(--md-sys-color-primary-container, #d1e4ff) 75%, transparent);
      }
      .yg-region[data-drop-over='blocked'] {
        border-style: solid;
        border-color: var(--md-sys-color-error, #ba1a1a);
        background: color-mix(in srgb, var(--md-sys-color-error-container, #ffdad6) 75%, transparent);
      }
      .leaflet-popup-content-wrapper,
      .leaflet-popup-tip {
        background: var(--md-sys-color-surface-container-high, #e6e8ee);
        color: var(--md-sys-color-on-surface, #191c20);
      }
      .leaflet-popup-content {
        font: 0.875rem/1.25rem var(--yg-font, sans-serif);
        margin: 12px 16px;
      }
      .leaflet-popup-content h3 {
        margin: 0 0 6px;
        font-size: 0.875rem;
        font-weight: 500;
      }
      .leaflet-popup-content ul {
        margin: 0;
        padding: 0;
        list-style: none;
        display: grid;
        gap: 4px;
      }
      .leaflet-popup-content .state {
        color: var(--md-sys-color-on-surface-variant, #43474e);
        font-size: 0.75rem;
      }
      .leaflet-container a.leaflet-popup-close-button {
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .leaflet-tooltip {
        background: var(--md-sys-color-inverse-surface, #2e3135);
        color: var(--md-sys-color-inverse-on-surface, #eff0f7);
        border: 0;
        font: 0.75rem/1rem var(--yg-font, sans-serif);
      }
      .leaflet-tooltip-top::before {
        border-top-color: var(--md-sys-color-inverse-surface, #2e3135);
      }
      .below {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 16px;
        align-items: center;
        margin-top: 12px;
        font-size: 0.8125rem;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 16px;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .legend li {
        display: inline-flex;
        align-items: center;
        gap: 6px;
      }
      .legend i {
        width: 12px;
        height: 12px;
        border-radius: 50%;
      }
      .unplaced {
        flex-basis: 100%;
        margin: 0;
      }
      .unplaced a {
        color: var(--md-sys-color-primary, #36618e);
      }
    `,
  ];

  @property({ attribute: false }) agents: readonly AgentView[] = [];
  /** A tile URL template (`https://…/{z}/{x}/{y}.png`); empty: the bundled outlines only. */
  @property() tileUrl = '';
  /** Accessible name of the map. */
  @property() label = 'Map of nodes';

  @query('.map') private container?: HTMLDivElement;

  #map: L.Map | undefined;
  #base: L.Layer | undefined;
  #baseKey = '';
  #markers: L.LayerGroup | undefined;
  #unregister: Array<() => void> = [];
  #resize: ResizeObserver | undefined;
  #unwatch: (() => void) | undefined;
  #fitted = false;
  #grouped: { groups: NodeGroup[]; unplaced: AgentView[] } = { groups: [], unplaced: [] };

  override connectedCallback(): void {
    super.connectedCallback();
    this.#unwatch = dragSession.subscribe((session) => this.container?.classList.toggle('dragging', !!session));
    // Back in the page after a move: the map is made again.
    if (this.hasUpdated) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#unwatch?.();
    this.#teardown();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('agents')) this.#grouped = groupNodes(this.agents);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!this.#map) this.#setup();
    if (!this.#map) return;
    if (changed.has('tileUrl') || !this.#base) void this.#setBase();
    if (changed.has('agents') || !this.#markers) this.#drawMarkers();
  }

  override render() {
    const { groups, unplaced } = this.#grouped;
    const totals = new Map<AgentState, number>();
    for (const a of this.agents) totals.set(a.state, (totals.get(a.state) ?? 0) + 1);
    return html`<div class="map" role="region" aria-label=${this.label} aria-describedby="map-help"></div>
      <div class="below">
        <ul class="legend" aria-label="Node states">
          ${MAP_STATES.filter((s) => s !== 'GONE' || totals.get(s)).map(
            (s) => html`<li><i style=${`background: var(--yg-tone-${STATE_TONE[s]}-dot)`}></i>${STATE_WORD[s]} ${totals.get(s) ?? 0}</li>`,
          )}
        </ul>
        <span id="map-help">${groups.length} ${groups.length === 1 ? 'zone' : 'zones'} · a marker shows its zone’s node count; open one with a click or Enter.</span>
        ${unplaced.length
          ? html`<p class="unplaced">
              Not on the map (no <code>lat</code>/<code>lon</code> attributes and no known <code>region</code>):
              ${unplaced.map((a, i) => html`${i ? ', ' : ''}<a href=${nodeHref(a.id)}>${a.hostname}</a>`)}
            </p>`
          : nothing}
      </div>`;
  }

  #setup() {
    const el = this.container;
    if (!el) return;
    const map = L.map(el, {
      // 0: a phone's width shows the whole world.
      minZoom: 0,
      maxZoom: 18,
      zoomSnap: 0.5,
      worldCopyJump: false,
      maxBounds: L.latLngBounds([-88, -220], [88, 220]),
      maxBoundsViscosity: 0.8,
    });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" target="_blank" rel="noopener">Leaflet</a>');
    map.setView([25, 10], 1.5);
    this.#map = map;
    this.#resize = new ResizeObserver(() => map.invalidateSize());
    this.#resize.observe(el);
    el.classList.toggle('dragging', !!dragSession.value);
  }

  #teardown() {
    this.#resize?.disconnect();
    this.#resize = undefined;
    for (const off of this.#unregister) off();
    this.#unregister = [];
    // A zoom still animating would otherwise touch the removed panes.
    this.#map?.stop();
    this.#map?.off();
    this.#map?.remove();
    this.#map = undefined;
    this.#base = undefined;
    this.#baseKey = '';
    this.#markers = undefined;
    this.#fitted = false;
  }

  async #setBase() {
    const map = this.#map;
    if (!map) return;
    const url = validTileUrl(this.tileUrl) ? this.tileUrl.trim() : '';
    const key = url || 'outline';
    if (key === this.#baseKey) return;
    this.#baseKey = key;
    let layer: L.Layer;
    if (url) {
      let host = url;
      try {
        host = new URL(url.replace(/[{}]/g, ''), location.href).host;
      } catch {
        // shown as written
      }
      layer = L.tileLayer(url, { maxZoom: 19, attribution: `Tiles: ${escapeHtml(host)}` });
    } else {
      // The outlines are their own chunk: only the map asks for them.
      const { LAND_POLYGONS } = await import('./world-land.js');
      if (this.#map !== map || this.#baseKey !== key) return;
      const latlngs = LAND_POLYGONS.map((polygon) => polygon.map((ring) => pairs(ring)));
      layer = L.polygon(latlngs, { className: 'land', interactive: false, smoothFactor: 0.5, attribution: 'Outlines: Natural Earth' });
    }
    if (this.#base) map.removeLayer(this.#base);
    this.#base = layer;
    layer.addTo(map);
    if (layer instanceof L.Polygon) layer.bringToBack();
  }

  #drawMarkers() {
    const map = this.#map;
    if (!map) return;
    for (const off of this.#unregister) off();
    this.#unregister = [];
    this.#markers?.remove();
    const layer = L.layerGroup().addTo(map);
    this.#markers = layer;
    const { groups } = this.#grouped;

    // Zones placed by the table share their region's point: spread them on a small ring.
    const shared = new Map<string, NodeGroup[]>();
    for (const g of groups) if (g.fromTable) shared.set(`${g.lat},${g.lon}`, [...(shared.get(`${g.lat},${g.lon}`) ?? []), g]);

    for (const g of groups) {
      const peers = g.fromTable ? shared.get(`${g.lat},${g.lon}`)! : [g];
      const i = peers.indexOf(g);
      const r = peers.length > 1 ? 30 : 0;
      const angle = (2 * Math.PI * i) / Math.max(1, peers.length) - Math.PI / 2;
      const [dx, dy] = [Math.round(r * Math.cos(angle)), Math.round(r * Math.sin(angle))];
      const summary = groupSummary(g);
      const where = g.zone ? `Zone ${g.zone}${g.region ? ` in ${g.region}` : ''}` : g.region ? `Region ${g.region}` : g.label;
      const n = g.agents.length;
      // Starts with what the marker shows (its count and label), as a button's name should.
      const name = `${n} ${g.label}: ${n === 1 ? 'node' : 'nodes'} in ${where.charAt(0).toLowerCase()}${where.slice(1)}; ${stateSummary(g.counts)}. ${n === 1 ? `Opens ${g.agents[0]!.hostname}` : 'Lists them'}`;
      const icon = L.divIcon({
        className: 'yg-zone',
        iconSize: [44, 44],
        iconAnchor: [22 - dx, 22 - dy],
        html: `<div class="dot" style="background:${ring(g.counts, g.agents.length)}"><span class="count">${g.agents.length}</span></div> <span class="label">${escapeHtml(g.label)}</span>`,
      });
      const marker = L.marker([g.lat, g.lon], { icon, keyboard: true, title: '', riseOnHover: true }).addTo(layer);
      const el = marker.getElement();
      if (el) {
        el.setAttribute('aria-label', name);
        el.dataset.key = g.key;
        el.dataset.zone = g.label;
      }
      marker.bindTooltip(`${escapeHtml(where)} · ${escapeHtml(summary)}`, { direction: 'top', offset: [dx, dy - 24] });
      // Leaflet makes the marker a focusable button; Enter and Space press it.
      const pressed = (e: L.LeafletEvent) => ['Enter', ' '].includes(((e as L.LeafletKeyboardEvent).originalEvent as KeyboardEvent).key);
      if (g.agents.length === 1) {
        marker.on('click', () => this.#open(g.agents[0]!.id));
        marker.on('keypress', (e) => {
          if (pressed(e)) this.#open(g.agents[0]!.id);
        });
      } else {
        marker.on('keypress', (e) => {
          // Enter opens the popup already (Leaflet); Space as well.
          if (pressed(e) && ((e as L.LeafletKeyboardEvent).originalEvent as KeyboardEvent).key === ' ') marker.openPopup();
        });
        marker.bindPopup(
          `<h3>${escapeHtml(where)}</h3><ul>${g.agents
            .map((a) => `<li><a href="${escapeHtml(nodeHref(a.id))}">${escapeHtml(a.hostname)}</a> <span class="state">${STATE_WORD[a.state]}</span></li>`)
            .join('')}</ul>`,
          { offset: [dx, dy - 18], autoPanPadding: [16, 16] },
        );
        marker.on('popupopen', (e) => {
          // Keyboard users land in the list.
          (e.popup.getElement()?.querySelector('a[href^="/nodes/"]') as HTMLElement | null)?.focus();
        });
      }
    }

    // A drop zone per region, shown while a package is dragged.
    const regions = new Map<string, Array<[number, number]>>();
    for (const g of groups) if (g.region) regions.set(g.region, [...(regions.get(g.region) ?? []), [g.lat, g.lon]]);
    for (const [region, points] of regions) {
      const center: [number, number] = [mean(points.map((p) => p[0])), mean(points.map((p) => p[1]))];
      const icon = L.divIcon({ className: 'yg-region', iconSize: [132, 132], iconAnchor: [66, 66], html: `<span>${escapeHtml(region)}</span>` });
      const marker = L.marker(center, { icon, interactive: false, keyboard: false, zIndexOffset: -1000 }).addTo(layer);
      const el = marker.getElement();
      if (el) {
        el.setAttribute('aria-hidden', 'true');
        el.dataset.region = region;
        this.#unregister.push(registerDropTarget(el, { kind: 'region', region }));
      }
    }

    if (!this.#fitted && groups.length) {
      this.#fitted = true;
      const bounds = L.latLngBounds(groups.map((g) => [g.lat, g.lon] as [number, number]));
      map.fitBounds(bounds.pad(0.3), { maxZoom: 4, padding: [48, 48], animate: false });
    }
  }

  #open(id: string) {
    this.dispatchEvent(new CustomEvent<{ id: string }>('yg-node-open', { detail: { id }, bubbles: true, composed: true }));
  }
}

/** [lon, lat, lon, lat, …] → Leaflet's [[lat, lon], …]. */
function pairs(flat: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i + 1]!, flat[i]!]);
  return out;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-node-map': YgNodeMap;
  }
  interface GlobalEventHandlersEventMap {
    'yg-node-open': CustomEvent<{ id: string }>;
  }
}
