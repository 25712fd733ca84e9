//! Processors that never block the input: rotations queue (bounded) behind a running
//! processor, a crash at any step of the hand-over loses nothing and processes nothing twice,
//! and rotated files left waiting are taken up again at the next start (issue 5).

use crate::util::{line_counts, numbered, Crashed, SharedPipe};
use harness::{
    archives, archives_ending, log_text, logdir, mode, pipe_bytes, read_text, wait_until, Scratch,
    SVLOGD_STDERR,
};
use std::time::Duration;

#[test]
fn a_slow_processor_does_not_hold_up_the_input() {
    // runit blocks a rotation until the previous processor is done, and with it every
    // program feeding the log. Here the rotations queue and the input keeps flowing.
    // The processor works only once the test lets it (`release`), so the order is certain.
    let s = Scratch::new("queue-flow");
    logdir(
        &s.path,
        "d",
        "s100\nn0\nqueue 20\n!while [ ! -e release ]; do sleep 0.02; done; cat\n",
    );
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["d"], &[]);
    let input = numbered("line", 100);
    pipe.send(&input);
    let wr = pipe.wr.take().expect("write end");
    wait_until(Duration::from_secs(20), "the input taken", || {
        pipe_bytes(&wr) == 0
    });
    wait_until(Duration::from_secs(20), "every line written", || {
        line_counts(&log_text(&d), "line", 100)
            .iter()
            .all(|&c| c == 1)
    });
    // Every line taken and written, every rotation waiting: none was processed yet.
    assert!(
        archives_ending(&d, ".u").len() >= 9,
        "rotations queued: {:?}",
        archives(&d)
    );
    assert_eq!(archives_ending(&d, ".s").len(), 0, "{:?}", archives(&d));
    std::fs::write(d.join("release"), "").unwrap();
    drop(wr);
    pipe.close();
    let st = p.wait_timeout(Duration::from_secs(30));
    assert!(st.success(), "{st:?}");
    // At exit, the queue is worked through (as runit processed every rotation).
    assert_eq!(archives_ending(&d, ".u").len(), 0, "{:?}", archives(&d));
    assert!(archives_ending(&d, ".s").len() >= 9);
    assert!(line_counts(&log_text(&d), "line", 100)
        .iter()
        .all(|&c| c == 1));
}

#[test]
fn the_queue_is_bounded() {
    // queue 2: a running processor and two waiting files at most; the next rotation waits,
    // as runit's did (queue 0 is runit's behaviour).
    for (q, most) in [(2, 3), (0, 1)] {
        let s = Scratch::new(&format!("queue-bound-{q}"));
        logdir(
            &s.path,
            "d",
            &format!("s60\nn0\nqueue {q}\n!sleep 0.3; cat\n"),
        );
        let d = s.join("d");
        let mut pipe = SharedPipe::new();
        let mut p = pipe.start(&s.path, &["d"], &[]);
        pipe.send(&numbered("line", 60));
        pipe.close();
        let mut seen = 0;
        wait_until(Duration::from_secs(60), "svlogd to exit", || {
            seen = seen.max(archives_ending(&d, ".u").len());
            !p.is_running()
        });
        assert!(p.wait_timeout(Duration::from_secs(30)).success());
        assert!(seen <= most, "queue {q}: {seen} .u files at once");
        assert!(seen >= 1, "queue {q}: the processor never seen working");
        assert_eq!(archives_ending(&d, ".u").len(), 0);
        assert!(line_counts(&log_text(&d), "line", 60)
            .iter()
            .all(|&c| c == 1));
    }
}

#[test]
fn queued_files_are_never_pruned() {
    // n1 with several rotations waiting: none of them is deleted while it waits; once all are
    // processed, the directory shrinks to n.
    let s = Scratch::new("queue-prune");
    logdir(&s.path, "d", "s50\nn1\nqueue 10\n!sleep 0.2; cat\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["-v", "d"], &[]);
    pipe.send(&numbered("line", 40));
    pipe.close();
    assert!(p.wait_timeout(Duration::from_secs(30)).success());
    let err = read_text(s.join(SVLOGD_STDERR));
    assert!(!err.contains("unable to open input"), "{err}");
    assert!(!err.contains("processor failed"), "{err}");
    assert_eq!(archives_ending(&d, ".u").len(), 0);
    assert_eq!(archives_ending(&d, ".s").len(), 1, "{:?}", archives(&d));
    // Every rotation was processed: one "processed:" per rotation.
    assert_eq!(
        err.matches("info: processed: ").count(),
        err.matches("info: rename: ").count()
    );
}

/// SIGKILLs our svlogd at a step of the processor hand-over (see svlogd's `faults` module),
/// then lets a fresh svlogd on the same pipe finish: every line is in the log, none was
/// processed twice, and no rotated file is left unprocessed.
fn kill_at(point: &str) {
    let mut c = Crashed::at("handover", "s300\nn0\n!sed 's/^/P:/'\n", 200, point);
    let d = c.d.clone();
    // The rotated file is there, unprocessed or processed, never lost.
    let names = archives(&d);
    assert!(
        names.iter().any(|n| n.ends_with(".u") || n.ends_with(".s")),
        "{point}: {names:?}"
    );
    let mut q = c.resume();
    c.pipe.close();
    let st = q.wait_timeout(Duration::from_secs(20));
    assert!(st.success(), "{point}: {st:?}");
    let text = c.check_lines(point);
    assert!(
        !text.contains("P:P:"),
        "{point}: a file was processed twice"
    );
    // No rotated file waits any more: a `.u` left is the killed logger's `current` (not
    // u+x), which runit's rule leaves unprocessed.
    for u in archives(&d).iter().filter(|n| n.ends_with(".u")) {
        assert_eq!(
            mode(d.join(u)).map(|m| m & 0o100),
            Some(0),
            "{point}: {u} left unprocessed"
        );
    }
    assert_eq!(archives_ending(&d, ".t").len(), 0, "{point}");
    assert!(text.contains("P:line"), "{point}: processed");
    let err = read_text(c.s.join(SVLOGD_STDERR));
    assert!(!err.contains("processor failed"), "{point}: {err}");
}

#[test]
fn sigkill_after_current_became_u() {
    kill_at("rotate-renamed");
}

#[test]
fn sigkill_while_the_processor_runs() {
    kill_at("processor-started");
}

#[test]
fn sigkill_after_the_processor_exited() {
    kill_at("processor-exited");
}

#[test]
fn sigkill_after_the_output_became_s() {
    kill_at("processor-renamed");
}

#[test]
fn sigkill_after_the_u_was_removed() {
    kill_at("processor-unlinked");
}

#[test]
fn term_waits_for_the_running_processor_only_and_the_next_start_takes_the_queue() {
    let s = Scratch::new("queue-term");
    logdir(&s.path, "d", "s50\nn0\nqueue 10\n!sleep 1; cat\n");
    let d = s.join("d");
    let mut pipe = SharedPipe::new();
    let mut p = pipe.start(&s.path, &["d"], &[]);
    pipe.send(&numbered("line", 30));
    wait_until(Duration::from_secs(20), "rotations queued", || {
        archives_ending(&d, ".u").len() >= 4
    });
    p.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(p.wait_timeout(Duration::from_secs(30)).success());
    // The running processor finished, the queue was not worked through.
    assert!(!archives_ending(&d, ".s").is_empty(), "{:?}", archives(&d));
    let waiting = archives_ending(&d, ".u").len();
    assert!(waiting >= 2, "{:?}", archives(&d));
    for u in archives(&d).iter().filter(|n| n.ends_with(".u")) {
        assert_eq!(
            mode(d.join(u)).map(|m| m & 0o100),
            Some(0o100),
            "{u}: a rotated file, u+x"
        );
    }
    // The next svlogd queues them again and processes them.
    let mut q = pipe.start(&s.path, &["d"], &[]);
    pipe.close();
    assert!(q.wait_timeout(Duration::from_secs(30)).success());
    assert_eq!(archives_ending(&d, ".u").len(), 0, "{:?}", archives(&d));
    assert!(line_counts(&log_text(&d), "line", 30)
        .iter()
        .all(|&c| c == 1));
}
