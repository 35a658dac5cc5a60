// Not a row of the table: what 0.25× the bare placement loop (issue #8, row 1) leaves per task,
// against the least work any master that keeps the contract must do per task.
//   npx tsx bench/placement-floor.ts
//
// The budget: at 0.25× the loop's rate, each task may take 4 of the loop's times end to end,
// on this machine's cores, for the master, its SQLite writes and the simulated agents together.
//
// The floor: only the steps no design that keeps the contract can skip, each done the cheapest
// way, with nothing else around them, on the real shapes (a task record, its launch and its
// status updates captured from a small real cluster, the ids varied):
//   - the agent protocol's JSON (ARCHITECTURE: the agent link): the master writes the launches,
//     the agent reads them; the agent writes STARTING and RUNNING (one message), the master
//     reads them; the master writes the acks, the agent reads them;
//   - their bytes over one loopback WebSocket (both ends in this process; over 10,000 links
//     each message is a write of its own all the same);
//   - SQLite (WAL, synchronous=FULL, the store's schema): each task's row written at its
//     launch and one status write when it runs (STARTING's left out: it comes in the same
//     message as RUNNING), in transactions of 1,000 tasks (the master commits a turn's writes
//     together; a turn is rarely that large).
// Each at two densities: 10 tasks a message (every agent's tasks in one: 100,000 tasks on
// 10,000 agents) and PER_MESSAGE, the benchmark's; and for two protocols: Yagura's, and a
// hypothetical one cut to the bone (below), the best a redesign of the protocol and the rows
// could hope for.
// Left out, so the floor is lower than any real design's cost: placement itself, the HTTP
// POSTs, the services framework, the master's task table, events and the dashboard stream,
// the agents' own bookkeeping, allocations and GC of any of it.

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket, { WebSocketServer } from 'ws';
import type { ClusterEvent, LaunchSpec, StatusUpdate, TaskView } from '../protocol/types.js';
import { build } from '../server/app.js';
import { launchSpec } from '../server/master/master.js';
import type { PlacementOffer } from '../server/core/placement.js';
import { simAttributes, startSimAgents } from '../server/sim/sim.js';
import { SqliteStore } from '../server/store/sqlite.js';
import type { TaskRecord } from '../server/store/store.js';
import { AGENTS, APPS, LAYOUT, PER_APP, RESOURCES, benchApps, placementLoop, postApps } from './scale-harness.js';

const TASKS = APPS * PER_APP;
const PER_AGENT = Math.max(1, Math.round(TASKS / AGENTS));
/**
 * Tasks a message in the benchmark: sim-placement logs the messages over the agents' links in
 * its timed window; session 14 saw 0.46–0.68 a task to the agents over 6 runs (launches and
 * acks, about as many of each: 3–4 tasks a message) and 0.40–0.53 from them (updates and
 * heartbeats).
 */
const PER_MESSAGE = Number(process.env.BENCH_FLOOR_PER_MESSAGE ?? 3);
const TX = 1000;
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** One task of each app kind, as a small real cluster makes them. */
async function capture(): Promise<{ tasks: TaskView[]; launches: LaunchSpec[]; updates: StatusUpdate[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'yagura-floor-'));
  const app = await build({ dataDir: dir, port: 0 });
  const url = await app.listen();
  const updates: StatusUpdate[] = [];
  const sims = startSimAgents({ masterUrl: url, secret: app.agentSecret, agents: 12, resources: RESOURCES, ...LAYOUT, log: () => {}, onStatus: (u) => updates.push(u) });
  try {
    await sims.registered(60_000);
    const shapes = benchApps(3, 4);
    let running = 0;
    const all = new Promise<void>((r) => {
      app.master.events.subscribe((events: readonly ClusterEvent[]) => {
        for (const e of events) if (e.kind === 'task' && e.op === 'patch' && e.data.state === 'TASK_RUNNING' && ++running === 12) r();
      });
    });
    await postApps(app, shapes);
    await all;
    const tasks = shapes.map((s) => app.services.tasksOf(String(s.json.id))[0]!);
    const launches = tasks.map((t) => launchSpec(t as TaskRecord, t.frameworkId));
    return { tasks, launches, updates: tasks.flatMap((t) => updates.filter((u) => u.taskId === t.id)) };
  } finally {
    await sims.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `s` with its last 8 characters made unique for `i` (the same length). */
const vary = (s: string, i: number) => s.slice(0, -8) + i.toString(16).padStart(8, '0');

async function main(): Promise<void> {
  const log = (s: string) => process.stderr.write(`  ${s}\n`);
  log('capturing a task, its launch and its updates from a small real cluster…');
  const real = await capture();
  const kinds = real.tasks.length;
  const tasks: TaskView[] = [];
  const launches: LaunchSpec[] = [];
  const updates: StatusUpdate[] = [];
  for (let i = 0; i < TASKS; i++) {
    const k = i % kinds;
    const id = vary(real.tasks[k]!.id, i);
    tasks.push({ ...real.tasks[k]!, id });
    launches.push({ ...real.launches[k]!, taskId: id });
    for (const u of real.updates.filter((x) => x.taskId === real.tasks[k]!.id)) updates.push({ ...u, taskId: id, uuid: vary(u.uuid, i) });
  }
  if (updates.length !== 2 * TASKS) throw new Error(`captured ${real.updates.length} updates for ${kinds} tasks, expected 2 each`);
  log(`a task record ${JSON.stringify(real.tasks[0]).length} B, its launch ${JSON.stringify(real.launches[0]).length} B, an update ${JSON.stringify(real.updates[0]).length} B`);

  // the budget: the bare loop over the same agent table as the benchmark's
  const offers: PlacementOffer[] = Array.from({ length: AGENTS }, (_, n) => ({ offerId: `o-${n}`, agentId: `a-${n}`, hostname: `sim-${n}`, attributes: simAttributes(n, LAYOUT), resources: RESOURCES }));
  const apps = benchApps(APPS, PER_APP);
  const loopMs: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const ms = placementLoop(offers, apps, PER_APP);
    if (i > 0) loopMs.push(ms);
  }
  const loopUs = (median(loopMs) * 1000) / TASKS;
  const cores = availableParallelism();
  const budgetUs = (loopUs / 0.25) * cores;

  const chunk = <T>(xs: T[], n: number) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));
  const running = updates.filter((u) => u.state === 'TASK_RUNNING');
  if (running.length !== TASKS) throw new Error(`${running.length} RUNNING updates for ${TASKS} tasks`);
  // the rows and statuses do not depend on how many tasks a message carries: made once
  const rowsAsTheyAre = tasks.map((t) => JSON.stringify(t));
  const statusAsItIs = running.map((u) => JSON.stringify({ state: u.state, statusUuid: u.uuid, updatedAt: u.timestamp }));
  const rowsToTheBone = tasks.map((t) => JSON.stringify({ agentId: t.agentId, ports: t.resources.ports, state: 'TASK_STAGING' }));
  const statusToTheBone = running.map((u) => JSON.stringify({ statusUuid: u.uuid, updatedAt: u.timestamp }));
  const variants = (perMessage: number): Variant[] => {
    const launchBatches = chunk(launches, perMessage);
    const updateBatches = chunk(updates, 2 * perMessage);
    const runningBatches = chunk(running, perMessage);
    // as the protocol and the store have them
    const asTheyAre: Variant = {
      name: 'the agent protocol and the store as they are',
      launches: () => launchBatches.map((b) => JSON.stringify({ type: 'launches', tasks: b })),
      updates: () => updateBatches.map((b) => JSON.stringify({ type: 'updates', updates: b })),
      acks: () => updateBatches.map((b) => JSON.stringify({ type: 'acks', acks: b.map((u) => ({ taskId: u.taskId, uuid: u.uuid })) })),
      rows: rowsAsTheyAre,
      status: statusAsItIs,
    };
    // a protocol and rows cut to the bone (not what Yagura speaks; the best any redesign could
    // hope for): a launches message holds one spec for all its tasks (as if every agent's tasks
    // came from one app) and their ids; no STARTING; an update is [task id, uuid], an ack a uuid;
    // a task's row keeps only its id, agent, ports and state
    const specOf = (l: LaunchSpec) => ({ ...l, taskId: undefined });
    const toTheBone: Variant = {
      name: 'a protocol and rows cut to the bone (hypothetical)',
      launches: () => launchBatches.map((b) => JSON.stringify({ type: 'launches', spec: specOf(b[0]!), ids: b.map((l) => l.taskId) })),
      updates: () => runningBatches.map((b) => JSON.stringify({ type: 'running', u: b.map((u) => [u.taskId, u.uuid]) })),
      acks: () => runningBatches.map((b) => JSON.stringify({ type: 'acks', u: b.map((u) => u.uuid) })),
      rows: rowsToTheBone,
      status: statusToTheBone,
    };
    return [asTheyAre, toTheBone];
  };

  console.log(`\n${TASKS} tasks on ${AGENTS} agents, ${cores} cores; CPU µs per task, median of ${RUNS} runs (the first of each step dropped)`);
  console.log(`the bare placement loop: ${loopUs.toFixed(2)} µs a task (${Math.round(1e6 / loopUs)}/s)`);
  console.log(`0.25× of it, end to end: ${(loopUs / 0.25).toFixed(2)} µs a task of wall time = ${budgetUs.toFixed(2)} µs of CPU on ${cores} cores: the budget`);
  for (const [perMessage, why] of [
    [PER_AGENT, 'every agent gets its tasks in one message (what packing an app onto few agents could give)'],
    [PER_MESSAGE, 'tasks a message as the benchmark has them: placement spreads an app over agents (`npm run bench -- sim-placement` logs it)'],
  ] as const)
  for (const v of variants(perMessage)) {
    const steps = await measure(v, tasks, running);
    let sum = 0;
    let masterSum = 0;
    console.log(`\n${v.name}, ${perMessage} task(s) a message (${why}):`);
    for (const [name, us] of steps) {
      sum += us;
      if (name.startsWith('master:')) masterSum += us;
      console.log(`  ${us.toFixed(2).padStart(7)}  ${name}`);
    }
    console.log(`  ${sum.toFixed(2).padStart(7)}  the floor`);
    console.log(`the floor is ${(sum / budgetUs).toFixed(2)}× the budget; at best the ratio could reach ${((cores * loopUs) / sum).toFixed(3)}× with nothing but the floor`);
    console.log(`with placement itself: ${(sum + loopUs).toFixed(2)} µs, ${((sum + loopUs) / budgetUs).toFixed(2)}× the budget, leaving ${(budgetUs - sum - loopUs).toFixed(2)} µs a task for everything else in both processes`);
    console.log(
      `the master's steps alone (its share of the WebSocket left out, as if the agents were on other machines): ${masterSum.toFixed(2)} µs, ${(masterSum / budgetUs).toFixed(2)}× the budget, ` +
        `leaving ${(budgetUs - masterSum).toFixed(2)} µs of CPU a task for its share of the WebSocket, placement itself (${loopUs.toFixed(2)} µs) and everything else`,
    );
  }
}

interface Variant {
  name: string;
  /** The messages, made anew each call. */
  launches(): string[];
  updates(): string[];
  acks(): string[];
  /** Each task's row at its launch, and its status when it runs. */
  rows: string[];
  status: string[];
}

/** Each step's CPU µs a task (median of RUNS, after one run that warms up). */
async function measure(v: Variant, tasks: TaskView[], running: StatusUpdate[]): Promise<Array<[string, number]>> {
  const steps = new Map<string, number[]>();
  const time = (name: string, f: () => void) => {
    const c0 = cpuUs();
    f();
    const us = (cpuUs() - c0) / TASKS;
    steps.set(name, [...(steps.get(name) ?? []), us]);
  };
  let launchMsgs: string[] = [];
  let updateMsgs: string[] = [];
  let ackMsgs: string[] = [];
  for (let r = 0; r <= RUNS; r++) {
    time('master: launches to JSON', () => void (launchMsgs = v.launches()));
    time('agent: launches from JSON', () => void launchMsgs.forEach((m) => JSON.parse(m)));
    time('agent: updates to JSON', () => void (updateMsgs = v.updates()));
    time('master: updates from JSON', () => void updateMsgs.forEach((m) => JSON.parse(m)));
    time('master: acks to JSON', () => void (ackMsgs = v.acks()));
    time('agent: acks from JSON', () => void ackMsgs.forEach((m) => JSON.parse(m)));
  }

  // the bytes over a loopback WebSocket, both ends here
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const server = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, { perMessageDeflate: false });
  await new Promise((r) => client.once('open', r));
  const master = await server;
  const transfer = async (from: WebSocket, to: WebSocket, msgs: string[]) => {
    let got = 0;
    const done = new Promise<void>((r) => {
      const on = () => {
        if (++got === msgs.length) {
          to.off('message', on);
          r();
        }
      };
      to.on('message', on);
    });
    for (const m of msgs) from.send(m);
    await done;
  };
  const wsName = 'both: the bytes over a WebSocket (one link)';
  for (let r = 0; r <= RUNS; r++) {
    const c0 = cpuUs();
    await transfer(master, client, launchMsgs);
    await transfer(client, master, updateMsgs);
    await transfer(master, client, ackMsgs);
    steps.set(wsName, [...(steps.get(wsName) ?? []), (cpuUs() - c0) / TASKS]);
  }
  client.terminate();
  wss.close();

  // SQLite, the store's schema, at its cheapest: each task's row written once at its launch, and
  // one status write when it runs (STARTING and RUNNING came in one message: only the later one
  // need be kept, and the agent's acks of both wait for it)
  const sqlName = 'master: SQLite (WAL, synchronous=FULL), a row at the launch and one status write';
  for (let r = 0; r <= RUNS; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'yagura-floor-db-'));
    // the store's own migrations make the schema; the rows then go in with plain INSERTs (the
    // store's statements are upserts, which cost more)
    new SqliteStore(join(dir, 'floor.db')).close();
    const db = new Database(join(dir, 'floor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const putTask = db.prepare('INSERT INTO tasks (id, framework_id, agent_id, data) VALUES (?, ?, ?, ?)');
    const putStatus = db.prepare('INSERT INTO task_status (id, state, status) VALUES (?, ?, ?)');
    const c0 = cpuUs();
    for (let i = 0; i < TASKS; i += TX) {
      const end = Math.min(TASKS, i + TX);
      db.transaction(() => {
        for (let j = i; j < end; j++) putTask.run(tasks[j]!.id, tasks[j]!.frameworkId, tasks[j]!.agentId, v.rows[j]);
      })();
      db.transaction(() => {
        for (let j = i; j < end; j++) putStatus.run(running[j]!.taskId, running[j]!.state, v.status[j]);
      })();
    }
    steps.set(sqlName, [...(steps.get(sqlName) ?? []), (cpuUs() - c0) / TASKS]);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [...steps].map(([name, us]) => [name, median(us.slice(1))]);
}

await main();
