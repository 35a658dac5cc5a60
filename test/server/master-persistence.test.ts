// What the master writes for a task's life (the whole record once, then only its status) and
// what it derives instead of writing (an agent's allocated resources) come back the same after
// a restart.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TaskState } from '../../protocol/types.js';
import { fakeAgentConnection, registerMessage, startMaster, waitFor } from '../support/cluster.js';
import { shellCommand, subscribeScheduler } from '../support/scheduler.js';

const dir = mkdtempSync(join(tmpdir(), 'yagura-persist-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('master persistence', () => {
  it('keeps task states, kills and acks, and derives allocated resources again after a restart', async () => {
    const opts = { dataDir: dir, master: { allocationIntervalMs: 30 } };
    let m = await startMaster(opts);
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('p1'))!;
    const s = await subscribeScheduler(m.master);
    const send = (taskId: string, state: TaskState, extra: { message?: string; healthy?: boolean } = {}) =>
      m.master.agentMessage(agentId, conn, { type: 'status', update: { uuid: randomUUID(), taskId, frameworkId: s.frameworkId, agentId, state, timestamp: Date.now(), ...extra } });

    const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
    const res = (cpus: number, port: number) => ({ cpus, mem: 32, disk: 0, ports: [[port, port]] as Array<[number, number]> });
    await m.master.accept(
      s.frameworkId,
      [offer.id],
      [
        { taskId: 'run', name: 'run', agentId, resources: res(0.5, 31000), command: shellCommand('sleep 100'), labels: { a: 'b' } },
        { taskId: 'done', name: 'done', agentId, resources: res(0.25, 31001), command: shellCommand('true'), labels: {} },
        { taskId: 'kill', name: 'kill', agentId, resources: res(1, 31002), command: shellCommand('sleep 100'), labels: {} },
      ],
      0,
    );
    assert.deepEqual(m.master.getAgent(agentId)?.allocated, { cpus: 1.75, mem: 96, disk: 0, ports: [[31000, 31002]] });
    send('run', 'TASK_STARTING', { message: 'starting' });
    send('run', 'TASK_RUNNING', { healthy: true });
    send('done', 'TASK_RUNNING');
    send('done', 'TASK_FINISHED', { message: 'exit 0' });
    send('kill', 'TASK_RUNNING');
    await m.master.commit();
    m.master.kill(s.frameworkId, 'kill', 1234);
    m.master.acknowledge(s.frameworkId, 'run', m.master.getTask('run')!.statusUuid!);
    await m.master.commit();
    const before = ['run', 'done', 'kill'].map((id) => m.master.getTask(id));
    assert.equal(before[0]?.state, 'TASK_RUNNING');
    assert.equal(before[0]?.message, undefined, 'RUNNING cleared the message STARTING had');
    assert.deepEqual(m.master.getAgent(agentId)?.allocated, { cpus: 1.5, mem: 64, disk: 0, ports: [[31000, 31000], [31002, 31002]] });
    await m.close();

    m = await startMaster(opts);
    try {
      assert.deepEqual(['run', 'done', 'kill'].map((id) => m.master.getTask(id)), before);
      assert.deepEqual(m.master.getAgent(agentId)?.allocated, { cpus: 1.5, mem: 64, disk: 0, ports: [[31000, 31000], [31002, 31002]] }, 'only the live tasks count');
      // the kill asked for is still owed, and the framework still owes its acks (not for `run`)
      const conn2 = fakeAgentConnection();
      m.master.registerAgent(conn2, registerMessage('p1', { agentId, tasks: ['run', 'kill'].map((taskId) => ({ taskId, frameworkId: s.frameworkId, state: 'TASK_RUNNING' as const, resources: res(0, 31000) })) }));
      await m.master.commit();
      assert.ok(conn2.sent.some((x) => x.type === 'kill' && x.taskId === 'kill' && x.gracePeriodMs === 1234));
    } finally {
      await m.close();
    }
  });
});
