// Health checks run by the agent: HTTP, TCP and COMMAND probes, health updates only on a
// change, the grace period, kills after consecutive failures, and resumption after a restart.
// Check runs are counted through the agent's `healthCheck` event, never by sleeping.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { runningProcess } from '../support/processes.js';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { HealthCheckSpec, StatusUpdate } from '../../protocol/types.js';
import { Agent, type HealthCheckEvent } from '../../server/agent/agent.js';
import { FakeMaster, isRoot, launchSpec, makeAgentEnv, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const SECRET = 'health-secret';

/** 200 on /health unless a file `sick` is in the sandbox; 500 on everything else. */
const HTTP_SERVER =
  `node -e "require('http').createServer((q,s)=>{s.statusCode=q.url==='/health'&&!require('fs').existsSync('sick')?200:500;s.end()}).listen(process.env.PORT0)"`;
const TCP_SERVER = `node -e "require('net').createServer((c)=>c.end()).listen(process.env.PORT0)"`;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function check(over: Partial<HealthCheckSpec> & Pick<HealthCheckSpec, 'protocol'>): HealthCheckSpec {
  return { gracePeriodSeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 1, maxConsecutiveFailures: 0, ...over };
}

/** Resolves once `n` check runs of the task matching `pred` were seen (from now on). */
function checkRuns(agent: Agent, taskId: string, n: number, pred: (e: HealthCheckEvent) => boolean = () => true): Promise<HealthCheckEvent[]> {
  const seen: HealthCheckEvent[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.off('healthCheck', on);
      reject(new Error(`only ${seen.length} of ${n} check runs of ${taskId}`));
    }, 30_000);
    const on = (e: HealthCheckEvent): void => {
      if (e.taskId !== taskId || !pred(e)) return;
      seen.push(e);
      if (seen.length >= n) {
        clearTimeout(timer);
        agent.off('healthCheck', on);
        resolve(seen);
      }
    };
    agent.on('healthCheck', on);
  });
}

function healthUpdates(master: FakeMaster, taskId: string, from = 0): StatusUpdate[] {
  const seen = new Set<string>();
  return master.messages
    .slice(from)
    .flatMap((m) => (m.type === 'status' && m.update.taskId === taskId && m.update.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' ? [m.update] : []))
    .filter((u) => !seen.has(u.uuid) && seen.add(u.uuid));
}

function waitForHealth(master: FakeMaster, taskId: string, healthy: boolean, from = 0): Promise<StatusUpdate> {
  return master
    .waitFor<{ type: 'status'; update: StatusUpdate }>(
      (m) => m.type === 'status' && m.update.taskId === taskId && m.update.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' && m.update.healthy === healthy,
      from,
      30_000,
      `healthy:${healthy} of ${taskId}`,
    )
    .then((m) => m.update);
}

const alive = runningProcess;

function processesWithArg(arg: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(arg) && alive(Number(name))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await delay(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

function taskUid(): number {
  if (!isRoot()) return process.getuid!();
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))!;
  return Number(line.split(':')[2]);
}

describe('agent health checks', () => {
  let master: FakeMaster;
  let env: AgentTestEnv;
  let agent: Agent;

  before(async () => {
    master = await new FakeMaster(SECRET).listen();
    env = makeAgentEnv('health');
    agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
    const registered = once(agent, 'registered');
    await agent.start();
    await registered;
  });

  after(async () => {
    await shutdownAgent(agent);
    await master?.close();
    await env?.cleanup();
  });

  it('an HTTP check that passes makes the task healthy with one update, not one per check', async () => {
    const port = await freePort();
    const from = master.messages.length;
    // The grace period covers the moment before the server listens.
    const spec = launchSpec('http-ok', HTTP_SERVER, {
      resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[port, port]] },
      healthChecks: [check({ protocol: 'HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 60, maxConsecutiveFailures: 3 })],
    });
    const firstPasses = checkRuns(agent, 'http-ok', 4, (e) => e.ok);
    master.send({ type: 'launch', task: spec });
    const healthy = await waitForHealth(master, 'http-ok', true, from);
    assert.equal(healthy.state, 'TASK_RUNNING');
    const runs = await firstPasses;
    assert.ok(runs.every((r) => r.healthy === true && r.consecutiveFailures === 0));
    assert.deepEqual(
      healthUpdates(master, 'http-ok', from).map((u) => u.healthy),
      [true],
      'four passing checks, one health update',
    );
    const cp = JSON.parse(readFileSync(path.join(env.workDir, 'meta', 'tasks', 'http-ok', 'task.json'), 'utf8'));
    assert.equal(cp.healthy, true, 'the reported health is checkpointed');

    master.send({ type: 'kill', taskId: 'http-ok' });
    const killed = await master.waitForStatus('http-ok', 'TASK_KILLED', from);
    assert.equal(killed.healthy, undefined, 'a kill by the master says nothing about health');
  });

  it('kills the task after maxConsecutiveFailures failures: healthy:false, then TASK_KILLED with the reason', async () => {
    const port = await freePort();
    const from = master.messages.length;
    const spec = launchSpec('http-broken', HTTP_SERVER, {
      resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[port, port]] },
      killGracePeriodMs: 1000,
      healthChecks: [check({ protocol: 'HTTP', path: '/broken', portIndex: 0, gracePeriodSeconds: 0, maxConsecutiveFailures: 2 })],
    });
    master.send({ type: 'launch', task: spec });
    const unhealthy = await waitForHealth(master, 'http-broken', false, from);
    assert.equal(unhealthy.state, 'TASK_RUNNING');
    const killed = await master.waitForStatus('http-broken', 'TASK_KILLED', from);
    assert.equal(killed.healthy, false);
    assert.equal(killed.message, `killed after 2 consecutive failures of health check HTTP /broken on port ${port}`);
    assert.deepEqual(master.states('http-broken'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.deepEqual(
      healthUpdates(master, 'http-broken', from).map((u) => u.healthy),
      [false],
      'two failures, one health update',
    );
    const killing = master.statuses('http-broken').find((u) => u.state === 'TASK_KILLING')!;
    assert.equal(killing.healthy, false);
  });

  it('never kills during the grace period, however often the check fails', async () => {
    const port = await freePort();
    const from = master.messages.length;
    const spec = launchSpec('in-grace', HTTP_SERVER, {
      resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[port, port]] },
      healthChecks: [check({ protocol: 'HTTP', path: '/broken', portIndex: 0, gracePeriodSeconds: 600, maxConsecutiveFailures: 1 })],
    });
    const runs = checkRuns(agent, 'in-grace', 6);
    master.send({ type: 'launch', task: spec });
    const seen = await runs;
    assert.ok(
      seen.every((r) => !r.ok && r.ignored && r.consecutiveFailures === 0 && r.healthy === undefined),
      'six failures, all ignored',
    );
    assert.ok(seen.some((r) => r.detail === 'HTTP 500'), 'the server answered some of them');
    assert.deepEqual(master.states('in-grace'), ['TASK_STARTING', 'TASK_RUNNING'], 'still running, no health update, no kill');
    master.send({ type: 'kill', taskId: 'in-grace' });
    await master.waitForStatus('in-grace', 'TASK_KILLED', from);
  });

  it('ignoreHttp1xx takes an interim 1xx as healthy; the task is healthy only when all its checks pass', async () => {
    const port = await freePort();
    const from = master.messages.length;
    // Answers every request with 102 Processing and never with a final status.
    const server = `node -e "require('http').createServer((q,s)=>s.writeProcessing()).listen(process.env.PORT0)"`;
    const spec = launchSpec('http-1xx', server, {
      resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[port, port]] },
      healthChecks: [
        check({ protocol: 'HTTP', path: '/', ignoreHttp1xx: true, gracePeriodSeconds: 600, maxConsecutiveFailures: 1 }),
        check({ protocol: 'HTTP', path: '/', timeoutSeconds: 0.3, gracePeriodSeconds: 600, maxConsecutiveFailures: 1 }),
      ],
    });
    const passes = checkRuns(agent, 'http-1xx', 2, (e) => e.index === 0 && e.ok);
    const timeouts = checkRuns(agent, 'http-1xx', 2, (e) => e.index === 1 && e.detail === 'timed out after 0.3 s');
    master.send({ type: 'launch', task: spec });
    const ok = await passes;
    assert.equal(ok[0]!.detail, 'HTTP 102');
    const failed = await timeouts;
    assert.ok(failed.every((r) => !r.ok && r.ignored && r.healthy === undefined), 'the other check has not passed yet');
    assert.deepEqual(healthUpdates(master, 'http-1xx', from), [], 'one passing check of two: no verdict');
    master.send({ type: 'kill', taskId: 'http-1xx' });
    await master.waitForStatus('http-1xx', 'TASK_KILLED', from);
  });

  it('HTTPS: checks a server with a self-signed certificate without verifying it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'yagura-health-tls-'));
    try {
      chmodSync(dir, 0o755);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=yagura-test'], {
        cwd: dir,
        stdio: 'ignore',
      });
      // The task user (nobody under root) reads them.
      for (const f of ['key.pem', 'cert.pem']) chmodSync(path.join(dir, f), 0o644);
      const port = await freePort();
      const from = master.messages.length;
      const server = `node -e "const f=require('fs');require('https').createServer({key:f.readFileSync(process.env.KEY),cert:f.readFileSync(process.env.CERT)},(q,s)=>s.end()).listen(process.env.PORT0)"`;
      master.send({
        type: 'launch',
        task: launchSpec('https-ok', server, {
          env: { KEY: path.join(dir, 'key.pem'), CERT: path.join(dir, 'cert.pem') },
          resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[port, port]] },
          healthChecks: [check({ protocol: 'HTTPS', path: '/', gracePeriodSeconds: 60, maxConsecutiveFailures: 3 })],
        }),
      });
      await waitForHealth(master, 'https-ok', true, from);
      master.send({ type: 'kill', taskId: 'https-ok' });
      await master.waitForStatus('https-ok', 'TASK_KILLED', from);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TCP: a listening port is healthy, a closed one unhealthy; maxConsecutiveFailures 0 never kills', async () => {
    const open = await freePort();
    const closed = await freePort();
    const from = master.messages.length;
    master.send({
      type: 'launch',
      task: launchSpec('tcp-open', TCP_SERVER, {
        resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[open, open]] },
        healthChecks: [check({ protocol: 'TCP', portIndex: 0, gracePeriodSeconds: 60, maxConsecutiveFailures: 3 })],
      }),
    });
    const closedRuns = checkRuns(agent, 'tcp-closed', 5);
    master.send({
      type: 'launch',
      task: launchSpec('tcp-closed', 'sleep 30', { healthChecks: [check({ protocol: 'TCP', port: closed, maxConsecutiveFailures: 0 })] }),
    });
    await waitForHealth(master, 'tcp-open', true, from);
    await waitForHealth(master, 'tcp-closed', false, from);
    const runs = await closedRuns;
    assert.ok(runs.every((r) => !r.ok && r.detail === 'connection refused'));
    assert.equal(runs.at(-1)!.consecutiveFailures >= 5, true, 'the failures are counted');
    assert.deepEqual(master.states('tcp-closed'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING'], 'one health update, no kill');
    master.send({ type: 'kill', taskId: 'tcp-open' });
    master.send({ type: 'kill', taskId: 'tcp-closed' });
    await master.waitForStatus('tcp-open', 'TASK_KILLED', from);
    await master.waitForStatus('tcp-closed', 'TASK_KILLED', from);
  });

  it('COMMAND: runs in the sandbox as the task user with its environment, and turns healthy once the task made the file', async () => {
    const port = await freePort();
    const from = master.messages.length;
    const inCgroup = agent.cgroupVersion !== null ? ` && grep -q "yagura/${env.hostname}-[0-9a-f]*/cmd-ready\$" /proc/self/cgroup` : '';
    const command = `test -f ready && [ "$PORT0" = ${port} ] && [ "$MESOS_TASK_ID" = cmd-ready ] && [ "$(id -u)" = ${taskUid()} ]${inCgroup}`;
    const spec = launchSpec('cmd-ready', 'while [ ! -f go ]; do sleep 0.05; done; touch ready; exec sleep 30', {
      resources: { cpus: 0.1, mem: 64, disk: 0, ports: [[port, port]] },
      healthChecks: [check({ protocol: 'COMMAND', command, gracePeriodSeconds: 600, maxConsecutiveFailures: 1 })],
    });
    const failing = checkRuns(agent, 'cmd-ready', 2);
    master.send({ type: 'launch', task: spec });
    const early = await failing;
    assert.ok(early.every((r) => !r.ok && r.ignored), 'no file yet: failures, inside the grace period');
    assert.deepEqual(healthUpdates(master, 'cmd-ready', from), []);

    writeFileSync(path.join(env.workDir, 'sandboxes', 'cmd-ready', 'go'), '');
    const healthy = await waitForHealth(master, 'cmd-ready', true, from);
    assert.equal(healthy.state, 'TASK_RUNNING');
    master.send({ type: 'kill', taskId: 'cmd-ready' });
    await master.waitForStatus('cmd-ready', 'TASK_KILLED', from);
  });

  it('COMMAND: a check that outlives its timeout is a failure and its processes are killed', async () => {
    const from = master.messages.length;
    // A distinctive argument, so the test can find the check's process.
    const marker = '10.4242';
    const failed = checkRuns(agent, 'cmd-hang', 1);
    master.send({
      type: 'launch',
      task: launchSpec('cmd-hang', 'sleep 30', {
        healthChecks: [check({ protocol: 'COMMAND', command: `sleep ${marker}`, timeoutSeconds: 0.3, intervalSeconds: 0.5 })],
      }),
    });
    const [run] = await failed;
    assert.equal(run!.ok, false);
    assert.equal(run!.detail, 'timed out after 0.3 s');
    await waitForHealth(master, 'cmd-hang', false, from);
    master.send({ type: 'kill', taskId: 'cmd-hang' });
    await master.waitForStatus('cmd-hang', 'TASK_KILLED', from);
    await until('the hung check to be gone', () => processesWithArg(marker).length === 0);
  });

  it('refuses a launch with a malformed health check', async () => {
    const from = master.messages.length;
    master.send({
      type: 'launch',
      task: launchSpec('bad-check', 'sleep 30', { healthChecks: [{ ...check({ protocol: 'COMMAND' }) }] }),
    });
    const err = await master.waitForStatus('bad-check', 'TASK_ERROR', from);
    assert.equal(err.reason, 'REASON_TASK_INVALID');
    assert.match(err.message ?? '', /healthChecks\[0\]: command/);
  });
});

describe('agent health checks across a restart', () => {
  it('resume for recovered tasks: health and first successes are remembered, the grace period counts from the task start', async () => {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv('healthrec');
    const opts = { masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined };
    const cp = (id: string) => JSON.parse(readFileSync(path.join(env.workDir, 'meta', 'tasks', id, 'task.json'), 'utf8')) as { pid: number; startedAt: number };
    let agent = new Agent(opts);
    try {
      const registered = once(agent, 'registered');
      await agent.start();
      await registered;
      const port = await freePort();
      master.send({
        type: 'launch',
        task: launchSpec('rec', HTTP_SERVER, {
          resources: { cpus: 0.1, mem: 128, disk: 0, ports: [[port, port]] },
          healthChecks: [check({ protocol: 'HTTP', path: '/health', gracePeriodSeconds: 600, maxConsecutiveFailures: 0 })],
        }),
      });
      await waitForHealth(master, 'rec', true);
      const graceSeconds = 1;
      const closed = await freePort();
      const firstRun = checkRuns(agent, 'rec-grace', 1);
      master.send({
        type: 'launch',
        task: launchSpec('rec-grace', 'sleep 30', {
          healthChecks: [check({ protocol: 'TCP', port: closed, gracePeriodSeconds: graceSeconds, maxConsecutiveFailures: 0 })],
        }),
      });
      const [before] = await firstRun;
      assert.equal(before!.ignored, true, 'inside the grace period');
      await agent.stop();
      const pids = { rec: cp('rec').pid, grace: cp('rec-grace').pid };
      assert.ok(alive(pids.rec) && alive(pids.grace), 'the tasks outlived the agent');
      assert.deepEqual(healthUpdates(master, 'rec-grace'), []);

      // Let the grace period (from the task's start) run out while no agent is there.
      const graceEnds = cp('rec-grace').startedAt + graceSeconds * 1000;
      await until('the grace period to end', () => Date.now() > graceEnds + 50);

      const mark = master.messages.length;
      agent = new Agent(opts);
      const resumed = checkRuns(agent, 'rec', 3, (e) => e.ok);
      const graceRun = checkRuns(agent, 'rec-grace', 1);
      const registered2 = once(agent, 'registered');
      await agent.start();
      await registered2;
      await resumed;
      assert.deepEqual(healthUpdates(master, 'rec', mark), [], 'still healthy: nothing new to report');
      const [after] = await graceRun;
      assert.equal(after!.ignored, false, 'the first check after the restart counts');
      const unhealthy = await waitForHealth(master, 'rec-grace', false, mark);
      assert.equal(unhealthy.state, 'TASK_RUNNING');

      // The check succeeded before the restart, so its failures count despite its long grace period.
      writeFileSync(path.join(env.workDir, 'sandboxes', 'rec', 'sick'), '');
      const sick = await waitForHealth(master, 'rec', false, mark);
      assert.equal(sick.state, 'TASK_RUNNING');
      assert.equal(cp('rec').pid, pids.rec, 'same process, never relaunched');
      assert.ok(alive(pids.rec));
    } finally {
      await shutdownAgent(agent);
      await master.close();
      await env.cleanup();
    }
  });
});
