// The operator API (POST /api/v1) and the /master/state document.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchedulerClient, commandTask, operatorCall, operatorSubscribe, request, scalar } from '../support/mesos-client.js';
import { FakeAgent, cluster, waitFor, type TestMaster } from './mesos-harness.js';

const info = (name: string, extra: Record<string, unknown> = {}) => ({ user: 'nobody', name, ...extra });

async function op(m: TestMaster, body: Record<string, unknown>, token: string = m.token) {
  return operatorCall(m.url, token, body);
}

async function runningTask(m: TestMaster, closeLater: (c: { close(): void }) => void, taskId: string, fi = info('ops')) {
  const c = await SchedulerClient.subscribe({ master: m.url, token: m.token, autoAck: true }, fi);
  closeLater(c);
  const [offer] = await c.nextOffers();
  // refuse_seconds 0: the rest of the agent comes back at once (the Mesos default filter is 5 s)
  const r = await c.accept([offer.id.value], [commandTask(offer, taskId, { cpus: 0.5, mem: 64, labels: { app: 'web' } })], 0);
  assert.equal(r.status, 202, r.text);
  await c.nextUpdate(taskId, 'TASK_RUNNING');
  return c;
}

test('GET_HEALTH, GET_VERSION, GET_MASTER, unknown and unsupported calls', async (t) => {
  const { m } = await cluster(t);
  const health = await op(m, { type: 'GET_HEALTH' });
  assert.equal(health.status, 200);
  assert.match(String(health.headers['content-type']), /application\/json/);
  assert.deepEqual(health.body, { type: 'GET_HEALTH', get_health: { healthy: true } });
  const version = await op(m, { type: 'GET_VERSION' });
  assert.deepEqual(version.body, { type: 'GET_VERSION', get_version: { version_info: { version: m.app.master.version } } });
  const master = await op(m, { type: 'GET_MASTER' });
  assert.equal(master.body.get_master.master_info.id, m.app.master.epoch);
  assert.equal(master.body.get_master.master_info.port, Number(new URL(m.url).port));

  const unknown = await op(m, { type: 'GET_EVERYTHING' });
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.body.details.map((d: any) => d.path), ['/type']);
  const untyped = await op(m, { get_health: {} });
  assert.equal(untyped.status, 400);
  assert.equal(untyped.body.details[0].path, '/type');
  const unsupported = await op(m, { type: 'SET_QUOTA', set_quota: {} });
  assert.equal(unsupported.status, 422);
  const malformed = await request(`${m.url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${m.token}` }, body: '{"type":' });
  assert.equal(malformed.status, 400);
});

test('GET_AGENTS, GET_FRAMEWORKS, GET_TASKS and GET_STATE in Mesos shape', async (t) => {
  const { m, agent, closeLater } = await cluster(t, { agent: { hostname: 'worker-1', attributes: { zone: 'z1' } } });
  const c = await runningTask(m, closeLater, 'svc-1', info('shop', { roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }], webui_url: 'http://shop.example/', failover_timeout: 60 }));
  assert.equal((await c.kill('svc-1')).status, 202);
  await c.nextUpdate('svc-1', 'TASK_KILLED');
  const [offer] = await c.nextOffers();
  assert.equal((await c.accept([offer.id.value], [commandTask(offer, 'svc-2', { cpus: 0.5, mem: 64, labels: { app: 'web' } })])).status, 202);
  await c.nextUpdate('svc-2', 'TASK_RUNNING');

  const agents = (await op(m, { type: 'GET_AGENTS' })).body;
  assert.equal(agents.type, 'GET_AGENTS');
  assert.equal(agents.get_agents.agents.length, 1);
  const a = agents.get_agents.agents[0];
  assert.equal(a.agent_info.id.value, agent.id);
  assert.equal(a.agent_info.hostname, 'worker-1');
  assert.deepEqual(a.agent_info.attributes, [{ name: 'zone', type: 'TEXT', text: { value: 'z1' } }]);
  assert.equal(scalar(a.agent_info.resources, 'cpus'), 4);
  assert.equal(a.active, true);
  assert.equal(a.deactivated, false);
  assert.equal(a.version, 'fake-1');
  assert.equal(typeof a.registered_time.nanoseconds, 'number');
  assert.equal(scalar(a.total_resources, 'mem'), 4096);
  assert.equal(scalar(a.allocated_resources, 'cpus'), 0.5);
  assert.equal(scalar(a.allocated_resources, 'mem'), 64);
  assert.equal(a.drain_info, undefined);
  assert.deepEqual(agents.get_agents.recovered_agents, []);

  const fws = (await op(m, { type: 'GET_FRAMEWORKS' })).body.get_frameworks;
  // the built-in services framework is always there; this test's framework is the other one
  const external = fws.frameworks.filter((x: any) => !x.framework_info.id.value.startsWith('yagura-'));
  assert.equal(external.length, 1);
  const f = external[0];
  assert.equal(f.framework_info.id.value, c.frameworkId);
  assert.equal(f.framework_info.name, 'shop');
  assert.equal(f.framework_info.user, 'nobody');
  assert.deepEqual(f.framework_info.roles, ['web']);
  assert.equal(f.framework_info.failover_timeout, 60);
  assert.equal(f.framework_info.webui_url, 'http://shop.example/');
  assert.deepEqual(f.framework_info.capabilities, [{ type: 'MULTI_ROLE' }]);
  assert.equal(f.active, true);
  assert.equal(f.connected, true);
  assert.equal(f.recovered, false);
  assert.equal(scalar(f.allocated_resources, 'cpus'), 0.5);
  assert.ok(Array.isArray(f.offers));
  assert.deepEqual(fws.completed_frameworks, []);

  const tasks = (await op(m, { type: 'GET_TASKS' })).body.get_tasks;
  assert.deepEqual(tasks.tasks.map((x: any) => x.task_id.value), ['svc-2']);
  assert.deepEqual(tasks.completed_tasks.map((x: any) => x.task_id.value), ['svc-1']);
  const running = tasks.tasks[0];
  assert.equal(running.name, 'svc-2');
  assert.equal(running.framework_id.value, c.frameworkId);
  assert.equal(running.agent_id.value, agent.id);
  assert.equal(running.state, 'TASK_RUNNING');
  assert.equal(scalar(running.resources, 'cpus'), 0.5);
  assert.deepEqual(running.labels, { labels: [{ key: 'app', value: 'web' }] });
  assert.equal(running.statuses.at(-1).state, 'TASK_RUNNING');
  assert.equal(tasks.completed_tasks[0].state, 'TASK_KILLED');

  const stateReply = await op(m, { type: 'GET_STATE' });
  // written as a stream, the tasks a chunk per turn (server/api/json-stream.ts), not in one go
  assert.equal(stateReply.headers['transfer-encoding'], 'chunked');
  assert.equal(stateReply.headers['content-length'], undefined);
  const state = stateReply.body;
  assert.equal(state.type, 'GET_STATE');
  assert.deepEqual(Object.keys(state.get_state).sort(), ['get_agents', 'get_executors', 'get_frameworks', 'get_tasks']);
  assert.deepEqual(state.get_state.get_tasks.tasks.map((x: any) => x.task_id.value), ['svc-2']);
  assert.equal(state.get_state.get_agents.agents[0].agent_info.id.value, agent.id);

  const roles = (await op(m, { type: 'GET_ROLES' })).body.get_roles.roles;
  assert.deepEqual(roles.map((r: any) => [r.name, r.frameworks.map((x: any) => x.value).filter((id: string) => !id.startsWith('yagura-'))]), [['*', []], ['web', [c.frameworkId]]]);
  assert.equal(scalar(roles.find((r: any) => r.name === 'web').allocated, 'cpus'), 0.5);
  const metrics = Object.fromEntries((await op(m, { type: 'GET_METRICS' })).body.get_metrics.metrics.map((x: any) => [x.name, x.value]));
  assert.equal(metrics['master/tasks_running'], 1);
  assert.equal(metrics['master/tasks_killed'], 1);
  assert.equal(metrics['master/slaves_active'], 1);
  assert.deepEqual((await op(m, { type: 'GET_EXECUTORS' })).body.get_executors, { executors: [], orphan_executors: [] });

  // a torn-down framework moves to completed_frameworks
  assert.equal((await c.teardown()).status, 202);
  const after = (await op(m, { type: 'GET_FRAMEWORKS' })).body.get_frameworks;
  assert.deepEqual(after.frameworks.map((x: any) => x.framework_info.id.value).filter((id: string) => !id.startsWith('yagura-')), []);
  assert.equal(after.completed_frameworks[0].framework_info.id.value, c.frameworkId);
  assert.equal(after.completed_frameworks[0].active, false);
  // svc-2's text was kept by the reads above as TASK_RUNNING; its record changed, so it is new
  await waitFor(() => m.app.master.listTasks().find((x) => x.id === 'svc-2')?.state === 'TASK_KILLED', 'svc-2 killed');
  const killed = (await op(m, { type: 'GET_TASKS' })).body.get_tasks;
  assert.deepEqual(killed.tasks, []);
  assert.deepEqual(killed.completed_tasks.map((x: any) => [x.task_id.value, x.state, x.statuses.at(-1).state]).sort(), [['svc-1', 'TASK_KILLED', 'TASK_KILLED'], ['svc-2', 'TASK_KILLED', 'TASK_KILLED']]);
});

test('DRAIN_AGENT kills the tasks with the grace period, then the agent is DRAINED; REACTIVATE_AGENT brings offers back', async (t) => {
  const { m, agent, closeLater } = await cluster(t, { agent: { autoKill: false } });
  const c = await runningTask(m, closeLater, 'drained-task');
  const [remainder] = await c.nextOffers(agent.id);

  const bad = await op(m, { type: 'DRAIN_AGENT', drain_agent: {} });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.details[0].path, '/drain_agent/agent_id');
  assert.equal((await op(m, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: 'nope' } } })).status, 404);

  const r = await op(m, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agent.id }, max_grace_period: { seconds: 2 }, mark_gone: false } });
  assert.equal(r.status, 200, r.text);
  assert.equal(m.app.master.getAgent(agent.id)?.state, 'DRAINING', 'committed before the answer');
  const rescind = await c.next('RESCIND');
  assert.equal(rescind.rescind.offer_id.value, remainder.id.value, 'outstanding offers of a draining agent are rescinded');
  let a = (await op(m, { type: 'GET_AGENTS' })).body.get_agents.agents[0];
  assert.equal(a.deactivated, true);
  assert.equal(a.active, false);
  assert.deepEqual(a.drain_info, { state: 'DRAINING', config: { mark_gone: false, max_grace_period: { seconds: 2, nanos: 0 } } });
  await waitFor(() => agent.kills.length > 0, 'the kill');
  assert.deepEqual(agent.kills, [{ taskId: 'drained-task', gracePeriodMs: 2000 }]);

  agent.finishKill('drained-task');
  await c.nextUpdate('drained-task', 'TASK_KILLED');
  await waitFor(() => m.app.master.getAgent(agent.id)?.state === 'DRAINED', 'DRAINED');
  a = (await op(m, { type: 'GET_AGENTS' })).body.get_agents.agents[0];
  assert.equal(a.drain_info.state, 'DRAINED');
  assert.equal(m.app.master.listOffers().filter((o) => o.agentId === agent.id).length, 0, 'a drained agent is not offered');

  assert.equal((await op(m, { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agent.id } } })).status, 200);
  a = (await op(m, { type: 'GET_AGENTS' })).body.get_agents.agents[0];
  assert.equal(a.active, true);
  assert.equal(a.deactivated, false);
  assert.equal(a.drain_info, undefined);
  const [fresh] = await c.nextOffers(agent.id);
  assert.notEqual(fresh.id.value, remainder.id.value);
  assert.equal((await op(m, { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agent.id } } })).status, 409, 'only a draining or drained agent can be reactivated');
});

test('MARK_AGENT_GONE ends its tasks with TASK_GONE and tells the framework with FAILURE', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const c = await runningTask(m, closeLater, 'lost-cause');
  const r = await op(m, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: agent.id } } });
  assert.equal(r.status, 200, r.text);
  const gone = await c.nextUpdate('lost-cause', 'TASK_GONE');
  assert.equal(gone.reason, 'REASON_AGENT_REMOVED');
  assert.equal(gone.source, 'SOURCE_MASTER');
  const failure = await c.next('FAILURE');
  assert.equal(failure.failure.agent_id.value, agent.id);
  assert.deepEqual((await op(m, { type: 'GET_AGENTS' })).body.get_agents.agents, [], 'a gone agent is no longer listed');
  assert.equal(m.app.master.getTask('lost-cause')?.state, 'TASK_GONE');
});

test('mutating calls need an admin token; a viewer may read', async (t) => {
  const { m, agent } = await cluster(t);
  const viewer = m.app.auth.createToken('viewer', 't');
  for (const body of [
    { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agent.id } } },
    { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: agent.id } } },
    { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agent.id } } },
    { type: 'TEARDOWN', teardown: { framework_id: { value: 'x' } } },
  ]) {
    const r = await op(m, body, viewer);
    assert.equal(r.status, 403, `${body.type}: ${r.text}`);
    assert.equal(typeof r.body.message, 'string');
  }
  assert.equal(m.app.master.getAgent(agent.id)?.state, 'ACTIVE');
  for (const type of ['GET_STATE', 'GET_AGENTS', 'GET_TASKS', 'GET_FRAMEWORKS', 'GET_HEALTH']) {
    assert.equal((await op(m, { type }, viewer)).status, 200, type);
  }
  const stream = await operatorSubscribe(m.url, viewer);
  assert.equal((await stream.next('SUBSCRIBED')).type, 'SUBSCRIBED');
  stream.close();
  const st = await request(`${m.url}/master/state`, { headers: { Authorization: `Bearer ${viewer}` } });
  assert.equal(st.status, 200);
  assert.equal((await request(`${m.url}/master/state`)).status, 401);
});

test('SUBSCRIBE streams SUBSCRIBED with the state, then agent, framework and task events', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const events = await operatorSubscribe(m.url, m.token);
  closeLater(events);
  const subscribed = await events.next('SUBSCRIBED');
  assert.equal(subscribed.subscribed.heartbeat_interval_seconds, 0.2);
  assert.deepEqual(subscribed.subscribed.get_state.get_agents.agents.map((a: any) => a.agent_info.id.value), [agent.id]);
  assert.deepEqual(subscribed.subscribed.get_state.get_tasks.tasks, []);

  const second = await FakeAgent.connect(m, { hostname: 'late-joiner' });
  closeLater(second);
  const added = await events.next('AGENT_ADDED', (e) => e.agent_added.agent.agent_info.id.value === second.id);
  assert.equal(added.agent_added.agent.agent_info.hostname, 'late-joiner');

  const c = await runningTask(m, closeLater, 'watched');
  const fw = await events.next('FRAMEWORK_ADDED');
  assert.equal(fw.framework_added.framework.framework_info.id.value, c.frameworkId);
  const taskAdded = await events.next('TASK_ADDED');
  assert.equal(taskAdded.task_added.task.task_id.value, 'watched');
  assert.equal(taskAdded.task_added.task.state, 'TASK_STAGING');
  assert.equal(taskAdded.task_added.task.framework_id.value, c.frameworkId);
  const starting = await events.next('TASK_UPDATED', (e) => e.task_updated.state === 'TASK_STARTING');
  const running = await events.next('TASK_UPDATED', (e) => e.task_updated.state === 'TASK_RUNNING');
  assert.equal(running.task_updated.framework_id.value, c.frameworkId);
  assert.equal(running.task_updated.status.task_id.value, 'watched');
  assert.equal(running.task_updated.status.state, 'TASK_RUNNING');
  assert.ok(events.received.indexOf(starting) < events.received.indexOf(running), 'events keep their order');

  assert.equal((await op(m, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: second.id } } })).status, 200);
  const removed = await events.next('AGENT_REMOVED');
  assert.equal(removed.agent_removed.agent_id.value, second.id);

  assert.equal((await c.teardown()).status, 202);
  const fwRemoved = await events.next('FRAMEWORK_REMOVED');
  assert.equal(fwRemoved.framework_removed.framework_info.id.value, c.frameworkId);
  await events.next('HEARTBEAT');
  // a later subscriber's snapshot already holds what the first one saw as events
  const late = await operatorSubscribe(m.url, m.token);
  closeLater(late);
  const snap = (await late.next('SUBSCRIBED')).subscribed.get_state;
  assert.deepEqual(snap.get_tasks.completed_tasks.map((x: any) => x.task_id.value), ['watched']);
  assert.deepEqual(snap.get_frameworks.completed_frameworks.map((x: any) => x.framework_info.id.value), [c.frameworkId]);
});

test('GET /master/state and /state.json give the Mesos state document', async (t) => {
  const { m, agent, closeLater } = await cluster(t, { agent: { hostname: 'h1', attributes: { rack: 'r9' } } });
  const c = await runningTask(m, closeLater, 'first', info('stateful', { webui_url: 'http://ui/' }));
  assert.equal((await c.kill('first')).status, 202);
  await c.nextUpdate('first', 'TASK_KILLED');
  const [offer] = await c.nextOffers();
  assert.equal((await c.accept([offer.id.value], [commandTask(offer, 'second', { cpus: 0.25, mem: 16, ports: [[31100, 31101]] })])).status, 202);
  await c.nextUpdate('second', 'TASK_RUNNING');

  const auth = { Authorization: `Bearer ${m.token}` };
  const res = await request(`${m.url}/master/state`, { headers: auth });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  // written a chunk at a time across turns (server/api/json-stream.ts), not as one string
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.equal(res.headers['content-length'], undefined);
  const s = res.body;
  assert.equal(s.version, m.app.master.version);
  assert.equal(s.id, m.app.master.epoch);
  assert.match(s.pid, /^master@127\.0\.0\.1:\d+$/);
  assert.equal(typeof s.hostname, 'string');
  assert.ok(Math.abs(s.start_time - m.app.master.startedAt / 1000) < 1e-3, 'start_time is in seconds');
  assert.equal(s.activated_slaves, 1);
  assert.equal(s.deactivated_slaves, 0);
  assert.equal(s.unreachable_slaves, 0);

  assert.equal(s.slaves.length, 1);
  const slave = s.slaves[0];
  assert.equal(slave.id, agent.id);
  assert.equal(slave.hostname, 'h1');
  assert.deepEqual(slave.resources, { cpus: 4, mem: 4096, disk: 10240, gpus: 0, ports: '[31000-32000]' });
  assert.deepEqual(slave.used_resources, { cpus: 0.25, mem: 16, disk: 0, gpus: 0, ports: '[31100-31101]' });
  assert.deepEqual(slave.unreserved_resources, slave.resources);
  assert.deepEqual(slave.attributes, { rack: 'r9' });
  assert.equal(slave.active, true);
  assert.equal(slave.version, 'fake-1');
  assert.equal(typeof slave.registered_time, 'number');
  assert.ok(slave.offered_resources);

  const external = s.frameworks.filter((x: any) => !x.id.startsWith('yagura-'));
  assert.equal(external.length, 1);
  const f = external[0];
  assert.equal(f.id, c.frameworkId);
  assert.equal(f.name, 'stateful');
  assert.equal(f.user, 'nobody');
  assert.equal(f.active, true);
  assert.equal(f.connected, true);
  assert.equal(f.role, '*');
  assert.equal(f.webui_url, 'http://ui/');
  assert.equal(f.failover_timeout, 0);
  assert.deepEqual(f.used_resources, { cpus: 0.25, mem: 16, disk: 0, gpus: 0, ports: '[31100-31101]' });
  assert.equal(f.tasks.length, 1);
  const task = f.tasks[0];
  assert.deepEqual(
    { id: task.id, name: task.name, framework_id: task.framework_id, executor_id: task.executor_id, slave_id: task.slave_id, state: task.state },
    { id: 'second', name: 'second', framework_id: c.frameworkId, executor_id: '', slave_id: agent.id, state: 'TASK_RUNNING' },
  );
  assert.deepEqual(task.resources, { cpus: 0.25, mem: 16, disk: 0, gpus: 0, ports: '[31100-31101]' });
  assert.equal(task.statuses.at(-1).state, 'TASK_RUNNING');
  assert.equal(typeof task.statuses.at(-1).timestamp, 'number');
  assert.deepEqual(f.completed_tasks.map((x: any) => [x.id, x.state]), [['first', 'TASK_KILLED']]);
  assert.deepEqual(f.completed_tasks[0].labels, [{ key: 'app', value: 'web' }]);
  assert.deepEqual(s.completed_frameworks, []);
  assert.deepEqual(s.orphan_tasks, []);
  assert.deepEqual(s.unregistered_frameworks, []);

  const alias = await request(`${m.url}/state.json`, { headers: auth });
  assert.equal(alias.status, 200);
  assert.deepEqual(Object.keys(alias.body).sort(), Object.keys(s).sort());
  assert.deepEqual(alias.body.frameworks.find((x: any) => x.id === c.frameworkId).tasks, f.tasks);
  assert.deepEqual(alias.body.slaves.map((x: any) => x.id), [agent.id]);
  assert.equal((await request(`${m.url}/master/health`, { headers: auth })).status, 200);
});
