import { expect } from '@open-wc/testing';
import type { StreamEvent, TaskState, TaskSummary } from '../../protocol/types.js';
import { applyEvents, fromSnapshot } from '../../src/state/cluster-state.js';
import type { ClusterState } from '../../src/state/cluster-state.js';
import { SharedSelectorWarmer, activeTaskCounts, agentsByHostname, hostnames, taskStateCounts, tasksByActivity, warmSharedSelectors } from '../../src/views/cluster-selectors.js';
import { Writable } from '../../src/state/readable.js';
import { mockAgent, mockSnapshot, mockTaskSummary } from '../support/builders.js';

const STATES: TaskState[] = ['TASK_STAGING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FAILED', 'TASK_KILLED', 'TASK_FINISHED'];

/** A deterministic sequence in [0, 1). */
function random(seed: number) {
  let x = seed;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function cluster(n: number): ClusterState {
  const tasks = Array.from({ length: n }, (_, i) =>
    mockTaskSummary({ id: `t${i}`, agentId: `a${i % 13}`, state: STATES[i % STATES.length]!, updatedAt: 1_000 + (i % 50) }),
  );
  const agents = Array.from({ length: 13 }, (_, i) => mockAgent({ id: `a${i}`, hostname: `node-${(i * 7) % 13}` }));
  return fromSnapshot(mockSnapshot({ seq: 1, tasks, agents }));
}

function sortedFully(tasks: ReadonlyMap<string, TaskSummary>): string[] {
  const terminal = (t: TaskSummary) => ['TASK_FAILED', 'TASK_KILLED', 'TASK_FINISHED'].includes(t.state);
  return [...tasks.values()]
    .sort((a, b) => Number(terminal(a)) - Number(terminal(b)) || b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((t) => t.id);
}

function counts<K>(tasks: ReadonlyMap<string, TaskSummary>, key: (t: TaskSummary) => K | undefined): Map<K, number> {
  const out = new Map<K, number>();
  for (const t of tasks.values()) {
    const k = key(t);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

const live = (t: TaskSummary) => !['TASK_FAILED', 'TASK_KILLED', 'TASK_FINISHED'].includes(t.state);

describe('cluster selectors on a changing cluster', () => {
  it('keep the sorted task list and the counts equal to a full recomputation, change after change', () => {
    let state = cluster(3_000);
    const sorted = tasksByActivity();
    const perAgent = activeTaskCounts();
    const perState = taskStateCounts();
    const next = random(7);
    let seq = 1;
    let lastList = sorted(state.tasks);
    let newId = 0;
    for (let round = 0; round < 40; round++) {
      const events: StreamEvent[] = [];
      for (let k = 0; k < 1 + Math.floor(next() * 12); k++) {
        const id = `t${Math.floor(next() * 3_000)}`;
        const roll = next();
        if (roll < 0.1) events.push({ seq: ++seq, kind: 'task', op: 'delete', id });
        else if (roll < 0.2) {
          const fresh = `n${newId++}`;
          events.push({ seq: ++seq, kind: 'task', op: 'put', id: fresh, data: mockTaskSummary({ id: fresh, agentId: 'a3', state: 'TASK_STAGING', updatedAt: 2_000 + round }) });
        } else {
          events.push({ seq: ++seq, kind: 'task', op: 'patch', id, data: { state: STATES[Math.floor(next() * STATES.length)]!, updatedAt: 1_000 + Math.floor(next() * 80) } });
        }
      }
      state = applyEvents(state, events);
      const list = sorted(state.tasks);
      expect(list.map((t) => t.id)).to.deep.equal(sortedFully(state.tasks), `round ${round}`);
      expect(list.every((t) => state.tasks.get(t.id) === t), 'the list holds the current objects').to.equal(true);
      expect(list).to.not.equal(lastList);
      lastList = list;
      expect(new Map(perAgent(state.tasks))).to.deep.equal(counts(state.tasks, (t) => (live(t) ? t.agentId : undefined)));
      expect(new Map(perState(state.tasks))).to.deep.equal(counts(state.tasks, (t) => t.state));
    }
    expect(sorted(state.tasks)).to.equal(lastList, 'the same map gives the same list');
  });

  it('sort a whole new cluster (ranked sort, ties by id) as the full order does, and share their memo between views', () => {
    const a = cluster(5_000);
    const b = cluster(4_000); // not derived from a: sorted anew
    const sorted = tasksByActivity();
    expect(sorted(a.tasks).map((t) => t.id)).to.deep.equal(sortedFully(a.tasks));
    expect(sorted(b.tasks).map((t) => t.id)).to.deep.equal(sortedFully(b.tasks));
    // a second view (or the same view opened again) gets the list the first one made
    const list = sorted(b.tasks);
    expect(tasksByActivity()(b.tasks)).to.equal(list);
    expect(agentsByHostname()).to.equal(agentsByHostname());
    expect(activeTaskCounts()).to.equal(activeTaskCounts());
  });

  it('keep the counts identical when a change moves no count', () => {
    const state = cluster(200);
    const perAgent = activeTaskCounts();
    const before = perAgent(state.tasks);
    const next = applyEvents(state, [{ seq: 2, kind: 'task', op: 'patch', id: 't1', data: { healthy: false } }]);
    expect(perAgent(next.tasks)).to.equal(before);
  });

  it('keep agents sorted by hostname and the name map unchanged until a name changes', () => {
    const state = cluster(10);
    const byName = agentsByHostname();
    const names = hostnames();
    const first = names(state.agents);
    const order = byName(state.agents).map((a) => a.hostname);
    expect(order).to.deep.equal([...state.agents.values()].map((a) => a.hostname).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    // numbers by value, as an operator reads them: node-2 before node-10
    expect(order.slice(0, 3)).to.deep.equal(['node-0', 'node-1', 'node-2']);
    expect(order.indexOf('node-9')).to.be.lessThan(order.indexOf('node-10'));
    const busier = applyEvents(state, [{ seq: 2, kind: 'agent', op: 'patch', id: 'a4', data: { state: 'DRAINING' } }]);
    expect(names(busier.agents)).to.equal(first, 'no name changed');
    expect(byName(busier.agents).find((a) => a.id === 'a4')?.state).to.equal('DRAINING');
    const renamed = applyEvents(busier, [{ seq: 3, kind: 'agent', op: 'patch', id: 'a4', data: { hostname: 'aaa-first' } }]);
    expect(names(renamed.agents).get('a4')).to.equal('aaa-first');
    expect(byName(renamed.agents)[0]!.id).to.equal('a4');
  });
});

describe('the shared selectors kept current in idle time', () => {
  const setup = (state: ClusterState) => {
    const source = new Writable(state);
    const idle: Array<() => void> = [];
    const warmed: ClusterState[] = [];
    let clock = 0;
    const warmer = new SharedSelectorWarmer(source, {
      idle: (work) => {
        idle.push(work);
        return () => idle.splice(idle.indexOf(work), 1);
      },
      now: () => clock,
      everyMs: 1000,
      warm: (s) => warmed.push(s),
    });
    return { source, idle, warmed, warmer, tick: (ms: number) => (clock += ms) };
  };

  it('brings them up to date when the page is idle, at most once a second, and not before the first data', async () => {
    const { source, idle, warmed, warmer, tick } = setup({ ...cluster(5), loaded: false });
    warmer.start();
    expect(idle).to.have.length(0, 'nothing to warm before the snapshot');
    const loaded = cluster(20);
    source.set(loaded);
    expect(idle).to.have.length(1);
    source.set(applyEvents(loaded, [{ seq: loaded.seq + 1, kind: 'task', op: 'patch', id: 't1', data: { state: 'TASK_FAILED' } }]));
    expect(idle).to.have.length(1, 'one idle run for many changes');
    idle.shift()!();
    expect(warmed).to.deep.equal([source.value], 'the latest state');
    tick(300);
    source.set({ ...source.value, seq: source.value.seq + 1 });
    expect(idle).to.have.length(0, 'not again within the second');
    tick(700);
    await new Promise((r) => setTimeout(r, 750));
    expect(idle).to.have.length(1, 'again once the second is over');
    warmer.stop();
    expect(idle).to.have.length(0, 'stop cancels what is pending');
    source.set({ ...source.value, seq: source.value.seq + 1 });
    expect(idle).to.have.length(0, 'and listens no more');
  });

  it('leaves each selector made, so a view that opens reads it without going over the cluster', () => {
    const state = cluster(200);
    let reads = 0;
    const counted = <V>(map: ReadonlyMap<string, V>): ReadonlyMap<string, V> =>
      new Proxy(map, {
        get(target, key) {
          if (key === 'values' || key === 'entries' || key === Symbol.iterator || key === 'forEach') reads++;
          const v = Reflect.get(target, key, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    const watched = { ...state, agents: counted(state.agents), tasks: counted(state.tasks) } as ClusterState;
    warmSharedSelectors(watched);
    expect(reads).to.be.greaterThan(0);
    const before = reads;
    agentsByHostname()(watched.agents);
    hostnames()(watched.agents);
    activeTaskCounts()(watched.tasks);
    tasksByActivity()(watched.tasks);
    expect(reads).to.equal(before, 'every selector found its result made');
  });
});
