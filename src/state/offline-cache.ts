// The dashboard's memory across visits: the last cluster state and the catalog's search answers,
// kept in IndexedDB, so a reload without the master (or without a network) still shows the
// cluster as it last was. The service worker caches only the build; data lives here.
import { fromSnapshot } from './cluster-state.js';
import type { ClusterState } from './cluster-state.js';
import type { ConnectionInfo } from './cluster-store.js';
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

export const DB_NAME = 'yagura';
const DB_VERSION = 1;
const OBJECT_STORE = 'kv';
export const CLUSTER_KEY = 'cluster';
export const CATALOG_KEY = 'catalog';
/** Bumped when the stored shape changes: an older record is ignored, never misread. 2: tasks as summaries, collections as arrays. */
export const FORMAT = 2;
/** The catalog record's format (its shape has not changed). */
const CATALOG_FORMAT = 1;

/** The few calls the cache needs; IndexedDB in the page, a Map in tests. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * One object store of string keys in one database. Opened on first use; when another tab
 * upgrades the database this connection closes and the next call opens it again.
 */
export function indexedDbStore(name = DB_NAME, factory: IDBFactory | undefined = globalThis.indexedDB): KeyValueStore {
  let opening: Promise<IDBDatabase> | undefined;
  const db = (): Promise<IDBDatabase> => {
    if (!factory) return Promise.reject(new Error('IndexedDB is not available'));
    opening ??= new Promise<IDBDatabase>((resolve, reject) => {
      const open = factory.open(name, DB_VERSION);
      open.onupgradeneeded = () => {
        if (!open.result.objectStoreNames.contains(OBJECT_STORE)) open.result.createObjectStore(OBJECT_STORE);
      };
      open.onsuccess = () => {
        const database = open.result;
        database.onversionchange = () => {
          database.close();
          opening = undefined;
        };
        resolve(database);
      };
      open.onerror = () => {
        opening = undefined;
        reject(open.error ?? new Error('IndexedDB could not be opened'));
      };
      open.onblocked = () => {
        opening = undefined;
        reject(new Error('IndexedDB is blocked by another tab'));
      };
    });
    return opening;
  };
  const run = async <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const tx = (await db()).transaction(OBJECT_STORE, mode);
    const result = request(work(tx.objectStore(OBJECT_STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
    return result;
  };
  return {
    get: <T>(key: string) => run('readonly', (store) => store.get(key) as IDBRequest<T | undefined>),
    set: async (key, value) => {
      await run('readwrite', (store) => store.put(value, key));
    },
    delete: async (key) => {
      await run('readwrite', (store) => store.delete(key));
    },
  };
}

const COLLECTIONS = ['agents', 'tasks', 'frameworks', 'services', 'deployments', 'jobs', 'jobRuns'] as const;
type Collection = (typeof COLLECTIONS)[number];

/** A ClusterState as stored: each collection as the array of its objects (IdMaps do not survive structured clone). */
export type StoredState = { epoch: string; seq: number } & { [K in Collection]: Array<ClusterState[K] extends ReadonlyMap<string, infer V> ? V : never> };

/** What is stored under CLUSTER_KEY. */
export interface StoredCluster {
  format: number;
  /** When this state was last known to be the master's (ms since epoch). */
  savedAt: number;
  state: StoredState;
  /**
   * A big state's objects are in `count` more records, `${key}/${i}`, each a StoredPart: one
   * structured clone of 100,000 tasks holds the page up for half a second; parts of
   * PART_SIZE are cloned one task at a time.
   */
  parts?: { key: string; count: number };
}

/** Some objects of one collection of a big stored state. */
export interface StoredPart {
  name: Collection;
  items: unknown[];
}

/** Objects per stored part. */
export const PART_SIZE = 5_000;

/** The stored form of a loaded state. */
export function storedState(state: ClusterState): StoredState {
  const out: Record<string, unknown> = { epoch: state.epoch ?? '', seq: state.seq };
  for (const name of COLLECTIONS) out[name] = [...state[name].values()];
  return out as StoredState;
}

/** Reads a stored record back; anything of another format or shape is treated as absent. */
export function restoredCluster(stored: unknown, parts: readonly unknown[] = []): { state: ClusterState; savedAt: number } | undefined {
  const record = stored as Partial<StoredCluster> | undefined;
  if (!record || record.format !== FORMAT || typeof record.savedAt !== 'number') return undefined;
  const state = record.state as Partial<StoredState> | undefined;
  if (!state || typeof state.epoch !== 'string' || typeof state.seq !== 'number') return undefined;
  if (!COLLECTIONS.every((name) => Array.isArray(state[name]))) return undefined;
  if ((record.parts?.count ?? 0) !== parts.length) return undefined;
  const whole = { ...state } as Record<string, unknown[]>;
  for (const part of parts as Array<Partial<StoredPart> | undefined>) {
    if (!part || !COLLECTIONS.includes(part.name as Collection) || !Array.isArray(part.items)) return undefined;
    whole[part.name!] = whole[part.name!]!.concat(part.items);
  }
  const restored = fromSnapshot(whole as unknown as StoredState);
  return { state: restored, savedAt: record.savedAt };
}

/** One cached catalog search, as src/data/catalog.ts keeps them. */
export interface CachedSearchLike {
  packages: readonly unknown[];
  at: number;
}

/** The part of the catalog module's cache this file uses. */
export interface CatalogCacheLike {
  get(query?: string): CachedSearchLike | undefined;
  entries(): Array<[string, CachedSearchLike]>;
  put(query: string, entry: CachedSearchLike): void;
  clear(): void;
}

/** The part of ClusterStore this file uses. */
export interface RestorableStore {
  readonly cluster: Readable<ClusterState>;
  readonly connection: Readable<ConnectionInfo>;
  readonly token: string | null;
  /** Shows a kept state until the master answers; false when live data already arrived. */
  restore(state: ClusterState): boolean;
}

export interface OfflineSyncOptions {
  store: RestorableStore;
  storage?: KeyValueStore;
  /** Loads the catalog's cache (a dynamic import: the catalog code is not in the first bundle). */
  catalog?: () => Promise<CatalogCacheLike>;
  /** Whether the browser thinks it is online. */
  online?: () => boolean;
  now?: () => number;
  /** Writes are at most this often while the cluster changes (default 2 s; longer for big clusters). */
  throttleMs?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Where to listen for pagehide / visibilitychange (default: window, when there is one). */
  win?: Pick<Window, 'addEventListener' | 'removeEventListener'> & { document?: Pick<Document, 'visibilityState'> };
}

const catalogFingerprint = (entries: Array<[string, CachedSearchLike]>) => entries.map(([key, value]) => `${key}\u0000${value.at}`).join('\u0001');

/**
 * Keeps the store's state in IndexedDB and brings it back on the next visit:
 * - on start, a kept state is handed to the store (unless live data came first); the store's
 *   next hello then resumes from that state's epoch and sequence number;
 * - while the cluster changes, the state is written at most every `throttleMs`, and at once
 *   when the link drops or the page is hidden;
 * - logging out (or a refused token) deletes what was kept.
 * `asOf` says when the state on screen was last known current, while the master is not
 * answering; undefined while live. It is what the offline banner shows.
 */
export class OfflineSync {
  readonly #asOf = new Writable<number | undefined>(undefined);
  readonly asOf: Readable<number | undefined> = this.#asOf;

  readonly #store: RestorableStore;
  readonly #storage: KeyValueStore;
  readonly #loadCatalog: (() => Promise<CatalogCacheLike>) | undefined;
  readonly #online: () => boolean;
  readonly #now: () => number;
  readonly #throttleMs: number;
  readonly #setTimer: (callback: () => void, ms: number) => unknown;
  readonly #clearTimer: (handle: unknown) => void;
  readonly #win: OfflineSyncOptions['win'];

  #catalog: CatalogCacheLike | undefined;
  #catalogSaved = '';
  #unsubscribe: Array<() => void> = [];
  #timer: unknown = null;
  /** The state last written (or read back): writing it again would change nothing. */
  #saved: ClusterState | undefined;
  /** When the state now on screen was last known current. */
  #current: number | undefined;
  #restored = false;
  #wasLive = false;
  #running = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: OfflineSyncOptions) {
    this.#store = options.store;
    this.#storage = options.storage ?? indexedDbStore();
    this.#loadCatalog = options.catalog;
    this.#online = options.online ?? (() => globalThis.navigator?.onLine ?? true);
    this.#now = options.now ?? Date.now;
    this.#throttleMs = options.throttleMs ?? 2000;
    this.#setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.#clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    this.#win = options.win ?? (typeof window === 'undefined' ? undefined : window);
  }

  /** Subscribes to the store and restores what was kept. Resolves once the restore was tried. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { cluster, connection } = this.#store;
    this.#wasLive = connection.value.status === 'live';
    if (this.#wasLive) this.#current = this.#now();
    this.#unsubscribe = [cluster.subscribe((state) => this.#onCluster(state)), connection.subscribe((info) => this.#onConnection(info))];
    this.#win?.addEventListener('pagehide', this.#onHide);
    this.#win?.addEventListener('visibilitychange', this.#onHide);
    await Promise.all([this.#restoreCluster(), this.#restoreCatalog()]);
  }

  stop(): void {
    this.#running = false;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#win?.removeEventListener('pagehide', this.#onHide);
    this.#win?.removeEventListener('visibilitychange', this.#onHide);
    this.#cancelTimer();
  }

  /** Writes the current state (and catalog) now, if they changed since the last write. */
  flush(): Promise<void> {
    this.#cancelTimer();
    const state = this.#store.cluster.value;
    const catalogEntries = this.#catalog?.entries();
    const fingerprint = catalogEntries ? catalogFingerprint(catalogEntries) : this.#catalogSaved;
    const writeCluster = state.loaded && state.epoch !== undefined && state !== this.#saved && !!this.#store.token;
    const writeCatalog = !!catalogEntries && fingerprint !== this.#catalogSaved && !!this.#store.token;
    if (!writeCluster && !writeCatalog) return this.#writing;
    const savedAt = this.#store.connection.value.status === 'live' ? this.#now() : (this.#current ?? this.#now());
    if (writeCluster) this.#saved = state;
    if (writeCatalog) this.#catalogSaved = fingerprint;
    const record: StoredCluster | undefined = writeCluster ? { format: FORMAT, savedAt, state: storedState(state) } : undefined;
    this.#writing = this.#writing
      .then(async () => {
        if (record) await this.#writeCluster(record);
        if (writeCatalog) await this.#storage.set(CATALOG_KEY, { format: CATALOG_FORMAT, entries: catalogEntries });
      })
      .catch((error: unknown) => {
        // Storage full or blocked: the dashboard works as before, just without memory.
        console.warn('Could not keep the cluster state for offline use', error);
      });
    return this.#writing;
  }

  /**
   * One record when small; a big state as parts (each its own write, so each clone is short),
   * then the record naming them, then the parts of the record it replaced are deleted: a
   * write cut short leaves the previous state whole.
   */
  async #writeCluster(record: StoredCluster): Promise<void> {
    const objects = COLLECTIONS.reduce((n, name) => n + record.state[name].length, 0);
    const previous = await this.#storage.get<StoredCluster>(CLUSTER_KEY).catch(() => undefined);
    if (objects <= PART_SIZE) {
      await this.#storage.set(CLUSTER_KEY, record);
    } else {
      const key = `${CLUSTER_KEY}/${record.savedAt}-${Math.random().toString(36).slice(2, 8)}`;
      const head = { ...record.state } as Record<string, unknown>;
      let count = 0;
      for (const name of COLLECTIONS) {
        const items = record.state[name] as unknown[];
        head[name] = [];
        for (let i = 0; i < items.length; i += PART_SIZE) {
          const part: StoredPart = { name, items: items.slice(i, i + PART_SIZE) };
          await this.#storage.set(`${key}/${count++}`, part);
        }
      }
      await this.#storage.set(CLUSTER_KEY, { ...record, state: head, parts: { key, count } });
    }
    await this.#deleteParts(previous);
  }

  async #deleteParts(record: StoredCluster | undefined): Promise<void> {
    const parts = record?.parts;
    if (!parts || typeof parts.key !== 'string' || !(parts.count >= 0)) return;
    for (let i = 0; i < parts.count; i++) await this.#storage.delete(`${parts.key}/${i}`);
  }

  /** Deletes everything kept (log out). */
  forget(): Promise<void> {
    this.#cancelTimer();
    this.#saved = undefined;
    this.#catalogSaved = '';
    this.#catalog?.clear();
    this.#writing = this.#writing
      .then(async () => {
        await this.#deleteParts(await this.#storage.get<StoredCluster>(CLUSTER_KEY));
        await Promise.all([this.#storage.delete(CLUSTER_KEY), this.#storage.delete(CATALOG_KEY)]);
      })
      .then(
        () => undefined,
        (error: unknown) => console.warn('Could not delete the kept cluster state', error),
      );
    return this.#writing;
  }

  async #restoreCluster(): Promise<void> {
    let kept: ReturnType<typeof restoredCluster>;
    try {
      const record = await this.#storage.get<StoredCluster>(CLUSTER_KEY);
      const parts = record?.parts;
      const count = parts && typeof parts.key === 'string' && parts.count > 0 ? parts.count : 0;
      const items = await Promise.all(Array.from({ length: count }, (_, i) => this.#storage.get(`${parts!.key}/${i}`)));
      kept = restoredCluster(record, items);
    } catch (error) {
      console.warn('Could not read the kept cluster state', error);
      return;
    }
    // Logged out meanwhile, or stopped: nothing to show to whoever is at the screen now.
    if (!kept || !this.#running || !this.#store.token) return;
    if (!this.#store.restore(kept.state)) return;
    this.#restored = true;
    this.#saved = kept.state;
    this.#current = kept.savedAt;
    this.#update();
  }

  async #restoreCatalog(): Promise<void> {
    if (!this.#loadCatalog) return;
    try {
      const [catalog, stored] = await Promise.all([
        this.#loadCatalog(),
        this.#storage.get<{ format?: number; entries?: Array<[string, CachedSearchLike]> }>(CATALOG_KEY),
      ]);
      if (!this.#running) return;
      this.#catalog = catalog;
      if (stored?.format !== CATALOG_FORMAT || !Array.isArray(stored.entries) || !this.#store.token) return;
      // Oldest first, so the catalog's own "newest last" order is kept; fresher answers win.
      for (const [query, entry] of stored.entries) {
        if (typeof query === 'string' && Array.isArray(entry?.packages) && typeof entry.at === 'number' && !catalog.get(query)) {
          catalog.put(query, entry);
        }
      }
      this.#catalogSaved = catalogFingerprint(catalog.entries());
    } catch (error) {
      console.warn('Could not read the kept catalog', error);
    }
  }

  #onCluster(state: ClusterState): void {
    if (!state.loaded) return;
    if (this.#store.connection.value.status === 'live') this.#current = this.#now();
    if (this.#timer === null) {
      // Writing clones the whole state on the main thread: a big cluster is written less often
      // (every 2 s up to ~5,000 objects, then proportionally longer; the link dropping or the
      // page hiding still writes at once).
      const objects = COLLECTIONS.reduce((sum, name) => sum + state[name].size, 0);
      this.#timer = this.#setTimer(() => {
        this.#timer = null;
        void this.flush();
      }, this.#throttleMs * Math.max(1, objects / 5000));
    }
  }

  #onConnection(info: ConnectionInfo): void {
    const wasLive = this.#wasLive;
    this.#wasLive = info.status === 'live';
    if (info.status === 'live') {
      this.#restored = false;
      this.#current = this.#now();
    } else if (info.status === 'idle' || info.status === 'unauthorized') {
      // Logged out or the token was refused: the next person at this screen sees nothing.
      this.#current = undefined;
      void this.forget();
    } else {
      // The link dropped: what is on screen was current until now. Keep it, with that time.
      if (wasLive) this.#current = this.#now();
      void this.flush();
    }
    this.#update();
  }

  #update(): void {
    const { status } = this.#store.connection.value;
    const shown = this.#store.cluster.value.loaded;
    // A first attempt with a kept state is usually answered at once; only say "offline" once
    // an attempt failed, or the browser itself says there is no network.
    const offline = status === 'reconnecting' || (status === 'connecting' && this.#restored && !this.#online());
    this.#asOf.set(offline && shown ? this.#current : undefined);
  }

  #onHide = (event: Event) => {
    if (event.type === 'visibilitychange' && this.#win?.document?.visibilityState !== 'hidden') return;
    void this.flush();
  };

  #cancelTimer(): void {
    if (this.#timer !== null) {
      this.#clearTimer(this.#timer);
      this.#timer = null;
    }
  }
}
