//! `sv`: see `tools::sv` and `sv(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::sv)
}
