import { ContextConsumer } from '@lit/context';
import type { Context } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Readable } from './readable.js';

type Host = ReactiveControllerHost & HTMLElement;

/**
 * Subscribes a element to one slice of a store value. The host re-renders only when the
 * selected slice changes identity: a view that selects `s => s.agents` sleeps through task
 * updates. Source is a context (for views) or a Readable directly (for the provider itself).
 */
export class StoreController<T, S = T> implements ReactiveController {
  /** The selected slice; undefined until a provider answered. */
  value: S | undefined;

  readonly #host: Host;
  readonly #select: (value: T) => S;
  #readable: Readable<T> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(host: Host, source: Context<unknown, Readable<T>> | Readable<T>, select?: (value: T) => S) {
    this.#host = host;
    this.#select = select ?? ((value: T) => value as unknown as S);
    // The readable is set before addController: a host that is already connected calls
    // hostConnected at once, and it must find something to subscribe to.
    if (isReadable<T>(source)) this.#readable = source;
    host.addController(this);
    if (!isReadable<T>(source)) {
      new ContextConsumer(host, {
        context: source,
        subscribe: true,
        // A provider without a value yet answers undefined; the next setValue brings it.
        callback: (readable) => {
          if (readable) this.#bind(readable);
        },
      });
    }
  }

  hostConnected(): void {
    if (this.#readable) this.#bind(this.#readable);
  }

  hostDisconnected(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #bind(readable: Readable<T>): void {
    if (readable === this.#readable && this.#unsubscribe) return;
    this.#unsubscribe?.();
    this.#readable = readable;
    this.#unsubscribe = readable.subscribe((value) => this.#take(value));
    this.#take(readable.value);
  }

  #take(value: T): void {
    const next = this.#select(value);
    if (Object.is(next, this.value)) return;
    this.value = next;
    this.#host.requestUpdate();
  }
}

function isReadable<T>(source: unknown): source is Readable<T> {
  return typeof (source as Readable<T>).subscribe === 'function';
}
