// The Mesos-compatible HTTP surface: scheduler API, operator API and the state document.
// Registered as an encapsulated plugin so that the protobuf content type is refused with a
// Mesos-specific message here without changing how other routes parse bodies.

import type { FastifyInstance } from 'fastify';
import type { Master } from '../../master/master.js';
import { ApiError } from '../errors.js';
import type { DrainConfig, FrameworkExtras } from './convert.js';
import { Mirror, registerOperatorApi } from './operator.js';
import { registerSchedulerApi } from './scheduler.js';
import { registerStateRoutes } from './state.js';

export interface MesosApiDeps {
  master: Master;
  /** How often streams send HEARTBEAT; default the master's agent heartbeat interval. */
  heartbeatIntervalMs?: number;
}

export function registerMesosApis(app: FastifyInstance, deps: MesosApiDeps): void {
  const extras = new Map<string, FrameworkExtras>();
  const drains = new Map<string, DrainConfig>();
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? deps.master.heartbeatIntervalMs;
  const shared = { master: deps.master, extras, drains, heartbeatIntervalMs };
  // what the SUBSCRIBE streams know of the cluster, kept while someone is subscribed
  const mirror = new Mirror(deps.master, shared);
  void app.register(async (scope) => {
    scope.addContentTypeParser(['application/x-protobuf', 'application/recordio'], (_req, _payload, done) => {
      done(
        new ApiError(415, 'only JSON is supported: send the call with Content-Type: application/json (protobuf encoding is not implemented)', [
          { path: 'Content-Type', errors: ['must be application/json'] },
        ]),
        undefined,
      );
    });
    registerSchedulerApi(scope, shared);
    registerOperatorApi(scope, shared, mirror);
    registerStateRoutes(scope, shared);
  });
}
