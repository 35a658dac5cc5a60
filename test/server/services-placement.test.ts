// Services on real agents: constraints across several agents (distinct hostnames on one
// machine), a crash loop's backoff, unreachable agents, and a master restart mid-deployment.

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTerminal, type TaskView } from '../../protocol/types.js';
import { waitFor } from '../support/cluster.js';
import { app, servicesCluster, type ServicesCluster } from '../support/services.js';
import { APP_VERSION_LABEL } from '../../server/frameworks/services/services.js';

const live = (c: ServicesCluster, id: string): TaskView[] => c.m.services.tasksOf(id).filter((t) => !isTerminal(t.state));
const running = (c: ServicesCluster, id: string) => live(c, id).filter((t) => t.state === 'TASK_RUNNING');
const hostOf = (c: ServicesCluster, t: TaskView) => c.m.master.getAgent(t.agentId)!.hostname;

describe('services on several agents', { timeout: 120_000 }, () => {
  let c: ServicesCluster | undefined;
  afterEach(async () => {
    await c?.dispose();
    c = undefined;
  });

  it('spreads UNIQUE hostname instances one per agent and says why the rest waits', async () => {
    c = await servicesCluster();
    for (const h of ['node-1', 'node-2', 'node-3']) await c.addAgent(h);
    await c.m.services.deploy([{ id: '/uniq', to: app({ id: '/uniq', cmd: 'sleep 600', instances: 3, cpus: 0.1, mem: 32, constraints: [['hostname', 'UNIQUE']] }) }]);
    await waitFor(() => running(c!, '/uniq').length === 3, 20_000, '3 running');
    assert.deepEqual(running(c, '/uniq').map((t) => hostOf(c!, t)).sort(), ['node-1', 'node-2', 'node-3']);
    await waitFor(() => c!.m.services.listDeployments().length === 0, 10_000, 'the deployment to finish');

    const before = c.m.services.getApp('/uniq')!.def;
    await c.m.services.deploy([{ id: '/uniq', to: { ...before, instances: 4 } }]);
    const view = await waitFor(() => {
      const v = c!.m.services.serviceView('/uniq');
      return v?.waiting?.includes('the placement constraints rule it out') && v;
    }, 10_000, 'a waiting reason');
    assert.equal(view.status, 'Deploying');
    assert.equal(running(c, '/uniq').length, 3, 'never two on one host');
    const q = c.m.services.queueEntries().find((e) => e.appId === '/uniq');
    assert.equal(q?.count, 1);
    assert.ok((q?.reasons.UnfulfilledConstraint ?? 0) > 0);
  });

  it('keeps a Docker app waiting with a clear reason when no agent offers Docker', async () => {
    c = await servicesCluster();
    await c.addAgent('plain');
    await c.m.services.deploy([{ id: '/boxed', to: app({ id: '/boxed', instances: 1, cpus: 0.1, mem: 32, container: { type: 'DOCKER', docker: { image: 'nginx:1.27' } } }) }]);
    const v = await waitFor(() => c!.m.services.serviceView('/boxed')?.waiting?.includes('container runtime') && c!.m.services.serviceView('/boxed'), 10_000, 'the waiting reason');
    assert.match(v.waiting!, /no agent offers the container runtime it needs \(e\.g\. Docker\)/);
    assert.equal(c.m.services.tasksOf('/boxed').length, 0, 'nothing launched');
  });

  it('spreads GROUP_BY zone evenly', async () => {
    c = await servicesCluster();
    await c.addAgent('za-1', { attributes: { zone: 'a' } });
    await c.addAgent('zb-1', { attributes: { zone: 'b' } });
    await c.addAgent('zb-2', { attributes: { zone: 'b' } });
    await c.m.services.deploy([{ id: '/zoned', to: app({ id: '/zoned', cmd: 'sleep 600', instances: 4, cpus: 0.1, mem: 32, constraints: [['zone', 'GROUP_BY']] }) }]);
    await waitFor(() => running(c!, '/zoned').length === 4, 20_000, '4 running');
    const zones = running(c, '/zoned').map((t) => c!.m.master.getAgent(t.agentId)!.attributes.zone);
    assert.equal(zones.filter((z) => z === 'a').length, 2);
    assert.equal(zones.filter((z) => z === 'b').length, 2);
  });

  it('delays relaunches of a crash loop by a growing backoff', async () => {
    c = await servicesCluster();
    await c.addAgent('crashy');
    await c.m.services.deploy([{ id: '/crash', to: app({ id: '/crash', cmd: 'exit 1', instances: 1, cpus: 0.1, mem: 32, backoffSeconds: 1, backoffFactor: 1.5, maxLaunchDelaySeconds: 10 }) }]);
    await waitFor(() => (c!.m.services.getApp('/crash')?.backoff.failures ?? 0) >= 3, 30_000, '3 failures');
    const launches = c.m.services
      .tasksOf('/crash')
      .map((t) => t.createdAt)
      .sort((a, b) => a - b);
    const gaps = launches.slice(1).map((t, i) => t - launches[i]!);
    // each relaunch waits at least its backoff: 1 s, then 1.5 s
    assert.ok(gaps.length >= 2);
    gaps.slice(0, 2).forEach((gap, i) => assert.ok(gap >= 1000 * 1.5 ** i - 50, `gap ${i} was ${gap} ms`));
    const rec = c.m.services.getApp('/crash')!;
    // after 3 failures the next launch waits 1 × 1.5² = 2.25 s from the last failure
    assert.ok(rec.backoff.delayUntil - rec.lastTaskFailure!.timestamp >= 2000, `delay ${rec.backoff.delayUntil - rec.lastTaskFailure!.timestamp} ms`);
    const v = c.m.services.serviceView('/crash')!;
    assert.equal(v.lastTaskFailure?.state, 'TASK_FAILED');
    assert.match(v.lastTaskFailure?.message ?? '', /status 1/);
    // a new version starts without the delay
    // its first deployment never completes (nothing stays up): the fix is forced over it
    await c.m.services.deploy([{ id: '/crash', to: app({ id: '/crash', cmd: 'sleep 600', instances: 1, cpus: 0.1, mem: 32 }) }], { force: true });
    assert.equal(c.m.services.getApp('/crash')!.backoff.failures, 0);
    await waitFor(() => running(c!, '/crash').length === 1, 10_000, 'the fixed version runs');
  });

  it('delays relaunches by the backoff also when the disk is slow (the end is seen before its update arrives)', async () => {
    c = await servicesCluster();
    // every commit takes 300 ms, as on a slow disk: a tick sees the task's end in the master
    // (watchTasks) long before the framework's update, which comes after the commit
    const store = (c.m.master as unknown as { store: { writeAsync(b: unknown): Promise<void> } }).store;
    const write = store.writeAsync.bind(store);
    store.writeAsync = async (b) => {
      await new Promise((r) => setTimeout(r, 300));
      return write(b);
    };
    await c.addAgent('slowdisk');
    await c.m.services.deploy([{ id: '/crash2', to: app({ id: '/crash2', cmd: 'exit 1', instances: 1, cpus: 0.1, mem: 32, backoffSeconds: 1, backoffFactor: 1.5, maxLaunchDelaySeconds: 10 }) }]);
    await waitFor(() => c!.m.services.tasksOf('/crash2').length >= 3, 30_000, '3 launches');
    const launches = c.m.services
      .tasksOf('/crash2')
      .map((t) => t.createdAt)
      .sort((a, b) => a - b);
    const gaps = launches.slice(1).map((t, i) => t - launches[i]!);
    gaps.slice(0, 2).forEach((gap, i) => assert.ok(gap >= 1000 * 1.5 ** i - 50, `gap ${i} was ${gap} ms`));
    // each failure counted once: after 2 failures the delay is 1 × 1.5 = 1.5 s, not more
    const rec = c.m.services.getApp('/crash2')!;
    assert.ok(rec.backoff.failures >= 2 && rec.backoff.failures <= 3, `failures ${rec.backoff.failures}`);
  });

  it('replaces instances of an unreachable agent, and kills the extras when it returns', async () => {
    c = await servicesCluster();
    const flaky = await c.addAgent('flaky');
    await c.m.services.deploy([
      { id: '/keep', to: app({ id: '/keep', cmd: 'sleep 600', instances: 2, cpus: 0.1, mem: 32, unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 120 } }) },
    ]);
    await waitFor(() => running(c!, '/keep').length === 2, 20_000, '2 running on flaky');
    const originals = running(c, '/keep').map((t) => t.id).sort();
    await c.addAgent('steady');
    await flaky.stop(); // the link drops and heartbeats stop; its tasks keep running
    await waitFor(() => live(c!, '/keep').filter((t) => t.state === 'TASK_UNREACHABLE').length === 2, 10_000, 'UNREACHABLE');
    await waitFor(() => running(c!, '/keep').filter((t) => hostOf(c!, t) === 'steady').length === 2, 20_000, 'replacements on steady');

    const back = await c.addAgent('flaky'); // same work dir: the same agent returns
    c.agents.set('flaky', back);
    await waitFor(() => {
      const ts = live(c!, '/keep');
      return ts.length === 2 && ts.every((t) => t.state === 'TASK_RUNNING') && ts;
    }, 20_000, 'settled at the target');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(live(c, '/keep').length, 2, 'never more than the target once settled');
    assert.ok(originals.length === 2);
  });

  it('launches new work after a master restart that found it idle (suppressed)', async () => {
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'yagura-svc-idle-'));
    c = await servicesCluster({}, dir);
    await c.addAgent('idle');
    await c.m.services.deploy([{ id: '/first', to: app({ id: '/first', cmd: 'sleep 600', instances: 1, cpus: 0.1, mem: 32 }) }]);
    await waitFor(() => running(c!, '/first').length === 1 && c!.m.services.listDeployments().length === 0, 20_000, 'settled');
    await waitFor(() => c!.m.master.getFramework('yagura-services')?.suppressed === true, 5000, 'suppressed while idle');
    for (const a of c.agents.values()) await a.stop();
    await c.m.close();
    const c2 = await servicesCluster({}, dir);
    c = c2;
    await c2.addAgent('idle');
    await c2.m.services.deploy([{ id: '/second', to: app({ id: '/second', cmd: 'sleep 600', instances: 1, cpus: 0.1, mem: 32 }) }]);
    await waitFor(() => running(c2, '/second').length === 1, 20_000, 'the new app to run');
  });

  it('resumes a deployment after a master restart', async () => {
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'yagura-svc-restart-'));
    c = await servicesCluster({}, dir);
    await c.addAgent('small', { resources: { cpus: 0.15, mem: 64 } });
    const d = await c.m.services.deploy([{ id: '/big', to: app({ id: '/big', cmd: 'sleep 600', instances: 2, cpus: 0.1, mem: 32 }) }]);
    await waitFor(() => running(c!, '/big').length === 1, 20_000, 'one of two fits');
    assert.equal(c.m.services.listDeployments()[0]?.id, d.id);

    // restart the master on the same data directory
    for (const a of c.agents.values()) await a.stop();
    await c.m.close();
    const c2 = await servicesCluster({}, dir);
    c = c2;
    assert.deepEqual(c2.m.services.listDeployments().map((x) => x.id), [d.id], 'the deployment is still there');
    assert.deepEqual(c2.m.services.versions('/big'), [d.version], 'the stored versions are known again');
    assert.equal(c2.m.services.version('/big', d.version)?.cmd, 'sleep 600');
    await c2.addAgent('small', { resources: { cpus: 0.15, mem: 64 } });
    await c2.addAgent('more');
    await waitFor(() => c2.m.services.listDeployments().length === 0, 20_000, 'the deployment to finish');
    const ts = running(c2, '/big');
    assert.equal(ts.length, 2);
    assert.ok(ts.every((t) => t.labels[APP_VERSION_LABEL] === d.version));
  });
});
