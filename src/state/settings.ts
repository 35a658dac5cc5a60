// Settings kept in this browser: for now the colour theme.
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_KEY = 'yagura.theme';
const CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

function read(storage: Storage | undefined): ThemeChoice {
  try {
    const value = storage?.getItem(THEME_KEY);
    return CHOICES.includes(value as ThemeChoice) ? (value as ThemeChoice) : 'system';
  } catch {
    return 'system';
  }
}

/**
 * The theme choice, persisted, applied as `data-theme` on the root element. theme.css sets
 * `color-scheme` from it, and every colour token follows through `light-dark()`.
 */
export class ThemeSetting {
  readonly #value: Writable<ThemeChoice>;
  readonly value: Readable<ThemeChoice>;
  readonly #storage: Storage | undefined;
  readonly #root: HTMLElement;

  constructor(options: { storage?: Storage; root?: HTMLElement } = {}) {
    this.#storage = options.storage;
    this.#root = options.root ?? document.documentElement;
    this.#value = new Writable(read(this.#storage));
    this.value = this.#value;
    this.#apply();
  }

  set(choice: ThemeChoice): void {
    this.#value.set(choice);
    try {
      if (choice === 'system') this.#storage?.removeItem(THEME_KEY);
      else this.#storage?.setItem(THEME_KEY, choice);
    } catch {
      // kept for this visit only
    }
    this.#apply();
  }

  #apply(): void {
    const choice = this.#value.value;
    if (choice === 'system') delete this.#root.dataset.theme;
    else this.#root.dataset.theme = choice;
  }
}

export function browserStorage(win: Window = window): Storage | undefined {
  try {
    return win.localStorage;
  } catch {
    return undefined;
  }
}
