// Pure decisions of the services framework: given an app's instances as they are now, what to
// launch and what to kill. No I/O and no clock of its own, so every rule is tested directly.

export interface InstanceInfo {
  taskId: string;
  version: string;
  /** RUNNING and, when the app has health checks, healthy. */
  ready: boolean;
  /** Counted toward the target (not inactive-unreachable, not being killed). */
  counted: boolean;
  /** Unreachable for longer than expungeAfterSeconds: kill and forget. */
  expunge: boolean;
  /** A kill was asked for and the task has not ended yet. */
  killing?: boolean;
  /** ms since epoch; killSelection orders by it. */
  createdAt: number;
}

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

export interface Decision {
  launch: number;
  kill: string[];
  /** The action's goal holds: the right number of instances, all of the target version and ready. */
  done: boolean;
}

function pickVictims(candidates: InstanceInfo[], count: number, selection: KillSelection): string[] {
  if (count <= 0) return [];
  // instances that are not ready go first: killing them costs no capacity
  const sorted = [...candidates].sort((a, b) => {
    if (a.ready !== b.ready) return a.ready ? 1 : -1;
    return selection === 'YOUNGEST_FIRST' ? b.createdAt - a.createdAt : a.createdAt - b.createdAt;
  });
  return sorted.slice(0, count).map((i) => i.taskId);
}

/** Keep `target` instances of `version` (start, scale, steady state). */
export function converge(instances: InstanceInfo[], target: number, version: string, selection: KillSelection): Decision {
  const kill = instances.filter((i) => i.expunge).map((i) => i.taskId);
  const counted = instances.filter((i) => i.counted && !i.expunge);
  let launch = 0;
  if (counted.length < target) launch = target - counted.length;
  else if (counted.length > target) kill.push(...pickVictims(counted, counted.length - target, selection));
  const done = launch === 0 && kill.length === 0 && counted.every((i) => i.ready && i.version === version) && !instances.some((i) => i.killing);
  return { launch, kill, done };
}

/**
 * One step of a rolling restart to `version` with `target` instances, honouring Marathon's
 * upgradeStrategy: never fewer than ceil(target × minimumHealthCapacity) ready instances (old
 * and new together) and never more than floor(target × (1 + maximumOverCapacity)) in all.
 * Replacements start before old instances are killed whenever the capacity allows.
 */
export function rollingRestart(
  instances: InstanceInfo[],
  target: number,
  version: string,
  strategy: { minimumHealthCapacity: number; maximumOverCapacity: number },
  selection: KillSelection,
): Decision {
  const kill = instances.filter((i) => i.expunge).map((i) => i.taskId);
  const counted = instances.filter((i) => i.counted && !i.expunge);
  const fresh = counted.filter((i) => i.version === version);
  const old = counted.filter((i) => i.version !== version);
  const maxCapacity = Math.max(target, Math.floor(target * (1 + strategy.maximumOverCapacity) + 1e-9));
  const minReady = Math.ceil(target * strategy.minimumHealthCapacity - 1e-9);

  // surplus new instances (a scale-down within the restart)
  if (fresh.length > target) kill.push(...pickVictims(fresh, fresh.length - target, selection));

  const readyFresh = Math.min(target, fresh.filter((i) => i.ready).length);
  const readyOld = old.filter((i) => i.ready);
  const notReadyOld = old.filter((i) => !i.ready);
  // old instances that serve nothing can always go
  kill.push(...notReadyOld.map((i) => i.taskId));
  let killableReady = Math.max(0, readyFresh + readyOld.length - minReady);
  // never keep more old than the new ones still missing
  const stillNeeded = Math.max(0, target - readyFresh);
  const mustGo = Math.max(0, readyOld.length - stillNeeded);
  killableReady = Math.max(killableReady, mustGo);
  kill.push(...pickVictims(readyOld, Math.min(killableReady, readyOld.length), 'OLDEST_FIRST'));

  const remaining = counted.length - kill.filter((id) => counted.some((c) => c.taskId === id)).length;
  let launch = Math.max(0, Math.min(target - Math.min(fresh.length, target), maxCapacity - remaining));

  // minimumHealthCapacity 1 with maximumOverCapacity 0 leaves no room to move: take one old
  // instance down at a time once every new one is ready, as Marathon does.
  const oldLeft = old.filter((i) => !kill.includes(i.taskId));
  if (launch === 0 && oldLeft.length > 0 && fresh.length < target && fresh.every((i) => i.ready) && kill.length === 0) {
    kill.push(...pickVictims(oldLeft, 1, 'OLDEST_FIRST'));
    launch = 0;
  }
  // done once the old instances are really gone, not just asked to go
  const done = old.length === 0 && fresh.length === target && fresh.every((i) => i.ready) && kill.length === 0 && launch === 0 && !instances.some((i) => i.killing);
  return { launch, kill, done };
}

/** Take every instance down. */
export function stopAll(instances: InstanceInfo[]): Decision {
  return { launch: 0, kill: instances.map((i) => i.taskId), done: instances.length === 0 };
}

/** Launch delay after `failures` consecutive failed or finished instances. */
export function backoffDelaySeconds(failures: number, backoffSeconds: number, factor: number, maxSeconds: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxSeconds, backoffSeconds * Math.pow(factor, failures - 1));
}
