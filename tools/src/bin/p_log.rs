//! `p_log`: see `tools::logs` and `p_log(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::p_log)
}
