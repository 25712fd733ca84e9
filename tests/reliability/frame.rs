//! The frame every reliability scenario uses: how big to run, and the report it leaves for
//! `docs/reliability.md`.
//!
//! In the test command (`cargo test -p tests --test reliability`) each scenario runs at a
//! reduced size on our binaries only and asserts its property. `scripts/reliability.sh` sets
//! `RELIABILITY_FULL=1` (the sizes the issue names, and runit's binaries beside ours where
//! runit can run the scenario) and `RELIABILITY_OUT=docs/reliability`, where [`Report::finish`]
//! writes two fragments per scenario: `ID.row` (its row of the summary table) and `ID.md` (its
//! section: how it runs, when and where it was measured, and a table of figures, ours beside
//! runit's). The script assembles the document from the fragments in name order, so IDs start
//! with the scenario's number in the issue (`02-service-restart-loop`).
//!
//! A property that fails on our binaries still gets its figures written (marked FAILED), then
//! [`Report::finish`] panics, so the failure is both recorded and loud. runit's figures are
//! recorded, never asserted.

use harness::Impl;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// Whether this is the full-size run of `scripts/reliability.sh` (`RELIABILITY_FULL=1`).
pub fn full() -> bool {
    std::env::var_os("RELIABILITY_FULL").is_some_and(|v| v == "1")
}

/// `reduced` in the test command, `full` in the full-size run.
pub fn size<T>(reduced: T, full_size: T) -> T {
    if full() {
        full_size
    } else {
        reduced
    }
}

/// Whether runit's binaries are run beside ours: in the full-size run, unless
/// `RELIABILITY_RUNIT=0`.
pub fn with_runit() -> bool {
    full() && std::env::var_os("RELIABILITY_RUNIT").is_none_or(|v| v != "0")
}

/// The implementations a scenario runs on: ours, and runit's in the full-size run (see
/// [`with_runit`]).
pub fn impls() -> Vec<Impl> {
    if with_runit() {
        vec![Impl::Ours, Impl::Runit]
    } else {
        vec![Impl::Ours]
    }
}

/// Runs a scenario on each of [`impls`], ours first: ours' figures, and runit's when it ran.
pub fn ours_and_runit<F>(mut run: impl FnMut(Impl) -> F) -> (F, Option<F>) {
    let ours = run(Impl::Ours);
    let runit = with_runit().then(|| run(Impl::Runit));
    (ours, runit)
}

/// A measure's name and how to compute it from a scenario's figures.
pub type Measure<'a, F> = (&'a str, &'a dyn Fn(&F) -> String);

/// One scenario's figures and properties.
pub struct Report {
    id: String,
    title: String,
    how: String,
    rows: Vec<[String; 3]>,
    summary: Option<[String; 2]>,
    notes: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    /// A report for scenario `id` (`NN-name`, the file name of its fragments), with the title
    /// the document shows.
    pub fn new(id: &str, title: &str) -> Report {
        Report {
            id: id.to_string(),
            title: title.to_string(),
            how: String::new(),
            rows: Vec::new(),
            summary: None,
            notes: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// How the scenario is run, in a few sentences (the size it ran at included).
    pub fn how(&mut self, text: &str) {
        self.how = text.to_string();
    }

    /// A row of figures: what is measured, ours, runit's (empty when runit was not run or
    /// cannot run the scenario).
    pub fn row(&mut self, measure: &str, ours: impl ToString, runit: impl ToString) {
        self.rows
            .push([measure.to_string(), ours.to_string(), runit.to_string()]);
    }

    /// Rows computed the same way from ours and runit's figures (runit's `None` when it did
    /// not run).
    pub fn rows<F>(&mut self, ours: &F, runit: Option<&F>, rows: &[Measure<'_, F>]) {
        for (measure, f) in rows {
            self.row(measure, f(ours), runit.map(f).unwrap_or_default());
        }
    }

    /// The key figures for the summary table at the top of the document.
    pub fn summary(&mut self, ours: impl ToString, runit: impl ToString) {
        self.summary = Some([ours.to_string(), runit.to_string()]);
    }

    /// A paragraph after the table: what the figures mean, what was seen.
    pub fn note(&mut self, text: &str) {
        self.notes.push(text.to_string());
    }

    /// Records a property of our binaries; a false one fails the scenario at
    /// [`Report::finish`] (after its figures are written).
    pub fn check(&mut self, ok: bool, property: &str) {
        if !ok {
            self.failures.push(property.to_string());
        }
    }

    /// Whether every property held so far.
    pub fn held(&self) -> bool {
        self.failures.is_empty()
    }

    fn cell(s: &str) -> String {
        if s.is_empty() {
            "–".to_string()
        } else {
            s.replace('|', "\\|").replace('\n', " ")
        }
    }

    /// The `ID.row` fragment: one row of the summary table.
    fn row_fragment(&self) -> String {
        let [ours, runit] = self.summary.clone().unwrap_or_default();
        let verdict = if self.held() { "held" } else { "**FAILED**" };
        format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            self.title,
            self.id,
            Self::cell(&ours),
            Self::cell(&runit),
            verdict
        )
    }

    /// The `ID.md` fragment: the scenario's section.
    fn section_fragment(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "<a id=\"{}\"></a>\n### {}\n", self.id, self.title);
        if !self.how.is_empty() {
            let _ = writeln!(s, "{}\n", self.how);
        }
        let stamp = std::env::var("RELIABILITY_STAMP").unwrap_or_else(|_| "unrecorded".into());
        let _ = writeln!(s, "Measured {stamp}.\n");
        let _ = writeln!(s, "| measure | ours | runit's |\n|---|---|---|");
        for [m, o, r] in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                Self::cell(m),
                Self::cell(o),
                Self::cell(r)
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "\n{n}");
        }
        if !self.failures.is_empty() {
            let _ = writeln!(
                s,
                "\n**Failed on our binaries:** {}.",
                self.failures.join("; ")
            );
        }
        s.push('\n');
        s
    }

    /// Prints the report (visible with `--nocapture`), writes the fragments when
    /// `RELIABILITY_OUT` is set, and panics if a property failed.
    pub fn finish(self) {
        let section = self.section_fragment();
        eprintln!("{section}");
        if let Some(dir) = std::env::var_os("RELIABILITY_OUT").map(PathBuf::from) {
            std::fs::create_dir_all(&dir).expect("create RELIABILITY_OUT");
            std::fs::write(dir.join(format!("{}.row", self.id)), self.row_fragment())
                .expect("write row fragment");
            std::fs::write(dir.join(format!("{}.md", self.id)), &section)
                .expect("write section fragment");
        }
        assert!(
            self.failures.is_empty(),
            "{}: properties failed on our binaries: {}",
            self.title,
            self.failures.join("; ")
        );
    }
}

/// The median of some durations (zero when there are none).
pub fn median(v: &mut [Duration]) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

/// A size in KiB for a table (`1.2 MiB`, `840 KiB`).
pub fn kib(k: u64) -> String {
    if k >= 1024 {
        format!("{:.1} MiB", k as f64 / 1024.0)
    } else {
        format!("{k} KiB")
    }
}

/// A duration for a table: milliseconds below a second (`12.3 ms`), else seconds with two
/// decimals (`1.02 s`).
pub fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// A count with thousands separators (`1,000,000`).
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && [true, false, false][(digits.len() - i) % 3] {
            out.push(',');
        }
        out.push(c);
    }
    out
}
