/// <reference types="vite/client" />
import '@fontsource/roboto/latin-400.css';
import '@fontsource/roboto/latin-500.css';
import { Workbox } from 'workbox-window';
import './views/yg-app.js';

// Only a production build has a service worker to register; in dev and in tests a worker
// would cache modules that change on every save.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  const wb = new Workbox('/service-worker.js');
  wb.addEventListener('waiting', () => {
    window.dispatchEvent(
      new CustomEvent('yg-update-available', {
        detail: {
          apply() {
            wb.addEventListener('controlling', () => window.location.reload());
            wb.messageSkipWaiting();
          },
        },
      }),
    );
  });
  wb.register().catch((error: unknown) => console.warn('Service worker registration failed', error));
}
