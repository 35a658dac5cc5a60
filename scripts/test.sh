#!/usr/bin/env bash
# Runs Yagura's tests: scripts/test.sh [typecheck|server|web|e2e|faults|faults-long|faults-security-long]...
# Without arguments: typecheck → server → faults (quick) → web → e2e, stopping at the first failure.
# A suite that runs no tests fails: a glob that matched nothing must not look like success.
# The last line is always "N passed, N failed" (CI reads it).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PASSED=0
FAILED=0
trap 'echo "${PASSED} passed, ${FAILED} failed"' EXIT

die() {
  echo "test.sh: $*" >&2
  exit 1
}

section() {
  printf '\n== %s ==\n' "$1"
}

ensure_chromium() {
  local path="${CHROME_PATH:-/usr/bin/chromium}"
  if [ -x "$path" ]; then
    export CHROME_PATH="$path"
    return
  fi
  if [ -n "${CHROME_PATH:-}" ]; then
    die "CHROME_PATH=${CHROME_PATH} is not an executable; point it at Chrome or Chromium, or unset it to use /usr/bin/chromium"
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Chromium is missing; installing Debian's package (about 30 s)" >&2
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || die "apt-get install chromium failed"
    [ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is not there"
    export CHROME_PATH=/usr/bin/chromium
    return
  fi
  cat >&2 <<'MSG'
test.sh: Chromium not found at /usr/bin/chromium.
  Install it:   sudo apt-get update && sudo apt-get install -y chromium
  or point CHROME_PATH at a Chrome/Chromium binary:   CHROME_PATH=/path/to/chrome npm test
MSG
  exit 1
}

# node --test with a spec report on the terminal and a TAP copy to count from.
# Node 20 neither expands globs nor finds .ts files itself, so the caller passes the files.
run_node_tests() {
  local name="$1"
  shift
  [ "$#" -gt 0 ] || die "${name}: no test files found"
  local tap
  tap="$(mktemp)"
  # The timeout is a hang guard, not a speed check: a stuck test fails instead of stalling CI.
  node --import tsx --test --test-concurrency="${YG_TEST_CONCURRENCY:-1}" --test-timeout="${YG_TEST_TIMEOUT_MS:-300000}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "$@"
  local rc=$?
  local tests pass fail cancelled
  tests="$(sed -n 's/^# tests \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)"
  pass="$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)"
  fail="$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)"
  cancelled="$(sed -n 's/^# cancelled \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)"
  rm -f "$tap"
  PASSED=$((PASSED + ${pass:-0}))
  FAILED=$((FAILED + ${fail:-0} + ${cancelled:-0}))
  [ "${tests:-0}" -gt 0 ] || die "${name}: ran 0 tests"
  [ "$rc" -eq 0 ] || die "${name} tests failed"
}

run_typecheck() {
  section typecheck
  npx tsc -p tsconfig.json &&
    npx tsc -p src/tsconfig.sw.json &&
    npx tsc -p server/tsconfig.json &&
    npx tsc -p protocol/tsconfig.json || die "typecheck failed"
  echo "typecheck ok"
}

run_server() {
  section server
  shopt -s nullglob
  local files=(test/server/*.test.ts)
  shopt -u nullglob
  run_node_tests server "${files[@]}"
}

run_web() {
  section web
  ensure_chromium
  local summary
  summary="$(mktemp)"
  YG_WTR_SUMMARY="$summary" npx web-test-runner --config web-test-runner.config.mjs
  local rc=$?
  local counts
  counts="$(node -e '
    const fs = require("node:fs");
    let s = { files: 0, passed: 0, failed: 0 };
    try { s = { ...s, ...JSON.parse(fs.readFileSync(process.argv[1], "utf8")) }; } catch {}
    console.log(`${s.files} ${s.passed} ${s.failed}`);
  ' "$summary")"
  rm -f "$summary"
  local files pass fail
  read -r files pass fail <<<"$counts"
  PASSED=$((PASSED + pass))
  FAILED=$((FAILED + fail))
  [ "$files" -gt 0 ] || die "web: ran 0 test files"
  [ $((pass + fail)) -gt 0 ] || die "web: ran 0 tests"
  [ "$rc" -eq 0 ] || die "web tests failed"
}

# The fault and abuse suite (issue #9).
#   faults           (in `npm test`) S1–S7 quick, then R1–R7 quick;
#   faults-long      (`npm run test:faults`, which .ci/run also runs) R1–R7 at the issue's full
#                    counts (YAGURA_FAULTS_LONG=1);
#   faults-security-long  S1–S7 long (more fuzzing, bigger floods), by hand.
# R1–R7 run four files at a time: each makes network namespaces of its own and spends most of
# its time waiting on timeouts and schedules, not on the CPU.
fault_files() {
  shopt -s nullglob
  FILES=(test/faults/"$1"-*.test.ts)
  shopt -u nullglob
}

run_faults() {
  local long="$1" which="$2"
  section "faults: ${which}$([ "$long" = 1 ] && echo ' (long)')"
  local FILES
  if [ "$which" != resilience ]; then
    fault_files security
    # two at a time: the fuzzing file is most of this suite's time, the others run beside it
    YAGURA_FAULTS_LONG="$long" YG_TEST_CONCURRENCY=2 YG_TEST_TIMEOUT_MS="${YG_TEST_TIMEOUT_MS:-1800000}" run_node_tests faults-security "${FILES[@]}"
  fi
  if [ "$which" != security ]; then
    fault_files resilience
    YAGURA_FAULTS_LONG="$long" YG_TEST_CONCURRENCY=4 YG_TEST_TIMEOUT_MS="${YG_TEST_TIMEOUT_MS:-900000}" run_node_tests faults-resilience "${FILES[@]}"
  fi
}

run_e2e() {
  section e2e
  ensure_chromium
  # The master serves dist/: test what a user would get.
  npm run build || die "npm run build failed"
  shopt -s nullglob
  local files=(test/e2e/*.test.ts)
  shopt -u nullglob
  run_node_tests e2e "${files[@]}"
}

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(typecheck server faults web e2e)
# The agent's task launcher in C (npm install builds it; again here when its source is newer).
bash scripts/build-launcher.sh --strict || die "the task launcher (native/yagura-launcher.c) did not build"
for suite in "${suites[@]}"; do
  case "$suite" in
    typecheck) run_typecheck ;;
    server) run_server ;;
    web) run_web ;;
    e2e) run_e2e ;;
    faults) run_faults 0 all ;;
    faults-long) run_faults 1 resilience ;;
    faults-security-long) run_faults 1 security ;;
    *) die "unknown suite '${suite}' (expected typecheck, server, web, e2e, faults, faults-long or faults-security-long)" ;;
  esac
done
