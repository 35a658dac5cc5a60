import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import '../../src/components/yg-install-dialog.js';
import { serviceSteps } from '../../src/components/yg-install-dialog.js';
import type { YgInstallDialog } from '../../src/components/yg-install-dialog.js';
import type { YgSchemaForm } from '../../src/components/yg-schema-form.js';
import type { PackageDefinition } from '../../src/data/catalog.js';
import { $, $$, settle, text, typeInto } from './harness.js';
import { mockDeployment, mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const PKG: PackageDefinition = {
  packagingVersion: '4.0',
  name: 'hello-web',
  version: '1.2.0',
  releaseVersion: 2,
  maintainer: 'ops@example.com',
  description: 'A tiny web server.',
  tags: ['web'],
  selected: true,
  framework: false,
  kind: 'service',
  preInstallNotes: 'Needs 0.1 CPU per instance. Docs: https://example.com/hello',
  postInstallNotes: 'Open it through the proxy.',
  config: {
    type: 'object',
    properties: {
      service: {
        type: 'object',
        properties: {
          name: { type: 'string', default: 'hello' },
          instances: { type: 'integer', default: 1, minimum: 0 },
        },
        required: ['name'],
      },
    },
  },
};

async function dialog(pkg: PackageDefinition = PKG) {
  const el = await fixture<YgInstallDialog>(html`<yg-install-dialog .pkg=${pkg}></yg-install-dialog>`);
  el.open = true;
  const md = $<MdDialog>(el, 'md-dialog');
  await waitUntil(() => md.open && md.shadowRoot?.querySelector('dialog')?.open, 'the dialog opens');
  await settle(el, 6);
  return el;
}

const form = (el: YgInstallDialog) => $<YgSchemaForm>(el, 'yg-schema-form');
const field = (el: YgInstallDialog, label: string) => $$<MdOutlinedTextField>(form(el), 'md-outlined-text-field').find((f) => f.label === label)!;
const json = (el: YgInstallDialog) => $<HTMLTextAreaElement>(el, 'textarea');
const installButton = (el: YgInstallDialog) => $$<HTMLElement>(el, 'md-filled-button').find((b) => text(b) === 'Install')!;
async function tab(el: YgInstallDialog, index: number) {
  const tabs = $<MdTabs>(el, 'md-tabs');
  (tabs.querySelectorAll('md-primary-tab')[index] as HTMLElement).click();
  await settle(el, 6);
}

describe('yg-install-dialog', () => {
  before(() => useTheme());

  it("starts from the package's defaults, with its notes, and installs with the options as edited", async () => {
    const el = await dialog();
    expect(text($(el, '[slot="headline"]'))).to.equal('Install hello-web 1.2.0');
    expect(text($(el, '.notice'))).to.equal('Needs 0.1 CPU per instance. Docs: https://example.com/hello');
    expect($(el, '.notice a').getAttribute('href')).to.equal('https://example.com/hello');
    expect(JSON.parse(json(el).value)).to.deep.equal({ service: { name: 'hello', instances: 1 } });
    await typeInto(field(el, 'name'), 'greeter');
    await typeInto(field(el, 'instances'), '2');
    await settle(el);
    expect(JSON.parse(json(el).value)).to.deep.equal({ service: { name: 'greeter', instances: 2 } }, 'the JSON follows the form');
    const install = oneEvent(el, 'yg-install');
    installButton(el).click();
    expect((await install).detail).to.deep.equal({ options: { service: { name: 'greeter', instances: 2 } } });
    await expect(el).to.be.accessible();
  });

  it('takes the options from the JSON view into the form', async () => {
    const el = await dialog();
    await tab(el, 1);
    await typeInto(json(el), '{"service": {"name": "from-json", "instances": 3}, "extra": true}');
    await settle(el);
    await tab(el, 0);
    expect([field(el, 'name').value, field(el, 'instances').value]).to.deep.equal(['from-json', '3']);
    await tab(el, 1);
    await typeInto(json(el), '{"service": ');
    await settle(el);
    expect(text($(el, '#json-error'))).to.contain('This is not valid JSON');
    let installed = false;
    el.addEventListener('yg-install', () => (installed = true));
    installButton(el).click();
    await settle(el);
    expect(installed).to.equal(false, 'no install while the JSON does not parse');
    await expect(el).to.be.accessible();
  });

  it('checks the form before installing and shows what is missing at the field', async () => {
    const el = await dialog();
    await typeInto(field(el, 'name'), '');
    let installed = false;
    el.addEventListener('yg-install', () => (installed = true));
    installButton(el).click();
    await settle(el, 6);
    expect(field(el, 'name').errorText).to.equal('Required');
    expect(installed).to.equal(false);
  });

  it("puts the master's 422 at the field, and template problems in the message", async () => {
    const el = await dialog();
    await tab(el, 1);
    el.message = 'Options are not valid';
    el.errors = [
      { path: '/service/instances', errors: ['must be <= 10'] },
      { path: '/marathonJson/cpus', errors: ['must be > 0'] },
      { path: '/nonsense', errors: ['is not allowed'] },
    ];
    await settle(el, 6);
    expect($<MdTabs>(el, 'md-tabs').activeTabIndex).to.equal(0, 'back in the form, where the error is');
    expect(field(el, 'instances').errorText).to.equal('must be <= 10');
    const alert = text($(el, '[slot="content"] > .error[role="alert"]'));
    expect(alert).to.contain('Options are not valid — see the marked field.');
    expect(alert).to.contain('/marathonJson/cpus: must be > 0');
    expect(alert).to.contain('/nonsense');
    await expect(el).to.be.accessible();
  });

  it('asks for a preview of the definition and shows it', async () => {
    const el = await dialog();
    const asked = oneEvent(el, 'yg-preview');
    await tab(el, 2);
    expect((await asked).detail).to.deep.equal({ options: { service: { name: 'hello', instances: 1 } } });
    el.preview = { marathonJson: { id: '/hello', instances: 1, labels: { DCOS_PACKAGE_NAME: 'hello-web' } } };
    await settle(el);
    expect(JSON.parse(text($(el, 'pre')))).to.deep.equal({ id: '/hello', instances: 1, labels: { DCOS_PACKAGE_NAME: 'hello-web' } });
    await expect(el).to.be.accessible();
  });

  it('follows the service until it is healthy, then shows the notes and where to find it', async () => {
    const el = await dialog();
    el.result = { packageName: 'hello-web', packageVersion: '1.2.0', appId: '/hello', kind: 'service', deploymentId: 'd1' };
    await settle(el);
    expect(text($(el, '[slot="headline"]'))).to.equal('Installing hello-web');
    const marks = () => $$(el, 'ol.steps li').map((li) => li.className);
    expect(marks()).to.deep.equal(['current', 'next', 'next']);

    el.service = mockService({ id: '/hello', instances: 2, tasksRunning: 1, tasksStaged: 1, healthChecked: true, status: 'Deploying' });
    el.deployments = [mockDeployment({ id: 'd1', affectedApps: ['/hello'] })];
    await settle(el);
    expect(marks()).to.deep.equal(['done', 'current', 'next']);
    expect(text($$(el, 'ol.steps li')[1])).to.contain('1 of 2');
    expect($$(el, '.links a').length).to.equal(0, 'its web interface is linked once it is up');
    await expect(el).to.be.accessible();

    el.service = mockService({ id: '/hello', instances: 2, tasksRunning: 2, tasksHealthy: 1, healthChecked: true, status: 'Deploying' });
    await settle(el);
    expect(marks()).to.deep.equal(['done', 'done', 'current']);
    expect($$(el, '.notes').length).to.equal(0, 'notes wait until it is up');

    el.service = mockService({ id: '/hello', instances: 2, tasksRunning: 2, tasksHealthy: 2, healthChecked: true, status: 'Running' });
    el.deployments = [];
    await settle(el);
    expect(marks()).to.deep.equal(['done', 'done', 'done']);
    expect(text($(el, '[slot="headline"]'))).to.equal('Installed hello-web');
    expect(text($(el, '.progress [role="status"]'))).to.equal('/hello is running and healthy.');
    expect(text($(el, '.notes'))).to.equal('Open it through the proxy.');
    expect($$<HTMLAnchorElement>(el, '.links a').map((a) => a.getAttribute('href'))).to.deep.equal(['/service/hello/']);
    expect($(el, 'md-filled-button').getAttribute('href')).to.equal('/services/%2Fhello');
    await expect(el).to.be.accessible();
  });

  it('says why the service waits', async () => {
    const el = await dialog();
    el.result = { packageName: 'hello-web', packageVersion: '1.2.0', appId: '/hello', kind: 'service' };
    el.service = mockService({ id: '/hello', instances: 1, tasksRunning: 0, status: 'Waiting', waiting: 'waiting: no agent has 64 CPUs' });
    await settle(el);
    expect(text($(el, '.notice.warn'))).to.equal('waiting: no agent has 64 CPUs');
    await expect(el).to.be.accessible();
  });

  it('links a job package to its job', async () => {
    const el = await dialog({ ...PKG, name: 'backup', kind: 'job', postInstallNotes: 'Runs nightly.' });
    el.result = { packageName: 'backup', packageVersion: '1.2.0', appId: 'ops.backup', kind: 'job' };
    await settle(el);
    expect(text($(el, '.progress [role="status"]'))).to.contain('Job ops.backup was created');
    expect(text($(el, '.notes'))).to.equal('Runs nightly.');
    expect($(el, '.links a').getAttribute('href')).to.equal('/jobs/ops.backup');
    await expect(el).to.be.accessible();
  });

  it('reports Cancel as a dismissal', async () => {
    const el = await dialog();
    const closed = oneEvent(el, 'yg-dialog-close');
    $$<HTMLElement>(el, 'md-text-button').find((b) => text(b) === 'Cancel')!.click();
    await closed;
  });
});

describe('install progress', () => {
  it('counts a service without health checks as healthy once it runs', () => {
    const s = mockService({ id: '/a', instances: 1, tasksRunning: 1, healthChecked: false });
    expect(serviceSteps(s, [], true).complete).to.equal(true);
    expect(serviceSteps(s, [mockDeployment({ id: 'd', affectedApps: ['/a'] })], true).complete).to.equal(false, 'not while its deployment runs');
    expect(serviceSteps(undefined, [], true).complete).to.equal(false);
  });
});
