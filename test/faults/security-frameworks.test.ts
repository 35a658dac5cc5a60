// S2: impostors. An agent with a wrong secret; a framework acting on another framework's tasks,
// offers or subscription (including the frameworks built into the master); a stale
// Mesos-Stream-Id. Every one is refused, and the victim keeps working. (Waits are hang guards:
// generous, because other suites may load the machine.)

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../../server/agent/agent.js';
import { SchedulerClient, commandTask, operatorCall, request, type HttpResult } from '../support/mesos-client.js';
import { makeAgentEnv, type AgentTestEnv } from '../server/fixtures/agent-fake-master.js';
import { figures, fingerprint, firstDifference, startSeeded, waitFor, WsProbe, type Seeded } from './support.js';

const info = (name: string, extra: Record<string, unknown> = {}) => ({ user: 'nobody', name, ...extra });

describe('S2: impostors are refused', { timeout: 120_000 }, () => {
  let s: Seeded;
  const closables: Array<{ close(): void }> = [];
  const later = <T extends { close(): void }>(c: T): T => {
    closables.push(c);
    return c;
  };
  before(async () => {
    s = await startSeeded();
  });
  after(async () => {
    for (const c of closables) c.close();
    await s?.dispose();
  });

  it('refuses an agent with a wrong secret, however it is sent', async () => {
    const before = await fingerprint(s);
    const secret = s.m.agentSecret;
    const wrong = [
      undefined,
      'Bearer ',
      'Bearer wrong',
      `Bearer ${secret.slice(0, -1)}`,
      `Bearer ${secret}x`,
      `Bearer ${secret.toUpperCase()}`,
      `Basic ${Buffer.from(`agent:${secret}x`).toString('base64')}`,
      `Bearer ${s.m.adminToken}`,
      `Bearer ${s.viewer}`,
      `Token ${secret}`,
    ];
    let refused = 0;
    for (const header of wrong) {
      const p = new WsProbe(`${s.m.url}/api/v1/agent`, header !== undefined ? { headers: { authorization: header } } : {});
      await p.opened();
      if (p.refusedWith === 401) refused++;
      else assert.fail(`agent upgrade with ${header ?? 'no header'}: ${p.refusedWith ?? 'accepted'}`);
      p.close();
    }
    // the secret in the URL or as a subprotocol is not accepted either
    for (const opts of [{ path: `/api/v1/agent?secret=${secret}` }, { path: '/api/v1/agent', protocols: [`bearer.${secret}`] }]) {
      const p = new WsProbe(`${s.m.url}${opts.path}`, opts.protocols ? { protocols: opts.protocols } : {});
      await p.opened();
      assert.equal(p.refusedWith, 401, `agent upgrade via ${JSON.stringify(opts)}`);
      refused++;
      p.close();
    }

    // the real agent with a wrong secret: never registers, says why
    const env: AgentTestEnv = makeAgentEnv('s2-wrong-secret');
    const agent = new Agent({ masterUrl: s.m.url, secret: `${secret}-wrong`, workDir: env.workDir, hostname: env.hostname, cgroups: false, logger: () => undefined });
    try {
      const failed = once(agent, 'authFailed');
      await agent.start();
      const [status] = (await failed) as [number];
      assert.equal(status, 401);
      assert.equal(agent.agentId, undefined);
      refused++;
    } finally {
      await agent.stop();
      await env.cleanup();
    }
    assert.equal(s.m.master.listAgents().length, 1, 'no agent joined');
    assert.equal(firstDifference(before, await fingerprint(s)), undefined, 'nothing changed');
    figures(`S2: ${refused} agent registrations with a wrong or misplaced secret, ${refused} refused (401)`);
  });

  it("refuses framework B acting on framework A's tasks, offers and subscription", async () => {
    const opts = { master: s.m.url, token: s.m.adminToken };
    // B declines its offer for long, so that the agent's offers go to A from then on
    const b = later(await SchedulerClient.subscribe(opts, info('intruder-b')));
    const [bOffer] = await b.nextOffers(s.agent.id, 30_000);
    assert.equal((await b.decline([bOffer.id.value], 3600)).status, 202);
    const a = later(await SchedulerClient.subscribe(opts, info('victim-a', { failover_timeout: 60 })));
    const [offer] = await a.nextOffers(s.agent.id, 30_000);
    assert.equal((await a.accept([offer.id.value], [commandTask(offer, 'a-task', { cpus: 0.1, mem: 16 })], 0)).status, 202);
    const running = await a.nextUpdate('a-task', 'TASK_RUNNING', 30_000);
    // a fresh offer for A, outstanding while B tries to use it
    const [aOffer] = await a.nextOffers(s.agent.id, 30_000);
    const before = await fingerprint(s);

    const asB = (type: string, body: Record<string, unknown>, headers: Record<string, string> = {}, frameworkId = b.frameworkId): Promise<HttpResult> =>
      request(`${s.m.url}/api/v1/scheduler`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.m.adminToken}`, 'Mesos-Stream-Id': b.streamId, ...headers },
        body: JSON.stringify({ type, framework_id: { value: frameworkId }, ...body }),
      });
    const builtinTask = s.taskId;
    const attempts: Array<[string, Promise<HttpResult>, number[]]> = [
      ["KILL of A's task as B", asB('KILL', { kill: { task_id: { value: 'a-task' } } }), [404]],
      ["KILL of A's task naming A, with B's stream id", asB('KILL', { kill: { task_id: { value: 'a-task' } } }, {}, a.frameworkId), [400]],
      ["KILL of A's task naming A, without a stream id", asB('KILL', { kill: { task_id: { value: 'a-task' } } }, { 'Mesos-Stream-Id': '' }, a.frameworkId), [400]],
      ["ACKNOWLEDGE of A's update as B", asB('ACKNOWLEDGE', { acknowledge: { agent_id: running.agent_id, task_id: running.task_id, uuid: running.uuid ?? 'AAAAAAAAAAAAAAAAAAAAAA==' } }), [404]],
      ["ACCEPT of A's offer as B", asB('ACCEPT', { accept: { offer_ids: [aOffer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask(aOffer, 'b-steals')] } }] } }), [404]],
      ["DECLINE of A's offer as B", asB('DECLINE', { decline: { offer_ids: [aOffer.id] } }), [404]],
      ['TEARDOWN of A with B\'s stream id', asB('TEARDOWN', {}, {}, a.frameworkId), [400]],
      ['SUPPRESS of A with B\'s stream id', asB('SUPPRESS', {}, {}, a.frameworkId), [400]],
      ["KILL of the services framework's task, with its (guessable) stream id", asB('KILL', { kill: { task_id: { value: builtinTask } } }, { 'Mesos-Stream-Id': 'builtin-yagura-services' }, 'yagura-services'), [403]],
      ['TEARDOWN of the services framework with its stream id', asB('TEARDOWN', {}, { 'Mesos-Stream-Id': 'builtin-yagura-services' }, 'yagura-services'), [403]],
      ['TEARDOWN of the jobs framework with its stream id', asB('TEARDOWN', {}, { 'Mesos-Stream-Id': 'builtin-yagura-jobs' }, 'yagura-jobs'), [403]],
      ['operator TEARDOWN of the services framework', operatorCall(s.m.url, s.m.adminToken, { type: 'TEARDOWN', teardown: { framework_id: { value: 'yagura-services' } } }), [403]],
      ['operator TEARDOWN of the jobs framework', operatorCall(s.m.url, s.m.adminToken, { type: 'TEARDOWN', teardown: { framework_id: { value: 'yagura-jobs' } } }), [403]],
    ];
    let refused = 0;
    for (const [what, p, want] of attempts) {
      const r = await p;
      assert.ok(want.includes(r.status), `${what}: ${r.status} ${r.text}`);
      assert.equal(typeof r.body?.message, 'string', `${what}: error body`);
      refused++;
    }
    // B cannot take over A's subscription without failing it over (409), nor subscribe as a built-in framework
    for (const id of [a.frameworkId, 'yagura-services', 'yagura-jobs']) {
      const r = await request(`${s.m.url}/api/v1/scheduler`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.m.adminToken}` },
        body: JSON.stringify({ type: 'SUBSCRIBE', framework_id: { value: id }, subscribe: { framework_info: info('thief', { id: { value: id } }), ...(id.startsWith('yagura-') ? { force: true } : {}) } }),
      });
      assert.equal(r.status, 409, `SUBSCRIBE as ${id}: ${r.status} ${r.text}`);
      refused++;
    }
    // RECONCILE of A's task by B tells B nothing about it
    assert.equal((await b.reconcile([{ taskId: 'a-task' }])).status, 202);
    const answer = await b.nextUpdate('a-task', undefined, 30_000);
    assert.equal(answer.state, 'TASK_UNKNOWN', "B does not learn the state of A's task");

    assert.equal(firstDifference(before, await fingerprint(s)), undefined, 'nothing changed');
    assert.equal(s.m.master.getTask('a-task')?.state, 'TASK_RUNNING');
    assert.equal(s.m.master.getTask(builtinTask)?.state, 'TASK_RUNNING');
    assert.ok(s.m.master.listFrameworks().filter((f) => f.builtin).every((f) => f.active && f.connected), 'the built-in frameworks are intact');
    // A still works: its own kill goes through
    assert.equal((await a.kill('a-task')).status, 202);
    await a.nextUpdate('a-task', 'TASK_KILLED', 30_000);
    figures(`S2: ${refused} calls by framework B on A's (and the built-in frameworks') tasks, offers and subscriptions, ${refused} refused; A unaffected`);
  });

  it('refuses a stale or missing Mesos-Stream-Id after failover', async () => {
    const opts = { master: s.m.url, token: s.m.adminToken };
    const first = await SchedulerClient.subscribe(opts, info('failing-over', { failover_timeout: 60 }));
    const id = { value: first.frameworkId };
    first.close();
    await waitFor(() => s.m.master.getFramework(first.frameworkId)?.connected === false, 10_000, 'the first stream to close');
    const second = later(await SchedulerClient.subscribe(opts, info('failing-over', { id, failover_timeout: 60 })));
    assert.notEqual(second.streamId, first.streamId);
    const third = later(await SchedulerClient.subscribe({ ...opts, force: true }, info('failing-over', { id, failover_timeout: 60 })));
    const stale = [first.streamId, second.streamId, '', 'x'.repeat(36), third.streamId.toUpperCase()];
    let refused = 0;
    for (const streamId of stale) {
      for (const type of ['REVIVE', 'SUPPRESS', 'TEARDOWN']) {
        const r = await third.call(type, {}, { 'Mesos-Stream-Id': streamId });
        assert.equal(r.status, 400, `${type} with stream id ${JSON.stringify(streamId)}: ${r.status} ${r.text}`);
        refused++;
      }
    }
    assert.equal((await third.revive()).status, 202, 'the current stream id works');
    assert.equal(s.m.master.getFramework(first.frameworkId)?.active, true, 'not torn down by a stale call');
    figures(`S2: ${refused} calls with a stale or missing Mesos-Stream-Id, ${refused} refused (400)`);
  });
});


