// S1: the auth matrix. Every route of the route table × every credential, every WebSocket
// endpoint × every credential, and every client→server socket message type × every credential:
// no call succeeds without the right to make it, and the refused calls change nothing.
// The expected access of each route is written down here: a route added without an entry fails.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, figures, fingerprint, firstDifference, startSeeded, WsProbe, type Seeded } from './support.js';
import { waitFor } from '../support/cluster.js';

/**
 * public: no token needed. read: any valid token. admin: an admin token only.
 * readOrAdmin: a read made with a non-GET method (Cosmos' POST /package/search…): a viewer may be
 * let in or refused, nobody without a token is. agentRead: any valid token or the agent secret.
 * operator: the per-call table below decides (the route declares viewerMay).
 */
type Access = 'public' | 'read' | 'admin' | 'readOrAdmin' | 'agentRead' | 'operator' | 'scheduler';

const ACCESS: Record<string, Access> = {
  'GET /health': 'public',
  'GET /': 'public',
  'GET /*': 'public',

  'GET /api/v1/agents': 'read',
  'GET /api/v1/agents/:id': 'read',
  'POST /api/v1/agents/:id/drain': 'admin',
  'POST /api/v1/agents/:id/reactivate': 'admin',
  'POST /api/v1/agents/:id/gone': 'admin',
  'GET /api/v1/tasks': 'read',
  'GET /api/v1/tasks/:id': 'read',
  'POST /api/v1/tasks/:id/kill': 'admin',
  'GET /api/v1/tokens': 'admin',
  'POST /api/v1/tokens': 'admin',
  'GET /files/tasks/:id/browse': 'read',
  'GET /files/tasks/:id/read': 'read',
  'GET /files/tasks/:id/download': 'read',

  'GET /artifacts': 'agentRead',
  'GET /artifacts/*': 'agentRead',
  'PUT /artifacts/*': 'admin',
  'DELETE /artifacts/*': 'admin',

  'GET /v1/jobs': 'read',
  'POST /v1/jobs': 'admin',
  'GET /v1/jobs/:id': 'read',
  'PUT /v1/jobs/:id': 'admin',
  'DELETE /v1/jobs/:id': 'admin',
  'GET /v1/jobs/:id/runs': 'read',
  'POST /v1/jobs/:id/runs': 'admin',
  'GET /v1/jobs/:id/runs/:runId': 'read',
  'POST /v1/jobs/:id/runs/:runId/actions/stop': 'admin',
  'POST /v1/jobs/:id/runs/:runId/action/stop': 'admin',
  'GET /v1/jobs/:id/schedules': 'read',
  'POST /v1/jobs/:id/schedules': 'admin',
  'GET /v1/jobs/:id/schedules/:scheduleId': 'read',
  'PUT /v1/jobs/:id/schedules/:scheduleId': 'admin',
  'DELETE /v1/jobs/:id/schedules/:scheduleId': 'admin',
  'POST /v1/scheduler/iso8601': 'admin',
  'POST /v1/scheduler/dependency': 'admin',
  'GET /v1/scheduler/jobs': 'read',
  'GET /v1/scheduler/jobs/search': 'read',
  'PUT /v1/scheduler/job/:name': 'admin',
  'DELETE /v1/scheduler/job/:name': 'admin',
  'DELETE /v1/scheduler/task/kill/:name': 'admin',
  'GET /v1/scheduler/graph/dot': 'read',

  'POST /api/v1/scheduler': 'scheduler',
  'POST /api/v1': 'operator',
  'GET /master/state': 'read',
  'GET /master/state.json': 'read',
  'GET /state.json': 'read',
  'GET /master/health': 'read',

  'GET /v2/apps': 'read',
  'POST /v2/apps': 'admin',
  'PUT /v2/apps': 'admin',
  'PATCH /v2/apps': 'admin',
  'GET /v2/apps/*': 'read',
  'PUT /v2/apps/*': 'admin',
  'PATCH /v2/apps/*': 'admin',
  'POST /v2/apps/*': 'admin',
  'DELETE /v2/apps/*': 'admin',
  'GET /v2/groups': 'read',
  'GET /v2/groups/*': 'read',
  'POST /v2/groups': 'admin',
  'POST /v2/groups/*': 'admin',
  'PUT /v2/groups': 'admin',
  'PUT /v2/groups/*': 'admin',
  'DELETE /v2/groups': 'admin',
  'DELETE /v2/groups/*': 'admin',
  'GET /v2/tasks': 'read',
  'POST /v2/tasks/delete': 'admin',
  'GET /v2/deployments': 'read',
  'DELETE /v2/deployments/:id': 'admin',
  'GET /v2/queue': 'read',
  'GET /v2/info': 'read',
  'GET /v2/leader': 'read',
  'GET /ping': 'read',
  'GET /v2/events': 'read',
  'GET /service/*': 'read',
  'POST /service/*': 'admin',
  'PUT /service/*': 'admin',
  'PATCH /service/*': 'admin',
  'DELETE /service/*': 'admin',

  // the Cosmos-shaped catalog (POST for reads, as Cosmos does)
  'POST /package/search': 'readOrAdmin',
  'POST /package/describe': 'readOrAdmin',
  'POST /package/list-versions': 'readOrAdmin',
  'POST /package/list': 'readOrAdmin',
  'POST /package/render': 'readOrAdmin',
  'POST /package/repository/list': 'readOrAdmin',
  'POST /package/install': 'admin',
  'POST /package/uninstall': 'admin',
  'POST /package/repository/add': 'admin',
  'POST /package/repository/delete': 'admin',
  'POST /package/repository/refresh': 'admin',
  'GET /package/builtin/repo.json': 'read',
};

/** Operator API calls: reads any token may make, writes only an admin may. */
const OPERATOR_READS = ['GET_HEALTH', 'GET_FLAGS', 'GET_VERSION', 'GET_METRICS', 'GET_MASTER', 'GET_STATE', 'GET_AGENTS', 'GET_FRAMEWORKS', 'GET_EXECUTORS', 'GET_TASKS', 'GET_ROLES', 'GET_WEIGHTS', 'SUBSCRIBE'];
const OPERATOR_WRITES = ['DRAIN_AGENT', 'REACTIVATE_AGENT', 'MARK_AGENT_GONE', 'TEARDOWN', 'UPDATE_WEIGHTS'];
/** Unsupported master.proto calls: refused for everyone (never a success). */
const OPERATOR_UNSUPPORTED = ['SET_LOGGING_LEVEL', 'RESERVE_RESOURCES', 'CREATE_VOLUMES', 'UPDATE_MAINTENANCE_SCHEDULE', 'START_MAINTENANCE', 'UPDATE_QUOTA', 'DEACTIVATE_AGENT'];
const SCHEDULER_CALLS = ['SUBSCRIBE', 'TEARDOWN', 'ACCEPT', 'DECLINE', 'REVIVE', 'SUPPRESS', 'KILL', 'ACKNOWLEDGE', 'RECONCILE', 'REQUEST', 'MESSAGE', 'SHUTDOWN'];

/** Every client→server message type this test sends, per socket. */
const AGENT_MESSAGE_TYPES = ['register', 'heartbeat', 'status', 'updates', 'files.reply', 'files.chunk', 'files.end'];
const STREAM_MESSAGE_TYPES = ['hello', 'ping'];

/** The `type` literals of a union in protocol/types.ts: what a client may send on that socket. */
function protocolTypes(union: string): string[] {
  const text = readFileSync(fileURLToPath(new URL('../../protocol/types.ts', import.meta.url)), 'utf8');
  const start = text.indexOf(`export type ${union} =`);
  assert.ok(start >= 0, `protocol/types.ts has no ${union}`);
  const end = text.indexOf('\nexport ', start + 1);
  return [...new Set([...text.slice(start, end < 0 ? undefined : end).matchAll(/type: '([A-Za-z.]+)'/g)].map((m) => m[1]!))];
}

type Cred = { name: string; header?: string; role: 'none' | 'agent' | 'viewer' | 'admin' };

/** Runs the jobs with at most `width` in flight. */
async function pool(jobs: Array<() => Promise<void>>, width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

describe('S1: auth matrix', { timeout: 180_000 }, () => {
  let s: Seeded;
  let creds: Cred[];
  let runId = 'no-such-run';

  before(async () => {
    s = await startSeeded();
    const run = await s.api('POST', `/v1/jobs/${s.jobId}/runs`, { body: {} });
    if (run.status === 201 || run.status === 200) runId = run.body.id;
    // wait for the run to settle (its task runs on the seeded agent, which never ends it): a
    // STARTING → ACTIVE while the refused calls are made would count as a change they made (it
    // did once, on a loaded machine)
    await waitFor(
      async () => {
        const runs = (await s.api('GET', `/v1/jobs/${s.jobId}?embed=activeRuns`)).body.activeRuns as Array<{ status: string }> | undefined;
        return runs !== undefined && runs.every((r) => r.status === 'ACTIVE');
      },
      30_000,
      'the seeded job run to be ACTIVE',
    );
    creds = [
      { name: 'no token', role: 'none' },
      { name: 'wrong Bearer token', header: 'Bearer yga_wrong-token', role: 'none' },
      { name: 'wrong Basic password', header: `Basic ${Buffer.from('admin:yga_wrong').toString('base64')}`, role: 'none' },
      { name: 'agent secret', header: `Bearer ${s.m.agentSecret}`, role: 'agent' },
      { name: 'viewer token', header: `Bearer ${s.viewer}`, role: 'viewer' },
      { name: 'admin token', header: `Basic ${Buffer.from(`anyone:${s.m.adminToken}`).toString('base64')}`, role: 'admin' },
    ];
  });
  after(() => s?.dispose());

  const concrete = (url: string): string => {
    const byParam: Record<string, string> = {};
    if (url.startsWith('/api/v1/agents/')) byParam.id = s.agent.id;
    if (url.startsWith('/api/v1/tasks/') || url.startsWith('/files/tasks/')) byParam.id = s.taskId;
    if (url.startsWith('/v1/jobs/')) Object.assign(byParam, { id: s.jobId, runId, scheduleId: s.scheduleId });
    if (url.startsWith('/v1/scheduler/')) byParam.name = s.chronosJob;
    let star = 'x';
    if (url.startsWith('/artifacts/')) star = s.artifact;
    if (url.startsWith('/v2/apps/')) star = s.appId.slice(1);
    if (url.startsWith('/v2/groups/')) star = 'fault';
    if (url.startsWith('/service/')) star = `${s.appId.slice(1)}/`;
    return url.replace(/:([A-Za-z_]+)/g, (_m, p: string) => encodeURIComponent(byParam[p] ?? 'x')).replace(/\*/g, star);
  };

  const entryOf = (method: string, url: string): Access | undefined => ACCESS[`${method === 'HEAD' ? 'GET' : method} ${url}`];

  /** A representative valid body for each operator write: a missing admin check would make it succeed. */
  const operatorBody = (type: string): Record<string, unknown> => {
    const agent = { agent_id: { value: s.agent.id } };
    switch (type) {
      case 'DRAIN_AGENT':
        return { type, drain_agent: agent };
      case 'REACTIVATE_AGENT':
        return { type, reactivate_agent: agent };
      case 'MARK_AGENT_GONE':
        return { type, mark_agent_gone: agent };
      case 'TEARDOWN':
        return { type, teardown: { framework_id: { value: 'yagura-services' } } };
      case 'UPDATE_WEIGHTS':
        return { type, update_weights: { weight_infos: [{ role: 'stolen', weight: 9 }] } };
      default:
        return { type };
    }
  };

  /** Is this answer an unauthorized success (or a wrongly refused, authorized call)? */
  const judge = (access: Access | 'operatorRead' | 'operatorWrite' | 'unsupported', cred: Cred, status: number): string | undefined => {
    const refusedAuth = status === 401;
    const refusedRole = status === 403;
    if (status >= 500 && status !== 502 && status !== 503) return `server error ${status}`;
    if (access === 'public') return refusedAuth ? 'public route refused' : undefined;
    if (cred.role === 'none' || (cred.role === 'agent' && access !== 'agentRead')) return refusedAuth ? undefined : `expected 401, got ${status}`;
    if (cred.role === 'agent') return refusedAuth || refusedRole ? `agent secret refused on an agent route (${status})` : undefined;
    const viewerMay = access === 'read' || access === 'agentRead' || access === 'operatorRead';
    if (cred.role === 'viewer') {
      if (access === 'readOrAdmin') return refusedAuth ? 'viewer got 401' : undefined;
      if (access === 'unsupported') return status < 400 ? `unsupported call succeeded (${status})` : undefined;
      if (viewerMay) return refusedAuth || refusedRole ? `viewer refused a read (${status})` : undefined;
      return refusedRole ? undefined : `expected 403 for a viewer, got ${status}`;
    }
    // admin
    if (access === 'unsupported') return status < 400 ? `unsupported call succeeded (${status})` : undefined;
    return refusedAuth || refusedRole ? `admin refused (${status})` : undefined;
  };

  it('covers every client→server message type of protocol/types.ts', () => {
    assert.deepEqual(protocolTypes('AgentToMaster').sort(), [...AGENT_MESSAGE_TYPES].sort(), 'agent message types: add the new one to this test');
    assert.deepEqual(protocolTypes('StreamClientMessage').sort(), [...STREAM_MESSAGE_TYPES].sort(), 'stream message types: add the new one to this test');
  });

  it('has an access entry for every route of the route table', () => {
    const missing = s.m.http.routeTable.filter((r) => !entryOf(r.method, r.url)).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], 'routes without an entry in the ACCESS table of this test: decide who may call them and add them');
    const wrongFlags = s.m.http.routeTable.filter((r) => {
      const a = entryOf(r.method, r.url);
      return (a === 'public') !== r.public || (a === 'agentRead') !== r.agentMay || (r.viewerMay && a !== 'operator' && a !== 'readOrAdmin');
    });
    assert.deepEqual(wrongFlags.map((r) => `${r.method} ${r.url}`), [], 'route config (public/agentMay/viewerMay) disagrees with the access table');
  });

  it('lets no call through without the right to make it, over HTTP', async () => {
    const before = await fingerprint(s);
    const failures: string[] = [];
    let calls = 0;
    const routes = s.m.http.routeTable;
    const order = [...creds.filter((c) => c.role !== 'admin'), ...creds.filter((c) => c.role === 'admin')];
    for (const cred of order) {
      if (cred.role === 'admin') {
        // everything below was refused: nothing may have changed
        const d = firstDifference(before, await fingerprint(s));
        if (d) failures.push(`state changed by refused calls: ${d}`);
      }
      const headers: Record<string, string> = cred.header ? { authorization: cred.header } : {};
      const jobs: Array<() => Promise<void>> = [];
      for (const r of routes) {
        const access = entryOf(r.method, r.url);
        if (!access) continue;
        const path = concrete(r.url);
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(r.method);
        if (access === 'operator' || access === 'scheduler') {
          const types =
            access === 'operator'
              ? [...OPERATOR_READS.map((t) => [t, 'operatorRead'] as const), ...OPERATOR_WRITES.map((t) => [t, 'operatorWrite'] as const), ...OPERATOR_UNSUPPORTED.map((t) => [t, 'unsupported'] as const)]
              : SCHEDULER_CALLS.map((t) => [t, 'admin'] as const);
          for (const [type, kind] of types) {
            // the admin's writes would change the cluster under the rest of the matrix; their auth is what counts here
            if (cred.role === 'admin' && kind === 'operatorWrite') continue;
            const body = access === 'operator' ? operatorBody(type) : { type, framework_id: { value: 'no-such-framework' } };
            jobs.push(async () => {
              const res = await call(s.m.url, r.method, path, { headers, body });
              calls++;
              const why = judge(kind === 'operatorRead' || kind === 'operatorWrite' || kind === 'unsupported' ? kind : 'admin', cred, res.status);
              if (why) failures.push(`${r.method} ${path} ${type} with ${cred.name}: ${why}`);
            });
          }
          continue;
        }
        jobs.push(async () => {
          const res = await call(s.m.url, r.method, path, { headers, ...(hasBody ? { raw: '{}', headers: { ...headers, 'content-type': 'application/json' } } : {}) });
          calls++;
          const why = judge(access, cred, res.status);
          if (why) failures.push(`${r.method} ${path} with ${cred.name}: ${why} ${res.text.slice(0, 200)}`);
          if (res.status === 401 && r.method !== 'HEAD' && (typeof res.body?.message !== 'string' || !Array.isArray(res.body?.details))) {
            failures.push(`${r.method} ${path}: 401 without the error body`);
          }
        });
      }
      // refused calls change nothing, so they may overlap; the admin's run one at a time
      await pool(jobs, cred.role === 'admin' ? 1 : 8);
    }
    figures(`S1: ${routes.length} routes × ${creds.length} credentials (${calls} HTTP calls), ${failures.length} unauthorized successes or wrong refusals`);
    assert.deepEqual(failures, []);
  });

  it('lets no WebSocket through without the right credential, and no message before auth', async () => {
    // fresh state: the HTTP matrix's admin calls may have drained the agent
    const t = await startSeeded();
    const failures: string[] = [];
    let attempts = 0;
    const probes: WsProbe[] = [];
    const probe = (path: string, opts: ConstructorParameters<typeof WsProbe>[1] = {}) => {
      const p = new WsProbe(`${t.m.url}${path}`, opts);
      probes.push(p);
      return p;
    };
    try {
      const tokens: Array<{ name: string; token?: string; role: Cred['role'] }> = [
        { name: 'no token', role: 'none' },
        { name: 'wrong token', token: 'yga_wrong', role: 'none' },
        { name: 'agent secret', token: t.m.agentSecret, role: 'agent' },
        { name: 'viewer token', token: t.viewer, role: 'viewer' },
        { name: 'admin token', token: t.m.adminToken, role: 'admin' },
      ];
      const before = await fingerprint(t);

      // /api/v1/agent: only the agent secret, on the upgrade
      for (const c of tokens) {
        attempts++;
        const p = probe('/api/v1/agent', c.token ? { headers: { authorization: `Bearer ${c.token}` } } : {});
        const outcome = await p.opened();
        if (c.role === 'agent' ? outcome !== 'open' : p.refusedWith !== 401) failures.push(`agent socket with ${c.name}: ${outcome} ${p.refusedWith ?? ''}`);
        p.close();
      }

      // /api/v1/stream and /files/tasks/<id>/tail: the token in Sec-WebSocket-Protocol, in the
      // Authorization header, or in the hello message
      const endpoints = [
        { path: '/api/v1/stream', proof: (m: any) => m.type === 'snapshot' },
        { path: `/files/tasks/${encodeURIComponent(t.taskId)}/tail?path=stdout`, proof: (m: any) => m.type === 'chunk' },
      ];
      for (const ep of endpoints) {
        for (const c of tokens) {
          const ok = c.role === 'viewer' || c.role === 'admin';
          for (const via of ['protocol', 'header', 'hello'] as const) {
            if (c.token === undefined && via !== 'hello') continue;
            attempts++;
            const p = probe(
              ep.path,
              via === 'protocol' ? { protocols: ['yagura.v1', `bearer.${c.token}`] } : via === 'header' ? { headers: { authorization: `Bearer ${c.token}` } } : { protocols: ['yagura.v1'] },
            );
            const outcome = await p.opened();
            if (via !== 'hello') {
              if (!ok) {
                if (p.refusedWith !== 401) failures.push(`${ep.path} with ${c.name} via ${via}: ${outcome} ${p.refusedWith ?? ''}`);
                continue;
              }
              if (outcome !== 'open') {
                failures.push(`${ep.path} with ${c.name} via ${via}: refused ${p.refusedWith}`);
                continue;
              }
              if (ep.path === '/api/v1/stream') p.send({ type: 'hello' });
            } else {
              if (outcome !== 'open') {
                failures.push(`${ep.path} refused the upgrade before hello: ${p.refusedWith}`);
                continue;
              }
              p.send({ type: 'hello', ...(c.token !== undefined ? { token: c.token } : {}) });
            }
            const got = await p.until(ep.proof);
            if (ok && !got) failures.push(`${ep.path} with ${c.name} via ${via}: closed ${p.closeCode} without data`);
            if (!ok) {
              if (got) failures.push(`${ep.path} with ${c.name} via ${via}: got data without auth`);
              if (p.closeCode !== 4401) failures.push(`${ep.path} with ${c.name} via ${via}: close code ${p.closeCode}, want 4401`);
            }
            p.close();
          }
        }
      }

      // /service/<app>/…: the token must come with the upgrade
      for (const c of tokens) {
        attempts++;
        const p = probe(`/service/${t.appId.slice(1)}/ws`, c.token ? { protocols: [`bearer.${c.token}`] } : {});
        await p.opened();
        // a socket carries writes both ways: admin only (viewers get 403, like a POST). The
        // seeded app's instance runs on a fake agent, so an admin gets past auth to a 502.
        const refused = c.role === 'admin' ? p.refusedWith === 401 || p.refusedWith === 403 : p.refusedWith !== (c.role === 'viewer' ? 403 : 401);
        if (refused) failures.push(`/service/ socket with ${c.name}: ${p.refusedWith ?? 'open'}`);
        p.close();
      }

      // every client→server message type, with every credential: agent messages only ever reach
      // the master through an upgrade that carried the agent secret, and then only after register
      const agentMessages: Array<Record<string, unknown>> = [
        { type: 'register', hostname: 'intruder', resources: { cpus: 1, mem: 1, disk: 1, ports: [] }, attributes: {}, isolators: [], version: 'x', tasks: [] },
        { type: 'heartbeat' },
        { type: 'status', update: { uuid: 'AAAAAAAAAAAAAAAAAAAAAA==', taskId: t.taskId, frameworkId: 'yagura-services', agentId: t.agent.id, state: 'TASK_FAILED', timestamp: Date.now() } },
        { type: 'updates', updates: [{ uuid: 'AAAAAAAAAAAAAAAAAAAAAB==', taskId: t.taskId, frameworkId: 'yagura-services', agentId: t.agent.id, state: 'TASK_FAILED', timestamp: Date.now() }] },
        { type: 'files.reply', reqId: 'r', ok: true, entries: [] },
        { type: 'files.chunk', streamId: 's', data: 'x', offset: 0 },
        { type: 'files.end', streamId: 's' },
      ];
      assert.deepEqual(agentMessages.map((m) => m.type), AGENT_MESSAGE_TYPES);
      let messages = 0;
      for (const msg of agentMessages) {
        for (const c of tokens) {
          if (c.role === 'agent') continue;
          messages++;
          const p = probe('/api/v1/agent', c.token ? { headers: { authorization: `Bearer ${c.token}` } } : {});
          const outcome = await p.opened();
          if (outcome === 'open') {
            p.send(msg);
            failures.push(`agent message ${String(msg.type)} could be sent with ${c.name}`);
          }
          p.close();
        }
        if (msg.type !== 'register') {
          // with the secret but before register: closed with 4400, nothing applied
          messages++;
          const p = probe('/api/v1/agent', { headers: { authorization: `Bearer ${t.m.agentSecret}` } });
          await p.opened();
          p.send(msg);
          const code = await p.closed();
          if (code !== 4400) failures.push(`agent message ${String(msg.type)} before register: close ${code}, want 4400`);
        }
      }
      for (const type of STREAM_MESSAGE_TYPES) {
        for (const c of tokens) {
          messages++;
          // sent without any upgrade credential: only a hello with a valid token may unlock data
          const p = probe('/api/v1/stream');
          await p.opened();
          p.send({ type, ...(c.token ? { token: c.token } : {}) });
          if (type === 'ping') p.send({ type: 'hello', token: 'yga_wrong' });
          const got = await p.until((m) => m.type === 'snapshot');
          const ok = type === 'hello' && (c.role === 'viewer' || c.role === 'admin');
          if (ok !== !!got) failures.push(`stream message ${type} with ${c.name}: ${got ? 'got a snapshot' : `closed ${p.closeCode}`}`);
          p.close();
        }
      }

      const d = firstDifference(before, await fingerprint(t));
      if (d) failures.push(`state changed by refused sockets: ${d}`);
      figures(`S1: 4 WebSocket endpoints × ${tokens.length} credentials (${attempts} upgrades), ${agentMessages.length + 2} client→server message types × credentials (${messages} sends), ${failures.length} unauthorized successes`);
      assert.deepEqual(failures, []);
    } finally {
      for (const p of probes) p.close();
      await t.dispose();
    }
  });
});
