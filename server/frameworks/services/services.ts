// The built-in `services` framework: Marathon-style apps kept running through the master's offer
// interface, the same one external frameworks use. Apps, their versions and deployments are
// documents committed with the master's own state; instances are the master's tasks (labelled
// with the app id and version), so nothing about them can drift apart.

import { randomUUID } from 'node:crypto';
import { isTerminal, type DeploymentActionName, type DeploymentView, type ServiceView, type TaskView } from '../../../protocol/types.js';
import { ApiError, conflict, notFound } from '../../api/errors.js';
import { fieldValue, hostTest } from '../../core/constraints.js';
import { OfferPool, type PlacementOffer } from '../../core/placement.js';
import { isLimbo } from '../../core/task-state.js';
import type { Master } from '../../master/master.js';
import type { Logger, Offer, SchedulerConnection, TaskLaunch, TaskStatus } from '../../master/types.js';
import { isScaleOnly, toHealthCheckSpecs, type AppDefinition } from './app-definition.js';
import { dependencyOrder as orderByDependencies, type GroupDefinition } from './group-definition.js';
import { backoffDelaySeconds, converge, rollingRestart, stopAll, type Decision, type InstanceInfo, type KillSelection } from './rollout.js';

export const SERVICES_FRAMEWORK_ID = 'yagura-services';
export const APP_ID_LABEL = 'YAGURA_APP_ID';
/** The version of the app's configuration the instance runs (Marathon's lastConfigChangeAt). */
export const APP_VERSION_LABEL = 'YAGURA_APP_VERSION';

const APPS = 'service_apps';
const VERSIONS = 'service_app_versions';
const DEPLOYMENTS = 'service_deployments';
const MAX_VERSIONS = 50;
/** Ends of an instance that count as a failed launch (and grow the launch delay). */
const MAX_COUNTED_FAILURES = 10_000;
const BACKOFF_STATES = new Set<TaskView['state']>(['TASK_FAILED', 'TASK_FINISHED', 'TASK_ERROR']);
/** Ticks shorter than this run on the next turn; longer ones space the next one out. */
const TICK_DELAY_ABOVE_MS = 20;
/**
 * How long a GROUP_BY app waits for offers from every value with room before it is placed, as
 * in Marathon, over the values of the offers at hand alone (OfferPool's `roomy`).
 */
const GROUP_WAIT_MS = 5000;
/**
 * While instances wait, what is declined (and what an accepted offer leaves) is refused this
 * long. Tried at 0.5 s, so that every allocation cycle offers it again: with 10,000 agents that
 * doubled the offer cycles and cut placement end to end by a fifth (bench/sim-placement).
 */
const WAITING_REFUSE_SECONDS = 1;
/** With nothing waiting, what is declined goes to others for this long. */
const IDLE_REFUSE_SECONDS = 5;
/**
 * How often at most the framework asks for agents with room that made no offer at hand
 * (`master.offerNow`). At 250 ms, in bench/api-reads (apps of 50 posted at 2,500 instances a
 * second), the running count trailed the posted one by 440–550 instances on average (6 runs);
 * at 100 ms by 230–260 (4 runs), with no change in bench/sim-placement's rate beyond its noise.
 */
const OFFER_NOW_EVERY_MS = 100;
/** Agents asked for, at most, for one app's instances still to place, and in all at one time. */
const ASK_PER_APP = 32;
const ASK_AT_MOST = 256;
/** Agents looked at, at most, for one app's ask: the next ask goes on from there. */
const ASK_SCAN_AT_MOST = 2048;
/** How long the agents' room read for asking (AgentRooms) is used before it is read again. */
const ROOM_FOR_MS = 250;

/** What a decline reason means to an operator. */
const REASON_TEXT: Record<string, string> = {
  InsufficientCpus: 'not enough free cpus',
  InsufficientMemory: 'not enough free memory',
  InsufficientDisk: 'not enough free disk',
  InsufficientPorts: 'the required ports are not free',
  UnfulfilledConstraint: 'the placement constraints rule it out',
  UnfulfilledCapability: 'no agent offers the container runtime it needs (e.g. Docker)',
};

/** An app's tasks by state, and its running deployments. */
export interface AppCounts {
  staged: number;
  running: number;
  healthy: number;
  unhealthy: number;
  deployments: string[];
}

export interface AppRecord {
  def: AppDefinition;
  versionInfo: { lastScalingAt: string; lastConfigChangeAt: string };
  /**
   * Launch delay after failures of the current version. `countedUntil`: the end (master time)
   * of the last failure counted, so that failures whose count a crash lost are counted on start.
   */
  backoff: { failures: number; delayUntil: number; countedUntil?: number };
  lastTaskFailure?: { taskId: string; state: TaskView['state']; message: string; timestamp: number; version: string };
}

interface DeploymentRecord {
  view: DeploymentView;
  /** Where each affected app goes (null: removed) and where it came from (null: created). */
  targets: Record<string, { to: AppDefinition | null; from: AppDefinition | null }>;
}

export interface QueueEntry {
  appId: string;
  count: number;
  delayUntil?: number;
  since: number;
  /** Offers looked at for this app since it started waiting, and why they did not fit. */
  offersProcessed: number;
  reasons: Record<string, number>;
}

/** What the instances of one app launched in one cycle have in common (see launchTemplate). */
interface LaunchTemplate {
  idPrefix: string;
  name: string;
  /** The environment without HOST and the PORT_<name> variables. */
  env: Record<string, string>;
  /** Per port definition, its PORT_<name> variable, if it has a name. */
  portEnv: Array<string | undefined>;
  command: Omit<TaskLaunch['command'], 'env'>;
  labels: Record<string, string>;
  killGracePeriodMs?: number;
  healthChecks: NonNullable<TaskLaunch['healthChecks']>;
}

export interface ServicesOptions {
  master: Master;
  now?: () => number;
  log?: Logger;
  tickMs?: number;
  /** How often at most it asks for agents (`master.offerNow`); OFFER_NOW_EVERY_MS by default. */
  offerNowEveryMs?: number;
}

export class ServicesFramework implements SchedulerConnection {
  readonly master: Master;
  private now: () => number;
  private log: Logger;
  private apps = new Map<string, AppRecord>();
  private deployments = new Map<string, DeploymentRecord>();
  /** Tasks this framework asked to kill: they no longer count toward a target. */
  private killing = new Set<string>();
  private heldOffers = new Map<string, Offer>();
  /** Failed tasks already counted toward their app's launch delay, newest last (bounded). */
  private countedFailures = new Set<string>();
  private queue = new Map<string, QueueEntry>();
  private published = new Map<string, string>();
  private tickScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private subscribedOnce = false;
  private lastVersion = 0;
  /** Stored versions per app id, oldest first (ISO timestamps sort as text). */
  private versionIndex = new Map<string, string[]>();
  /** Task ids per app id, in launch order: one app's tasks without scanning every task. */
  private appTasks = new Map<string, Set<string>>();
  /** The app of each task in appTasks. */
  private taskApp = new Map<string, string>();
  /** Per app, its tasks as the master has them (oldest first); dropped when one of them changes. */
  private appLists = new Map<string, TaskView[]>();
  /** Ids of this framework's tasks that changed in the master since the last call. */
  private readonly changedTasks: () => ReadonlySet<string>;
  /**
   * Apps whose tasks, definition or instances being killed changed since their last decision
   * was made: only these are decided again; the others keep their last decision.
   */
  private undecided = new Set<string>();
  /** The last decision per app, and what it was a decision about (the action and its target). */
  private decisions = new Map<string, { action: string; to: AppDefinition | null | undefined; decision: Decision }>();
  /** Apps with an instance in limbo (UNREACHABLE, UNKNOWN): their decisions change with the clock. */
  private clocked = new Set<string>();
  /** Apps whose view may have changed since it was last published. */
  private unpublished = new Set<string>();
  /** Running deployments per app id. */
  private deploymentsByApp = new Map<string, Set<DeploymentRecord>>();
  /** How long the last tick took, and the next one when it waits (see scheduleTick). */
  private lastTickMs = 0;
  /** When the last ask was made, on the monotonic clock (a wall clock's jump must not stop asks). */
  private offerNowAt = -Infinity;
  private readonly offerNowEveryMs: number;
  /** A tick at the end of the ask's rate limit, for an ask the limit held back (see launch). */
  private askTimer: NodeJS.Timeout | undefined;
  /** Apps waiting in the queue that have had an ask made for them since they began to wait. */
  private askedFor = new Set<string>();
  private readonly rooms: AgentRooms;
  /** Where the next ask for agents starts in the list of agents (ClusterRoom.anyAgentsFor). */
  private readonly askCursor = { at: Math.floor(Math.random() * 1e9) };
  private delayedTick: NodeJS.Timeout | undefined;

  constructor(opts: ServicesOptions) {
    this.master = opts.master;
    this.rooms = new AgentRooms(this.master);
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.offerNowEveryMs = opts.offerNowEveryMs ?? OFFER_NOW_EVERY_MS;
    for (const { data } of this.master.loadDocs<AppRecord>(APPS)) this.apps.set(data.def.id, data);
    for (const { data } of this.master.loadDocs<DeploymentRecord>(DEPLOYMENTS)) this.addDeployment(data);
    this.changedTasks = this.master.watchTasks(SERVICES_FRAMEWORK_ID);
    // the version list per app is read once here; definitions stay in the store until asked for
    for (const { id: key } of this.master.loadDocs<AppDefinition>(VERSIONS)) {
      const sep = key.lastIndexOf(' ');
      const list = this.versionIndex.get(key.slice(0, sep)) ?? [];
      list.push(key.slice(sep + 1));
      this.versionIndex.set(key.slice(0, sep), list);
    }
    for (const list of this.versionIndex.values()) list.sort();
    const uncounted: TaskView[] = [];
    for (const t of this.master.frameworkTasks(SERVICES_FRAMEWORK_ID)) {
      const appId = t.labels[APP_ID_LABEL];
      if (appId) this.noteTask(appId, t.id);
      const app = appId ? this.apps.get(appId) : undefined;
      const counted = app?.backoff.countedUntil;
      if (app && counted !== undefined && BACKOFF_STATES.has(t.state) && (t.endedAt ?? 0) > counted && t.labels[APP_VERSION_LABEL] === app.versionInfo.lastConfigChangeAt) {
        uncounted.push(t);
      }
    }
    // The master tells us of a task's end after committing it, and what we make of it commits a
    // moment later: a crash in between would forget the failure and its launch delay. Count
    // such failures now, each delaying from its own end.
    for (const t of uncounted.sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0))) {
      const app = this.apps.get(t.labels[APP_ID_LABEL]!)!;
      this.countedFailures.add(t.id);
      this.countFailure(app, t.endedAt!, t.endedAt!);
      app.lastTaskFailure = { taskId: t.id, state: t.state, message: t.message ?? '', timestamp: t.endedAt!, version: t.labels[APP_VERSION_LABEL]! };
      this.saveApp(app);
    }
    for (const app of this.apps.values()) {
      this.published.set(app.def.id, JSON.stringify(this.view(app, [])));
      this.unpublished.add(app.def.id);
    }
    this.master.provideViews({
      services: () => [...this.apps.values()].map((a) => this.view(a, this.appTaskList(a.def.id))),
      deployments: () => [...this.deployments.values()].map((d) => d.view),
    });
    this.timer = setInterval(() => this.scheduleTick(), opts.tickMs ?? 1000);
    this.timer.unref();
  }

  async start(): Promise<void> {
    await this.master.subscribe(
      { id: SERVICES_FRAMEWORK_ID, name: 'services', user: 'root', roles: ['*'], failoverTimeoutSeconds: 365 * 24 * 3600, builtin: true },
      this,
      `builtin-${SERVICES_FRAMEWORK_ID}`,
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    clearTimeout(this.delayedTick);
    clearTimeout(this.askTimer);
  }

  // -------------------------------------------------------------------------------------------
  // SchedulerConnection

  subscribed(): void {
    this.subscribedOnce = true;
    this.scheduleTick();
  }

  offers(offers: Offer[]): void {
    for (const o of offers) this.heldOffers.set(o.id, o);
    this.scheduleTick();
  }

  rescind(offerId: string): void {
    this.heldOffers.delete(offerId);
  }

  update(status: TaskStatus): void {
    const appId = status.labels?.[APP_ID_LABEL];
    if (isTerminal(status.state)) this.killing.delete(status.taskId);
    if (!appId) return;
    this.touch(appId);
    const app = this.apps.get(appId);
    if (app && BACKOFF_STATES.has(status.state)) this.noteFailure(app, status.taskId, status.state, status.message, status.timestamp, status.labels?.[APP_VERSION_LABEL] ?? '');
    this.scheduleTick();
  }

  /**
   * A task of the app ended in failure: the next launch waits (backoff). The master shows the
   * task's end to a tick (watchTasks) before its update arrives after the commit; whichever
   * comes first counts it, so no tick relaunches without the delay, and none counts it twice.
   */
  private noteFailure(app: AppRecord, taskId: string, state: TaskView['state'], message: string | undefined, endedAt: number, version: string): void {
    if (this.countedFailures.has(taskId)) return;
    this.countedFailures.add(taskId);
    if (this.countedFailures.size > MAX_COUNTED_FAILURES) this.countedFailures.delete(this.countedFailures.values().next().value as string);
    // a failure of an old configuration says nothing about the new one
    if (version === app.versionInfo.lastConfigChangeAt) this.countFailure(app, this.now(), endedAt);
    app.lastTaskFailure = { taskId, state, message: message ?? '', timestamp: endedAt, version };
    this.saveApp(app);
  }

  failure(): void {
    this.scheduleTick();
  }

  /** One more failure of the app's current version: the next launch waits longer (from `at`). */
  private countFailure(app: AppRecord, at: number, endedAt: number): void {
    const failures = app.backoff.failures + 1;
    const delay = backoffDelaySeconds(failures, app.def.backoffSeconds, app.def.backoffFactor, app.def.maxLaunchDelaySeconds);
    app.backoff = { failures, delayUntil: Math.max(app.backoff.delayUntil, at + delay * 1000), countedUntil: Math.max(app.backoff.countedUntil ?? 0, endedAt) };
  }

  error(message: string): void {
    this.log('error', `services framework: ${message}`);
  }

  close(): void {
    this.heldOffers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  listApps(): AppRecord[] {
    return [...this.apps.values()].sort((a, b) => a.def.id.localeCompare(b.def.id));
  }

  getApp(id: string): AppRecord | undefined {
    return this.apps.get(id);
  }

  requireApp(id: string): AppRecord {
    const app = this.apps.get(id);
    if (!app) throw notFound(`App '${id}' does not exist`, [{ path: '/id', errors: ['unknown app'] }]);
    return app;
  }

  /** The app's tasks, oldest first (the same array until one of them changes: do not modify it). */
  tasksOf(appId: string): TaskView[] {
    return this.appTaskList(appId);
  }

  /** An app's task counts and running deployments (what GET /v2/apps lists with each app), without the rest of its view. */
  appCounts(id: string): AppCounts {
    return this.apps.has(id) ? this.counts(id, this.tasksOf(id)) : { staged: 0, running: 0, healthy: 0, unhealthy: 0, deployments: [] };
  }

  /** One pass over an app's tasks: a snapshot makes the views of every app (1,000 apps × 100 tasks). */
  private counts(id: string, all: readonly TaskView[]): AppCounts {
    const c: AppCounts = { staged: 0, running: 0, healthy: 0, unhealthy: 0, deployments: [] };
    for (const t of all) {
      if (t.state === 'TASK_RUNNING') {
        c.running++;
        if (t.healthy === true) c.healthy++;
        else if (t.healthy === false) c.unhealthy++;
      } else if (t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING') c.staged++;
    }
    for (const d of this.deploymentsByApp.get(id) ?? []) if (d.view.status === 'running') c.deployments.push(d.view.id);
    return c;
  }

  serviceView(id: string): ServiceView | undefined {
    const app = this.apps.get(id);
    return app && this.view(app, this.tasksOf(id));
  }

  versions(appId: string): string[] {
    this.requireApp(appId);
    return [...(this.versionIndex.get(appId) ?? [])].reverse();
  }

  version(appId: string, version: string): AppDefinition | undefined {
    return this.master.getDoc<AppDefinition>(VERSIONS, `${appId} ${version}`);
  }

  listDeployments(): DeploymentView[] {
    return [...this.deployments.values()].map((d) => d.view);
  }

  deploymentsOf(appId: string): DeploymentView[] {
    return [...(this.deploymentsByApp.get(appId) ?? [])].map((d) => d.view);
  }

  queueEntries(): QueueEntry[] {
    return [...this.queue.values()];
  }

  // -------------------------------------------------------------------------------------------
  // Changes. Each returns the deployment it started, after it is committed.

  /**
   * Apply a set of app changes as one deployment (to: null removes an app). Apps held by a
   * running deployment are a 409 unless `force`, which cancels those deployments first.
   */
  async deploy(
    changes: Array<{ id: string; to: AppDefinition | null }>,
    /** groupDependencies: group id → the apps or groups every app in it waits for (Marathon group `dependencies`). */
    opts: { force?: boolean; groupDependencies?: Record<string, string[]> } = {},
  ): Promise<DeploymentView> {
    const now = this.now();
    const busy = new Set<string>();
    for (const c of changes) for (const d of this.deploymentsByApp.get(c.id) ?? []) if (d.view.status === 'running') busy.add(d.view.id);
    if (busy.size && !opts.force) {
      throw conflict(`App is locked by one or more deployments. Override with the option '?force=true'.`, [
        { path: '/', errors: [...busy].map((id) => `deployment ${id} is in progress`) },
      ]);
    }
    // only the views of these apps change here (the tick publishes the others as they change):
    // publishing every app's view on each POST would cost O(apps + tasks) per call
    const touched = new Set(changes.map((c) => c.id));
    for (const id of busy) {
      const d = this.deployments.get(id)!;
      for (const appId of Object.keys(d.targets)) touched.add(appId);
      this.finishDeployment(d, 'canceled', 'replaced by a forced change');
    }

    const version = this.nextVersion();
    const targets: DeploymentRecord['targets'] = {};
    for (const c of changes) {
      const current = this.apps.get(c.id)?.def ?? null;
      if (!current && !c.to) throw notFound(`App '${c.id}' does not exist`);
      targets[c.id] = { from: current, to: c.to ? { ...c.to, version } : null };
    }
    const steps = this.plan(targets, opts.groupDependencies);
    const view: DeploymentView = {
      id: randomUUID(),
      version,
      affectedApps: Object.keys(targets).sort(),
      steps,
      currentStep: steps.length ? 1 : 0,
      status: 'running',
      startedAt: now,
    };
    const record: DeploymentRecord = { view, targets };
    // the new definitions take effect now; the deployment moves the instances there
    for (const [id, t] of Object.entries(targets)) {
      if (!t.to) continue;
      const prev = this.apps.get(id);
      const scaleOnly = !!prev && isScaleOnly(prev.def, t.to);
      const rec: AppRecord = {
        def: t.to,
        versionInfo: {
          lastScalingAt: new Date(now).toISOString(),
          lastConfigChangeAt: scaleOnly && prev ? prev.versionInfo.lastConfigChangeAt : version,
        },
        // a new configuration starts without the old one's launch delay
        backoff: scaleOnly && prev ? prev.backoff : { failures: 0, delayUntil: 0, countedUntil: now },
        ...(prev?.lastTaskFailure ? { lastTaskFailure: prev.lastTaskFailure } : {}),
      };
      this.apps.set(id, rec);
      this.saveApp(rec);
      this.master.putDoc(VERSIONS, `${id} ${version}`, rec.def);
      const list = this.versionIndex.get(id) ?? [];
      list.push(version);
      this.versionIndex.set(id, list);
      this.pruneVersions(id);
    }
    this.addDeployment(record);
    this.master.putDoc(DEPLOYMENTS, view.id, record);
    this.master.publish({ kind: 'deployment', op: 'put', id: view.id, data: view });
    for (const id of touched) this.touch(id);
    this.publishViews(touched);
    await this.master.commit();
    this.scheduleTick();
    return view;
  }

  /** Roll back (default): a new deployment to where the apps were; `force`: just stop it. */
  async cancelDeployment(id: string, opts: { force?: boolean } = {}): Promise<DeploymentView | undefined> {
    const d = this.deployments.get(id);
    if (!d || d.view.status !== 'running') throw notFound(`DeploymentPlan ${id} does not exist`);
    this.finishDeployment(d, 'canceled', opts.force ? 'stopped by request' : 'rolled back by request');
    if (opts.force) {
      await this.master.commit();
      return undefined;
    }
    return this.deploy(Object.entries(d.targets).map(([appId, t]) => ({ id: appId, to: t.from })), { force: true });
  }

  /** Kill instances of an app; with `scale` the target shrinks by as many (Marathon's ?scale=true). */
  async killInstances(appId: string, taskIds: string[], opts: { scale?: boolean; wipe?: boolean } = {}): Promise<{ killed: TaskView[]; deployment?: DeploymentView }> {
    const app = this.requireApp(appId);
    const mine = new Map(this.tasksOf(appId).map((t) => [t.id, t]));
    const killed: TaskView[] = [];
    for (const id of taskIds) {
      const t = mine.get(id);
      if (!t) throw notFound(`Task '${id}' of app '${appId}' does not exist`);
      killed.push(t);
    }
    for (const t of killed) this.kill(t.id);
    if (opts.scale) {
      const to = { ...app.def, instances: Math.max(0, app.def.instances - killed.length) };
      const deployment = await this.deploy([{ id: appId, to }], { force: true });
      return { killed, deployment };
    }
    await this.master.commit();
    return { killed };
  }

  // -------------------------------------------------------------------------------------------
  // The loop

  scheduleTick(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    const run = () => {
      this.delayedTick = undefined;
      this.tickScheduled = false;
      const start = performance.now();
      try {
        this.tick();
      } catch (err) {
        this.log('error', `services tick failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      this.lastTickMs = performance.now() - start;
    };
    // A tick decides again only about apps whose tasks or definitions changed, and places what
    // they want on the offers held. When that takes long (a burst of thousands of launches), the
    // next one waits as long as the last took, so updates and API calls get at least half of
    // the time and the next tick handles all of them at once, instead of one tick per update.
    if (this.lastTickMs < TICK_DELAY_ABOVE_MS) setImmediate(run);
    else this.delayedTick = setTimeout(run, Math.min(this.lastTickMs, 1000));
  }

  private tick(): void {
    if (!this.subscribedOnce) return;
    const now = this.now();
    this.refresh();
    const wants = new Map<string, number>();

    // deployments first: each app in a running step is driven by its action
    const driven = new Set<string>();
    for (const d of [...this.deployments.values()]) {
      if (d.view.status !== 'running') continue;
      const step = d.view.steps[d.view.currentStep - 1];
      if (!step) {
        this.finishDeployment(d, 'success');
        continue;
      }
      let stepDone = true;
      for (const action of step) {
        driven.add(action.app);
        const decision = this.decision(action.app, action.action, d.targets[action.app]?.to ?? null, now);
        this.carryOut(action.app, decision, wants);
        if (!decision.done) stepDone = false;
        if (action.action === 'StopApplication' && decision.done) this.removeApp(action.app);
      }
      // actions of later steps do not start until this one holds, but their apps keep their instances
      for (const later of d.view.steps.slice(d.view.currentStep)) for (const a of later) driven.add(a.app);
      if (stepDone) {
        if (d.view.currentStep >= d.view.steps.length) this.finishDeployment(d, 'success');
        else this.advance(d);
      }
    }
    for (const app of this.apps.values()) {
      if (driven.has(app.def.id)) continue;
      this.carryOut(app.def.id, this.decision(app.def.id, 'converge', undefined, now), wants);
    }
    this.launch(wants, now);
    this.publishViews(this.unpublished);
  }

  /**
   * What to do about an app now. Decided again only when something it depends on changed
   * since the last decision (its tasks, its definition, the instances being killed, the action
   * that drives it) or, for apps with instances in limbo, every time (the clock matters there);
   * otherwise the last decision stands, so a tick costs what changed, not every task.
   */
  private decision(appId: string, action: DeploymentActionName | 'converge', to: AppDefinition | null | undefined, now: number): Decision {
    const last = this.decisions.get(appId);
    if (last && last.action === action && last.to === to && !this.undecided.has(appId) && !this.clocked.has(appId)) return last.decision;
    this.undecided.delete(appId);
    const tasks = this.appTaskList(appId);
    if (tasks.some((t) => !isTerminal(t.state) && isLimbo(t.state))) this.clocked.add(appId);
    else this.clocked.delete(appId);
    let decision: Decision;
    if (action === 'converge') {
      const app = this.apps.get(appId)!;
      decision = converge(this.instances(app, tasks, now), app.def.instances, app.versionInfo.lastConfigChangeAt, app.def.killSelection as KillSelection);
    } else {
      decision = this.decide(action, appId, to ?? null, tasks, now);
    }
    this.decisions.set(appId, { action, to, decision });
    return decision;
  }

  private decide(action: DeploymentActionName, appId: string, to: AppDefinition | null, tasks: TaskView[], now: number): Decision {
    const app = this.apps.get(appId);
    if (action === 'StopApplication' || !to || !app) {
      // done only when every instance has really ended; kill() ignores repeats
      return stopAll(tasks.filter((t) => !isTerminal(t.state)).map((t) => this.info(t, app, now)));
    }
    // instances carry the version of their configuration: a scale changes the app's version only
    const instances = this.instances(app, tasks, now);
    const config = app.versionInfo.lastConfigChangeAt;
    // a scale that cut a restart short (a forced change cancels the running deployment) finishes
    // it: converge alone would never be done while instances of the old configuration run
    if (action === 'RestartApplication' || instances.some((i) => i.counted && i.version !== config)) {
      return rollingRestart(instances, to.instances, config, to.upgradeStrategy, to.killSelection as KillSelection);
    }
    return converge(instances, to.instances, config, to.killSelection as KillSelection);
  }

  private carryOut(appId: string, decision: Decision, wants: Map<string, number>): void {
    for (const id of decision.kill) this.kill(id);
    if (decision.launch > 0) wants.set(appId, decision.launch);
  }

  private kill(taskId: string): void {
    if (this.killing.has(taskId)) return;
    this.killing.add(taskId);
    const appId = this.master.getTask(taskId)?.labels[APP_ID_LABEL] ?? '';
    // the instance no longer counts toward its app's target
    this.touch(appId);
    const app = this.apps.get(appId);
    const grace = app?.def.taskKillGracePeriodSeconds;
    try {
      this.master.kill(SERVICES_FRAMEWORK_ID, taskId, grace !== undefined && grace !== null ? grace * 1000 : undefined);
    } catch (err) {
      this.log('warn', `kill of ${taskId} failed: ${String(err)}`);
    }
  }

  private instances(app: AppRecord, tasks: TaskView[], now: number): InstanceInfo[] {
    return tasks.filter((t) => !isTerminal(t.state)).map((t) => this.info(t, app, now));
  }

  private info(t: TaskView, app: AppRecord | undefined, now: number): InstanceInfo {
    const checked = (app?.def.healthChecks.length ?? 0) > 0;
    const strategy = app?.def.unreachableStrategy;
    const unreachable = t.state === 'TASK_UNREACHABLE' || t.state === 'TASK_UNKNOWN';
    const away = unreachable ? now - t.updatedAt : 0;
    const enabled = !!strategy && strategy !== 'disabled';
    const inactive = enabled && unreachable && away >= strategy.inactiveAfterSeconds * 1000;
    const expunge = enabled && unreachable && away >= strategy.expungeAfterSeconds * 1000;
    return {
      taskId: t.id,
      version: t.labels[APP_VERSION_LABEL] ?? '',
      ready: t.state === 'TASK_RUNNING' && (!checked || t.healthy === true),
      counted: !inactive && !this.killing.has(t.id) && t.state !== 'TASK_KILLING',
      expunge: expunge && !this.killing.has(t.id),
      killing: this.killing.has(t.id) || t.state === 'TASK_KILLING',
      createdAt: t.createdAt,
    };
  }

  /** Match wanted launches with the offers held; decline the rest; suppress when idle. */
  private launch(wants: Map<string, number>, now: number): void {
    for (const id of [...this.queue.keys()]) {
      if (wants.has(id)) continue;
      this.queue.delete(id);
      this.askedFor.delete(id);
      this.unpublished.add(id);
    }
    const pending = [...wants.values()].reduce((a, b) => a + b, 0);
    // the master's record is the truth: it survives a restart, a flag of ours would not
    const suppressed = this.master.getFramework(SERVICES_FRAMEWORK_ID)?.suppressed ?? false;
    if (pending > 0 && suppressed) this.master.revive(SERVICES_FRAMEWORK_ID);
    const offers: PlacementOffer[] = [...this.heldOffers.values()].map((o) => ({
      offerId: o.id,
      agentId: o.agentId,
      hostname: o.hostname,
      attributes: o.attributes,
      resources: o.resources,
    }));
    const launches = new Map<string, TaskLaunch[]>();
    // one pool per cycle: what one app takes is gone for the next
    const pool = new OfferPool(offers);
    const room = new ClusterRoom(this.rooms, offers, this.askCursor);
    /**
     * Agents with room that made no offer at hand, asked for at once (`master.offerNow`) rather
     * than in the next allocation cycle: for GROUP_BY apps those of the values they wait for,
     * for the others some agents the instances still to place fit on (at most every
     * offerNowEveryMs, OFFER_NOW_EVERY_MS by default).
     */
    const wanted = new Set<string>();
    const askNow = performance.now();
    const mayAsk = askNow - this.offerNowAt >= this.offerNowEveryMs;
    /**
     * An app that never had an ask in this wait would have asked but for the rate limit: the
     * ask is made on a timer when the limit allows. One that had an ask and still waits (its
     * constraints or ports refused the agents asked for) asks again at the next tick that
     * comes (the periodic one at the latest), not every time the limit allows.
     */
    let heldBack = false;
    /** Apps whose agents are in `wanted`. */
    const askers: string[] = [];
    const ask = (appId: string, def: AppDefinition, n: number, roomy: ReadonlyMap<string, ReadonlySet<string>> | undefined) => {
      const before = wanted.size;
      if (roomy) room.agentsFor(def, roomy, n, wanted);
      else if (mayAsk) room.anyAgentsFor(def, n, wanted);
      if (wanted.size > before) askers.push(appId);
      if (!mayAsk && !this.askedFor.has(appId)) heldBack = true;
    };
    for (const [appId, count] of [...wants].sort(([a], [b]) => a.localeCompare(b))) {
      const app = this.apps.get(appId)!;
      const entry = this.queue.get(appId) ?? { appId, count, since: now, offersProcessed: 0, reasons: {} };
      entry.count = count;
      this.queue.set(appId, entry);
      // waiting (and why, and until when) is part of the app's view
      this.unpublished.add(appId);
      if (app.backoff.delayUntil > now) {
        entry.delayUntil = app.backoff.delayUntil;
        continue;
      }
      delete entry.delayUntil;
      const def = app.def;
      const roomy = now - entry.since < GROUP_WAIT_MS ? room.roomyValues(def) : undefined;
      if (offers.length === 0) {
        // nothing at hand: a GROUP_BY app asks for agents of every value with room, another for agents it fits on
        ask(appId, def, count, roomy);
        continue;
      }
      const existing: Array<{ hostname: string; attributes: Readonly<Record<string, string>> }> = [];
      for (const t of this.appTaskList(appId)) {
        if (isTerminal(t.state) || this.killing.has(t.id)) continue;
        const a = this.master.agentPlace(t.agentId);
        if (a) existing.push(a);
      }
      const result = pool.place(
        {
          cpus: def.cpus,
          mem: def.mem,
          disk: def.disk,
          ports: def.portDefinitions.map((p) => (def.requirePorts ? p.port : 0)),
          constraints: def.constraints,
          ...(def.container && (def.container as { type?: string }).type === 'DOCKER' ? { requires: ['docker'] } : {}),
        },
        existing,
        count,
        roomy ? { roomy } : {},
      );
      if (result.placements.length < count) ask(appId, def, count - result.placements.length, roomy);
      entry.offersProcessed += offers.length;
      for (const [reason, n] of Object.entries(result.reasonCounts)) entry.reasons[reason] = (entry.reasons[reason] ?? 0) + (n ?? 0);
      const tpl = result.placements.length > 0 ? this.launchTemplate(app) : undefined;
      for (const p of result.placements) {
        const list = launches.get(p.offerId) ?? [];
        const launch = this.taskLaunch(tpl!, p.agentId, p.hostname, p.resources, p.ports);
        this.noteTask(appId, launch.taskId);
        list.push(launch);
        launches.set(p.offerId, list);
      }
    }
    for (const [offerId, list] of launches) {
      this.heldOffers.delete(offerId);
      this.master.accept(SERVICES_FRAMEWORK_ID, [offerId], list, WAITING_REFUSE_SECONDS).catch((err: unknown) => {
        this.log('warn', `launch on offer ${offerId} failed: ${err instanceof ApiError ? `${err.message} ${JSON.stringify(err.details)}` : String(err)}`);
        this.scheduleTick();
      });
    }
    if (wanted.size > 0 && mayAsk) {
      this.offerNowAt = askNow;
      this.master.offerNow(SERVICES_FRAMEWORK_ID, wanted);
      for (const id of askers) this.askedFor.add(id);
    } else if (heldBack && !this.askTimer) {
      // An app's first ask, held back by the rate limit: made when the limit allows, not when
      // something else wakes the loop. Instances posted just after an ask would otherwise wait
      // for the next allocation cycle (1 s by default); in bench/api-reads the last apps did.
      this.askTimer = setTimeout(() => {
        this.askTimer = undefined;
        this.scheduleTick();
      }, Math.max(1, this.offerNowAt + this.offerNowEveryMs - askNow));
      this.askTimer.unref();
    }
    const unused = [...this.heldOffers.keys()];
    this.heldOffers.clear();
    if (unused.length) {
      try {
        // while something waits, look again soon; otherwise let others have the agents for a while
        this.master.decline(SERVICES_FRAMEWORK_ID, unused, pending > 0 ? WAITING_REFUSE_SECONDS : IDLE_REFUSE_SECONDS);
      } catch (err) {
        this.log('warn', `decline failed: ${String(err)}`);
      }
    }
    if (pending === 0 && !suppressed) {
      this.master.suppress(SERVICES_FRAMEWORK_ID);
    }
  }

  /** What every instance of the app launched now shares: made once per app and launch cycle. */
  private launchTemplate(app: AppRecord): LaunchTemplate {
    const def = app.def;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(def.env)) if (typeof v === 'string') env[k] = v;
    Object.assign(env, {
      MARATHON_APP_ID: def.id,
      MARATHON_APP_VERSION: def.version!,
      MARATHON_APP_RESOURCE_CPUS: String(def.cpus),
      MARATHON_APP_RESOURCE_MEM: String(def.mem),
      MARATHON_APP_RESOURCE_DISK: String(def.disk),
      MARATHON_APP_LABELS: Object.keys(def.labels).join(' '),
    });
    const uris: TaskLaunch['command']['uris'] = def.fetch.map((f) => ({ value: f.uri, extract: f.extract, executable: f.executable, cache: f.cache }));
    const command: Omit<TaskLaunch['command'], 'env'> =
      def.cmd !== undefined && def.cmd !== null
        ? { value: def.cmd, shell: true, uris }
        : { value: def.args?.[0] ?? 'true', shell: false, args: def.args?.slice(1) ?? [], uris };
    if (def.user) command.user = def.user;
    const grace = def.taskKillGracePeriodSeconds;
    return {
      idPrefix: `${def.id.slice(1).replace(/\//g, '_')}.`,
      name: def.id.split('/').pop() || def.id,
      env,
      portEnv: def.portDefinitions.map((p) => (p.name ? `PORT_${p.name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}` : undefined)),
      command,
      labels: { ...def.labels, [APP_ID_LABEL]: def.id, [APP_VERSION_LABEL]: app.versionInfo.lastConfigChangeAt },
      ...(grace !== undefined && grace !== null ? { killGracePeriodMs: grace * 1000 } : {}),
      healthChecks: toHealthCheckSpecs(def),
    };
  }

  private taskLaunch(tpl: LaunchTemplate, agentId: string, hostname: string, resources: TaskLaunch['resources'], ports: number[]): TaskLaunch {
    const env: Record<string, string> = { ...tpl.env, HOST: hostname };
    for (let i = 0; i < tpl.portEnv.length; i++) {
      const name = tpl.portEnv[i];
      if (name !== undefined && ports[i] !== undefined) env[name] = String(ports[i]);
    }
    return {
      taskId: tpl.idPrefix + randomUUID(),
      name: tpl.name,
      agentId,
      resources,
      // the labels, uris and health checks are shared by the instances launched together: nobody changes them
      command: tpl.command.args
        ? { value: tpl.command.value, shell: tpl.command.shell, args: tpl.command.args, env, uris: tpl.command.uris, ...(tpl.command.user ? { user: tpl.command.user } : {}) }
        : { value: tpl.command.value, shell: tpl.command.shell, env, uris: tpl.command.uris, ...(tpl.command.user ? { user: tpl.command.user } : {}) },
      labels: tpl.labels,
      ...(tpl.killGracePeriodMs !== undefined ? { killGracePeriodMs: tpl.killGracePeriodMs } : {}),
      healthChecks: tpl.healthChecks,
    };
  }


  // -------------------------------------------------------------------------------------------
  // Deployments

  private plan(targets: DeploymentRecord['targets'], groupDependencies: Record<string, string[]> = {}): DeploymentView['steps'] {
    const actionOf = (t: { from: AppDefinition | null; to: AppDefinition | null }): DeploymentActionName =>
      !t.to ? 'StopApplication' : !t.from ? 'StartApplication' : isScaleOnly(t.from, t.to) ? 'ScaleApplication' : 'RestartApplication';
    const starting = Object.entries(targets).filter(([, t]) => t.to).map(([, t]) => t.to!);
    const stopping = Object.entries(targets).filter(([, t]) => !t.to).map(([id]) => id);
    const steps: DeploymentView['steps'] = [];
    // dependencies on apps outside this deployment are already met; on a group, mean its apps
    let tree: GroupDefinition | undefined;
    const dependencyOrder = (defs: AppDefinition[]): ReturnType<typeof orderByDependencies> => {
      // without any dependencies every app goes in one step: no need for the tree of all apps
      if (defs.every((d) => d.dependencies.length === 0) && Object.values(groupDependencies).every((l) => l.length === 0)) {
        return { ok: true, order: [defs.map((d) => d.id).sort()] };
      }
      tree ??= treeOf([...[...this.apps.values()].map((a) => a.def), ...starting], groupDependencies);
      return orderByDependencies(defs, [tree]);
    };
    if (stopping.length) {
      // dependents stop before what they depend on
      const order = dependencyOrder(stopping.map((id) => this.apps.get(id)!.def));
      const waves = order.ok ? order.order : [stopping];
      for (const wave of [...waves].reverse()) steps.push(wave.map((app) => ({ action: 'StopApplication' as const, app })));
    }
    if (starting.length) {
      const order = dependencyOrder(starting);
      const waves = order.ok ? order.order : [starting.map((d) => d.id)];
      for (const wave of waves) steps.push(wave.map((app) => ({ action: actionOf(targets[app]!), app })));
    }
    return steps;
  }

  private advance(d: DeploymentRecord): void {
    d.view = { ...d.view, currentStep: d.view.currentStep + 1 };
    this.master.putDoc(DEPLOYMENTS, d.view.id, d);
    this.master.publish({ kind: 'deployment', op: 'patch', id: d.view.id, data: { currentStep: d.view.currentStep } });
  }

  private finishDeployment(d: DeploymentRecord, status: 'success' | 'failed' | 'canceled', message?: string): void {
    d.view = { ...d.view, status, endedAt: this.now(), ...(message ? { message } : {}) };
    this.deployments.delete(d.view.id);
    for (const appId of Object.keys(d.targets)) {
      this.deploymentsByApp.get(appId)?.delete(d);
      if (this.deploymentsByApp.get(appId)?.size === 0) this.deploymentsByApp.delete(appId);
      // no longer deploying
      this.unpublished.add(appId);
    }
    this.master.deleteDoc(DEPLOYMENTS, d.view.id);
    this.master.publish({ kind: 'deployment', op: 'patch', id: d.view.id, data: { status, endedAt: d.view.endedAt!, ...(message ? { message } : {}) } });
    this.master.publish({ kind: 'deployment', op: 'delete', id: d.view.id });
  }

  private removeApp(id: string): void {
    if (!this.apps.delete(id)) return;
    this.master.deleteDoc(APPS, id);
    for (const v of this.versionIndex.get(id) ?? []) this.master.deleteDoc(VERSIONS, `${id} ${v}`);
    this.versionIndex.delete(id);
    this.queue.delete(id);
    this.published.delete(id);
    this.decisions.delete(id);
    this.clocked.delete(id);
    this.master.publish({ kind: 'service', op: 'delete', id });
  }

  private saveApp(app: AppRecord): void {
    this.master.putDoc(APPS, app.def.id, app);
  }

  private pruneVersions(id: string): void {
    const list = this.versionIndex.get(id) ?? [];
    for (const v of list.splice(0, Math.max(0, list.length - MAX_VERSIONS))) this.master.deleteDoc(VERSIONS, `${id} ${v}`);
  }

  private nextVersion(): string {
    const t = Math.max(this.now(), this.lastVersion + 1);
    this.lastVersion = t;
    return new Date(t).toISOString();
  }

  // -------------------------------------------------------------------------------------------
  // Views

  /** Takes in the master's task changes since the last look: their apps' lists and decisions are stale. */
  private refresh(): void {
    for (const id of this.changedTasks()) {
      let appId = this.taskApp.get(id);
      if (appId === undefined) {
        // not launched by this process (e.g. before a restart): its label says whose it is
        appId = this.master.getTask(id)?.labels[APP_ID_LABEL];
        if (!appId) continue;
        this.noteTask(appId, id);
      }
      this.appLists.delete(appId);
      this.touch(appId);
      const app = this.apps.get(appId);
      if (!app || this.countedFailures.has(id)) continue;
      const t = this.master.getTask(id);
      if (t && BACKOFF_STATES.has(t.state)) this.noteFailure(app, id, t.state, t.message, t.endedAt ?? t.updatedAt, t.labels[APP_VERSION_LABEL] ?? '');
    }
  }

  /** Something about the app changed: decide about it again and publish its view. */
  private touch(appId: string): void {
    this.undecided.add(appId);
    this.unpublished.add(appId);
  }

  /**
   * The tasks launched for an app (by its id label), oldest first; ids the master dropped are
   * forgotten. Kept until one of them changes in the master.
   */
  private appTaskList(appId: string): TaskView[] {
    this.refresh();
    const cached = this.appLists.get(appId);
    if (cached) return cached;
    const ids = this.appTasks.get(appId);
    const out: TaskView[] = [];
    if (ids) {
      for (const id of ids) {
        const t = this.master.getTask(id);
        if (t) out.push(t);
        else {
          ids.delete(id);
          this.taskApp.delete(id);
        }
      }
    }
    this.appLists.set(appId, out);
    return out;
  }

  private noteTask(appId: string, taskId: string): void {
    let ids = this.appTasks.get(appId);
    if (!ids) this.appTasks.set(appId, (ids = new Set()));
    ids.add(taskId);
    this.taskApp.set(taskId, appId);
    this.appLists.delete(appId);
  }

  private addDeployment(d: DeploymentRecord): void {
    this.deployments.set(d.view.id, d);
    for (const appId of Object.keys(d.targets)) {
      let set = this.deploymentsByApp.get(appId);
      if (!set) this.deploymentsByApp.set(appId, (set = new Set()));
      set.add(d);
    }
  }

  private view(app: AppRecord, all: readonly TaskView[]): ServiceView {
    const { running, staged, healthy, unhealthy, deployments } = this.counts(app.def.id, all);
    const queued = this.queue.get(app.def.id);
    const now = this.now();
    const delayed = queued && app.backoff.delayUntil > now;
    const status: ServiceView['status'] = deployments.length
      ? 'Deploying'
      : delayed
        ? 'Delayed'
        : queued
          ? 'Waiting'
          : app.def.instances === 0 && running === 0
            ? 'Suspended'
            : 'Running';
    const reasons = queued ? Object.entries(queued.reasons).sort((a, b) => b[1] - a[1]) : [];
    const waiting = delayed
      ? `delayed until ${new Date(app.backoff.delayUntil).toISOString()} after ${app.backoff.failures} failed launch(es)`
      : queued && queued.offersProcessed > 0 && reasons.length
        ? `waiting: no agent can take it — ${reasons.map(([r, n]) => `${REASON_TEXT[r] ?? r} (${n} offer${n === 1 ? '' : 's'})`).join('; ')}`
        : queued
          ? 'waiting for offers'
          : undefined;
    return {
      id: app.def.id,
      version: app.def.version!,
      instances: app.def.instances,
      cpus: app.def.cpus,
      mem: app.def.mem,
      disk: app.def.disk,
      ...(app.def.cmd ? { cmd: app.def.cmd } : {}),
      labels: app.def.labels,
      status,
      tasksStaged: staged,
      tasksRunning: running,
      tasksHealthy: healthy,
      tasksUnhealthy: unhealthy,
      healthChecked: app.def.healthChecks.length > 0,
      deployments,
      ...(waiting ? { waiting } : {}),
      ...(delayed ? { delayedUntil: app.backoff.delayUntil } : {}),
      ...(app.lastTaskFailure ? { lastTaskFailure: { taskId: app.lastTaskFailure.taskId, state: app.lastTaskFailure.state, message: app.lastTaskFailure.message, timestamp: app.lastTaskFailure.timestamp } } : {}),
    };
  }

  /** Publish those of these apps whose view changed since last time (the stream sends only what changed). */
  private publishViews(ids: Iterable<string>): void {
    for (const id of [...ids]) {
      this.unpublished.delete(id);
      const app = this.apps.get(id);
      if (!app) continue;
      const v = this.view(app, this.appTaskList(app.def.id));
      const json = JSON.stringify(v);
      const before = this.published.get(app.def.id);
      if (before === json) continue;
      this.published.set(app.def.id, json);
      if (!before) {
        this.master.publish({ kind: 'service', op: 'put', id: v.id, data: v });
        continue;
      }
      const old = JSON.parse(before) as Record<string, unknown>;
      const patch: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) if (JSON.stringify(old[k]) !== JSON.stringify(val)) patch[k] = val;
      for (const k of Object.keys(old)) if (!(k in v)) patch[k] = null;
      this.master.publish({ kind: 'service', op: 'patch', id: v.id, data: patch as Partial<ServiceView> });
    }
  }
}

/** The group tree implied by app ids (/a/b/app sits in group /a/b), last definition of an id wins. */
function treeOf(apps: AppDefinition[], groupDependencies: Record<string, string[]> = {}): GroupDefinition {
  const root: GroupDefinition = { id: '/', apps: [], groups: [], dependencies: [...(groupDependencies['/'] ?? [])] };
  const groups = new Map<string, GroupDefinition>([['/', root]]);
  const groupFor = (id: string): GroupDefinition => {
    const existing = groups.get(id);
    if (existing) return existing;
    const parentId = id.slice(0, id.lastIndexOf('/')) || '/';
    const g: GroupDefinition = { id, apps: [], groups: [], dependencies: [...(groupDependencies[id] ?? [])] };
    groups.set(id, g);
    groupFor(parentId).groups.push(g);
    return g;
  };
  const byId = new Map(apps.map((a) => [a.id, a]));
  for (const a of byId.values()) groupFor(a.id.slice(0, a.id.lastIndexOf('/')) || '/').apps.push(a);
  return root;
}

/** What an agent has left: its resources less what is allocated on it. */
interface Room {
  id: string;
  cpus: number;
  mem: number;
  disk: number;
}

const fits = (a: Room, def: AppDefinition): boolean => a.cpus >= def.cpus && a.mem >= def.mem && a.disk >= def.disk;

/** A connected, active agent's room, with what fields are read from. */
interface AgentRoom extends Room {
  hostname: string;
  attributes: Readonly<Record<string, string>>;
}

/**
 * The room of every connected, active agent, kept by the services framework and made again at
 * most every ROOM_FOR_MS: with 10,000 agents, reading them all at every launch cycle was ~3% of
 * the master's time while placing. What it holds is a hint (which agents to ask for, which
 * GROUP_BY values to wait for); the offers that come decide.
 */
class AgentRooms {
  private at = -Infinity;
  private list: AgentRoom[] = [];
  private readonly byField = new Map<string, Map<string, AgentRoom[]>>();

  constructor(private readonly master: Master) {}

  all(): readonly AgentRoom[] {
    this.refresh();
    return this.list;
  }

  field(field: string): ReadonlyMap<string, readonly AgentRoom[]> {
    this.refresh();
    let byValue = this.byField.get(field);
    if (byValue) return byValue;
    byValue = new Map();
    this.byField.set(field, byValue);
    for (const a of this.list) {
      const value = fieldValue(a, field);
      if (value === undefined) continue;
      const list = byValue.get(value);
      if (list) list.push(a);
      else byValue.set(value, [a]);
    }
    return byValue;
  }

  private refresh(): void {
    const now = performance.now();
    if (now - this.at < ROOM_FOR_MS) return;
    this.at = now;
    this.byField.clear();
    const list: AgentRoom[] = [];
    for (const a of this.master.agentRecords()) {
      if (a.state !== 'ACTIVE' || !this.master.isAgentConnected(a.id)) continue;
      list.push({
        id: a.id,
        hostname: a.hostname,
        attributes: a.attributes,
        cpus: a.resources.cpus - a.allocated.cpus,
        mem: a.resources.mem - a.allocated.mem,
        disk: a.resources.disk - a.allocated.disk,
      });
    }
    this.list = list;
  }
}

/**
 * Per GROUP_BY field, the values whose agents have room for an instance though none of them made
 * an offer at hand (their offers were declined a moment ago, or come in the next cycle): placement
 * spreads over those values too instead of piling onto the values it has offers from. Made once
 * per launch cycle, over the framework's AgentRooms.
 */
class ClusterRoom {
  private readonly offered: ReadonlySet<string>;
  private readonly memo = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly rooms: AgentRooms,
    offers: readonly PlacementOffer[],
    private readonly cursor: { at: number },
  ) {
    this.offered = new Set(offers.map((o) => o.agentId));
  }

  roomyValues(def: AppDefinition): Map<string, ReadonlySet<string>> | undefined {
    let out: Map<string, ReadonlySet<string>> | undefined;
    for (const c of def.constraints) {
      if (c.operator !== 'GROUP_BY') continue;
      const key = `${c.field}\0${def.cpus}\0${def.mem}\0${def.disk}`;
      let values = this.memo.get(key);
      if (!values) {
        const found = new Set<string>();
        for (const [value, agents] of this.rooms.field(c.field)) {
          if (agents.some((a) => this.free(a, def))) found.add(value);
        }
        this.memo.set(key, (values = found));
      }
      if (values.size > 0) (out ??= new Map()).set(c.field, values);
    }
    return out;
  }

  /**
   * Adds to `into` agents with room for the app in each of its roomy values, that its
   * constraints could accept (`hostTest`): enough for the instances still to place, spread over
   * the values (at most 16 a value).
   */
  agentsFor(def: AppDefinition, roomy: ReadonlyMap<string, ReadonlySet<string>>, missing: number, into: Set<string>): void {
    const mayHost = hostTest(def.constraints);
    for (const [field, values] of roomy) {
      const per = Math.min(16, Math.ceil(missing / values.size));
      const byValue = this.rooms.field(field);
      for (const value of values) {
        let n = 0;
        for (const a of byValue.get(value) ?? []) {
          if (n >= per) break;
          if (this.free(a, def) && mayHost(a)) {
            into.add(a.id);
            n++;
          }
        }
      }
    }
  }

  /**
   * Adds to `into` agents with room for one more instance of the app, beyond those already
   * there, that its constraints could accept (`hostTest`: the ones that look at the agent alone;
   * the counted ones are left to the offers that come): as many as the instances still to
   * place, at most ASK_PER_APP for the app and ASK_AT_MOST in all, looking at ASK_SCAN_AT_MOST
   * agents at most.
   */
  anyAgentsFor(def: AppDefinition, missing: number, into: Set<string>): void {
    const all = this.rooms.all();
    if (all.length === 0) return;
    let n = 0;
    const want = Math.min(missing, ASK_PER_APP);
    const scan = Math.min(all.length, ASK_SCAN_AT_MOST);
    const mayHost = hostTest(def.constraints);
    // from where the last app stopped: the apps of one cycle ask for different agents
    for (let seen = 0; seen < scan && n < want && into.size < ASK_AT_MOST; seen++) {
      const a = all[this.cursor.at++ % all.length]!;
      if (into.has(a.id) || !this.free(a, def) || !mayHost(a)) continue;
      into.add(a.id);
      n++;
    }
  }

  /** Made no offer at hand, and has room for an instance. */
  private free(a: AgentRoom, def: AppDefinition): boolean {
    return !this.offered.has(a.id) && fits(a, def);
  }
}
