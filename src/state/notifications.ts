// System notifications for trouble in the cluster, opt-in from Settings. They are derived from
// the store's stream while the dashboard is open (a tab or the installed window): a task that
// fails, a service that turns unhealthy, a job run that fails, an agent that becomes unreachable.
// They are shown through the service worker, whose notificationclick opens the object's view.
import { createContext } from '@lit/context';
import { nodeHref, serviceHref, taskHref } from './activity.js';
import type { ClusterState } from './cluster-state.js';
import { forEachChange } from './id-map.js';
import type { ConnectionInfo } from './cluster-store.js';
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

export const NOTIFICATIONS_KEY = 'yagura.notifications';

export type PermissionState = NotificationPermission | 'unsupported';

/** One notification to show. */
export interface Alert {
  readonly title: string;
  readonly body: string;
  /** Same-origin path of the object's view; opened when the notification is clicked. */
  readonly url: string;
  /** A later alert about the same object replaces the earlier one instead of piling up. */
  readonly tag: string;
}

/** More alerts than this from one change are summed up in one notification. */
const MAX_SEPARATE = 3;

/** The job view with the run open (as src/components/job-format.ts links runs). */
const runHref = (jobId: string, runId: string) => `/jobs/${encodeURIComponent(jobId)}?run=${encodeURIComponent(runId)}`;

const stateWord = (state: string) => state.replace(/^TASK_/, '').toLowerCase();

/**
 * Alerts for what turned bad from `prev` to `next`. A first state, or one from another master
 * run, is not news. Only objects whose identity changed are compared.
 */
export function diffAlerts(prev: ClusterState, next: ClusterState): Alert[] {
  if (!prev.loaded || !next.loaded || prev.epoch !== next.epoch || prev === next) return [];
  const alerts: Alert[] = [];

  forEachChange(prev.tasks, next.tasks, (id, before, after) => {
    if (!after || after.state !== 'TASK_FAILED' || before?.state === 'TASK_FAILED') return;
    const agent = next.agents.get(after.agentId)?.hostname;
    const why = after.message || (after.exitCode !== undefined ? `exit code ${after.exitCode}` : stateWord(after.state));
    alerts.push({
      title: `Task failed: ${after.name || id}`,
      body: `${why}${agent ? ` · on ${agent}` : ''}`,
      url: taskHref(id),
      tag: `task:${id}`,
    });
  });

  forEachChange(prev.services, next.services, (id, before, after) => {
    if (!before || !after || !after.healthChecked) return;
    if (before.tasksUnhealthy > 0 || after.tasksUnhealthy === 0) return;
    alerts.push({
      title: `Service unhealthy: ${id}`,
      body: `${after.tasksUnhealthy} of ${after.tasksRunning} running ${after.tasksRunning === 1 ? 'instance fails' : 'instances fail'} its health check.`,
      url: serviceHref(id),
      tag: `service:${id}`,
    });
  });

  forEachChange(prev.jobRuns, next.jobRuns, (id, before, after) => {
    // A skipped slot is recorded as FAILED without having run: not a failure to wake anyone for.
    if (!after || after.status !== 'FAILED' || after.skipped || before?.status === 'FAILED') return;
    alerts.push({
      title: `Job run failed: ${after.jobId}`,
      body: `${after.reason ?? 'failed'}${after.hostname ? ` · on ${after.hostname}` : ''}`,
      url: runHref(after.jobId, id),
      tag: `jobRun:${id}`,
    });
  });

  forEachChange(prev.agents, next.agents, (id, before, after) => {
    if (!before || !after || after.state !== 'UNREACHABLE' || before.state === 'UNREACHABLE') return;
    alerts.push({
      title: `Agent unreachable: ${after.hostname}`,
      body: 'It missed its heartbeats; its tasks are unreachable until it is back.',
      url: nodeHref(id),
      tag: `agent:${id}`,
    });
  });

  if (alerts.length <= MAX_SEPARATE) return alerts;
  const shown = alerts.slice(0, MAX_SEPARATE).map((a) => a.title);
  return [
    {
      title: `${alerts.length} problems in the cluster`,
      body: `${shown.join('\n')}\n… and ${alerts.length - MAX_SEPARATE} more`,
      url: '/',
      tag: 'summary',
    },
  ];
}

/** The browser's Notification API, as far as this file needs it (tests pass a fake). */
export interface PermissionApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
}

function browserPermissionApi(): PermissionApi | undefined {
  const api = (globalThis as { Notification?: PermissionApi }).Notification;
  return api && typeof api.requestPermission === 'function' ? api : undefined;
}

/**
 * The opt-in (kept in this browser) and the browser's permission. Notifications are shown
 * only when both say yes. Refusing the permission leaves the opt-in off and nothing else.
 */
export class NotificationSetting {
  readonly #enabled: Writable<boolean>;
  readonly #permission: Writable<PermissionState>;
  /** The user asked for notifications in this browser. */
  readonly enabled: Readable<boolean>;
  readonly permission: Readable<PermissionState>;
  readonly #storage: Storage | undefined;
  readonly #api: PermissionApi | undefined;

  constructor(options: { storage?: Storage; api?: PermissionApi | null } = {}) {
    this.#storage = options.storage;
    this.#api = options.api === null ? undefined : (options.api ?? browserPermissionApi());
    let stored = false;
    try {
      stored = this.#storage?.getItem(NOTIFICATIONS_KEY) === 'on';
    } catch {
      // storage blocked: off
    }
    this.#enabled = new Writable(stored);
    this.#permission = new Writable<PermissionState>(this.#api ? this.#api.permission : 'unsupported');
    this.enabled = this.#enabled;
    this.permission = this.#permission;
  }

  /** Both the opt-in and the permission: what the notifier checks before showing anything. */
  get active(): boolean {
    // the opt-in first: reading the browser's permission is a round trip to the browser, and the
    // notifier asks on every change of the cluster
    if (!this.#enabled.value) return false;
    this.refresh();
    return this.#permission.value === 'granted';
  }

  /**
   * Turns notifications on. Asks the browser first when it has not been asked (call this from
   * a click: browsers ignore the question otherwise). Resolves with the permission; the opt-in
   * is kept only when it is granted.
   */
  async enable(): Promise<PermissionState> {
    if (!this.#api) return 'unsupported';
    let permission = this.#api.permission;
    if (permission === 'default') {
      try {
        permission = await this.#api.requestPermission();
      } catch {
        permission = this.#api.permission;
      }
    }
    this.#permission.set(permission);
    if (permission === 'granted') this.#store(true);
    return permission;
  }

  disable(): void {
    this.#store(false);
  }

  /** Reads the permission again: it can change in the browser's site settings at any time. */
  refresh(): void {
    if (this.#api) this.#permission.set(this.#api.permission);
  }

  #store(on: boolean): void {
    this.#enabled.set(on);
    try {
      if (on) this.#storage?.setItem(NOTIFICATIONS_KEY, 'on');
      else this.#storage?.removeItem(NOTIFICATIONS_KEY);
    } catch {
      // kept for this visit only
    }
  }
}

export type ShowAlert = (alert: Alert) => Promise<void>;

/**
 * Shows an alert through the service worker's registration (so a click reaches the worker's
 * notificationclick even when this page is gone). Without a worker (a development build), a
 * page notification whose click routes this page.
 */
export async function showAlert(alert: Alert): Promise<void> {
  const options: NotificationOptions = {
    body: alert.body,
    tag: alert.tag,
    icon: '/icons/icon-192.png',
    data: { url: alert.url },
  };
  const registration = await globalThis.navigator?.serviceWorker?.getRegistration();
  if (registration?.active) {
    await registration.showNotification(alert.title, options);
    return;
  }
  const notification = new Notification(alert.title, options);
  notification.onclick = () => {
    window.focus();
    window.dispatchEvent(new CustomEvent('yg-open', { detail: { url: alert.url } }));
    notification.close();
  };
}

/**
 * Watches the store and shows alerts while the setting is active. Changes that arrive while the
 * link is not live (the first snapshot, a kept state, the catch-up after a reconnect) are taken
 * as the baseline, not announced.
 */
export class ClusterNotifier {
  readonly #cluster: Readable<ClusterState>;
  readonly #connection: Readable<ConnectionInfo>;
  readonly #setting: Pick<NotificationSetting, 'active'>;
  readonly #show: ShowAlert;
  #last: ClusterState;
  #unsubscribe: (() => void) | undefined;

  constructor(options: {
    cluster: Readable<ClusterState>;
    connection: Readable<ConnectionInfo>;
    setting: Pick<NotificationSetting, 'active'>;
    show?: ShowAlert;
  }) {
    this.#cluster = options.cluster;
    this.#connection = options.connection;
    this.#setting = options.setting;
    this.#show = options.show ?? showAlert;
    this.#last = options.cluster.value;
  }

  start(): void {
    if (this.#unsubscribe) return;
    this.#last = this.#cluster.value;
    this.#unsubscribe = this.#cluster.subscribe((next) => {
      const prev = this.#last;
      this.#last = next;
      // The store sets the state before it marks the link live: a change that brings the link
      // up is a snapshot or a catch-up, and the user is looking at the page anyway.
      if (this.#connection.value.status !== 'live' || !this.#setting.active) return;
      for (const alert of diffAlerts(prev, next)) {
        this.#show(alert).catch((error: unknown) => console.warn('Could not show a notification', error));
      }
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}

/** Settings reads and changes the opt-in through this; the shell provides it. */
export const notificationsContext = createContext<NotificationSetting>('yg-notifications');

declare global {
  interface WindowEventMap {
    /** Open a path of the dashboard in this page (a notification was clicked). */
    'yg-open': CustomEvent<{ url: string }>;
  }
}
