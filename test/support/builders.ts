// Mock builders for wire objects: a whole valid object from a few fields that matter to a test.
// Neutral (no DOM, no Node) so server, web and e2e tests can all use them.
import { taskSummary } from '../../protocol/types.js';
import type { AgentView, FrameworkView, Resources, StreamSnapshot, TaskSummary, TaskView } from '../../protocol/types.js';

export function resources(overrides: Partial<Resources> = {}): Resources {
  return { cpus: 0, mem: 0, disk: 0, ports: [], ...overrides };
}

export function mockAgent(overrides: Partial<AgentView> & { id: string }): AgentView {
  return {
    hostname: `${overrides.id}.example`,
    state: 'ACTIVE',
    resources: resources({ cpus: 4, mem: 8192, disk: 40960, ports: [[31000, 32000]] }),
    allocated: resources(),
    attributes: {},
    isolators: ['posix/cpu', 'posix/mem'],
    version: 'test',
    registeredAt: 1_700_000_000_000,
    lastSeenAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function mockTask(overrides: Partial<TaskView> & { id: string; agentId: string }): TaskView {
  return {
    name: overrides.id.split('.')[0] ?? overrides.id,
    frameworkId: 'services',
    state: 'TASK_RUNNING',
    resources: resources({ cpus: 0.5, mem: 256 }),
    command: { value: 'sleep 1000', shell: true, env: {}, uris: [] },
    labels: {},
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function mockFramework(overrides: Partial<FrameworkView> & { id: string }): FrameworkView {
  return {
    name: overrides.id,
    user: 'root',
    roles: ['*'],
    connected: true,
    active: true,
    builtin: true,
    failoverTimeoutSeconds: 604800,
    registeredAt: 1_700_000_000_000,
    suppressed: false,
    ...overrides,
  };
}

/** A task as the dashboard stream carries it (protocol TaskSummary), from the same fields as mockTask. */
export function mockTaskSummary(overrides: Partial<TaskView> & { id: string; agentId: string }): TaskSummary {
  return taskSummary(mockTask(overrides));
}

/** The dashboard's snapshot; tasks given in full (mockTask) are summarized as the master sends them. */
export function mockSnapshot(overrides: Partial<Omit<StreamSnapshot, 'tasks'>> & { tasks?: Array<TaskSummary | TaskView> } = {}): StreamSnapshot {
  const tasks = (overrides.tasks ?? []).map((t) => ('resources' in t ? taskSummary(t) : t));
  return { epoch: 'epoch-1', seq: 0, agents: [], frameworks: [], services: [], deployments: [], ...overrides, tasks };
}
