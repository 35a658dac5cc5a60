import { expect } from '@open-wc/testing';
import type { ClusterEvent } from '../../protocol/types.js';
import { EMPTY_CLUSTER, applyEvents, fromSnapshot } from '../../src/state/cluster-state.js';
import { mockAgent, mockFramework, mockSnapshot, mockTask } from '../support/builders.js';

function start() {
  return fromSnapshot(
    mockSnapshot({
      epoch: 'e1',
      seq: 10,
      agents: [mockAgent({ id: 'a1' }), mockAgent({ id: 'a2' })],
      tasks: [mockTask({ id: 't1', agentId: 'a1' }), mockTask({ id: 't2', agentId: 'a2' })],
      frameworks: [mockFramework({ id: 'services' })],
    }),
  );
}

describe('cluster state', () => {
  it('starts empty and not loaded, and a snapshot loads it keyed by id', () => {
    expect(EMPTY_CLUSTER.loaded).to.equal(false);
    const state = start();
    expect(state.loaded).to.equal(true);
    expect(state.epoch).to.equal('e1');
    expect(state.seq).to.equal(10);
    expect([...state.agents.keys()]).to.deep.equal(['a1', 'a2']);
    expect(state.tasks.get('t2')?.agentId).to.equal('a2');
    expect(state.frameworks.get('services')?.builtin).to.equal(true);
  });

  it('gives a patched task a new identity and keeps every other object and map as it was', () => {
    const before = start();
    const after = applyEvents(before, [
      { seq: 11, at: 1, kind: 'task', op: 'patch', id: 't1', data: { state: 'TASK_FAILED', updatedAt: 5 } },
    ]);
    expect(after).to.not.equal(before);
    expect(after.seq).to.equal(11);
    expect(after.tasks.get('t1')?.state).to.equal('TASK_FAILED');
    expect(after.tasks.get('t1')?.name).to.equal('t1', 'fields not in the patch are kept');
    expect(after.tasks.get('t1')).to.not.equal(before.tasks.get('t1'));
    expect(after.tasks.get('t2')).to.equal(before.tasks.get('t2'), 'the unchanged task keeps its identity');
    expect(after.agents).to.equal(before.agents, 'maps without changes keep their identity');
    expect(after.frameworks).to.equal(before.frameworks);
    expect(before.tasks.get('t1')?.state).to.equal('TASK_RUNNING', 'the old state is not mutated');
  });

  it('applies puts and deletes of every kind, in order', () => {
    const before = start();
    const events: ClusterEvent[] = [
      { seq: 11, at: 1, kind: 'agent', op: 'put', id: 'a3', data: mockAgent({ id: 'a3', hostname: 'new.example' }) },
      { seq: 12, at: 1, kind: 'task', op: 'put', id: 't3', data: mockTask({ id: 't3', agentId: 'a3' }) },
      { seq: 13, at: 1, kind: 'agent', op: 'delete', id: 'a2' },
      { seq: 14, at: 1, kind: 'task', op: 'delete', id: 't2' },
      { seq: 15, at: 1, kind: 'framework', op: 'patch', id: 'services', data: { suppressed: true } },
      { seq: 16, at: 1, kind: 'framework', op: 'put', id: 'jobs', data: mockFramework({ id: 'jobs' }) },
      { seq: 17, at: 1, kind: 'task', op: 'patch', id: 't3', data: { state: 'TASK_STARTING' } },
    ];
    const after = applyEvents(before, events);
    expect([...after.agents.keys()]).to.deep.equal(['a1', 'a3']);
    expect([...after.tasks.keys()]).to.deep.equal(['t1', 't3']);
    expect(after.tasks.get('t3')?.state).to.equal('TASK_STARTING', 'a patch after a put in one batch sees the put');
    expect(after.frameworks.get('services')?.suppressed).to.equal(true);
    expect(after.frameworks.has('jobs')).to.equal(true);
    expect(after.agents.get('a1')).to.equal(before.agents.get('a1'));
    expect(after.tasks.get('t1')).to.equal(before.tasks.get('t1'));
    expect(after.seq).to.equal(17);
  });

  it('replaces an object on put, even one it already has', () => {
    const before = start();
    const replacement = mockAgent({ id: 'a1', hostname: 'renamed.example', state: 'DRAINING' });
    const after = applyEvents(before, [{ seq: 11, at: 1, kind: 'agent', op: 'put', id: 'a1', data: replacement }]);
    expect(after.agents.get('a1')).to.equal(replacement);
    expect(after.agents.get('a2')).to.equal(before.agents.get('a2'));
  });

  it('skips events the snapshot already contains, so an overlapping resume is harmless', () => {
    const before = start();
    const replayed = applyEvents(before, [
      { seq: 9, at: 1, kind: 'task', op: 'delete', id: 't1' },
      { seq: 10, at: 1, kind: 'task', op: 'patch', id: 't2', data: { state: 'TASK_KILLED' } },
    ]);
    expect(replayed).to.equal(before, 'nothing new: the very same state object');

    const mixed = applyEvents(before, [
      { seq: 10, at: 1, kind: 'task', op: 'delete', id: 't1' },
      { seq: 11, at: 1, kind: 'task', op: 'delete', id: 't2' },
    ]);
    expect(mixed.tasks.has('t1')).to.equal(true);
    expect(mixed.tasks.has('t2')).to.equal(false);
  });

  it('keeps identities when a patch changes nothing or names an unknown object, but advances seq', () => {
    const before = start();
    const same = before.tasks.get('t1')!;
    const after = applyEvents(before, [
      { seq: 11, at: 1, kind: 'task', op: 'patch', id: 't1', data: { state: same.state, name: same.name } },
      { seq: 12, at: 1, kind: 'task', op: 'patch', id: 'ghost', data: { state: 'TASK_RUNNING' } },
      { seq: 13, at: 1, kind: 'agent', op: 'delete', id: 'ghost' },
    ]);
    expect(after.seq).to.equal(13);
    expect(after.tasks).to.equal(before.tasks);
    expect(after.agents).to.equal(before.agents);
    expect(after.tasks.has('ghost')).to.equal(false);
  });
});

describe('cleared fields', () => {
  it('removes a field that a patch sets to null', () => {
    const agent = { ...mockAgent({ id: 'a1' }), unreachableAt: 5 };
    const state = fromSnapshot(mockSnapshot({ seq: 1, agents: [agent] }));
    const next = applyEvents(state, [{ seq: 2, at: 0, kind: 'agent', op: 'patch', id: 'a1', data: { state: 'ACTIVE', unreachableAt: null } as never }]);
    const after = next.agents.get('a1')!;
    expect(after.state).to.equal('ACTIVE');
    expect('unreachableAt' in after).to.equal(false);
  });
});
