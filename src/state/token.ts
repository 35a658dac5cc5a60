/** Where the access token lives between visits. */
export interface TokenStore {
  get(): string | null;
  set(token: string): void;
  clear(): void;
}

export const TOKEN_KEY = 'yagura.token';

/**
 * localStorage, falling back to memory when storage is unavailable (some private modes throw
 * on access): the session then lasts as long as the tab, which beats failing to log in.
 */
export function localTokenStore(storage: Storage | undefined = globalThis.localStorage): TokenStore {
  let memory: string | null = null;
  return {
    get() {
      try {
        return storage?.getItem(TOKEN_KEY) ?? memory;
      } catch {
        return memory;
      }
    },
    set(token) {
      memory = token;
      try {
        storage?.setItem(TOKEN_KEY, token);
      } catch {
        // memory keeps it
      }
    },
    clear() {
      memory = null;
      try {
        storage?.removeItem(TOKEN_KEY);
      } catch {
        // nothing stored
      }
    },
  };
}

/**
 * Takes `token` out of a `#token=...` fragment (the login link `yagura up` prints) and rewrites
 * the address without it, so the secret does not stay in the address bar, history or a
 * bookmark. Other fragment parameters are kept.
 */
export function takeTokenFromUrl(
  location: Pick<Location, 'hash' | 'pathname' | 'search'>,
  history: Pick<History, 'replaceState' | 'state'>,
): string | null {
  if (!location.hash.startsWith('#')) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token === null) return null;
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  const trimmed = token.trim();
  return trimmed === '' ? null : trimmed;
}
