// Component tests in Debian's Chromium: `npx web-test-runner` (scripts/test.sh web runs it).
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { CHROME_FLAGS, chromePath } from './test/support/chrome.mjs';
import { summaryReporter } from './test/support/wtr-summary-reporter.mjs';

export default {
  rootDir: '.',
  files: ['test/web/**/*.test.ts'],
  nodeResolve: true,
  // Without the tsconfig, esbuild leaves the decorators as they are and Chromium throws.
  // The plugin also maps `./x.js` imports to `./x.ts` for TypeScript importers.
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', target: 'es2022' })],
  browsers: [
    chromeLauncher({
      launchOptions: { executablePath: chromePath(), headless: true, args: CHROME_FLAGS },
    }),
  ],
  concurrency: 2,
  testFramework: { config: { ui: 'bdd', timeout: 10000 } },
  testsFinishTimeout: 120000,
  // Lit announces its dev build in every file; real warnings should not drown in that.
  filterBrowserLogs: ({ args }) => !String(args[0]).includes('Lit is in dev mode'),
  reporters: [defaultReporter(), summaryReporter()],
};
