// The tasks of a compact snapshot: what a dashboard that says `compact: true` in its hello gets
// instead of one TaskSummary object per task. With 100,000 tasks the objects are ~35 MB, most
// of it the same field names and the same framework, agent and service ids over and over; the
// table is a third of that. The master keeps it written in chunks (server/master/compact-cache.ts).
//
// `strings` holds each distinct name, framework id, agent id, state, service and reason once;
// a row points into it by index. A row is
//
//   [id, name, framework, agent, state, cpus, mem, createdAt,
//    updatedAt, service, startedAt, endedAt, healthy, exitCode, reason, message]
//
// where name, framework, agent, state, service and reason are indexes into `strings`;
// updatedAt, startedAt and endedAt are milliseconds after createdAt; an absent field is null,
// and the nulls at the end of a row are left off.

import type { StatusReason, TaskState, TaskSummary, TaskView } from './types.js';

export type CompactTaskRow = Array<string | number | boolean | null>;

export interface CompactTasks {
  strings: string[];
  rows: CompactTaskRow[];
}

/** What the table reads of a task: a TaskView, or the master's own record of it. */
export type CompactTaskSource = Pick<
  TaskView,
  'id' | 'name' | 'frameworkId' | 'agentId' | 'state' | 'resources' | 'labels' | 'createdAt' | 'updatedAt' | 'startedAt' | 'endedAt' | 'healthy' | 'exitCode' | 'reason' | 'message'
>;

/**
 * Makes the rows of one table: its strings, each once, and the index of each. A builder may be
 * kept across tables (the master's CompactTaskCache does): an index, once given, never changes.
 */
export class TableBuilder {
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();
  // Tasks come in the order they were made, so neighbours mostly share their name, framework,
  // state and service: the last one of each is checked before the map.
  private name = '';
  private nameRef = -1;
  private fw = '';
  private fwRef = -1;
  private state = '';
  private stateRef = -1;
  private service = '';
  private serviceRef = -1;

  private ref(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.index.set(s, i);
    }
    return i;
  }

  row(t: CompactTaskSource): CompactTaskRow {
    const c = t.createdAt;
    if (t.name !== this.name) this.nameRef = this.ref((this.name = t.name));
    if (t.frameworkId !== this.fw) this.fwRef = this.ref((this.fw = t.frameworkId));
    if (t.state !== this.state) this.stateRef = this.ref((this.state = t.state));
    const svc = t.labels.YAGURA_APP_ID;
    if (svc && svc !== this.service) this.serviceRef = this.ref((this.service = svc));
    const row: CompactTaskRow = [
      t.id,
      this.nameRef,
      this.fwRef,
      this.ref(t.agentId),
      this.stateRef,
      t.resources.cpus,
      t.resources.mem,
      c,
      t.updatedAt - c,
      svc ? this.serviceRef : null,
      t.startedAt === undefined ? null : t.startedAt - c,
      t.endedAt === undefined ? null : t.endedAt - c,
      t.healthy ?? null,
      t.exitCode ?? null,
      t.reason === undefined ? null : this.ref(t.reason),
      t.message ?? null,
    ];
    let n = row.length;
    while (n > 10 && row[n - 1] === null) n--;
    row.length = n;
    return row;
  }
}

/** The table of these tasks. */
export function compactTasks(tasks: Iterable<CompactTaskSource>): CompactTasks {
  const b = new TableBuilder();
  const rows: CompactTaskRow[] = [];
  for (const t of tasks) rows.push(b.row(t));
  return { strings: b.strings, rows };
}

const bad = (i: number, what: string): Error => new Error(`compact task row ${i}: ${what}`);

/** The summaries of a table; throws on a malformed one (the caller asks for a fresh snapshot). */
export function expandCompactTasks(table: CompactTasks): TaskSummary[] {
  const { strings, rows } = table ?? ({} as CompactTasks);
  if (!Array.isArray(strings) || !Array.isArray(rows)) throw new Error('a compact task table has strings and rows');
  const out = new Array<TaskSummary>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Array.isArray(r) || r.length < 10 || typeof r[0] !== 'string') throw bad(i, 'not a task row');
    const str = (k: number): string => {
      const s = strings[r[k] as number];
      if (typeof s !== 'string') throw bad(i, `field ${k} is no string index`);
      return s;
    };
    const num = (k: number): number => {
      const v = r[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(i, `field ${k} is no number`);
      return v;
    };
    const c = num(7);
    const s: TaskSummary = {
      id: r[0],
      name: str(1),
      frameworkId: str(2),
      agentId: str(3),
      state: str(4) as TaskState,
      cpus: num(5),
      mem: num(6),
      createdAt: c,
      updatedAt: c + num(8),
    };
    if (r[9] != null) s.service = str(9);
    if (r[10] != null) s.startedAt = c + num(10);
    if (r[11] != null) s.endedAt = c + num(11);
    if (r[12] != null) {
      if (typeof r[12] !== 'boolean') throw bad(i, 'healthy is no boolean');
      s.healthy = r[12];
    }
    if (r[13] != null) s.exitCode = num(13);
    if (r[14] != null) s.reason = str(14) as StatusReason;
    if (r[15] != null) {
      if (typeof r[15] !== 'string') throw bad(i, 'message is no string');
      s.message = r[15];
    }
    out[i] = s;
  }
  return out;
}
