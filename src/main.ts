/// <reference types="vite/client" />
import '@fontsource/roboto/latin-400.css';
import '@fontsource/roboto/latin-500.css';
import { Workbox } from 'workbox-window';
import './views/yg-app.js';

// A label for this build (VITE_BUILD_ID at build time), for support and for the update test.
const build = import.meta.env.VITE_BUILD_ID as string | undefined;
if (build) document.documentElement.dataset.build = build;

/** Tells the shell that a new build can be loaded, and how. */
function offerUpdate(apply: () => void): void {
  window.dispatchEvent(new CustomEvent('yg-update-available', { detail: { apply } }));
}

// Only a production build has a service worker to register; in dev and in tests a worker
// would cache modules that change on every save.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  const wb = new Workbox('/service-worker.js');
  const hadController = !!navigator.serviceWorker.controller;
  let accepted = false;

  // A new build finished installing and waits for this page's consent: the shell shows the
  // snackbar, which holds the reload back while a form has unsaved changes.
  wb.addEventListener('waiting', () => {
    offerUpdate(() => {
      accepted = true;
      wb.messageSkipWaiting();
    });
  });
  // The new worker took over: this page asked for it (reload now), or another tab did, and this
  // page's lazy views may be gone from the new cache; it offers the reload in turn.
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (accepted) window.location.reload();
    else if (hadController) offerUpdate(() => window.location.reload());
  });
  // A notification was clicked (service-worker.ts): the shell opens its view here, in place.
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: string; url?: unknown } | null;
    if (data?.type === 'yg-open' && typeof data.url === 'string') window.dispatchEvent(new CustomEvent('yg-open', { detail: { url: data.url } }));
  });

  // A dashboard stays open for days: look for a new build hourly, and when it comes back into
  // view or online (at most every 5 minutes). Navigations within the app never check by themselves.
  let checkedAt = Date.now();
  const check = (minAgeMs: number) => {
    if (Date.now() - checkedAt < minAgeMs) return;
    checkedAt = Date.now();
    wb.update().catch(() => undefined);
  };
  setInterval(() => check(0), 60 * 60 * 1000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') check(5 * 60 * 1000);
  });
  window.addEventListener('online', () => check(5 * 60 * 1000));

  wb.register().catch((error: unknown) => console.warn('Service worker registration failed', error));
}
