//! Replays every cargo-fuzz corpus (`fuzz/corpus/TARGET/*`) through the same property checks
//! the fuzz targets run, so the test command covers every input the fuzzers kept.

use std::fs;

/// A fuzz target's name and the property check it runs.
type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] = &[
    ("status_decode", formats::fuzzing::status_decode),
    ("control_bytes", formats::fuzzing::control_bytes),
    ("tai64n_parse", formats::fuzzing::tai64n_parse),
    ("getopt", formats::fuzzing::getopt),
    ("archive_name", formats::fuzzing::archive_name),
    ("numbers", formats::fuzzing::numbers),
    ("runsv_machine", supervise::fuzzing::runsv_machine),
    ("runsv_start", supervise::fuzzing::runsv_start),
    ("tai64nlocal_filter", tools::fuzzing::tai64nlocal_filter),
    ("chpst_uidgid", tools::fuzzing::chpst_uidgid),
    ("log_since", tools::fuzzing::log_since),
    ("sv_action", tools::fuzzing::sv_action),
    ("chpst_options", tools::fuzzing::chpst_options),
    ("svlogd_config", svlogd::fuzzing::svlogd_config),
    ("pmatch", svlogd::fuzzing::pmatch),
    ("svlogd_regex", svlogd::fuzzing::svlogd_regex),
    ("line_split", svlogd::fuzzing::line_split),
    ("forward_frame", svlogd::fuzzing::forward_frame),
    ("forward_cursor", svlogd::fuzzing::forward_cursor),
    ("forward_response", svlogd::fuzzing::forward_response),
    ("svlogd_options", svlogd::fuzzing::svlogd_options),
];

#[test]
fn every_fuzz_target_has_a_replayed_corpus() {
    let declared =
        fs::read_to_string(harness::workspace("fuzz").join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for line in declared.lines() {
        if let Some(name) = line.strip_prefix("name = \"") {
            let name = name.trim_end_matches('"');
            if name == "runit-rs-fuzz" {
                continue;
            }
            assert!(
                TARGETS.iter().any(|(t, _)| *t == name),
                "fuzz target {name} is not replayed by this test"
            );
        }
    }
}

#[test]
fn corpora_replay_without_failures() {
    for (name, check) in TARGETS {
        let dir = harness::workspace("fuzz").join("corpus").join(name);
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut n = 0;
        for e in entries.flatten() {
            let data = fs::read(e.path()).expect("read corpus file");
            check(&data);
            n += 1;
        }
        assert!(n > 0, "corpus {name} is empty");
    }
}
