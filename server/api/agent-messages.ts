// Shape checks for what agents send. The agent is authenticated, but a bug or a hostile peer
// with the secret must not be able to corrupt the master's state with a malformed message.

import { MAX_BATCH, TASK_STATES, type AgentToMaster, type Resources, type TaskState } from '../../protocol/types.js';
import { isRecord } from './errors.js';

type Result = { ok: true; message: AgentToMaster } | { ok: false; error: string };

const STATES = new Set<string>(TASK_STATES);

const isStr = (v: unknown, max = 1024): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function checkResources(v: unknown): string | undefined {
  if (!isRecord(v)) return 'resources must be an object';
  for (const k of ['cpus', 'mem', 'disk'] as const) {
    if (!isNum(v[k]) || (v[k] as number) < 0) return `resources.${k} must be a number >= 0`;
  }
  if (!Array.isArray(v.ports)) return 'resources.ports must be an array of [begin, end]';
  for (const r of v.ports as unknown[]) {
    if (!Array.isArray(r) || r.length !== 2 || !r.every((p) => Number.isInteger(p) && p >= 0 && p <= 65535) || r[0] > r[1]) {
      return 'resources.ports must hold [begin, end] ranges of ports 0..65535';
    }
  }
  return undefined;
}

/** What is wrong with a status update, or undefined. */
function checkUpdate(u: Record<string, unknown>): string | undefined {
  if (!isStr(u.uuid, 100) || !u.uuid || !isStr(u.taskId, 500) || !isStr(u.frameworkId, 500) || !isStr(u.agentId, 500)) {
    return 'update needs uuid, taskId, frameworkId and agentId strings';
  }
  if (!STATES.has(u.state as string)) return 'update.state must be a task state';
  if (!isNum(u.timestamp)) return 'update.timestamp must be a number';
  if (u.message !== undefined && !isStr(u.message, 4096)) return 'update.message must be a string';
  if (u.reason !== undefined && !isStr(u.reason, 100)) return 'update.reason must be a string';
  if (u.exitCode !== undefined && !Number.isInteger(u.exitCode)) return 'update.exitCode must be an integer';
  if (u.healthy !== undefined && typeof u.healthy !== 'boolean') return 'update.healthy must be a boolean';
  return undefined;
}

export function validateAgentMessage(m: unknown): Result {
  if (!isRecord(m) || typeof m.type !== 'string') return { ok: false, error: 'a message is a JSON object with a type' };
  switch (m.type) {
    case 'heartbeat':
      return { ok: true, message: { type: 'heartbeat' } };
    case 'register': {
      if (m.agentId !== undefined && (!isStr(m.agentId, 200) || !m.agentId)) return { ok: false, error: 'agentId must be a string' };
      if (!isStr(m.hostname, 253) || !m.hostname) return { ok: false, error: 'hostname must be a non-empty string' };
      if (!isStr(m.version, 100)) return { ok: false, error: 'version must be a string' };
      const rErr = checkResources(m.resources);
      if (rErr) return { ok: false, error: rErr };
      if (!isRecord(m.attributes) || !Object.values(m.attributes).every((v) => isStr(v, 1024))) {
        return { ok: false, error: 'attributes must map names to strings' };
      }
      if (!Array.isArray(m.isolators) || !m.isolators.every((i) => isStr(i, 100))) return { ok: false, error: 'isolators must be strings' };
      if (!Array.isArray(m.tasks)) return { ok: false, error: 'tasks must be an array' };
      for (const t of m.tasks as unknown[]) {
        if (!isRecord(t) || !isStr(t.taskId, 500) || !isStr(t.frameworkId, 500) || !STATES.has(t.state as string)) {
          return { ok: false, error: 'each task needs taskId, frameworkId and a task state' };
        }
        const e = checkResources(t.resources);
        if (e) return { ok: false, error: `task ${t.taskId}: ${e}` };
      }
      return {
        ok: true,
        message: {
          type: 'register',
          ...(m.agentId !== undefined ? { agentId: m.agentId as string } : {}),
          hostname: m.hostname,
          version: m.version,
          resources: m.resources as unknown as Resources,
          attributes: m.attributes as Record<string, string>,
          isolators: m.isolators as string[],
          tasks: (m.tasks as Array<Record<string, unknown>>).map((t) => ({
            taskId: t.taskId as string,
            frameworkId: t.frameworkId as string,
            state: t.state as TaskState,
            resources: t.resources as unknown as Resources,
          })),
          // what the agent takes besides the base protocol; names it does not know, the master ignores
          ...(Array.isArray(m.accepts) ? { accepts: (m.accepts as unknown[]).filter((a): a is string => isStr(a, 100)).slice(0, 32) } : {}),
        },
      };
    }
    case 'status': {
      if (!isRecord(m.update)) return { ok: false, error: 'status needs an update object' };
      const error = checkUpdate(m.update);
      return error ? { ok: false, error } : { ok: true, message: m as unknown as AgentToMaster };
    }
    case 'updates': {
      if (!Array.isArray(m.updates) || m.updates.length > MAX_BATCH) return { ok: false, error: `updates must be an array of at most ${MAX_BATCH} updates` };
      for (const u of m.updates as unknown[]) {
        if (!isRecord(u)) return { ok: false, error: 'each of updates must be an update object' };
        const error = checkUpdate(u);
        if (error) return { ok: false, error };
      }
      return { ok: true, message: m as unknown as AgentToMaster };
    }
    case 'files.reply':
      if (!isStr(m.reqId, 100) || typeof m.ok !== 'boolean') return { ok: false, error: 'files.reply needs reqId and ok' };
      return { ok: true, message: m as unknown as AgentToMaster };
    case 'files.chunk':
      if (!isStr(m.streamId, 100) || typeof m.data !== 'string' || !isNum(m.offset)) return { ok: false, error: 'files.chunk needs streamId, data, offset' };
      return { ok: true, message: m as unknown as AgentToMaster };
    case 'files.end':
      if (!isStr(m.streamId, 100)) return { ok: false, error: 'files.end needs streamId' };
      return { ok: true, message: m as unknown as AgentToMaster };
    default:
      return { ok: false, error: `unknown message type ${String(m.type).slice(0, 40)}` };
  }
}
