// The scheduler API refuses bad calls with the documented status and error body, and a refused
// call changes nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchedulerClient, commandTask, operatorCall, request, type HttpResult } from '../support/mesos-client.js';
import { cluster, waitFor, type TestMaster } from './mesos-harness.js';

const info = (name: string, extra: Record<string, unknown> = {}) => ({ user: 'nobody', name, ...extra });

function post(m: TestMaster, body: string, headers: Record<string, string> = {}, token: string | null = m.token): Promise<HttpResult> {
  return request(`${m.url}/api/v1/scheduler`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body,
  });
}

/** The documented error body, with the status and (optionally) a detail at `path`. */
function assertError(r: HttpResult, status: number, path?: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.body?.message, 'string', r.text);
  assert.ok(Array.isArray(r.body.details), r.text);
  if (path !== undefined) {
    assert.ok(
      r.body.details.some((d: any) => d.path === path && Array.isArray(d.errors) && d.errors.length > 0),
      `expected a detail at ${path}: ${r.text}`,
    );
  }
}

test('malformed and unknown calls are 400, protobuf is 415, with the error body', async (t) => {
  const { m } = await cluster(t);
  assertError(await post(m, '{"type": "SUBSCRIBE",'), 400);
  assertError(await post(m, '[1, 2]'), 400);
  assertError(await post(m, '{"subscribe": {}}'), 400, '/type');
  assertError(await post(m, JSON.stringify({ type: 'LAUNCH_ROCKETS', framework_id: { value: 'x' } })), 400, '/type');
  assertError(await post(m, JSON.stringify({ type: 'SUBSCRIBE', subscribe: {} })), 400, '/subscribe/framework_info');
  assertError(await post(m, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'n' } } })), 400, '/subscribe/framework_info/user');
  assertError(
    await post(m, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n', failover_timeout: 'long' } } })),
    400,
    '/subscribe/framework_info/failover_timeout',
  );
  assertError(
    await post(m, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n', role: 'a', roles: ['b'] } } })),
    400,
    '/subscribe/framework_info/roles',
  );
  assertError(
    await post(m, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: info('n') } }), { 'Mesos-Stream-Id': 'abc' }),
    400,
    'Mesos-Stream-Id',
  );

  const proto = await post(m, '\x08\x01', { 'Content-Type': 'application/x-protobuf' });
  assertError(proto, 415);
  assert.match(proto.body.message, /only JSON/);
  assert.deepEqual(m.app.master.listFrameworks().filter((f) => !f.builtin), [], 'nothing was subscribed by the refused calls');
});

test('non-SUBSCRIBE calls need framework_id and the stream id of the live subscription', async (t) => {
  const { m, closeLater } = await cluster(t);
  const c = await SchedulerClient.subscribe({ master: m.url, token: m.token }, info('strict'));
  closeLater(c);
  assertError(await post(m, JSON.stringify({ type: 'REVIVE' }), { 'Mesos-Stream-Id': c.streamId }), 400, '/framework_id');
  assertError(await post(m, JSON.stringify({ type: 'REVIVE', framework_id: 'not-an-object' }), { 'Mesos-Stream-Id': c.streamId }), 400, '/framework_id');
  assertError(await c.call('REVIVE', {}, { 'Mesos-Stream-Id': '' }), 400, 'Mesos-Stream-Id');
  assertError(await post(m, JSON.stringify({ type: 'REVIVE', framework_id: { value: c.frameworkId } })), 400, 'Mesos-Stream-Id');
  assertError(await c.call('REVIVE', {}, { 'Mesos-Stream-Id': 'a-stale-stream' }), 400, 'Mesos-Stream-Id');
  assertError(await post(m, JSON.stringify({ type: 'REVIVE', framework_id: { value: 'nobody-knows-me' } }), { 'Mesos-Stream-Id': c.streamId }), 404);
  assertError(await c.call('MESSAGE', { message: { agent_id: { value: 'a' }, executor_id: { value: 'e' }, data: '' } }), 422, '/type');
  assertError(await c.call('KILL', { kill: {} }), 400, '/kill/task_id');
  assertError(await c.call('ACKNOWLEDGE', { acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'not base64!' } }), 400, '/acknowledge/uuid');
  assertError(await c.call('DECLINE', { decline: { offer_ids: [{ value: 7 }] } }), 400, '/decline/offer_ids/0/value');
  assertError(await c.call('DECLINE', { decline: { offer_ids: [], filters: { refuse_seconds: -1 } } }), 400, '/decline/filters/refuse_seconds');
  assert.equal((await c.call('REQUEST', { requests: [] })).status, 202, 'REQUEST is accepted and ignored, as by Mesos');
  assert.equal((await c.revive()).status, 202, 'the right stream id is accepted');
});

test('ACCEPT refusals (unknown offer 404, too much 422, bad task 400/422) leave the offer usable', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const c = await SchedulerClient.subscribe({ master: m.url, token: m.token }, info('careful'));
  closeLater(c);
  const [offer] = await c.nextOffers();
  const before = JSON.stringify(m.app.master.listOffers());
  const unchanged = () => {
    assert.equal(JSON.stringify(m.app.master.listOffers()), before, 'outstanding offers are unchanged');
    assert.deepEqual(m.app.master.listTasks(), [], 'no task was created');
    assert.deepEqual(agent.launches, []);
  };

  assertError(await c.accept([offer.id.value, 'no-such-offer'], [commandTask(offer, 't1')]), 404, '/accept/offer_ids/1');
  unchanged();
  assertError(await c.accept([offer.id.value], [commandTask(offer, 't1', { cpus: 64 })]), 422);
  unchanged();
  assertError(await c.accept([offer.id.value], [commandTask(offer, 'fits', { cpus: 0.1 }), commandTask(offer, 'too-much', { mem: 1e6 })]), 422);
  unchanged();
  assertError(
    await c.accept([offer.id.value], [commandTask(offer, 'a'), commandTask(offer, 'a')]),
    422,
    '/accept/operations/0/launch/task_infos/1/task_id',
  );
  unchanged();
  assertError(await c.accept([offer.id.value], [{ ...commandTask(offer, 't1'), name: 5 }]), 400, '/accept/operations/0/launch/task_infos/0/name');
  assertError(await c.accept([offer.id.value], [commandTask(offer, '../escape')]), 422, '/accept/operations/0/launch/task_infos/0/task_id/value');
  assertError(
    await c.accept([offer.id.value], [{ ...commandTask(offer, 't1'), resources: [{ name: 'gpus', type: 'SCALAR', scalar: { value: 1 } }] }]),
    422,
    '/accept/operations/0/launch/task_infos/0/resources/0/name',
  );
  assertError(await c.accept([offer.id.value], [{ ...commandTask(offer, 't1'), executor: { executor_id: { value: 'e' } } }]), 422, '/accept/operations/0/launch/task_infos/0/executor');
  assertError(
    await c.call('ACCEPT', { accept: { offer_ids: [offer.id], operations: [{ type: 'RESERVE', reserve: { resources: [] } }] } }),
    422,
    '/accept/operations/0/type',
  );
  assertError(await c.call('ACCEPT', { accept: { offer_ids: [offer.id], operations: [{ type: 'TELEPORT' }] } }), 400, '/accept/operations/0/type');
  unchanged();

  const ok = await c.accept([offer.id.value], [commandTask(offer, 't1')]);
  assert.equal(ok.status, 202, ok.text);
  await c.nextUpdate('t1', 'TASK_RUNNING');
  assertError(await c.accept([offer.id.value], [commandTask(offer, 't2')]), 404, '/accept/offer_ids/0');
});

test('a framework cannot kill or acknowledge the tasks of another', async (t) => {
  const { m, agent, closeLater } = await cluster(t);
  const a = await SchedulerClient.subscribe({ master: m.url, token: m.token }, info('owner'));
  closeLater(a);
  const [offer] = await a.nextOffers();
  assert.equal((await a.accept([offer.id.value], [commandTask(offer, 'mine')])).status, 202);
  const running = await a.nextUpdate('mine', 'TASK_RUNNING');
  const b = await SchedulerClient.subscribe({ master: m.url, token: m.token }, info('intruder'));
  closeLater(b);

  assertError(await b.kill('mine'), 404);
  assertError(await b.acknowledge(running), 404);
  assert.deepEqual(agent.kills, []);
  assert.equal(m.app.master.getTask('mine')?.state, 'TASK_RUNNING');
  assertError(await b.call('REVIVE', {}, { 'Mesos-Stream-Id': a.streamId }), 400, 'Mesos-Stream-Id');
  const asA = await b.call('KILL', { framework_id: { value: a.frameworkId }, kill: { task_id: { value: 'mine' } } });
  assertError(asA, 400, 'Mesos-Stream-Id');
  assert.deepEqual(agent.kills, []);
});

test('a second SUBSCRIBE of a connected framework is 409 and the first stream keeps working; force replaces it', async (t) => {
  const { m, closeLater } = await cluster(t);
  const fi = info('singleton', { failover_timeout: 3600 });
  const first = await SchedulerClient.subscribe({ master: m.url, token: m.token }, fi);
  closeLater(first);
  const again = { ...fi, id: { value: first.frameworkId } };
  await assert.rejects(SchedulerClient.subscribe({ master: m.url, token: m.token }, again), (e: any) => {
    assertError({ status: e.status, body: e.body, headers: {}, text: JSON.stringify(e.body) }, 409);
    return true;
  });
  assert.equal((await first.reconcile([{ taskId: 'probe' }])).status, 202);
  assert.equal((await first.nextUpdate('probe')).state, 'TASK_UNKNOWN');
  assert.equal(m.app.master.getFramework(first.frameworkId)?.connected, true);

  const forced = await SchedulerClient.subscribe({ master: m.url, token: m.token, force: true }, again);
  closeLater(forced);
  assert.equal(forced.frameworkId, first.frameworkId);
  const err = await first.next('ERROR');
  assert.match(err.error.message, /failed over/);
  await first.stream.ended;
  assertError(await first.call('REVIVE'), 400, 'Mesos-Stream-Id');
  assert.equal((await forced.revive()).status, 202);
  await waitFor(() => m.app.master.getFramework(forced.frameworkId)?.connected, 'the framework to be connected');
});

test('authentication: no token is 401, a viewer token is 403 on the scheduler API', async (t) => {
  const { m } = await cluster(t);
  const subscribe = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: info('anon') } });
  assertError(await post(m, subscribe, {}, null), 401);
  assertError(await post(m, subscribe, {}, 'wrong-token'), 401);
  const viewer = m.app.auth.createToken('viewer', 't');
  assertError(await post(m, subscribe, {}, viewer), 403);
  assertError(await post(m, JSON.stringify({ type: 'TEARDOWN', framework_id: { value: 'x' } }), {}, viewer), 403);
  assert.deepEqual(m.app.master.listFrameworks().filter((f) => !f.builtin), []);
  // the same viewer may read the state through the operator API
  const state = await operatorCall(m.url, viewer, { type: 'GET_STATE' });
  assert.equal(state.status, 200);
  assert.equal(state.body.type, 'GET_STATE');
  // Basic auth with the token as password also works, for user:token@host URLs
  const basic = Buffer.from(`me:${m.token}`).toString('base64');
  assertError(await operatorCall(m.url, undefined, { type: 'GET_HEALTH' }), 401);
  const viaBasic = await request(`${m.url}/api/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${basic}` },
    body: '{"type":"GET_HEALTH"}',
  });
  assert.equal(viaBasic.status, 200);
});
