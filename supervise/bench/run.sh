#!/bin/sh
# All supervise benchmarks, ours beside runit's in the same run:
#   supervise/bench/run.sh
# (builds the release binaries first; set CARGO_TARGET_DIR to reuse a build; N, R, WINDOW
# override the sizes). Prints one line per figure.
set -eu
here=$(dirname "$0")
"$here/memory.sh"
NO_BUILD=1 "$here/restart.sh"
NO_BUILD=1 "$here/startup.sh"
NO_BUILD=1 "$here/idle.sh"
