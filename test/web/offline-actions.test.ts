// While the master cannot be reached (the shell sets commandsUnavailable), pages disable their
// action buttons and say why in text next to them, not only in a title: touch and keyboard users
// get no tooltip from a disabled button. When the master answers again, both go away.
import { expect, fixture, html } from '@open-wc/testing';
import type { MdFilledButton } from '@material/web/button/filled-button.js';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import { commandsUnavailable, UNAVAILABLE_NOTE } from '../../src/views/command-state.js';
import '../../src/views/yg-jobs-view.js';
import '../../src/views/yg-service-edit-view.js';
import '../../src/views/yg-service-view.js';
import '../../src/views/yg-task-view.js';
import type { StreamSocket } from '../../src/state/cluster-store.js';
import type { YgTaskView } from '../../src/views/yg-task-view.js';
import { mockAgent, mockSnapshot, mockTask } from '../support/builders.js';
import { $, $$, settle, text } from './harness.js';
import type { YgTestHost } from './harness.js';
import { mockJob } from './mock-jobs.js';
import { FakeSocket } from './stream-fakes.js';
import { mockDeployment, mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const REASON = 'Not available offline: the master cannot be reached, so nothing was sent. Try again once it answers.';
const SERVICE = '/prod/web';

async function mount(tag: string, path: string, params = '') {
  const host = await fixture<YgTestHost>(html`<yg-test-host></yg-test-host>`);
  host.api.handler = () => ({});
  host.cluster.set(
    fromSnapshot(
      mockSnapshot({
        seq: 1,
        agents: [mockAgent({ id: 'a1', hostname: 'node-1' })],
        tasks: [mockTask({ id: 'prod_web.1', name: 'web', agentId: 'a1', labels: { YAGURA_APP_ID: SERVICE } })],
        services: [mockService({ id: SERVICE, status: 'Deploying' })],
        deployments: [mockDeployment({ id: 'd1', affectedApps: [SERVICE] })],
        jobs: [mockJob({ id: 'prod.backup' }), mockJob({ id: 'tools.cleanup' })],
      }),
    ),
  );
  const view = document.createElement(tag) as HTMLElement & { path: string; params: URLSearchParams; createSocket?: (url: string) => StreamSocket };
  // The task page tails the task's log: a fake socket keeps it off the network.
  if (tag === 'yg-task-view') (view as YgTaskView).createSocket = (url) => new FakeSocket(url);
  view.path = path;
  view.params = new URLSearchParams(params);
  host.append(view);
  await settle(view);
  return { host, view };
}

/** Sets or clears the shared reason the way the shell does, and waits for the page to follow. */
async function offline(view: HTMLElement, reason: string) {
  commandsUnavailable.set(reason);
  await settle(view);
}

/** An md button's own <button> (or <a> for a link button): what the browser actually disables. */
function inner(button: Element): HTMLButtonElement | HTMLAnchorElement {
  const el = button.shadowRoot?.querySelector<HTMLButtonElement | HTMLAnchorElement>('button, a');
  if (!el) throw new Error(`${button.localName} has no inner button`);
  return el;
}

function isDisabled(button: Element): boolean {
  const el = inner(button);
  return el instanceof HTMLButtonElement ? el.disabled : el.getAttribute('aria-disabled') === 'true';
}

const labelled = (root: Element, selector: string, label: string) => {
  const found = $$(root, selector).find((b) => text(b).startsWith(label) || b.getAttribute('aria-label') === label);
  if (!found) throw new Error(`no ${selector} "${label}" in ${root.localName}`);
  return found;
};

/** The explanation shown next to the actions, visible on the page (not only a tooltip). */
function note(scope: Element | ShadowRoot): HTMLElement {
  const found = (scope instanceof Element ? (scope.shadowRoot ?? scope) : scope).querySelector<HTMLElement>('.unavailable-note');
  if (!found) throw new Error('no explanation next to the actions');
  return found;
}

function expectVisible(el: HTMLElement) {
  const box = el.getBoundingClientRect();
  expect(box.width, 'the explanation has a width').to.be.greaterThan(0);
  expect(box.height, 'the explanation has a height').to.be.greaterThan(0);
  expect(getComputedStyle(el).visibility).to.equal('visible');
}

describe('actions while the master cannot be reached', () => {
  before(() => useTheme());
  afterEach(() => commandsUnavailable.set(''));

  it('a service: its commands are disabled and explained beside them, Edit stays, and all return online', async () => {
    const { view, host } = await mount('yg-service-view', `/services/${encodeURIComponent(SERVICE)}`);
    const actions = $(view, 'header .actions');
    const commands = ['Scale', 'Restart', 'Suspend', 'Remove'].map((label) => labelled(actions, 'md-filled-tonal-button, md-outlined-button, md-text-button', label));
    const cancel = $(view, 'yg-deployment-progress');
    await settle(cancel);
    expect(commands.map(isDisabled)).to.deep.equal([false, false, false, false]);
    expect(isDisabled($(cancel, 'md-outlined-button'))).to.equal(false);
    expect($$(view, '.unavailable-note')).to.have.length(0);

    await offline(view, REASON);
    expect(commands.map(isDisabled)).to.deep.equal([true, true, true, true]);
    expect(isDisabled($(cancel, 'md-outlined-button')), 'Cancel deployment').to.equal(true);
    expect(isDisabled(labelled(actions, 'md-outlined-button', 'Edit')), 'Edit only opens the editor').to.equal(false);
    const explanation = note(view);
    expect(explanation.parentElement, 'the explanation sits with the buttons').to.equal(actions);
    expect(text(explanation)).to.equal(UNAVAILABLE_NOTE);
    expect(explanation.getAttribute('role')).to.equal('note');
    expectVisible(explanation);
    // A disabled button takes no click: no dialog opens and nothing is sent.
    commands[0]!.click();
    inner(commands[3]!).click();
    await settle(view);
    expect($$(view, 'yg-confirm-dialog, yg-scale-dialog').filter((d) => (d as unknown as { open: boolean }).open)).to.have.length(0);
    expect(host.api.commands).to.deep.equal([]);
    await expect(view).to.be.accessible();

    await offline(view, '');
    expect(commands.map(isDisabled)).to.deep.equal([false, false, false, false]);
    expect(isDisabled($(cancel, 'md-outlined-button'))).to.equal(false);
    expect($$(view, '.unavailable-note')).to.have.length(0);
  });

  it('a task: Kill task is disabled and explained', async () => {
    const { view } = await mount('yg-task-view', '/tasks/prod_web.1');
    const kill = labelled($(view, 'header .actions'), 'md-filled-tonal-button', 'Kill task');
    expect(isDisabled(kill)).to.equal(false);
    await offline(view, REASON);
    expect(isDisabled(kill)).to.equal(true);
    expect(note(view).parentElement).to.equal(kill.parentElement);
    expect(text(note(view))).to.equal(UNAVAILABLE_NOTE);
    expectVisible(note(view));
    await expect(view).to.be.accessible();
  });

  it('the jobs list: every "Run now" in the table is disabled, and the page says why', async () => {
    const { view } = await mount('yg-jobs-view', '/jobs');
    const table = $(view, 'yg-job-table');
    await settle(table);
    const runs = $$(table, 'md-icon-button').filter((b) => /^Run .* now$/.test(b.getAttribute('aria-label') ?? ''));
    expect(runs).to.have.length(2);
    expect(runs.map(isDisabled)).to.deep.equal([false, false]);
    await offline(view, REASON);
    expect(runs.map(isDisabled)).to.deep.equal([true, true]);
    expect(text(note(view))).to.equal(UNAVAILABLE_NOTE);
    expectVisible(note(view));
    await expect(view).to.be.accessible();
  });

  it('creating a service: the form can still be filled in, but not submitted, and the form says why', async () => {
    const { view } = await mount('yg-service-edit-view', '/services/new');
    const form = $(view, 'yg-app-form');
    await settle(form);
    const submit = $<MdFilledButton>(form, '.actions md-filled-button');
    expect(isDisabled(submit)).to.equal(false);
    await offline(view, REASON);
    await settle(form);
    expect(isDisabled(submit)).to.equal(true);
    // The page's note is slotted into the form's own action row, next to the button it explains.
    const explanation = note(view);
    expect(explanation.assignedSlot?.parentElement).to.equal(submit.parentElement);
    expect(text(explanation)).to.equal(UNAVAILABLE_NOTE);
    expectVisible(explanation);
    expect($$(form, 'md-outlined-text-field').every((f) => !(f as unknown as { disabled: boolean }).disabled)).to.equal(true);
    await expect(view).to.be.accessible();
  });
});
