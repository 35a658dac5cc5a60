import type { TaskView } from '../../protocol/types.js';

/** The label the services framework puts on each instance: the app id it belongs to. */
export const APP_ID_LABEL = 'YAGURA_APP_ID';
/** The app version an instance was launched from. */
export const APP_VERSION_LABEL = 'YAGURA_APP_VERSION';

export function serviceOf(task: TaskView): string | undefined {
  return task.labels[APP_ID_LABEL] || undefined;
}
