import type { ErrorBody } from '../../protocol/types.js';

/** A non-2xx answer from the master, carrying its `{message, details}` body when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody | undefined;

  constructor(status: number, body: ErrorBody | undefined, fallback: string) {
    super(body?.message ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

export interface Api {
  request<T>(path: string, init?: ApiRequest): Promise<T>;
  /** GET of a binary body (sandbox downloads), with the same auth and errors as `request`. */
  blob(path: string, init?: Pick<ApiRequest, 'signal'>): Promise<Blob>;
}

/**
 * REST helper for commands. The token is read on every call so a re-login takes effect at once;
 * `onUnauthorized` lets the store drop to the login form when the master refuses the token.
 */
export function createApi(options: {
  getToken: () => string | null;
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
  baseUrl?: string;
}): Api {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = options.baseUrl ?? '';
  const send = async (path: string, init: ApiRequest, accept: string): Promise<Response> => {
    const headers: Record<string, string> = { Accept: accept };
    const token = options.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await doFetch(`${base}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
      credentials: 'same-origin',
    });
    if (response.status === 401) options.onUnauthorized?.();
    return response;
  };
  const failure = (response: Response, text: string): ApiError => {
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const body =
      parsed && typeof parsed === 'object' && typeof (parsed as ErrorBody).message === 'string' ? (parsed as ErrorBody) : undefined;
    return new ApiError(response.status, body, `${response.status} ${response.statusText || 'request failed'}`);
  };
  return {
    async request<T>(path: string, init: ApiRequest = {}): Promise<T> {
      const response = await send(path, init, 'application/json');
      const text = await response.text();
      if (!response.ok) throw failure(response, text);
      try {
        return (text === '' ? undefined : JSON.parse(text)) as T;
      } catch {
        return undefined as T;
      }
    },
    async blob(path: string, init: Pick<ApiRequest, 'signal'> = {}): Promise<Blob> {
      const response = await send(path, init, '*/*');
      if (!response.ok) throw failure(response, await response.text());
      return response.blob();
    },
  };
}
