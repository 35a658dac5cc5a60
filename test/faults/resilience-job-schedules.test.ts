// R7 (issue #9): job schedules across master restarts — no slot runs twice, none is lost
// silently. Every slot of a schedule inside the window is exactly one run: one that ran, or one
// recorded as skipped with its reason.
//
// The shortest schedules Yagura takes: Metronome schedules are 5-field cron (one a minute at
// most); Chronos' ISO 8601 repeating intervals take any period, so the jobs are Chronos jobs,
// `R/<start>/PT2S` and `PT3S`, with `epsilon` as their starting deadline (3–8 s), one with
// `concurrent: false` (FORBID: a slot that finds a run still active is recorded as skipped).
// The master (`--job-history 1000`, so retention drops no run inside the window) is stopped
// over and over, by kill -9 or SIGTERM, for random down times, some longer than the deadlines.
// Afterwards every run is read back through Metronome's /v1/jobs/<id>/runs?all=true.
//
// Checked, per job and slot of the window (slots after the job's creation up to the moment the
// last restart was over):
// - duplicates: more than one run with that scheduledAt (never allowed);
// - lost: no run at all with that scheduledAt (never allowed);
// - no run for an instant that is not a slot of the schedule;
// - the catch-up rule: of the slots that fell while the master was gone (between its exit and
//   the new process's spawn), all but the latest are recorded as skipped ("missed: master was
//   down"), and that reason is only given for slots that fell while a master was stopping or down;
//   the latest runs if the master was back within its deadline and is skipped if not;
// - every run that was not skipped finishes (the agent is back and the `echo` ends).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FaultCluster, netnsUnavailable } from './hosts.js';
import { LONG, figures } from './support.js';

interface JobSpec {
  name: string;
  periodS: number;
  epsilonS: number;
  concurrent: boolean;
}

const JOBS: JobSpec[] = [
  { name: 'r7-fast', periodS: 2, epsilonS: 3, concurrent: true },
  { name: 'r7-slow', periodS: 3, epsilonS: 8, concurrent: true },
  { name: 'r7-forbid', periodS: 2, epsilonS: 5, concurrent: false },
];
const RESTARTS = LONG ? 8 : 3;

interface Run {
  id: string;
  status: string;
  scheduledAt?: string;
  skipped?: boolean;
  reason?: string;
  trigger: string;
  waiting?: string;
  tasks?: unknown[];
}

interface Down {
  signal: 'SIGKILL' | 'SIGTERM';
  /** The signal was sent. */
  signalAt: number;
  /** The old process had exited. */
  exitAt: number;
  /** The new one was spawned. */
  spawnAt: number;
  /** It answered /health (its schedules are armed by then). */
  upAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.random() * (b - a);

describe('R7: job schedules across master restarts', { skip: netnsUnavailable(), timeout: LONG ? 300_000 : 90_000 }, () => {
  let cluster: FaultCluster;
  const created = new Map<string, { at: number; start: number }>();

  before(async () => {
    cluster = new FaultCluster(['--job-history', '1000']);
    await cluster.startMaster();
    cluster.startAgent({ name: 'a1' });
    await cluster.agentsActive(['a1']);
  });

  after(async () => {
    await cluster?.destroy();
  });

  it('runs or records every slot exactly once, whatever the restarts', async () => {
    const start = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    for (const j of JOBS) {
      const at = Date.now();
      const r = await cluster.api('POST', '/v1/scheduler/iso8601', {
        name: j.name,
        command: 'echo r7',
        schedule: `R/${new Date(start).toISOString()}/PT${j.periodS}S`,
        epsilon: `PT${j.epsilonS}S`,
        concurrent: j.concurrent,
        retries: 0,
        cpus: 0.05,
        mem: 32,
        // runs on an agent the master lost track of hold their resources until it is back
        disk: 0,
      });
      assert.ok(r.status === 201 || r.status === 204, `POST ${j.name}: ${r.status} ${JSON.stringify(r.body)}`);
      created.set(j.name, { at, start });
    }

    // down times: random, one short, one certainly longer than the 3 s and 5 s deadlines (the
    // new process's start, a few seconds, comes on top: the 8 s one may or may not have passed)
    const downsS = Array.from({ length: RESTARTS }, (_, i) => (i === 1 ? 6 : i === 0 ? 0.2 : rand(0, LONG ? 9 : 1)));
    const signals = Array.from({ length: RESTARTS }, (_, i): Down['signal'] => (i % 2 === 0 ? 'SIGKILL' : Math.random() < 0.5 ? 'SIGTERM' : 'SIGKILL'));
    if (RESTARTS > 1) signals[1] = 'SIGTERM';
    const downs: Down[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      await sleep(rand(1000, LONG ? 4000 : 2000));
      const signal = signals[i]!;
      const signalAt = Date.now();
      if (signal === 'SIGKILL') await cluster.killMaster();
      else await cluster.master!.stop('SIGTERM');
      const exitAt = Date.now();
      await sleep(downsS[i]! * 1000);
      const spawnAt = Date.now();
      await cluster.startMaster();
      downs.push({ signal, signalAt, exitAt, spawnAt, upAt: Date.now() });
    }
    const end = Date.now();
    // every slot up to `end` fell while this master was up or before: it is decided by now, and
    // its run (`echo`) ends within seconds once the agent is back (it reconnects with a backoff
    // of up to 10 s: after a long down time it may sit out a short up time entirely)
    await cluster.agentsActive(['a1'], 20_000);
    const unfinished = async () => {
      const out: string[] = [];
      for (const j of JOBS) {
        const r = await cluster.api<Run[]>('GET', `/v1/jobs/${j.name}/runs?all=true`);
        for (const x of r.body) {
          if (x.status !== 'SUCCESS' && x.status !== 'FAILED' && Date.parse(x.scheduledAt ?? '') <= end) out.push(`${j.name} ${x.scheduledAt} ${x.status} ${x.waiting ?? ''} tasks ${JSON.stringify(x.tasks)}`);
        }
      }
      return out;
    };
    const settleBy = Date.now() + (LONG ? 30_000 : 15_000);
    let left = await unfinished();
    while (left.length && Date.now() < settleBy) {
      await sleep(500);
      left = await unfinished();
    }

    let slotsTotal = 0;
    let ran = 0;
    let skipped = 0;
    let duplicates = 0;
    let lost = 0;
    const problems: string[] = [];
    for (const j of JOBS) {
      const r = await cluster.api<Run[]>('GET', `/v1/jobs/${j.name}/runs?all=true`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const runs = r.body.filter((x) => x.trigger === 'schedule');
      const c = created.get(j.name)!;
      const period = j.periodS * 1000;
      const bySlot = new Map<number, Run[]>();
      for (const run of runs) {
        const t = Date.parse(run.scheduledAt ?? '');
        if (!Number.isFinite(t) || (t - c.start) % period !== 0 || t < c.start) {
          problems.push(`${j.name}: run ${run.id} for ${run.scheduledAt}, not a slot of the schedule`);
          continue;
        }
        bySlot.set(t, [...(bySlot.get(t) ?? []), run]);
      }
      const slots: number[] = [];
      for (let t = c.start; t <= end; t += period) if (t > c.at) slots.push(t);
      let jRan = 0;
      let jSkipped = 0;
      const reasons = new Map<string, number>();
      for (const t of slots) {
        const list = bySlot.get(t) ?? [];
        if (list.length === 0) {
          lost++;
          problems.push(`${j.name}: slot ${new Date(t).toISOString()} has no run and no skipped entry`);
          continue;
        }
        if (list.length > 1) {
          duplicates++;
          problems.push(`${j.name}: slot ${new Date(t).toISOString()} has ${list.length} runs: ${list.map((x) => `${x.id} ${x.status}${x.skipped ? ' skipped' : ''}`).join(', ')}`);
        }
        const run = list[0]!;
        if (run.skipped) {
          jSkipped++;
          const why = (run.reason ?? '').replace(/ \(.*$|: dispatched.*$/, '').replace(/:.*$/, '');
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
          if (!run.reason) problems.push(`${j.name}: skipped slot ${new Date(t).toISOString()} without a reason`);
          if (/master was down/.test(run.reason ?? '') && !downs.some((d) => t >= d.signalAt - 500 && t <= d.upAt)) {
            problems.push(`${j.name}: slot ${new Date(t).toISOString()} "${run.reason}" though the master was up`);
          }
        } else jRan++;
      }
      // the catch-up rule: of the slots between an exit and the next spawn, only the latest may
      // run, and only within the starting deadline (the new master recovers at some moment
      // between its spawn and its first /health answer)
      for (const d of downs) {
        const gone = slots.filter((t) => t > d.exitAt && t <= d.spawnAt);
        for (const t of gone.slice(0, -1)) {
          const run = bySlot.get(t)?.[0];
          if (run && !run.skipped) problems.push(`${j.name}: slot ${new Date(t).toISOString()} fell while the master was down and was not its latest missed slot, yet it ran (${run.id})`);
        }
        const latest = gone[gone.length - 1];
        if (latest === undefined || slots.some((t) => t > d.spawnAt && t <= d.upAt)) continue;
        const run = bySlot.get(latest)?.[0];
        if (!run) continue;
        if (d.spawnAt - latest > j.epsilonS * 1000 && !run.skipped) {
          problems.push(`${j.name}: slot ${new Date(latest).toISOString()} was older than its starting deadline (${j.epsilonS}s) when the master came back, yet it ran`);
        }
        if (d.upAt - latest <= j.epsilonS * 1000 && j.concurrent && run.skipped) {
          problems.push(`${j.name}: slot ${new Date(latest).toISOString()} was within its starting deadline (${j.epsilonS}s) when the master came back, yet it was skipped: ${run.reason}`);
        }
      }
      slotsTotal += slots.length;
      ran += jRan;
      skipped += jSkipped;
      figures(`R7: ${j.name} (PT${j.periodS}S, epsilon ${j.epsilonS}s, ${j.concurrent ? 'concurrent' : 'FORBID'}): slots ${slots.length}, ran ${jRan}, skipped ${jSkipped}${reasons.size ? ` (${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
    }
    figures(
      `R7: ${downs.length} restarts (${downs.map((d) => `${d.signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} down ${((d.upAt - d.exitAt) / 1000).toFixed(1)}s`).join(', ')})`,
    );
    figures(`R7: slots ${slotsTotal}, ran ${ran}, skipped ${skipped}, duplicates ${duplicates}, lost ${lost}`);
    for (const u of left) problems.push(`run never finished: ${u}`);
    if (problems.length) {
      const agents = await cluster.api('GET', '/api/v1/agents');
      const ap = cluster.agent('a1').proc;
      process.stdout.write(`agent process: alive ${ap?.alive}, exit ${ap?.child.exitCode} ${ap?.child.signalCode}\nagents: ${JSON.stringify(agents.body)}\nmaster output:\n${cluster.master?.output.slice(-4000)}\nagent output:\n${cluster.agent("a1").proc?.output.slice(-8000)}\n`);
    }
    assert.deepEqual(problems, []);
    assert.equal(duplicates, 0);
    assert.equal(lost, 0);
    assert.ok(slotsTotal > 0 && ran > 0, 'slots fell inside the window and some ran');
  });
});
