//! `svstat`: see `tools::svstat` and `svstat(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::svstat)
}
