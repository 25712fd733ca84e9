#!/bin/sh
# README's benchmark tables, generated from a results file of scripts/bench.sh (which runs
# this at its end):
#
#   scripts/bench-tables.sh [RESULTS]            rewrite README.md between
#                                                <!-- bench:begin --> and <!-- bench:end -->
#   scripts/bench-tables.sh --stdout [RESULTS]   print the tables instead
#
# RESULTS defaults to docs/benchmarks/results.tsv. Every figure is computed from the raw
# records there (scripts/bench/tables.awk: medians, ranges, rates, ratios, goals); nothing in
# the tables is typed by hand.
set -eu
cd "$(dirname "$0")/.."
stdout=""
if [ "${1:-}" = "--stdout" ]; then
    stdout=1
    shift
fi
results=${1:-docs/benchmarks/results.tsv}
[ -r "$results" ] || { echo "bench-tables.sh: no results file $results (run scripts/bench.sh)" >&2; exit 111; }
tables=$(mktemp)
trap 'rm -f "$tables" README.md.new' EXIT
awk -f scripts/bench/tables.awk "$results" >"$tables"
if [ -n "$stdout" ]; then
    cat "$tables"
    exit 0
fi
readme=README.md
grep -q '^<!-- bench:begin -->$' "$readme" && grep -q '^<!-- bench:end -->$' "$readme" ||
    { echo "bench-tables.sh: $readme has no <!-- bench:begin --> and <!-- bench:end --> lines" >&2; exit 111; }
{
    sed -n '1,/^<!-- bench:begin -->$/p' "$readme"
    cat "$tables"
    sed -n '/^<!-- bench:end -->$/,$p' "$readme"
} >"$readme.new"
mv "$readme.new" "$readme"
