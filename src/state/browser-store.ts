import { ClusterStore, streamUrl } from './cluster-store.js';
import { OfflineSync } from './offline-cache.js';
import { localTokenStore, takeTokenFromUrl } from './token.js';

function storage(win: Window): Storage | undefined {
  try {
    return win.localStorage;
  } catch {
    // Blocked storage throws on access rather than being absent.
    return undefined;
  }
}

/** The store as the page uses it: token from the login link or from the last visit. */
export function createBrowserStore(win: Window = window): ClusterStore {
  const tokens = localTokenStore(storage(win));
  const fromLink = takeTokenFromUrl(win.location, win.history);
  if (fromLink) tokens.set(fromLink);
  return new ClusterStore({ url: streamUrl(win.location), tokens });
}

/**
 * The store's memory across visits (IndexedDB): the last cluster state and the catalog's search
 * answers. The catalog code is loaded when the sync starts, not with the first bundle.
 */
export function createOfflineSync(store: ClusterStore): OfflineSync {
  return new OfflineSync({ store, catalog: () => import('../data/catalog.js').then((m) => m.catalogCache) });
}
