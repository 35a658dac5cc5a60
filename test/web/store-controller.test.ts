import { expect, fixture, html } from '@open-wc/testing';
import { ContextProvider } from '@lit/context';
import { LitElement } from 'lit';
import { customElement } from 'lit/decorators.js';
import { EMPTY_CLUSTER, applyEvents, fromSnapshot } from '../../src/state/cluster-state.js';
import type { ClusterState } from '../../src/state/cluster-state.js';
import { clusterContext } from '../../src/state/context.js';
import { Writable } from '../../src/state/readable.js';
import { StoreController } from '../../src/state/store-controller.js';
import { mockAgent, mockSnapshot, mockTask } from '../support/builders.js';

@customElement('yg-test-provider')
class YgTestProvider extends LitElement {
  readonly source = new Writable<ClusterState>(EMPTY_CLUSTER);
  readonly provider = new ContextProvider(this, { context: clusterContext, initialValue: this.source });
  protected override createRenderRoot() {
    return this;
  }
}

/** Counts its renders, to prove it sleeps through changes it did not select. */
@customElement('yg-test-agents-probe')
class YgTestAgentsProbe extends LitElement {
  renders = 0;
  readonly agents = new StoreController(this, clusterContext, (s) => s.agents);
  override render() {
    this.renders += 1;
    return html`${this.agents.value?.size ?? 'none'}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-test-provider': YgTestProvider;
    'yg-test-agents-probe': YgTestAgentsProbe;
  }
}

describe('StoreController', () => {
  it('subscribes when created on a host that is already connected', async () => {
    const probe = await fixture<YgTestAgentsProbe>(html`<yg-test-agents-probe></yg-test-agents-probe>`);
    const source = new Writable<number>(1);
    const late = new StoreController(probe, source);
    expect(late.value).to.equal(1);
    source.set(2);
    expect(late.value).to.equal(2, 'changes after creation reach it');
  });

  it('re-renders its host only when the selected slice changes identity', async () => {
    const root = await fixture<YgTestProvider>(
      html`<yg-test-provider><yg-test-agents-probe></yg-test-agents-probe></yg-test-provider>`,
    );
    const probe = root.querySelector('yg-test-agents-probe')!;
    await probe.updateComplete;
    expect(probe.shadowRoot!.textContent).to.equal('0');
    const rendersAtStart = probe.renders;

    const loaded = fromSnapshot(
      mockSnapshot({ seq: 1, agents: [mockAgent({ id: 'a1' })], tasks: [mockTask({ id: 't1', agentId: 'a1' })] }),
    );
    root.source.set(loaded);
    await probe.updateComplete;
    expect(probe.shadowRoot!.textContent).to.equal('1');
    expect(probe.renders).to.equal(rendersAtStart + 1);

    root.source.set(applyEvents(loaded, [{ seq: 2, at: 1, kind: 'task', op: 'patch', id: 't1', data: { state: 'TASK_FAILED' } }]));
    await probe.updateComplete;
    expect(probe.renders).to.equal(rendersAtStart + 1, 'a task change does not touch an agents-only view');
  });

  it('unsubscribes while disconnected and catches up when connected again', async () => {
    const root = await fixture<YgTestProvider>(
      html`<yg-test-provider><yg-test-agents-probe></yg-test-agents-probe></yg-test-provider>`,
    );
    const probe = root.querySelector('yg-test-agents-probe')!;
    await probe.updateComplete;
    probe.remove();
    const renders = probe.renders;
    root.source.set(fromSnapshot(mockSnapshot({ seq: 1, agents: [mockAgent({ id: 'a1' }), mockAgent({ id: 'a2' })] })));
    expect(probe.renders).to.equal(renders);
    expect(probe.isUpdatePending).to.equal(false, 'a detached view does not even schedule work');

    root.append(probe);
    await probe.updateComplete;
    expect(probe.shadowRoot!.textContent).to.equal('2');
  });
});
