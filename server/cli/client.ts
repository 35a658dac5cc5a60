// How CLI commands reach a master: URL from --master or YAGURA_MASTER, token from --token,
// YAGURA_TOKEN or the data directory's admin-token file.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OptionSpec } from './args.js';
import { ADMIN_TOKEN_FILE } from '../api/auth.js';

export const CLIENT_OPTIONS: Record<string, OptionSpec> = {
  master: { type: 'string', help: 'master URL (env YAGURA_MASTER)', default: process.env.YAGURA_MASTER ?? 'http://127.0.0.1:5050' },
  token: { type: 'string', help: 'API token (env YAGURA_TOKEN; else read from --data-dir)' },
  'data-dir': { type: 'string', help: 'data directory to read the admin token from', default: process.env.YAGURA_DATA_DIR ?? '.data' },
  json: { type: 'boolean', help: 'print JSON instead of a table' },
};

export class CliError extends Error {}

export interface Client {
  base: string;
  token: string | undefined;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export function makeClient(options: Record<string, unknown>): Client {
  const base = String(options.master).replace(/\/+$/, '');
  let token = (options.token as string | undefined) ?? process.env.YAGURA_TOKEN;
  if (!token) {
    const file = join(String(options['data-dir']), ADMIN_TOKEN_FILE);
    if (existsSync(file)) token = readFileSync(file, 'utf8').trim();
  }
  return {
    base,
    token,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (err) {
        throw new CliError(`cannot reach the master at ${base}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
      }
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      if (!res.ok) {
        const e = parsed as { message?: string; details?: Array<{ path: string; errors: string[] }> } | undefined;
        const details = (e?.details ?? []).map((d) => `\n  ${d.path}: ${d.errors.join('; ')}`).join('');
        const hint = res.status === 401 ? ' (pass --token, set YAGURA_TOKEN, or --data-dir of the master)' : '';
        throw new CliError(`${res.status}: ${e?.message ?? text}${hint}${details}`);
      }
      return parsed as T;
    },
  };
}

/** Plain text table; columns sized to content. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
