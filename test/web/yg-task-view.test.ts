import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import { taskSummary } from '../../protocol/types.js';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import type { StreamSocket } from '../../src/state/cluster-store.js';
import '../../src/views/yg-task-view.js';
import type { YgTaskView } from '../../src/views/yg-task-view.js';
import { mockAgent, mockSnapshot, mockTask, resources } from '../support/builders.js';
import { $, $$, apiError, settle, text } from './harness.js';
import type { ApiCall, YgTestHost } from './harness.js';
import { FakeSocket } from './stream-fakes.js';
import { useTheme } from './theme.js';

const TASK = mockTask({
  id: 'prod_web.1',
  name: 'web',
  agentId: 'a1',
  labels: { YAGURA_APP_ID: '/prod/web' },
  resources: resources({ cpus: 0.1, mem: 32, ports: [[31005, 31005]] }),
  command: { value: 'python3 -m http.server $PORT0', shell: true, env: {}, uris: [] },
});

async function page(params = new URLSearchParams(), details: (call: ApiCall) => unknown = () => TASK) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.api.handler = (call) =>
    call.path.startsWith('/files/tasks/prod_web.1/browse')
      ? [
          { path: 'stdout', size: 120, mode: '-rw-r--r--', mtime: 1_700_000_000_000, isDir: false },
          { path: 'www', size: 4096, mode: 'drwxr-xr-x', mtime: 1_700_000_000_000, isDir: true },
        ]
      : call.path === '/api/v1/tasks/prod_web.1'
        ? details(call)
        : {};
  // the stream carries the task's summary; the page reads the rest
  host.cluster.set(fromSnapshot(mockSnapshot({ seq: 1, agents: [mockAgent({ id: 'a1', hostname: 'node-1' })], tasks: [taskSummary(TASK)] })));
  const sockets: FakeSocket[] = [];
  const navigations: string[] = [];
  host.addEventListener('yg-navigate', (e) => navigations.push(e.detail.to));
  const view = document.createElement('yg-task-view') as YgTaskView;
  view.createSocket = (url): StreamSocket => {
    const socket = new FakeSocket(url);
    sockets.push(socket);
    return socket;
  };
  view.path = `/tasks/${TASK.id}`;
  view.params = params;
  host.append(view);
  await settle(view);
  return { host, view, sockets, navigations };
}

describe('yg-task-view', () => {
  before(() => useTheme());

  it('shows the task with links to its service and node', async () => {
    const { view, host } = await page();
    expect(text($(view, 'h1'))).to.equal('web');
    await waitUntil(() => text($(view, 'dl')).includes('python3'), 'the details load');
    expect(host.api.calls.filter((c) => c.path === '/api/v1/tasks/prod_web.1')).to.have.length(1, 'read once');
    const fields = text($(view, 'dl'));
    expect(fields).to.contain('python3 -m http.server $PORT0');
    expect(fields).to.contain('0.1 CPUs · 32 MiB memory · 0 MiB disk · ports 31005');
    expect($(view, `dl a[href="/services/${encodeURIComponent('/prod/web')}"]`).textContent).to.equal('/prod/web');
    expect($(view, 'dl a[href="/nodes/a1"]').textContent).to.equal('node-1');
    await expect(view).to.be.accessible();
  });

  it('tails stdout live over a socket, and stderr when that tab is chosen', async () => {
    const { view, sockets } = await page();
    expect(sockets).to.have.length(1);
    expect(sockets[0]!.url).to.contain('/files/tasks/prod_web.1/tail?path=stdout&offset=-65536');
    sockets[0]!.open();
    expect(sockets[0]!.sent).to.deep.equal([{ type: 'hello', token: 'test-token' }]);
    sockets[0]!.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ type: 'chunk', data: 'Serving HTTP on 0.0.0.0 port 31005\n', offset: 0 }) }));
    const viewer = $(view, 'yg-log-viewer');
    await settle(view);
    expect($(viewer, '.log').textContent).to.contain('Serving HTTP on 0.0.0.0 port 31005');

    $$(viewer, 'md-primary-tab')[1]!.click();
    await waitUntil(() => sockets.length === 2, 'a second tail opens');
    expect(sockets[1]!.url).to.contain('path=stderr');
    expect(sockets[0]!.closedByClient?.code).to.equal(1000, 'the stdout tail is closed');
    await expect(view).to.be.accessible();
  });

  it('opens the tail again when asked after it failed', async () => {
    const { view, sockets } = await page();
    sockets[0]!.open();
    sockets[0]!.serverClose(4404, 'cannot tail');
    await settle(view);
    const viewer = $(view, 'yg-log-viewer');
    expect(text($(viewer, '.status span'))).to.equal('The log could not be read: cannot tail');
    $(viewer, '.status md-text-button').click();
    await waitUntil(() => sockets.length === 2, 'a new tail opens');
    expect(sockets[1]!.url).to.contain('path=stdout');
  });

  it('closes the tail when the page is left', async () => {
    const { view, sockets } = await page();
    view.remove();
    expect(sockets[0]!.closedByClient?.code).to.equal(1000);
  });

  it('kills the task after confirming', async () => {
    const { view, host } = await page();
    $(view, 'md-filled-tonal-button').click();
    const dialog = $(view, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    expect(dialog.textContent).to.contain('Its service, /prod/web, starts a replacement.');
    $(dialog, 'md-filled-button').click();
    await waitUntil(() => host.api.commands.length === 1);
    expect(host.api.commands[0]).to.deep.equal({ method: 'POST', path: '/api/v1/tasks/prod_web.1/kill', body: {} });
  });

  it('browses the sandbox, with the directory in the address', async () => {
    const { view, host, navigations, sockets } = await page(new URLSearchParams('tab=files'));
    expect(sockets).to.have.length(0, 'no tail while the files are shown');
    const browser = $(view, 'yg-file-browser');
    await waitUntil(() => browser.shadowRoot!.querySelectorAll('tbody tr.row').length === 2, 'entries load');
    expect(host.api.calls.map((c) => c.path)).to.include('/files/tasks/prod_web.1/browse?path=');
    $$<HTMLButtonElement>(browser, 'td.title button')[0]!.click();
    expect(navigations).to.deep.equal(['/tasks/prod_web.1?tab=files&path=www']);
    await expect(view).to.be.accessible();
  });

  it('shows the live state at once, the details once read, and offers a retry when reading fails', async () => {
    let fail = true;
    const { view, host } = await page(new URLSearchParams(), () => {
      if (fail) throw apiError(503, { message: 'the master is busy', details: [] });
      return TASK;
    });
    await waitUntil(() => text($(view, 'dl')).includes('the master is busy'), 'the failure shows');
    const fields = text($(view, 'dl'));
    expect(fields).to.contain('TASK_RUNNING');
    expect(fields).to.contain('0.1 CPUs · 32 MiB memory');
    await expect(view).to.be.accessible();
    fail = false;
    $(view, 'dl md-text-button').click();
    await waitUntil(() => text($(view, 'dl')).includes('ports 31005'), 'the retry reads the details');
    expect(text($(view, 'dl'))).to.contain('YAGURA_APP_ID=/prod/web');
    expect(host.api.calls.filter((c) => c.path === '/api/v1/tasks/prod_web.1')).to.have.length(2);
  });
});
