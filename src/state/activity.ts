// The overview's live feed: what changed in the cluster, derived by comparing consecutive store
// states. Only objects whose identity changed are looked at closely, so a quiet tick is cheap.
import type { AgentState, DeploymentView, TaskState } from '../../protocol/types.js';
import { isTerminal } from '../../protocol/types.js';
import type { ClusterState } from './cluster-state.js';
import { forEachChange } from './id-map.js';
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

export type ActivityTone = 'ok' | 'pending' | 'warn' | 'error' | 'lost' | 'neutral';

export interface ActivityItem {
  /** Unique within one feed; stable so lists can key by it. */
  readonly key: string;
  readonly at: number;
  readonly kind: 'task' | 'agent' | 'service' | 'deployment';
  readonly tone: ActivityTone;
  readonly text: string;
  /** Where the object lives in the dashboard. */
  readonly href?: string;
}

const TASK_TONE: Partial<Record<TaskState, ActivityTone>> = {
  TASK_RUNNING: 'ok',
  TASK_FINISHED: 'neutral',
  TASK_KILLED: 'neutral',
  TASK_FAILED: 'error',
  TASK_ERROR: 'error',
  TASK_LOST: 'lost',
  TASK_UNREACHABLE: 'lost',
  TASK_GONE: 'lost',
  TASK_DROPPED: 'lost',
  TASK_KILLING: 'warn',
};

const AGENT_TEXT: Record<AgentState, { verb: string; tone: ActivityTone }> = {
  ACTIVE: { verb: 'is active', tone: 'ok' },
  UNREACHABLE: { verb: 'became unreachable', tone: 'lost' },
  DRAINING: { verb: 'is draining', tone: 'warn' },
  DRAINED: { verb: 'is drained', tone: 'neutral' },
  GONE: { verb: 'was marked gone', tone: 'neutral' },
};

export const taskHref = (id: string) => `/tasks/${encodeURIComponent(id)}`;
export const nodeHref = (id: string) => `/nodes/${encodeURIComponent(id)}`;
export const serviceHref = (id: string) => `/services/${encodeURIComponent(id)}`;

const stateWord = (state: TaskState) => state.replace(/^TASK_/, '').toLowerCase();

/** Items for what changed from `prev` to `next`, newest concern first. */
export function diffActivity(prev: ClusterState, next: ClusterState, now: number): ActivityItem[] {
  // A first snapshot, or one after a master restart, is not news.
  if (!prev.loaded || !next.loaded || prev.epoch !== next.epoch) return [];
  const items: Omit<ActivityItem, 'key'>[] = [];

  if (prev.deployments !== next.deployments) {
    for (const [id, before] of prev.deployments) {
      const after = next.deployments.get(id);
      if (after === before) continue;
      if (after === undefined) {
        if (before.status === 'running') items.push(deploymentEnded(before, undefined, now));
      } else if (before.status === 'running' && after.status !== 'running') {
        items.push(deploymentEnded(after, after.status, now));
      }
    }
    for (const [id, after] of next.deployments) {
      if (!prev.deployments.has(id)) {
        items.push({ at: after.startedAt || now, kind: 'deployment', tone: 'pending', text: `Deployment started: ${after.affectedApps.join(', ')}`, href: after.affectedApps[0] ? serviceHref(after.affectedApps[0]) : undefined });
      }
    }
  }

  forEachChange(prev.agents, next.agents, (id, before, after) => {
    if (after === undefined) {
      items.push({ at: now, kind: 'agent', tone: 'neutral', text: `Agent ${before!.hostname} was removed` });
    } else if (before === undefined) {
      items.push({ at: now, kind: 'agent', tone: 'ok', text: `Agent ${after.hostname} registered`, href: nodeHref(id) });
    } else if (before.state !== after.state) {
      const { verb, tone } = AGENT_TEXT[after.state] ?? { verb: `is ${after.state}`, tone: 'neutral' };
      items.push({ at: after.unreachableAt ?? now, kind: 'agent', tone, text: `Agent ${after.hostname} ${verb}`, href: nodeHref(id) });
    }
  });

  forEachChange(prev.services, next.services, (id, before, after) => {
    if (after === undefined) {
      items.push({ at: now, kind: 'service', tone: 'neutral', text: `Service ${id} removed` });
    } else if (before === undefined) {
      items.push({ at: now, kind: 'service', tone: 'pending', text: `Service ${id} created`, href: serviceHref(id) });
    } else if (before.status !== after.status && (after.status === 'Delayed' || after.status === 'Waiting')) {
      items.push({ at: now, kind: 'service', tone: 'warn', text: `Service ${id} is ${after.status.toLowerCase()}`, href: serviceHref(id) });
    }
  });

  // Only the tasks that changed are looked at (IdMap knows them): 100,000 tasks cost nothing per event.
  forEachChange(prev.tasks, next.tasks, (id, before, after) => {
    if (after === undefined || (before !== undefined && before.state === after.state)) return;
    // Launches are told when they run (or fail); staging and starting are too chatty.
    if (after.state === 'TASK_STAGING' || after.state === 'TASK_STARTING') return;
    const tone = TASK_TONE[after.state] ?? 'neutral';
    const reason = isTerminal(after.state) && after.message ? `: ${after.message}` : '';
    items.push({ at: after.updatedAt || now, kind: 'task', tone, text: `Task ${after.name || id} ${stateWord(after.state)}${reason}`, href: taskHref(id) });
  });
  return items.sort((a, b) => b.at - a.at).map((item, i) => ({ ...item, key: `${next.seq}:${i}` }));
}

function deploymentEnded(d: DeploymentView, status: DeploymentView['status'] | undefined, now: number): Omit<ActivityItem, 'key'> {
  const apps = d.affectedApps.join(', ');
  const href = d.affectedApps[0] ? serviceHref(d.affectedApps[0]) : undefined;
  const at = d.endedAt ?? now;
  if (status === 'failed') return { at, kind: 'deployment', tone: 'error', text: `Deployment failed: ${apps}${d.message ? ` (${d.message})` : ''}`, href };
  if (status === 'canceled') return { at, kind: 'deployment', tone: 'warn', text: `Deployment canceled: ${apps}`, href };
  // Removed without a final status seen: it reached its last step unless it was cut short.
  const done = status === 'success' || (d.steps.length > 0 && d.currentStep >= d.steps.length);
  return { at, kind: 'deployment', tone: done ? 'ok' : 'neutral', text: `Deployment ${done ? 'finished' : 'ended'}: ${apps}`, href };
}

/**
 * Keeps the most recent items while the page is open. Runs from the shell, so the overview
 * shows what happened while another page was on screen.
 */
export class ActivityFeed {
  readonly #items = new Writable<readonly ActivityItem[]>([]);
  readonly items: Readable<readonly ActivityItem[]> = this.#items;
  readonly #source: Readable<ClusterState>;
  readonly #limit: number;
  readonly #now: () => number;
  #last: ClusterState;
  #unsubscribe: (() => void) | undefined;

  constructor(source: Readable<ClusterState>, options: { limit?: number; now?: () => number } = {}) {
    this.#source = source;
    this.#limit = options.limit ?? 50;
    this.#now = options.now ?? Date.now;
    this.#last = source.value;
  }

  start(): void {
    if (this.#unsubscribe) return;
    this.#last = this.#source.value;
    this.#unsubscribe = this.#source.subscribe((next) => {
      const fresh = diffActivity(this.#last, next, this.#now());
      this.#last = next;
      // Logged out: what the last person saw goes with them.
      if (!next.loaded && next.epoch === undefined) this.#items.set([]);
      if (fresh.length) this.#items.set([...fresh, ...this.#items.value].slice(0, this.#limit));
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
