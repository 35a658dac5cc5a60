// The nodes map: nodes grouped per zone and placed by lat/lon or the region table, markers with
// counts and state colours that open a node (or list a zone's nodes), the bundled outlines with
// no request to any server, a tile layer when a URL is set, and the regions as drop targets.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { AgentView } from '../../protocol/types.js';
import { KNOWN_REGIONS, regionCoordinates } from '../../src/components/region-coordinates.js';
import { groupNodes, groupSummary } from '../../src/components/yg-node-map.js';
import type { YgNodeMap } from '../../src/components/yg-node-map.js';
import type { PackageSummary } from '../../src/data/catalog.js';
import { beginDrag, cancelDrag, endDrag, moveDrag } from '../../src/state/drag.js';
import type { DeployTarget } from '../../src/state/drag.js';
import { MAP_TILES_KEY, MapTilesSetting, mapTilesSetting, validTileUrl } from '../../src/state/settings.js';
import '../../src/views/yg-settings-view.js';
import { mockAgent } from '../support/builders.js';
import { $, $$, settle, text, typeInto } from './harness.js';
import type { YgTestHost } from './harness.js';
import { useTheme } from './theme.js';

const AGENTS: AgentView[] = [
  mockAgent({ id: 'a1', hostname: 'web-1', attributes: { region: 'eu-west-1', zone: 'eu-west-1a' } }),
  mockAgent({ id: 'a2', hostname: 'web-2', state: 'DRAINING', attributes: { region: 'eu-west-1', zone: 'eu-west-1a' } }),
  mockAgent({ id: 'a3', hostname: 'web-3', attributes: { region: 'eu-west-1', zone: 'eu-west-1b' } }),
  mockAgent({ id: 'a4', hostname: 'lab', state: 'UNREACHABLE', attributes: { zone: 'lab', lat: '35.68', lon: '139.76' } }),
  mockAgent({ id: 'a5', hostname: 'closet', attributes: { rack: 'r9' } }),
  mockAgent({ id: 'a6', hostname: 'far', attributes: { region: 'moon-base-1' } }),
];

// The map itself is the fixture: open-wc awaits a Lit element's updateComplete, but a plain
// wrapper <div> an animation frame, and a page the browser keeps in the background (tests run
// two at once) gets none: every test here then timed out.
async function map(agents = AGENTS, tileUrl = ''): Promise<YgNodeMap> {
  return fixture<YgNodeMap>(html`<yg-node-map style="width: 900px" .agents=${agents} tileUrl=${tileUrl}></yg-node-map>`);
}

const markers = (el: YgNodeMap) => $$(el, '.leaflet-marker-icon.yg-zone');
const marker = (el: YgNodeMap, zone: string) => markers(el).find((m) => m.dataset.zone === zone)!;
/** Resources this page fetched from anywhere but its own origin. */
const foreign = () =>
  performance
    .getEntriesByType('resource')
    .map((e) => e.name)
    .filter((url) => !url.startsWith(location.origin) && !url.startsWith('data:'));

describe('placing nodes', () => {
  it('knows AWS, Google Cloud, Azure and generic region names, and falls back from a numbered one', () => {
    expect(regionCoordinates('eu-west-1')).to.deep.equal([53.3, -6.3]);
    expect(regionCoordinates('us-central1')).to.deep.equal([41.3, -95.9]);
    expect(regionCoordinates('WestEurope')).to.deep.equal([52.4, 4.9]);
    expect(regionCoordinates('eu-west')).to.deep.equal([53.3, -6.3]);
    expect(regionCoordinates('us-east-9')).to.deep.equal(regionCoordinates('us-east'));
    expect(regionCoordinates('moon-base-1')).to.equal(undefined);
    expect(regionCoordinates('constructor')).to.equal(undefined);
    expect(regionCoordinates(undefined)).to.equal(undefined);
    expect(KNOWN_REGIONS.length).to.be.greaterThan(100);
    for (const name of KNOWN_REGIONS) {
      const [lat, lon] = regionCoordinates(name)!;
      expect(Math.abs(lat) <= 90 && Math.abs(lon) <= 180, name).to.equal(true);
    }
  });

  it('groups per zone, places by lat/lon or the region table, and keeps the rest aside', () => {
    const { groups, unplaced } = groupNodes(AGENTS);
    expect(groups.map((g) => [g.label, g.agents.map((a) => a.hostname), g.fromTable])).to.deep.equal([
      ['eu-west-1a', ['web-1', 'web-2'], true],
      ['eu-west-1b', ['web-3'], true],
      ['lab', ['lab'], false],
    ]);
    expect(groups.find((g) => g.label === 'lab')).to.include({ lat: 35.68, lon: 139.76 });
    expect(groups[0]).to.include({ lat: 53.3, lon: -6.3, region: 'eu-west-1', zone: 'eu-west-1a' });
    expect(groupSummary(groups[0]!)).to.equal('2 nodes: 1 active, 1 draining');
    expect(unplaced.map((a) => a.hostname)).to.deep.equal(['closet', 'far']);
    // Own coordinates win over the table, and are averaged over the zone.
    const own = groupNodes([
      mockAgent({ id: 'b1', attributes: { region: 'eu-west-1', zone: 'z', lat: '10', lon: '20' } }),
      mockAgent({ id: 'b2', attributes: { region: 'eu-west-1', zone: 'z', latitude: '12', longitude: '22' } }),
      mockAgent({ id: 'b3', attributes: { lat: '91', lon: '0' } }),
    ]);
    expect(own.groups.map((g) => [g.lat, g.lon, g.fromTable])).to.deep.equal([[11, 21, false]]);
    expect(own.unplaced.map((a) => a.id)).to.deep.equal(['b3']);
  });

  it('accepts tile URL templates with {z}, {x} and {y} only, and keeps the setting', () => {
    expect(validTileUrl('https://tiles.example.org/{z}/{x}/{y}.png')).to.equal(true);
    expect(validTileUrl('/tiles/{z}/{x}/{y}.png')).to.equal(true);
    expect(validTileUrl('https://tiles.example.org/{z}/{x}.png')).to.equal(false);
    expect(validTileUrl('javascript:alert(1)//{z}{x}{y}')).to.equal(false);
    const storage = new Map<string, string>();
    const fake = { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v), removeItem: (k: string) => void storage.delete(k) } as Storage;
    const setting = new MapTilesSetting({ storage: fake });
    expect(setting.value.value).to.equal('');
    setting.set(' /t/{z}/{x}/{y}.png ');
    expect(new MapTilesSetting({ storage: fake }).value.value).to.equal('/t/{z}/{x}/{y}.png');
    setting.set('');
    expect(storage.size).to.equal(0);
  });
});

describe('yg-node-map', () => {
  before(() => useTheme());
  afterEach(() => cancelDrag());

  it('draws the bundled outlines, one marker per zone with its count and state colours, and asks no other server', async () => {
    const el = await map();
    await waitUntil(() => el.shadowRoot!.querySelector('path.land'), 'the outlines are drawn');
    expect(el.shadowRoot!.querySelector('img.leaflet-tile')).to.equal(null, 'no tiles without a tile URL');
    expect(markers(el).map((m) => m.dataset.zone).sort()).to.deep.equal(['eu-west-1a', 'eu-west-1b', 'lab']);
    const a = marker(el, 'eu-west-1a');
    expect(text(a.querySelector('.count'))).to.equal('2');
    expect(a.getAttribute('aria-label')).to.equal('2 eu-west-1a: nodes in zone eu-west-1a in eu-west-1; 1 active, 1 draining. Lists them');
    expect(marker(el, 'lab').getAttribute('aria-label')).to.equal('1 lab: node in zone lab; 1 unreachable. Opens lab');
    expect(a.getAttribute('role')).to.equal('button');
    expect(a.getAttribute('tabindex')).to.equal('0');
    const ring = (a.querySelector('.dot') as HTMLElement).style.background;
    expect(ring).to.contain('var(--yg-tone-ok-dot) 0deg 180deg').and.to.contain('var(--yg-tone-warn-dot) 180deg 360deg');
    expect((marker(el, 'lab').querySelector('.dot') as HTMLElement).style.background).to.contain('var(--yg-tone-lost-dot) 0deg 360deg');
    // Two zones of one region placed by the table do not sit on each other.
    const [r1, r2] = [marker(el, 'eu-west-1a').getBoundingClientRect(), marker(el, 'eu-west-1b').getBoundingClientRect()];
    expect(Math.hypot(r1.x - r2.x, r1.y - r2.y)).to.be.greaterThan(40);
    expect(text(el.shadowRoot!.querySelector('.unplaced'))).to.contain('closet, far');
    expect(el.shadowRoot!.querySelector('.unplaced a')!.getAttribute('href')).to.equal('/nodes/a5');
    expect($$(el, '.legend li').map((li) => text(li))).to.deep.equal(['active 4', 'draining 1', 'drained 0', 'unreachable 1']);
    expect(foreign()).to.deep.equal([]);
    await expect(el).to.be.accessible();
  });

  it('opens a node from its marker, by click or Enter; a zone of several lists its nodes', async () => {
    const el = await map();
    const opened: string[] = [];
    el.addEventListener('yg-node-open', (e) => opened.push(e.detail.id));
    marker(el, 'eu-west-1b').click();
    expect(opened).to.deep.equal(['a3']);
    marker(el, 'lab').focus();
    await sendKeys({ press: 'Enter' });
    expect(opened).to.deep.equal(['a3', 'a4']);
    marker(el, 'eu-west-1a').click();
    await waitUntil(() => el.shadowRoot!.querySelector('.leaflet-popup'), 'the zone’s list');
    const links = $$(el, '.leaflet-popup a[href^="/nodes/"]');
    expect(links.map((l) => [text(l), l.getAttribute('href')])).to.deep.equal([
      ['web-1', '/nodes/a1'],
      ['web-2', '/nodes/a2'],
    ]);
    expect(text(el.shadowRoot!.querySelector('.leaflet-popup'))).to.contain('web-2 draining');
    await expect(el).to.be.accessible();
  });

  it('follows the agents: a changed state recolours, a new zone adds a marker', async () => {
    const el = await map();
    el.agents = [...AGENTS.map((a) => (a.id === 'a2' ? { ...a, state: 'ACTIVE' as const } : a)), mockAgent({ id: 'a7', hostname: 'ohio', attributes: { region: 'us-east-2', zone: 'use2-az1' } })];
    await el.updateComplete;
    expect(marker(el, 'eu-west-1a').getAttribute('aria-label')).to.contain('; 2 active.');
    expect(marker(el, 'use2-az1')).to.not.equal(undefined);
  });

  it('uses a tile layer instead of the outlines when a tile URL is set', async () => {
    // Any image of this origin will do as a tile: the address carries z, x and y.
    const el = await map(AGENTS, '/public/icons/icon-192.png?z={z}&x={x}&y={y}');
    await waitUntil(() => el.shadowRoot!.querySelector('img.leaflet-tile'), 'tiles are requested');
    const src = el.shadowRoot!.querySelector('img.leaflet-tile')!.getAttribute('src')!;
    expect(src).to.match(/^\/public\/icons\/icon-192\.png\?z=\d+&x=-?\d+&y=-?\d+$/);
    expect(el.shadowRoot!.querySelector('path.land')).to.equal(null);
    expect(text(el.shadowRoot!.querySelector('.leaflet-control-attribution'))).to.contain(`Tiles: ${location.host}`);
  });

  it('shows each region as a drop zone while a package is dragged, and drops on it', async () => {
    const el = await map();
    const region = () => el.shadowRoot!.querySelector<HTMLElement>('.yg-region[data-region="eu-west-1"]')!;
    expect(region().getBoundingClientRect().width).to.equal(0, 'hidden until a drag');
    const drops: DeployTarget[] = [];
    const pkg = { name: 'hello' } as PackageSummary;
    beginDrag(pkg, 0, 0, { judge: () => ({ ok: true, text: 'ok' }), onDrop: (t) => drops.push(t) });
    const r = region().getBoundingClientRect();
    expect(r.width).to.equal(132);
    expect(region().dataset.drop).to.equal('ok');
    moveDrag(r.left + 10, r.top + r.height / 2);
    expect(region().dataset.dropOver).to.equal('ok');
    endDrag(r.left + 10, r.top + r.height / 2);
    expect(drops).to.deep.equal([{ kind: 'region', region: 'eu-west-1' }]);
    expect(region().getBoundingClientRect().width).to.equal(0, 'hidden again');
  });
});

describe('Settings: map tiles', () => {
  before(() => useTheme());
  afterEach(() => mapTilesSetting().set(''));

  it('keeps a tile URL template in this browser, refuses one without {z}, {x} and {y}, and goes back to the outlines', async () => {
    const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
    const view = document.createElement('yg-settings-view');
    host.append(view);
    await settle(view);
    const section = $(view, '#map-tiles');
    expect(text(section.querySelector('[role="status"]'))).to.equal('The map uses the built-in outlines.');
    const field = $(view, '#tiles');
    await typeInto(field, 'https://tiles.example.org/{z}/{x}.png');
    await sendKeys({ press: 'Enter' });
    await settle(view);
    expect((field as HTMLElement & { error: boolean; errorText: string }).errorText).to.equal('An http(s) URL, or a path on this site, with {z}, {x} and {y}');
    expect(localStorage.getItem(MAP_TILES_KEY)).to.equal(null);
    await typeInto(field, 'https://tiles.example.org/{z}/{x}/{y}.png');
    section.querySelector<HTMLElement>('md-filled-tonal-button')!.click();
    await settle(view);
    expect(localStorage.getItem(MAP_TILES_KEY)).to.equal('https://tiles.example.org/{z}/{x}/{y}.png');
    expect(mapTilesSetting().value.value).to.equal('https://tiles.example.org/{z}/{x}/{y}.png');
    expect(text(section.querySelector('[role="status"]'))).to.equal('Saved: the map loads tiles from there.');
    await expect(view).to.be.accessible();
    section.querySelector<HTMLElement>('md-outlined-button')!.click();
    await settle(view);
    expect(localStorage.getItem(MAP_TILES_KEY)).to.equal(null);
    expect(text(section.querySelector('[role="status"]'))).to.equal('Saved: the map uses the built-in outlines.');
  });
});
