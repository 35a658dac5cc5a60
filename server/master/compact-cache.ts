// The compact task table of the dashboard snapshot (protocol/compact-tasks.ts), kept in chunks.
//
// Writing the table anew for every dashboard that connects read every task record: 100,000
// records scattered over the master's heap, ~200 ms of cache misses and garbage. Here each
// task has a slot, in the order the master first held it (its map's order, so the table lists
// the tasks as before); a chunk of CHUNK slots keeps its rows as JSON until one of its tasks
// changes. A snapshot joins the chunks, writing only the changed ones. The strings table is
// kept too, so a row written once stays right: indexes never change. It only grows (agents and
// apps that are gone leave their strings), so when it has doubled since a snapshot first wrote
// it whole, it starts again and every chunk is written anew.
//
// Chunks that stopped changing are also written ahead, a few per second (`prewrite`), so the
// first dashboard after a burst of changes does not pay for all of them.

import { TableBuilder, type CompactTaskRow, type CompactTaskSource } from '../../protocol/compact-tasks.js';

/** Tasks per chunk. */
export const CHUNK = 1000;

interface Chunk {
  readonly tasks: Array<CompactTaskSource | undefined>;
  live: number;
  /** Its rows as JSON, without the brackets ('' when it has none); undefined until written. */
  json: string | undefined;
  /** The `tick` of its last change. */
  changedAt: number;
}

export class CompactTaskCache {
  private slots = new Map<string, number>();
  private chunks: Array<Chunk | undefined> = [];
  private nextSlot = 0;
  private table = new TableBuilder();
  /** The table's size when a snapshot last wrote it whole (-1: not since it started again). */
  private tableBase = -1;
  private tick = 0;

  /** A task was created or changed (records are replaced, never changed in place). */
  put(t: CompactTaskSource): void {
    let slot = this.slots.get(t.id);
    if (slot === undefined) {
      slot = this.nextSlot++;
      this.slots.set(t.id, slot);
    }
    const k = Math.floor(slot / CHUNK);
    let c = this.chunks[k];
    if (!c) c = this.chunks[k] = { tasks: [], live: 0, json: undefined, changedAt: this.tick };
    const i = slot - k * CHUNK;
    if (c.tasks[i] === undefined) c.live++;
    c.tasks[i] = t;
    c.json = undefined;
    c.changedAt = this.tick;
  }

  /** A task left the master's memory. */
  delete(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.slots.delete(id);
    const k = Math.floor(slot / CHUNK);
    const c = this.chunks[k]!;
    c.tasks[slot - k * CHUNK] = undefined;
    c.json = undefined;
    c.changedAt = this.tick;
    // a chunk that no new task can enter is dropped once empty
    if (--c.live === 0 && (k + 1) * CHUNK <= this.nextSlot) this.chunks[k] = undefined;
  }

  /** The table as JSON: `{"strings":[…],"rows":[…]}`. */
  json(): string {
    if (this.tableBase >= 0 && this.table.strings.length > 2 * this.tableBase + 1024) this.restart();
    const parts: string[] = [];
    for (const c of this.chunks) {
      if (!c) continue;
      if (c.json === undefined) this.write(c);
      if (c.json) parts.push(c.json);
    }
    if (this.tableBase < 0) this.tableBase = this.table.strings.length;
    return `{"strings":${JSON.stringify(this.table.strings)},"rows":[${parts.join(',')}]}`;
  }

  /**
   * Called once a second: writes up to `max` chunks that have not changed since the call before
   * the last (so a chunk still filling up is not written over and over).
   */
  prewrite(max = 10): number {
    this.tick++;
    let n = 0;
    for (const c of this.chunks) {
      if (n >= max) break;
      if (c && c.json === undefined && c.changedAt < this.tick - 1) {
        this.write(c);
        n++;
      }
    }
    return n;
  }

  /** How many chunks wait to be written (for tests). */
  get unwritten(): number {
    return this.chunks.filter((c) => c && c.json === undefined).length;
  }

  private write(c: Chunk): void {
    const rows: CompactTaskRow[] = [];
    for (const t of c.tasks) if (t) rows.push(this.table.row(t));
    c.json = rows.length ? JSON.stringify(rows).slice(1, -1) : '';
  }

  private restart(): void {
    this.table = new TableBuilder();
    this.tableBase = -1;
    for (const c of this.chunks) if (c) c.json = undefined;
  }
}
