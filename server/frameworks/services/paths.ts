// Marathon path ids ("/prod/web"): the names of apps and groups. Pure string work, no I/O.
//
// A segment follows Marathon's PathId rule: dot-separated labels of lowercase letters and
// digits, hyphens allowed inside a label but not at its ends. "." and ".." are relative steps.
// Marathon silently drops empty segments and trailing slashes; we reject them, because a
// stray "//" is nearly always a typo that would otherwise name a different app.

/** One segment: DNS-like labels joined by dots (Marathon's ID_PATH_SEGMENT_PATTERN without the relative steps). */
const SEGMENT = /^([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])(\.([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))*$/;

/** Ids end up in task ids, hostnames and URLs; nothing real comes close to this. */
const MAX_ID_LENGTH = 1024;

export const ROOT = '/';

export type PathIdResult = { id: string; error?: undefined } | { error: string; id?: undefined };

/**
 * Parses `raw` into an absolute canonical id. A relative id (no leading "/") and any "."/".."
 * steps resolve against `base` (an absolute id, default the root group).
 */
export function parsePathId(raw: unknown, base: string = ROOT): PathIdResult {
  if (typeof raw !== 'string') return { error: 'must be a string' };
  if (raw === '') return { error: 'must not be empty' };
  if (raw.length > MAX_ID_LENGTH) return { error: `must be at most ${MAX_ID_LENGTH} characters` };
  if (raw === ROOT) return { id: ROOT };

  const absolute = raw.startsWith('/');
  const parts = (absolute ? raw.slice(1) : raw).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') return { error: `must not end with "/": "${raw}"` };
  if (parts.includes('')) return { error: `must not contain empty segments ("//"): "${raw}"` };
  for (const part of parts) {
    if (part === '.' || part === '..') continue;
    if (!SEGMENT.test(part)) {
      return {
        error:
          `segment "${part}" is invalid: use lowercase letters (a-z), digits (0-9), hyphens and dots; ` +
          'it must start and end with a letter or digit',
      };
    }
  }

  let resolved: string[] = [];
  if (!absolute) {
    // A bad base is a caller bug, but reporting it beats resolving against garbage.
    const b = parsePathId(base, ROOT);
    if (b.error !== undefined) return { error: `base group "${base}" is invalid: ${b.error}` };
    resolved = segments(b.id);
  }
  for (const part of parts) {
    if (part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return { error: `"${raw}" goes above the root group` };
      resolved.pop();
      continue;
    }
    resolved.push(part);
  }
  return { id: join(resolved) };
}

/** The segments of an absolute canonical id; the root has none. */
export function segments(id: string): string[] {
  return id === ROOT || id === '' ? [] : id.replace(/^\//, '').split('/');
}

/** The enclosing group; the root is its own parent (as in Marathon). */
export function parentOf(id: string): string {
  const s = segments(id);
  return s.length === 0 ? ROOT : join(s.slice(0, -1));
}

/** True when `ancestor` strictly contains `id` (a group is not its own ancestor). */
export function isAncestor(ancestor: string, id: string): boolean {
  if (ancestor === id) return false;
  if (ancestor === ROOT) return id !== ROOT;
  return id.startsWith(ancestor + '/');
}

/** The last segment ("/prod/web" → "web"); "" for the root. */
export function baseName(id: string): string {
  const s = segments(id);
  return s.length === 0 ? '' : s[s.length - 1]!;
}

function join(parts: string[]): string {
  return '/' + parts.join('/');
}
