//! The benchmark tables' generator, `scripts/bench-tables.sh`: it renders a results file of
//! `scripts/bench.sh` as README's tables. A small hand-made results file
//! (`tests/bench/sample.tsv`) is rendered and its figures checked against values worked out
//! by hand: medians and ranges of the raw runs, rates, ratios, goals, sizes, and the sections
//! of suites the file does not hold. No benchmark runs here, and nothing depends on how fast
//! this machine is.

use harness::CleanEnv;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn render(results: &Path) -> String {
    let o = harness::run(
        Command::new("/bin/sh")
            .arg(harness::workspace("scripts/bench-tables.sh"))
            .arg("--stdout")
            .arg(results)
            .clean_env()
            .env("PATH", "/usr/bin:/bin"),
        Duration::from_secs(20),
    );
    assert!(
        o.status.success(),
        "bench-tables.sh failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_sample_renders_with_figures_computed_from_its_runs() {
    let out = render(&harness::workspace("tests/bench/sample.tsv"));
    for want in [
        // The header: where the figures come from, and the scale's warning.
        "at commit `abc1234`, on 2 vCPU Test CPU, 4 GiB, Linux 6.1.0, Debian 12.0;",
        "Load average (1, 5, 15 min) 0.10 0.20 0.30 before the run and 0.40 0.50 0.60 after it",
        "**Scale 0.05 (`--quick`): these figures check that the benchmarks work",
        // Runs of 0.3, 0.1 and 0.2 s: median 0.2 s; 20,000 lines and 2.4 MB in 0.2 s; peak
        // RSS the highest of the runs (2048 KiB).
        "| **our svlogd -tt** | 0.200 (0.100–0.300) | 100,000 | 12 | 1.00 | 2.0 MiB |",
        "| runit svlogd -tt | 1.000 (1.000–1.000) | 20,000 | 2 | 5.00 | 1.0 MiB |",
        "| `-tt` against runit's `svlogd -tt` | 5.00 times as fast | ≥ 4 | met |",
        "| peak RSS of `-tt` above runit's `-tt` | 1.0 MiB | ≤ 1 MiB | met |",
        // 0.25 s against 0.2 s: 80 % of the rate, the goal's edge.
        "| `~+error` (a word: memchr's search) | 0.250 | 80,000 | 0.80 | met |",
        // Arrivals, not datagrams sent: 900 in 1 ms.
        "| **our svlogd**, the same `U` line (runit's bytes) | 1,000 | 900 (100 lost) | 900,000 | 9.00 |",
        "Goals: UDP 10 times runit's `U`: 9.00 times (**missed**).",
        // Means over the fleet's runsv processes.
        "| PSS per runsv, 2 services with loggers (mean) | 90 KiB | 95 KiB |",
        "| private dirty of an idle runsv, static-PIE glibc, as installed | 70 KiB | 92 KiB (runit's) | met |",
        // The budgets: a limit in bytes met by one byte, missed by one; 40 KiB on musl.
        "| size of the smallest multicall binary without TLS, static musl (`build-release.sh --small --no-tls`) | 999,999 bytes | 1,000,000 | met |",
        "| size of the smallest multicall binary with TLS, static musl (`build-release.sh --small`) | 1,600,001 bytes | 1,600,000 | **missed** |",
        "| private dirty of an idle runsv, static musl | 40 KiB | 40 KiB | met |",
        "| PSS of a runsv in a fleet of 2, static musl | 60 KiB | 95 KiB (runit's) | met |",
        // 0.22 s against the median 0.2 s of the glibc build.
        "| `-tt` time of the smallest multicall (musl) ÷ the glibc release build's | 1.10 | 1.10 | met |",
        "| ours, test | 1.0 MiB | – | 2.0 MiB | – | – | 3.0 MiB in 2 files (1 not stripped) |",
        // Suites the file does not hold.
        "_compression: not measured in this run._",
        "_perf breakdown: not measured in this run._",
        "_svlogd memory: not measured in this run._",
        "_tools: not measured in this run._",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // No figure came out of a division by nothing.
    let words: Vec<&str> = out.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    assert!(
        !words.iter().any(|w| ["nan", "inf", "NaN"].contains(w)),
        "{out}"
    );
}
