// A JSON document written across turns of the event loop. A big read (the Mesos state document
// of 30,000 tasks is ~15 MB) serialized in one go holds the master's one thread for the whole of
// it: placement, agent links and every other request wait. Here the document's long arrays are
// `Deferred`: JSON.stringify writes the rest at once with a placeholder for each, and the arrays
// are then written `chunk` items at a time, one chunk per turn, into a stream the reply pipes.
//
// What the document says is fixed when it is built: the items of a Deferred are taken then (the
// master's task views are frozen and replaced on change, never changed in place), so a document
// written over several turns still tells one moment.

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** An array whose items are rendered and written a chunk at a time; stands for `items.map(render)`. */
export class Deferred<T = unknown> {
  token = '';
  constructor(
    readonly items: readonly T[],
    readonly render: (item: T) => unknown = (item) => item,
    /**
     * Items' texts kept from earlier documents, by item. Only for items that are never changed
     * in place and whose rendering depends on nothing else (the master's frozen task records).
     */
    readonly texts?: WeakMap<T & object, string>,
  ) {}

  /** One item's JSON text. */
  text(item: T): string {
    const texts = this.texts;
    if (texts === undefined || typeof item !== 'object' || item === null) return JSON.stringify(this.render(item)) ?? 'null';
    let text = texts.get(item);
    if (text === undefined) {
      text = JSON.stringify(this.render(item)) ?? 'null';
      texts.set(item, text);
    }
    return text;
  }

  /** JSON.stringify meets the Deferreds in the order of the text: each leaves a placeholder. */
  toJSON(): unknown {
    if (!splitting) return this.items.map((item) => this.render(item));
    this.token = `${splitting.nonce}:${splitting.met.length}`;
    splitting.met.push(this);
    return this.token;
  }
}

/** The document being split, while JSON.stringify runs (synchronously). */
let splitting: { nonce: string; met: Array<Deferred<any>> } | undefined;

/** Items per turn: ~0.5 MB of Mesos tasks, some milliseconds of work. */
export const CHUNK = 1000;

/**
 * The text of `doc` as a sequence of strings, the Deferred arrays `chunk` items per string.
 * Synchronous: the caller decides where the turns go (see jsonStream).
 */
export function* jsonChunks(doc: unknown, chunk = CHUNK): Generator<string> {
  const deferred: Array<Deferred<any>> = [];
  splitting = { nonce: randomUUID(), met: deferred };
  let head: string;
  try {
    head = JSON.stringify(doc);
  } finally {
    splitting = undefined;
  }
  if (deferred.length === 0) {
    yield head;
    return;
  }
  // the placeholders appear in the text in the order they were met
  let at = 0;
  for (const d of deferred) {
    const mark = `"${d.token}"`;
    const i = head.indexOf(mark, at);
    if (i < 0) throw new Error('json-stream: a placeholder went missing');
    yield `${head.slice(at, i)}[`;
    for (let start = 0; start < d.items.length; start += chunk) {
      const end = Math.min(d.items.length, start + chunk);
      const parts: string[] = [];
      for (let k = start; k < end; k++) parts.push(d.text(d.items[k]!));
      yield (start > 0 ? ',' : '') + parts.join(',');
    }
    yield ']';
    at = i + mark.length;
  }
  yield head.slice(at);
}

/** jsonChunks as a stream for a reply: one chunk per turn of the event loop. */
export function jsonStream(doc: unknown, chunk = CHUNK): Readable {
  const it = jsonChunks(doc, chunk);
  return Readable.from(
    (async function* () {
      for (const text of it) {
        yield text;
        await nextTurn();
      }
    })(),
    { objectMode: false },
  );
}
