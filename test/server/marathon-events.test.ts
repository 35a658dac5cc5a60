// /v2/events: Marathon's event bus as Server-Sent Events, derived from the master's event log.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { MarathonEvents } from '../../server/api/marathon/events.js';
import { startCluster, SseClient, type MarathonCluster, type SseEvent } from '../support/marathon-cluster.js';

const sleeper = (id: string, extra: Record<string, unknown> = {}) => ({ id, cmd: 'sleep 600', cpus: 0.05, mem: 16, instances: 1, ...extra });

/** The id of the deployment an event belongs to, if any. */
const deploymentOf = (e: SseEvent): string | undefined => e.data.plan?.id ?? (e.type.startsWith('deployment_') ? e.data.id : undefined);

describe('Marathon event stream', { timeout: 120_000 }, () => {
  let c: MarathonCluster;
  before(async () => {
    c = await startCluster([{ hostname: 'events-node' }]);
  });
  after(async () => c?.dispose());

  it('streams a deployment in order, task status updates, health changes and api_post_event; filters by type', async () => {
    const all = new SseClient(c.m.url, c.m.adminToken);
    const deployments = new SseClient(c.m.url, c.m.adminToken, '?event_type=deployment_info&event_type=deployment_step_success&event_type=deployment_success');
    const statuses = new SseClient(c.m.url, c.m.adminToken, '?event_type=status_update_event');
    try {
      await all.until((es) => es.length > 0, 'attached');
      assert.equal(all.status, 200);
      assert.equal(all.events[0]!.type, 'event_stream_attached');
      assert.equal(typeof all.events[0]!.data.remoteAddress, 'string');
      await deployments.until(() => deployments.status === 200 && deployments.comments > 0, 'filtered stream open');
      await statuses.until(() => statuses.status === 200 && statuses.comments > 0, 'status stream open');

      // two steps: web waits for db
      const check = [{ protocol: 'COMMAND', command: { value: 'true' }, gracePeriodSeconds: 5, intervalSeconds: 1, timeoutSeconds: 1, delaySeconds: 0 }];
      const r = await c.api('POST', '/v2/groups', { id: '/ev', apps: [sleeper('db', { healthChecks: check }), sleeper('web', { dependencies: ['/ev/db'] })] });
      assert.equal(r.status, 201, r.text);
      const id = r.body.deploymentId as string;
      await all.until((es) => es.some((e) => e.type === 'deployment_success' && e.data.id === id), 'deployment_success');

      const mine = all.events.filter((e) => deploymentOf(e) === id);
      assert.deepEqual(
        mine.map((e) => `${e.type}${e.data.currentStep ? ':' + e.data.currentStep.actions.map((a: any) => `${a.action} ${a.app}`).join(',') : ''}`),
        [
          'deployment_info:StartApplication /ev/db',
          'deployment_step_success:StartApplication /ev/db',
          'deployment_info:StartApplication /ev/web',
          'deployment_step_success:StartApplication /ev/web',
          'deployment_success',
        ],
      );
      const info = mine[0]!.data;
      assert.deepEqual(info.plan.steps, [{ actions: [{ action: 'StartApplication', app: '/ev/db' }] }, { actions: [{ action: 'StartApplication', app: '/ev/web' }] }]);
      assert.equal(info.plan.version, r.body.version);
      for (const e of mine) {
        assert.equal(e.data.eventType, e.type);
        assert.ok(!Number.isNaN(Date.parse(e.data.timestamp)));
      }

      // the write is announced after it committed, so after the plan it started
      const posts = all.events.filter((e) => e.type === 'api_post_event');
      assert.deepEqual(posts.map((e) => e.data.appDefinition.id).sort(), ['/ev/db', '/ev/web']);
      assert.equal(posts[0]!.data.uri, '/v2/groups');
      assert.ok(all.events.indexOf(mine[0]!) < all.events.indexOf(posts[0]!));

      // db's instance ran (and was healthy) before web's was even staged
      const tasks = (await c.api('GET', '/v2/tasks')).body.tasks as Array<{ id: string; appId: string; ports: number[]; version: string }>;
      const db = tasks.find((t) => t.appId === '/ev/db')!;
      const web = tasks.find((t) => t.appId === '/ev/web')!;
      const at = (taskId: string, state: string) => all.events.findIndex((e) => e.type === 'status_update_event' && e.data.taskId === taskId && e.data.taskStatus === state);
      const healthy = all.events.findIndex((e) => e.type === 'health_status_changed_event' && e.data.taskId === db.id && e.data.alive === true);
      assert.ok(at(db.id, 'TASK_RUNNING') >= 0 && healthy > at(db.id, 'TASK_RUNNING'));
      assert.ok(at(web.id, 'TASK_STAGING') > healthy, 'the second step starts after the first is healthy');

      await statuses.until((es) => es.some((e) => e.data.taskId === web.id && e.data.taskStatus === 'TASK_RUNNING'), 'web running');
      assert.ok(statuses.events.every((e) => e.type === 'status_update_event'));
      const webStates = statuses.events.filter((e) => e.data.taskId === web.id);
      assert.deepEqual(webStates.map((e) => e.data.taskStatus).filter((s) => s !== 'TASK_STARTING'), ['TASK_STAGING', 'TASK_RUNNING']);
      const running = webStates[webStates.length - 1]!.data;
      assert.equal(running.appId, '/ev/web');
      assert.equal(running.host, 'events-node');
      assert.equal(running.slaveId, c.m.master.getTask(web.id)!.agentId);
      assert.deepEqual(running.ports, web.ports);
      assert.equal(running.version, web.version);
      assert.ok(all.events.some((e) => e.type === 'instance_changed_event' && e.data.instanceId === web.id && e.data.condition === 'Running'));

      assert.ok(deployments.events.length >= 5);
      assert.ok(deployments.events.every((e) => ['deployment_info', 'deployment_step_success', 'deployment_success'].includes(e.type)), 'only the asked types');
      assert.deepEqual(
        deployments.events.filter((e) => deploymentOf(e) === id).map((e) => e.type),
        ['deployment_info', 'deployment_step_success', 'deployment_info', 'deployment_step_success', 'deployment_success'],
      );

      // removing the app ends its task and terminates it
      const del = await c.api('DELETE', '/v2/apps/ev/web');
      await all.until((es) => es.some((e) => e.type === 'app_terminated_event' && e.data.appId === '/ev/web'), 'app_terminated_event');
      const killed = all.events.findIndex((e) => e.type === 'status_update_event' && e.data.taskId === web.id && e.data.taskStatus === 'TASK_KILLED');
      const terminated = all.events.findIndex((e) => e.type === 'app_terminated_event' && e.data.appId === '/ev/web');
      assert.ok(killed >= 0 && killed < terminated, 'the task ends before the app is gone');
      assert.ok(all.events.some((e) => e.type === 'deployment_info' && e.data.plan.id === del.body.deploymentId && e.data.currentStep.actions[0].action === 'StopApplication'));
    } finally {
      await Promise.all([all.close(), deployments.close(), statuses.close()]);
    }
  });

  it('reports a canceled deployment as deployment_failed', async () => {
    const sse = new SseClient(c.m.url, c.m.adminToken, '?event_type=deployment_failed&event_type=deployment_success');
    try {
      await sse.until(() => sse.comments > 0, 'open');
      const r = await c.api('POST', '/v2/apps', sleeper('/ev/huge', { cpus: 64 }));
      const cancel = await c.api('DELETE', `/v2/deployments/${r.body.deployments[0].id}?force=true`);
      assert.equal(cancel.status, 202);
      const failed = await sse.until((es) => es.find((e) => e.type === 'deployment_failed'), 'deployment_failed');
      assert.equal(failed.data.id, r.body.deployments[0].id);
      assert.deepEqual(failed.data.plan.affectedApps, ['/ev/huge']);
      assert.ok(!sse.events.some((e) => e.type === 'deployment_success' && e.data.id === failed.data.id));
    } finally {
      await sse.close();
    }
  });

  it('needs a token, and lets a viewer listen', async () => {
    assert.equal((await fetch(`${c.m.url}/v2/events`)).status, 401);
    const viewer = new SseClient(c.m.url, c.m.auth.createToken('viewer', 'events viewer'));
    try {
      await viewer.until((es) => es.some((e) => e.type === 'event_stream_attached'), 'attached as viewer');
      assert.equal(viewer.status, 200);
    } finally {
      await viewer.close();
    }
  });

  it('cuts off a client that does not read, without holding back the others', async () => {
    const bus = new MarathonEvents(c.m.master, c.m.services, { maxBufferedBytes: 4096 });
    try {
      const received: string[] = [];
      const reader = new Writable({
        write(chunk, _enc, done) {
          received.push(String(chunk));
          done();
        },
      });
      // never calls back: everything written stays buffered, as with a peer that stopped reading
      const stalled = new Writable({ highWaterMark: 1, write() {} });
      let stalledGone = false;
      stalled.on('close', () => (stalledGone = true));
      bus.add(reader, [], 'reader');
      bus.add(stalled, [], 'stalled');
      assert.equal(bus.size, 2);
      const big = { id: '/x', cmd: 'y'.repeat(1000) };
      for (let i = 0; i < 20; i++) bus.apiPost('127.0.0.1', `/v2/apps/x${i}`, big);
      assert.equal(bus.size, 1, 'the stalled client is dropped');
      assert.ok(stalledGone || stalled.destroyed, 'and its connection closed');
      assert.ok(stalled.writableLength <= 4096 + 2000, 'its backlog stayed bounded');
      const posts = received.filter((f) => f.startsWith('event: api_post_event'));
      assert.equal(posts.length, 20, 'the reader got every event');
      assert.match(posts[19]!, /"uri":"\/v2\/apps\/x19"/);
    } finally {
      bus.close();
    }
  });
});
