import { html, nothing } from 'lit';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError } from '../state/api.js';
import { Writable } from '../state/readable.js';

/**
 * Why commands cannot reach the master now ('' when they can). The shell sets it from the
 * connection; every CommandController refuses to run while it is set and offers the text as
 * the reason (pages show it as the disabled button's explanation).
 */
export const commandsUnavailable = new Writable<string>('');

/** What a page says next to its disabled actions while commands cannot run. */
export const UNAVAILABLE_NOTE = 'Offline: actions are off until the master answers again.';

/**
 * The visible explanation next to a page's actions while `reason` (CommandController.unavailable,
 * or commandsUnavailable.value) is set; nothing otherwise. Pages disable those actions with
 * `?disabled=${!!reason}` and render this beside them: a disabled button cannot take the focus
 * or show a `title` to touch and keyboard users, so the reason is text on the page, in reading
 * order right after the buttons. `slot` places it in a component that has a slot for it
 * (`unavailable` in yg-app-form and yg-install-dialog). In a row of buttons it takes a line of
 * its own, as wide as the buttons (`contain: inline-size`: it does not widen their row) but at
 * least 16rem.
 */
export function unavailableNote(reason: string, slot?: string) {
  if (!reason) return nothing;
  return html`<p
    class="unavailable-note"
    role="note"
    slot=${slot ?? nothing}
    style="flex-basis:100%;contain:inline-size;min-width:16rem;margin:0;font-size:0.875rem;line-height:1.25rem;color:var(--md-sys-color-on-surface-variant, #43474e)"
  >
    ${UNAVAILABLE_NOTE}
  </p>`;
}

/** What a failed command says to the user: the master's message, or what went wrong on the way. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const details = error.body?.details?.flatMap((d) => d.errors.map((e) => (d.path && d.path !== '/' ? `${d.path}: ${e}` : e))) ?? [];
    return details.length ? `${error.message} (${details.join('; ')})` : error.message;
  }
  if (error instanceof TypeError) return 'The master could not be reached. Check the connection and try again.';
  return error instanceof Error ? error.message : String(error);
}

/**
 * One command at a time per page: whether it runs, and how the last one failed. The page shows
 * `busy` on its button and `error` next to it; a 409 (a deployment holds the app) offers force.
 */
export class CommandController implements ReactiveController {
  busy = false;
  error = '';
  /** The master answered 409: the same command can be forced. */
  conflict = false;
  readonly #host: ReactiveControllerHost;
  #unsubscribe: (() => void) | undefined;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  hostConnected(): void {
    this.#unsubscribe ??= commandsUnavailable.subscribe(() => this.#host.requestUpdate());
  }

  hostDisconnected(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Why no command can run now (the master is unreachable), or ''. Bind it to `disabled`/`title`. */
  get unavailable(): string {
    return commandsUnavailable.value;
  }

  /** Runs `command`; resolves true when it succeeded. */
  async run(command: () => Promise<unknown>): Promise<boolean> {
    if (this.busy) return false;
    if (commandsUnavailable.value) {
      // Nothing is sent: the request would only time out, and the reason is already known.
      this.error = commandsUnavailable.value;
      this.conflict = false;
      this.#host.requestUpdate();
      return false;
    }
    this.busy = true;
    this.error = '';
    this.conflict = false;
    this.#host.requestUpdate();
    try {
      await command();
      return true;
    } catch (error) {
      this.error = errorText(error);
      this.conflict = error instanceof ApiError && error.status === 409;
      return false;
    } finally {
      this.busy = false;
      this.#host.requestUpdate();
    }
  }

  clear(): void {
    if (!this.error && !this.conflict) return;
    this.error = '';
    this.conflict = false;
    this.#host.requestUpdate();
  }
}
