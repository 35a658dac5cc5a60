// One place for the browser path and flags, shared by web-test-runner, the e2e harness and
// scripts that render with Chromium. Plain JS so the .mjs runner config can import it too.
import { existsSync } from 'node:fs';

export const DEFAULT_CHROME_PATH = '/usr/bin/chromium';

/**
 * Without these, Chromium keeps dialling update, sync and metrics endpoints on a machine
 * with no route out, which slows every launch; as root it also refuses to start sandboxed.
 */
export const CHROME_FLAGS = [
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // Tests run several pages at once; a page in the background must not have its timers and
  // animation frames throttled, or waits on them stall.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];

/** The browser to drive: $CHROME_PATH, else Debian's Chromium. Throws with the fix when absent. */
export function chromePath() {
  const path = process.env.CHROME_PATH || DEFAULT_CHROME_PATH;
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. Install it (apt-get install -y chromium) or set CHROME_PATH.`,
    );
  }
  return path;
}
