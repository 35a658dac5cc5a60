// Yagura's own REST commands on agents and tasks. Their effects arrive over the stream.
import type { AgentView, FileEntry, TaskView } from '../../protocol/types.js';
import type { Api } from '../state/api.js';

const agentPath = (id: string) => `/api/v1/agents/${encodeURIComponent(id)}`;
const filesPath = (taskId: string, op: string, path: string) =>
  `/files/tasks/${encodeURIComponent(taskId)}/${op}?path=${encodeURIComponent(path)}`;

export function drainAgent(api: Api, id: string, options: { gracePeriodSeconds?: number } = {}): Promise<AgentView> {
  return api.request<AgentView>(`${agentPath(id)}/drain`, { method: 'POST', body: options });
}

export function reactivateAgent(api: Api, id: string): Promise<AgentView> {
  return api.request<AgentView>(`${agentPath(id)}/reactivate`, { method: 'POST', body: {} });
}

/** A task in full (command, environment, labels, ports, disk): the stream carries summaries only. */
export function getTask(api: Api, id: string, signal?: AbortSignal): Promise<TaskView> {
  return api.request<TaskView>(`/api/v1/tasks/${encodeURIComponent(id)}`, { signal });
}

export function killTask(api: Api, id: string): Promise<TaskView> {
  return api.request<TaskView>(`/api/v1/tasks/${encodeURIComponent(id)}/kill`, { method: 'POST', body: {} });
}

/** Entries of one sandbox directory; `path` is relative to the sandbox ("" is its root). */
export function browseSandbox(api: Api, taskId: string, path: string, signal?: AbortSignal): Promise<FileEntry[]> {
  return api.request<FileEntry[]>(filesPath(taskId, 'browse', path), { signal });
}

export function downloadSandboxFile(api: Api, taskId: string, path: string): Promise<Blob> {
  return api.blob(filesPath(taskId, 'download', path));
}

/** Hands a blob to the browser as a file download. */
export function saveBlob(blob: Blob, name: string, doc: Document = document): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  doc.body.append(a);
  a.click();
  a.remove();
  // The click starts the download synchronously; the URL can go right after.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
