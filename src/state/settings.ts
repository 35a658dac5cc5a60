// Settings kept in this browser: the colour theme, and the nodes map's tile server.
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

export const MAP_TILES_KEY = 'yagura.mapTiles';

/** A tile URL template the map can use: http(s), or a path on this origin, with {z}, {x} and {y}. */
export function validTileUrl(url: string): boolean {
  const u = url.trim();
  return /^(https?:\/\/\S+|\/\S*)$/i.test(u) && u.includes('{z}') && u.includes('{x}') && u.includes('{y}');
}

/**
 * The nodes map's tile server, as a URL template (`https://tiles.example/{z}/{x}/{y}.png`), kept
 * in this browser. Empty (the default): the map draws its bundled world outlines and asks no
 * server at all.
 */
export class MapTilesSetting {
  readonly #value: Writable<string>;
  readonly value: Readable<string>;
  readonly #storage: Storage | undefined;

  constructor(options: { storage?: Storage } = {}) {
    this.#storage = options.storage;
    let stored = '';
    try {
      stored = this.#storage?.getItem(MAP_TILES_KEY) ?? '';
    } catch {
      // nothing kept
    }
    this.#value = new Writable(stored);
    this.value = this.#value;
  }

  set(url: string): void {
    const value = url.trim();
    this.#value.set(value);
    try {
      if (value) this.#storage?.setItem(MAP_TILES_KEY, value);
      else this.#storage?.removeItem(MAP_TILES_KEY);
    } catch {
      // kept for this visit only
    }
  }
}

let mapTiles: MapTilesSetting | undefined;

/** The page's one MapTilesSetting, on this browser's localStorage. */
export function mapTilesSetting(): MapTilesSetting {
  return (mapTiles ??= new MapTilesSetting({ storage: browserStorage() }));
}
