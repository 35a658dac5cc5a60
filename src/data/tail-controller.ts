import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { StreamSocket } from '../state/cluster-store.js';
import { LogTail, tailUrl } from './log-tail.js';
import type { TailState } from './log-tail.js';

const IDLE: TailState = { text: '', status: 'connecting', truncated: false };

/**
 * Keeps one log tail open for its host while the host wants it (a task's page showing its
 * logs), and closes it when the host leaves the page. Re-targeting closes the old one first.
 */
export class TailController implements ReactiveController {
  state: TailState = IDLE;
  readonly #host: ReactiveControllerHost;
  #tail: LogTail | undefined;
  #key = '';
  #unsubscribe: (() => void) | undefined;
  createSocket?: (url: string) => StreamSocket;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Tails `path` of `taskId`; a no-op when that is already what is open. */
  open(taskId: string, path: string, token: string | null, location: Pick<Location, 'protocol' | 'host'> = window.location): void {
    const key = `${taskId}\n${path}`;
    if (key === this.#key && this.#tail) return;
    this.close();
    this.#key = key;
    this.#tail = new LogTail({ url: tailUrl(location, taskId, path), token, createSocket: this.createSocket });
    this.state = this.#tail.state.value;
    this.#unsubscribe = this.#tail.state.subscribe((state) => {
      this.state = state;
      this.#host.requestUpdate();
    });
    this.#host.requestUpdate();
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#tail?.close();
    this.#tail = undefined;
    this.#key = '';
    this.state = IDLE;
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.close();
  }
}
