// The render bench's page, bundled by bench/render.bench.ts and run in headless Chromium.
// Two contenders in the same page, one after the other:
//   yagura  - the real tasks view (yg-tasks-view → yg-task-list → yg-task-row) on the real store
//             code: fromSnapshot for the first render, one applyEvents patch per update, handed
//             down through clusterContext exactly as the shell does;
//   vanilla - a plain <table> of every task built with DOM calls, updated by writing one row's
//             cells found by id.
// Each measurement starts inside a requestAnimationFrame callback and ends in a message task
// posted from it, which runs once that frame's rendering (Lit's microtask updates, style,
// layout, paint) is done: "from setting the data to the end of the frame that painted it".
// It is .mts so that the Node typecheck of bench/ (server/tsconfig.json) leaves this DOM code
// alone; bench/render/tsconfig.json checks it.

import { ContextProvider } from '@lit/context';
import { LitElement } from 'lit';
import type { PropertyValues } from 'lit';
import type { AgentView, ClusterEvent, ClusterSnapshot, ServiceView, TaskState, TaskView } from '../../protocol/types.js';
import { YgTaskRow } from '../../src/components/yg-task-row.js';
import type { YgTaskList } from '../../src/components/yg-task-list.js';
import { applyEvents, EMPTY_CLUSTER, fromSnapshot } from '../../src/state/cluster-state.js';
import type { ClusterState } from '../../src/state/cluster-state.js';
import { clusterContext } from '../../src/state/context.js';
import { Writable } from '../../src/state/readable.js';
import '../../src/views/yg-tasks-view.js';
import { AGENTS, SERVICES, TASKS, UPDATES } from './types.js';
import type { Contender, RenderBenchPage, RenderRun, RunOptions } from './types.js';

/** Stands in for yg-app: provides the cluster the way the shell does, renders into itself. */
class BenchHost extends LitElement {
  readonly cluster = new Writable<ClusterState>(EMPTY_CLUSTER);

  constructor() {
    super();
    new ContextProvider(this, { context: clusterContext, initialValue: this.cluster });
  }

  protected override createRenderRoot() {
    return this;
  }
}
customElements.define('bench-host', BenchHost);

// Every yg-task-row update passes here: the count of rows re-rendered, and why.
let onRowUpdate: ((changed: PropertyValues) => void) | undefined;
const rowProto = YgTaskRow.prototype as unknown as { update(changed: PropertyValues): void };
const rowUpdate = rowProto.update;
rowProto.update = function (this: YgTaskRow, changed: PropertyValues) {
  onRowUpdate?.(changed);
  rowUpdate.call(this, changed);
};

// ---- the cluster: the same data for both contenders ----

/** An hour ago: rows say "… min ago" like a cluster that has been up a while. */
const BASE = Date.now() - 3_600_000;

function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

/**
 * 10,000 tasks of 1,000 services on 100 agents. Tasks 0…999 are staging (the updates start
 * them); the last 500 have finished. Built newest first, live before finished: the order the
 * tasks view sorts them into, so the plain table shows the same rows in the same order.
 */
function makeSnapshot(): ClusterSnapshot {
  const agents: AgentView[] = [];
  for (let a = 0; a < AGENTS; a++) {
    agents.push({
      id: `agent-${a}`,
      hostname: `node-${String(a).padStart(3, '0')}.dc1`,
      state: 'ACTIVE',
      resources: { cpus: 64, mem: 262144, disk: 1048576, ports: [[31000, 32000]] },
      allocated: { cpus: 50, mem: 25600, disk: 0, ports: [] },
      attributes: { zone: `z${a % 3}` },
      isolators: ['cgroups/cpu', 'cgroups/mem'],
      version: 'bench',
      registeredAt: BASE,
      lastSeenAt: BASE,
    });
  }
  const services: ServiceView[] = [];
  for (let s = 0; s < SERVICES; s++) {
    services.push({
      id: `/bench/app-${s}`,
      version: new Date(BASE).toISOString(),
      instances: TASKS / SERVICES,
      cpus: 0.5,
      mem: 256,
      disk: 0,
      labels: {},
      status: 'Running',
      tasksStaged: 0,
      tasksRunning: TASKS / SERVICES,
      tasksHealthy: 0,
      tasksUnhealthy: 0,
      healthChecked: false,
      deployments: [],
    });
  }
  const tasks: TaskView[] = [];
  for (let i = 0; i < TASKS; i++) {
    const s = i % SERVICES;
    const state: TaskState = i < UPDATES ? 'TASK_STAGING' : i >= TASKS - 500 ? 'TASK_FINISHED' : 'TASK_RUNNING';
    const at = BASE - i * 100;
    tasks.push({
      id: `bench_app-${s}.${i}`,
      name: `app-${s}`,
      frameworkId: 'yagura-services',
      agentId: `agent-${i % AGENTS}`,
      state,
      resources: { cpus: 0.5, mem: 256, disk: 0, ports: [[31000 + (i % 1000), 31000 + (i % 1000)]] },
      command: { value: 'python3 -m http.server $PORT0', shell: true, env: {}, uris: [] },
      labels: { YAGURA_APP_ID: `/bench/app-${s}`, YAGURA_APP_VERSION: new Date(BASE).toISOString() },
      createdAt: at,
      updatedAt: at,
      ...(state === 'TASK_STAGING' ? {} : { startedAt: at }),
      ...(state === 'TASK_FINISHED' ? { endedAt: at, exitCode: 0 } : {}),
    });
  }
  return { epoch: 'bench', seq: 1, agents, tasks, frameworks: [], services, deployments: [] };
}

/**
 * The staging tasks to start (STAGING → RUNNING), one per update, in a fixed shuffled order:
 * all 1,000, or every `every`-th of that order, at most `limit`.
 */
function updateOrder({ every, limit }: RunOptions): number[] {
  const order = Array.from({ length: UPDATES }, (_, i) => i);
  const rnd = prng(42);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.filter((_, i) => i % every === 0).slice(0, limit ?? UPDATES);
}

// ---- timing ----

const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));

async function frames(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextFrame();
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs `work` at the start of a frame; resolves with the time from then to the end of that
 * frame's rendering. Microtasks (Lit's updates) run right after the callback, then style,
 * layout and paint; the posted message runs in the next task, after all of them.
 */
function timedFrame(name: string, work: () => void): Promise<number> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => {
      performance.mark(`${name}:start`);
      work();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        performance.mark(`${name}:end`);
        const ms = performance.measure(name, `${name}:start`, `${name}:end`).duration;
        performance.clearMarks();
        performance.clearMeasures();
        resolve(ms);
      };
      channel.port2.postMessage(null);
    });
  });
}

const stage = document.getElementById('stage')!;

// ---- yagura ----

async function runYagura(options: RunOptions): Promise<RenderRun> {
  const host = document.createElement('bench-host') as BenchHost;
  const view = document.createElement('yg-tasks-view');
  host.append(view);
  stage.append(host);
  // The view and its filters render their empty ("Waiting for the master…") state first.
  await view.updateComplete;
  await frames(2);
  const list = view.shadowRoot!.querySelector<YgTaskList>('yg-task-list')!;
  const snapshot = makeSnapshot();
  collectGarbage();

  const firstRenderMs = await timedFrame('yagura:first', () => host.cluster.set(fromSnapshot(snapshot)));
  const rows = () => [...list.shadowRoot!.querySelectorAll<YgTaskRow>('yg-task-row')];
  const rowsInDom = rows().length;
  // The frame measured must be the one that painted rows, with their content.
  const top = list.rowAt(0);
  if (rowsInDom === 0 || !top?.shadowRoot?.textContent?.includes(snapshot.tasks[0]!.name)) {
    throw new Error(`yagura: the first frame after setting the data shows ${rowsInDom} rows, the first one "${top?.shadowRoot?.textContent ?? ''}"`);
  }
  await frames(3);

  const body = list.shadowRoot!.querySelector('.body')!;
  let attached = 0;
  const countRows = (records: MutationRecord[]) => {
    for (const r of records) {
      for (const n of [...r.addedNodes, ...r.removedNodes]) if (n instanceof HTMLElement && n.localName === 'yg-task-row') attached++;
    }
  };
  const observer = new MutationObserver(countRows);
  observer.observe(body, { childList: true });
  let rendered = 0;
  const renderReasons: Record<string, number> = {};
  onRowUpdate = (changed) => {
    rendered++;
    for (const key of changed.keys()) renderReasons[String(key)] = (renderReasons[String(key)] ?? 0) + 1;
  };

  const updateMs: number[] = [];
  const rowsRendered: number[] = [];
  const rowsAttached: number[] = [];
  const order = updateOrder(options);
  let seq = snapshot.seq;
  collectGarbage();
  try {
    for (let k = 0; k < order.length; k++) {
      const task = snapshot.tasks[order[k]!]!;
      const event: ClusterEvent = {
        seq: ++seq,
        at: BASE + 1000 + k,
        kind: 'task',
        op: 'patch',
        id: task.id,
        data: { state: 'TASK_RUNNING', updatedAt: BASE + 1000 + k, startedAt: BASE + 1000 + k, statusUuid: `u${k}` },
      };
      rendered = 0;
      attached = 0;
      updateMs.push(await timedFrame('yagura:update', () => host.cluster.set(applyEvents(host.cluster.value, [event]))));
      countRows(observer.takeRecords());
      rowsRendered.push(rendered);
      rowsAttached.push(attached);
    }
  } finally {
    onRowUpdate = undefined;
    observer.disconnect();
  }
  // Every update arrived: the last task started is first (live, newest), shown as running.
  const last = snapshot.tasks[order[order.length - 1]!]!;
  const first = list.rowAt(0);
  if (list.tasks[0]?.id !== last.id || !first?.shadowRoot?.textContent?.includes('RUNNING')) {
    throw new Error(`yagura: after the updates the first row is ${list.tasks[0]?.id} (${list.tasks[0]?.state}), expected ${last.id} running`);
  }
  const running = [...host.cluster.value.tasks.values()].filter((t) => t.state === 'TASK_RUNNING').length;
  const expected = TASKS - 500 - UPDATES + order.length;
  if (running !== expected) throw new Error(`yagura: ${running} tasks running after the updates, expected ${expected}`);
  host.remove();
  await frames(2);
  return { contender: 'yagura', firstRenderMs, rowsInDom, updateMs, rowsRendered, rowsAttached, renderReasons };
}

// ---- vanilla ----

function cell(tr: HTMLTableRowElement, text: string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text;
  tr.append(td);
  return td;
}

function linkCell(tr: HTMLTableRowElement, text: string, href: string): void {
  const td = document.createElement('td');
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  td.append(a);
  tr.append(td);
}

const ago = (at: number, now: number) => `${Math.max(0, Math.round((now - at) / 60_000))} min ago`;

function vanillaRow(t: TaskView, agents: ReadonlyMap<string, string>, now: number): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.id = t.id;
  linkCell(tr, t.name, `/tasks/${encodeURIComponent(t.id)}`);
  cell(tr, t.id, 'mono');
  const state = document.createElement('td');
  const chip = document.createElement('span');
  chip.className = `chip ${t.state === 'TASK_RUNNING' ? 'ok' : t.state === 'TASK_STAGING' ? 'pending' : 'neutral'}`;
  chip.textContent = t.state.replace(/^TASK_/, '');
  state.append(chip);
  tr.append(state);
  const service = t.labels.YAGURA_APP_ID ?? '';
  linkCell(tr, service, `/services/${encodeURIComponent(service)}`);
  linkCell(tr, agents.get(t.agentId) ?? t.agentId, `/nodes/${t.agentId}`);
  cell(tr, String(t.resources.cpus), 'num');
  cell(tr, `${t.resources.mem} MiB`, 'num');
  cell(tr, ago(t.updatedAt, now), 'num');
  return tr;
}

async function runVanilla(options: RunOptions): Promise<RenderRun> {
  const table = document.createElement('table');
  table.className = 'vanilla';
  table.innerHTML = '<thead><tr><th>Name</th><th>ID</th><th>State</th><th>Service</th><th>Agent</th><th class="num">CPUs</th><th class="num">Memory</th><th class="num">Updated</th></tr></thead><tbody></tbody>';
  const tbody = table.tBodies[0]!;
  stage.append(table);
  await frames(2);
  const snapshot = makeSnapshot();
  collectGarbage();

  const firstRenderMs = await timedFrame('vanilla:first', () => {
    const agents = new Map(snapshot.agents.map((a) => [a.id, a.hostname]));
    const now = Date.now();
    const rows = document.createDocumentFragment();
    for (const t of snapshot.tasks) rows.append(vanillaRow(t, agents, now));
    tbody.append(rows);
  });
  const rowsInDom = tbody.rows.length;
  if (rowsInDom !== TASKS) throw new Error(`vanilla: ${rowsInDom} rows, expected ${TASKS}`);
  await frames(3);

  const updateMs: number[] = [];
  const order = updateOrder(options);
  collectGarbage();
  for (let k = 0; k < order.length; k++) {
    const id = snapshot.tasks[order[k]!]!.id;
    updateMs.push(
      await timedFrame('vanilla:update', () => {
        const tr = document.getElementById(id) as HTMLTableRowElement;
        const chip = tr.cells[2]!.firstElementChild as HTMLElement;
        chip.className = 'chip ok';
        chip.textContent = 'RUNNING';
        tr.cells[7]!.textContent = 'just now';
      }),
    );
  }
  const running = tbody.querySelectorAll('.chip.ok').length;
  const expected = TASKS - 500 - UPDATES + order.length;
  if (running !== expected) throw new Error(`vanilla: ${running} rows running after the updates, expected ${expected}`);
  table.remove();
  await frames(2);
  // One row written per update, none added or removed: the plain table moves nothing.
  return { contender: 'vanilla', firstRenderMs, rowsInDom, updateMs, rowsRendered: updateMs.map(() => 1), rowsAttached: updateMs.map(() => 0), renderReasons: {} };
}

const bench: RenderBenchPage = {
  run: (contender: Contender, options: RunOptions) => (contender === 'yagura' ? runYagura(options) : runVanilla(options)),
};
(window as unknown as { renderBench: RenderBenchPage }).renderBench = bench;
document.documentElement.dataset.ready = 'true';
