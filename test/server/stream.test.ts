import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterEvent, StreamServerMessage } from '../../protocol/types.js';
import { fakeAgentConnection, registerMessage, startMaster, StreamClient, waitFor, type TestMaster } from '../support/cluster.js';

type Snapshot = Extract<StreamServerMessage, { type: 'snapshot' }>;
const snapshotOf = (msgs: StreamServerMessage[]) => msgs.find((m): m is Snapshot => m.type === 'snapshot');
const eventsOf = (msgs: StreamServerMessage[]): ClusterEvent[] => msgs.flatMap((m) => (m.type === 'events' ? m.events : []));

describe('dashboard stream', () => {
  let m: TestMaster;
  const clients: StreamClient[] = [];
  const client = (opts?: ConstructorParameters<typeof StreamClient>[1]) => {
    const c = new StreamClient(m.url, opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    m = await startMaster({ stream: { maxBufferedBytes: 256 * 1024, coalesceMs: 5 } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await m.dispose();
  });

  it('sends a snapshot, then every change as ordered, numbered events', async () => {
    m.master.registerAgent(fakeAgentConnection(), registerMessage('before-subscribe'));
    await m.master.commit();
    const c = client();
    await c.opened();
    c.send({ type: 'hello', token: m.adminToken });
    const snap = await c.until(snapshotOf);
    assert.equal(snap.epoch, m.master.epoch);
    assert.ok(snap.agents.some((a) => a.hostname === 'before-subscribe'), 'snapshot holds the existing agent');

    for (let i = 0; i < 5; i++) m.master.registerAgent(fakeAgentConnection(), registerMessage(`agent-${i}`));
    await m.master.commit();
    const events = await c.until((msgs) => {
      const evs = eventsOf(msgs).filter((e) => e.kind === 'agent' && e.op === 'put');
      return evs.length >= 5 && evs;
    });
    const all = eventsOf(c.messages);
    assert.equal(all[0]!.seq, snap.seq + 1, 'events continue right after the snapshot');
    for (let i = 1; i < all.length; i++) assert.equal(all[i]!.seq, all[i - 1]!.seq + 1, 'no gaps, no reordering');
    assert.deepEqual(
      events.map((e) => (e.op === 'put' && e.kind === 'agent' ? e.data.hostname : '')),
      ['agent-0', 'agent-1', 'agent-2', 'agent-3', 'agent-4'],
    );
  });

  it('resumes from a sequence number without a snapshot', async () => {
    const a = client();
    await a.opened();
    a.send({ type: 'hello', token: m.adminToken });
    const snap = await a.until(snapshotOf);
    a.close();
    m.master.registerAgent(fakeAgentConnection(), registerMessage('while-away-1'));
    m.master.registerAgent(fakeAgentConnection(), registerMessage('while-away-2'));
    await m.master.commit();

    const b = client();
    await b.opened();
    b.send({ type: 'hello', token: m.adminToken, epoch: snap.epoch, seq: snap.seq });
    const missed = await b.until((msgs) => {
      const hosts = eventsOf(msgs).flatMap((e) => (e.kind === 'agent' && e.op === 'put' ? [e.data.hostname] : []));
      return hosts.includes('while-away-2') && hosts;
    });
    assert.deepEqual(missed, ['while-away-1', 'while-away-2']);
    assert.equal(snapshotOf(b.messages), undefined, 'no snapshot when the server still has the missed events');
    assert.equal(eventsOf(b.messages)[0]!.seq, snap.seq + 1);
  });

  it('sends a fresh snapshot for an unknown epoch or a sequence number it no longer has', async () => {
    const c = client();
    await c.opened();
    c.send({ type: 'hello', token: m.adminToken, epoch: 'another-run', seq: 3 });
    const snap = await c.until(snapshotOf);
    assert.equal(snap.seq, m.master.events.seq);
  });

  it('drops a stalled client at the queue bound while another keeps receiving', async () => {
    const stalled = client();
    const healthy = client();
    await Promise.all([stalled.opened(), healthy.opened()]);
    stalled.send({ type: 'hello', token: m.adminToken });
    healthy.send({ type: 'hello', token: m.adminToken });
    await stalled.until(snapshotOf);
    await healthy.until(snapshotOf);
    const hubBefore = m.hub.size;
    // stop reading: the kernel buffers fill, then the server's queue grows
    stalled.ws.pause();
    // flood until the cut-off: how much the loopback socket buffers absorb first varies by machine
    const big = 'x'.repeat(20_000);
    let last = '';
    for (let i = 0; i < 5_000 && m.hub.size !== hubBefore - 1; i++) {
      last = `flood-${i}`;
      m.master.registerAgent(fakeAgentConnection(), registerMessage(last, { attributes: { filler: big } }));
      if (i % 50 === 49) {
        await m.master.commit();
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await m.master.commit();
    await waitFor(() => m.hub.size === hubBefore - 1, 10_000, 'the stalled client to be cut off');
    await healthy.until((msgs) => eventsOf(msgs).some((e) => e.kind === 'agent' && e.op === 'put' && e.data.hostname === last), 10_000);
    assert.equal(healthy.closeCode, undefined, 'the healthy client stays connected');
  });

  it('refuses a missing or wrong token with 4401', async () => {
    const none = client();
    await none.opened();
    none.send({ type: 'hello' });
    assert.equal(await none.closed(), 4401);
    const wrong = client();
    await wrong.opened();
    wrong.send({ type: 'hello', token: 'nope' });
    assert.equal(await wrong.closed(), 4401);
  });

  it('accepts the token in Sec-WebSocket-Protocol and refuses a foreign Origin', async () => {
    const c = client({ protocols: ['yagura.v1', `bearer.${m.adminToken}`] });
    await c.opened();
    assert.equal(c.ws.protocol, 'yagura.v1', 'the token is never echoed back as the protocol');
    c.send({ type: 'hello' });
    await c.until(snapshotOf);

    const foreign = client({ origin: 'https://evil.example' });
    await assert.rejects(foreign.opened(), /403/);
    const same = client({ origin: m.url });
    await same.opened();
  });

  it('closes on an oversized frame with 1009', async () => {
    const c = client();
    await c.opened();
    c.ws.send(JSON.stringify({ type: 'hello', token: 'x'.repeat(200 * 1024) }));
    assert.equal(await c.closed(), 1009);
  });

  it('closes on a malformed message with 4400', async () => {
    const c = client();
    await c.opened();
    c.ws.send('{not json');
    assert.equal(await c.closed(), 4400);
  });
});
