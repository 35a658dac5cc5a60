import { expect } from '@open-wc/testing';
import { LogTail, tailUrl } from '../../src/data/log-tail.js';
import { appPath, definitionOf, getQueue, replaceApp, rollbackApp, scaleApp } from '../../src/data/marathon.js';
import { createApi } from '../../src/state/api.js';
import { ThemeSetting, THEME_KEY } from '../../src/state/settings.js';
import { FakeApi } from './harness.js';
import { FakeSocket } from './stream-fakes.js';

describe('log tail', () => {
  it('says hello with the token, appends chunks and reports the end', () => {
    const sockets: FakeSocket[] = [];
    const tail = new LogTail({ url: 'ws://m/files/tasks/t1/tail?path=stdout', token: 'tok', createSocket: (u) => (sockets.push(new FakeSocket(u)), sockets[0]!) });
    const socket = sockets[0]!;
    expect(tail.state.value.status).to.equal('connecting');
    socket.open();
    expect(socket.sent).to.deep.equal([{ type: 'hello', token: 'tok' }]);
    expect(tail.state.value.status).to.equal('live');
    socket.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ type: 'chunk', data: 'hello\n', offset: 0 }) }));
    socket.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ type: 'chunk', data: 'world\n', offset: 6 }) }));
    expect(tail.state.value).to.deep.include({ text: 'hello\nworld\n', truncated: false });
    socket.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ type: 'end', message: 'task ended' }) }));
    expect(tail.state.value).to.deep.include({ status: 'ended', message: 'task ended' });
    tail.close();
    expect(socket.closedByClient?.code).to.equal(1000);
    expect(tail.state.value.status).to.equal('ended', 'closing keeps what was shown');
  });

  it('keeps only the newest text, from a whole line, and explains a refused stream', () => {
    const socket = new FakeSocket('x');
    const tail = new LogTail({ url: 'x', token: null, createSocket: () => socket, maxChars: 10 });
    socket.open();
    socket.onmessage?.(new MessageEvent('message', { data: JSON.stringify({ type: 'chunk', data: 'aaaa\nbbbb\ncccc\n', offset: 100 }) }));
    expect(tail.state.value).to.deep.include({ text: 'cccc\n', truncated: true });
    socket.serverClose(4401, 'missing or wrong token');
    expect(tail.state.value).to.deep.include({ status: 'error', message: 'missing or wrong token' });
    expect(tailUrl({ protocol: 'https:', host: 'h' }, 'web.1', 'stderr')).to.equal('wss://h/files/tasks/web.1/tail?path=stderr&offset=-65536');
  });
});

describe('marathon commands', () => {
  it('speaks Marathon: paths, partial and full updates, rollbacks, force', async () => {
    const api = new FakeApi();
    api.handler = (call) => (call.path === '/v2/queue' ? { queue: [{ app: { id: '/a' }, count: 1 }] } : { deploymentId: 'd', version: 'v' });
    expect(appPath('/prod/my app')).to.equal('/v2/apps/prod/my%20app');
    await scaleApp(api, '/prod/web', 3, { force: true });
    await replaceApp(api, '/prod/web', { id: '/prod/web', cmd: 'x' });
    await rollbackApp(api, '/prod/web', '2026-01-01T00:00:00.000Z');
    expect(await getQueue(api)).to.have.length(1);
    expect(api.calls.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.body ?? null)}`)).to.deep.equal([
      'PUT /v2/apps/prod/web?force=true {"instances":3}',
      'PUT /v2/apps/prod/web?partialUpdate=false {"id":"/prod/web","cmd":"x"}',
      'PUT /v2/apps/prod/web {"version":"2026-01-01T00:00:00.000Z"}',
      'GET /v2/queue null',
    ]);
    expect(definitionOf({ id: '/a', version: 'v', tasks: [], tasksRunning: 1, cmd: 'c' })).to.deep.equal({ id: '/a', cmd: 'c' });
  });

  it('turns error bodies into ApiError with details, and downloads blobs with the token', async () => {
    const seen: Array<{ url: string; auth: string | null }> = [];
    const api = createApi({
      getToken: () => 'tok',
      fetch: async (url, init) => {
        seen.push({ url: String(url), auth: new Headers(init?.headers).get('Authorization') });
        if (String(url).includes('download')) return new Response('file body', { status: 200 });
        return new Response(JSON.stringify({ message: 'Object is not valid', details: [{ path: '/cpus', errors: ['must be >= 0'] }] }), { status: 422 });
      },
    });
    const error = await api.request('/v2/apps', { body: {} }).catch((e: unknown) => e);
    expect(error).to.have.property('status', 422);
    expect(error).to.have.nested.property('body.details[0].path', '/cpus');
    expect(await (await api.blob('/files/tasks/t/download?path=stdout')).text()).to.equal('file body');
    expect(seen.every((s) => s.auth === 'Bearer tok')).to.equal(true);
  });
});

describe('theme setting', () => {
  it('applies and persists a choice, and forgets it for "follow the system"', () => {
    localStorage.removeItem(THEME_KEY);
    const root = document.createElement('div');
    const theme = new ThemeSetting({ storage: localStorage, root });
    expect(theme.value.value).to.equal('system');
    theme.set('dark');
    expect(root.dataset.theme).to.equal('dark');
    expect(localStorage.getItem(THEME_KEY)).to.equal('dark');
    expect(new ThemeSetting({ storage: localStorage, root: document.createElement('div') }).value.value).to.equal('dark');
    theme.set('system');
    expect(root.dataset.theme).to.equal(undefined);
    expect(localStorage.getItem(THEME_KEY)).to.equal(null);
  });

  it('switches every colour token between light and dark', async () => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = '/src/styles/theme.css';
    const loaded = new Promise((r) => (link.onload = r));
    document.head.append(link);
    await loaded;
    const html = document.documentElement;
    const probe = document.createElement('div');
    probe.style.background = 'var(--md-sys-color-background)';
    document.body.append(probe);
    try {
      html.dataset.theme = 'light';
      const light = getComputedStyle(probe).backgroundColor;
      html.dataset.theme = 'dark';
      const dark = getComputedStyle(probe).backgroundColor;
      expect(light).to.equal('rgb(248, 249, 255)');
      expect(dark).to.equal('rgb(17, 20, 24)');
    } finally {
      delete html.dataset.theme;
      probe.remove();
    }
  });
});
