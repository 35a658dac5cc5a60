// POST /api/v1/scheduler: the Mesos v1 scheduler HTTP API. SUBSCRIBE opens a RecordIO event
// stream that is this framework's SchedulerConnection; every other call names the framework,
// carries the stream's Mesos-Stream-Id, and is answered 202 once its effect is committed.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Master } from '../../master/master.js';
import type { Offer, SchedulerConnection, TaskStatus } from '../../master/types.js';
import { ApiError, badRequest, isRecord } from '../errors.js';
import { id, mesosOffer, mesosStatus, type FrameworkExtras } from './convert.js';
import { masterInfo } from './master-info.js';
import {
  Reader,
  parseAccept,
  parseAcknowledge,
  parseDecline,
  parseKill,
  parseReconcile,
  parseRoles,
  parseSubscribe,
} from './parse.js';
import { RecordIOStream } from './recordio.js';

export interface SchedulerApiDeps {
  master: Master;
  extras: Map<string, FrameworkExtras>;
  heartbeatIntervalMs: number;
}

/** Call types of scheduler.proto that Yagura does not carry out. */
const UNSUPPORTED = new Set([
  'SHUTDOWN',
  'MESSAGE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'UPDATE_FRAMEWORK',
  'ACKNOWLEDGE_OPERATION_STATUS',
  'RECONCILE_OPERATIONS',
]);

const HANDLED = new Set(['SUBSCRIBE', 'TEARDOWN', 'ACCEPT', 'DECLINE', 'REVIVE', 'SUPPRESS', 'KILL', 'ACKNOWLEDGE', 'RECONCILE', 'REQUEST']);

const STREAM_HEADER = 'mesos-stream-id';

/** One subscription: the master's view of the framework's connection. */
class SchedulerStream implements SchedulerConnection {
  readonly stream = new RecordIOStream();

  constructor(
    private readonly role: () => string,
    private readonly heartbeatSeconds: number,
    private readonly info: Record<string, unknown>,
  ) {}

  subscribed(frameworkId: string): void {
    this.stream.send({
      type: 'SUBSCRIBED',
      subscribed: { framework_id: id(frameworkId), heartbeat_interval_seconds: this.heartbeatSeconds, master_info: this.info },
    });
  }

  offers(offers: Offer[]): void {
    const role = this.role();
    this.stream.send({ type: 'OFFERS', offers: { offers: offers.map((o) => mesosOffer(o, role)) } });
  }

  rescind(offerId: string): void {
    this.stream.send({ type: 'RESCIND', rescind: { offer_id: id(offerId) } });
  }

  update(status: TaskStatus): void {
    this.stream.send({ type: 'UPDATE', update: { status: mesosStatus(status) } });
  }

  failure(agentId: string): void {
    this.stream.send({ type: 'FAILURE', failure: { agent_id: id(agentId) } });
  }

  error(message: string): void {
    this.stream.send({ type: 'ERROR', error: { message } });
    this.stream.end();
  }

  close(): void {
    this.stream.end();
  }
}

export function registerSchedulerApi(app: FastifyInstance, deps: SchedulerApiDeps): void {
  const { master } = deps;
  /** The open subscription per framework id, so that a forced SUBSCRIBE can replace it. */
  const live = new Map<string, SchedulerStream>();

  app.post('/api/v1/scheduler', async (req, reply) => {
    const call = req.body;
    if (!isRecord(call)) throw badRequest('a call is a JSON object', [{ path: '', errors: ['must be an object'] }]);
    const type = call.type;
    if (typeof type !== 'string') throw badRequest('the call has no type', [{ path: '/type', errors: ['is required (a string)'] }]);
    if (!HANDLED.has(type) && !UNSUPPORTED.has(type)) {
      throw badRequest(`unknown call type ${type.slice(0, 64)}`, [{ path: '/type', errors: [`unknown call type`] }]);
    }
    if (type === 'SUBSCRIBE') return subscribe(req, reply, call);

    const r = new Reader();
    const frameworkId = r.id(call, 'framework_id', '', true);
    r.done(type);
    if (UNSUPPORTED.has(type)) {
      master.checkStream(frameworkId!, streamIdOf(req));
      throw new ApiError(422, `unsupported call ${type}`, [{ path: '/type', errors: [`${type} is not supported by Yagura`] }]);
    }
    const fid = frameworkId!;
    // parse first: a malformed call is refused whoever sends it
    const run = prepare(type, call, fid);
    master.checkStream(fid, streamIdOf(req));
    await run();
    await master.commit();
    return reply.code(202).send();
  });

  function prepare(type: string, call: Record<string, unknown>, fid: string): () => void | Promise<unknown> {
    switch (type) {
      case 'TEARDOWN':
        return () => master.teardown(fid);
      case 'ACCEPT': {
        const a = parseAccept(call);
        return async () => {
          try {
            await master.accept(fid, a.offerIds, a.launches, a.refuseSeconds);
          } catch (err) {
            throw retarget(err, a.origins);
          }
        };
      }
      case 'DECLINE': {
        const d = parseDecline(call);
        return () => master.decline(fid, d.offerIds, d.refuseSeconds);
      }
      case 'REVIVE':
        parseRoles(call, 'revive');
        return () => master.revive(fid);
      case 'SUPPRESS':
        parseRoles(call, 'suppress');
        return () => master.suppress(fid);
      case 'KILL': {
        const k = parseKill(call);
        return () => master.kill(fid, k.taskId, k.gracePeriodMs);
      }
      case 'ACKNOWLEDGE': {
        const a = parseAcknowledge(call);
        return () => master.acknowledge(fid, a.taskId, a.uuid);
      }
      case 'RECONCILE': {
        const ids = parseReconcile(call);
        return () => void master.reconcile(fid, ids);
      }
      case 'REQUEST':
        // Mesos' own allocator ignores resource requests too
        return () => {};
      default:
        throw badRequest(`unknown call type ${type}`, [{ path: '/type', errors: ['unknown call type'] }]);
    }
  }

  async function subscribe(req: FastifyRequest, reply: FastifyReply, call: Record<string, unknown>): Promise<unknown> {
    if (req.headers[STREAM_HEADER] !== undefined) {
      throw badRequest('a SUBSCRIBE call must not carry a Mesos-Stream-Id header', [{ path: 'Mesos-Stream-Id', errors: ['not allowed on SUBSCRIBE'] }]);
    }
    const { input, extras, force } = parseSubscribe(call);
    const streamId = randomUUID();
    // choosing the id here lets the extras be in place when the FRAMEWORK_ADDED event renders
    if (input.id === undefined) input.id = `${randomUUID()}-0000`;
    const frameworkId = input.id;
    const conn = new SchedulerStream(
      () => master.getFramework(frameworkId)?.roles[0] ?? input.roles[0] ?? '*',
      deps.heartbeatIntervalMs / 1000,
      masterInfo(master, req),
    );
    if (force) {
      const previous = live.get(frameworkId);
      if (previous) {
        previous.error('Framework failed over: a newer subscription replaced this one');
        master.disconnect(frameworkId, previous);
      }
    }
    const previousExtras = deps.extras.get(frameworkId);
    deps.extras.set(frameworkId, extras);
    let view;
    try {
      view = await master.subscribe(input, conn, streamId);
    } catch (err) {
      if (previousExtras) deps.extras.set(frameworkId, previousExtras);
      else deps.extras.delete(frameworkId);
      conn.stream.end();
      throw err;
    }
    live.set(view.id, conn);
    conn.stream.onClose(() => {
      if (live.get(view.id) === conn) live.delete(view.id);
      master.disconnect(view.id, conn);
    });
    conn.stream.open(req, reply, { 'Mesos-Stream-Id': streamId }, { ms: deps.heartbeatIntervalMs, event: { type: 'HEARTBEAT' } });
    return reply;
  }
}

function streamIdOf(req: FastifyRequest): string | undefined {
  const v = req.headers[STREAM_HEADER];
  return Array.isArray(v) ? v[0] : v;
}

/** The master numbers launches across all LAUNCH operations; point at the caller's own paths. */
function retarget(err: unknown, origins: string[]): unknown {
  if (!(err instanceof ApiError)) return err;
  const prefix = '/accept/operations/launch/task_infos/';
  let changed = false;
  const details = err.details.map((d) => {
    if (!d.path.startsWith(prefix)) return d;
    const rest = d.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    const index = Number(slash < 0 ? rest : rest.slice(0, slash));
    const origin = origins[index];
    if (origin === undefined) return d;
    changed = true;
    return { ...d, path: origin + (slash < 0 ? '' : rest.slice(slash)) };
  });
  return changed ? new ApiError(err.status, err.message, details) : err;
}
