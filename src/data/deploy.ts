// Installing a package at a place: Cosmos' /package/render and /package/install with Yagura's
// `constraints` extension (Marathon triples appended to the rendered app's own; service
// packages only). What the drag-and-drop launch and the "Deploy to…" menus send.
import type { Api } from '../state/api.js';
import type { InstallRequest, InstallResult, RenderResult } from './catalog.js';

export interface PlacedRequest extends InstallRequest {
  /** e.g. [["hostname", "CLUSTER", "node-1"]]; left out when empty. */
  constraints?: string[][];
}

const body = (request: PlacedRequest) => {
  const { constraints, ...rest } = request;
  return constraints?.length ? { ...rest, constraints } : rest;
};

export function renderPlaced(api: Api, request: PlacedRequest, signal?: AbortSignal): Promise<RenderResult> {
  return api.request<RenderResult>('/package/render', { method: 'POST', body: body(request), signal });
}

export function installPlaced(api: Api, request: PlacedRequest): Promise<InstallResult> {
  return api.request<InstallResult>('/package/install', { method: 'POST', body: body(request) });
}
