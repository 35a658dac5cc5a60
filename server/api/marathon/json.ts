// Marathon's response shapes, built from Yagura's own records. Field names and nesting follow
// Marathon 1.x (docs/docs/rest-api/public/api/v2/types/*.raml) so that client libraries parse
// them unchanged; where Yagura has no such concept the field is present and empty.

import { isTerminal, type DeploymentView, type TaskView } from '../../../protocol/types.js';
import { expandPorts } from '../../agent/executor.js';
import type { Master } from '../../master/master.js';
import { appToJson, type AppDefinition } from '../../frameworks/services/app-definition.js';
import { APP_ID_LABEL, APP_VERSION_LABEL, SERVICES_FRAMEWORK_ID, type AppRecord, type QueueEntry, type ServicesFramework } from '../../frameworks/services/services.js';
import { badRequest } from '../errors.js';

export const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** The task's host ports in PORT0… order (the agent numbers them the same way). */
export function taskPorts(t: TaskView): number[] {
  return expandPorts(t.resources.ports ?? []);
}

export function isServiceTask(t: TaskView | undefined): t is TaskView {
  return !!t && t.frameworkId === SERVICES_FRAMEWORK_ID && !!t.labels[APP_ID_LABEL];
}

export function taskToJson(master: Master, t: TaskView, healthChecked: number): Record<string, unknown> {
  const host = master.agentHostname(t.agentId) ?? '';
  const out: Record<string, unknown> = {
    id: t.id,
    appId: t.labels[APP_ID_LABEL] ?? '',
    host,
    ports: taskPorts(t),
    slaveId: t.agentId,
    agentId: t.agentId,
    state: t.state,
    stagedAt: iso(t.createdAt),
    startedAt: iso(t.startedAt),
    version: t.labels[APP_VERSION_LABEL] ?? null,
    // Agents run on the master's machine for now; their tasks listen on loopback as well.
    ipAddresses: [{ ipAddress: '127.0.0.1', protocol: 'IPv4' }],
    // Yagura assigns no service ports (there is no Marathon-LB style port registry).
    servicePorts: [],
    localVolumes: [],
  };
  // The agent reports one verdict for all of a task's checks, so every check shows it.
  out.healthCheckResults =
    healthChecked > 0 && t.healthy !== undefined
      ? Array.from({ length: healthChecked }, () => ({
          alive: t.healthy,
          consecutiveFailures: t.healthy ? 0 : 1,
          firstSuccess: null,
          lastFailure: null,
          lastSuccess: null,
          lastFailureCause: null,
          instanceId: t.id,
          taskId: t.id,
        }))
      : [];
  return out;
}

export const APP_EMBEDS = ['tasks', 'counts', 'deployments', 'lastTaskFailure', 'taskStats', 'readiness', 'failures'] as const;
export type AppEmbed = (typeof APP_EMBEDS)[number];

/** `embed` query values with a prefix ("apps.", "app." or "group.apps.") turned into embed names. */
export function parseEmbeds(raw: unknown, prefixes: string[]): Set<AppEmbed> {
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  const out = new Set<AppEmbed>();
  for (const v of values) {
    for (const p of prefixes) {
      if (!v.startsWith(p)) continue;
      let name = v.slice(p.length);
      if (name === 'count') name = 'counts'; // Marathon's docs spell it both ways
      if ((APP_EMBEDS as readonly string[]).includes(name)) out.add(name as AppEmbed);
    }
  }
  if (out.has('failures')) for (const n of ['lastTaskFailure', 'tasks', 'counts', 'deployments'] as const) out.add(n);
  return out;
}

function statsOf(tasks: TaskView[], now: number): Record<string, unknown> | undefined {
  if (tasks.length === 0) return undefined;
  const lifetimes = tasks.filter((t) => t.startedAt !== undefined).map((t) => (now - t.startedAt!) / 1000).sort((a, b) => a - b);
  const counts = {
    staged: tasks.filter((t) => t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING').length,
    running: tasks.filter((t) => t.state === 'TASK_RUNNING').length,
    healthy: tasks.filter((t) => t.state === 'TASK_RUNNING' && t.healthy === true).length,
    unhealthy: tasks.filter((t) => t.state === 'TASK_RUNNING' && t.healthy === false).length,
  };
  const stats: Record<string, unknown> = { counts };
  if (lifetimes.length) {
    const mid = Math.floor(lifetimes.length / 2);
    stats.lifeTime = {
      averageSeconds: lifetimes.reduce((a, b) => a + b, 0) / lifetimes.length,
      medianSeconds: lifetimes.length % 2 ? lifetimes[mid] : (lifetimes[mid - 1]! + lifetimes[mid]!) / 2,
    };
  }
  return { stats };
}

/** An app as GET /v2/apps prints it: the definition, versionInfo, counts and deployments, plus embeds. */
export function appInfoJson(master: Master, services: ServicesFramework, rec: AppRecord, embed: Set<AppEmbed>): Record<string, unknown> {
  // the definition's own versionInfo (its last field) gives way to the record's, in its place
  return Object.assign(appToJson(rec.def), appInfoExtras(master, services, rec, embed));
}

/**
 * The definition part of an app's JSON, without versionInfo and the closing brace. A stored
 * definition is never changed in place (a change stores a new one), so its text is kept with it:
 * a list of 1,000 apps then writes only what moves, the counts and deployments.
 */
const definitionText = new WeakMap<AppDefinition, string>();
function definitionPrefix(def: AppDefinition): string {
  let text = definitionText.get(def);
  if (text === undefined) {
    const out = appToJson(def);
    delete out.versionInfo;
    text = JSON.stringify(out).slice(0, -1);
    definitionText.set(def, text);
  }
  return text;
}

/** appInfoJson's text: the same JSON, with the definition's part written once per definition. */
export function appInfoText(master: Master, services: ServicesFramework, rec: AppRecord, embed: Set<AppEmbed>): string {
  return `${definitionPrefix(rec.def)},${JSON.stringify(appInfoExtras(master, services, rec, embed)).slice(1)}`;
}

/** What appInfoJson adds to the definition: versionInfo first, then counts, deployments and embeds. */
function appInfoExtras(master: Master, services: ServicesFramework, rec: AppRecord, embed: Set<AppEmbed>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out.versionInfo = { lastScalingAt: rec.versionInfo.lastScalingAt, lastConfigChangeAt: rec.versionInfo.lastConfigChangeAt };
  const counts = services.appCounts(rec.def.id);
  // Marathon embeds counts and deployments whatever is asked; clients read them unconditionally.
  out.tasksStaged = counts.staged;
  out.tasksRunning = counts.running;
  out.tasksHealthy = counts.healthy;
  out.tasksUnhealthy = counts.unhealthy;
  out.deployments = counts.deployments.map((id) => ({ id }));
  const live = () => services.tasksOf(rec.def.id).filter((t) => !isTerminal(t.state));
  if (embed.has('tasks')) out.tasks = live().map((t) => taskToJson(master, t, rec.def.healthChecks.length));
  if (embed.has('readiness')) out.readinessCheckResults = [];
  if (embed.has('lastTaskFailure') && rec.lastTaskFailure) {
    const f = rec.lastTaskFailure;
    const agentId = master.getTask(f.taskId)?.agentId;
    out.lastTaskFailure = {
      appId: rec.def.id,
      host: (agentId && master.getAgent(agentId)?.hostname) ?? '',
      message: f.message,
      state: f.state,
      taskId: f.taskId,
      timestamp: iso(f.timestamp),
      version: f.version,
      slaveId: agentId ?? null,
    };
  }
  if (embed.has('taskStats')) {
    const tasks = live();
    const now = Date.now();
    const scaledAt = Date.parse(rec.versionInfo.lastScalingAt);
    const stats: Record<string, unknown> = {};
    const put = (name: string, list: TaskView[]) => {
      const s = statsOf(list, now);
      if (s) stats[name] = s;
    };
    put('startedAfterLastScaling', tasks.filter((t) => t.createdAt >= scaledAt));
    put('withLatestConfig', tasks.filter((t) => t.labels[APP_VERSION_LABEL] === rec.def.version));
    put('withOutdatedConfig', tasks.filter((t) => t.labels[APP_VERSION_LABEL] !== rec.def.version));
    put('totalSummary', tasks);
    out.taskStats = stats;
  }
  return out;
}

export function deploymentToJson(d: DeploymentView): Record<string, unknown> {
  const current = d.steps[d.currentStep - 1] ?? [];
  return {
    id: d.id,
    version: d.version,
    affectedApps: d.affectedApps,
    affectedPods: [],
    steps: d.steps.map((s) => ({ actions: s.map((a) => ({ action: a.action, app: a.app })) })),
    currentActions: current.map((a) => ({ action: a.action, app: a.app, readinessCheckResults: [] })),
    currentStep: d.currentStep,
    totalSteps: d.steps.length,
  };
}

/** Marathon's answer to every change that starts a deployment. */
export const deploymentResult = (d: DeploymentView): { version: string; deploymentId: string } => ({ version: d.version, deploymentId: d.id });

export function queueEntryToJson(services: ServicesFramework, q: QueueEntry, now: number): Record<string, unknown> | undefined {
  const rec = services.getApp(q.appId);
  if (!rec) return undefined;
  const app = appToJson(rec.def);
  app.versionInfo = { ...rec.versionInfo };
  const left = q.delayUntil !== undefined ? Math.max(0, Math.ceil((q.delayUntil - now) / 1000)) : 0;
  const declined = Object.values(q.reasons).reduce((a, b) => a + b, 0);
  const summary = Object.entries(q.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => ({ reason, declined: n, processed: q.offersProcessed }));
  return {
    app,
    count: q.count,
    delay: { timeLeftSeconds: left, overdue: left === 0 },
    since: iso(q.since),
    processedOffersSummary: {
      processedOffersCount: q.offersProcessed,
      // every offer that held no placement for this app was left unused by it
      unusedOffersCount: Math.min(q.offersProcessed, declined),
      rejectSummaryLastOffers: summary,
      rejectSummaryLaunchAttempt: summary,
    },
    lastUnusedOffers: [],
  };
}

// -------------------------------------------------------------------------------------------
// Label selectors (GET /v2/apps?label=…)

type Selector =
  | { kind: 'exists'; key: string }
  | { kind: 'eq' | 'ne'; key: string; value: string }
  | { kind: 'in' | 'notin'; key: string; values: string[] };

/** Splits on `sep` outside parentheses, honouring backslash escapes (kept for the next step). */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

const unescape = (s: string): string => s.trim().replace(/\\(.)/g, '$1');
const TOKEN = String.raw`(?:[-A-Za-z0-9_.]|\\.)+`;

/** Marathon's label selector: `key`, `key==v`, `key!=v`, `key in (a, b)`, `key notin (a, b)`, comma = and. */
export function parseLabelSelector(raw: string): Selector[] {
  const out: Selector[] = [];
  for (const part of splitTop(raw, ',')) {
    const term = part.trim();
    if (!term) continue;
    let m = new RegExp(`^(${TOKEN})\\s*(==|!=)\\s*(${TOKEN}|)$`).exec(term);
    if (m) {
      out.push({ kind: m[2] === '==' ? 'eq' : 'ne', key: unescape(m[1]!), value: unescape(m[3]!) });
      continue;
    }
    m = new RegExp(`^(${TOKEN})\\s+(in|notin)\\s*\\((.*)\\)$`).exec(term);
    if (m) {
      out.push({ kind: m[2] as 'in' | 'notin', key: unescape(m[1]!), values: splitTop(m[3]!, ',').map(unescape) });
      continue;
    }
    m = new RegExp(`^(${TOKEN})$`).exec(term);
    if (m) {
      out.push({ kind: 'exists', key: unescape(m[1]!) });
      continue;
    }
    throw badRequest(`invalid label selector: ${raw}`, [{ path: '?label', errors: [`cannot parse "${term}"`] }]);
  }
  return out;
}

export function labelsMatch(labels: Record<string, string>, selectors: Selector[]): boolean {
  return selectors.every((s) => {
    const has = Object.prototype.hasOwnProperty.call(labels, s.key);
    const v = labels[s.key];
    switch (s.kind) {
      case 'exists':
        return has;
      case 'eq':
        return has && v === s.value;
      case 'ne':
        return has && v !== s.value;
      case 'in':
        return has && s.values.includes(v!);
      case 'notin':
        return has && !s.values.includes(v!);
    }
  });
}
