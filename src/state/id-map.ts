// An immutable map from ids that stays cheap at 100,000 entries: it is stored in buckets, so a
// change copies the buckets it touches instead of the whole map, and each version remembers
// which ids changed against the version it was made from, so that derived data (sorted lists,
// counts, the activity feed) can be updated from the changes instead of recomputed.

/** Entries per bucket the map aims at; a map of up to this many keeps one bucket (insertion order). */
const BUCKET_TARGET = 256;
const MAX_BUCKETS = 4096;
/**
 * How many versions back `changesSince` can see; older links are cut so history is not kept
 * alive. Above 20,000 tasks the store makes about 4 versions a second: 256 is a minute, so a
 * view opened again within it (its selectors are shared, cluster-selectors.ts) moves what
 * changed instead of sorting 100,000 tasks anew. The price is memory: each version kept holds
 * the buckets its changes replaced (at 100,000 tasks and ~800 changes a second, an estimated
 * ~0.3 MiB a version, so tens of MiB over the whole chain; not measured yet).
 */
const MAX_CHAIN = 256;

function bucketCount(size: number): number {
  let n = 1;
  while (n < MAX_BUCKETS && n * BUCKET_TARGET < size) n *= 2;
  return n;
}

/** FNV-1a over the UTF-16 code units; only the low bits are used. */
function hash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class IdMap<V> implements ReadonlyMap<string, V> {
  readonly size: number;
  readonly #buckets: ReadonlyArray<ReadonlyMap<string, V>>;
  readonly #mask: number;
  #base: IdMap<V> | undefined;
  readonly #changed: ReadonlySet<string> | undefined;

  private constructor(buckets: ReadonlyArray<ReadonlyMap<string, V>>, size: number, base?: IdMap<V>, changed?: ReadonlySet<string>) {
    this.#buckets = buckets;
    this.#mask = buckets.length - 1;
    this.size = size;
    this.#base = base;
    this.#changed = changed;
  }

  static readonly #EMPTY = new IdMap<unknown>([new Map()], 0);

  static empty<V>(): IdMap<V> {
    return IdMap.#EMPTY as IdMap<V>;
  }

  /** A map of the entries; a later duplicate id wins. */
  static from<V>(entries: Iterable<readonly [string, V]>): IdMap<V> {
    const list = Array.isArray(entries) ? (entries as ReadonlyArray<readonly [string, V]>) : [...entries];
    const count = bucketCount(list.length);
    const buckets = Array.from({ length: count }, () => new Map<string, V>());
    const mask = count - 1;
    for (const [id, value] of list) buckets[count === 1 ? 0 : hash(id) & mask]!.set(id, value);
    let size = 0;
    for (const b of buckets) size += b.size;
    return new IdMap(buckets, size);
  }

  /** A map of the items, keyed by their id. */
  static byId<V extends { id: string }>(items: readonly V[]): IdMap<V> {
    return IdMap.from(items.map((item) => [item.id, item] as const));
  }

  #bucket(id: string): ReadonlyMap<string, V> {
    return this.#buckets[this.#mask === 0 ? 0 : hash(id) & this.#mask]!;
  }

  get(id: string): V | undefined {
    return this.#bucket(id).get(id);
  }

  has(id: string): boolean {
    return this.#bucket(id).has(id);
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const b of this.#buckets) for (const [k, v] of b) callback.call(thisArg, v, k, this);
  }

  *entries(): MapIterator<[string, V]> {
    for (const b of this.#buckets) yield* b.entries();
  }

  *keys(): MapIterator<string> {
    for (const b of this.#buckets) yield* b.keys();
  }

  *values(): MapIterator<V> {
    for (const b of this.#buckets) yield* b.values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  /**
   * This map with `changes` applied (`undefined` deletes). Returns this map itself when nothing
   * changes identity. Only the touched buckets are copied.
   */
  with(changes: ReadonlyMap<string, V | undefined>): IdMap<V> {
    const copies = new Map<number, Map<string, V>>();
    const changed = new Set<string>();
    let size = this.size;
    for (const [id, value] of changes) {
      const index = this.#mask === 0 ? 0 : hash(id) & this.#mask;
      const current = copies.get(index) ?? this.#buckets[index]!;
      const had = current.has(id);
      if (value === undefined ? !had : had && current.get(id) === value) continue;
      let copy = copies.get(index);
      if (!copy) copies.set(index, (copy = new Map(current)));
      if (value === undefined) {
        copy.delete(id);
        size--;
      } else {
        copy.set(id, value);
        if (!had) size++;
      }
      changed.add(id);
    }
    if (changed.size === 0) return this;
    const buckets = this.#buckets.slice();
    for (const [index, copy] of copies) buckets[index] = copy;
    // grown well past what its buckets were sized for: spread it out again (then nothing to diff against)
    if (size > buckets.length * BUCKET_TARGET * 4 && buckets.length < MAX_BUCKETS) {
      const entries: Array<[string, V]> = [];
      for (const b of buckets) for (const e of b) entries.push(e);
      return IdMap.from(entries);
    }
    const next = new IdMap(buckets, size, this, changed);
    next.#cut();
    return next;
  }

  /** Drops the link MAX_CHAIN versions back, so old versions can be collected. */
  #cut(): void {
    let v: IdMap<V> | undefined = this;
    for (let i = 0; i < MAX_CHAIN && v; i++) v = v.#base;
    if (v) v.#base = undefined;
  }

  /**
   * The ids whose entries differ between `older` and this map, when `older` is this map or one
   * of its recent versions; undefined when that is not known (then compare everything).
   */
  changesSince(older: ReadonlyMap<string, V>): ReadonlySet<string> | undefined {
    if (older === this) return new Set();
    const steps: ReadonlySet<string>[] = [];
    let v: IdMap<V> | undefined = this;
    while (v && v !== older) {
      if (!v.#changed) return undefined;
      steps.push(v.#changed);
      v = v.#base;
    }
    if (!v) return undefined;
    if (steps.length === 1) return steps[0];
    const all = new Set<string>();
    for (const s of steps) for (const id of s) all.add(id);
    return all;
  }
}

/** The ids that differ between two versions of a map, when the newer one knows; else undefined. */
export function changedIds<V>(older: ReadonlyMap<string, V>, newer: ReadonlyMap<string, V>): ReadonlySet<string> | undefined {
  return newer instanceof IdMap ? (newer as IdMap<V>).changesSince(older) : undefined;
}

/**
 * Calls `visit(id, before, after)` for every id whose entry differs between two versions of a
 * map (`before` undefined: added; `after` undefined: removed). With IdMaps this looks at the
 * changed ids only; otherwise at every entry of both.
 */
export function forEachChange<V>(
  prev: ReadonlyMap<string, V>,
  next: ReadonlyMap<string, V>,
  visit: (id: string, before: V | undefined, after: V | undefined) => void,
): void {
  if (prev === next) return;
  const ids = changedIds(prev, next);
  if (ids) {
    for (const id of ids) {
      const before = prev.get(id);
      const after = next.get(id);
      if (before !== after) visit(id, before, after);
    }
    return;
  }
  for (const [id, after] of next) {
    const before = prev.get(id);
    if (before !== after) visit(id, before, after);
  }
  for (const [id, before] of prev) if (!next.has(id)) visit(id, before, undefined);
}
