// The agent's side of launch and kill, against a fake master: states, process model,
// user switching, cgroup limits, exit statuses, environment and fetching.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, agentCgroupName } from '../../server/agent/agent.js';
import { detectCgroupLayout } from '../../server/agent/isolators.js';
import { FakeMaster, isRoot, launchSpec, makeAgentEnv, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';
import { procStatSync } from '../support/processes.js';

const SECRET = 'lifecycle-secret';

/** Live members of a process group; zombies answer kill(0) too, so /proc is read instead. */
function groupAlive(pgid: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStatSync(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z') return true;
  }
  return false;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (procStatSync(Number(name))?.ppid === pid) out.push(Number(name));
  }
  return out;
}

function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

function checkpoint(workDir: string, taskId: string): { pid: number; pidStartTime: number; state: string } {
  return JSON.parse(readFileSync(path.join(workDir, 'meta', 'tasks', taskId, 'task.json'), 'utf8'));
}

describe('agent launch and kill', () => {
  let master: FakeMaster;
  let env: AgentTestEnv;
  let agent: Agent;

  before(async () => {
    master = await new FakeMaster(SECRET).listen();
    env = makeAgentEnv('life');
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

  it('registers with hostname, resources, isolators and version', async () => {
    const reg = master.registrations[0]!;
    assert.equal(reg.hostname, env.hostname);
    assert.equal(reg.agentId, undefined);
    assert.ok(reg.resources.cpus > 0 && reg.resources.mem > 0);
    assert.deepEqual(reg.resources.ports, [[31000, 32000]]);
    assert.equal(reg.version, JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
    assert.deepEqual(reg.isolators, agent.isolators);
    assert.ok(reg.isolators.length > 0);
    assert.equal(agent.agentId, master.agentId);
    const saved = JSON.parse(readFileSync(path.join(env.workDir, 'meta', 'agent.json'), 'utf8'));
    assert.equal(saved.agentId, master.agentId);
  });

  it('says it accepts launches, and runs every task of a launches message', async () => {
    assert.deepEqual(master.registrations.at(-1)?.accepts, ['launches']);
    const from = master.messages.length;
    const ids = ['batch-a', 'batch-b', 'batch-c'];
    master.send({ type: 'launches', tasks: ids.map((id) => launchSpec(id, 'sleep 30', { resources: { cpus: 0.1, mem: 32, disk: 0, ports: [] } })) });
    for (const id of ids) await master.waitForStatus(id, 'TASK_RUNNING', from);
    for (const id of ids) master.send({ type: 'kill', taskId: id });
    for (const id of ids) await master.waitForStatus(id, 'TASK_KILLED', from);
  });

  it('runs sleep in its own process group, as nobody under root, inside cgroups with the limits; kill ends it', async () => {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('sleeper', 'sleep 30', { resources: { cpus: 0.5, mem: 64, disk: 0, ports: [] } }) });
    await master.waitForStatus('sleeper', 'TASK_STARTING', from);
    await master.waitForStatus('sleeper', 'TASK_RUNNING', from);
    const { pid } = checkpoint(env.workDir, 'sleeper');
    const wrapper = procStatSync(pid);
    assert.ok(wrapper, 'the wrapper runs');
    assert.equal(wrapper.pgrp, pid, 'the wrapper leads its own process group');
    assert.equal(wrapper.session, pid, 'in its own session');
    assert.notEqual(wrapper.pgrp, procStatSync(process.pid)!.pgrp);
    if (isRoot()) assert.equal(uidOf(pid), 65534, 'runs as nobody');
    // `sleep 30` is plain words: the wrapper runs sleep itself, with no second shell between.
    // Released, the wrapper forks its child a moment after TASK_RUNNING: wait for the exec (until
    // then the child's cmdline is the wrapper's own)
    const own = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    let kids: number[] = [];
    let cmdline = own;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      kids = childrenOf(pid);
      cmdline = kids.length === 1 ? readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8') : own;
      if (cmdline !== own) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(kids.length, 1, 'the wrapper has one child');
    assert.equal(cmdline, 'sleep\u000030\u0000');

    const version = agent.cgroupVersion;
    if (version !== null) {
      const layout = detectCgroupLayout()!;
      const dir = (c: 'cpu' | 'memory' | 'pids') => path.join(layout.mounts[c]!, 'yagura', agent.cgroupName, 'sleeper');
      const read = (c: 'cpu' | 'memory' | 'pids', f: string) => readFileSync(path.join(dir(c), f), 'utf8').trim();
      if (version === 1) {
        assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
        if (existsSync(path.join(dir('memory'), 'memory.memsw.limit_in_bytes'))) {
          assert.equal(read('memory', 'memory.memsw.limit_in_bytes'), String(64 * 1024 * 1024), 'swap cannot dodge the limit');
        }
        assert.equal(read('cpu', 'cpu.shares'), '512');
        assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
        assert.equal(read('cpu', 'cpu.cfs_period_us'), '100000');
        assert.ok(read('memory', 'cgroup.procs').split('\n').includes(String(pid)), 'the wrapper is in the memory cgroup');
      } else {
        assert.equal(read('memory', 'memory.max'), String(64 * 1024 * 1024));
        assert.equal(read('cpu', 'cpu.max'), '50000 100000');
      }
      if (layout.mounts.pids) assert.equal(read('pids', 'pids.max'), '4096');

      master.send({ type: 'kill', taskId: 'sleeper' });
      await master.waitForStatus('sleeper', 'TASK_KILLING', from);
      const killed = await master.waitForStatus('sleeper', 'TASK_KILLED', from);
      assert.match(killed.message ?? '', /SIGTERM/);
      assert.equal(groupAlive(pid), false, 'the process group is gone');
      assert.equal(existsSync(dir('memory')), false, 'the memory cgroup is removed');
      assert.equal(existsSync(dir('cpu')), false, 'the cpu cgroup is removed');
    } else {
      master.send({ type: 'kill', taskId: 'sleeper' });
      await master.waitForStatus('sleeper', 'TASK_KILLING', from);
      await master.waitForStatus('sleeper', 'TASK_KILLED', from);
      assert.equal(groupAlive(pid), false, 'the process group is gone');
    }
    assert.deepEqual(master.states('sleeper'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  });

  it('escalates to SIGKILL after the grace period when TERM is ignored', async () => {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('stubborn', "trap '' TERM; sleep 30 & wait; sleep 30", { killGracePeriodMs: 200 }) });
    await master.waitForStatus('stubborn', 'TASK_RUNNING', from);
    const { pid } = checkpoint(env.workDir, 'stubborn');
    master.send({ type: 'kill', taskId: 'stubborn', gracePeriodMs: 300 });
    const killed = await master.waitForStatus('stubborn', 'TASK_KILLED', from);
    assert.equal(killed.state, 'TASK_KILLED');
    assert.equal(groupAlive(pid), false);
  });

  it('maps exit statuses: exit 3 fails, true finishes, a signal fails with its name', async () => {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('exit3', 'exit 3') });
    master.send({ type: 'launch', task: launchSpec('ok', 'true') });
    master.send({ type: 'launch', task: launchSpec('selfkill', 'kill -9 $$') });
    const failed = await master.waitForStatus('exit3', 'TASK_FAILED', from);
    assert.equal(failed.message, 'Command exited with status 3');
    assert.equal(failed.exitCode, 3);
    const finished = await master.waitForStatus('ok', 'TASK_FINISHED', from);
    assert.equal(finished.exitCode, 0);
    const sig = await master.waitForStatus('selfkill', 'TASK_FAILED', from);
    assert.equal(sig.message, 'Command terminated by signal SIGKILL');
    assert.deepEqual(master.states('ok'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  });

  it('captures stdout and stderr in the sandbox and sets the task environment', async () => {
    const from = master.messages.length;
    const spec = launchSpec(
      'envtask',
      'echo "P0=$PORT0 P1=$PORT1 P=$PORT PS=$PORTS"; echo "SB=$MESOS_SANDBOX YS=$YAGURA_SANDBOX H=$HOME"; echo "T=$MESOS_TASK_ID YT=$YAGURA_TASK_ID A=$MESOS_AGENT_ID YA=$YAGURA_AGENT_ID F=$MESOS_FRAMEWORK_ID"; echo "HOST=$HOST YH=$YAGURA_HOSTNAME MINE=$MINE"; echo "PATH=$PATH"; echo "SECRET=$SECRET_LEAK"; echo oops >&2',
      { env: { MINE: 'yes' }, resources: { cpus: 0.1, mem: 32, disk: 0, ports: [[31005, 31006]] } },
    );
    process.env.SECRET_LEAK = 'agent-env-must-not-leak';
    try {
      master.send({ type: 'launch', task: spec });
      await master.waitForStatus('envtask', 'TASK_FINISHED', from);
    } finally {
      delete process.env.SECRET_LEAK;
    }
    const sandbox = path.join(env.workDir, 'sandboxes', 'envtask');
    const out = readFileSync(path.join(sandbox, 'stdout'), 'utf8');
    assert.match(out, /^P0=31005 P1=31006 P=31005 PS=31005,31006$/m);
    assert.match(out, new RegExp(`^SB=${sandbox} YS=${sandbox} H=${sandbox}$`, 'm'));
    assert.match(out, new RegExp(`^T=envtask YT=envtask A=${master.agentId} YA=${master.agentId} F=fw-1$`, 'm'));
    assert.match(out, new RegExp(`^HOST=${env.hostname} YH=${env.hostname} MINE=yes$`, 'm'));
    assert.match(out, /^PATH=.*\/usr\/bin/m);
    assert.match(out, /^SECRET=$/m);
    assert.equal(readFileSync(path.join(sandbox, 'stderr'), 'utf8'), 'oops\n');
  });

  it('runs shell:false commands with their arguments, not through a shell', async () => {
    const from = master.messages.length;
    const spec = launchSpec('execform', '/bin/echo');
    spec.command = { value: '/bin/echo', shell: false, args: ['a b', '$HOME', ';', 'c'], env: {}, uris: [] };
    master.send({ type: 'launch', task: spec });
    await master.waitForStatus('execform', 'TASK_FINISHED', from);
    assert.equal(readFileSync(path.join(env.workDir, 'sandboxes', 'execform', 'stdout'), 'utf8'), 'a b $HOME ; c\n');
  });

  it('fetches http, file:// and absolute-path URIs, extracts archives and marks executables', async () => {
    const src = mkdtempSync(path.join(os.tmpdir(), 'yagura-fetch-src-'));
    const server = http.createServer((req, res) => {
      if (req.url === '/tool.sh') res.end('#!/bin/sh\necho tool-ran\n');
      else res.writeHead(404).end();
    });
    try {
      // The task user (nobody under root) must be able to read the local sources.
      chmodSync(src, 0o755);
      writeFileSync(path.join(src, 'data.txt'), 'local-data\n', { mode: 0o644 });
      mkdirSync(path.join(src, 'pkg'));
      writeFileSync(path.join(src, 'pkg', 'inner.txt'), 'from-archive\n');
      await run('tar', ['-czf', path.join(src, 'bundle.tar.gz'), '-C', src, 'pkg']);
      chmodSync(path.join(src, 'bundle.tar.gz'), 0o644);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const from = master.messages.length;
      const spec = launchSpec('fetcher', './tool.sh; cat data.txt copied.txt pkg/inner.txt');
      spec.command.uris = [
        { value: `http://127.0.0.1:${port}/tool.sh`, executable: true },
        { value: `file://${path.join(src, 'data.txt')}` },
        { value: path.join(src, 'data.txt'), outputFile: 'copied.txt' },
        { value: path.join(src, 'bundle.tar.gz') },
      ];
      master.send({ type: 'launch', task: spec });
      await master.waitForStatus('fetcher', 'TASK_FINISHED', from);
      assert.equal(
        readFileSync(path.join(env.workDir, 'sandboxes', 'fetcher', 'stdout'), 'utf8'),
        'tool-ran\nlocal-data\nlocal-data\nfrom-archive\n',
      );

      const from2 = master.messages.length;
      const bad = launchSpec('fetchfail', 'true');
      bad.command.uris = [{ value: `http://127.0.0.1:${port}/missing.tgz` }];
      master.send({ type: 'launch', task: bad });
      const failed = await master.waitForStatus('fetchfail', 'TASK_FAILED', from2);
      assert.equal(failed.reason, 'REASON_FETCHER_FAILED');
      assert.match(failed.message ?? '', /404/);
      assert.deepEqual(master.states('fetchfail'), ['TASK_FAILED'], 'nothing started');

      if (isRoot()) {
        // The copy runs with the task user's rights: root-only files stay out of reach.
        const from3 = master.messages.length;
        const secret = launchSpec('fetchsecret', 'true');
        writeFileSync(path.join(src, 'private'), 'root only\n', { mode: 0o600 });
        secret.command.uris = [{ value: path.join(src, 'private') }];
        master.send({ type: 'launch', task: secret });
        const denied = await master.waitForStatus('fetchsecret', 'TASK_FAILED', from3);
        assert.equal(denied.reason, 'REASON_FETCHER_FAILED');
      }
    } finally {
      server.close();
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('answers a kill of an unknown task with TASK_DROPPED and an invalid launch with TASK_ERROR', async () => {
    const from = master.messages.length;
    master.send({ type: 'kill', taskId: 'never-heard-of-it' });
    const dropped = await master.waitForStatus('never-heard-of-it', 'TASK_DROPPED', from);
    assert.equal(dropped.message, 'unknown task');
    assert.equal(dropped.frameworkId, '');
    master.send({ type: 'launch', task: { ...launchSpec('bad/../id', 'true') } });
    const err = await master.waitForStatus('bad/../id', 'TASK_ERROR', from);
    assert.equal(err.reason, 'REASON_TASK_INVALID');
    assert.equal(existsSync(path.join(env.workDir, 'bad')), false);
  });

  it('ignores malformed messages and keeps working', async () => {
    const from = master.messages.length;
    master.sendRaw('not json at all');
    master.sendRaw(JSON.stringify({ type: 'launch' }));
    master.sendRaw(JSON.stringify({ type: 'kill', taskId: 42 }));
    master.sendRaw(JSON.stringify({ type: 'no-such-type' }));
    master.sendRaw(JSON.stringify([1, 2, 3]));
    master.send({ type: 'launch', task: launchSpec('after-garbage', 'true') });
    await master.waitForStatus('after-garbage', 'TASK_FINISHED', from);
    assert.equal(master.current?.readyState, 1, 'the link stayed up');
  });

  it('fails a task whose spawn cannot happen with REASON_CONTAINER_LAUNCH_FAILED', { skip: !isRoot() && 'needs root for user switching' }, async () => {
    const from = master.messages.length;
    const spec = launchSpec('nouser', 'true');
    spec.command.user = 'no-such-user-yagura';
    master.send({ type: 'launch', task: spec });
    const failed = await master.waitForStatus('nouser', 'TASK_FAILED', from);
    assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    assert.match(failed.message ?? '', /does not exist/);
  });
});

describe('agent shutdown', () => {
  it('drops a launch that arrives while shutdown() is killing the tasks, and leaves nothing running', async () => {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv('shutdown');
    const agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
    try {
      const registered = once(agent, 'registered');
      await agent.start();
      await registered;
      // a task that ignores TERM keeps shutdown() busy for its grace period
      master.send({ type: 'launch', task: launchSpec('slow-to-die', "trap '' TERM; sleep 30 & wait; sleep 30", { killGracePeriodMs: 1500 }) });
      await master.waitForStatus('slow-to-die', 'TASK_RUNNING', 0);
      const from = master.messages.length;
      const stopping = agent.shutdown();
      master.send({ type: 'launch', task: launchSpec('late-arrival', 'sleep 60') });
      const dropped = await master.waitForStatus('late-arrival', 'TASK_DROPPED', from);
      assert.equal(dropped.reason, 'REASON_AGENT_RESTARTED');
      assert.match(dropped.message ?? '', /shutting down/);
      await stopping;
      assert.equal(existsSync(path.join(env.workDir, 'meta', 'tasks', 'late-arrival')), false, 'no checkpoint was made for the dropped launch');
      const started = master.messages.slice(from).filter((m) => m.type === 'status' && m.update.taskId === 'late-arrival' && m.update.state !== 'TASK_DROPPED');
      assert.deepEqual(started, [], 'the dropped launch never reported another state');
    } finally {
      await shutdownAgent(agent);
      await master.close();
      await env.cleanup();
    }
  });
});

describe('agent cgroups on stop', () => {
  const layout = detectCgroupLayout();
  const skip = !layout || !isRoot() ? 'needs cgroups and root' : false;
  /** The agent's own cgroup directory in each hierarchy. */
  const dirsOf = (env: AgentTestEnv) => [...new Set(Object.values(layout!.mounts))].map((m) => path.join(m!, 'yagura', agentCgroupName(env.hostname, env.workDir)));

  it('removes its own cgroup when it stops holding none of a task, and keeps it while a task goes on', { skip }, async () => {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv('cgstop');
    let agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
    try {
      const registered = once(agent, 'registered');
      await agent.start();
      await registered;
      assert.ok(dirsOf(env).every((d) => existsSync(d)), 'made on start');
      await agent.stop();
      assert.deepEqual(dirsOf(env).filter((d) => existsSync(d)), [], 'gone once stopped with no task');
      // a task that goes on across the stop keeps its cgroup, and so the agent's
      agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
      const again = once(agent, 'registered');
      await agent.start();
      await again;
      const from = master.messages.length;
      master.send({ type: 'launch', task: launchSpec('goes-on', 'sleep 60') });
      await master.waitForStatus('goes-on', 'TASK_RUNNING', from);
      await agent.stop();
      assert.ok(dirsOf(env).every((d) => existsSync(d)), 'kept while its task runs');
      agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
      const third = once(agent, 'registered');
      await agent.start();
      await third;
      await agent.shutdown();
      assert.deepEqual(dirsOf(env).filter((d) => existsSync(d)), [], 'gone after shutdown killed the task');
    } finally {
      await shutdownAgent(agent);
      await master.close();
      await env.cleanup();
    }
  });
});

describe('agent without cgroups', () => {
  it('kills what a finished task left running in its process group', async () => {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv('leftover');
    const agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, cgroups: false, logger: () => undefined });
    try {
      const registered = once(agent, 'registered');
      await agent.start();
      await registered;
      // the command ends at once; the sleep it started would run on in the task's group
      master.send({ type: 'launch', task: launchSpec('leaves-a-child', 'sleep 300 & echo started') });
      await master.waitForStatus('leaves-a-child', 'TASK_RUNNING', 0);
      const { pid } = checkpoint(env.workDir, 'leaves-a-child');
      const finished = await master.waitForStatus('leaves-a-child', 'TASK_FINISHED', 0);
      assert.equal(finished.exitCode, 0);
      const deadline = Date.now() + 3000;
      while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(groupAlive(pid), false, 'nothing of the task runs on');
    } finally {
      await shutdownAgent(agent);
      await master.close();
      await env.cleanup();
    }
  });
});

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}
