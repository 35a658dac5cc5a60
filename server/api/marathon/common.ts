// What every Marathon route needs: the services framework, the master, the event bus for
// api_post_event, and the small readers of URL ids, flags and bodies.

import type { FastifyRequest } from 'fastify';
import type { Master } from '../../master/master.js';
import type { ServicesFramework } from '../../frameworks/services/services.js';
import { parsePathId, ROOT } from '../../frameworks/services/paths.js';
import { badRequest, invalid, isRecord, notFound } from '../errors.js';
import type { MarathonEvents } from './events.js';
import type { GroupStore } from './groups.js';

export interface Ctx {
  master: Master;
  services: ServicesFramework;
  events: MarathonEvents;
  groups: GroupStore;
}

/** `?force=true`, `?scale=1` …; anything but true/1/empty is false. */
export function flag(req: FastifyRequest, name: string): boolean {
  const v = (req.query as Record<string, unknown>)[name];
  const s = Array.isArray(v) ? String(v[v.length - 1]) : v === undefined ? undefined : String(v);
  return s === 'true' || s === '1' || s === '';
}

export function query(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? String(v[v.length - 1]) : String(v);
}

export function queryAll(req: FastifyRequest, name: string): string[] {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** The wildcard part of a route, segments decoded. */
export function wildcard(req: FastifyRequest): string[] {
  const raw = (req.params as Record<string, string | undefined>)['*'] ?? '';
  try {
    return raw.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw badRequest(`bad percent-encoding in ${req.url.split('?')[0]}`);
  }
}

/**
 * An id taken from the URL. A name that can never exist is a 404 when reading and a 422 (at
 * /id) when writing, so that a PUT of /Bad_ID reports the offending field.
 */
export function idFromSegments(segments: string[], mode: 'read' | 'write', what = 'App'): string {
  if (segments.length === 0) return ROOT;
  const r = parsePathId('/' + segments.join('/'));
  if (r.error !== undefined) {
    if (mode === 'read') throw notFound(`${what} '/${segments.join('/')}' does not exist`);
    throw invalid('Object is not valid', [{ path: '/id', errors: [r.error] }]);
  }
  return r.id;
}

export function requireBody(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw badRequest('the request body must be a JSON object', [{ path: '/', errors: ['expected a JSON object'] }]);
  return body;
}

/** Path of the request without its query, for api_post_event's `uri`. */
export const uriOf = (req: FastifyRequest): string => req.url.split('?')[0]!;
