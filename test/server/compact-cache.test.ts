// The master's chunked compact task table (server/master/compact-cache.ts): what it writes is the
// table of the tasks it was told of, in the order they came, however they changed; it writes
// only the chunks that changed; its strings table starts again once it has doubled; and the
// chunks that stopped changing are written ahead, a few at a time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactTasks, expandCompactTasks, type CompactTasks } from '../../protocol/compact-tasks.js';
import type { TaskView } from '../../protocol/types.js';
import { CHUNK, CompactTaskCache } from '../../server/master/compact-cache.js';
import { mockTask } from '../support/builders.js';

const STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED'] as const;

function task(i: number, over: Partial<TaskView> = {}): TaskView {
  return mockTask({
    id: `app-${i % 7}.${i}`,
    agentId: `agent-${i % 13}`,
    name: `app-${i % 7}`,
    labels: { YAGURA_APP_ID: `/app-${i % 7}` },
    state: 'TASK_STAGING',
    createdAt: 1_000_000 + i,
    updatedAt: 1_000_000 + i,
    ...over,
  });
}

/** The cache's table, expanded: what a dashboard reads from it. */
const read = (cache: CompactTaskCache) => expandCompactTasks(JSON.parse(cache.json()) as CompactTasks);

describe('CompactTaskCache', () => {
  it('writes the table of the tasks it holds, in the order they first came, through changes and deletes', () => {
    const cache = new CompactTaskCache();
    // the master's own map: a changed task keeps its place, a deleted one leaves it
    const held = new Map<string, TaskView>();
    const put = (t: TaskView) => {
      held.set(t.id, t);
      cache.put(t);
    };
    const del = (id: string) => {
      held.delete(id);
      cache.delete(id);
    };
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const n = 3 * CHUNK + 17;
    for (let i = 0; i < n; i++) put(task(i));
    assert.deepEqual(read(cache), expandCompactTasks(compactTasks(held.values())));
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 300; k++) {
        const ids = [...held.keys()];
        const id = ids[rand(ids.length)]!;
        const op = rand(10);
        if (op < 6) {
          const t = held.get(id)!;
          put({ ...t, state: STATES[rand(STATES.length)]!, updatedAt: t.updatedAt + 5, healthy: rand(2) === 0, message: `m ${k}`, reason: 'REASON_COMMAND_EXECUTOR_FAILED' });
        } else if (op < 9) del(id);
        else put(task(n + round * 1000 + k)); // a new task, at the end
      }
      // a task deleted and made again with the same id goes to the end, as in a Map
      const again = [...held.values()][rand(held.size)]!;
      del(again.id);
      put({ ...again, updatedAt: again.updatedAt + 1 });
      assert.deepEqual(read(cache), expandCompactTasks(compactTasks(held.values())), `round ${round}`);
    }
    // the JSON is the JSON of a table: its rows only, in order
    assert.deepEqual((JSON.parse(cache.json()) as CompactTasks).rows.map((r) => r[0]), [...held.keys()]);
  });

  it('writes again only the chunks whose tasks changed', () => {
    const cache = new CompactTaskCache();
    for (let i = 0; i < 5 * CHUNK; i++) cache.put(task(i));
    assert.equal(cache.unwritten, 5);
    cache.json();
    assert.equal(cache.unwritten, 0);
    cache.put(task(3, { state: 'TASK_RUNNING' }));
    cache.put(task(4 * CHUNK + 1, { state: 'TASK_RUNNING' }));
    assert.equal(cache.unwritten, 2);
    const rows = (JSON.parse(cache.json()) as CompactTasks).rows;
    assert.equal(cache.unwritten, 0);
    assert.equal(rows.length, 5 * CHUNK);
    // the rewritten rows say the new state; the others still point at their strings
    const tasks = expandCompactTasks(JSON.parse(cache.json()) as CompactTasks);
    assert.deepEqual([tasks[3]!.state, tasks[4 * CHUNK + 1]!.state, tasks[5]!.state], ['TASK_RUNNING', 'TASK_RUNNING', 'TASK_STAGING']);
  });

  it('starts its strings table again once it has doubled, and drops chunks that emptied', () => {
    const cache = new CompactTaskCache();
    for (let i = 0; i < 2 * CHUNK; i++) cache.put(task(i));
    const first = JSON.parse(cache.json()) as CompactTasks;
    // the tasks move to agents never seen before, many times over: each move leaves a string
    for (let round = 1; round <= 4; round++) {
      for (let i = 0; i < 2 * CHUNK; i++) cache.put(task(i, { agentId: `agent-r${round}-${i}` }));
      cache.json();
    }
    const last = JSON.parse(cache.json()) as CompactTasks;
    assert.ok(last.strings.length <= 2 * (first.strings.length + 2 * CHUNK) + 1024, `${last.strings.length} strings`);
    assert.equal(new Set(last.strings).size, last.strings.length, 'each string once');
    assert.equal(expandCompactTasks(last)[7]!.agentId, 'agent-r4-7');
    // a full chunk whose tasks all left is gone: its rows and its slot
    for (let i = 0; i < CHUNK; i++) cache.delete(task(i).id);
    assert.equal((JSON.parse(cache.json()) as CompactTasks).rows.length, CHUNK);
    for (let i = CHUNK; i < 2 * CHUNK; i++) cache.delete(task(i).id);
    assert.deepEqual(JSON.parse(cache.json()), { strings: (JSON.parse(cache.json()) as CompactTasks).strings, rows: [] });
  });

  it('writes ahead, at most so many a call, the chunks that did not change since the call before last', () => {
    const cache = new CompactTaskCache();
    for (let i = 0; i < 4 * CHUNK; i++) cache.put(task(i));
    assert.equal(cache.prewrite(3), 0, 'changed since the last call: not yet');
    assert.equal(cache.prewrite(3), 3);
    cache.put(task(3 * CHUNK + 5, { state: 'TASK_RUNNING' })); // the last chunk changes again
    assert.equal(cache.prewrite(3), 0, 'the last one changed just now');
    assert.equal(cache.unwritten, 1);
    cache.prewrite(3);
    assert.equal(cache.prewrite(3), 0, 'nothing left to write');
    assert.equal(cache.unwritten, 0);
    assert.deepEqual(read(cache).map((t) => t.state)[3 * CHUNK + 5], 'TASK_RUNNING');
  });
});
