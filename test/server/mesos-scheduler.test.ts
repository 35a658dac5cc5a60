// The scheduler HTTP API against a real master, with a simulated agent on the real agent link.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchedulerClient, commandTask, request, scalar, type ClientOptions } from '../support/mesos-client.js';
import { FakeAgent, cluster, waitFor, type TestMaster } from './mesos-harness.js';

const info = (name: string, extra: Record<string, unknown> = {}) => ({ user: 'nobody', name, ...extra });

async function subscribe(m: TestMaster, closeLater: (c: { close(): void }) => void, fi: Record<string, unknown>, opts: Partial<ClientOptions> = {}) {
  const c = await SchedulerClient.subscribe({ master: m.url, token: m.token, ...opts }, fi as never);
  closeLater(c);
  return c;
}

/** Launches one task on the first offer and waits for it to run. */
async function launchOne(c: SchedulerClient, taskId: string, extra: Record<string, unknown> = {}) {
  const [offer] = await c.nextOffers();
  const r = await c.accept([offer.id.value], [{ ...commandTask(offer, taskId), ...extra }]);
  assert.equal(r.status, 202, r.text);
  const running = await c.nextUpdate(taskId, 'TASK_RUNNING');
  return { offer, running };
}

test('SUBSCRIBE answers a RecordIO stream: SUBSCRIBED, then OFFERS in Mesos shape, then HEARTBEATs', async (t) => {
  const { m, agent, closeLater } = await cluster(t, { agent: { hostname: 'node-a', attributes: { rack: 'r1', zone: 'z2' } } });
  const c = await subscribe(m, closeLater, info('shape', { roles: ['analytics'], capabilities: [{ type: 'MULTI_ROLE' }] }));

  assert.match(String(c.stream.res.headers['content-type']), /^application\/json/);
  assert.ok(c.streamId.length > 0, 'Mesos-Stream-Id header');
  assert.ok(c.frameworkId.length > 0);
  assert.equal(c.heartbeatIntervalSeconds, 0.2);
  assert.equal(c.subscribed.subscribed.master_info.version, m.app.master.version);

  const [offer] = await c.nextOffers(agent.id);
  assert.equal(offer.framework_id.value, c.frameworkId);
  assert.equal(offer.agent_id.value, agent.id);
  assert.equal(offer.hostname, 'node-a');
  assert.equal(typeof offer.id.value, 'string');
  assert.deepEqual(offer.allocation_info, { role: 'analytics' });
  const byName = Object.fromEntries(offer.resources.map((r: any) => [r.name, r]));
  assert.deepEqual(byName.cpus.scalar, { value: 4 });
  assert.equal(byName.cpus.type, 'SCALAR');
  assert.deepEqual(byName.mem.scalar, { value: 4096 });
  assert.deepEqual(byName.disk.scalar, { value: 10240 });
  assert.equal(byName.ports.type, 'RANGES');
  assert.deepEqual(byName.ports.ranges, { range: [{ begin: 31000, end: 32000 }] });
  assert.deepEqual(byName.cpus.allocation_info, { role: 'analytics' });
  assert.deepEqual(
    [...offer.attributes].sort((a: any, b: any) => a.name.localeCompare(b.name)),
    [
      { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
      { name: 'zone', type: 'TEXT', text: { value: 'z2' } },
    ],
  );
  assert.ok(m.app.master.listOffers().some((o) => o.id === offer.id.value), 'the offer is outstanding in the master');
  await c.next('HEARTBEAT');
});

test('ACCEPT with a LAUNCH starts the task; UPDATEs carry uuids, ACKNOWLEDGE and KILL work', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const c = await subscribe(m, closeLater, info('launcher'));
  const [offer] = await c.nextOffers();
  const task = {
    ...commandTask(offer, 'web-1', { cpus: 0.5, mem: 128, ports: [[31005, 31006]], labels: { tier: 'front' } }),
    command: {
      value: '/bin/echo',
      shell: false,
      arguments: ['echo', 'hello', 'world'],
      environment: { variables: [{ name: 'GREETING', value: 'hi' }] },
      uris: [{ value: 'http://example.invalid/a.tgz', cache: true }],
    },
    kill_policy: { grace_period: { nanoseconds: 2_500_000_000 } },
  };
  const r = await c.accept([offer.id.value], [task]);
  assert.equal(r.status, 202);
  assert.equal(r.text, '');

  const starting = await c.nextUpdate('web-1', 'TASK_STARTING');
  const running = await c.nextUpdate('web-1', 'TASK_RUNNING');
  for (const s of [starting, running]) {
    assert.match(s.uuid, /^[A-Za-z0-9+/]+=*$/);
    assert.equal(s.agent_id.value, agent.id);
    assert.equal(s.source, 'SOURCE_EXECUTOR');
    assert.equal(typeof s.timestamp, 'number');
    assert.ok(s.timestamp > 1e9 && s.timestamp < 1e11, 'timestamp is in seconds');
  }
  assert.notEqual(starting.uuid, running.uuid);

  // what the agent was told to run is what the TaskInfo said, in Yagura's terms
  const launched = agent.launches.find((l) => l.taskId === 'web-1');
  assert.ok(launched);
  assert.equal(launched.frameworkId, c.frameworkId);
  assert.deepEqual(launched.resources, { cpus: 0.5, mem: 128, disk: 0, ports: [[31005, 31006]] });
  assert.deepEqual(launched.command.args, ['hello', 'world'], 'arguments[0] is argv[0], as in Mesos');
  assert.equal(launched.command.shell, false);
  assert.equal(launched.command.value, '/bin/echo');
  assert.deepEqual(launched.command.env, { GREETING: 'hi' });
  assert.deepEqual(launched.command.uris, [{ value: 'http://example.invalid/a.tgz', extract: true, cache: true }]);
  assert.deepEqual(launched.labels, { tier: 'front' });
  assert.equal(launched.killGracePeriodMs, 2500);

  assert.equal((await c.acknowledge(running)).status, 202);
  assert.equal((await c.acknowledge(starting)).status, 202, 'an old uuid is accepted and changes nothing');

  const k = await c.kill('web-1', agent.id, 1_000_000_000);
  assert.equal(k.status, 202);
  const killed = await c.nextUpdate('web-1', 'TASK_KILLED');
  assert.ok(killed.uuid);
  assert.deepEqual(agent.kills, [{ taskId: 'web-1', gracePeriodMs: 1000 }]);
  assert.equal(m.app.master.getTask('web-1')?.state, 'TASK_KILLED');

  // killing a finished task answers its terminal state again
  assert.equal((await c.kill('web-1')).status, 202);
  const again = await c.nextUpdate('web-1', 'TASK_KILLED');
  assert.equal(again.source, 'SOURCE_MASTER');
});

test('DECLINE with refuse_seconds filters that agent until REVIVE', async (t) => {
  const { m, agent: a, closeLater } = await cluster(t, { agent: { hostname: 'a' } });
  const b = await FakeAgent.connect(m, { hostname: 'b' });
  closeLater(b);
  const c = await subscribe(m, closeLater, info('decliner'));
  const [offerA, offerB] = await c.offersOf([a.id, b.id]);

  assert.equal((await c.decline([offerA.id.value], 3600)).status, 202);
  assert.equal((await c.decline([offerB.id.value], 0)).status, 202);
  assert.ok(!m.app.master.listOffers().some((o) => o.id === offerA.id.value), 'a declined offer is gone');

  m.app.master.allocate(); // a full allocation cycle, now
  const mine = () => m.app.master.listOffers().filter((o) => o.frameworkId === c.frameworkId);
  assert.ok(mine().some((o) => o.agentId === b.id), 'the agent declined without a filter is offered again');
  assert.ok(!mine().some((o) => o.agentId === a.id), 'the filtered agent is not offered within refuse_seconds');
  await c.nextOffers(b.id);

  assert.equal((await c.revive()).status, 202);
  m.app.master.allocate();
  assert.ok(mine().some((o) => o.agentId === a.id), 'REVIVE clears the filter');
  const [again] = await c.nextOffers(a.id);
  assert.notEqual(again.id.value, offerA.id.value);
});

test('SUPPRESS stops offers; REVIVE resumes them', async (t) => {
  const { m, closeLater } = await cluster(t);
  const c = await subscribe(m, closeLater, info('suppressor'));
  const [offer] = await c.nextOffers();
  assert.equal((await c.suppress()).status, 202);
  assert.equal(m.app.master.getFramework(c.frameworkId)?.suppressed, true);
  assert.equal((await c.decline([offer.id.value], 0)).status, 202);
  m.app.master.allocate();
  assert.deepEqual(
    m.app.master.listOffers().filter((o) => o.frameworkId === c.frameworkId),
    [],
    'no offers for a suppressed framework',
  );
  assert.equal((await c.revive()).status, 202);
  const [next] = await c.nextOffers();
  assert.notEqual(next.id.value, offer.id.value);
  assert.equal(c.stream.all('OFFERS').length, 2);
});

test('RECONCILE answers known tasks with their state and unknown ones with TASK_UNKNOWN, without uuids', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const c = await subscribe(m, closeLater, info('reconciler'), { autoAck: true });
  await launchOne(c, 'job-1');

  const r = await c.reconcile([{ taskId: 'job-1', agentId: agent.id }, { taskId: 'ghost' }]);
  assert.equal(r.status, 202);
  const known = await c.nextUpdate('job-1', 'TASK_RUNNING');
  assert.equal(known.reason, 'REASON_RECONCILIATION');
  assert.equal(known.uuid, undefined, 'reconciliation answers must not be acknowledged');
  assert.equal(known.agent_id.value, agent.id);
  const ghost = await c.nextUpdate('ghost');
  assert.equal(ghost.state, 'TASK_UNKNOWN');
  assert.equal(ghost.uuid, undefined);
  assert.equal(ghost.agent_id, undefined);

  assert.equal((await c.reconcile()).status, 202, 'implicit reconciliation');
  const implicit = await c.nextUpdate('job-1', 'TASK_RUNNING');
  assert.equal(implicit.reason, 'REASON_RECONCILIATION');
  assert.equal(c.stream.all('UPDATE').filter((e) => e.update.status.task_id.value === 'ghost').length, 1, 'implicit reconciliation names only known tasks');
});

test('TEARDOWN kills the tasks, ends the stream and removes the framework for good', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const c = await subscribe(m, closeLater, info('short-lived', { failover_timeout: 3600 }));
  await launchOne(c, 'doomed');
  const r = await c.teardown();
  assert.equal(r.status, 202);
  await c.stream.ended;
  await waitFor(() => agent.kills.some((k) => k.taskId === 'doomed'), 'the kill of the torn-down task');
  await waitFor(() => m.app.master.getTask('doomed')?.state === 'TASK_KILLED', 'TASK_KILLED');
  assert.equal(m.app.master.getFramework(c.frameworkId)?.active, false);

  const after = await c.call('REVIVE');
  assert.equal(after.status, 404);
  await assert.rejects(
    SchedulerClient.subscribe({ master: m.url, token: m.token }, info('short-lived', { id: { value: c.frameworkId } })),
    (e: any) => e.status === 403,
  );
});

test('failover: a resubscription within failover_timeout keeps the tasks and re-sends unacknowledged updates', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const fi = info('survivor', { failover_timeout: 3600 });
  const first = await subscribe(m, closeLater, fi);
  const [offer] = await first.nextOffers();
  const r = await first.accept([offer.id.value], [commandTask(offer, 'acked', { cpus: 0.1 }), commandTask(offer, 'unacked', { cpus: 0.1 })]);
  assert.equal(r.status, 202);
  const acked = await first.nextUpdate('acked', 'TASK_RUNNING');
  const unacked = await first.nextUpdate('unacked', 'TASK_RUNNING');
  assert.equal((await first.acknowledge(acked)).status, 202);

  first.close();
  await waitFor(() => m.app.master.getFramework(first.frameworkId)?.connected === false, 'the master to see the disconnection');
  const stale = await first.call('RECONCILE');
  assert.equal(stale.status, 403, 'calls of a disconnected framework are refused until it resubscribes');

  const second = await subscribe(m, closeLater, { ...fi, id: { value: first.frameworkId } });
  assert.equal(second.frameworkId, first.frameworkId);
  assert.notEqual(second.streamId, first.streamId);
  const resent = await second.nextUpdate('unacked', 'TASK_RUNNING');
  assert.equal(resent.uuid, unacked.uuid, 'the same update, to be acknowledged');

  // the resends go out right after SUBSCRIBED, so a reconciliation answer after them proves none came for 'acked'
  assert.equal((await second.reconcile([{ taskId: 'acked' }])).status, 202);
  const answer = await second.nextUpdate('acked');
  assert.equal(answer.uuid, undefined);
  assert.ok(!second.stream.all('UPDATE').some((e) => e.update.status.task_id.value === 'acked' && e.update.status.uuid), 'acknowledged updates are not re-sent');

  assert.equal(m.app.master.getTask('acked')?.state, 'TASK_RUNNING');
  assert.equal(m.app.master.getTask('unacked')?.state, 'TASK_RUNNING');
  assert.deepEqual(agent.kills, []);
  assert.equal((await second.acknowledge(resent)).status, 202);
});

test('failover: past failover_timeout the framework is removed and its tasks are killed', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const fi = info('mortal', { failover_timeout: 0.05 });
  const c = await subscribe(m, closeLater, fi);
  await launchOne(c, 'orphan');
  c.close();
  await waitFor(() => m.app.master.getFramework(c.frameworkId)?.active === false, 'the failover timeout to remove the framework');
  await waitFor(() => agent.kills.some((k) => k.taskId === 'orphan'), 'the kill of its task');
  await waitFor(() => m.app.master.getTask('orphan')?.state === 'TASK_KILLED', 'TASK_KILLED');
  await assert.rejects(
    SchedulerClient.subscribe({ master: m.url, token: m.token }, { ...fi, id: { value: c.frameworkId } }),
    (e: any) => e.status === 403,
  );
});

test('offers leave out empty resources, as Mesos does; a launch shows as used in /master/state', async (t) => {
  const { m, closeLater } = await cluster(t, { agent: { resources: { cpus: 1, mem: 256, disk: 0, ports: [] } } });
  const c = await subscribe(m, closeLater, info('packer'));
  const [offer] = await c.nextOffers();
  assert.equal(scalar(offer.resources, 'disk'), 0);
  assert.ok(!offer.resources.some((r: any) => r.name === 'disk' || r.name === 'ports'), 'empty resources are left out, as Mesos does');
  const r = await c.accept([offer.id.value], [commandTask(offer, 'all-of-it', { cpus: 1, mem: 256 })]);
  assert.equal(r.status, 202);
  await c.nextUpdate('all-of-it', 'TASK_RUNNING');
  const state = await request(`${m.url}/master/state`, { headers: { Authorization: `Bearer ${m.token}` } });
  assert.deepEqual(state.body.slaves[0].used_resources, { cpus: 1, mem: 256, disk: 0, gpus: 0 });
});
