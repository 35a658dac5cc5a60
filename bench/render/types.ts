// What the render bench page (page.mts, in Chromium) hands back to bench/render.bench.ts (Node).
// No DOM and no Node types here: both sides import it.

export type Contender = 'yagura' | 'vanilla';

export interface RenderRun {
  contender: Contender;
  /** Setting 10,000 tasks → the end of the first frame that painted their rows (ms). */
  firstRenderMs: number;
  /** Rows in the DOM after that frame (the product virtualizes: only the window's rows exist). */
  rowsInDom: number;
  /** Per update: its start (inside a frame) → the end of that frame's rendering (ms). */
  updateMs: number[];
  /** Per update: task rows whose own render ran (yagura: yg-task-row updates; vanilla: rows written). */
  rowsRendered: number[];
  /** Per update: row elements added to or removed from the DOM. */
  rowsAttached: number[];
  /** Why rows re-rendered, over all updates: changed property → count (yagura only). */
  renderReasons: Record<string, number>;
}

export interface RunOptions {
  /**
   * Apply (and time) every `every`-th of the UPDATES updates, in order: 1 applies all of them.
   * The plain table takes a whole-table layout per update, so timing all 1,000 would take minutes.
   */
  every: number;
  /** Stop after this many updates (a warm-up run). */
  limit?: number;
}

export interface RenderBenchPage {
  run(contender: Contender, options: RunOptions): Promise<RenderRun>;
}

export const TASKS = 10_000;
export const SERVICES = 1_000;
export const AGENTS = 100;
export const UPDATES = 1_000;
