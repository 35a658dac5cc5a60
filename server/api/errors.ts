// One error type for every API. It carries the HTTP status and the documented body
// `{message, details[{path, errors[]}]}`; the fastify error handler turns anything else into it.

import type { ErrorBody, ErrorDetail } from '../../protocol/types.js';

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { message: this.message, details: this.details };
  }
}

export const badRequest = (message: string, details: ErrorDetail[] = []) => new ApiError(400, message, details);
export const notFound = (message: string, details: ErrorDetail[] = []) => new ApiError(404, message, details);
export const conflict = (message: string, details: ErrorDetail[] = []) => new ApiError(409, message, details);
export const invalid = (message: string, details: ErrorDetail[] = []) => new ApiError(422, message, details);
export const forbidden = (message: string) => new ApiError(403, message);
export const unauthorized = (message: string) => new ApiError(401, message);

/** Collects field errors with JSON-pointer paths, then throws one 422 (or the given status). */
export class Problems {
  private map = new Map<string, string[]>();

  add(path: string, error: string): this {
    const list = this.map.get(path);
    if (list) list.push(error);
    else this.map.set(path, [error]);
    return this;
  }

  addAll(details: ErrorDetail[]): this {
    for (const d of details) for (const e of d.errors) this.add(d.path, e);
    return this;
  }

  get empty(): boolean {
    return this.map.size === 0;
  }

  details(): ErrorDetail[] {
    return [...this.map].map(([path, errors]) => ({ path, errors }));
  }

  throwIfAny(message = 'Object is not valid', status: 400 | 422 = 422): void {
    if (!this.empty) throw new ApiError(status, message, this.details());
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
