// S4: WebSocket abuse. Foreign origins, missing auth, oversized frames (whole and fragmented),
// message and connection floods, a reader that stalls: each abuser is refused or closed with
// the documented code, and a well-behaved dashboard client connected all along sees every
// event, in order, without a gap.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLOSE } from '../../protocol/types.js';
import { fakeAgentConnection, registerMessage } from '../support/cluster.js';
import { call, figures, LONG, startSeeded, waitFor, WsProbe, type Seeded } from './support.js';

const MiB = 1024 * 1024;

describe('S4: WebSocket abuse', { timeout: 180_000 }, () => {
  let s: Seeded;
  let healthy: WsProbe;
  const probes: WsProbe[] = [];
  const probe = (path: string, opts: ConstructorParameters<typeof WsProbe>[1] = {}) => {
    const p = new WsProbe(`${s.m.url}${path}`, opts);
    probes.push(p);
    return p;
  };
  const stream = '/api/v1/stream';
  let tail: string;

  /** Makes one numbered change the healthy client must see. */
  let marks = 0;
  const mark = async (description = 'mark') => {
    const r = await s.api('POST', '/v1/jobs', { body: { id: `mark-${++marks}`, description, run: { cmd: 'true', cpus: 0.1, mem: 32 } } });
    assert.equal(r.status, 201, r.text);
    return marks;
  };
  const saw = (p: WsProbe, n: number) => p.messages.some((m) => m.type === 'events' && m.events.some((e: any) => e.kind === 'job' && e.id === `mark-${n}`));
  const healthySaw = (n: number) => saw(healthy, n);

  before(async () => {
    s = await startSeeded({ stream: { helloTimeoutMs: 500, maxBufferedBytes: 256 * 1024, coalesceMs: 5 } });
    tail = `/files/tasks/${encodeURIComponent(s.taskId)}/tail?path=stdout`;
    healthy = probe(stream, { protocols: ['yagura.v1', `bearer.${s.viewer}`] });
    assert.equal(await healthy.opened(), 'open');
    healthy.send({ type: 'hello' });
    assert.ok(await healthy.until((m) => m.type === 'snapshot'));
  });

  after(async () => {
    for (const p of probes) p.close();
    await s?.dispose();
  });

  it('refuses a foreign Origin on every browser endpoint, even with a valid token (403)', async () => {
    const origins = ['https://evil.example', 'null', `http://127.0.0.1.evil.example`, s.m.url.replace('127.0.0.1', 'localhost'), `${s.m.url}.evil.example`];
    const paths = [stream, tail, `/service/${s.appId.slice(1)}/`];
    let refused = 0;
    for (const origin of origins) {
      for (const path of paths) {
        const p = probe(path, { origin, protocols: ['yagura.v1', `bearer.${s.m.adminToken}`] });
        await p.opened();
        assert.equal(p.refusedWith, 403, `${path} from ${origin}`);
        refused++;
      }
    }
    const same = probe(stream, { origin: s.m.url, protocols: ['yagura.v1'] });
    assert.equal(await same.opened(), 'open', 'the same origin is let in');
    figures(`S4: ${origins.length} foreign origins × ${paths.length} endpoints: ${refused}/${origins.length * paths.length} refused with 403`);
  });

  it('closes unauthenticated sockets with 4401 (no hello, no token, wrong token) and 4400 for anything but hello first', async () => {
    const cases: Array<[string, string, (p: WsProbe) => void, number]> = [
      ['stream, silent', stream, () => undefined, CLOSE.UNAUTHORIZED],
      ['stream, hello without token', stream, (p) => p.send({ type: 'hello' }), CLOSE.UNAUTHORIZED],
      ['stream, hello with a wrong token', stream, (p) => p.send({ type: 'hello', token: 'yga_wrong' }), CLOSE.UNAUTHORIZED],
      ['stream, ping before hello', stream, (p) => p.send({ type: 'ping' }), CLOSE.BAD_MESSAGE],
      ['stream, unknown type', stream, (p) => p.send({ type: 'subscribe', topic: '*' }), CLOSE.BAD_MESSAGE],
      ['stream, binary frame', stream, (p) => p.send(Buffer.from([1, 2, 3])), CLOSE.BAD_MESSAGE],
      ['stream, not JSON', stream, (p) => p.send('hello?'), CLOSE.BAD_MESSAGE],
      ['tail, hello without token', tail, (p) => p.send({ type: 'hello' }), CLOSE.UNAUTHORIZED],
      ['tail, wrong token', tail, (p) => p.send({ type: 'hello', token: 'yga_wrong' }), CLOSE.UNAUTHORIZED],
      ['tail, not JSON', tail, (p) => p.send('{'), CLOSE.UNAUTHORIZED],
    ];
    for (const [what, path, act, code] of cases) {
      const p = probe(path);
      assert.equal(await p.opened(), 'open', what);
      act(p);
      assert.equal(await p.closed(), code, what);
      assert.equal(p.messages.length, 0, `${what}: nothing was sent to it`);
    }
    figures(`S4: ${cases.length} unauthenticated or malformed openings, ${cases.length} closed with 4401/4400 before any data`);
  });

  it('closes on 1 MiB frames, whole or fragmented (1009), before or after auth', async () => {
    const big = JSON.stringify({ type: 'hello', token: 'x'.repeat(MiB) });
    const cases: Array<[string, WsProbe, boolean]> = [];
    cases.push(['stream before auth', probe(stream), false]);
    const authed = probe(stream, { protocols: ['yagura.v1', `bearer.${s.viewer}`] });
    cases.push(['stream after auth', authed, true]);
    cases.push(['tail before auth', probe(tail), false]);
    cases.push(['tail after auth', probe(tail, { protocols: ['yagura.v1', `bearer.${s.viewer}`] }), false]);
    let closed = 0;
    for (const [what, p, hello] of cases) {
      assert.equal(await p.opened(), 'open', what);
      if (hello) {
        p.send({ type: 'hello' });
        assert.ok(await p.until((m) => m.type === 'snapshot'), what);
      }
      p.send(big);
      assert.equal(await p.closed(), CLOSE.TOO_BIG, what);
      closed++;
    }
    // 1 MiB in 16 fragments of 64 KiB: the limit holds for the whole message
    const frag = probe(stream);
    await frag.opened();
    const piece = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 16; i++) frag.ws.send(piece, { fin: i === 15, binary: false });
    assert.equal(await frag.closed(), CLOSE.TOO_BIG, 'fragmented');
    closed++;
    // the agent link allows larger replies (sandbox files) but not garbage, even from a holder of the secret
    const agent = probe('/api/v1/agent', { headers: { authorization: `Bearer ${s.m.agentSecret}` } });
    await agent.opened();
    agent.send('x'.repeat(MiB));
    assert.equal(await agent.closed(), CLOSE.BAD_MESSAGE, 'agent link, 1 MiB of garbage');
    closed++;
    await mark().then((n) => waitFor(() => healthySaw(n), 10_000, 'the healthy client to see the change'));
    figures(`S4: ${closed} sockets sent 1 MiB frames: ${closed} closed (1009, or 4400 for garbage on the agent link); the healthy client kept receiving`);
  });

  it('survives message and connection floods; abusers are closed, the healthy client misses nothing', async () => {
    const n = LONG ? 200_000 : 20_000;
    // an authenticated flood of pings: cheap keepalives, read and dropped
    const pinger = probe(stream, { protocols: ['yagura.v1', `bearer.${s.viewer}`] });
    await pinger.opened();
    pinger.send({ type: 'hello' });
    assert.ok(await pinger.until((m) => m.type === 'snapshot'));
    const ping = JSON.stringify({ type: 'ping' });
    for (let i = 0; i < n; i++) pinger.ws.send(ping);
    // an authenticated flood of anything else ends at its first message
    const chatter = probe(stream, { protocols: ['yagura.v1', `bearer.${s.viewer}`] });
    await chatter.opened();
    chatter.send({ type: 'hello' });
    assert.ok(await chatter.until((m) => m.type === 'snapshot'));
    for (let i = 0; i < 1000; i++) chatter.send({ type: 'hello' });
    // a crowd of sockets that never authenticate
    const crowdSize = LONG ? 500 : 100;
    const crowd = Array.from({ length: crowdSize }, () => probe(stream));
    await Promise.all(crowd.map((c) => c.opened()));
    // meanwhile the master answers and the healthy client keeps up
    const health = await call(s.m.url, 'GET', '/health');
    assert.equal(health.status, 200);
    const seen = await mark();
    await waitFor(() => healthySaw(seen), 20_000, 'the healthy client to see the change during the flood');
    assert.equal(await chatter.closed(), CLOSE.BAD_MESSAGE, 'a second hello closes');
    const codes = await Promise.all(crowd.map((c) => c.closed(20_000)));
    assert.deepEqual([...new Set(codes)], [CLOSE.UNAUTHORIZED], 'every silent socket is closed at the hello deadline');
    // the pinger is still served: its pings were only keepalives
    const after = await mark();
    await waitFor(() => healthySaw(after) && saw(pinger, after), 20_000, 'both to see the next change');
    assert.equal(pinger.closeCode, undefined);
    figures(`S4: ${n} pings from one client, 1000 hellos from another (closed 4400), ${crowdSize} silent sockets (all closed 4401); the healthy client saw every change`);
  });

  it('cuts off a client that stops reading (4408) without slowing the others', async () => {
    const stalled = probe(stream, { protocols: ['yagura.v1', `bearer.${s.viewer}`] });
    await stalled.opened();
    stalled.send({ type: 'hello' });
    assert.ok(await stalled.until((m) => m.type === 'snapshot'));
    stalled.ws.pause();
    const hubBefore = s.m.hub.size;
    // big changes, fast: agents with 20 KB attributes (the kernel's socket buffers take megabytes first)
    const filler = 'x'.repeat(20_000);
    let last = 0;
    for (let i = 0; i < 2000 && s.m.hub.size === hubBefore; i++) {
      s.m.master.registerAgent(fakeAgentConnection(), registerMessage(`filler-${i}`, { attributes: { filler } }));
      last = i;
      if (i % 50 === 49) await s.m.master.commit();
    }
    await s.m.master.commit();
    await waitFor(() => s.m.hub.size === hubBefore - 1, 20_000, 'the stalled client to be cut off');
    const lastHost = `filler-${last}`;
    await waitFor(() => healthy.messages.some((m) => m.type === 'events' && m.events.some((e: any) => e.kind === 'agent' && e.data?.hostname === lastHost)), 20_000, 'the healthy client to see the last change');
    stalled.ws.resume();
    assert.equal(await stalled.closed(), CLOSE.TOO_SLOW);
    // the healthy client's events are gapless
    const seqs = healthy.messages.filter((m) => m.type === 'events').flatMap((m) => m.events.map((e: any) => e.seq));
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'no gap in the healthy client\'s events');
    assert.equal(healthy.closeCode, undefined);
    figures(`S4: a stalled reader was cut off with 4408 after ${last + 1} changes of 20 KB; the healthy client received ${seqs.length} events without a gap`);
  });
});
