// GET /v2/apps?embed=apps.tasks with 1,000 apps and 100,000 running tasks, through the real
// master, services framework and Marathon routes (fastify inject, no socket), against one
// JSON.stringify of the same response body in the same run. Marathon took 12 s at 1,000 tasks.
//
// The tasks are real to the master: launched through offers onto 1,000 simulated agents whose
// in-process links answer every launch with TASK_RUNNING.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from '../server/app.js';
import { normalizeApp } from '../server/frameworks/services/app-definition.js';
import type { MasterToAgent } from '../protocol/types.js';
import type { BenchResult } from './allocator.bench.js';

const APPS = Number(process.env.BENCH_APPS ?? 1000);
const PER_APP = Number(process.env.BENCH_PER_APP ?? 100);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runMarathonBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'yagura-bench-v2-'));
  // the in-process agents below never heartbeat: without a long interval the master marks them
  // UNREACHABLE (and their tasks with them) whenever placing takes longer than a few intervals
  const app = await build({ dataDir: dir, port: 0, master: { allocationIntervalMs: 200, heartbeatIntervalMs: 3_600_000 }, servicesTickMs: 200 });
  const { master, services } = app;
  try {
    const perAgent = Math.ceil((APPS * PER_APP) / AGENTS) + 1;
    for (let i = 0; i < AGENTS; i++) {
      let agentId = '';
      const conn = {
        send(msg: MasterToAgent) {
          if (msg.type !== 'launch') return;
          const update = { uuid: randomUUID(), taskId: msg.task.taskId, frameworkId: msg.task.frameworkId, agentId, state: 'TASK_RUNNING' as const, timestamp: Date.now() };
          setImmediate(() => master.agentMessage(agentId, conn, { type: 'status', update }));
        },
        close() {},
      };
      agentId = master.registerAgent(conn, {
        type: 'register',
        hostname: `sim-${i}`,
        resources: { cpus: perAgent, mem: perAgent * 32, disk: 0, ports: [[10000, 10000 + perAgent * 2]] },
        attributes: { zone: `z${i % 10}` },
        isolators: [],
        version: 'sim',
        tasks: [],
      })!;
    }
    const changes = [];
    for (let a = 0; a < APPS; a++) {
      const r = normalizeApp({ id: `/bench/app-${a}`, cmd: 'sleep 3600', instances: PER_APP, cpus: 0.01, mem: 8, labels: { tier: a % 2 ? 'web' : 'batch' } });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      changes.push({ id: r.app.id, to: r.app });
    }
    await services.deploy(changes);
    const t0 = Date.now();
    for (;;) {
      const running = services.listApps().reduce((n, a) => n + (services.serviceView(a.def.id)?.tasksRunning ?? 0), 0);
      if (running >= APPS * PER_APP) break;
      if (Date.now() - t0 > 600_000) throw new Error(`only ${running} tasks running after 10 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const get = () => app.http.inject({ method: 'GET', url: '/v2/apps?embed=apps.tasks', headers: { authorization: `Bearer ${app.adminToken}` } });
    const warm = await get();
    if (warm.statusCode !== 200) throw new Error(`GET /v2/apps: ${warm.statusCode} ${warm.body.slice(0, 200)}`);
    const body = JSON.parse(warm.body) as { apps: Array<{ tasks: unknown[] }> };
    const tasks = body.apps.reduce((n, a) => n + a.tasks.length, 0);
    if (tasks !== APPS * PER_APP) throw new Error(`expected ${APPS * PER_APP} tasks in the answer, got ${tasks}`);
    const api: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let s = performance.now();
      await get();
      api.push(performance.now() - s);
      s = performance.now();
      JSON.stringify(body);
      plain.push(performance.now() - s);
    }
    const round = (x: number) => Math.round(x * 10) / 10;
    const value = median(api);
    const baseline = median(plain);
    return [{ name: `GET /v2/apps?embed=apps.tasks, ${APPS} apps × ${PER_APP} tasks (vs one JSON.stringify)`, value: round(value), unit: 'ms', baseline: round(baseline), ratio: Math.round((value / baseline) * 100) / 100 }];
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runMarathonBench()) console.log(`${r.name}: ${r.value} ${r.unit}; baseline ${r.baseline} ${r.unit}; ratio ${r.ratio}`);
}
