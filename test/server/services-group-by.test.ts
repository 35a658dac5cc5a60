// GROUP_BY when the offers at hand come from some zones only: the services framework knows
// which other zones have room (agents that made it no offer now), places no further ahead there
// than evenness allows, and spreads once their offers come. Marathon knew only the values of
// the offers at hand, so offers from one zone put every instance in that zone.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { isTerminal } from '../../protocol/types.js';
import { SERVICES_FRAMEWORK_ID } from '../../server/frameworks/services/services.js';
import { fakeAgentConnection, registerMessage, startMaster, waitFor, type TestMaster } from '../support/cluster.js';
import { subscribeScheduler, type RecordingScheduler } from '../support/scheduler.js';
import { app } from '../support/services.js';

const ROOM = { cpus: 8, mem: 8192, disk: 1000, ports: [[31000, 31100]] as Array<[number, number]> };

/** A master with zone a's agent free for the services framework, and zones b and c offered to another framework that sits on them. */
async function cluster(): Promise<{ m: TestMaster; hog: RecordingScheduler; perZone: (id: string) => Record<string, number> }> {
  const m = await startMaster({ master: { allocationIntervalMs: 50 }, servicesTickMs: 50 });
  const agents = new Map<string, string>(); // agent id → zone
  const hog = await subscribeScheduler(m.master, 'hog');
  for (const zone of ['b', 'c']) agents.set(m.master.registerAgent(fakeAgentConnection(), registerMessage(`node-${zone}`, { resources: ROOM, attributes: { zone } }))!, zone);
  await waitFor(() => hog.offerList.length === 2, 5000, 'the offers of zones b and c to the other framework');
  m.master.suppress(hog.frameworkId);
  agents.set(m.master.registerAgent(fakeAgentConnection(), registerMessage('node-a', { resources: ROOM, attributes: { zone: 'a' } }))!, 'a');
  await m.master.commit();
  const perZone = (id: string) => {
    const count: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (const t of m.services.tasksOf(id)) if (!isTerminal(t.state)) count[agents.get(t.agentId)!]!++;
    return count;
  };
  return { m, hog, perZone };
}

const spread = app({ id: '/spread', cmd: 'sleep 600', instances: 6, cpus: 0.1, mem: 32, constraints: [['zone', 'GROUP_BY']] });

describe('services: GROUP_BY with offers from some zones only', { timeout: 60_000 }, () => {
  let m: TestMaster | undefined;
  afterEach(async () => {
    await m?.dispose();
    m = undefined;
  });

  it('waits for the zones that have room instead of piling onto the one it has offers from, and spreads when their offers come', async () => {
    const c = await cluster();
    m = c.m;
    await m.services.deploy([{ id: '/spread', to: spread }]);
    await waitFor(() => c.perZone('/spread').a > 0, 5000, 'an instance in zone a');
    // several launch cycles with zone a's offer alone
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(c.perZone('/spread'), { a: 1, b: 0, c: 0 });
    assert.equal(m.services.queueEntries().find((e) => e.appId === '/spread')?.count, 5, 'the rest waits');
    // the other framework lets go of zones b and c: their offers reach the services framework
    m.master.decline(c.hog.frameworkId, c.hog.offerList.map((o) => o.id), 60);
    await waitFor(() => m!.services.tasksOf('/spread').length === 6, 5000, 'all six placed');
    assert.deepEqual(c.perZone('/spread'), { a: 2, b: 2, c: 2 });
  });

  it('asks at once for the agents with room that it declined a moment ago, not at the next cycle', async () => {
    // the master's clock stands still: decline filters never lapse, and no full cycle comes
    // (every 60 s); only an agent offered on request can reach the services framework
    m = await startMaster({ master: { allocationIntervalMs: 60_000, now: () => 1_000_000 }, servicesTickMs: 50 });
    const zones = new Map<string, string>();
    // an app that fits nowhere keeps the framework busy, so it declines (1 s) rather than suppresses
    await m.services.deploy([{ id: '/huge', to: app({ id: '/huge', cmd: 'sleep 600', instances: 1, cpus: 64, mem: 32 }) }]);
    for (const zone of ['a', 'b', 'c']) zones.set(m.master.registerAgent(fakeAgentConnection(), registerMessage(`node-${zone}`, { resources: ROOM, attributes: { zone } }))!, zone);
    await waitFor(() => m!.master.listOffers().length === 0 && m!.services.queueEntries().some((e) => e.appId === '/huge' && e.offersProcessed >= 3), 5000, 'the three offers declined');
    // no offer is at hand and none would come for a minute: the app asks for agents with room
    await m.services.deploy([{ id: '/spread', to: spread }]);
    await waitFor(() => m!.services.tasksOf('/spread').length === 6, 3000, 'all six placed, without waiting for a filter to lapse or a cycle');
    const count: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (const t of m.services.tasksOf('/spread')) count[zones.get(t.agentId)!]!++;
    assert.deepEqual(count, { a: 2, b: 2, c: 2 });
  });

  it('waits no longer than 5 s: then, as Marathon, it spreads over the values of the offers it has', async () => {
    const c = await cluster();
    m = c.m;
    const t0 = Date.now();
    await m.services.deploy([{ id: '/spread', to: spread }]);
    await waitFor(() => c.perZone('/spread').a > 0, 5000, 'an instance in zone a');
    await waitFor(() => m!.services.tasksOf('/spread').length === 6, 15_000, 'all six placed');
    assert.ok(Date.now() - t0 >= 5000, `placed after ${Date.now() - t0} ms`);
    assert.deepEqual(c.perZone('/spread'), { a: 6, b: 0, c: 0 });
  });
});

describe('services: instances waiting with no offer at hand', { timeout: 60_000 }, () => {
  let m: TestMaster | undefined;
  afterEach(async () => {
    await m?.dispose();
    m = undefined;
  });

  it('ask for agents they fit on at once, not at the next allocation cycle', async () => {
    // as above: no filter lapses and no full cycle comes for a minute
    m = await startMaster({ master: { allocationIntervalMs: 60_000, now: () => 1_000_000 }, servicesTickMs: 50 });
    await m.services.deploy([{ id: '/huge', to: app({ id: '/huge', cmd: 'sleep 600', instances: 1, cpus: 64, mem: 32 }) }]);
    const small = { cpus: 1, mem: 1024, disk: 100, ports: [[31000, 31010]] as Array<[number, number]> };
    for (const name of ['node-1', 'node-2', 'node-3', 'node-4']) m.master.registerAgent(fakeAgentConnection(), registerMessage(name, { resources: small }));
    await waitFor(() => m!.master.listOffers().length === 0 && m!.services.queueEntries().some((e) => e.appId === '/huge' && e.offersProcessed >= 4), 5000, 'the four offers declined');
    // 0.5 cpus an instance: two agents' worth, and no constraint to wait on
    await m.services.deploy([{ id: '/plain', to: app({ id: '/plain', cmd: 'sleep 600', instances: 4, cpus: 0.5, mem: 32 }) }]);
    // the next cycle is a minute away: 10 s is room for a loaded machine, not for a cycle
    await waitFor(() => m!.services.tasksOf('/plain').length === 4, 10_000, 'all four placed, without waiting for a filter to lapse or a cycle');
  });

  it('ask when the rate limit on asking allows, when it held an ask back, not at the next cycle', async () => {
    // no filter lapses, no full cycle and no periodic tick comes for a minute; asks at most every 2 s
    m = await startMaster({ master: { allocationIntervalMs: 60_000, now: () => 1_000_000 }, servicesTickMs: 60_000, servicesOfferNowEveryMs: 2000 });
    await m.services.deploy([{ id: '/huge', to: app({ id: '/huge', cmd: 'sleep 600', instances: 1, cpus: 64, mem: 32 }) }]);
    const small = { cpus: 1, mem: 1024, disk: 100, ports: [[31000, 31010]] as Array<[number, number]> };
    for (const name of ['node-1', 'node-2', 'node-3', 'node-4']) m.master.registerAgent(fakeAgentConnection(), registerMessage(name, { resources: small }));
    await waitFor(() => m!.master.listOffers().length === 0 && m!.services.queueEntries().some((e) => e.appId === '/huge' && e.offersProcessed >= 4), 5000, 'the four offers declined');
    const asks: number[] = [];
    const offerNow = m.master.offerNow.bind(m.master);
    m.master.offerNow = (frameworkId, agentIds) => {
      if (frameworkId === SERVICES_FRAMEWORK_ID) asks.push(Date.now());
      offerNow(frameworkId, agentIds);
    };
    const plain = (id: string) => app({ id, cmd: 'sleep 600', instances: 2, cpus: 0.5, mem: 32 });
    // the framework's read of the agents' room, taken while they had offers out, is kept 250 ms
    await new Promise((r) => setTimeout(r, 300));
    await m.services.deploy([{ id: '/first', to: plain('/first') }]);
    await waitFor(() => m!.services.tasksOf('/first').length === 2 && m!.master.listOffers().length === 0, 5000, "the first app placed by an ask, the asked agents' other offers declined");
    assert.equal(asks.length, 1);
    // posted within the limit of the first ask: nothing at hand, and the framework may not ask yet
    await m.services.deploy([{ id: '/second', to: plain('/second') }]);
    assert.ok(Date.now() - asks[0]! < 2000, 'the second app came within the limit (the machine stalled: the case is not exercised)');
    await waitFor(() => m!.services.tasksOf('/second').length === 2, 10_000, 'the second app placed by the ask held back, without waiting for a cycle');
    assert.equal(asks.length, 2);
    // the limit is measured from the start of the asking tick, the spy's clock a little later
    assert.ok(asks[1]! - asks[0]! >= 1500, `the second ask ${asks[1]! - asks[0]!} ms after the first: within the limit`);
  });

  it('ask again for an app that already had an ask in its wait at the periodic tick, not as often as the limit allows', async () => {
    // no filter lapses, no full cycle and no periodic tick comes for a minute; asks at most every 50 ms
    m = await startMaster({ master: { allocationIntervalMs: 60_000, now: () => 1_000_000 }, servicesTickMs: 60_000, servicesOfferNowEveryMs: 50 });
    const small = { cpus: 1, mem: 1024, disk: 100, ports: [[31000, 31010]] as Array<[number, number]> };
    for (const name of ['node-1', 'node-2', 'node-3']) m.master.registerAgent(fakeAgentConnection(), registerMessage(name, { resources: small }));
    await m.master.commit();
    const asks: number[] = [];
    const offerNow = m.master.offerNow.bind(m.master);
    m.master.offerNow = (frameworkId, agentIds) => {
      if (frameworkId === SERVICES_FRAMEWORK_ID) asks.push(Date.now());
      offerNow(frameworkId, agentIds);
    };
    // one instance per host on three hosts: the fourth has room on every agent, yet never a place
    await m.services.deploy([{ id: '/unique', to: app({ id: '/unique', cmd: 'sleep 600', instances: 4, cpus: 0.1, mem: 32, constraints: [['hostname', 'UNIQUE']] }) }]);
    await waitFor(() => m!.services.tasksOf('/unique').length === 3 && m!.master.listOffers().length === 0, 5000, 'three placed, the offers declined');
    await waitFor(() => asks.length > 0, 5000, 'an ask for the fourth');
    const before = asks.length;
    await new Promise((r) => setTimeout(r, 1000));
    // at most every 50 ms would be ~20 asks of the same agents in that second, on and on
    assert.ok(asks.length - before <= 1, `${asks.length - before} asks in a second for an instance that had one`);
    assert.equal(m.services.tasksOf('/unique').length, 3, 'the fourth still waits');
  });

  it('ask only for agents their constraints on the agent alone could accept', async () => {
    // no filter lapses and no full cycle comes: the app gets offers only from the agents asked for
    m = await startMaster({ master: { allocationIntervalMs: 60_000, now: () => 1_000_000 }, servicesTickMs: 50 });
    await m.services.deploy([{ id: '/huge', to: app({ id: '/huge', cmd: 'sleep 600', instances: 1, cpus: 64, mem: 32 }) }]);
    const small = { cpus: 1, mem: 1024, disk: 100, ports: [[31000, 31010]] as Array<[number, number]> };
    // 36 agents in racks the app refuses, then 4 it takes
    for (let i = 1; i <= 40; i++) {
      const attributes = { rack: i > 36 ? `fit-${i}` : `other-${i}` };
      m.master.registerAgent(fakeAgentConnection(), registerMessage(`node-${i}`, { resources: small, attributes }));
    }
    await waitFor(() => m!.master.listOffers().length === 0 && m!.services.queueEntries().some((e) => e.appId === '/huge' && e.offersProcessed >= 40), 5000, 'the forty offers declined');
    const asked: string[] = [];
    const offerNow = m.master.offerNow.bind(m.master);
    m.master.offerNow = (frameworkId, agentIds) => {
      const ids = [...agentIds];
      if (frameworkId === SERVICES_FRAMEWORK_ID) asked.push(...ids);
      offerNow(frameworkId, ids);
    };
    await m.services.deploy([{ id: '/picky', to: app({ id: '/picky', cmd: 'sleep 600', instances: 4, cpus: 0.5, mem: 32, constraints: [['rack', 'LIKE', 'fit-.*']] }) }]);
    await waitFor(() => m!.services.tasksOf('/picky').length === 4, 10_000, 'all four placed');
    const rack = (agentId: string) => m!.master.getAgent(agentId)!.attributes.rack!;
    assert.ok(m.services.tasksOf('/picky').every((t) => rack(t.agentId).startsWith('fit-')));
    // /huge fits on no agent, so every agent asked for was for /picky: none in a rack it refuses
    assert.ok(asked.length > 0, 'the framework asked for agents');
    assert.deepEqual(asked.map(rack).filter((r) => !r.startsWith('fit-')), []);
  });
});
