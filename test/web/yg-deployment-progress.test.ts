import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { DeploymentView } from '../../protocol/types.js';
import '../../src/components/yg-deployment-progress.js';
import type { YgDeploymentProgress } from '../../src/components/yg-deployment-progress.js';
import { $, $$, text } from './harness.js';
import { useTheme } from './theme.js';

const NOW = 1_700_000_100_000;
const deployment: DeploymentView = {
  id: '9c82bd3c-0000-4000-8000-000000000000',
  version: '2026-01-01T00:00:00.000Z',
  affectedApps: ['/prod/db', '/prod/web'],
  steps: [[{ action: 'StartApplication', app: '/prod/db' }], [{ action: 'RestartApplication', app: '/prod/web' }]],
  currentStep: 2,
  status: 'running',
  startedAt: NOW - 12_000,
};

describe('yg-deployment-progress', () => {
  before(() => useTheme());

  it('shows the steps, which one runs, and its age', async () => {
    const el = await fixture<YgDeploymentProgress>(html`<yg-deployment-progress .deployment=${deployment} .now=${NOW}></yg-deployment-progress>`);
    const steps = $$(el, 'li');
    expect(steps.map((li) => text(li))).to.deep.equal(['Step 1 of 2 Start /prod/db ✓', 'Step 2 of 2 Restart /prod/web']);
    expect(steps[1]!.getAttribute('aria-current')).to.equal('step');
    expect(text($(el, '.meta'))).to.equal('9c82bd3c · started 12 s ago');
    expect(text($(el, 'yg-state-chip'))).to.equal('Running');
    await expect(el).to.be.accessible();
  });

  it('reports Cancel, and offers it only while running', async () => {
    const el = await fixture<YgDeploymentProgress>(html`<yg-deployment-progress .deployment=${deployment} .now=${NOW}></yg-deployment-progress>`);
    const cancel = oneEvent(el, 'yg-deployment-cancel');
    $(el, 'md-outlined-button').click();
    expect((await cancel).detail).to.deep.equal({ id: deployment.id });
    el.deployment = { ...deployment, status: 'failed', message: 'instances kept failing' };
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('md-outlined-button')).to.equal(null);
    expect(text($(el, '.message'))).to.equal('instances kept failing');
    await expect(el).to.be.accessible();
  });
});
