//! What the supervision scenarios share beyond the harness: their bound for what happens at
//! once, and the tally of the numbered lines their services log.

use std::time::Duration;

/// A generous bound for anything that should happen "at once".
pub const T: Duration = Duration::from_secs(10);

/// What the log says about one instance of a numbered service (see [`tally`]).
#[derive(Default, Debug)]
pub struct Instance {
    /// Its `start PID` line arrived.
    pub started: bool,
    /// Its `PID N` lines, in the order they arrived.
    pub numbers: Vec<u32>,
    /// Its `PID done` line arrived.
    pub done: bool,
}

/// The lines of a log written by services that print `start PID`, then `PID 1`, `PID 2`, ...
/// and possibly `PID done`: per instance what arrived, and the lines that arrived twice or
/// torn (not one of those forms) or out of order.
#[derive(Default, Debug)]
pub struct Tally {
    /// By pid.
    pub inst: std::collections::BTreeMap<u32, Instance>,
    /// Lines that arrived more than once.
    pub duplicates: u64,
    /// Lines that are not whole, or numbers that went backwards within an instance.
    pub torn: u64,
}

/// Reads such a log (see [`Tally`]).
pub fn tally(text: &str) -> Tally {
    let mut t = Tally::default();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        if !seen.insert(line) {
            t.duplicates += 1;
            continue;
        }
        let mut w = line.split(' ');
        let parsed = match (w.next(), w.next(), w.next()) {
            (Some("start"), Some(p), None) => p.parse().ok().map(|p| (p, None, false)),
            (Some(p), Some("done"), None) => p.parse().ok().map(|p| (p, None, true)),
            (Some(p), Some(n), None) => match (p.parse(), n.parse()) {
                (Ok(p), Ok(n)) => Some((p, Some(n), false)),
                _ => None,
            },
            _ => None,
        };
        let Some((pid, n, done)) = parsed else {
            t.torn += 1;
            continue;
        };
        let i = t.inst.entry(pid).or_default();
        match (n, done) {
            (Some(n), _) => {
                if i.numbers.last().is_some_and(|&l| l >= n) {
                    t.torn += 1;
                }
                i.numbers.push(n);
            }
            (None, true) => i.done = true,
            (None, false) => i.started = true,
        }
    }
    t
}

impl Tally {
    /// Lines of instance `pid` that are missing: its start line, and every number from 1 to
    /// the highest that arrived or `written` (what the instance is known to have written),
    /// whichever is higher.
    pub fn lost(&self, pid: u32, written: u32) -> u64 {
        let Some(i) = self.inst.get(&pid) else {
            return u64::from(written) + u64::from(written > 0);
        };
        let top = i.numbers.iter().copied().max().unwrap_or(0).max(written);
        let have = i
            .numbers
            .iter()
            .filter(|&&n| n >= 1 && n <= top)
            .collect::<std::collections::HashSet<_>>()
            .len() as u64;
        u64::from(top) - have + u64::from(!i.started)
    }
}
