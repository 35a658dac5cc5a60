// The jobs framework's time logic with an injected clock: slots dispatched when due from one
// timer, FORBID, deadlines, history retention, and master restarts (the framework built twice
// on the same store) that neither lose nor repeat a slot.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Master } from '../../server/master/master.js';
import { SqliteStore } from '../../server/store/sqlite.js';
import { JobsFramework, type RunRecord } from '../../server/frameworks/jobs/jobs.js';
import { parseMetronomeJob, type JobDefinition } from '../../server/frameworks/jobs/definition.js';
import { ManualClock } from '../../server/frameworks/jobs/timers.js';
import type { ClusterEvent, MasterToAgent, StatusUpdate, TaskState } from '../../protocol/types.js';
import { fakeAgentConnection, registerMessage, waitFor } from '../support/cluster.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const min = (n: number) => T0 + n * 60_000;

function job(json: Record<string, unknown>): JobDefinition {
  const r = parseMetronomeJob({ run: { cmd: 'true', cpus: 0.1, mem: 32 }, ...json });
  if (!r.ok) throw new Error(`invalid job in test: ${JSON.stringify(r.details)}`);
  return r.value;
}

interface Booted {
  master: Master;
  jobs: JobsFramework;
  close(): Promise<void>;
}

const dirs: string[] = [];
const open: Booted[] = [];

/** A master and the jobs framework on the store in `dir`, at the clock's time. No agents. */
async function boot(dir: string, clock: ManualClock, historyLimit?: number): Promise<Booted> {
  const store = new SqliteStore(join(dir, 'yagura.db'));
  const master = new Master({ store, version: 'test', now: () => clock.now() });
  const jobs = new JobsFramework({ master, clock, ...(historyLimit !== undefined ? { historyLimit } : {}) });
  await jobs.start();
  let closed = false;
  const b: Booted = {
    master,
    jobs,
    async close() {
      if (closed) return;
      closed = true;
      jobs.stop();
      await master.stop();
      store.close();
    },
  };
  open.push(b);
  return b;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yagura-jobs-sched-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const every5 = (extra: Record<string, unknown> = {}) => ({ id: 'five', cron: '*/5 * * * *', ...extra });
const slotsOf = (runs: RunRecord[]) => runs.map((r) => r.scheduledAt).sort((a, b) => a! - b!);

describe('jobs scheduling (injected clock)', () => {
  it('dispatches each due slot once, from a single timer for all schedules', async () => {
    const clock = new ManualClock(min(1));
    const b = await boot(tempDir(), clock);
    for (let i = 0; i < 40; i++) await b.jobs.createJob(job({ id: `batch.j${i}`, schedules: [every5()] }));
    // 40 armed schedules, one timer
    assert.equal(b.jobs.armedEntries, 40);
    assert.equal(clock.pending, 1);
    assert.equal(b.jobs.nextRunAt('batch.j7', 'five'), min(5));

    clock.advanceTo(min(5) - 1);
    assert.equal(b.jobs.runsOf('batch.j0').length, 0, 'nothing before the slot');
    clock.advanceTo(min(5));
    for (let i = 0; i < 40; i++) {
      const runs = b.jobs.runsOf(`batch.j${i}`);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.trigger, 'schedule');
      assert.equal(runs[0]!.scheduledAt, min(5));
      assert.equal(runs[0]!.createdAt, min(5), 'dispatched at the due time');
      assert.match(runs[0]!.id, /^20260101000500[a-z0-9]{5}$/);
    }
    assert.equal(b.jobs.nextRunAt('batch.j0', 'five'), min(10));
    clock.advanceTo(min(10));
    assert.deepEqual(slotsOf(b.jobs.runsOf('batch.j3')), [min(5), min(10)]);
    assert.equal(clock.pending, 1);
  });

  it('FORBID records a slot as skipped while a run is active; ALLOW starts another', async () => {
    const clock = new ManualClock(min(1));
    const b = await boot(tempDir(), clock);
    const events: ClusterEvent[] = [];
    b.master.events.subscribe((batch) => events.push(...batch));
    await b.jobs.createJob(job({ id: 'nightly.forbid', schedules: [every5({ concurrencyPolicy: 'FORBID' })] }));
    await b.jobs.createJob(job({ id: 'nightly.allow', schedules: [every5()] }));
    clock.advanceTo(min(10));
    await b.master.commit();

    // no agent: the first runs never finish, so they are still active at the second slot
    const forbid = b.jobs.runsOf('nightly.forbid');
    assert.equal(forbid.length, 2);
    const [skipped, first] = forbid;
    assert.equal(first!.status, 'INITIAL');
    assert.equal(first!.scheduledAt, min(5));
    assert.equal(skipped!.status, 'FAILED');
    assert.equal(skipped!.skipped, true);
    assert.equal(skipped!.scheduledAt, min(10));
    assert.match(skipped!.reason!, /concurrencyPolicy FORBID/);
    assert.equal(skipped!.attempts.length, 0);
    const stats = b.jobs.stats('nightly.forbid');
    assert.equal(stats.skippedCount, 1);
    assert.equal(stats.failureCount, 0, 'a skipped slot is not a failed run');

    const allow = b.jobs.runsOf('nightly.allow');
    assert.deepEqual(allow.map((r) => r.status), ['INITIAL', 'INITIAL']);
    // the dashboard hears about runs and jobs on the event log
    assert.ok(events.some((e) => e.kind === 'jobRun' && e.op === 'put' && e.id === skipped!.id && e.data.skipped === true));
    assert.ok(events.some((e) => e.kind === 'job' && e.op === 'put' && e.id === 'nightly.forbid'));
    const snap = b.master.snapshot();
    assert.equal(snap.jobs?.find((j) => j.id === 'nightly.allow')?.activeRuns, 2);
  });

  it('a restart between two slots neither loses nor repeats a run', async () => {
    const dir = tempDir();
    const clock = new ManualClock(min(1));
    let b = await boot(dir, clock);
    await b.jobs.createJob(job({ id: 'etl.restart', schedules: [every5()] }));
    clock.advanceTo(min(5));
    await b.master.commit();
    assert.equal(b.jobs.runsOf('etl.restart').length, 1);
    await b.close();

    // back up at 00:07: the 00:05 slot was dispatched before the stop, so nothing to catch up
    clock.advanceTo(min(7));
    b = await boot(dir, clock);
    assert.deepEqual(slotsOf(b.jobs.runsOf('etl.restart')), [min(5)]);
    assert.equal(b.jobs.nextRunAt('etl.restart', 'five'), min(10));
    clock.advanceTo(min(10));
    await b.master.commit();
    assert.deepEqual(slotsOf(b.jobs.runsOf('etl.restart')), [min(5), min(10)]);
    await b.close();

    // down across 00:15, back at 00:16: that slot is owed (within the 900 s deadline), once
    clock.advanceTo(min(16));
    b = await boot(dir, clock);
    const runs = b.jobs.runsOf('etl.restart');
    assert.deepEqual(slotsOf(runs), [min(5), min(10), min(15)]);
    assert.ok(runs.every((r) => !r.skipped));
    assert.equal(runs.find((r) => r.scheduledAt === min(15))!.createdAt, min(16));
    await b.close();

    // and a second restart at the same moment dispatches nothing again
    b = await boot(dir, clock);
    assert.deepEqual(slotsOf(b.jobs.runsOf('etl.restart')), [min(5), min(10), min(15)]);
  });

  it('a slot missed while the master was down runs within startingDeadlineSeconds, else is recorded skipped', async () => {
    const downUntil = async (upAt: number) => {
      const dir = tempDir();
      const clock = new ManualClock(min(1));
      let b = await boot(dir, clock);
      await b.jobs.createJob(job({ id: 'late.job', schedules: [every5({ startingDeadlineSeconds: 120 })] }));
      await b.close();
      clock.advanceTo(upAt);
      b = await boot(dir, clock);
      return b;
    };

    // back at 00:06: the 00:05 slot is 60 s old, within 120 s → it runs now
    let b = await downUntil(min(6));
    const within = b.jobs.runsOf('late.job');
    assert.equal(within.length, 1);
    assert.equal(within[0]!.status, 'INITIAL');
    assert.equal(within[0]!.skipped, undefined);
    assert.equal(within[0]!.trigger, 'schedule');
    assert.equal(within[0]!.scheduledAt, min(5));
    assert.equal(within[0]!.createdAt, min(6));
    await b.close();

    // back at 00:08: 180 s old, beyond 120 s → recorded as skipped, nothing launched
    b = await downUntil(min(8));
    const beyond = b.jobs.runsOf('late.job');
    assert.equal(beyond.length, 1);
    assert.equal(beyond[0]!.status, 'FAILED');
    assert.equal(beyond[0]!.skipped, true);
    assert.equal(beyond[0]!.scheduledAt, min(5));
    assert.equal(beyond[0]!.attempts.length, 0);
    assert.match(beyond[0]!.reason!, /^missed: master was down \(the starting deadline of 120s had passed at restart\)$/);
    assert.equal(b.jobs.stats('late.job').skippedCount, 1);
    assert.equal(b.jobs.jobViewOf('late.job')!.activeRuns, 0);
    assert.equal(b.jobs.nextRunAt('late.job', 'five'), min(10));
  });

  it('several missed slots: every one but the latest is recorded with its reason', async () => {
    const dir = tempDir();
    const clock = new ManualClock(min(1));
    let b = await boot(dir, clock);
    await b.jobs.createJob(job({ id: 'gap.many', schedules: [every5()] }));
    await b.close();
    clock.advanceTo(min(21)); // 00:05, 00:10, 00:15, 00:20 missed; 00:20 is within 900 s
    b = await boot(dir, clock);
    const runs = b.jobs.runsOf('gap.many');
    assert.deepEqual(slotsOf(runs), [min(5), min(10), min(15), min(20)]);
    const skipped = runs.filter((r) => r.skipped);
    assert.deepEqual(slotsOf(skipped), [min(5), min(10), min(15)]);
    for (const r of skipped) assert.equal(r.reason, 'missed: master was down');
    const ran = runs.find((r) => !r.skipped)!;
    assert.equal(ran.scheduledAt, min(20));
    assert.equal(ran.status, 'INITIAL');
  });

  it('activeDeadlineSeconds fails a run that never got going; stop fails one with reason "stopped"', async () => {
    const clock = new ManualClock(min(1));
    const b = await boot(tempDir(), clock);
    await b.jobs.createJob(job({ id: 'slow.deadline', run: { cmd: 'true', cpus: 0.1, mem: 32, restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 30 } } }));
    const run = await b.jobs.runNow('slow.deadline');
    clock.advance(29_999);
    assert.equal(b.jobs.getRun('slow.deadline', run.id)!.status, 'INITIAL');
    clock.advance(1);
    const ended = b.jobs.getRun('slow.deadline', run.id)!;
    assert.equal(ended.status, 'FAILED');
    assert.match(ended.reason!, /^deadline: activeDeadlineSeconds \(30s\)/);
    assert.equal(b.jobs.stats('slow.deadline').failureCount, 1);

    await b.jobs.createJob(job({ id: 'slow.stop' }));
    const other = await b.jobs.runNow('slow.stop');
    await b.jobs.stopRun('slow.stop', other.id);
    assert.equal(b.jobs.getRun('slow.stop', other.id)!.status, 'FAILED');
    assert.equal(b.jobs.getRun('slow.stop', other.id)!.reason, 'stopped');
  });

  it('keeps the configured number of finished runs per job', async () => {
    const dir = tempDir();
    const clock = new ManualClock(min(1));
    let b = await boot(dir, clock, 3);
    await b.jobs.createJob(job({ id: 'keep.three' }));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      const r = await b.jobs.runNow('keep.three');
      ids.push(r.id);
      await b.jobs.stopRun('keep.three', r.id);
    }
    assert.deepEqual(b.jobs.runsOf('keep.three').map((r) => r.id), ids.slice(2).reverse());
    assert.equal(b.jobs.stats('keep.three').failureCount, 5, 'counters outlive retention');
    await b.close();
    b = await boot(dir, clock, 3);
    assert.deepEqual(b.jobs.runsOf('keep.three').map((r) => r.id), ids.slice(2).reverse(), 'pruned runs are gone from the store too');
  });

  it('a changed schedule starts from now; a disabled one is not armed', async () => {
    const clock = new ManualClock(min(1));
    const b = await boot(tempDir(), clock);
    await b.jobs.createJob(job({ id: 'edit.me', schedules: [every5()] }));
    assert.equal(b.jobs.nextRunAt('edit.me', 'five'), min(5));
    const def = b.jobs.getJob('edit.me')!.def;
    await b.jobs.replaceJob({ ...def, schedules: [{ ...def.schedules[0]!, expr: '0 * * * *' }] });
    assert.equal(b.jobs.nextRunAt('edit.me', 'five'), min(60));
    await b.jobs.replaceJob({ ...def, schedules: [{ ...def.schedules[0]!, enabled: false }] });
    assert.equal(b.jobs.nextRunAt('edit.me', 'five'), undefined);
    clock.advanceTo(min(61));
    assert.equal(b.jobs.runsOf('edit.me').length, 0);
    assert.equal(clock.pending, 0, 'no timer when nothing is armed');
  });
});

describe('jobs runs on a fake agent (injected clock)', () => {
  type Conn = ReturnType<typeof fakeAgentConnection>;
  const launches = (conn: Conn) => conn.sent.filter((m): m is Extract<MasterToAgent, { type: 'launch' }> => m.type === 'launch').map((m) => m.task.taskId);
  let uuid = 0;
  const report = (b: Booted, conn: Conn, agentId: string, taskId: string, state: TaskState, exitCode?: number) => {
    const update: StatusUpdate = { uuid: `u${++uuid}`, taskId, frameworkId: 'yagura-jobs', agentId, state, timestamp: Date.now(), ...(exitCode !== undefined ? { exitCode } : {}) };
    b.master.agentMessage(agentId, conn, { type: 'status', update });
  };

  it('ON_FAILURE backs off 1 s, 2 s, … capped by maxLaunchDelay; Chronos-style maxAttempts ends it', async () => {
    const clock = new ManualClock(min(1));
    const b = await boot(tempDir(), clock);
    const conn = fakeAgentConnection();
    const agentId = b.master.registerAgent(conn, registerMessage('h1'))!;
    await b.jobs.createJob({ ...job({ id: 'flaky.backoff', run: { cmd: 'false', cpus: 0.1, mem: 32, maxLaunchDelay: 3, restart: { policy: 'ON_FAILURE' } } }) });
    const def = b.jobs.getJob('flaky.backoff')!.def;
    await b.jobs.replaceJob({ ...def, run: { ...def.run, maxAttempts: 5 } });
    const run = await b.jobs.runNow('flaky.backoff');
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const taskId = await waitFor(() => launches(conn)[attempt - 1], 5000, `launch ${attempt}`);
      assert.equal(taskId, `flaky.backoff_${run.id}.${attempt}`);
      report(b, conn, agentId, taskId, 'TASK_RUNNING');
      report(b, conn, agentId, taskId, 'TASK_FAILED', 1);
      if (attempt === 5) break;
      const r = await waitFor(() => b.jobs.getRun('flaky.backoff', run.id)!.nextAttemptAt !== undefined && b.jobs.getRun('flaky.backoff', run.id)!, 5000, `backoff ${attempt}`);
      gaps.push(r.nextAttemptAt! - clock.now());
      assert.equal(r.status, 'INITIAL');
      assert.match(r.waiting!, new RegExp(`attempt ${attempt} failed \\(exit code 1\\)`));
      clock.advance(r.nextAttemptAt! - clock.now() - 1);
      await new Promise((res) => setTimeout(res, 20));
      assert.equal(launches(conn).length, attempt, 'not before the backoff is over');
      clock.advance(1);
    }
    assert.deepEqual(gaps, [1000, 2000, 3000, 3000]);
    // the run ends once its output is fetched from the agent: answer as an agent would
    const req = await waitFor(() => conn.sent.find((m): m is Extract<MasterToAgent, { type: 'files.request' }> => m.type === 'files.request'), 5000, 'output fetch');
    for (const m of conn.sent) {
      if (m.type === 'files.request') b.master.agentMessage(agentId, conn, { type: 'files.reply', reqId: m.reqId, ok: true, data: Buffer.from(`${m.path} of ${m.taskId}`).toString('base64'), offset: 0, size: 1, eof: true });
    }
    assert.equal(req.taskId, `flaky.backoff_${run.id}.5`);
    const done = await waitFor(() => b.jobs.getRun('flaky.backoff', run.id)!.status === 'FAILED' && b.jobs.getRun('flaky.backoff', run.id)!, 5000, 'FAILED');
    assert.equal(done.stdout, `stdout of ${req.taskId}`);
    assert.equal(done.stderr, `stderr of ${req.taskId}`);
    assert.equal(done.reason, 'failed after 5 attempts: exit code 1');
    assert.equal(done.attempts.length, 5);
    assert.equal(done.exitCode, 1);
  });

  it('an active run survives a master restart and moves on when its task turns out lost', async () => {
    const dir = tempDir();
    const clock = new ManualClock(min(1));
    let b = await boot(dir, clock);
    let conn = fakeAgentConnection();
    const agentId = b.master.registerAgent(conn, registerMessage('h1'))!;
    await b.jobs.createJob(job({ id: 'survivor', run: { cmd: 'sleep 100', cpus: 0.1, mem: 32, restart: { policy: 'ON_FAILURE' } } }));
    const run = await b.jobs.runNow('survivor');
    const taskId = await waitFor(() => launches(conn)[0], 5000, 'launch');
    report(b, conn, agentId, taskId, 'TASK_RUNNING');
    await waitFor(() => b.jobs.getRun('survivor', run.id)!.status === 'ACTIVE', 5000, 'ACTIVE');
    await b.master.commit();
    await b.close();

    b = await boot(dir, clock);
    assert.equal(b.jobs.getRun('survivor', run.id)!.status, 'ACTIVE', 'still active after the restart');
    // nothing was waiting when it stopped, so the master keeps the framework suppressed
    assert.equal(b.master.getFramework('yagura-jobs')!.suppressed, true);
    // the agent comes back without the task: the master reports it lost, and the run retries
    conn = fakeAgentConnection();
    b.master.registerAgent(conn, { ...registerMessage('h1'), agentId, tasks: [] });
    const r = await waitFor(() => b.jobs.getRun('survivor', run.id)!.nextAttemptAt !== undefined && b.jobs.getRun('survivor', run.id)!, 5000, 'retry');
    assert.equal(r.attempts[0]!.state, 'TASK_LOST');
    assert.equal(r.status, 'INITIAL');
    clock.advance(1000);
    const second = await waitFor(() => launches(conn)[0], 5000, 'second launch');
    assert.equal(second, `survivor_${run.id}.2`);
  });
});
