#!/usr/bin/env bash
# Builds the agent's task launcher, build/yagura-launcher, from native/yagura-launcher.c when it is
# missing or older than its source (npm install, npm start and npm test run this).
# Without a C compiler the agent launches tasks through its launcher in node instead (each task then
# costs more CPU; README, Benchmarks): this says so and succeeds.
#   --strict: a compiler that fails is an error (npm test), not a warning.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=native/yagura-launcher.c
out=build/yagura-launcher
[ -x "$out" ] && [ "$out" -nt "$src" ] && exit 0
cc="${CC:-$(command -v cc || command -v gcc || command -v clang || true)}"
if [ -z "$cc" ]; then
  echo "build-launcher: no C compiler (cc, gcc or clang): the agent will launch tasks with its node launcher" >&2
  exit 0
fi
mkdir -p build
if "$cc" -O2 -Wall -Wextra -o "$out.tmp.$$" "$src"; then
  mv -f "$out.tmp.$$" "$out"
  exit 0
fi
rm -f "$out.tmp.$$"
echo "build-launcher: $cc could not build $src: the agent will launch tasks with its node launcher" >&2
[ "${1:-}" = --strict ] && exit 1
exit 0
