//! `svc`: see `tools::svc` and `svc(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::svc)
}
