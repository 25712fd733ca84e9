//! Warnings that can repeat in a loop (a full service table, no inotify instance, a directory
//! that cannot be read, a supervise directory that cannot be made again) are said once per
//! spell and then summarised, so a daemon stuck in such a state cannot flood its log.
//!
//! A spell starts with the first occurrence, which is printed in full; later occurrences are
//! only counted, with a summary after [`FIRST_SUMMARY`], then at doubling intervals up to
//! [`MAX_SUMMARY`]; the spell ends when the condition clears, with a last summary if anything
//! was left unsaid.

use std::time::{Duration, Instant};

/// The first summary of a spell comes this long after its first warning.
pub const FIRST_SUMMARY: Duration = Duration::from_secs(60);
/// Summaries of a long spell come at most this far apart.
pub const MAX_SUMMARY: Duration = Duration::from_secs(3600);

/// What the caller should print for one occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Say {
    /// The first of a spell: the warning in full.
    First,
    /// A summary is due: this many occurrences (this one included) in this long since the
    /// last thing printed.
    Summary(u64, Duration),
    /// Nothing: it is counted.
    Quiet,
}

/// One kind of repeating warning.
#[derive(Debug, Default)]
pub struct Spell {
    /// When the spell began; `None` between spells.
    since: Option<Instant>,
    /// Occurrences not yet summarised.
    unsaid: u64,
    /// When the next summary may be printed, and the interval after it.
    next: Option<(Instant, Duration)>,
    /// When something was last printed.
    said_at: Option<Instant>,
}

impl Spell {
    /// A spell not in progress.
    pub const fn new() -> Spell {
        Spell {
            since: None,
            unsaid: 0,
            next: None,
            said_at: None,
        }
    }

    /// Whether a spell is in progress.
    pub fn active(&self) -> bool {
        self.since.is_some()
    }

    /// Records one occurrence at `now` and says what to print.
    pub fn hit(&mut self, now: Instant) -> Say {
        if self.since.is_none() {
            self.since = Some(now);
            self.unsaid = 0;
            self.next = Some((now + FIRST_SUMMARY, FIRST_SUMMARY));
            self.said_at = Some(now);
            return Say::First;
        }
        self.unsaid += 1;
        match self.next {
            Some((at, every)) if now >= at => {
                let every = (every * 2).min(MAX_SUMMARY);
                self.next = Some((now + every, every));
                let n = self.unsaid;
                self.unsaid = 0;
                let since = self.said_at.replace(now).unwrap_or(now);
                Say::Summary(n, now.saturating_duration_since(since))
            }
            _ => Say::Quiet,
        }
    }

    /// Ends the spell (the condition cleared). Returns how long it lasted and how many
    /// occurrences were never summarised, or `None` if no spell was in progress.
    pub fn end(&mut self, now: Instant) -> Option<(Duration, u64)> {
        let since = self.since.take()?;
        self.next = None;
        let n = self.unsaid;
        self.unsaid = 0;
        Some((now.saturating_duration_since(since), n))
    }
}

/// A duration in words for a summary: `3 s`, `12 min`, `2 h`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else {
        format!("{} h", s / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_full_then_counted_then_summarised_with_growing_gaps() {
        let t = Instant::now();
        let mut s = Spell::new();
        assert!(!s.active());
        assert_eq!(s.hit(t), Say::First);
        assert!(s.active());
        for i in 1..100 {
            assert_eq!(s.hit(t + Duration::from_millis(i)), Say::Quiet);
        }
        assert_eq!(s.hit(t + FIRST_SUMMARY), Say::Summary(100, FIRST_SUMMARY));
        assert_eq!(s.hit(t + FIRST_SUMMARY * 2), Say::Quiet);
        assert_eq!(
            s.hit(t + FIRST_SUMMARY * 3),
            Say::Summary(2, FIRST_SUMMARY * 2)
        );
        assert_eq!(s.end(t + FIRST_SUMMARY * 4), Some((FIRST_SUMMARY * 4, 0)));
        assert!(!s.active());
        assert_eq!(s.end(t), None);
        // A new spell starts in full again.
        assert_eq!(s.hit(t + FIRST_SUMMARY * 5), Say::First);
        assert_eq!(s.hit(t + FIRST_SUMMARY * 5), Say::Quiet);
        assert_eq!(s.end(t + FIRST_SUMMARY * 6), Some((FIRST_SUMMARY, 1)));
    }

    #[test]
    fn summaries_never_come_closer_than_the_first_gap() {
        let t = Instant::now();
        let mut s = Spell::new();
        let mut printed = 0;
        // One occurrence every 10 ms for ten hours of simulated time.
        for ms in (0..36_000_000u64).step_by(10) {
            if s.hit(t + Duration::from_millis(ms)) != Say::Quiet {
                printed += 1;
            }
        }
        // 1 + summaries at 1, 3, 7, 15, 31, 63 min, then hourly: 2h03, 3h03, ... 9h03.
        assert!(printed <= 16, "{printed}");
    }

    #[test]
    fn spans_in_words() {
        assert_eq!(span(Duration::from_secs(3)), "3 s");
        assert_eq!(span(Duration::from_secs(720)), "12 min");
        assert_eq!(span(Duration::from_secs(7300)), "2 h");
    }
}
