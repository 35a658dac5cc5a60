// Issue #8, row 6: API reads while the master places. p99 of GET /v2/apps and of the cluster's
// state, both as Mesos serves it: the v1 operator API's GET_STATE (POST /api/v1; Mesos has no
// GET /api/v1/state, which the issue names) and the v0 state document (GET /master/state), read
// over real HTTP with the admin token from a child process (bench/reads-worker.ts: per read one
// request in flight, the next one a gap after the last answer: 100 ms for /v2/apps, 1 s for
// the two states, which are megabytes), while tasks are placed at a paced 2,500/s — against
// the p99 of the same reads with nothing being placed, in the same run. Target ≤ 3×. The three
// readers run at once, as they would against a real master, so a read of one can wait behind
// another's serialization, idle and placing alike.
//
// The cluster: a real master (build() from server/app.ts, as scale-harness.ts) in this
// process, AGENTS simulated agents (server/sim, `yagura sim`'s code) in another, on real
// WebSockets. First PREFILL tasks are placed as fast as they go (not measured), so the
// documents have some size; then:
//   idle   IDLE_S seconds of reads, nothing placed;
//   during Marathon apps of PER_APP instances (with constraints, as in scale-harness.ts) posted
//          with POST /v2/apps (fastify inject) at a pace of RATE instances a second for
//          PLACE_S seconds; the window lasts from the first POST until the last of those tasks
//          is TASK_RUNNING in the master. When the master cannot keep up, it places as fast as
//          it goes: the achieved rate is its own row, against the pace. A paced load cannot
//          show more than its pace, and the window ends one pipeline latency after the last
//          POST, so that row holds at 0.95× the pace (0.4 s behind over 8 s);
//   idle   IDLE_S seconds more once the last acknowledgements have settled.
// The idle p99 pools both idle windows: one before at the smaller cluster, one after at the
// larger, as the placing window spans the two.
// Env: BENCH_READS_AGENTS, BENCH_READS_RATE, BENCH_READS_SECONDS, BENCH_READS_PREFILL.
//   npx tsx bench/api-reads.bench.ts

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClusterEvent } from '../protocol/types.js';
import { build, type Yagura } from '../server/app.js';
import type { Read } from './reads-worker.js';
import { LAYOUT, SimProcess, benchApps, type AppShape } from './scale-harness.js';
import { ratioAtLeast, ratioAtMost, type BenchResult } from './table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const AGENTS = Number(process.env.BENCH_READS_AGENTS ?? 1000);
const RATE = Number(process.env.BENCH_READS_RATE ?? 2500);
const PLACE_S = Number(process.env.BENCH_READS_SECONDS ?? 8);
const PREFILL = Number(process.env.BENCH_READS_PREFILL ?? 10_000);
const PER_APP = 50;
const IDLE_S = 10;
const APPS_GAP_MS = 100;
const STATE_GAP_MS = 1000;
const POSTS_IN_FLIGHT = 16;
/** Roomier than scale-harness's agents: a third of the apps may only use 60 of the 250 racks. */
const RESOURCES = { cpus: 64, mem: 262_144, disk: 512_000, ports: [[31000, 32000]] as Array<[number, number]> };
const TIMEOUT_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p99 = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
};

type Samples = Record<string, Record<string, number[]>>;

class Reader {
  private child = fork(join(ROOT, 'bench', 'reads-worker.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  private next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMessage = (raw: unknown) => {
        const msg = raw as Record<string, unknown>;
        if (msg.type !== type) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(msg);
      };
      const onExit = (code: number | null) => reject(new Error(`the reader exited (${code}) before '${type}'`));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
  async start(url: string, token: string, reads: Read[]): Promise<void> {
    const started = this.next('started');
    this.child.send({ type: 'start', url, token, reads });
    await started;
  }
  window(name: string | null): void {
    this.child.send({ type: 'window', name });
  }
  async stop(): Promise<{ samples: Samples; errors: string[] }> {
    const got = this.next('samples');
    this.child.send({ type: 'stop' });
    const msg = await got;
    return { samples: msg.samples as Samples, errors: msg.errors as string[] };
  }
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Counts tasks reaching TASK_RUNNING in the master (committed), and wakes waiters at a count. */
function runningCounter(app: Yagura) {
  let running = 0;
  const waiters: Array<{ at: number; resolve: (t: number) => void }> = [];
  const unsubscribe = app.master.events.subscribe((events: readonly ClusterEvent[]) => {
    for (const e of events) {
      if (e.kind !== 'task' || e.op !== 'patch' || e.data.state !== 'TASK_RUNNING') continue;
      running++;
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (running >= waiters[i]!.at) waiters.splice(i, 1)[0]!.resolve(performance.now());
      }
    }
  });
  return {
    get running() {
      return running;
    },
    /** Resolves with the time the count reached `at`. */
    reach(at: number): Promise<number> {
      if (running >= at) return Promise.resolve(performance.now());
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        new Promise<number>((resolve) => waiters.push({ at, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`after ${TIMEOUT_MS / 1000} s only ${running} of ${at} tasks running`)), TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
    },
    unsubscribe,
  };
}

export async function runApiReadsBench(): Promise<BenchResult[]> {
  const log = (s: string) => process.stderr.write(`  api-reads: ${s}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'yagura-bench-reads-'));
  const app = await build({ dataDir: dir, port: 0 });
  const url = await app.listen();
  const sims = new SimProcess();
  const reader = new Reader();
  const counter = runningCounter(app);
  const headers = { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' };
  const post = async (a: AppShape) => {
    const res = await app.http.inject({ method: 'POST', url: '/v2/apps', headers, payload: JSON.stringify(a.json) });
    if (res.statusCode !== 201) throw new Error(`POST /v2/apps ${String(a.json.id)}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  };
  try {
    const reg = await sims.start({ masterUrl: url, secret: app.agentSecret, agents: AGENTS, resources: RESOURCES, ...LAYOUT });
    log(`${AGENTS} simulated agents registered in ${(reg.ms / 1000).toFixed(1)} s`);

    const reads: Read[] = [
      { name: 'GET /v2/apps', path: '/v2/apps', gapMs: APPS_GAP_MS },
      { name: 'POST /api/v1 GET_STATE', path: '/api/v1', body: JSON.stringify({ type: 'GET_STATE' }), gapMs: STATE_GAP_MS },
      { name: 'GET /master/state', path: '/master/state', gapMs: STATE_GAP_MS },
    ];

    // not measured: a cluster with something in it
    const prefill = benchApps(Math.ceil(PREFILL / PER_APP), PER_APP, '/prefill');
    let next = 0;
    await Promise.all(
      Array.from({ length: POSTS_IN_FLIGHT }, async () => {
        while (next < prefill.length) await post(prefill[next++]!);
      }),
    );
    const before = prefill.length * PER_APP;
    await counter.reach(before);
    await sleep(2000); // the last acknowledgements
    log(`${before} tasks running; reading ${reads.map((r) => r.name).join(', ')} idle for ${IDLE_S} s…`);

    await reader.start(url, app.adminToken, reads);
    await sleep(500);
    reader.window('idle');
    await sleep(IDLE_S * 1000);

    // paced: by each moment, RATE × elapsed instances posted
    const placing = benchApps(Math.round((RATE * PLACE_S) / PER_APP), PER_APP, '/placing');
    const total = before + placing.length * PER_APP;
    reader.window('during');
    const t0 = performance.now();
    let posted = 0;
    // BENCH_READS_TRACE=1: the posted and running counts every 250 ms, to see where a tail comes from
    const trace = process.env.BENCH_READS_TRACE
      ? setInterval(() => log(`${((performance.now() - t0) / 1000).toFixed(2)} s: posted ${posted * PER_APP}, running ${counter.running - before}`), 250)
      : undefined;
    while (posted < placing.length) {
      const due = Math.min(placing.length, Math.floor((((performance.now() - t0) / 1000) * RATE) / PER_APP) + 1);
      const batch: Array<Promise<void>> = [];
      while (posted < due) batch.push(post(placing[posted++]!));
      // POSTS_IN_FLIGHT at most, as a deploy script would
      for (let i = 0; i < batch.length; i += POSTS_IN_FLIGHT) await Promise.all(batch.slice(i, i + POSTS_IN_FLIGHT));
      await sleep(10);
    }
    const postedMs = performance.now() - t0;
    const doneAt = await counter.reach(total);
    clearInterval(trace);
    reader.window(null);
    const placeMs = doneAt - t0;
    const achieved = (placing.length * PER_APP) / (placeMs / 1000);
    log(`${placing.length * PER_APP} tasks posted in ${(postedMs / 1000).toFixed(1)} s, all running after ${(placeMs / 1000).toFixed(1)} s: ${Math.round(achieved)}/s (paced at ${RATE}/s)`);

    await sleep(2000); // the last acknowledgements
    reader.window('idle');
    await sleep(IDLE_S * 1000);
    const { samples, errors } = await reader.stop();
    if (errors.length) throw new Error(`failed reads: ${errors.slice(0, 5).join('; ')}`);

    const rows: BenchResult[] = [
      {
        name: `api-reads: placement rate while reading, first POST to last task running (${AGENTS / 1000}k sim agents, apps of ${PER_APP} with constraints; vs the pace, ${RATE.toLocaleString('en')}/s)`,
        value: Math.round(achieved),
        unit: 'tasks/s',
        baseline: RATE,
        ratio: Math.round((achieved / RATE) * 1000) / 1000,
        // the load row 6 asks for, by which the read rows below were measured: the master kept
        // up with the pace (a paced load cannot exceed it; see the head of this file)
        target: [ratioAtLeast(0.95)],
      },
    ];
    for (const { name } of reads) {
      const idle = samples.idle?.[name] ?? [];
      const during = samples.during?.[name] ?? [];
      if (idle.length < 5 || during.length < 5) throw new Error(`${name}: only ${idle.length} idle and ${during.length} placing reads`);
      const value = p99(during);
      const baseline = p99(idle);
      log(`${name}: p99 ${value.toFixed(1)} ms placing (${during.length} reads), ${baseline.toFixed(1)} ms idle (${idle.length} reads)`);
      rows.push({
        name: `api-reads: ${name} p99 while placing, ${(before / 1000).toFixed(0)}k → ${(total / 1000).toFixed(0)}k tasks (vs idle p99)`,
        value: Math.round(value * 10) / 10,
        unit: 'ms',
        baseline: Math.round(baseline * 10) / 10,
        ratio: Math.round((value / baseline) * 100) / 100,
        target: [ratioAtMost(3)],
      });
    }
    return rows;
  } finally {
    counter.unsubscribe();
    reader.kill();
    await sims.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runApiReadsBench()) console.log(`${r.name}: ${r.value} ${r.unit}${r.baseline !== undefined ? `; idle ${r.baseline} ${r.unit}; ratio ${r.ratio}×` : ''}`);
}
