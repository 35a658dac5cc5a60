// The JSON body parsing of the Marathon and Cosmos APIs, for an encapsulated fastify scope: an
// empty body is no body (their clients send Content-Type on every request), and `__proto__`
// keys are dropped, since those bodies are merged into defaults and stored definitions.

import type { FastifyInstance } from 'fastify';

const safeJson = (text: string): unknown => JSON.parse(text, (k, v: unknown) => (k === '__proto__' ? undefined : v));

/** Replaces the scope's JSON parser; `types` adds vendor media types parsed the same way. */
export function useLenientJson(scope: FastifyInstance, types: RegExp[] = []): void {
  const parse = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, safeJson(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  };
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
  for (const type of types) scope.addContentTypeParser(type, { parseAs: 'string' }, parse);
}
