// Marathon's /v2 API as the dashboard uses it: commands and the few reads the stream does not
// carry (definitions, versions, the launch queue). Live state (status, counts, deployments)
// comes from the store; nothing here is polled.
import type { Api } from '../state/api.js';

/** An app definition as Marathon prints and takes it: known fields plus whatever else it has. */
export type AppDefinition = Record<string, unknown> & { id?: string };

/** Fields Marathon adds to an app when it prints it, which are not part of a definition. */
export const RUNTIME_FIELDS = [
  'version',
  'versionInfo',
  'tasks',
  'tasksStaged',
  'tasksRunning',
  'tasksHealthy',
  'tasksUnhealthy',
  'deployments',
  'lastTaskFailure',
  'readinessCheckResults',
  'taskStats',
] as const;

export interface AppTask {
  id: string;
  host: string;
  state: string;
  startedAt: string | null;
  version: string | null;
}

export interface QueueEntry {
  app: { id: string };
  count: number;
  delay: { timeLeftSeconds: number; overdue: boolean };
  since: string | null;
  processedOffersSummary?: {
    processedOffersCount: number;
    unusedOffersCount: number;
    rejectSummaryLastOffers: Array<{ reason: string; declined: number; processed: number }>;
  };
}

export interface DeploymentResult {
  version: string;
  deploymentId: string;
}

/** `/prod/web` → `/v2/apps/prod/web`, each segment escaped. */
export function appPath(id: string): string {
  return `/v2/apps/${id.split('/').filter(Boolean).map(encodeURIComponent).join('/')}`;
}

/** The definition part of an app as GET /v2/apps/{id} prints it, ready to edit or resubmit. */
export function definitionOf(app: Record<string, unknown>): AppDefinition {
  const out: AppDefinition = { ...app };
  for (const field of RUNTIME_FIELDS) delete out[field];
  return out;
}

const force = (yes: boolean | undefined) => (yes ? '?force=true' : '');

export async function getApp(api: Api, id: string, signal?: AbortSignal): Promise<AppDefinition & { tasks?: AppTask[] }> {
  const body = await api.request<{ app: AppDefinition & { tasks?: AppTask[] } }>(`${appPath(id)}?embed=app.tasks`, { signal });
  return body.app;
}

export function createApp(api: Api, definition: AppDefinition, options: { force?: boolean } = {}): Promise<AppDefinition> {
  return api.request<AppDefinition>(`/v2/apps${force(options.force)}`, { method: 'POST', body: definition });
}

/** Replaces the whole definition: fields left out go back to their defaults. */
export function replaceApp(api: Api, id: string, definition: AppDefinition, options: { force?: boolean } = {}): Promise<DeploymentResult> {
  const query = new URLSearchParams({ partialUpdate: 'false' });
  if (options.force) query.set('force', 'true');
  return api.request<DeploymentResult>(`${appPath(id)}?${query}`, { method: 'PUT', body: definition });
}

export function scaleApp(api: Api, id: string, instances: number, options: { force?: boolean } = {}): Promise<DeploymentResult> {
  return api.request<DeploymentResult>(`${appPath(id)}${force(options.force)}`, { method: 'PUT', body: { instances } });
}

export function restartApp(api: Api, id: string, options: { force?: boolean } = {}): Promise<DeploymentResult> {
  return api.request<DeploymentResult>(`${appPath(id)}/restart${force(options.force)}`, { method: 'POST' });
}

export function removeApp(api: Api, id: string, options: { force?: boolean } = {}): Promise<DeploymentResult> {
  return api.request<DeploymentResult>(`${appPath(id)}${force(options.force)}`, { method: 'DELETE' });
}

/** Newest first, as Marathon lists them. */
export async function listVersions(api: Api, id: string, signal?: AbortSignal): Promise<string[]> {
  const body = await api.request<{ versions: string[] }>(`${appPath(id)}/versions`, { signal });
  return body.versions;
}

export function getVersion(api: Api, id: string, version: string, signal?: AbortSignal): Promise<AppDefinition> {
  return api.request<AppDefinition>(`${appPath(id)}/versions/${encodeURIComponent(version)}`, { signal });
}

export function rollbackApp(api: Api, id: string, version: string, options: { force?: boolean } = {}): Promise<DeploymentResult> {
  return api.request<DeploymentResult>(`${appPath(id)}${force(options.force)}`, { method: 'PUT', body: { version } });
}

/** Cancels a deployment; Marathon then rolls the affected apps back (unless forced). */
export function cancelDeployment(api: Api, deploymentId: string, options: { force?: boolean } = {}): Promise<unknown> {
  return api.request(`/v2/deployments/${encodeURIComponent(deploymentId)}${force(options.force)}`, { method: 'DELETE' });
}

export async function getQueue(api: Api, signal?: AbortSignal): Promise<QueueEntry[]> {
  const body = await api.request<{ queue: QueueEntry[] }>('/v2/queue', { signal });
  return body.queue ?? [];
}
