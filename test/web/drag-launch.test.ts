// Drag-and-drop launch in the browser: the catalog tray's tiles dragged with a real mouse onto a
// node's row and onto the services list, by touch (the handle at once, elsewhere a long press),
// and the keyboard's "Deploy to…" menu; impossible targets (drained, no room) say why while
// hovering and on drop and open nothing; a possible one opens the install dialog pre-filled and
// installs with the placement's constraint. Against a fake /package API.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { resetMouse, sendKeys, sendMouse } from '@web/test-runner-commands';
import type { AgentView, ServiceView } from '../../protocol/types.js';
import type { YgInstallDialog } from '../../src/components/yg-install-dialog.js';
import { catalogCache } from '../../src/data/catalog.js';
import type { PackageDefinition, PackageSummary } from '../../src/data/catalog.js';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import {
  LONG_PRESS_MS,
  cancelDrag,
  constraintsFor,
  deployOptions,
  deployRequirements,
  dragSession,
  freeAppName,
  judgeTarget,
} from '../../src/state/drag.js';
import '../../src/views/yg-catalog-view.js';
import '../../src/views/yg-nodes-view.js';
import '../../src/views/yg-services-view.js';
import type { RoutedView } from '../../src/views/routes.js';
import { mockAgent, mockSnapshot, resources } from '../support/builders.js';
import { $, $$, settle, text } from './harness.js';
import type { ApiCall, YgTestHost } from './harness.js';
import { mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const AGENTS: AgentView[] = [
  mockAgent({ id: 'a1', hostname: 'node-1', attributes: { region: 'eu-west', zone: 'eu-west-1a' } }),
  mockAgent({ id: 'a2', hostname: 'node-2', state: 'DRAINED', attributes: { region: 'eu-west', zone: 'eu-west-1b' } }),
  mockAgent({
    id: 'a3',
    hostname: 'node-3',
    attributes: { region: 'us-east', zone: 'us-east-1a' },
    resources: resources({ cpus: 1, mem: 1024 }),
    allocated: resources({ cpus: 0.75, mem: 512 }),
  }),
];

const summary = (name: string, kind: 'service' | 'job' = 'service'): PackageSummary => ({
  name,
  currentVersion: '1.0.0',
  versions: { '1.0.0': '0' },
  description: `${name} does things.`,
  framework: false,
  tags: [],
  selected: false,
  kind,
  repository: 'Built-in',
  images: {},
});

const HELLO: PackageDefinition = {
  packagingVersion: '4.0',
  name: 'hello',
  version: '1.0.0',
  releaseVersion: 0,
  description: 'Says hello.',
  tags: [],
  selected: false,
  framework: false,
  kind: 'service',
  preInstallNotes: 'Needs Node.js.',
  config: {
    type: 'object',
    properties: {
      service: {
        type: 'object',
        properties: { name: { type: 'string', default: 'hello' }, cpus: { type: 'number', default: 0.5 }, mem: { type: 'number', default: 256 } },
      },
    },
  },
};

/** A master's /package API for `hello` (0.5 CPU, 256 MiB) and a job package. */
function handler(call: ApiCall) {
  const body = (call.body ?? {}) as Record<string, unknown>;
  switch (call.path) {
    case '/package/search':
      return { packages: [summary('hello'), summary('nightly', 'job')] };
    case '/package/render':
      return { marathonJson: { id: '/hello', cpus: 0.5, mem: 256, instances: 1, constraints: body.constraints ?? [] } };
    case '/package/describe':
      return { package: HELLO };
    case '/package/install': {
      const options = body.options as { service?: { name?: string } } | undefined;
      return { packageName: 'hello', packageVersion: '1.0.0', appId: `/${options?.service?.name ?? 'hello'}`, kind: 'service', deploymentId: 'd1' };
    }
    default:
      throw new Error(`unexpected ${call.path}`);
  }
}

async function page(tag: string, path: string, params = '', services: ServiceView[] = []) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.cluster.set(fromSnapshot(mockSnapshot({ seq: 1, agents: AGENTS, services })));
  host.api.handler = handler;
  const view = document.createElement(tag) as RoutedView;
  view.path = path;
  view.params = new URLSearchParams(params);
  host.append(view);
  await settle(view);
  const launcher = $(view, 'yg-deploy-launcher');
  let tray: HTMLElement | undefined;
  if (launcher.hasAttribute('tray')) {
    await until(() => launcher.shadowRoot!.querySelector('yg-catalog-tray')?.shadowRoot?.querySelector('yg-package-tile'), 'the tray has tiles');
    tray = $(launcher, 'yg-catalog-tray');
  }
  await settle(view, 6);
  return { host, view, launcher, tray: tray! };
}

/** Waits until `get` gives something, and gives it. */
async function until<T>(get: () => T | null | undefined | false, what: string, timeout = 3000): Promise<T> {
  let value: T | null | undefined | false;
  await waitUntil(() => (value = get()), what, { timeout });
  return value as T;
}

const center = (el: Element): [number, number] => {
  el.scrollIntoView({ block: 'center' });
  const r = el.getBoundingClientRect();
  return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];
};

const tile = (tray: HTMLElement, name: string) => $$(tray, 'yg-package-tile').find((t) => text($(t, 'h2')) === name)!;
const row = (view: Element, hostname: string) => $$<HTMLTableRowElement>($(view, 'yg-agent-table'), 'tr.row').find((r) => text(r.querySelector('.title')) === hostname)!;
const dialogOf = (launcher: Element) => launcher.shadowRoot!.querySelector<YgInstallDialog>('yg-install-dialog');
/** The focused element, through shadow roots. */
function deepActive(): Element | null {
  let el: Element | null = document.activeElement;
  while (el?.shadowRoot?.activeElement && !el.localName.startsWith('md-menu-item')) el = el.shadowRoot.activeElement;
  return el;
}
const ghostText = () => document.querySelector('.yg-drag-ghost .status')?.textContent ?? '';

/** Presses on `from`, moves in steps to `to` (as a person drags), and leaves the button down. */
async function mouseDragTo(from: Element, to: () => Element) {
  const [x0, y0] = center(from);
  await sendMouse({ type: 'move', position: [x0, y0] });
  await sendMouse({ type: 'down' });
  await sendMouse({ type: 'move', position: [x0 + 10, y0 + 10] });
  const [x1, y1] = center(to());
  await sendMouse({ type: 'move', position: [Math.round((x0 + x1) / 2), Math.round((y0 + y1) / 2)] });
  await sendMouse({ type: 'move', position: [x1, y1] });
}

describe('judging where a package may go', () => {
  const req = { cpus: 0.5, mem: 256, instances: 1 };

  it('refuses nodes that take no tasks, or have no room, and says why', () => {
    expect(judgeTarget({ kind: 'node', agentId: 'a1', hostname: 'node-1' }, AGENTS, 'hello', req)).to.deep.equal({ ok: true, text: 'Deploy hello on node node-1' });
    expect(judgeTarget({ kind: 'node', agentId: 'a2', hostname: 'node-2' }, AGENTS, 'hello', req)).to.deep.equal({ ok: false, text: 'node-2 is drained: it takes no new tasks' });
    const draining = AGENTS.map((a) => (a.id === 'a1' ? { ...a, state: 'DRAINING' as const } : a));
    expect(judgeTarget({ kind: 'node', agentId: 'a1', hostname: 'node-1' }, draining, 'hello', req).text).to.equal('node-1 is draining: it takes no new tasks');
    const unreachable = AGENTS.map((a) => (a.id === 'a1' ? { ...a, state: 'UNREACHABLE' as const } : a));
    expect(judgeTarget({ kind: 'node', agentId: 'a1', hostname: 'node-1' }, unreachable, 'hello', req).ok).to.equal(false);
    expect(judgeTarget({ kind: 'node', agentId: 'a3', hostname: 'node-3' }, AGENTS, 'hello', req)).to.deep.equal({
      ok: false,
      text: 'node-3 has no room: hello needs 0.5 CPUs and 256 MiB, 0.25 CPUs and 512 MiB are free',
    });
    // Before the package's resources are known, only the state counts.
    expect(judgeTarget({ kind: 'node', agentId: 'a3', hostname: 'node-3' }, AGENTS, 'hello').ok).to.equal(true);
    // All instances of a pinned service land on the node.
    expect(judgeTarget({ kind: 'node', agentId: 'a1', hostname: 'node-1' }, AGENTS, 'hello', { cpus: 1, mem: 256, instances: 5 }).ok).to.equal(false);
    expect(judgeTarget({ kind: 'node', agentId: 'gone', hostname: 'old' }, AGENTS, 'hello', req).ok).to.equal(false);
  });

  it('judges a region by its active nodes, and anywhere is always allowed', () => {
    expect(judgeTarget({ kind: 'region', region: 'eu-west' }, AGENTS, 'hello', req).ok).to.equal(true);
    expect(judgeTarget({ kind: 'region', region: 'us-east' }, AGENTS, 'hello', req).text).to.match(/^Region us-east has no room/);
    expect(judgeTarget({ kind: 'region', region: 'ap-south' }, AGENTS, 'hello', req).text).to.equal('No node is in region ap-south');
    const allDrained = AGENTS.map((a) => ({ ...a, state: 'DRAINED' as const }));
    expect(judgeTarget({ kind: 'region', region: 'eu-west' }, allDrained, 'hello', req).text).to.equal('No node in region eu-west is active');
    expect(judgeTarget({ kind: 'services' }, allDrained, 'hello', req).ok).to.equal(true);
  });

  it('offers anywhere, every node that is not gone, then every region; pins with CLUSTER constraints; picks a free app name', () => {
    const agents = [...AGENTS, mockAgent({ id: 'a4', hostname: 'old', state: 'GONE', attributes: { region: 'ap-south' } })];
    const options = deployOptions(agents, 'hello', req);
    expect(options.map((o) => [o.label, o.verdict.ok])).to.deep.equal([
      ['Any node', true],
      ['Node node-1', true],
      ['Node node-2', false],
      ['Node node-3', false],
      ['Region eu-west', true],
      ['Region us-east', false],
    ]);
    expect(constraintsFor({ kind: 'node', agentId: 'a1', hostname: 'node-1' })).to.deep.equal([['hostname', 'CLUSTER', 'node-1']]);
    expect(constraintsFor({ kind: 'region', region: 'eu-west' })).to.deep.equal([['region', 'CLUSTER', 'eu-west']]);
    expect(constraintsFor({ kind: 'services' })).to.deep.equal([]);
    const taken = new Set(['/hello', '/hello-node-1']);
    expect(freeAppName('web', taken, { kind: 'services' })).to.equal('web');
    expect(freeAppName('hello', taken, { kind: 'services' })).to.equal('hello-2');
    expect(freeAppName('hello', taken, { kind: 'region', region: 'EU West' })).to.equal('hello-eu-west');
    expect(freeAppName('hello', taken, { kind: 'node', agentId: 'a1', hostname: 'node-1' })).to.equal('hello-node-1-2');
  });
});

describe('drag-and-drop launch', () => {
  before(() => useTheme());
  beforeEach(() => {
    catalogCache.clear();
    deployRequirements.set(new Map());
  });
  afterEach(async () => {
    cancelDrag();
    await resetMouse();
  });

  it('drags a tile onto a node with the mouse: the rows light up, the drop opens the dialog pre-filled, install pins it there', async () => {
    const { view, launcher, tray, host } = await page('yg-nodes-view', '/nodes', '', [mockService({ id: '/hello' })]);
    expect($$(tray, 'yg-package-tile').map((t) => text($(t, 'h2')))).to.deep.equal(['hello'], 'job packages cannot be placed: not in the tray');
    await expect(tray).to.be.accessible();
    await mouseDragTo(tile(tray, 'hello'), () => row(view, 'node-1'));
    expect(dragSession.value?.pkg.name).to.equal('hello');
    await waitUntil(() => row(view, 'node-3').dataset.drop === 'blocked', 'room is checked from a render');
    expect(row(view, 'node-1').dataset.dropOver).to.equal('ok');
    expect(row(view, 'node-2').dataset.drop).to.equal('blocked');
    expect(ghostText()).to.equal('Deploy hello on node node-1');
    await sendMouse({ type: 'up' });
    expect(dragSession.value).to.equal(null);
    expect(row(view, 'node-1').dataset.drop).to.equal(undefined, 'highlights end with the drag');

    const dialog = await until(() => dialogOf(launcher), 'the install dialog');
    await waitUntil(() => dialog.open);
    expect(dialog.pkg?.preInstallNotes).to.equal('Placement: runs only on node node-1 (constraint hostname:CLUSTER:node-1).\n\nNeeds Node.js.');
    await settle(dialog, 6);
    expect(dialog.value).to.deep.equal({ service: { name: 'hello-node-1', cpus: 0.5, mem: 256 } }, 'a free name: /hello exists');
    $$<HTMLElement>(dialog, 'md-filled-button').find((b) => text(b) === 'Install')!.click();
    await waitUntil(() => host.api.calls.some((c) => c.path === '/package/install'), 'install');
    const install = host.api.calls.find((c) => c.path === '/package/install')!;
    expect(install.body).to.deep.equal({
      packageName: 'hello',
      packageVersion: '1.0.0',
      options: { service: { name: 'hello-node-1', cpus: 0.5, mem: 256 } },
      constraints: [['hostname', 'CLUSTER', 'node-1']],
    });
    await waitUntil(() => dialog.result, 'the dialog shows progress');
    await waitUntil(() => text(launcher.shadowRoot!.querySelector('.notice')).includes('Deploying /hello-node-1 on node node-1'));
    expect($(launcher, '.notice a').getAttribute('href')).to.equal('/services/%2Fhello-node-1');
  });

  it('refuses a drop on a drained or full node with the reason, and opens nothing', async () => {
    const { view, launcher, tray, host } = await page('yg-nodes-view', '/nodes');
    await mouseDragTo(tile(tray, 'hello'), () => row(view, 'node-2'));
    expect(row(view, 'node-2').dataset.dropOver).to.equal('blocked');
    expect(ghostText()).to.equal('node-2 is drained: it takes no new tasks');
    await sendMouse({ type: 'up' });
    const alert = await until(() => launcher.shadowRoot!.querySelector('.notice[role="alert"]'), 'the reason stays on screen');
    expect(text(alert)).to.contain('hello cannot be deployed on node node-2: node-2 is drained: it takes no new tasks.');
    await expect(launcher).to.be.accessible();

    await resetMouse();
    await mouseDragTo(tile(tray, 'hello'), () => row(view, 'node-3'));
    await waitUntil(() => ghostText().startsWith('node-3 has no room'), 'no room, once the render is in');
    await sendMouse({ type: 'up' });
    await waitUntil(() => text(launcher.shadowRoot!.querySelector('.notice[role="alert"]')).includes('node-3 has no room: hello needs 0.5 CPUs and 256 MiB'));
    expect(dialogOf(launcher)).to.equal(null);
    expect(host.api.calls.map((c) => c.path)).to.not.include('/package/describe');
    expect(host.api.calls.map((c) => c.path)).to.not.include('/package/install');
  });

  it('drags onto the services list: deploys anywhere, without a constraint', async () => {
    const { view, launcher, tray, host } = await page('yg-services-view', '/services');
    const zone = () => view.shadowRoot!.querySelector<HTMLElement>('.drop')!;
    await mouseDragTo(tile(tray, 'hello'), zone);
    expect(zone().dataset.dropOver).to.equal('ok');
    expect(ghostText()).to.equal('Deploy hello on any node');
    await sendMouse({ type: 'up' });
    const dialog = await until(() => dialogOf(launcher), 'the install dialog');
    await waitUntil(() => dialog.open);
    expect(dialog.pkg?.preInstallNotes).to.equal('Needs Node.js.');
    await settle(dialog, 6);
    $$<HTMLElement>(dialog, 'md-filled-button').find((b) => text(b) === 'Install')!.click();
    await waitUntil(() => host.api.calls.some((c) => c.path === '/package/install'));
    const install = host.api.calls.find((c) => c.path === '/package/install')!;
    expect(install.body).to.deep.equal({ packageName: 'hello', packageVersion: '1.0.0', options: { service: { name: 'hello', cpus: 0.5, mem: 256 } } });
  });

  it('drags by touch: at once from the handle, after a long press elsewhere; a finger that moves first scrolls', async () => {
    const { view, launcher, tray } = await page('yg-nodes-view', '/nodes');
    const touch = (type: string, el: Element, x: number, y: number) =>
      el.dispatchEvent(new PointerEvent(type, { pointerType: 'touch', pointerId: 7, isPrimary: true, button: type === 'pointermove' ? -1 : 0, clientX: x, clientY: y, bubbles: true, composed: true }));
    const hello = tile(tray, 'hello');

    // From the handle: the drag starts on touch.
    const handle = hello.querySelector('[data-drag-handle]')!;
    const [hx, hy] = center(handle);
    touch('pointerdown', handle, hx, hy);
    expect(dragSession.value?.pkg.name).to.equal('hello');
    const [rx, ry] = center(row(view, 'node-1'));
    touch('pointermove', window.document.body, rx, ry);
    expect(row(view, 'node-1').dataset.dropOver).to.equal('ok');
    touch('pointerup', window.document.body, rx, ry);
    expect(dragSession.value).to.equal(null);
    const dialog = await until(() => dialogOf(launcher), 'the drop opens the dialog');
    await waitUntil(() => dialog.open);
    expect(dialog.pkg?.preInstallNotes).to.contain('on node node-1');
    dialog.dispatchEvent(new CustomEvent('yg-dialog-close', { bubbles: true, composed: true }));
    await waitUntil(() => !dialogOf(launcher));

    // Elsewhere on the tile: a finger that moves before the long press is scrolling.
    const [tx, ty] = center($(hello, 'h2'));
    touch('pointerdown', hello, tx, ty);
    touch('pointermove', window.document.body, tx + 30, ty);
    await new Promise((r) => setTimeout(r, LONG_PRESS_MS + 100));
    expect(dragSession.value).to.equal(null, 'no drag');
    touch('pointerup', window.document.body, tx + 30, ty);

    // Held still, it becomes a drag.
    touch('pointerdown', hello, tx, ty);
    await waitUntil(() => dragSession.value, 'the long press starts a drag', { timeout: LONG_PRESS_MS * 4 });
    touch('pointermove', window.document.body, rx, ry);
    expect(row(view, 'node-1').dataset.dropOver).to.equal('ok');
    touch('pointercancel', window.document.body, rx, ry);
    expect(dragSession.value).to.equal(null, 'a cancelled touch drops nothing');
    expect(dialogOf(launcher)).to.equal(null);
  });

  it('deploys from the keyboard with the "Deploy to…" menu, which shows why a target cannot take it', async () => {
    const { launcher, tray, host } = await page('yg-nodes-view', '/nodes');
    const menu = tile(tray, 'hello').querySelector<HTMLElement>('yg-deploy-menu')!;
    const button = $(menu, 'md-icon-button');
    expect(button.getAttribute('aria-label')).to.equal('Deploy hello to…');
    button.focus();
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => host.api.calls.some((c) => c.path === '/package/render'), 'opening the menu checks room');
    await waitUntil(() => $$(menu, 'md-menu-item.blocked').length === 3, 'the drained node, the full node and its region are marked');
    await settle(menu, 4);
    const items = $$(menu, 'md-menu-item');
    expect(items.map((i) => text(i.querySelector('[slot="headline"]')))).to.deep.equal(['Any node', 'Node node-1', 'Node node-2', 'Node node-3', 'Region eu-west', 'Region us-east']);
    expect(text(items[2]!.querySelector('[slot="supporting-text"]'))).to.equal('node-2 is drained: it takes no new tasks');
    await expect(menu).to.be.accessible();
    // The menu focuses its first item; down to "Region eu-west", and choose it.
    await waitUntil(() => deepActive() === items[0], 'the first item has the focus');
    for (let i = 0; i < 4; i++) await sendKeys({ press: 'ArrowDown' });
    expect(deepActive()).to.equal(items[4]);
    await sendKeys({ press: 'Enter' });
    const dialog = await until(() => dialogOf(launcher), 'the dialog');
    await waitUntil(() => dialog.open);
    expect(dialog.pkg?.preInstallNotes).to.contain('Placement: runs only in region eu-west (constraint region:CLUSTER:eu-west).');
  });

  it('offers "Deploy to…" on each service tile of the catalog', async () => {
    const { view, host } = await page('yg-catalog-view', '/catalog');
    await waitUntil(() => $$(view, 'yg-package-tile').length === 2, 'the tiles');
    await settle(view, 6);
    const [hello, nightly] = $$(view, 'yg-package-tile');
    expect(hello!.querySelector('yg-deploy-menu')).to.not.equal(null);
    expect(nightly!.querySelector('yg-deploy-menu')).to.equal(null, 'a job package cannot be placed');
    const menu = hello!.querySelector<HTMLElement>('yg-deploy-menu')!;
    expect($$(menu, 'md-menu-item')).to.have.length(0, 'a closed menu holds no items: a node each would be thousands');
    $(menu, 'md-outlined-button').click();
    await waitUntil(() => $$(menu, 'md-menu-item').length === 6 && host.api.calls.some((c) => c.path === '/package/render'));
    await waitUntil(() => $$(menu, 'md-menu-item.blocked').length === 3);
    const closed = new Promise((resolve) => $(menu, 'md-menu').addEventListener('closed', resolve, { once: true }));
    $($$(menu, 'md-menu-item')[2]!, '#item').click();
    await closed;
    const launcher = $(view, 'yg-deploy-launcher');
    await waitUntil(() => launcher.shadowRoot!.querySelector('.notice[role="alert"]'));
    expect(text($(launcher, '.notice'))).to.contain('node-2 is drained');
    await expect(view).to.be.accessible();
  });
});
