import type { AgentState, DeploymentView, ServiceStatus, TaskState } from '../../protocol/types.js';

/** Colour families for status chips; the theme gives each a container and on-container token. */
export type Tone = 'ok' | 'pending' | 'warn' | 'error' | 'lost' | 'neutral';

export interface ChipSpec {
  label: string;
  tone: Tone;
  /** Per-state token name: the chip tries `--yg-state-<token>-container` before the tone's. */
  token: string;
}

const TASK_TONES: Record<TaskState, Tone> = {
  TASK_STAGING: 'pending',
  TASK_STARTING: 'pending',
  TASK_RUNNING: 'ok',
  TASK_KILLING: 'warn',
  TASK_FINISHED: 'neutral',
  TASK_FAILED: 'error',
  TASK_KILLED: 'neutral',
  TASK_ERROR: 'error',
  TASK_LOST: 'lost',
  TASK_UNREACHABLE: 'lost',
  TASK_GONE: 'lost',
  TASK_DROPPED: 'lost',
  TASK_UNKNOWN: 'lost',
};

const AGENT_TONES: Record<AgentState, Tone> = {
  ACTIVE: 'ok',
  DRAINING: 'warn',
  DRAINED: 'neutral',
  UNREACHABLE: 'lost',
  GONE: 'neutral',
};

function slug(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

export function taskStateChip(state: TaskState): ChipSpec {
  return { label: state.replace(/^TASK_/, ''), tone: TASK_TONES[state] ?? 'lost', token: slug(state) };
}

export function agentStateChip(state: AgentState): ChipSpec {
  return { label: state, tone: AGENT_TONES[state] ?? 'lost', token: `agent-${slug(state)}` };
}

const SERVICE_TONES: Record<ServiceStatus, Tone> = {
  Running: 'ok',
  Deploying: 'pending',
  Suspended: 'neutral',
  Delayed: 'warn',
  Waiting: 'warn',
};

export const SERVICE_STATUSES: readonly ServiceStatus[] = ['Running', 'Deploying', 'Suspended', 'Delayed', 'Waiting'];

export function serviceStatusChip(status: ServiceStatus): ChipSpec {
  return { label: status, tone: SERVICE_TONES[status] ?? 'neutral', token: `service-${slug(status)}` };
}

const DEPLOYMENT_TONES: Record<DeploymentView['status'], Tone> = {
  running: 'pending',
  success: 'ok',
  failed: 'error',
  canceled: 'neutral',
};

export function deploymentStatusChip(status: DeploymentView['status']): ChipSpec {
  return { label: status[0]!.toUpperCase() + status.slice(1), tone: DEPLOYMENT_TONES[status] ?? 'neutral', token: `deployment-${slug(status)}` };
}
