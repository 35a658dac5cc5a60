// server/api/json-stream.ts: a JSON document whose long arrays are written a chunk per turn.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deferred, jsonChunks, jsonStream } from '../../server/api/json-stream.js';

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ i, name: `task-${i}`, tags: i % 2 ? ['a'] : [] }));

async function read(stream: NodeJS.ReadableStream): Promise<string[]> {
  const out: string[] = [];
  for await (const c of stream) out.push(String(c));
  return out;
}

test('the text is JSON.stringify of the document with each Deferred as its rendered array', () => {
  const render = (x: { i: number; name: string }) => ({ id: x.name, n: x.i * 2 });
  const doc = {
    head: 'first',
    tricky: 'a "quoted" \\u2028 string, and one like a placeholder: "00000000-0000-0000-0000-000000000000:0"',
    none: new Deferred([]),
    list: new Deferred(items(2500), render),
    nested: { deeper: [1, new Deferred(items(3)), { x: new Deferred(items(1001), render) }] },
    plain: [1, 2, 3],
    tail: null,
  };
  const expected = JSON.stringify({
    ...doc,
    none: [],
    list: items(2500).map(render),
    nested: { deeper: [1, items(3), { x: items(1001).map(render) }] },
  });
  for (const chunk of [1, 7, 1000, 5000]) {
    assert.equal([...jsonChunks(doc, chunk)].join(''), expected, `chunk ${chunk}`);
  }
  // a document without a Deferred is one string
  assert.deepEqual([...jsonChunks({ a: [1], b: 'x' })], ['{"a":[1],"b":"x"}']);
  // outside jsonChunks a Deferred is the array it stands for
  assert.equal(JSON.stringify({ d: new Deferred([1, 2], (n) => n * 10) }), '{"d":[10,20]}');
});

test('the long arrays are written one chunk per turn of the event loop', async () => {
  const doc = { tasks: new Deferred(items(5000)), agents: new Deferred(items(2500)) };
  let turns = 0;
  let counting = true;
  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const chunks = await read(jsonStream(doc, 1000));
  counting = false;
  assert.deepEqual(JSON.parse(chunks.join('')), { tasks: items(5000), agents: items(2500) });
  // 5 + 3 chunks of items: other work ran between them
  assert.ok(turns >= 8, `only ${turns} turns while ${chunks.length} chunks were written`);
});

test('kept texts: an item is rendered once, a replaced item afresh, and the text is the same', () => {
  const texts = new WeakMap<{ i: number; name: string }, string>();
  let renders = 0;
  const render = (x: { i: number; name: string }) => {
    renders++;
    return { id: x.name, n: x.i };
  };
  const list = items(10);
  const first = [...jsonChunks({ t: new Deferred(list, render, texts) }, 3)].join('');
  assert.equal(first, JSON.stringify({ t: list.map((x) => ({ id: x.name, n: x.i })) }));
  assert.equal(renders, 10);
  // a change replaces the item (as the master replaces a task record): only that one is rendered
  const changed = [...list];
  changed[4] = { ...list[4]!, name: 'renamed' };
  const second = [...jsonChunks({ t: new Deferred(changed, render, texts) }, 3)].join('');
  assert.equal(second, JSON.stringify({ t: changed.map((x) => ({ id: x.name, n: x.i })) }));
  assert.equal(renders, 11);
});
