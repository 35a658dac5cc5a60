import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusUpdate, TaskState, TaskView } from '../../protocol/types.js';
import { TASK_STATES, TERMINAL_TASK_STATES } from '../../protocol/types.js';
import { TRANSITIONS, applyStatusUpdate, canTransition } from '../../server/core/task-state.js';

const TERMINAL = [...TERMINAL_TASK_STATES];
const S = (s: string) => `TASK_${s}` as TaskState;

describe('task state transitions', () => {
  const legal: Array<[string, string]> = [
    ['STAGING', 'STARTING'],
    ['STAGING', 'RUNNING'],
    ['STARTING', 'RUNNING'],
    ['RUNNING', 'KILLING'],
    ['STAGING', 'KILLING'],
    ['RUNNING', 'RUNNING'],
    ['STAGING', 'STAGING'],
    ['KILLING', 'KILLING'],
    ['RUNNING', 'UNREACHABLE'],
    ['KILLING', 'UNREACHABLE'],
    ['UNREACHABLE', 'RUNNING'],
    ['UNREACHABLE', 'STARTING'],
    ['UNREACHABLE', 'UNREACHABLE'],
    ['UNREACHABLE', 'GONE'],
    ['UNREACHABLE', 'UNKNOWN'],
    ['UNKNOWN', 'RUNNING'],
    ['UNKNOWN', 'LOST'],
    ['RUNNING', 'UNKNOWN'],
    ['STAGING', 'DROPPED'],
    ['RUNNING', 'FINISHED'],
  ];
  const illegal: Array<[string, string]> = [
    ['RUNNING', 'STAGING'],
    ['RUNNING', 'STARTING'],
    ['STARTING', 'STAGING'],
    ['KILLING', 'RUNNING'],
    ['KILLING', 'STARTING'],
    ['KILLING', 'STAGING'],
    ['FINISHED', 'RUNNING'],
    ['FAILED', 'FAILED'],
    ['KILLED', 'FINISHED'],
    ['LOST', 'RUNNING'],
    ['GONE', 'UNREACHABLE'],
    ['DROPPED', 'STAGING'],
    ['ERROR', 'KILLING'],
  ];
  for (const [from, to] of legal) {
    it(`allows ${from} -> ${to}`, () => assert.equal(canTransition(S(from), S(to)), true));
  }
  for (const [from, to] of illegal) {
    it(`forbids ${from} -> ${to}`, () => assert.equal(canTransition(S(from), S(to)), false));
  }

  it('lets every non-terminal state end in every terminal state', () => {
    for (const from of TASK_STATES.filter((s) => !TERMINAL_TASK_STATES.has(s))) {
      for (const to of TERMINAL) assert.ok(canTransition(from, to), `${from} -> ${to}`);
    }
  });

  it('lets nothing leave a terminal state', () => {
    for (const from of TERMINAL) {
      assert.equal(TRANSITIONS[from].size, 0, from);
      for (const to of TASK_STATES) assert.equal(canTransition(from, to), false, `${from} -> ${to}`);
    }
  });

  it('rejects states that are not in the table', () => {
    assert.equal(canTransition('TASK_BOGUS' as TaskState, 'TASK_RUNNING'), false);
    assert.equal(canTransition('TASK_RUNNING', 'TASK_BOGUS' as TaskState), false);
  });
});

function task(over: Partial<TaskView> = {}): TaskView {
  return {
    id: 't1',
    name: 'web',
    frameworkId: 'fw1',
    agentId: 'a1',
    state: 'TASK_STAGING',
    resources: { cpus: 1, mem: 128, disk: 0, ports: [] },
    command: { value: 'sleep 1', shell: true, env: {}, uris: [] },
    labels: {},
    createdAt: 1000,
    updatedAt: 1000,
    ...over,
  };
}

let seq = 0;
function update(state: TaskState, over: Partial<StatusUpdate> = {}): StatusUpdate {
  return { uuid: `u${++seq}`, taskId: 't1', frameworkId: 'fw1', agentId: 'a1', state, timestamp: 0, ...over };
}

function applied(t: TaskView, u: StatusUpdate, now: number): TaskView {
  const r = applyStatusUpdate(t, u, now);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.task;
}

describe('applyStatusUpdate', () => {
  it('walks a task through its life with the right timestamps', () => {
    let t = task();
    t = applied(t, update('TASK_STARTING'), 2000);
    assert.equal(t.state, 'TASK_STARTING');
    assert.equal(t.updatedAt, 2000);
    assert.equal(t.startedAt, undefined);

    const running = applyStatusUpdate(t, update('TASK_RUNNING', { uuid: 'run' }), 3000);
    assert.ok(running.ok);
    assert.equal(running.becameTerminal, false);
    t = running.task;
    assert.equal(t.startedAt, 3000);
    assert.equal(t.statusUuid, 'run');

    t = applied(t, update('TASK_RUNNING', { healthy: true }), 4000);
    assert.equal(t.healthy, true);
    assert.equal(t.startedAt, 3000, 'startedAt is set on the first RUNNING only');
    assert.equal(t.updatedAt, 4000);

    t = applied(t, update('TASK_UNREACHABLE', { reason: 'REASON_AGENT_UNREACHABLE' }), 5000);
    assert.equal(t.healthy, true, 'health is sticky when the update carries none');
    t = applied(t, update('TASK_RUNNING'), 6000);
    assert.equal(t.startedAt, 3000, 'coming back from limbo does not restart the clock');
    assert.equal(t.reason, undefined, 'a stale reason does not outlive its state');
    assert.equal(t.endedAt, undefined);

    const done = applyStatusUpdate(t, update('TASK_FAILED', { exitCode: 3, message: 'exited with 3', reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false }), 7000);
    assert.ok(done.ok);
    assert.equal(done.becameTerminal, true);
    assert.deepEqual(
      { state: done.task.state, exitCode: done.task.exitCode, message: done.task.message, reason: done.task.reason, healthy: done.task.healthy, endedAt: done.task.endedAt, updatedAt: done.task.updatedAt },
      { state: 'TASK_FAILED', exitCode: 3, message: 'exited with 3', reason: 'REASON_COMMAND_EXECUTOR_FAILED', healthy: false, endedAt: 7000, updatedAt: 7000 },
    );
  });

  it('is pure: the input task is unchanged', () => {
    const t = task();
    const before = structuredClone(t);
    applied(t, update('TASK_RUNNING'), 2000);
    assert.deepEqual(t, before);
  });

  it('rejects a duplicate uuid as a duplicate, without applying it', () => {
    const t = applied(task(), update('TASK_RUNNING', { uuid: 'same' }), 2000);
    const again = applyStatusUpdate(t, update('TASK_FINISHED', { uuid: 'same' }), 3000);
    assert.equal(again.ok, false);
    assert.ok(!again.ok && again.duplicate);
  });

  it('rejects an illegal transition, not as a duplicate', () => {
    const t = task({ state: 'TASK_RUNNING', statusUuid: 'x' });
    const r = applyStatusUpdate(t, update('TASK_STAGING'), 2000);
    assert.ok(!r.ok);
    assert.equal(r.duplicate, false);
    assert.match(r.error, /TASK_RUNNING -> TASK_STAGING/);
  });

  it('rejects any update after a terminal state', () => {
    const t = applied(task({ state: 'TASK_RUNNING' }), update('TASK_FINISHED', { exitCode: 0 }), 2000);
    for (const state of ['TASK_FINISHED', 'TASK_RUNNING', 'TASK_FAILED'] as const) {
      const r = applyStatusUpdate(t, update(state), 3000);
      assert.ok(!r.ok && !r.duplicate, state);
    }
  });

  it('rejects updates for another task, framework or agent', () => {
    const t = task();
    for (const over of [{ taskId: 't2' }, { frameworkId: 'fw2' }, { agentId: 'a2' }]) {
      const r = applyStatusUpdate(t, update('TASK_RUNNING', over), 2000);
      assert.ok(!r.ok && !r.duplicate, JSON.stringify(over));
      assert.match(r.error, new RegExp(Object.values(over)[0]));
    }
  });
});
