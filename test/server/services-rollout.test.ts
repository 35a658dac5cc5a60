import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelaySeconds, converge, rollingRestart, stopAll, type InstanceInfo } from '../../server/frameworks/services/rollout.js';

let seq = 0;
const inst = (version: string, ready = true, extra: Partial<InstanceInfo> = {}): InstanceInfo => ({
  taskId: `t${++seq}`,
  version,
  ready,
  counted: true,
  expunge: false,
  createdAt: seq,
  ...extra,
});

/** Drive a rolling restart to completion, making each launched instance ready on the next round. */
function simulate(old: number, target: number, m: number, o: number) {
  let instances = Array.from({ length: old }, () => inst('v1'));
  let maxTotal = instances.length;
  let minReady = instances.length;
  for (let round = 0; round < 50; round++) {
    const d = rollingRestart(instances, target, 'v2', { minimumHealthCapacity: m, maximumOverCapacity: o }, 'YOUNGEST_FIRST');
    if (d.done) return { rounds: round, maxTotal, minReady, instances };
    instances = instances.filter((i) => !d.kill.includes(i.taskId)).map((i) => ({ ...i, ready: true }));
    minReady = Math.min(minReady, instances.filter((i) => i.ready).length);
    instances.push(...Array.from({ length: d.launch }, () => inst('v2', false)));
    maxTotal = Math.max(maxTotal, instances.length);
  }
  throw new Error('the restart never finished');
}

describe('rolling restart', () => {
  it('with Marathon defaults (1, 1) starts all replacements before killing any old instance', () => {
    const first = rollingRestart([inst('v1'), inst('v1'), inst('v1')], 3, 'v2', { minimumHealthCapacity: 1, maximumOverCapacity: 1 }, 'YOUNGEST_FIRST');
    assert.equal(first.launch, 3);
    assert.deepEqual(first.kill, []);
    const r = simulate(3, 3, 1, 1);
    assert.equal(r.minReady, 3, 'never below full health');
    assert.ok(r.instances.every((i) => i.version === 'v2'));
  });

  it('keeps at least ceil(n × minimumHealthCapacity) ready and at most floor(n × (1 + maximumOverCapacity))', () => {
    for (const [m, o] of [[0.5, 0], [0.5, 0.5], [0, 0], [1, 0.25], [0.75, 0.2]] as const) {
      const r = simulate(4, 4, m, o);
      assert.ok(r.minReady >= Math.ceil(4 * m), `m=${m} o=${o}: ${r.minReady} ready at worst`);
      assert.ok(r.maxTotal <= Math.max(4, Math.floor(4 * (1 + o))), `m=${m} o=${o}: ${r.maxTotal} instances at most`);
      assert.equal(r.instances.length, 4);
    }
  });

  it('makes progress with minimumHealthCapacity 1 and maximumOverCapacity 0, one at a time', () => {
    const r = simulate(2, 2, 1, 0);
    assert.equal(r.maxTotal, 2);
    assert.ok(r.instances.every((i) => i.version === 'v2'));
  });

  it('waits for new instances to be ready before killing old ones when capacity is full', () => {
    const d = rollingRestart([inst('v1'), inst('v1'), inst('v2', false), inst('v2', false)], 2, 'v2', { minimumHealthCapacity: 1, maximumOverCapacity: 1 }, 'YOUNGEST_FIRST');
    assert.deepEqual(d, { launch: 0, kill: [], done: false });
  });

  it('kills old instances that serve nothing right away', () => {
    const sick = inst('v1', false);
    const d = rollingRestart([inst('v1'), sick], 2, 'v2', { minimumHealthCapacity: 1, maximumOverCapacity: 0 }, 'YOUNGEST_FIRST');
    assert.ok(d.kill.includes(sick.taskId));
  });
});

describe('converge', () => {
  it('launches what is missing and kills extras, youngest first by default', () => {
    assert.equal(converge([inst('v1')], 3, 'v1', 'YOUNGEST_FIRST').launch, 2);
    const a = inst('v1');
    const b = inst('v1');
    const c = inst('v1');
    assert.deepEqual(converge([a, b, c], 1, 'v1', 'YOUNGEST_FIRST').kill, [c.taskId, b.taskId]);
    assert.deepEqual(converge([a, b, c], 2, 'v1', 'OLDEST_FIRST').kill, [a.taskId]);
  });

  it('does not count inactive unreachable instances, and kills expunged ones', () => {
    const away = inst('v1', false, { counted: false });
    const gone = inst('v1', false, { counted: false, expunge: true });
    const d = converge([inst('v1'), away, gone], 2, 'v1', 'YOUNGEST_FIRST');
    assert.equal(d.launch, 1, 'the inactive one is replaced');
    assert.deepEqual(d.kill, [gone.taskId]);
  });

  it('is done only when every counted instance is ready and current', () => {
    assert.equal(converge([inst('v1'), inst('v1', false)], 2, 'v1', 'YOUNGEST_FIRST').done, false);
    assert.equal(converge([inst('v1'), inst('v1')], 2, 'v1', 'YOUNGEST_FIRST').done, true);
    assert.equal(converge([inst('v0'), inst('v1')], 2, 'v1', 'YOUNGEST_FIRST').done, false);
  });

  it('stops everything', () => {
    const all = [inst('v1'), inst('v1')];
    assert.deepEqual(stopAll(all).kill, all.map((i) => i.taskId));
    assert.equal(stopAll([]).done, true);
  });
});

describe('backoff', () => {
  it('grows by the factor and stops at the maximum', () => {
    assert.equal(backoffDelaySeconds(0, 1, 2, 60), 0);
    assert.equal(backoffDelaySeconds(1, 1, 2, 60), 1);
    assert.equal(backoffDelaySeconds(3, 1, 2, 60), 4);
    assert.equal(backoffDelaySeconds(10, 1, 2, 60), 60);
    assert.ok(Math.abs(backoffDelaySeconds(2, 1, 1.15, 300) - 1.15) < 1e-9);
  });
});
