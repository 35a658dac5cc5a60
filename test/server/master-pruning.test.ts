// Finished tasks do not pile up: the master keeps the newest `maxCompletedTasksPerFramework` of
// each framework (Mesos' max_completed_tasks_per_framework); older ones leave memory, SQLite and
// the dashboards, but never before their framework acknowledged the end.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TaskState } from '../../protocol/types.js';
import { fakeAgentConnection, registerMessage, startMaster, StreamClient, waitFor } from '../support/cluster.js';
import { shellCommand, subscribeScheduler } from '../support/scheduler.js';

const dir = mkdtempSync(join(tmpdir(), 'yagura-prune-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('completed task pruning', () => {
  it('keeps the newest finished tasks per framework, after their acknowledgement, across a restart', async () => {
    const opts = { dataDir: dir, master: { allocationIntervalMs: 30, maxCompletedTasksPerFramework: 2 } };
    let m = await startMaster(opts);
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('p1'))!;
    const s = await subscribeScheduler(m.master);
    const send = (taskId: string, state: TaskState) =>
      m.master.agentMessage(agentId, conn, { type: 'status', update: { uuid: randomUUID(), taskId, frameworkId: s.frameworkId, agentId, state, timestamp: Date.now() } });

    const ids = ['t1', 't2', 't3', 't4', 'keep-running'];
    for (const id of ids) {
      const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
      await m.master.accept(s.frameworkId, [offer.id], [{ taskId: id, name: id, agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: {} }], 0);
      send(id, 'TASK_RUNNING');
    }
    await m.master.commit();
    const stream = new StreamClient(m.url);
    await stream.opened();
    stream.send({ type: 'hello', token: m.adminToken });
    await stream.until((msgs) => msgs.some((x) => x.type === 'snapshot'));

    for (const id of ['t1', 't2', 't3']) send(id, 'TASK_FINISHED');
    await m.master.commit();
    assert.ok(m.master.getTask('t1'), 'an unacknowledged end is kept');
    for (const id of ['t1', 't2', 't3']) m.master.acknowledge(s.frameworkId, id, m.master.getTask(id)!.statusUuid!);
    await m.master.commit();
    assert.equal(m.master.getTask('t1'), undefined, 'the oldest finished task is gone once acknowledged');
    assert.ok(m.master.getTask('t2') && m.master.getTask('t3'));
    await stream.until((msgs) => msgs.some((x) => x.type === 'events' && x.events.some((e) => e.kind === 'task' && e.op === 'delete' && e.id === 't1')));

    send('t4', 'TASK_FAILED');
    await m.master.commit();
    m.master.acknowledge(s.frameworkId, 't4', m.master.getTask('t4')!.statusUuid!);
    await m.master.commit();
    assert.equal(m.master.getTask('t2'), undefined);
    assert.deepEqual(m.master.frameworkTasks(s.frameworkId).map((t) => t.id).sort(), ['keep-running', 't3', 't4'], 'running tasks are never pruned');
    stream.close();

    await m.close();
    m = await startMaster(opts);
    try {
      assert.deepEqual([...m.master.frameworkTasks(s.frameworkId)].map((t) => t.id).sort(), ['keep-running', 't3', 't4'], 'the pruned rows are gone from SQLite too');
    } finally {
      await m.close();
    }
  });
});
