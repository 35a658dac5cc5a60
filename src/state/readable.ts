/** A value that changes over time and tells its subscribers; what the contexts hand down. */
export interface Readable<T> {
  readonly value: T;
  /** Calls `listener` on every later change (not immediately). Returns the unsubscribe. */
  subscribe(listener: (value: T) => void): () => void;
}

export class Writable<T> implements Readable<T> {
  #value: T;
  readonly #listeners = new Set<(value: T) => void>();

  constructor(initial: T) {
    this.#value = initial;
  }

  get value(): T {
    return this.#value;
  }

  set(next: T): void {
    // Identity is the change signal everywhere downstream, so an equal-by-identity set is no change.
    if (Object.is(next, this.#value)) return;
    this.#value = next;
    for (const listener of [...this.#listeners]) listener(next);
  }

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
