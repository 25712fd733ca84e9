//! `svok`: see `tools::svok` and `svok(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::svok)
}
