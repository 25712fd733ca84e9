//! `tai64n`: see `tools::tai64n` and `tai64n(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::tai64n)
}
