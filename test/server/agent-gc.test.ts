// Sandbox GC: terminal, acknowledged tasks' sandboxes go when too old, then oldest first
// while all sandboxes exceed the disk cap; running tasks' sandboxes are never touched.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { Agent, type AgentOptions } from '../../server/agent/agent.js';
import { FakeMaster, launchSpec, makeAgentEnv, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const SECRET = 'gc-secret';
const DAY = 24 * 60 * 60 * 1000;

describe('sandbox gc', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(tag: string, extra: Partial<AgentOptions>, prepare?: (env: AgentTestEnv) => void) {
    const master = await new FakeMaster(SECRET).listen();
    const env = makeAgentEnv(tag);
    cleanups.push(() => env.cleanup(), () => master.close());
    prepare?.(env);
    const agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined, ...extra });
    cleanups.push(() => shutdownAgent(agent));
    const registered = once(agent, 'registered');
    await agent.start();
    await registered;
    return { master, env, agent };
  }

  const sandbox = (env: AgentTestEnv, id: string) => path.join(env.workDir, 'sandboxes', id);
  const meta = (env: AgentTestEnv, id: string) => path.join(env.workDir, 'meta', 'tasks', id);

  /** Runs a task to its end and waits until its acknowledgement is checkpointed. */
  async function runToDone(master: FakeMaster, env: AgentTestEnv, id: string, cmd: string): Promise<void> {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec(id, cmd) });
    await master.waitForStatus(id, 'TASK_FINISHED', from);
    for (let i = 0; i < 600; i++) {
      try {
        const cp = JSON.parse(readFileSync(path.join(meta(env, id), 'task.json'), 'utf8'));
        if (cp.done) return;
      } catch {
        // being rewritten
      }
      await delay(20);
    }
    throw new Error(`${id} never marked done`);
  }

  it('removes sandboxes of finished tasks older than the age limit, never a running one', async () => {
    const { master, env, agent } = await setup('gcage', { sandboxMaxAgeMs: DAY });
    await runToDone(master, env, 'finished', 'echo done');
    master.send({ type: 'launch', task: launchSpec('running', 'sleep 30') });
    await master.waitForStatus('running', 'TASK_RUNNING');

    assert.deepEqual(await agent.collectGarbage(), [], 'nothing is old yet');
    assert.ok(existsSync(sandbox(env, 'finished')));

    const removed = await agent.collectGarbage(Date.now() + 2 * DAY);
    assert.deepEqual(removed, ['finished']);
    assert.equal(existsSync(sandbox(env, 'finished')), false);
    assert.equal(existsSync(meta(env, 'finished')), false);
    assert.ok(existsSync(sandbox(env, 'running')), 'the running task keeps its sandbox');
  });

  it('removes the oldest finished sandboxes while all sandboxes exceed the disk cap', async () => {
    const { master, env, agent } = await setup('gcdisk', { sandboxMaxDiskBytes: 1024 * 1024, gcIntervalMs: 3_600_000 });
    await runToDone(master, env, 'older', 'head -c 600000 /dev/zero > blob');
    await runToDone(master, env, 'newer', 'head -c 600000 /dev/zero > blob');
    master.send({ type: 'launch', task: launchSpec('live', 'head -c 100000 /dev/zero > blob; sleep 30') });
    await master.waitForStatus('live', 'TASK_RUNNING');

    const removed = await agent.collectGarbage();
    assert.deepEqual(removed, ['older'], 'only as much as needed, oldest first');
    assert.equal(existsSync(sandbox(env, 'older')), false);
    assert.ok(existsSync(path.join(sandbox(env, 'newer'), 'blob')));
    assert.ok(existsSync(sandbox(env, 'live')));
    assert.deepEqual(await agent.collectGarbage(), [], 'under the cap now');
  });

  it('collects at start, including sandboxes left without a checkpoint', async () => {
    const { env } = await setup('gcstart', {}, (e) => {
      const orphan = path.join(e.workDir, 'sandboxes', 'orphan');
      mkdirSync(orphan, { recursive: true });
      writeFileSync(path.join(orphan, 'stdout'), 'old\n');
      const old = new Date(Date.now() - 30 * DAY);
      utimesSync(orphan, old, old);
      const recent = path.join(e.workDir, 'sandboxes', 'recent-orphan');
      mkdirSync(recent, { recursive: true });
    });
    assert.equal(existsSync(sandbox(env, 'orphan')), false);
    assert.ok(existsSync(sandbox(env, 'recent-orphan')));
  });
});
