// Builders for the service and deployment views the dashboard tests need.
import type { DeploymentView, ServiceView } from '../../protocol/types.js';

export function mockService(overrides: Partial<ServiceView> & { id: string }): ServiceView {
  return {
    version: '2026-01-01T11:55:00.000Z',
    instances: 2,
    cpus: 0.5,
    mem: 256,
    disk: 0,
    labels: {},
    status: 'Running',
    tasksStaged: 0,
    tasksRunning: 2,
    tasksHealthy: 0,
    tasksUnhealthy: 0,
    healthChecked: false,
    deployments: [],
    ...overrides,
  };
}

export function mockDeployment(overrides: Partial<DeploymentView> & { id: string; affectedApps: string[] }): DeploymentView {
  return {
    version: '2026-01-01T12:00:00.000Z',
    steps: overrides.affectedApps.map((app) => [{ action: 'StartApplication' as const, app }]),
    currentStep: 1,
    status: 'running',
    startedAt: Date.parse('2026-01-01T12:00:00.000Z'),
    ...overrides,
  };
}
