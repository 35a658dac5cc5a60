import { expect } from '@open-wc/testing';
import type { StreamEvent, DeploymentView } from '../../protocol/types.js';
import { ActivityFeed, diffActivity } from '../../src/state/activity.js';
import { AllocationHistory, capacity } from '../../src/state/allocation-history.js';
import { EMPTY_CLUSTER, applyEvents, fromSnapshot } from '../../src/state/cluster-state.js';
import type { ClusterState } from '../../src/state/cluster-state.js';
import { Writable } from '../../src/state/readable.js';
import { mockAgent, mockSnapshot, mockTask, mockTaskSummary, resources } from '../support/builders.js';
import { mockService } from './mock-services.js';

const deployment: DeploymentView = {
  id: 'd1',
  version: 'v',
  affectedApps: ['/web'],
  steps: [[{ action: 'StartApplication', app: '/web' }]],
  currentStep: 1,
  status: 'running',
  startedAt: 1000,
};

function start(): ClusterState {
  return fromSnapshot(
    mockSnapshot({
      epoch: 'e',
      seq: 1,
      agents: [mockAgent({ id: 'a1', hostname: 'node-1' })],
      tasks: [mockTask({ id: 't1', agentId: 'a1', name: 'web' })],
      services: [mockService({ id: '/web' })],
      deployments: [deployment],
    }),
  );
}

type Change = StreamEvent extends infer E ? (E extends StreamEvent ? Omit<E, 'seq' | 'at'> : never) : never;
const at = (seq: number, event: Change): StreamEvent => ({ seq, at: 0, ...event }) as StreamEvent;

describe('activity', () => {
  it('tells task state changes, agents going unreachable and deployments finishing', () => {
    const before = start();
    const after = applyEvents(before, [
      at(2, { kind: 'task', op: 'patch', id: 't1', data: { state: 'TASK_FAILED', message: 'exit 1', updatedAt: 5000 } }),
      at(3, { kind: 'agent', op: 'patch', id: 'a1', data: { state: 'UNREACHABLE', unreachableAt: 6000 } }),
      at(4, { kind: 'deployment', op: 'patch', id: 'd1', data: { status: 'success', endedAt: 7000 } }),
      at(5, { kind: 'deployment', op: 'delete', id: 'd1' }),
    ]);
    const items = diffActivity(before, after, 9000);
    expect(items.map((i) => [i.text, i.tone, i.href])).to.deep.equal([
      ['Deployment finished: /web', 'ok', '/services/%2Fweb'],
      ['Agent node-1 became unreachable', 'lost', '/nodes/a1'],
      ['Task web failed: exit 1', 'error', '/tasks/t1'],
    ]);
    expect(new Set(items.map((i) => i.key)).size).to.equal(3);
  });

  it('says nothing about a first snapshot, staging tasks, or patches that change no state', () => {
    const first = start();
    expect(diffActivity(EMPTY_CLUSTER, first, 0)).to.deep.equal([]);
    const staged = applyEvents(first, [
      at(2, { kind: 'task', op: 'put', id: 't2', data: mockTaskSummary({ id: 't2', agentId: 'a1', state: 'TASK_STAGING' }) }),
      at(3, { kind: 'task', op: 'patch', id: 't1', data: { healthy: true } }),
    ]);
    expect(diffActivity(first, staged, 0)).to.deep.equal([]);
  });

  it('keeps the newest items while it runs, and forgets them on logout', () => {
    const source = new Writable<ClusterState>(start());
    const feed = new ActivityFeed(source, { limit: 2, now: () => 100 });
    feed.start();
    let state = source.value;
    for (let seq = 2; seq <= 4; seq++) {
      state = applyEvents(state, [at(seq, { kind: 'task', op: 'patch', id: 't1', data: { state: seq % 2 ? 'TASK_RUNNING' : 'TASK_KILLING', updatedAt: seq } })]);
      source.set(state);
    }
    expect(feed.items.value.map((i) => i.text)).to.deep.equal(['Task web killing', 'Task web running']);
    source.set(EMPTY_CLUSTER);
    expect(feed.items.value).to.deep.equal([]);
    feed.stop();
  });
});

describe('allocation history', () => {
  it('sums allocated and total resources of active agents only', () => {
    const agents = new Map([
      ['a1', mockAgent({ id: 'a1', resources: resources({ cpus: 4, mem: 1000 }), allocated: resources({ cpus: 1, mem: 250 }) })],
      ['a2', mockAgent({ id: 'a2', state: 'DRAINED', resources: resources({ cpus: 8 }), allocated: resources({ cpus: 8 }) })],
    ]);
    expect(capacity(agents)).to.deep.equal({ cpus: { used: 1, total: 4 }, mem: { used: 250, total: 1000 }, disk: { used: 0, total: 0 } });
  });

  it('samples on its timer while started, keeps a bounded window and clears on logout', () => {
    const source = new Writable<ClusterState>(EMPTY_CLUSTER);
    let tick: (() => void) | undefined;
    let now = 0;
    const history = new AllocationHistory(source, {
      limit: 3,
      now: () => now,
      setInterval: (cb) => ((tick = cb), 1),
      clearInterval: () => (tick = undefined),
    });
    history.start();
    expect(history.samples.value).to.have.length(0, 'nothing to sample before a snapshot');
    source.set(start());
    for (let i = 1; i <= 4; i++) {
      now = i * 5000;
      tick!();
    }
    expect(history.samples.value.map((s) => s.at)).to.deep.equal([10000, 15000, 20000]);
    expect(history.samples.value[0]).to.include({ cpus: 0, cpusTotal: 4, memTotal: 8192 });
    source.set(EMPTY_CLUSTER);
    expect(history.samples.value).to.have.length(0);
    history.stop();
    expect(tick).to.equal(undefined);
  });
});
