// A web-test-runner reporter that writes {files, passed, failed, skipped} as JSON to the path in
// $YG_WTR_SUMMARY, so scripts/test.sh can count tests without scraping the progress output.
import { writeFileSync } from 'node:fs';

function countSuite(suite, totals) {
  for (const test of suite.tests ?? []) {
    if (test.skipped) totals.skipped += 1;
    else if (test.passed) totals.passed += 1;
    else totals.failed += 1;
  }
  for (const child of suite.suites ?? []) countSuite(child, totals);
}

export function summaryReporter({ path = process.env.YG_WTR_SUMMARY } = {}) {
  return {
    onTestRunFinished({ sessions }) {
      if (!path) return;
      const totals = { files: 0, passed: 0, failed: 0, skipped: 0 };
      for (const session of sessions) {
        totals.files += 1;
        const failedBefore = totals.failed;
        if (session.testResults) countSuite(session.testResults, totals);
        // A file that failed to load or threw outside a test has no failing test to count;
        // count it once so it cannot pass as "0 failed".
        if (!session.passed && totals.failed === failedBefore) totals.failed += 1;
      }
      writeFileSync(path, JSON.stringify(totals));
    },
  };
}
