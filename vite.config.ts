import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    // `npm run dev` against a master on the default port: API and streams go through Vite.
    proxy: {
      '/api': { target: 'http://127.0.0.1:5050', ws: true },
      '^/(v1|v2|master|files|package|service|health|state\\.json)': 'http://127.0.0.1:5050',
    },
  },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'service-worker.ts',
      injectRegister: false,
      // public/manifest.webmanifest is the one source of truth; a plugin-made one would replace it.
      manifest: false,
      injectManifest: {
        // woff/woff2 too: the shell should keep its font offline rather than fall back.
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest,woff2}'],
        // The manifest's screenshots are for the browser's install dialog only: not worth a
        // few hundred kilobytes in every client's cache.
        globIgnores: ['**/node_modules/**/*', 'screenshots/**'],
      },
    }),
  ],
});
