import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordio } from '../../server/api/mesos/recordio.js';
import { RecordIOParser } from '../support/mesos-client.js';

const events = [
  { type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f-1' }, heartbeat_interval_seconds: 15 } },
  { type: 'HEARTBEAT' },
  // multi-byte characters: the length prefix counts bytes, not UTF-16 units
  { type: 'UPDATE', update: { status: { task_id: { value: 'tâche-€-😀' }, state: 'TASK_RUNNING', message: 'ünïcödé\nnewline' } } },
];
const wire = Buffer.concat(events.map(recordio));

test('the server frames each event as <byte length>\\n<json>', () => {
  const first = recordio(events[2]);
  const nl = first.indexOf(0x0a);
  const length = Number(first.subarray(0, nl).toString('ascii'));
  const json = first.subarray(nl + 1);
  assert.equal(length, json.length);
  assert.notEqual(length, JSON.stringify(events[2]).length, 'the test event must contain multi-byte characters');
  assert.deepEqual(JSON.parse(json.toString('utf8')), events[2]);
});

test('the parser reads several records from one chunk', () => {
  const p = new RecordIOParser();
  assert.deepEqual(p.push(wire).map((r) => JSON.parse(r)), events);
  assert.equal(p.pending, 0);
});

test('the parser reassembles records split at every possible byte boundary', () => {
  for (let cut = 1; cut < wire.length; cut++) {
    const p = new RecordIOParser();
    const out = [...p.push(wire.subarray(0, cut)), ...p.push(wire.subarray(cut))];
    assert.deepEqual(out.map((r) => JSON.parse(r)), events, `split at byte ${cut}`);
  }
});

test('the parser copes with one byte at a time (splits inside the length and inside UTF-8 sequences)', () => {
  const p = new RecordIOParser();
  const out: string[] = [];
  for (const byte of wire) out.push(...p.push(Uint8Array.of(byte)));
  assert.deepEqual(out.map((r) => JSON.parse(r)), events);
});

test('the parser holds an incomplete record until the rest arrives', () => {
  const p = new RecordIOParser();
  const one = recordio(events[0]);
  assert.deepEqual(p.push(one.subarray(0, one.length - 1)), []);
  assert.equal(p.pending, one.length - one.indexOf(0x0a) - 2);
  assert.equal(p.push(one.subarray(one.length - 1)).length, 1);
});

test('the parser rejects a stream that is not RecordIO', () => {
  assert.throws(() => new RecordIOParser().push(Buffer.from('{"type":"SUBSCRIBED"}\n')), /bad record length/);
  assert.throws(() => new RecordIOParser().push(Buffer.from('x'.repeat(64))), /too long/);
});
