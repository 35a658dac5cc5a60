// The operator API's Mirror (server/api/mesos/operator.ts): what SUBSCRIBE streams start from
// and render their events with. It is kept only while someone is subscribed; a subscriber that
// comes while changes are made but not yet committed gets each of them exactly once.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { StatusUpdate, TaskState } from '../../protocol/types.js';
import { Mirror } from '../../server/api/mesos/operator.js';
import { fakeAgentConnection, registerMessage, startMaster, waitFor } from '../support/cluster.js';
import { shellCommand, subscribeScheduler } from '../support/scheduler.js';

type Json = Record<string, any>;

test('a subscriber that comes before the commit gets each change once: in its state or as an event', async (t) => {
  const m = await startMaster({ master: { allocationIntervalMs: 30 } });
  t.after(() => m.dispose());
  const mirror = new Mirror(m.master, { master: m.master, extras: new Map(), drains: new Map(), heartbeatIntervalMs: 1000 });
  const conn = fakeAgentConnection();
  const agentId = m.master.registerAgent(conn, registerMessage('mirror-1'))!;
  await m.master.commit();
  const s = await subscribeScheduler(m.master);
  const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');

  // nobody subscribed: no copy of the cluster is kept
  assert.equal(mirror.loaded, false);

  // the tasks are in the master's memory now; their events wait for the commit
  const ids = ['m1', 'm2', 'm3'];
  const accepted = m.master.accept(
    s.frameworkId,
    [offer.id],
    ids.map((id) => ({ taskId: id, name: id, agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: {} })),
    0,
  );
  assert.ok(m.master.eventsAhead() > 0, 'the launch is not committed yet');
  const events: Json[] = [];
  const sub = mirror.attach((e) => events.push(e));
  assert.equal(mirror.loaded, true);
  const stateIds = ((sub.state as Json).get_tasks.tasks as Json[]).map((x) => x.task_id.value).sort();
  assert.deepEqual(stateIds, ids, 'the state holds the tasks being launched');
  await accepted;

  const update = (taskId: string, state: TaskState): StatusUpdate => ({ uuid: randomUUID(), taskId, frameworkId: s.frameworkId, agentId, state, timestamp: Date.now() });
  m.master.agentMessage(agentId, conn, { type: 'updates', updates: ids.map((id) => update(id, 'TASK_RUNNING')) });
  await m.master.commit();
  await waitFor(() => events.filter((e) => e.type === 'TASK_UPDATED').length === 3, 5000, 'three updates');

  assert.deepEqual(events.filter((e) => e.type === 'TASK_ADDED'), [], 'no task is announced again after the state that holds it');
  assert.deepEqual(
    events.filter((e) => e.type === 'TASK_UPDATED').map((e) => [e.task_updated.status.task_id.value, e.task_updated.state]),
    ids.map((id) => [id, 'TASK_RUNNING']),
  );

  // a task launched while subscribed is announced
  const offer2 = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'another offer');
  await m.master.accept(s.frameworkId, [offer2.id], [{ taskId: 'm4', name: 'm4', agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: {} }], 0);
  await waitFor(() => events.some((e) => e.type === 'TASK_ADDED'), 5000, 'TASK_ADDED');
  assert.deepEqual(events.filter((e) => e.type === 'TASK_ADDED').map((e) => e.task_added.task.task_id.value), ['m4']);

  // the last subscriber gone, the copy goes; the next one starts from the master again
  sub.detach();
  assert.equal(mirror.loaded, false);
  const again = mirror.attach(() => undefined);
  const running = ((again.state as Json).get_tasks.tasks as Json[]).filter((x) => x.state === 'TASK_RUNNING').map((x) => x.task_id.value).sort();
  assert.deepEqual(running, ids);
  again.detach();
});
