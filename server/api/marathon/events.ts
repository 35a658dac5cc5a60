// /v2/events: Marathon's event bus as Server-Sent Events, derived from the master's one ordered
// event log (never from bookkeeping of its own), so a subscriber sees deployments and tasks in
// the order they were committed. A client whose unsent backlog passes the bound is cut off
// alone; the others are not slowed. api_post_event is the one event that is not a change of
// cluster state: the API routes hand it over after their write has committed.

import type { ClusterEvent, DeploymentView, TaskView } from '../../../protocol/types.js';
import type { Master } from '../../master/master.js';
import { APP_ID_LABEL, APP_VERSION_LABEL, type ServicesFramework } from '../../frameworks/services/services.js';
import { isServiceTask, iso, taskPorts } from './json.js';

/** Where a client's events go: an http.ServerResponse, or any stream in tests. */
export interface SseSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
  destroy(): void;
}

export interface MarathonEventsOptions {
  /** A client whose unsent bytes exceed this is disconnected. */
  maxBufferedBytes?: number;
  /** Comment lines keep idle connections (and the proxies between) open. */
  heartbeatMs?: number;
}

interface Client {
  out: SseSink;
  types: Set<string> | null;
  remoteAddress: string;
}

/** Marathon's instance conditions, by Mesos task state. */
const CONDITION: Record<TaskView['state'], string> = {
  TASK_STAGING: 'Staging',
  TASK_STARTING: 'Starting',
  TASK_RUNNING: 'Running',
  TASK_KILLING: 'Killing',
  TASK_FINISHED: 'Finished',
  TASK_FAILED: 'Failed',
  TASK_KILLED: 'Killed',
  TASK_ERROR: 'Error',
  TASK_LOST: 'Unreachable',
  TASK_UNREACHABLE: 'Unreachable',
  TASK_GONE: 'Gone',
  TASK_DROPPED: 'Dropped',
  TASK_UNKNOWN: 'Unknown',
};

function stepJson(d: DeploymentView, step: number): { actions: Array<{ action: string; app: string }> } {
  return { actions: (d.steps[step - 1] ?? []).map((a) => ({ action: a.action, app: a.app })) };
}

function planJson(d: DeploymentView): Record<string, unknown> {
  return {
    id: d.id,
    version: d.version,
    affectedApps: d.affectedApps,
    steps: d.steps.map((s) => ({ actions: s.map((a) => ({ action: a.action, app: a.app })) })),
  };
}

export class MarathonEvents {
  private clients = new Set<Client>();
  /** Deployments as the log has described them so far: patches are applied to these. */
  private deployments = new Map<string, DeploymentView>();
  private unsubscribe: () => void;
  private heartbeat: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;

  constructor(
    private master: Master,
    services: ServicesFramework,
    opts: MarathonEventsOptions = {},
  ) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    // Subscribing in the same turn as the read means no event falls between the two.
    for (const d of services.listDeployments()) this.deployments.set(d.id, d);
    this.unsubscribe = master.events.subscribe((batch) => this.onBatch(batch));
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Starts sending to `out`; `types` empty means every type. Returns the detach function. */
  add(out: SseSink, types: string[], remoteAddress: string): () => void {
    const client: Client = { out, types: types.length ? new Set(types) : null, remoteAddress };
    this.clients.add(client);
    this.publish('event_stream_attached', { remoteAddress });
    return () => {
      if (!this.clients.delete(client)) return;
      this.publish('event_stream_detached', { remoteAddress });
    };
  }

  /** After a successful app or group write (the write has committed). */
  apiPost(clientIp: string, uri: string, appDefinition: Record<string, unknown>): void {
    this.publish('api_post_event', { clientIp, uri, appDefinition });
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const c of this.clients) c.out.destroy();
    this.clients.clear();
  }

  private publish(type: string, payload: Record<string, unknown>, at = Date.now()): void {
    if (this.clients.size === 0) return;
    let frame: string | undefined;
    for (const c of [...this.clients]) {
      if (c.types && !c.types.has(type)) continue;
      frame ??= `event: ${type}\ndata: ${JSON.stringify({ ...payload, eventType: type, timestamp: iso(at) })}\n\n`;
      this.send(c, frame);
    }
  }

  private send(c: Client, frame: string): void {
    // judged on the backlog before this frame: a reader that keeps up has drained it by now
    if (c.out.writableLength > this.maxBufferedBytes) {
      this.clients.delete(c);
      c.out.destroy();
      return;
    }
    c.out.write(frame);
  }

  private beat(): void {
    for (const c of [...this.clients]) this.send(c, ': heartbeat\n\n');
  }

  private onBatch(batch: readonly ClusterEvent[]): void {
    for (const ev of batch) {
      try {
        this.translate(ev);
      } catch {
        // one odd event must not end the stream for everybody
      }
    }
  }

  private translate(ev: ClusterEvent): void {
    switch (ev.kind) {
      case 'deployment':
        return this.deployment(ev);
      case 'task':
        // task events keep no state here: with nobody listening there is nothing to render
        if (this.clients.size === 0) return;
        if (ev.op === 'put') return this.taskState(ev.data, ev.data.state, ev.data.message, ev.at);
        if (ev.op === 'patch') {
          const t = this.master.getTask(ev.id);
          if (!isServiceTask(t)) return;
          if (ev.data.state !== undefined) this.taskState(t, ev.data.state, ev.data.message ?? t.message, ev.at);
          if (ev.data.healthy !== undefined) {
            this.publish(
              'health_status_changed_event',
              {
                appId: t.labels[APP_ID_LABEL],
                taskId: t.id,
                instanceId: t.id,
                version: t.labels[APP_VERSION_LABEL] ?? null,
                alive: ev.data.healthy,
              },
              ev.at,
            );
          }
        }
        return;
      case 'service':
        if (ev.op === 'delete') this.publish('app_terminated_event', { appId: ev.id }, ev.at);
        return;
      default:
        return;
    }
  }

  private taskState(t: TaskView, state: TaskView['state'], message: string | undefined, at: number): void {
    if (!isServiceTask(t)) return;
    const host = this.master.getAgent(t.agentId)?.hostname ?? '';
    const appId = t.labels[APP_ID_LABEL]!;
    const version = t.labels[APP_VERSION_LABEL] ?? null;
    this.publish(
      'status_update_event',
      {
        slaveId: t.agentId,
        taskId: t.id,
        taskStatus: state,
        message: message ?? '',
        appId,
        host,
        ports: taskPorts(t),
        ipAddresses: [{ ipAddress: '127.0.0.1', protocol: 'IPv4' }],
        version,
      },
      at,
    );
    this.publish(
      'instance_changed_event',
      { instanceId: t.id, condition: CONDITION[state], runSpecId: appId, agentId: t.agentId, host, runSpecVersion: version },
      at,
    );
  }

  private deployment(ev: Extract<ClusterEvent, { kind: 'deployment' }>): void {
    if (ev.op === 'put') {
      this.deployments.set(ev.id, ev.data);
      this.publish('deployment_info', { plan: planJson(ev.data), currentStep: stepJson(ev.data, ev.data.currentStep) }, ev.at);
      return;
    }
    if (ev.op === 'delete') {
      this.deployments.delete(ev.id);
      return;
    }
    const prev = this.deployments.get(ev.id);
    if (!prev) return;
    const next: DeploymentView = { ...prev, ...ev.data };
    this.deployments.set(ev.id, next);
    if (ev.data.currentStep !== undefined && ev.data.currentStep !== prev.currentStep) {
      this.publish('deployment_step_success', { plan: planJson(prev), currentStep: stepJson(prev, prev.currentStep) }, ev.at);
      this.publish('deployment_info', { plan: planJson(next), currentStep: stepJson(next, next.currentStep) }, ev.at);
    }
    if (ev.data.status === 'success' && prev.status === 'running') {
      if (next.steps.length > 0 && next.currentStep >= 1) {
        this.publish('deployment_step_success', { plan: planJson(next), currentStep: stepJson(next, next.currentStep) }, ev.at);
      }
      this.publish('deployment_success', { id: next.id, plan: planJson(next) }, ev.at);
    } else if ((ev.data.status === 'failed' || ev.data.status === 'canceled') && prev.status === 'running') {
      this.publish('deployment_failed', { id: next.id, plan: planJson(next), reason: next.message ?? ev.data.status }, ev.at);
    }
  }
}
