//! `metrics`: a status file per log directory, `svlogd.prom`, in the Prometheus text
//! exposition format, so node_exporter's textfile collector reads it as it is (point the
//! collector's directory at it, or link the file there: the `dir` label keeps directories
//! apart, so one collector directory can hold the files of many).
//!
//! Every metric has `# HELP` and `# TYPE` lines and a `dir` label (the directory's real path);
//! one line a value. The file is written as `svlogd.prom.new` and renamed into place, at most
//! once a second and only when something changed, between input chunks (never per line), and
//! once more when the directory is closed. The name starts with neither `@` nor a runit name,
//! so no svlogd counts or prunes it.
//!
//! Each part of a directory contributes its lines through one method (see
//! `LogDir::write_metrics`): the writer's counters ([`Stats`]), retention, compression, the
//! processor queue; the syslog forwarder adds its own the same way.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// The status file's name in the log directory.
pub const FILE: &[u8] = b"svlogd.prom";
/// Its work name.
pub const FILE_NEW: &[u8] = b"svlogd.prom.new";

/// A directory's counters (kept across reloads; they start at 0 when svlogd starts).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Lines written to `current`.
    pub lines_written: u64,
    /// Bytes written to `current` (stamps and prefixes included).
    pub bytes_written: u64,
    /// Lines dropped (`overload drop`).
    pub lines_dropped: u64,
    /// Lines not copied to stdout/stderr (`copy` in drop mode).
    pub copy_dropped: u64,
    /// Rotations of `current`.
    pub rotations: u64,
    /// Archives deleted by retention.
    pub deleted: u64,
    /// Processor runs that succeeded.
    pub processed: u64,
    /// Processor runs that failed.
    pub processor_failures: u64,
    /// The last error: when, and what (runit's words).
    pub last_error: Option<(SystemTime, String)>,
}

/// A metric's value. Prometheus reads any decimal number; these are whole counts, or seconds
/// with microseconds, written with integer arithmetic: exact at any size (a count as `f64`
/// is not past 2^53), and no float-printing code in the binary (12 KB of svlogd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A counter or gauge.
    Count(u64),
    /// A time, as seconds since the epoch.
    Seconds(Duration),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Seconds(d) => write!(f, "{}.{:06}", d.as_secs(), d.subsec_micros()),
        }
    }
}

/// A Prometheus text-format document being built.
#[derive(Debug, Default)]
pub struct Metrics {
    out: String,
    /// The `dir` label, escaped.
    dir: String,
}

/// Escapes a label value (`\`, `"` and newline).
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

impl Metrics {
    /// A document about the directory at `dir`.
    pub fn new(dir: &[u8]) -> Metrics {
        Metrics {
            out: String::new(),
            dir: escape(&String::from_utf8_lossy(dir)),
        }
    }

    /// Adds a metric: `kind` is `counter` or `gauge`; `labels` are extra `name="value"`
    /// pairs (values escaped here).
    pub fn add(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        labels: &[(&str, &str)],
        value: Value,
    ) {
        self.family(name, kind, help, &[(labels, value)]);
    }

    /// Adds a metric with one value per set of extra labels, under one `# HELP`/`# TYPE`
    /// (Prometheus allows those once per name).
    pub fn family(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        rows: &[(&[(&str, &str)], Value)],
    ) {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "# HELP svlogd_{name} {help}");
        let _ = writeln!(self.out, "# TYPE svlogd_{name} {kind}");
        for (labels, value) in rows {
            let _ = write!(self.out, "svlogd_{name}{{dir=\"{}\"", self.dir);
            for (k, v) in *labels {
                let _ = write!(self.out, ",{k}=\"{}\"", escape(v));
            }
            let _ = writeln!(self.out, "}} {value}");
        }
    }

    /// A counter without extra labels.
    pub fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.add(name, "counter", help, &[], Value::Count(value));
    }

    /// A gauge without extra labels.
    pub fn gauge(&mut self, name: &str, help: &str, value: u64) {
        self.add(name, "gauge", help, &[], Value::Count(value));
    }

    /// The document.
    pub fn text(&self) -> &str {
        &self.out
    }
}

impl Stats {
    /// The writer's counters.
    pub fn write(&self, m: &mut Metrics) {
        m.counter(
            "lines_written_total",
            "Lines written to current.",
            self.lines_written,
        );
        m.counter(
            "bytes_written_total",
            "Bytes written to current, stamps and prefixes included.",
            self.bytes_written,
        );
        m.counter(
            "lines_dropped_total",
            "Lines dropped because the directory could not keep up (overload drop).",
            self.lines_dropped,
        );
        m.counter(
            "copy_lines_dropped_total",
            "Lines not copied to stdout or stderr because it could not keep up.",
            self.copy_dropped,
        );
        m.counter("rotations_total", "Rotations of current.", self.rotations);
        m.counter(
            "archives_deleted_total",
            "Archives deleted by retention (n, S, maxage, N).",
            self.deleted,
        );
        m.counter(
            "processor_runs_total",
            "Processor runs that succeeded.",
            self.processed,
        );
        m.counter(
            "processor_failures_total",
            "Processor runs that failed.",
            self.processor_failures,
        );
        if let Some((when, what)) = &self.last_error {
            let secs = when
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            m.add(
                "last_error_timestamp_seconds",
                "gauge",
                "When the last error happened; its message is the label.",
                &[("message", what)],
                Value::Seconds(secs),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let mut m = Metrics::new(b"/var/log/a\"b");
        m.counter("lines_written_total", "Lines.", 3);
        let t = Duration::new(1_700_000_000, 1_500_000);
        m.add(
            "x",
            "gauge",
            "X.",
            &[("message", "a\nb\\")],
            Value::Seconds(t),
        );
        assert_eq!(
            m.text(),
            "# HELP svlogd_lines_written_total Lines.\n\
             # TYPE svlogd_lines_written_total counter\n\
             svlogd_lines_written_total{dir=\"/var/log/a\\\"b\"} 3\n\
             # HELP svlogd_x X.\n\
             # TYPE svlogd_x gauge\n\
             svlogd_x{dir=\"/var/log/a\\\"b\",message=\"a\\nb\\\\\"} 1700000000.001500\n"
        );
    }

    #[test]
    fn counts_are_exact_past_two_to_the_53() {
        let mut m = Metrics::new(b"d");
        m.counter("c", "C.", u64::MAX);
        assert!(m
            .text()
            .ends_with("svlogd_c{dir=\"d\"} 18446744073709551615\n"));
        assert_eq!(
            Value::Seconds(Duration::from_micros(7)).to_string(),
            "0.000007"
        );
    }
}
