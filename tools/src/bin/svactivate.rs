//! `svactivate`: see `tools::activate` and `svactivate(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::svactivate)
}
