// Forms with changes that are not saved yet. The update flow reads this before it reloads the
// page into a new build: while anything is listed, the reload waits (the snackbar says why and
// links to the form) until the form is saved or discarded.
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

export interface UnsavedWork {
  /** What the user would call it: "Create a service", "Edit /prod/web". */
  readonly label: string;
  /** Where the form is, to go back to it. */
  readonly href: string;
}

export class UnsavedRegistry {
  readonly #owners = new Map<object, UnsavedWork>();
  readonly #list = new Writable<readonly UnsavedWork[]>([]);
  /** Everything unsaved now, oldest first. */
  readonly list: Readable<readonly UnsavedWork[]> = this.#list;

  /** Marks `owner`'s form as unsaved (or, with undefined, as saved or discarded). */
  set(owner: object, work: UnsavedWork | undefined): void {
    const current = this.#owners.get(owner);
    if (work === undefined) {
      if (!current) return;
      this.#owners.delete(owner);
    } else {
      if (current && current.label === work.label && current.href === work.href) return;
      this.#owners.set(owner, { label: work.label, href: work.href });
    }
    this.#list.set([...this.#owners.values()]);
  }

  clear(owner: object): void {
    this.set(owner, undefined);
  }
}

/** The page's one registry. */
export const unsavedWork = new UnsavedRegistry();
