//! Rotation: every way `current` is (re)created, as a machine over named steps
//! (spec/svlogd.md §2.2, §2.5, §2.6). The machine decides the order; its [`Effects`] do the
//! work on the directory's files, so the sequences below are tested with a recording host and
//! no files (see the tests at the end).
//!
//! * [`Kind::Rotate`] (size, `t`, ALRM): [`ROTATE`]. Wait while the processor's queue is full,
//!   pick a fresh `@<tai64n>.s` (`.u` with a processor), fsync `current`, make it u+x and close
//!   it, rename it, fsync the directory, create a new `current` (0644), prune, queue the new
//!   `.u` for the processor.
//! * [`Kind::Recover`] (a non-empty `current` without u+x found when the directory is opened:
//!   svlogd died without closing it): [`RECOVER`]. Rename it to a fresh `@<tai64n>.u`, fsync
//!   the directory, prune, create a new `current`. No processor is run for it (runit's rule).
//! * [`Kind::Open`]: [`OPEN`]. Open `current` for appending (or create it).
//!
//! A step that fails prints runit's `pausing:` message (the directory does that) and is
//! retried from the same step three seconds later, while the event loop goes on handling
//! signals; nothing here sleeps. Input is not read while a directory is in the middle of a
//! rotation, so no line can go to the wrong file.
//!
//! Names come from `archive::next_label`: never smaller than a name already in the
//! directory, so the order of the files is the order they were made in, whatever the clock
//! does. Pruning runs after the rename: the file this rotation just made and every file of a
//! pending processor job are never chosen (spec §12 item 9). After each rename the directory
//! itself is fsynced (spec §12 item 11).
//!
//! With a processor, a rotation no longer waits for the previous run to finish: the new `.u`
//! joins a queue of at most `queue` files (default 4), which the processor works through in
//! order. Only a full queue makes the rotation wait, as runit's always did (`queue 0` restores
//! that).

/// Why `current` is being (re)created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Size, `t` or ALRM rotation of a non-empty `current`.
    Rotate,
    /// A `current` left behind by a crash becomes `.u`.
    Recover,
    /// `current` is opened for appending; `existed` says whether it was there (verbose
    /// `append:` rather than `new:`).
    Open {
        /// `current` existed before.
        existed: bool,
    },
}

/// One step of a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Wait while the processor's queue is full.
    WaitProcessor,
    /// Choose the archive's name.
    PickName,
    /// fsync `current`.
    SyncCurrent,
    /// `current` to 0744 ("closed cleanly"), and close it.
    CloseCurrent,
    /// `current` becomes the archive.
    Rename,
    /// fsync the directory.
    SyncDir,
    /// Apply the retention limits.
    Prune,
    /// Open (or create) `current` for appending.
    Create,
    /// The new `current` to 0644.
    ChmodNew,
    /// Queue the new `.u` for the processor.
    QueueProcessor,
    /// Say (with `-v`) that `current` is open.
    Announce,
}

/// A size, `t` or ALRM rotation.
pub const ROTATE: &[Step] = &[
    Step::WaitProcessor,
    Step::PickName,
    Step::SyncCurrent,
    Step::CloseCurrent,
    Step::Rename,
    Step::SyncDir,
    Step::Create,
    Step::ChmodNew,
    Step::Prune,
    Step::QueueProcessor,
];

/// A `current` a crash left behind.
pub const RECOVER: &[Step] = &[
    Step::PickName,
    Step::Rename,
    Step::SyncDir,
    Step::Prune,
    Step::Create,
    Step::ChmodNew,
    Step::Announce,
];

/// Opening `current` (start-up, HUP).
pub const OPEN: &[Step] = &[Step::Create, Step::ChmodNew, Step::Announce];

/// A failed step: runit's words for it and the errno.
pub type Failure = (&'static str, i32);

/// The work a rotation's steps ask for, on the directory's files.
pub trait Effects {
    /// Whether a processor is configured (rotated files become `.u`).
    fn has_processor(&self) -> bool;
    /// Whether the processor's queue is full (a rotation waits).
    fn processor_full(&self) -> bool;
    /// A fresh archive name ending in `.LETTER`, taken by no file of the directory.
    fn pick_name(&mut self, letter: u8) -> [u8; 27];
    /// fsyncs `current`.
    fn sync_current(&mut self) -> Result<(), Failure>;
    /// Sets `current` to 0744 and closes it; `name` is what it is about to become.
    fn close_current(&mut self, name: &[u8; 27]) -> Result<(), Failure>;
    /// Renames `current` to `name`.
    fn rename_current(&mut self, name: &[u8; 27], kind: Kind) -> Result<(), Failure>;
    /// fsyncs the directory (best effort).
    fn sync_dir(&mut self);
    /// Applies the retention limits; `fresh` (just made) is never deleted.
    fn prune(&mut self, fresh: &[u8; 27]);
    /// Opens `current` for appending, creating it if needed.
    fn create_current(&mut self, kind: Kind) -> Result<(), Failure>;
    /// Sets the new `current` to 0644.
    fn chmod_new(&mut self) -> Result<(), Failure>;
    /// Queues `name` for the processor.
    fn queue_processor(&mut self, name: &[u8; 27]) -> Result<(), Failure>;
    /// Says that `current` is open (`new:` or `append:`, with `-v`).
    fn announce(&mut self, kind: Kind);
}

/// What [`Rotation::advance`] came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step is done.
    Done,
    /// It waits for the processor.
    Waiting,
    /// A step failed; it is retried from that step.
    Failed(Failure),
}

/// A rotation in progress.
#[derive(Debug, Clone)]
pub struct Rotation {
    kind: Kind,
    /// The index of the next step in the kind's list.
    at: usize,
    /// The `@<tai64n>.x` name picked for the old `current` (zeros until picked).
    name: [u8; 27],
}

impl Rotation {
    /// A rotation of the given kind, at its first step.
    pub fn new(kind: Kind) -> Rotation {
        Rotation {
            kind,
            at: 0,
            name: [0; 27],
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The archive name this rotation picked (all zeros before it picked one).
    pub fn name(&self) -> &[u8; 27] {
        &self.name
    }

    /// The steps of its kind, in order.
    pub fn steps(&self) -> &'static [Step] {
        match self.kind {
            Kind::Rotate => ROTATE,
            Kind::Recover => RECOVER,
            Kind::Open { .. } => OPEN,
        }
    }

    /// Runs steps until all are done, one waits, or one fails (then the same step runs again
    /// at the next call).
    pub fn advance(&mut self, fx: &mut impl Effects) -> Outcome {
        while let Some(&step) = self.steps().get(self.at) {
            match self.run(step, fx) {
                Ok(true) => self.at += 1,
                Ok(false) => return Outcome::Waiting,
                Err(f) => return Outcome::Failed(f),
            }
        }
        Outcome::Done
    }

    /// One step; `Ok(false)` means wait.
    fn run(&mut self, step: Step, fx: &mut impl Effects) -> Result<bool, Failure> {
        match step {
            Step::WaitProcessor => return Ok(!(fx.has_processor() && fx.processor_full())),
            Step::PickName => {
                let letter = if self.kind == Kind::Rotate && !fx.has_processor() {
                    b's'
                } else {
                    b'u'
                };
                self.name = fx.pick_name(letter);
            }
            Step::SyncCurrent => fx.sync_current()?,
            Step::CloseCurrent => fx.close_current(&self.name)?,
            Step::Rename => fx.rename_current(&self.name, self.kind)?,
            Step::SyncDir => fx.sync_dir(),
            Step::Prune => fx.prune(&self.name),
            Step::Create => fx.create_current(self.kind)?,
            Step::ChmodNew => fx.chmod_new()?,
            Step::QueueProcessor => {
                if fx.has_processor() {
                    fx.queue_processor(&self.name)?;
                }
            }
            Step::Announce => fx.announce(self.kind),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every effect; fails the named effects (once each) and keeps the queue full
    /// while `full` says so.
    #[derive(Default)]
    struct Recorder {
        processor: bool,
        full: bool,
        fail: Vec<&'static str>,
        log: Vec<String>,
    }

    impl Recorder {
        fn did(&mut self, what: &'static str, arg: &str) -> Result<(), Failure> {
            self.log.push(if arg.is_empty() {
                what.to_string()
            } else {
                format!("{what} {arg}")
            });
            match self.fail.iter().position(|f| *f == what) {
                Some(k) => {
                    self.fail.remove(k);
                    Err(("unable to do it", 28))
                }
                None => Ok(()),
            }
        }
    }

    fn short(name: &[u8; 27]) -> String {
        String::from_utf8_lossy(&name[24..]).into_owned()
    }

    impl Effects for Recorder {
        fn has_processor(&self) -> bool {
            self.processor
        }
        fn processor_full(&self) -> bool {
            self.full
        }
        fn pick_name(&mut self, letter: u8) -> [u8; 27] {
            let mut n = *b"@400000006b0337970000000a.x";
            n[26] = letter;
            self.log.push(format!("pick {}", short(&n)));
            n
        }
        fn sync_current(&mut self) -> Result<(), Failure> {
            self.did("sync-current", "")
        }
        fn close_current(&mut self, name: &[u8; 27]) -> Result<(), Failure> {
            self.did("close-current", &short(name))
        }
        fn rename_current(&mut self, name: &[u8; 27], _: Kind) -> Result<(), Failure> {
            self.did("rename", &short(name))
        }
        fn sync_dir(&mut self) {
            let _ = self.did("sync-dir", "");
        }
        fn prune(&mut self, fresh: &[u8; 27]) {
            let _ = self.did("prune", &short(fresh));
        }
        fn create_current(&mut self, _: Kind) -> Result<(), Failure> {
            self.did("create", "")
        }
        fn chmod_new(&mut self) -> Result<(), Failure> {
            self.did("chmod-new", "")
        }
        fn queue_processor(&mut self, name: &[u8; 27]) -> Result<(), Failure> {
            self.did("queue", &short(name))
        }
        fn announce(&mut self, kind: Kind) {
            let word = match kind {
                Kind::Open { existed: true } => "append",
                _ => "new",
            };
            self.log.push(format!("announce {word}"));
        }
    }

    fn transcript(kind: Kind, rec: &mut Recorder) -> (Vec<Outcome>, Vec<String>) {
        let mut r = Rotation::new(kind);
        let mut outcomes = Vec::new();
        loop {
            let o = r.advance(rec);
            outcomes.push(o);
            if o == Outcome::Done || outcomes.len() > 10 {
                break;
            }
            rec.full = false;
        }
        (outcomes, std::mem::take(&mut rec.log))
    }

    #[test]
    fn each_kind_runs_its_steps_in_order() {
        let (o, log) = transcript(Kind::Rotate, &mut Recorder::default());
        assert_eq!(o, vec![Outcome::Done]);
        assert_eq!(
            log,
            [
                "pick a.s",
                "sync-current",
                "close-current a.s",
                "rename a.s",
                "sync-dir",
                "create",
                "chmod-new",
                "prune a.s",
            ]
        );
        let mut with_processor = Recorder {
            processor: true,
            ..Recorder::default()
        };
        let (_, log) = transcript(Kind::Rotate, &mut with_processor);
        assert_eq!(log[0], "pick a.u");
        assert_eq!(log.last().unwrap(), "queue a.u");
        let (_, log) = transcript(Kind::Recover, &mut with_processor);
        assert_eq!(
            log,
            [
                "pick a.u",
                "rename a.u",
                "sync-dir",
                "prune a.u",
                "create",
                "chmod-new",
                "announce new",
            ]
        );
        let (_, log) = transcript(Kind::Open { existed: true }, &mut Recorder::default());
        assert_eq!(log, ["create", "chmod-new", "announce append"]);
    }

    #[test]
    fn a_failed_step_is_retried_from_where_it_stopped() {
        let mut rec = Recorder {
            fail: vec!["rename", "chmod-new"],
            ..Recorder::default()
        };
        let (o, log) = transcript(Kind::Rotate, &mut rec);
        let failed = Outcome::Failed(("unable to do it", 28));
        assert_eq!(o, vec![failed, failed, Outcome::Done]);
        assert_eq!(
            log,
            [
                "pick a.s",
                "sync-current",
                "close-current a.s",
                "rename a.s",
                "rename a.s",
                "sync-dir",
                "create",
                "chmod-new",
                "chmod-new",
                "prune a.s",
            ]
        );
    }

    #[test]
    fn a_full_processor_queue_holds_the_rotation_before_it_touches_anything() {
        let mut rec = Recorder {
            processor: true,
            full: true,
            ..Recorder::default()
        };
        let (o, log) = transcript(Kind::Rotate, &mut rec);
        assert_eq!(o, vec![Outcome::Waiting, Outcome::Done]);
        assert_eq!(log[0], "pick a.u");
        // Without a processor the queue never holds it.
        let mut rec = Recorder {
            full: true,
            ..Recorder::default()
        };
        assert_eq!(transcript(Kind::Rotate, &mut rec).0, vec![Outcome::Done]);
    }
}
