// A real HTTP service on real agents with health checks: healthy instances, scaling, a
// health-gated rolling update, and replacement of instances whose health check fails.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isTerminal, type TaskView } from '../../protocol/types.js';
import { waitFor } from '../support/cluster.js';
import { app, servicesCluster, type ServicesCluster } from '../support/services.js';
import { ROOT } from '../support/processes.js';
import { APP_VERSION_LABEL } from '../../server/frameworks/services/services.js';

const WEB = join(ROOT, 'test', 'fixtures', 'services', 'web.cjs');
const check = (path = '/health', extra: Record<string, unknown> = {}) => ({
  protocol: 'HTTP', path, portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 2, delaySeconds: 0, ...extra,
});
const webApp = (instances: number, extra: Record<string, unknown> = {}) =>
  app({ id: '/web', cmd: `node ${WEB}`, instances, cpus: 0.1, mem: 64, healthChecks: [check()], ...extra });

describe('a health-checked service', { timeout: 180_000 }, () => {
  let c: ServicesCluster;
  const live = (id = '/web'): TaskView[] => c.m.services.tasksOf(id).filter((t) => !isTerminal(t.state));
  const view = (id = '/web') => c.m.services.serviceView(id)!;
  const settled = (id: string, n: number) =>
    waitFor(() => {
      const v = view(id);
      return v.tasksHealthy === n && v.tasksRunning === n && live(id).length === n && c.m.services.deploymentsOf(id).length === 0 && v;
    }, 60_000, `${id} to settle at ${n} healthy`);

  before(async () => {
    c = await servicesCluster();
    await c.addAgent('web-1', { resources: { cpus: 2, mem: 2048 } });
    await c.addAgent('web-2', { resources: { cpus: 2, mem: 2048 } });
  });
  after(() => c.dispose());

  it('deploys 3 instances that become healthy', async () => {
    await c.m.services.deploy([{ id: '/web', to: webApp(3) }]);
    const v = await settled('/web', 3);
    assert.equal(v.status, 'Running');
    assert.equal(v.healthChecked, true);
  });

  it('scales to 5 and back to 2', async () => {
    await c.m.services.deploy([{ id: '/web', to: webApp(5) }]);
    await settled('/web', 5);
    await c.m.services.deploy([{ id: '/web', to: webApp(2) }]);
    await settled('/web', 2);
  });

  it('holds a rolling update whose new version never becomes healthy, keeping the old instances', async () => {
    const before = live().map((t) => t.id).sort();
    const broken = await c.m.services.deploy([{ id: '/web', to: webApp(2, { healthChecks: [check('/unhealthy', { gracePeriodSeconds: 60 })] }) }]);
    // the new instances start but never turn healthy; the old ones must stay
    await waitFor(() => live().filter((t) => t.labels[APP_VERSION_LABEL] === broken.version && t.state === 'TASK_RUNNING').length === 2, 30_000, 'new instances running');
    await new Promise((r) => setTimeout(r, 3000));
    const old = live().filter((t) => before.includes(t.id));
    assert.equal(old.length, 2, 'no old instance was killed while the new ones are unhealthy');
    assert.ok(old.every((t) => t.healthy === true));
    assert.equal(c.m.services.deploymentsOf('/web')[0]?.id, broken.id, 'the deployment waits');
    assert.equal(view().status, 'Deploying');

    // a fixed version replaces it (forced over the stuck deployment) and completes
    const fixed = await c.m.services.deploy([{ id: '/web', to: webApp(2, { env: { RELEASE: '3' } }) }], { force: true });
    await settled('/web', 2);
    assert.ok(live().every((t) => t.labels[APP_VERSION_LABEL] === fixed.version));
  });

  it('kills and replaces an instance whose health check starts failing', async () => {
    await c.m.services.deploy([{ id: '/flaky', to: app({ id: '/flaky', cmd: `node ${WEB}`, instances: 1, cpus: 0.1, mem: 64, env: { FAIL_AFTER: '3' }, healthChecks: [check('/health', { gracePeriodSeconds: 5 })] }) }]);
    const first = await waitFor(() => live('/flaky').find((t) => t.healthy === true), 30_000, 'healthy first');
    // after 3 good answers it fails twice in a row: the agent kills it, the framework replaces it
    const ended = await waitFor(() => {
      const t = c.m.master.getTask(first.id);
      return t && isTerminal(t.state) && t;
    }, 30_000, 'the unhealthy instance killed');
    assert.equal(ended.state, 'TASK_KILLED');
    assert.equal(ended.healthy, false);
    await waitFor(() => live('/flaky').some((t) => t.id !== first.id && t.state === 'TASK_RUNNING'), 30_000, 'a replacement');
  });
});
