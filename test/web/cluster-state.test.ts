import { expect } from '@open-wc/testing';
import type { StreamEvent } from '../../protocol/types.js';
import { EMPTY_CLUSTER, applyEvents, decodeCompact, fromSnapshot } from '../../src/state/cluster-state.js';
import { changedIds, forEachChange } from '../../src/state/id-map.js';
import { mockAgent, mockFramework, mockSnapshot, mockTask, mockTaskSummary } from '../support/builders.js';

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
    const events: StreamEvent[] = [
      { seq: 11, at: 1, kind: 'agent', op: 'put', id: 'a3', data: mockAgent({ id: 'a3', hostname: 'new.example' }) },
      { seq: 12, at: 1, kind: 'task', op: 'put', id: 't3', data: mockTaskSummary({ id: 't3', agentId: 'a3' }) },
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

describe('compact batches', () => {
  it('decodes [first seq, [code, id, data?]…] into numbered events', () => {
    const task = mockTaskSummary({ id: 't9', agentId: 'a1' });
    expect(decodeCompact([41, ['t+', 't9', task], ['t~', 't9', { state: 'TASK_KILLED' }], ['a-', 'a2'], ['r~', 'run-1', { status: 'ACTIVE' }]])).to.deep.equal([
      { seq: 41, kind: 'task', op: 'put', id: 't9', data: task },
      { seq: 42, kind: 'task', op: 'patch', id: 't9', data: { state: 'TASK_KILLED' } },
      { seq: 43, kind: 'agent', op: 'delete', id: 'a2' },
      { seq: 44, kind: 'jobRun', op: 'patch', id: 'run-1', data: { status: 'ACTIVE' } },
    ]);
  });

  it('refuses what it cannot read', () => {
    expect(() => decodeCompact([1, ['q+', 'x', {}]])).to.throw();
    expect(() => decodeCompact([1, ['t*', 'x', {}]])).to.throw();
    expect(() => decodeCompact(['1', ['t~', 'x', {}]] as never)).to.throw();
  });
});

describe('big clusters', () => {
  const many = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => mockTaskSummary({ id: `${prefix}${i}`, agentId: `a${i % 7}` }));

  it('changes only the touched tasks of 20,000 and knows which ids changed', () => {
    const before = fromSnapshot(mockSnapshot({ seq: 1, tasks: many(20_000) }));
    expect(before.tasks.size).to.equal(20_000);
    const after = applyEvents(before, [
      { seq: 2, kind: 'task', op: 'patch', id: 't5', data: { state: 'TASK_FAILED' } },
      { seq: 3, kind: 'task', op: 'delete', id: 't6' },
      { seq: 4, kind: 'task', op: 'put', id: 'new', data: mockTaskSummary({ id: 'new', agentId: 'a1' }) },
    ]);
    expect(after.tasks.size).to.equal(20_000);
    expect(after.tasks.get('t5')?.state).to.equal('TASK_FAILED');
    expect(after.tasks.has('t6')).to.equal(false);
    expect(after.tasks.get('t7')).to.equal(before.tasks.get('t7'));
    expect(before.tasks.get('t5')?.state).to.equal('TASK_RUNNING', 'the older version is untouched');
    expect(before.tasks.has('t6')).to.equal(true);
    expect([...changedIds(before.tasks, after.tasks)!].sort()).to.deep.equal(['new', 't5', 't6']);
    const later = applyEvents(after, [{ seq: 5, kind: 'task', op: 'patch', id: 't8', data: { healthy: false } }]);
    expect([...changedIds(before.tasks, later.tasks)!].sort()).to.deep.equal(['new', 't5', 't6', 't8'], 'changes add up over versions');
    expect(changedIds(later.tasks, before.tasks)).to.equal(undefined, 'not a descendant: unknown');
    let seen = 0;
    later.tasks.forEach(() => seen++);
    expect(seen).to.equal(later.tasks.size);
    expect(new Set(later.tasks.keys()).size).to.equal(later.tasks.size);
  });

  it('tells every change of a plain Map by comparing all entries', () => {
    const prev = new Map([['a', 1], ['b', 2]]);
    const next = new Map([['a', 1], ['b', 3], ['c', 4]]);
    const seen: Array<[string, number | undefined, number | undefined]> = [];
    forEachChange(prev, next, (id, before, after) => seen.push([id, before, after]));
    forEachChange(next, prev, (id, before, after) => seen.push([id, before, after]));
    expect(seen).to.deep.equal([['b', 2, 3], ['c', undefined, 4], ['b', 3, 2], ['c', 4, undefined]]);
  });

  it('grows from empty to many entries through events', () => {
    let state = fromSnapshot(mockSnapshot({ seq: 0 }));
    let seq = 0;
    for (let k = 0; k < 30; k++) {
      state = applyEvents(state, many(200, `b${k}-`).map((t) => ({ seq: ++seq, kind: 'task' as const, op: 'put' as const, id: t.id, data: t })));
    }
    expect(state.tasks.size).to.equal(6_000);
    expect(state.tasks.get('b29-199')?.id).to.equal('b29-199');
    expect(state.tasks.get('b0-0')?.id).to.equal('b0-0');
  });
});
