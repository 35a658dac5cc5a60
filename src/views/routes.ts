import type { SVGTemplateResult } from 'lit';
import { icons } from '../components/icons.js';

/** A top-level section: one entry in the navigation. */
export interface Section {
  path: string;
  label: string;
  icon: SVGTemplateResult;
}

/** A routed page: a pattern over the path and the lazily loaded view that shows it. */
export interface Page {
  section: string;
  pattern: RegExp;
  tag: string;
  /** The document title for a match; captured groups are still URL-encoded. */
  title: (match: string[]) => string;
  /** Loads the view's module on first visit. */
  load: () => Promise<unknown>;
}

export const SECTIONS: readonly Section[] = [
  { path: '/', label: 'Overview', icon: icons.overview },
  { path: '/services', label: 'Services', icon: icons.services },
  { path: '/jobs', label: 'Jobs', icon: icons.jobs },
  { path: '/tasks', label: 'Tasks', icon: icons.tasks },
  { path: '/nodes', label: 'Nodes', icon: icons.nodes },
  { path: '/catalog', label: 'Catalog', icon: icons.catalog },
  { path: '/settings', label: 'Settings', icon: icons.settings },
];

const decode = (value: string | undefined): string => {
  try {
    return decodeURIComponent(value ?? '');
  } catch {
    return value ?? '';
  }
};

export const PAGES: readonly Page[] = [
  { section: '/', pattern: /^\/$/, tag: 'yg-overview-view', title: () => 'Overview', load: () => import('./yg-overview-view.js') },
  { section: '/nodes', pattern: /^\/nodes$/, tag: 'yg-nodes-view', title: () => 'Nodes', load: () => import('./yg-nodes-view.js') },
  { section: '/nodes', pattern: /^\/nodes\/([^/]+)$/, tag: 'yg-node-view', title: (m) => `Node ${decode(m[1])}`, load: () => import('./yg-node-view.js') },
  { section: '/tasks', pattern: /^\/tasks$/, tag: 'yg-tasks-view', title: () => 'Tasks', load: () => import('./yg-tasks-view.js') },
  { section: '/tasks', pattern: /^\/tasks\/([^/]+)$/, tag: 'yg-task-view', title: (m) => `Task ${decode(m[1])}`, load: () => import('./yg-task-view.js') },
  { section: '/services', pattern: /^\/services$/, tag: 'yg-services-view', title: () => 'Services', load: () => import('./yg-services-view.js') },
  { section: '/services', pattern: /^\/services\/new$/, tag: 'yg-service-edit-view', title: () => 'New service', load: () => import('./yg-service-edit-view.js') },
  { section: '/services', pattern: /^\/services\/([^/]+)\/edit$/, tag: 'yg-service-edit-view', title: (m) => `Edit ${decode(m[1])}`, load: () => import('./yg-service-edit-view.js') },
  { section: '/services', pattern: /^\/services\/([^/]+)$/, tag: 'yg-service-view', title: (m) => `Service ${decode(m[1])}`, load: () => import('./yg-service-view.js') },
  { section: '/jobs', pattern: /^\/jobs$/, tag: 'yg-jobs-view', title: () => 'Jobs', load: () => import('./yg-jobs-view.js') },
  { section: '/jobs', pattern: /^\/jobs\/([^/]+)$/, tag: 'yg-job-view', title: (m) => `Job ${decode(m[1])}`, load: () => import('./yg-job-view.js') },
  { section: '/catalog', pattern: /^\/catalog$/, tag: 'yg-catalog-view', title: () => 'Catalog', load: () => import('./yg-catalog-view.js') },
  { section: '/catalog', pattern: /^\/catalog\/([^/]+)$/, tag: 'yg-package-view', title: (m) => `Package ${decode(m[1])}`, load: () => import('./yg-package-view.js') },
  { section: '/settings', pattern: /^\/settings$/, tag: 'yg-settings-view', title: () => 'Settings', load: () => import('./yg-settings-view.js') },
];

export const NOT_FOUND: Page = {
  section: '',
  pattern: /$^/,
  tag: 'yg-not-found-view',
  title: () => 'Not found',
  load: () => import('./yg-not-found-view.js'),
};

export interface PageMatch {
  page: Page;
  /** Captured path segments, still URL-encoded. */
  match: string[];
}

/** Trailing slashes do not matter; `/` only matches itself. */
export function matchPage(pathname: string): PageMatch | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') || '/' : pathname;
  for (const page of PAGES) {
    const m = page.pattern.exec(path);
    if (m) return { page, match: [...m] };
  }
  return undefined;
}

/** The navigation entry a path belongs to (detail pages belong to their list). */
export function sectionOf(pathname: string): Section | undefined {
  const found = matchPage(pathname);
  return found ? SECTIONS.find((s) => s.path === found.page.section) : undefined;
}

/** The segment after the section, decoded: `/services/%2Fprod%2Fweb` → `/prod/web`. */
export function pathParam(path: string | undefined, index = 1): string {
  const found = path === undefined ? undefined : matchPage(path);
  return found ? decode(found.match[index]) : '';
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
  /** Replace the current history entry (filters typed into a search field) instead of adding one. */
  replace?: boolean;
}

export function navigateEvent(to: string, options: { replace?: boolean } = {}): CustomEvent<NavigateDetail> {
  return new CustomEvent<NavigateDetail>('yg-navigate', {
    detail: { to, ...(options.replace ? { replace: true } : {}) },
    bubbles: true,
    composed: true,
  });
}

declare global {
  interface GlobalEventHandlersEventMap {
    'yg-navigate': CustomEvent<NavigateDetail>;
  }
}
