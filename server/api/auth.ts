// Tokens and the agent secret. A token is shown once; only its sha256 is stored. Clients send
// it as `Authorization: Bearer <token>`, or as the password of HTTP Basic auth so that URLs like
// http://user:token@host work with old clients.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, TokenRole } from '../store/store.js';

export interface Principal {
  role: TokenRole;
  name: string;
}

export const ADMIN_TOKEN_FILE = 'admin-token';
export const AGENT_SECRET_FILE = 'agent-secret';

export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** Reads a secret file of the data directory, creating it (mode 600) on first start. */
export function secretFile(dataDir: string, name: string, make: () => string): { value: string; created: boolean } {
  const file = join(dataDir, name);
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

export class Auth {
  constructor(
    private store: Store,
    /** false only for a loopback-only development master. */
    readonly enabled: boolean,
  ) {}

  /** The admin token of the data directory; registered in the store the first time. */
  ensureAdminToken(dataDir: string): string {
    const { value } = secretFile(dataDir, ADMIN_TOKEN_FILE, () => newSecret('yga_'));
    const hash = hashToken(value);
    if (!this.store.findToken(hash)) this.store.addToken({ hash, role: 'admin', name: 'admin (data directory)', createdAt: Date.now() });
    return value;
  }

  createToken(role: TokenRole, name: string): string {
    const token = newSecret(role === 'admin' ? 'yga_' : 'ygv_');
    this.store.addToken({ hash: hashToken(token), role, name, createdAt: Date.now() });
    return token;
  }

  /** Tokens without their secrets; `id` is a prefix of the hash, enough to tell them apart. */
  list(): Array<{ id: string; role: TokenRole; name: string; createdAt: number }> {
    return this.store.listTokens().map((t) => ({ id: t.hash.slice(0, 12), role: t.role, name: t.name, createdAt: t.createdAt }));
  }

  verify(token: string | undefined): Principal | undefined {
    if (!this.enabled) return { role: 'admin', name: 'anonymous (auth disabled)' };
    if (!token) return undefined;
    const rec = this.store.findToken(hashToken(token));
    return rec ? { role: rec.role, name: rec.name } : undefined;
  }

  /** The token of an Authorization header: Bearer, or Basic with the token as password. */
  static tokenFromHeader(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const [scheme, rest] = splitOnce(header.trim(), ' ');
    if (!rest) return undefined;
    if (/^bearer$/i.test(scheme)) return rest.trim() || undefined;
    if (/^basic$/i.test(scheme)) {
      let decoded: string;
      try {
        decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
      } catch {
        return undefined;
      }
      const [, password] = splitOnce(decoded, ':');
      return password || undefined;
    }
    return undefined;
  }
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}
