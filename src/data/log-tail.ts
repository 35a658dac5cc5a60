// A live tail of one sandbox file over WS /files/tasks/<id>/tail: hello with the token first,
// then `chunk` messages until the agent ends the stream. Text is capped so a chatty task cannot
// grow the page without bound; the beginning is dropped first.
import type { StreamSocket } from '../state/cluster-store.js';
import { Writable } from '../state/readable.js';
import type { Readable } from '../state/readable.js';

export type TailStatus = 'connecting' | 'live' | 'ended' | 'error';

export interface TailState {
  readonly text: string;
  readonly status: TailStatus;
  /** Why it ended or failed, in the master's words. */
  readonly message?: string;
  /** The beginning was dropped to stay under the cap (or the tail started mid-file). */
  readonly truncated: boolean;
}

export interface LogTailOptions {
  url: string;
  token: string | null;
  createSocket?: (url: string) => StreamSocket;
  /** Characters kept; older text is dropped first. */
  maxChars?: number;
}

type TailMessage =
  | { type: 'chunk'; data: string; offset: number }
  | { type: 'end'; message?: string }
  | { type: 'error'; message: string };

/** Bytes of history asked for when a tail starts: enough to see what just happened. */
export const TAIL_HISTORY_BYTES = 64 * 1024;

export function tailUrl(
  location: Pick<Location, 'protocol' | 'host'>,
  taskId: string,
  path: string,
  offset = -TAIL_HISTORY_BYTES,
): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = new URLSearchParams({ path, offset: String(offset) });
  return `${scheme}//${location.host}/files/tasks/${encodeURIComponent(taskId)}/tail?${query}`;
}

export class LogTail {
  readonly #state = new Writable<TailState>({ text: '', status: 'connecting', truncated: false });
  readonly state: Readable<TailState> = this.#state;
  readonly #maxChars: number;
  #socket: StreamSocket | null;

  constructor(options: LogTailOptions) {
    this.#maxChars = options.maxChars ?? 512 * 1024;
    const socket = (options.createSocket ?? ((url) => new WebSocket(url)))(options.url);
    this.#socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: 'hello', token: options.token ?? '' }));
      // An empty file sends nothing: open and authenticated is what "live" means here.
      if (this.#state.value.status === 'connecting') this.#set({ status: 'live' });
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => {
      this.#socket = null;
      const state = this.#state.value;
      if (state.status === 'ended' || state.status === 'error') return;
      if (event.code === 1000) this.#set({ status: 'ended', message: event.reason || undefined });
      else this.#set({ status: 'error', message: event.reason || `the log stream closed (${event.code})` });
    };
    socket.onerror = () => {};
  }

  close(): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#socket = null;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(1000, 'closed by the viewer');
    } catch {
      // already closing
    }
  }

  #receive(data: unknown): void {
    let message: TailMessage;
    try {
      message = JSON.parse(String(data)) as TailMessage;
    } catch {
      return;
    }
    const state = this.#state.value;
    switch (message.type) {
      case 'chunk': {
        let text = state.text + message.data;
        // A tail that starts from a negative offset begins mid-file.
        let truncated = state.truncated || (state.text === '' && message.offset > 0);
        if (text.length > this.#maxChars) {
          text = text.slice(text.length - this.#maxChars);
          // Start at a line boundary so the first line shown is whole.
          const newline = text.indexOf('\n');
          if (newline >= 0 && newline < 4096) text = text.slice(newline + 1);
          truncated = true;
        }
        this.#set({ text, truncated, status: 'live' });
        break;
      }
      case 'end':
        this.#set({ status: 'ended', message: message.message });
        break;
      case 'error':
        this.#set({ status: 'error', message: message.message });
        break;
    }
  }

  #set(patch: Partial<TailState>): void {
    this.#state.set({ ...this.#state.value, ...patch });
  }
}
