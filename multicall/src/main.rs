//! `runit-rs`: every program of the toolkit in one executable (see the library's doc).
//!
//! `no_main`, so that runsv inside it starts as lean as its own binary (no alternate signal
//! stack); the other programs get std's start-up done by hand (`sys::start::as_std_does`),
//! and every program takes its arguments from C's `main`, as musl requires.
#![no_main]

use formats::help::{TOOLKIT, VERSION};
use formats::strerr::say;
use runit_rs::{choose, programs, usage, Choice, Start, EXIT_USAGE, NAME};
use std::io::Write;
use std::os::raw::{c_char, c_int};

/// runsv's allocator (`sys::arena`): the dispatch and runsv allocate from its static buffer;
/// every other program stops it before it starts and allocates from the C allocator.
#[global_allocator]
static ARENA: sys::arena::Arena = sys::arena::Arena;

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: these are the C start-up code's argc and argv.
    let argv = unsafe { sys::start::args(argc, argv) };
    let code = match choose(argv) {
        Choice::Run(i, argv) => match programs().nth(i).map(|p| p.1) {
            Some(Start::Lean(main)) => return main(argv),
            Some(Start::Std(main)) => {
                sys::arena::stop();
                sys::start::as_std_does();
                main(argv)
            }
            // `choose` gives an index of `programs`.
            None => EXIT_USAGE,
        },
        Choice::List => {
            let names: String = programs().map(|p| [p.0, "\n"].concat()).collect();
            print(&names)
        }
        Choice::Help => print(&usage()),
        Choice::Version => print(&format!("{NAME} ({TOOLKIT}) {VERSION}\n")),
        Choice::Unknown(name) => {
            say(&[NAME, ": fatal: no such program: ", &name.to_string_lossy()]);
            let _ = std::io::stderr().write_all(usage().as_bytes());
            EXIT_USAGE
        }
    };
    // std::process::exit flushes std's stdout buffer, as returning from std's main would.
    std::process::exit(code)
}

/// Writes `text` to standard output; 0, or 111 when it cannot be written.
fn print(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(_) => formats::help::EXIT_WRITE,
    }
}
