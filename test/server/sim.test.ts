// Simulated agents against an in-process master, over real WebSockets: registration and
// heartbeats, placement of a constrained app, run times, failures, kills, resends across a
// master restart, disconnects on close, and the `yagura sim` command line.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { isTerminal, type AgentToMaster, type MasterToAgent, type StatusUpdate, type TaskView } from '../../protocol/types.js';
import { startSimAgents, type SimHandle, type SimOptions } from '../../server/sim/sim.js';
import { startMaster, waitFor, type TestMaster } from '../support/cluster.js';
import { app } from '../support/services.js';
import { yagura } from '../support/cli.js';
import { parseArgs } from '../../server/cli/args.js';
import { SIM_COMMAND, simOptionsFrom } from '../../server/sim/cli.js';
import { freePort, YaguraProcess } from '../support/processes.js';

// heartbeats slow enough that a busy test machine does not make agents miss them
const fast = { master: { allocationIntervalMs: 50, heartbeatIntervalMs: 1000, maxMissedHeartbeats: 5 }, servicesTickMs: 100 };

describe('simulated agents', { timeout: 60_000 }, () => {
  let m: TestMaster | undefined;
  let sim: SimHandle | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await m?.dispose();
    m = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const start = (opts: Partial<SimOptions> & { agents: number }) =>
    startSimAgents({ masterUrl: m!.url, secret: m!.agentSecret, reconnectMinMs: 50, reconnectMaxMs: 200, ...opts });
  const tasksOf = (id: string): TaskView[] => m!.services.tasksOf(id);

  it('registers 200 agents with their attributes, keeps them alive with heartbeats and places a constrained app on them', async () => {
    m = await startMaster(fast);
    sim = start({ agents: 200, zones: 4, regions: 2, racks: 0, resources: { cpus: 2, mem: 1024, disk: 100, ports: [[31000, 31009]] } });
    await sim.registered(20_000);
    const agents = m.master.listAgents();
    assert.equal(agents.length, 200);
    assert.deepEqual(new Set(agents.map((a) => a.hostname)), new Set(Array.from({ length: 200 }, (_, i) => `sim-${i}`)));
    const a7 = agents.find((a) => a.hostname === 'sim-7')!;
    assert.deepEqual(a7.attributes, { region: 'region-1', zone: 'zone-3' });
    assert.deepEqual(a7.resources, { cpus: 2, mem: 1024, disk: 100, ports: [[31000, 31009]] });
    assert.equal(sim.counters.registered, 200);
    assert.ok(sim.agents().every((a) => a.registered && a.agentId && m!.master.isAgentConnected(a.agentId)));

    // the agents heartbeat at the interval the master asked for: every one is seen again
    const mark = Date.now();
    await waitFor(() => m!.master.listAgents().every((a) => a.lastSeenAt > mark), 10_000, 'a heartbeat from every agent');
    assert.ok(sim.counters.heartbeats >= 200);
    assert.ok(m.master.listAgents().every((a) => a.state === 'ACTIVE'));

    await m.services.deploy([{ id: '/web', to: app({ id: '/web', cmd: 'serve', instances: 50, cpus: 0.5, mem: 64, constraints: [['zone', 'GROUP_BY'], ['hostname', 'MAX_PER', '1']] }) }]);
    await waitFor(() => tasksOf('/web').filter((t) => t.state === 'TASK_RUNNING').length === 50, 20_000, '50 running');
    const running = tasksOf('/web');
    const zones = new Map<string, number>();
    const hosts = new Set<string>();
    for (const t of running) {
      const agent = m.master.getAgent(t.agentId)!;
      zones.set(agent.attributes.zone!, (zones.get(agent.attributes.zone!) ?? 0) + 1);
      hosts.add(agent.hostname);
    }
    assert.deepEqual([...zones.values()].sort(), [12, 12, 13, 13], 'GROUP_BY zone spreads 50 over 4 zones');
    assert.equal(hosts.size, 50, 'MAX_PER 1: one instance per agent');
    assert.ok(running.every((t) => t.startedAt !== undefined && t.statusUuid));
    await waitFor(() => m!.services.listDeployments().length === 0, 10_000, 'the deployment to finish');
    assert.equal(sim.counters.launched, 50);
    // a sandbox request gets a clean "no files" answer, not a timeout
    const reply = await m.master.files(running[0]!.id, 'browse', '');
    assert.deepEqual({ ok: reply.ok, status: (reply as { status?: number }).status }, { ok: false, status: 404 });
    assert.equal(sim.counters.running, 50);
    // every update was acknowledged by the master: STARTING and RUNNING of each task
    await waitFor(() => sim!.counters.acks === 100, 5000, '100 acks');

    // scaling down kills through the agents: KILLING, then KILLED, acknowledged and forgotten
    await m.services.deploy([{ id: '/web', to: { ...m.services.getApp('/web')!.def, instances: 10 } }]);
    await waitFor(() => tasksOf('/web').filter((t) => t.state === 'TASK_KILLED').length === 40, 10_000, '40 killed');
    assert.equal(tasksOf('/web').filter((t) => t.state === 'TASK_RUNNING').length, 10);
    assert.equal(sim.counters.killed, 40);
    await waitFor(() => sim!.agents().reduce((n, a) => n + a.tasks, 0) === 10, 5000, 'killed tasks forgotten after their ack');
  });

  it('ends tasks after their run time, fails the failure rate, and answers files requests', async () => {
    m = await startMaster(fast);
    const seen: StatusUpdate[] = [];
    sim = start({ agents: 10, runTimeMs: [100, 300], failureRate: 0.5, seed: 7, onStatus: (u) => seen.push(u) });
    await sim.registered(10_000);
    await m.services.deploy([{ id: '/batch', to: app({ id: '/batch', cmd: 'work', instances: 20, cpus: 0.1, mem: 16, backoffSeconds: 60 }) }]);
    await waitFor(() => tasksOf('/batch').filter((t) => isTerminal(t.state)).length >= 20, 15_000, '20 ended');
    const ended = tasksOf('/batch').filter((t) => isTerminal(t.state));
    const finished = ended.filter((t) => t.state === 'TASK_FINISHED');
    const failed = ended.filter((t) => t.state === 'TASK_FAILED');
    assert.equal(finished.length + failed.length, ended.length, 'nothing but FINISHED and FAILED');
    assert.ok(finished.length > 0 && failed.length > 0, `finished ${finished.length}, failed ${failed.length}`);
    assert.ok(finished.every((t) => t.exitCode === 0 && t.message === 'Command exited with status 0'));
    assert.ok(failed.every((t) => t.exitCode === 1 && t.message === 'Command exited with status 1'));
    for (const t of ended) {
      // each task went STARTING → RUNNING → its end, and ran its run time on the agent
      const own = seen.filter((u) => u.taskId === t.id);
      assert.deepEqual(own.map((u) => u.state), ['TASK_STARTING', 'TASK_RUNNING', t.state]);
      const ran = own[2]!.timestamp - own[1]!.timestamp;
      assert.ok(ran >= 100, `task ran ${ran} ms, less than its run time`);
    }
    // the ends count for the app's backoff (60 s), so nothing was relaunched meanwhile
    assert.equal(tasksOf('/batch').length, 20);
    assert.equal(sim.counters.failed, failed.length);
    assert.equal(sim.counters.finished, finished.length);
    assert.ok((m.services.getApp('/batch')?.backoff.failures ?? 0) > 0);
  });

  it('keeps updates made while the master was down and re-registers with its id and tasks after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'yagura-sim-'));
    dirs.push(dataDir);
    const port = await freePort();
    const secret = 'ygs_sim_test_secret';
    m = await startMaster({ ...fast, dataDir, port, agentSecret: secret });
    sim = start({ agents: 4, runTimeMs: 1500, zones: 0, racks: 0, regions: 0 });
    await sim.registered(10_000);
    const ids = new Set(sim.agents().map((a) => a.agentId));
    await m.services.deploy([{ id: '/short', to: app({ id: '/short', cmd: 'x', instances: 4, cpus: 0.1, mem: 16, constraints: [['hostname', 'UNIQUE']], backoffSeconds: 60 }) }]);
    await waitFor(() => tasksOf('/short').filter((t) => t.state === 'TASK_RUNNING').length === 4, 10_000, '4 running');
    const taskIds = tasksOf('/short').map((t) => t.id);

    // the master goes away while the tasks run; they finish while it is gone
    await m.close();
    await waitFor(() => sim!.counters.finished === 4, 5000, 'the tasks to finish on the agents');
    assert.equal(sim.counters.registered, 0);
    assert.equal(sim.counters.acks, 8, 'FINISHED was not acknowledged: nobody was there');

    m = await startMaster({ ...fast, dataDir, port, agentSecret: secret });
    await waitFor(() => sim!.counters.registered === 4, 10_000, 're-registration');
    assert.deepEqual(new Set(sim.agents().map((a) => a.agentId)), ids, 'the same agent ids');
    // the FINISHED updates were kept until a master took them
    await waitFor(() => taskIds.every((id) => m!.master.getTask(id)?.state === 'TASK_FINISHED'), 10_000, 'the FINISHED updates');
    await waitFor(() => sim!.counters.acks === 12, 5000, 'the FINISHED updates acknowledged');
    assert.equal(sim.counters.updates, 12);
    assert.equal(sim.agents().reduce((n, a) => n + a.tasks, 0), 0, 'acknowledged terminal tasks are forgotten');
  });

  it('resends an unacknowledged update with the same uuid until it is acked, and answers kills as the real agent does', async () => {
    // a bare master that records what one agent sends and answers by hand
    const wss = new WebSocketServer({ port: 0 });
    const got: AgentToMaster[] = [];
    let link: WebSocket | undefined;
    let auth: string | undefined;
    wss.on('connection', (ws, req) => {
      auth = req.headers.authorization;
      link = ws;
      ws.on('message', (raw) => got.push(JSON.parse(raw.toString()) as AgentToMaster));
    });
    let sent = 0;
    const send = (msg: MasterToAgent) => {
      sent++;
      link!.send(JSON.stringify(msg));
    };
    const statuses = () => got.flatMap((x) => (x.type === 'status' ? [x.update] : []));
    const port = (wss.address() as { port: number }).port;
    sim = startSimAgents({ masterUrl: `http://127.0.0.1:${port}`, secret: 'sekrit', agents: 1, statusRetryMs: 100, zones: 0, racks: 0, regions: 0 });
    try {
      await waitFor(() => got.length > 0, 5000, 'register');
      assert.equal(auth, 'Bearer sekrit');
      const reg = got[0] as Extract<AgentToMaster, { type: 'register' }>;
      assert.equal(reg.type, 'register');
      assert.equal(reg.hostname, 'sim-0');
      assert.equal(reg.agentId, undefined);
      assert.deepEqual(reg.tasks, []);
      send({ type: 'registered', agentId: 'A1', heartbeatIntervalMs: 100 });
      await sim.registered(5000);
      await waitFor(() => got.some((x) => x.type === 'heartbeat'), 5000, 'a heartbeat');
      const spec = { taskId: 't1', frameworkId: 'f1', name: 't1', command: { value: 'x', shell: true, env: {}, uris: [] }, resources: { cpus: 1, mem: 32, disk: 0, ports: [] }, labels: {}, killGracePeriodMs: 1000 };
      send({ type: 'launch', task: spec });
      await waitFor(() => statuses().filter((u) => u.state === 'TASK_RUNNING').length >= 3, 5000, 'RUNNING sent three times');
      const running = statuses().filter((u) => u.state === 'TASK_RUNNING');
      assert.equal(new Set(running.map((u) => u.uuid)).size, 1, 'a resend carries the same uuid');
      assert.ok(running.every((u) => u.agentId === 'A1' && u.taskId === 't1' && u.frameworkId === 'f1'));
      for (const u of new Map(statuses().map((u) => [u.uuid, u])).values()) send({ type: 'ack', taskId: u.taskId, uuid: u.uuid });
      await waitFor(() => sim!.counters.acks === 2, 5000, 'both acks');
      const count = got.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(got.slice(count).filter((x) => x.type === 'status').length, 0, 'nothing resent after the acks');

      send({ type: 'kill', taskId: 't1' });
      await waitFor(() => statuses().some((u) => u.state === 'TASK_KILLED'), 5000, 'KILLED');
      const killed = statuses().find((u) => u.state === 'TASK_KILLED')!;
      assert.deepEqual(statuses().filter((u) => u.taskId === 't1').map((u) => u.state).filter((st, i, all) => all.indexOf(st) === i), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
      send({ type: 'ack', taskId: 't1', uuid: killed.uuid });
      await waitFor(() => sim!.agents()[0]!.tasks === 0, 5000, 'the task forgotten');
      // a kill of a finished task reminds how it ended; of an unknown one, says it is unknown
      send({ type: 'kill', taskId: 't1' });
      send({ type: 'kill', taskId: 'nope' });
      await waitFor(() => statuses().some((u) => u.taskId === 'nope'), 5000, 'the answer for nope');
      assert.equal(statuses().filter((u) => u.taskId === 't1' && u.message === 'task already terminal')[0]?.state, 'TASK_KILLED');
      assert.deepEqual(
        (({ state, reason }) => ({ state, reason }))(statuses().find((u) => u.taskId === 'nope')!),
        { state: 'TASK_DROPPED', reason: 'REASON_TASK_UNKNOWN' },
      );

      // the sim counts the messages over its link both ways, as the other end saw them (a
      // heartbeat may be on its way: wait for a moment when none is)
      await waitFor(() => sim!.counters.messagesOut === got.length, 5000, 'every message sent counted');
      assert.equal(sim.counters.messagesIn, sent);
      assert.ok(sent >= 8 && got.length >= 10, `${sent} messages in, ${got.length} out`);

      // a new link re-registers with the agent id it was given
      link!.terminate();
      await waitFor(() => got.filter((x) => x.type === 'register').length === 2, 5000, 'the second register');
      assert.equal((got.filter((x) => x.type === 'register')[1] as { agentId?: string }).agentId, 'A1');
    } finally {
      await sim.close();
      sim = undefined;
      await new Promise((r) => wss.close(r));
    }
  });

  it('closing the sim disconnects every agent from the master', async () => {
    m = await startMaster(fast);
    sim = start({ agents: 30 });
    await sim.registered(10_000);
    const ids = sim.agents().map((a) => a.agentId!);
    assert.ok(ids.every((id) => m!.master.isAgentConnected(id)));
    await sim.close();
    await waitFor(() => ids.every((id) => !m!.master.isAgentConnected(id)), 5000, 'the master to see the links close');
    assert.equal(sim.counters.registered, 0);
    assert.equal(sim.counters.disconnects, 30);
  });

  it('gives up with a clear error on a wrong secret', async () => {
    m = await startMaster(fast);
    sim = startSimAgents({ masterUrl: m.url, secret: 'wrong', agents: 3 });
    await assert.rejects(sim.registered(10_000), /refused the agent secret \(HTTP 401\)/);
    await waitFor(() => sim!.counters.authFailures === 3, 5000, 'every agent refused');
    assert.equal(m.master.listAgents().length, 0);
  });

  it('rejects bad options', () => {
    assert.throws(() => startSimAgents({ masterUrl: 'http://127.0.0.1:1', secret: 's', agents: 0 }), /agents must be a whole number/);
    assert.throws(() => startSimAgents({ masterUrl: 'http://127.0.0.1:1', secret: 's', agents: 1, failureRate: 2 }), /failureRate must be between 0 and 1/);
    assert.throws(() => startSimAgents({ masterUrl: 'http://127.0.0.1:1', secret: 's', agents: 1, runTimeMs: [5, 1] }), /runTimeMs must be/);
    assert.throws(() => startSimAgents({ masterUrl: 'ftp://x', secret: 's', agents: 1 }), /unsupported master URL/);
  });
});

describe('yagura sim', { timeout: 60_000 }, () => {
  it('explains itself with --help and refuses bad flags with the usage', async () => {
    const [help, bogus, runTime] = await Promise.all([
      yagura(['sim', '--help']),
      yagura(['sim', '--agents', '2', '--bogus']),
      yagura(['sim', '--agents', '2', '--secret', 's', '--run-time', 'soon']),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: yagura sim --master URL --agents N/);
    for (const flag of ['--run-time', '--failure-rate', '--secret-file', '--cpus', '--mem']) assert.ok(help.stdout.includes(flag), flag);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /^yagura sim: unknown option --bogus\n\nusage: yagura sim/);
    assert.equal(runTime.code, 2);
    assert.match(runTime.stderr, /^yagura sim: --run-time must be seconds \(e\.g\. 30\), a range MIN-MAX \(e\.g\. 10-60\) or forever; got soon\n\nusage:/);
  });

  it('checks its options before dialing', () => {
    const opts = (args: string[]) => simOptionsFrom(parseArgs(args, SIM_COMMAND), undefined);
    const saved = process.env.YAGURA_AGENT_SECRET;
    delete process.env.YAGURA_AGENT_SECRET;
    try {
      assert.throws(() => opts(['--secret', 's']), /--agents N is required/);
      assert.throws(() => opts(['--agents', '2']), /--secret, --secret-file \(or YAGURA_AGENT_SECRET\) is required/);
      assert.throws(() => opts(['--agents', '0', '--secret', 's']), /--agents must be a whole number of at least 1/);
      assert.throws(() => opts(['--agents', '2', '--secret', 's', '--failure-rate', '1.5']), /--failure-rate must be between 0 and 1/);
      assert.throws(() => opts(['--agents', '2', '--secret', 's', '--secret-file', 'f']), /give --secret or --secret-file, not both/);
      assert.throws(() => opts(['--agents', '2', '--secret-file', '/nonexistent/secret']), /--secret-file: cannot read \/nonexistent\/secret: ENOENT/);
      assert.throws(() => opts(['--agents', '2', '--secret', 's', '--ports', '[2-1]']), /--ports: /);
      assert.throws(() => opts(['--agents', '2', '--secret', 's', '--launch-delay', '5-1']), /--launch-delay: the range 5-1 ends before it starts/);
      assert.throws(() => opts(['--agents', '2', '--secret', 's', '--master', 'nowhere']), /--master must be a URL/);
      const o = opts(['--agents', '3', '--secret', 's', '--run-time', '10-60', '--failure-rate', '0.1', '--cpus', '2', '--ports', '[5000-5009]', '--attributes', 'pool:sim']);
      assert.deepEqual(
        { agents: o.agents, runTimeMs: o.runTimeMs, failureRate: o.failureRate, resources: o.resources, attributes: o.attributes, launchDelayMs: o.launchDelayMs },
        { agents: 3, runTimeMs: [10_000, 60_000], failureRate: 0.1, resources: { cpus: 2, mem: 32768, disk: 102400, ports: [[5000, 5009]] }, attributes: { pool: 'sim' }, launchDelayMs: 0 },
      );
      assert.equal(opts(['--agents', '1', '--secret', 's']).runTimeMs, undefined, 'forever by default');
    } finally {
      if (saved !== undefined) process.env.YAGURA_AGENT_SECRET = saved;
    }
  });

  it('runs agents against a master until stopped', async () => {
    const m = await startMaster(fast);
    const dir = mkdtempSync(join(tmpdir(), 'yagura-sim-cli-'));
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, `${m.agentSecret}\n`);
    const p = new YaguraProcess(['sim', '--master', m.url, '--agents', '5', '--secret-file', secretFile, '--hostname-prefix', 'cli-', '--report', '0.2']);
    try {
      await waitFor(() => m.master.listAgents().filter((a) => m.master.isAgentConnected(a.id)).length === 5, 20_000, '5 agents');
      assert.deepEqual(m.master.listAgents().map((a) => a.hostname).sort(), ['cli-0', 'cli-1', 'cli-2', 'cli-3', 'cli-4']);
      await waitFor(() => p.output.includes('all 5 simulated agents registered') && /agents 5\/5 registered/.test(p.output), 10_000, 'the report');
      await p.stop('SIGTERM');
      assert.equal(p.child.exitCode, 0, p.output);
      await waitFor(() => m.master.listAgents().every((a) => !m.master.isAgentConnected(a.id)), 5000, 'disconnects');
    } finally {
      await p.stop('SIGKILL');
      await m.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
