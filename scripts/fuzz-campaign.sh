#!/bin/bash
# The fuzzing campaign of the reliability suite (project issue 7): every cargo-fuzz target
# runs for a fixed time, its executions and crashes are recorded, and its corpus is minimised
# back into fuzz/corpus/TARGET (the corpus replay test, tests/corpora, runs it in the test
# command). The figures go into docs/reliability/10-fuzzing.tsv, from which the fuzzing
# section of docs/reliability.md is written (scripts/reliability.sh --assemble).
#
#   scripts/fuzz-campaign.sh [-t SECONDS] [-j JOBS] [TARGET...]
#
# Defaults: 660 s per target (the issue asks for at least 10 minutes), 2 targets at a time,
# every [[bin]] of fuzz/Cargo.toml. A target that finds a crash stops there (libFuzzer's
# default): the crash is counted, its input is kept in fuzz/artifacts/TARGET/, and the run is
# recorded with it; fix the bug, add the input to the corpus, and run the target again.
#
# Minimising: libFuzzer's merge (what `cargo fuzz cmin` runs) of the committed corpus and the
# new inputs into an empty directory keeps the inputs that add coverage; of those, at most
# CORPUS_MAX (50) are kept, smallest first, so the repository stays small.
#
# Needs `cargo +nightly` and cargo-fuzz. FUZZ_TARGET_DIR sets the build directory (default
# /work/target-fuzz or fuzz/target), FUZZ_WORK the scratch directory for the growing corpora.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=660
jobs=2
while getopts t:j: opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *)
        echo "usage: $0 [-t SECONDS] [-j JOBS] [TARGET...]" >&2
        exit 100
        ;;
    esac
done
shift $((OPTIND - 1))

corpus_max=${CORPUS_MAX:-50}
tdir=${FUZZ_TARGET_DIR:-$root/fuzz/target}
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/fuzz-campaign}
results=$root/docs/reliability/10-fuzzing.tsv
mkdir -p "$work" "$root/docs/reliability" "$root/fuzz/artifacts"

if [ $# -eq 0 ]; then
    set -- $(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^runit-rs-fuzz$')
fi

(cd fuzz && cargo +nightly fuzz build --target-dir "$tdir" >&2)
bindir=$tdir/x86_64-unknown-linux-gnu/release

# One target: fuzz for $seconds, record, minimise.
run_one() {
    local t=$1 bin=$bindir/$1 w=$work/$1 log=$work/$1.log
    rm -rf "$w" "$w.min"
    mkdir -p "$w" "$w.min" "$root/fuzz/artifacts/$t"
    cp "$root/fuzz/corpus/$t"/* "$w"/ 2>/dev/null || true
    local before start end rc=0
    before=$(ls "$root/fuzz/corpus/$t" 2>/dev/null | wc -l)
    start=$(date +%s)
    "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$root/fuzz/artifacts/$t/" "$w" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
    local execs crashes=0 artifact=""
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    fi
    if [ "$rc" -ne 0 ]; then
        crashes=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        # Without final stats (a crash), the last status line has the count.
        [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    fi
    # Named seeds (hand-written, or a crash's input) are always kept; the merge adds the
    # inputs that bring new coverage, under their hashes, smallest first up to the cap.
    local named=0 f
    for f in "$root/fuzz/corpus/$t"/*; do
        [ -e "$f" ] || continue
        if ! [[ ${f##*/} =~ ^[0-9a-f]{40}$ ]]; then
            cp "$f" "$w.min/"
            named=$((named + 1))
        fi
    done
    "$bin" -merge=1 "$w.min" "$root/fuzz/corpus/$t" "$w" >"$log.merge" 2>&1
    rm -rf "$root/fuzz/corpus/$t"
    mkdir -p "$root/fuzz/corpus/$t"
    ls -S -r "$w.min" >"$w.list"
    local kept=0
    while read -r f; do
        if [[ $f =~ ^[0-9a-f]{40}$ ]]; then
            [ "$kept" -lt "$((corpus_max - named))" ] || continue
            kept=$((kept + 1))
        fi
        cp "$w.min/$f" "$root/fuzz/corpus/$t/$f"
    done <"$w.list"
    local after
    after=$(ls "$root/fuzz/corpus/$t" | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$((end - start))" "${execs:-0}" \
        "$crashes" "$before" "$after" "$(date -u +%F)" "$artifact" >"$work/$t.result"
    echo "fuzz-campaign: $t: $((end - start)) s, ${execs:-0} runs, $crashes crashes, corpus $before -> $after files${artifact:+, crash input $artifact}" >&2
}

running=0
for t in "$@"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

# Record: each target's latest run replaces its previous line.
touch "$results"
for t in "$@"; do
    [ -e "$work/$t.result" ] || continue
    grep -v -P "^\Q$t\E\t" "$results" >"$results.new" || true
    cat "$work/$t.result" >>"$results.new"
    mv "$results.new" "$results"
done
sort -o "$results" "$results"

# The document's fragments.
stamp="$(nproc) vCPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r), $(cargo +nightly --version | cut -d' ' -f1-2), libFuzzer via cargo-fuzz with AddressSanitizer"
total_targets=$(wc -l <"$results")
# 1234567 -> 1,234,567
commas='function c(n,  s) { s = sprintf("%.0f", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }'
total_execs=$(awk -F'\t' "$commas"' { s += $3 } END { print c(s) }' "$results")
total_crashes=$(awk -F'\t' '{ s += $4 } END { printf "%d", s }' "$results")
shortest=$(awk -F'\t' 'NR == 1 || $2 < m { m = $2 } END { printf "%d", m / 60 }' "$results")
{
    printf '| [Fuzzing: every parser and decoder](#10-fuzzing) | %s targets, each ≥ %s min: %s executions, %s crashes | – | ' \
        "$total_targets" "$shortest" "$total_execs" "$total_crashes"
    if [ "$total_crashes" -eq 0 ]; then echo 'held |'; else echo '**FAILED** |'; fi
} >"$root/docs/reliability/10-fuzzing.row"
{
    cat <<EOF
<a id="10-fuzzing"></a>
### Fuzzing: every parser and decoder

Each cargo-fuzz target (\`fuzz/Cargo.toml\`) is a thin wrapper over a property check in its
crate's \`fuzzing\` module, which panics when a property fails; libFuzzer with AddressSanitizer
runs it from the committed corpus for the time shown, then the corpus is minimised (libFuzzer's
merge; hand-named seeds always kept, then the smallest new inputs up to $corpus_max files) back into \`fuzz/corpus/TARGET/\`, which the test command
replays through the same checks (\`tests/corpora\`). A crash is any panic, sanitizer report,
timeout (10 s) or memory over 2 GiB. \`scripts/fuzz-campaign.sh\` (figures in
\`docs/reliability/10-fuzzing.tsv\`).

Measured by \`scripts/fuzz-campaign.sh\` ($stamp), two targets at a time.

| target | minutes | executions | crashes | corpus files (before → after) | run on |
|---|---|---|---|---|---|
EOF
    awk -F'\t' "$commas"' { printf "| `%s` | %.1f | %s | %d | %d → %d | %s |\n", $1, $2 / 60, c($3), $4, $5, $6, $7 }' "$results"
    echo
} >"$root/docs/reliability/10-fuzzing.md"
"$root/scripts/reliability.sh" --assemble
