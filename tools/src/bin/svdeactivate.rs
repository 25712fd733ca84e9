//! `svdeactivate`: see `tools::activate` and `svdeactivate(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::svdeactivate)
}
