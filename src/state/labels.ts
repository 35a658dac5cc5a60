import type { TaskSummary } from '../../protocol/types.js';

/** The label the services framework puts on each instance: the app id it belongs to. */
export const APP_ID_LABEL = 'YAGURA_APP_ID';
/** The app version an instance was launched from. */
export const APP_VERSION_LABEL = 'YAGURA_APP_VERSION';

const hostnameCollator = new Intl.Collator('en', { numeric: true });

/**
 * Hostnames in the order an operator reads them: the numbers in them by value, so node-2 comes
 * before node-10 (plain string order would put node-10 first).
 */
export function compareHostnames(a: string, b: string): number {
  return hostnameCollator.compare(a, b);
}

/** The service a task is an instance of (the stream's summary carries its APP_ID_LABEL). */
export function serviceOf(task: Pick<TaskSummary, 'service'>): string | undefined {
  return task.service || undefined;
}
