//! `tai64nlocal`: see `tools::tai64n` and `tai64nlocal(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::tai64nlocal)
}
