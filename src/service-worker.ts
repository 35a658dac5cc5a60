/// <reference lib="webworker" />
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import type { PrecacheEntry } from 'workbox-precaching';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<PrecacheEntry | string> };

/**
 * Paths the master answers itself. A navigation to any of them (an API link opened in a tab,
 * a proxied service UI, a sandbox file) must reach the network, never the cached shell.
 */
const SERVER_PATHS =
  /^\/(?:api|v1|v2|master|files|package|service|health|state\.json)(?:[/?#]|$)/;

// Only the build's own files are cached. API calls and the stream are left to the network
// entirely: the app keeps its own last snapshot, and a cached API answer would lie.
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [SERVER_PATHS],
  }),
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  // The page asks for this once the user accepts the update, so a release never swaps
  // the code under a running dashboard by surprise.
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

/** A notification's target: a path of this dashboard, never another origin. */
function targetOf(data: unknown): URL {
  const raw = (data as { url?: unknown } | null)?.url;
  const url = new URL(typeof raw === 'string' ? raw : '/', self.location.origin);
  return url.origin === self.location.origin ? url : new URL('/', self.location.origin);
}

// A click on a cluster notification (src/state/notifications.ts) opens the object's view: in an
// open dashboard window when there is one (it routes in place, so a form there keeps its
// changes), else in a new window.
self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  const target = targetOf(event.notification.data);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const ours = windows.filter((client) => new URL(client.url).origin === self.location.origin);
      const client = ours.find((c) => c.focused) ?? ours.find((c) => c.visibilityState === 'visible') ?? ours[0];
      if (client) {
        client.postMessage({ type: 'yg-open', url: `${target.pathname}${target.search}${target.hash}` });
        await client.focus().catch(() => undefined);
        return;
      }
      await self.clients.openWindow(target.href);
    })(),
  );
});
