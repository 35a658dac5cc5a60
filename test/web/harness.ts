// Drives components the way a person does: focus and type with real key presses, click, press
// keys. And a host element that hands views the contexts the shell would, with a fake REST API.
import { ContextProvider } from '@lit/context';
import { sendKeys } from '@web/test-runner-commands';
import { LitElement } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { ErrorBody } from '../../protocol/types.js';
import type { ActivityItem } from '../../src/state/activity.js';
import type { AllocationSample } from '../../src/state/allocation-history.js';
import { ApiError } from '../../src/state/api.js';
import type { Api, ApiRequest } from '../../src/state/api.js';
import { EMPTY_CLUSTER } from '../../src/state/cluster-state.js';
import type { ClusterState } from '../../src/state/cluster-state.js';
import { ClusterStore } from '../../src/state/cluster-store.js';
import type { ConnectionInfo } from '../../src/state/cluster-store.js';
import {
  activityContext,
  allocationContext,
  apiContext,
  clusterContext,
  connectionContext,
  storeContext,
  themeContext,
} from '../../src/state/context.js';
import { Writable } from '../../src/state/readable.js';
import { ThemeSetting } from '../../src/state/settings.js';
import { FakeSocket, memoryTokens } from './stream-fakes.js';

/** The element inside a shadow root, or a clear failure naming what was missing. */
export function $<T extends Element = HTMLElement>(root: Element | ShadowRoot | null | undefined, selector: string): T {
  const scope = root instanceof Element ? (root.shadowRoot ?? root) : root;
  const found = scope?.querySelector<T>(selector);
  if (!found) throw new Error(`no ${selector} in ${root instanceof Element ? root.localName : 'root'}`);
  return found;
}

/** An element by its accessible label; Material components keep theirs as `data-aria-label`. */
export function byLabel<T extends HTMLElement = HTMLElement>(root: Element, tag: string, label: string): T {
  const found = $$<T>(root, tag).find((el) => el.getAttribute('aria-label') === label || el.getAttribute('data-aria-label') === label);
  if (!found) throw new Error(`no ${tag} labelled "${label}" in ${root.localName}`);
  return found;
}

export function $$<T extends Element = HTMLElement>(root: Element | ShadowRoot, selector: string): T[] {
  const scope = root instanceof Element ? (root.shadowRoot ?? root) : root;
  return [...scope.querySelectorAll<T>(selector)];
}

/** Normalized visible text of an element (and its shadow tree, one level). */
export function text(el: Element | null | undefined): string {
  if (!el) return '';
  const own = el.shadowRoot ? [...el.shadowRoot.childNodes].map(nodeText).join(' ') : '';
  return `${own} ${el.textContent ?? ''}`.replace(/\s+/g, ' ').trim();
}

function deepText(el: Element): string {
  if (el instanceof HTMLSlotElement) return '';
  if (el.shadowRoot) return text(el);
  return [...el.childNodes].map(nodeText).join(' ');
}

/** Elements and text; not the comments Lit leaves as markers. */
function nodeText(node: Node): string {
  if (node instanceof Element) return node instanceof HTMLStyleElement ? '' : deepText(node);
  return node.nodeType === Node.TEXT_NODE ? (node.textContent ?? '') : '';
}

/** Focuses a field (an md text field or a textarea), selects what it holds and types over it. */
export async function typeInto(field: HTMLElement, value: string): Promise<void> {
  // A field rendered a moment ago has no input to focus until its first update.
  await (field as Partial<LitElement>).updateComplete;
  field.focus();
  const select = (field as unknown as { select?: () => void }).select;
  if (typeof select === 'function') select.call(field);
  if (value === '') await sendKeys({ press: 'Backspace' });
  else await sendKeys({ type: value });
}

export async function press(key: string): Promise<void> {
  await sendKeys({ press: key });
}

/** Waits for Lit to settle on an element and everything it rendered, a few levels deep. */
export async function settle(el: Element, depth = 4): Promise<void> {
  const pending = (el as Partial<LitElement>).updateComplete;
  if (pending) await pending;
  if (depth === 0 || !el.shadowRoot) return;
  for (const child of el.shadowRoot.querySelectorAll('*')) {
    if ((child as Partial<LitElement>).updateComplete) await settle(child, depth - 1);
  }
}

export interface ApiCall {
  method: string;
  path: string;
  body?: unknown;
}

/** A REST API that records calls and answers from a handler; a thrown ApiError is a failed call. */
export class FakeApi implements Api {
  readonly calls: ApiCall[] = [];
  handler: (call: ApiCall) => unknown = () => ({});

  async request<T>(path: string, init: ApiRequest = {}): Promise<T> {
    const call: ApiCall = { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), path, body: init.body };
    this.calls.push(call);
    await Promise.resolve();
    return (await this.handler(call)) as T;
  }

  async blob(path: string): Promise<Blob> {
    this.calls.push({ method: 'GET', path });
    return new Blob([String(await this.handler({ method: 'GET', path }))]);
  }

  /** Calls other than reads. */
  get commands(): ApiCall[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }
}

export function apiError(status: number, body: ErrorBody): ApiError {
  return new ApiError(status, body, body.message);
}

/** Stands in for the shell: every context a view reads, with values the test controls. */
@customElement('yg-test-host')
export class YgTestHost extends LitElement {
  readonly cluster = new Writable<ClusterState>(EMPTY_CLUSTER);
  readonly connection = new Writable<ConnectionInfo>({ status: 'live', attempt: 0 });
  readonly activity = new Writable<readonly ActivityItem[]>([]);
  readonly allocation = new Writable<readonly AllocationSample[]>([]);
  readonly api = new FakeApi();
  readonly sockets: FakeSocket[] = [];
  readonly tokens = memoryTokens('test-token');
  readonly store = new ClusterStore({
    url: 'ws://master.test/api/v1/stream',
    tokens: this.tokens,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      this.sockets.push(socket);
      return socket;
    },
  });
  readonly theme = new ThemeSetting({ storage: undefined, root: document.createElement('div') });

  constructor() {
    super();
    new ContextProvider(this, { context: clusterContext, initialValue: this.cluster });
    new ContextProvider(this, { context: connectionContext, initialValue: this.connection });
    new ContextProvider(this, { context: storeContext, initialValue: this.store });
    new ContextProvider(this, { context: apiContext, initialValue: this.api });
    new ContextProvider(this, { context: activityContext, initialValue: this.activity });
    new ContextProvider(this, { context: allocationContext, initialValue: this.allocation });
    new ContextProvider(this, { context: themeContext, initialValue: this.theme });
  }

  protected override createRenderRoot() {
    return this;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-test-host': YgTestHost;
  }
}
