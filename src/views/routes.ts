import type { SVGTemplateResult } from 'lit';
import { icons } from '../components/icons.js';

export interface Route {
  path: string;
  label: string;
  icon: SVGTemplateResult;
  tag: string;
  /** Loads the view's module on first visit. */
  load: () => Promise<unknown>;
}

export const ROUTES: readonly Route[] = [
  { path: '/', label: 'Overview', icon: icons.overview, tag: 'yg-overview-view', load: () => import('./yg-overview-view.js') },
  { path: '/nodes', label: 'Nodes', icon: icons.nodes, tag: 'yg-nodes-view', load: () => import('./yg-nodes-view.js') },
  { path: '/tasks', label: 'Tasks', icon: icons.tasks, tag: 'yg-tasks-view', load: () => import('./yg-tasks-view.js') },
];

export const NOT_FOUND: Omit<Route, 'path' | 'icon'> = {
  label: 'Not found',
  tag: 'yg-not-found-view',
  load: () => import('./yg-not-found-view.js'),
};

/** `/nodes` and `/nodes/<id>` both belong to Nodes; `/` only matches itself. */
export function matchRoute(pathname: string): Route | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  return ROUTES.find((route) => (route.path === '/' ? path === '/' : path === route.path || path.startsWith(`${route.path}/`)));
}

/** What every routed view accepts from the shell. */
export interface RoutedView extends HTMLElement {
  /** The path of the current address. */
  path?: string;
  /** The query string of the current address. */
  params?: URLSearchParams;
}

/** Views ask the shell to move elsewhere with this event instead of touching history themselves. */
export interface NavigateDetail {
  /** Path plus optional query, same origin. */
  to: string;
}

export function navigateEvent(to: string): CustomEvent<NavigateDetail> {
  return new CustomEvent<NavigateDetail>('yg-navigate', { detail: { to }, bubbles: true, composed: true });
}

declare global {
  interface GlobalEventHandlersEventMap {
    'yg-navigate': CustomEvent<NavigateDetail>;
  }
}
