// The Mesos task state machine, as a table. Pure: the master feeds it status updates and
// persists what comes back.
//
// Rules (see README.md for the full matrix):
//  - Progress only moves forward: STAGING → STARTING → RUNNING → KILLING. Skipping ahead is
//    fine (an executor may report RUNNING without STARTING); moving back is not.
//  - A same-state update is legal for every non-terminal state: it carries a health change,
//    a new message, or is a reconciliation answer.
//  - Every non-terminal state may end in any terminal state.
//  - Terminal states are final: nothing leaves them, not even a repeat of the same state,
//    because a task ends once and its endedAt/exitCode must not be rewritten.
//  - UNREACHABLE and UNKNOWN are "limbo": the master lost sight of the task, not the task its
//    progress. When the agent comes back, the state it reports is the truth, so limbo may go to
//    any state (RUNNING in the common case, STAGING/STARTING for a task that was still
//    launching, KILLING if a kill was under way), to the other limbo state, or to terminal.
//    Every non-terminal state may fall into limbo.

import type { StatusUpdate, TaskState, TaskView } from '../../protocol/types.js';
import { TASK_STATES, isTerminal } from '../../protocol/types.js';

/** Position on the forward path; limbo and terminal states are not on it. */
const PROGRESS: Partial<Record<TaskState, number>> = {
  TASK_STAGING: 0,
  TASK_STARTING: 1,
  TASK_RUNNING: 2,
  TASK_KILLING: 3,
};

const LIMBO: ReadonlySet<TaskState> = new Set<TaskState>(['TASK_UNREACHABLE', 'TASK_UNKNOWN']);

export function isLimbo(state: TaskState): boolean {
  return LIMBO.has(state);
}

function derive(from: TaskState, to: TaskState): boolean {
  if (isTerminal(from)) return false;
  if (isTerminal(to) || LIMBO.has(to) || LIMBO.has(from)) return true;
  return (PROGRESS[to] as number) >= (PROGRESS[from] as number);
}

/** from → the set of states it may move to. Built once from the rules above. */
export const TRANSITIONS: Readonly<Record<TaskState, ReadonlySet<TaskState>>> = (() => {
  const table = {} as Record<TaskState, ReadonlySet<TaskState>>;
  for (const from of TASK_STATES) table[from] = new Set(TASK_STATES.filter((to) => derive(from, to)));
  return Object.freeze(table);
})();

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from]?.has(to) ?? false;
}

export type ApplyResult =
  | { ok: true; task: TaskView; becameTerminal: boolean }
  | { ok: false; duplicate: boolean; error: string };

// at module level: a closure made per call costs a defineProperty each (tsx keeps function names)
function reject(error: string): ApplyResult {
  return { ok: false, duplicate: false, error };
}

/**
 * Apply an agent's status update to a task. Pure: returns a new TaskView, never mutates.
 * Rejects (never applies) illegal transitions, updates for another task/framework/agent, and
 * duplicates (same uuid as task.statusUuid → {ok:false, duplicate:true}; the caller acks those).
 * On success sets state, reason, message, exitCode (each taken from the update, so a stale
 * reason does not outlive the state it explained), healthy (only if present: health is sticky
 * between checks), statusUuid, updatedAt=now, startedAt on the first RUNNING, endedAt on terminal.
 */
export function applyStatusUpdate(task: TaskView, update: StatusUpdate, now: number): ApplyResult {
  if (update.taskId !== task.id) {
    return reject(`status update for task ${update.taskId} applied to task ${task.id}`);
  }
  if (update.frameworkId !== task.frameworkId) {
    return reject(`status update for task ${task.id} names framework ${update.frameworkId}, task belongs to ${task.frameworkId}`);
  }
  if (update.agentId !== task.agentId) {
    return reject(`status update for task ${task.id} comes from agent ${update.agentId}, task runs on ${task.agentId}`);
  }
  if (task.statusUuid !== undefined && update.uuid === task.statusUuid) {
    return { ok: false, duplicate: true, error: `duplicate status update ${update.uuid} for task ${task.id}` };
  }
  if (!canTransition(task.state, update.state)) {
    return reject(`illegal transition ${task.state} -> ${update.state} for task ${task.id}`);
  }

  // left out by destructuring, not `delete`, which would make the copy a slow dictionary object
  const { reason: _reason, message: _message, exitCode: _exitCode, ...rest } = task;
  const next: TaskView = rest;
  next.state = update.state;
  next.statusUuid = update.uuid;
  next.updatedAt = now;
  if (update.reason !== undefined) next.reason = update.reason;
  if (update.message !== undefined) next.message = update.message;
  if (update.exitCode !== undefined) next.exitCode = update.exitCode;
  if (update.healthy !== undefined) next.healthy = update.healthy;
  if (update.state === 'TASK_RUNNING' && next.startedAt === undefined) next.startedAt = now;
  const becameTerminal = isTerminal(update.state);
  if (becameTerminal) next.endedAt = now;
  return { ok: true, task: next, becameTerminal };
}
