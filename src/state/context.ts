import { createContext } from '@lit/context';
import type { ClusterState } from './cluster-state.js';
import type { ClusterStore, ConnectionInfo } from './cluster-store.js';
import type { Readable } from './readable.js';

// Split on purpose: a connection blip must not re-render every table, and a task update must
// not re-render the app bar. The values are stable Readables; subscribers pick what they watch.
export const clusterContext = createContext<Readable<ClusterState>>('yg-cluster');
export const connectionContext = createContext<Readable<ConnectionInfo>>('yg-connection');
/** For commands (login, logout, later REST calls); its identity never changes. */
export const storeContext = createContext<ClusterStore>('yg-store');
