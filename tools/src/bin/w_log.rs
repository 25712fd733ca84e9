//! `w_log`: see `tools::logs` and `w_log(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::w_log)
}
