import { createContext } from '@lit/context';
import type { ActivityItem } from './activity.js';
import type { AllocationSample } from './allocation-history.js';
import type { Api } from './api.js';
import type { ClusterState } from './cluster-state.js';
import type { ClusterStore, ConnectionInfo } from './cluster-store.js';
import type { Readable } from './readable.js';
import type { ThemeSetting } from './settings.js';

// Split on purpose: a connection blip must not re-render every table, and a task update must
// not re-render the app bar. The values are stable Readables; subscribers pick what they watch.
export const clusterContext = createContext<Readable<ClusterState>>('yg-cluster');
export const connectionContext = createContext<Readable<ConnectionInfo>>('yg-connection');
/** For commands (login, logout); its identity never changes. */
export const storeContext = createContext<ClusterStore>('yg-store');
/** REST commands with the current token; what views hand to the data modules. */
export const apiContext = createContext<Api>('yg-api');
/** Recent changes, derived from the store by the shell. */
export const activityContext = createContext<Readable<readonly ActivityItem[]>>('yg-activity');
/** Allocated resources sampled over time while the page is open. */
export const allocationContext = createContext<Readable<readonly AllocationSample[]>>('yg-allocation');
export const themeContext = createContext<ThemeSetting>('yg-theme');
