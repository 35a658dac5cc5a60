import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import '../../src/views/yg-service-edit-view.js';
import type { YgServiceEditView } from '../../src/views/yg-service-edit-view.js';
import { $, $$, apiError, settle, text, typeInto } from './harness.js';
import type { YgTestHost } from './harness.js';
import { useTheme } from './theme.js';

async function page(path: string, handler: YgTestHost['api']['handler']) {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.api.handler = handler;
  const navigations: string[] = [];
  host.addEventListener('yg-navigate', (e) => navigations.push(e.detail.to));
  const view = document.createElement('yg-service-edit-view') as YgServiceEditView;
  view.path = path;
  host.append(view);
  await settle(view);
  return { host, view, navigations };
}

const form = (view: YgServiceEditView) => $(view, 'yg-app-form');
const field = (view: YgServiceEditView, label: string) => $$<MdOutlinedTextField>(form(view), 'md-outlined-text-field').find((f) => f.label === label)!;

describe('yg-service-edit-view', () => {
  before(() => useTheme());

  it('creates a service from the form and opens its page', async () => {
    const { host, view, navigations } = await page('/services/new', () => ({ id: '/demo/web' }));
    await settle(form(view));
    await typeInto(field(view, 'Service ID'), '/demo/web');
    await typeInto(field(view, 'Command'), 'python3 -m http.server $PORT0');
    await typeInto(field(view, 'Memory'), '32');
    $(form(view), 'md-filled-button').click();
    await waitUntil(() => navigations.length === 1);
    expect(host.api.commands).to.deep.equal([
      {
        method: 'POST',
        path: '/v2/apps',
        body: { id: '/demo/web', cmd: 'python3 -m http.server $PORT0', instances: 1, cpus: 0.1, mem: 32, disk: 0, portDefinitions: [{ port: 0, protocol: 'tcp' }], env: {}, labels: {} },
      },
    ]);
    expect(navigations).to.deep.equal([`/services/${encodeURIComponent('/demo/web')}`]);
    await settle(view);
    await expect(view).to.be.accessible();
  });

  it("puts Marathon's 422 details at the fields", async () => {
    const { view } = await page('/services/new', () => {
      throw apiError(422, {
        message: 'Object is not valid',
        details: [
          { path: '/id', errors: ['is required'] },
          { path: '/cmd', errors: ['one of cmd, args or a container image is required'] },
        ],
      });
    });
    $(form(view), 'md-filled-button').click();
    await waitUntil(() => field(view, 'Service ID').error, 'the error reaches the field');
    expect(field(view, 'Service ID').errorText).to.equal('is required');
    expect(field(view, 'Command').errorText).to.equal('one of cmd, args or a container image is required');
    expect(text($(form(view), '.banner'))).to.contain('Object is not valid');
    await settle(view);
    await expect(view).to.be.accessible();
  });

  it('edits an existing service: loads it, and replaces the whole definition', async () => {
    const { host, view, navigations } = await page(`/services/${encodeURIComponent('/prod/web')}/edit`, (call) =>
      call.method === 'GET'
        ? { app: { id: '/prod/web', cmd: 'serve', instances: 2, cpus: 0.5, mem: 64, version: 'v1', tasksRunning: 2, deployments: [], constraints: [['hostname', 'UNIQUE']] } }
        : { deploymentId: 'd', version: 'v2' },
    );
    await waitUntil(() => view.shadowRoot!.querySelector('yg-app-form'), 'the definition loads');
    await settle(form(view));
    expect(text($(view, 'h1'))).to.equal('Edit /prod/web');
    expect(field(view, 'Service ID').readOnly).to.equal(true);
    await typeInto(field(view, 'Instances'), '3');
    $(form(view), 'md-filled-button').click();
    await waitUntil(() => navigations.length === 1);
    expect(host.api.commands).to.deep.equal([
      { method: 'PUT', path: '/v2/apps/prod/web?partialUpdate=false', body: { id: '/prod/web', cmd: 'serve', instances: 3, cpus: 0.5, mem: 64, constraints: [['hostname', 'UNIQUE']] } },
    ]);
    expect(navigations).to.deep.equal([`/services/${encodeURIComponent('/prod/web')}`]);
  });

  it('says when the definition cannot be read', async () => {
    const { view } = await page(`/services/${encodeURIComponent('/gone')}/edit`, () => {
      throw apiError(404, { message: "App '/gone' does not exist", details: [] });
    });
    await waitUntil(() => view.shadowRoot!.querySelector('[role="alert"]'));
    expect(text($(view, '[role="alert"]'))).to.equal("The definition could not be read: App '/gone' does not exist");
    await expect(view).to.be.accessible();
  });
});
