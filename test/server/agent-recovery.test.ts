// Recovery: tasks survive the agent's SIGKILL, a restarted agent adopts the ones still
// running (same pid, not relaunched) and learns the real exit status of those that ended
// while it was down; a pid that was reused by another process is never taken for the task.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import type { StatusUpdate } from '../../protocol/types.js';
import { Agent } from '../../server/agent/agent.js';
import { FakeMaster, launchSpec, makeAgentEnv, spawnAgentProcess, type AgentProcess, shutdownAgent } from './fixtures/agent-fake-master.js';
import { procStatSync, runningProcess } from '../support/processes.js';

const SECRET = 'recovery-secret';

const alive = runningProcess;

function checkpoint(workDir: string, taskId: string) {
  return JSON.parse(readFileSync(path.join(workDir, 'meta', 'tasks', taskId, 'task.json'), 'utf8')) as {
    pid: number;
    pidStartTime: number;
    state: string;
    done: boolean;
  };
}

/** Polls a condition; the deadline only turns a hang into a failure. */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await delay(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('agent recovery', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('adopts a task that outlived the agent and reports the real status of one that ended meanwhile', async () => {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv('recover');
    cleanups.push(() => env.cleanup(), () => master.close());
    const opts = { masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname };

    let proc: AgentProcess = await spawnAgentProcess(opts);
    cleanups.push(() => proc.kill9());
    await master.waitForRegister();
    master.send({ type: 'launch', task: launchSpec('long', 'sleep 30') });
    master.send({ type: 'launch', task: launchSpec('short', 'sleep 1; exit 4') });
    await master.waitForStatus('long', 'TASK_RUNNING');
    await master.waitForStatus('short', 'TASK_RUNNING');
    const long = checkpoint(env.workDir, 'long');
    const short = checkpoint(env.workDir, 'short');

    await proc.kill9();
    assert.ok(alive(long.pid), 'the long task survived the agent');
    await until('the short task to exit', () => !alive(short.pid));
    assert.ok(existsSync(path.join(env.workDir, 'meta', 'tasks', 'short', 'exit')), 'its wrapper recorded the exit status');

    const mark = master.messages.length;
    proc = await spawnAgentProcess(opts);
    const reg = await master.waitForRegister(mark);
    assert.equal(reg.agentId, master.agentId);
    const reported = Object.fromEntries(reg.tasks.map((t) => [t.taskId, t.state]));
    assert.equal(reported.long, 'TASK_RUNNING');
    assert.equal(reported.short, 'TASK_FAILED');

    const failed = await master.waitForStatus('short', 'TASK_FAILED', mark);
    assert.equal(failed.message, 'Command exited with status 4');
    assert.equal(failed.exitCode, 4);

    const again = checkpoint(env.workDir, 'long');
    assert.equal(again.pid, long.pid, 'same pid');
    assert.equal(again.pidStartTime, long.pidStartTime, 'same process');
    assert.equal(procStatSync(long.pid)?.startTime, long.pidStartTime);
    // Not relaunched: nothing new about it, at most resends of updates whose ack the dead agent never saved.
    const before = new Set(master.messages.slice(0, mark).flatMap((m) => (m.type === 'status' ? [m.update.uuid] : [])));
    const after = master.messages.slice(mark).flatMap((m) => (m.type === 'status' && m.update.taskId === 'long' ? [m.update] : []));
    assert.deepEqual(after.filter((u) => !before.has(u.uuid)), [], 'no new updates for the long task');

    // The adopted task is no longer the agent's child; killing it still works end to end.
    master.send({ type: 'kill', taskId: 'long' });
    const killed = await master.waitForStatus('long', 'TASK_KILLED', mark);
    assert.match(killed.message ?? '', /SIGTERM/);
    await until('the long task to be gone', () => !alive(long.pid));
  });

  it('finishes a kill that was requested before the agent died', async () => {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv('recoverkill');
    cleanups.push(() => env.cleanup(), () => master.close());
    const opts = { masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname };
    let proc = await spawnAgentProcess(opts);
    cleanups.push(() => proc.kill9());
    await master.waitForRegister();
    // Ignores TERM, so the kill is still in its grace period when the agent dies.
    master.send({ type: 'launch', task: launchSpec('stubborn', "trap '' TERM; : > trapped; while :; do sleep 1; done", { killGracePeriodMs: 60_000 }) });
    await master.waitForStatus('stubborn', 'TASK_RUNNING');
    const { pid } = checkpoint(env.workDir, 'stubborn');
    // RUNNING comes once the command is started, not once its shell has set the trap: a TERM
    // before that ends it (seen once in CI: the task was dead before the agent was killed)
    await until('the task to ignore TERM', () => existsSync(path.join(env.workDir, 'sandboxes', 'stubborn', 'trapped')));
    // the grace must outlast the time to see TASK_KILLING and kill the agent (on a loaded CI
    // machine 500 ms did not: the agent had already SIGKILLed the task), and ends while it is down
    master.send({ type: 'kill', taskId: 'stubborn', gracePeriodMs: 3000 });
    await master.waitForStatus('stubborn', 'TASK_KILLING');
    await proc.kill9();
    assert.ok(alive(pid));
    const mark = master.messages.length;
    proc = await spawnAgentProcess(opts);
    await master.waitForStatus('stubborn', 'TASK_KILLED', mark);
    assert.equal(alive(pid), false);
  });

  describe('from checkpoints alone', () => {
    let innocent: ChildProcess;

    function fakeTask(workDir: string, taskId: string, cp: Record<string, unknown>, exit?: string): void {
      const meta = path.join(workDir, 'meta', 'tasks', taskId);
      mkdirSync(meta, { recursive: true });
      mkdirSync(path.join(workDir, 'sandboxes', taskId), { recursive: true });
      const spec = launchSpec(taskId, 'sleep 30');
      writeFileSync(
        path.join(meta, 'task.json'),
        JSON.stringify({ spec, user: null, state: 'TASK_RUNNING', killRequested: false, pending: [], done: false, createdAt: Date.now(), released: true, ...cp }),
      );
      if (exit !== undefined) writeFileSync(path.join(meta, 'exit'), exit);
    }

    it('never mistakes a reused pid for the task, and reads the exit file for the outcome', async () => {
      // An unrelated process group leader that holds the pid a checkpoint names.
      innocent = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      cleanups.push(() => {
        try {
          process.kill(-innocent.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      });
      const pid = innocent.pid!;
      const realStart = procStatSync(pid)!.startTime;
      const master = await new FakeMaster(SECRET).listen();
      const env = makeAgentEnv('reuse');
      cleanups.push(() => env.cleanup(), () => master.close());

      fakeTask(env.workDir, 'reused-killed', { pid, pidStartTime: realStart - 1, killRequested: true, state: 'TASK_KILLING' });
      fakeTask(env.workDir, 'reused-exit4', { pid, pidStartTime: realStart - 1 }, '4\n');
      fakeTask(env.workDir, 'reused-ok', { pid, pidStartTime: realStart + 1 }, '0\n');
      fakeTask(env.workDir, 'gone-unknown', { pid: 999_999_999, pidStartTime: 1 });
      fakeTask(env.workDir, 'never-released', { pid, pidStartTime: realStart - 1, state: 'TASK_STARTING', released: false }, 'unreleased\n');
      fakeTask(env.workDir, 'never-spawned', { state: 'TASK_STAGING' });

      const agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
      cleanups.push(() => shutdownAgent(agent));
      const registered = once(agent, 'registered');
      await agent.start();
      await registered;
      const byTask = new Map<string, StatusUpdate>();
      for (const id of ['reused-killed', 'reused-exit4', 'reused-ok', 'gone-unknown', 'never-released', 'never-spawned']) {
        const u = master.statuses(id).at(-1);
        assert.ok(u, `an update for ${id}`);
        byTask.set(id, u);
      }
      assert.equal(byTask.get('reused-killed')!.state, 'TASK_KILLED');
      assert.equal(byTask.get('reused-exit4')!.state, 'TASK_FAILED');
      assert.equal(byTask.get('reused-exit4')!.message, 'Command exited with status 4');
      assert.equal(byTask.get('reused-ok')!.state, 'TASK_FINISHED');
      assert.equal(byTask.get('gone-unknown')!.state, 'TASK_FAILED');
      assert.equal(byTask.get('gone-unknown')!.reason, 'REASON_AGENT_RESTARTED');
      assert.equal(byTask.get('gone-unknown')!.message, 'Task exited while the agent was down; exit status unknown');
      assert.equal(byTask.get('never-released')!.state, 'TASK_FAILED');
      assert.equal(byTask.get('never-released')!.reason, 'REASON_AGENT_RESTARTED');
      assert.equal(byTask.get('never-spawned')!.state, 'TASK_FAILED');
      assert.equal(byTask.get('never-spawned')!.reason, 'REASON_AGENT_RESTARTED');

      assert.ok(alive(pid), 'the process that reused the pid was not signalled');
      assert.equal(procStatSync(pid)!.startTime, realStart);
      // Every outcome was acked by the fake master, so the checkpoints are settled.
      await until('checkpoints marked done', () => checkpoint(env.workDir, 'reused-ok').done);
    });
  });
});
