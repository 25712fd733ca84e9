//! `chpst`, and `envdir`, `envuidgid`, `pgrphack`, `setuidgid`, `setlock`, `softlimit` when
//! installed under those names: see `tools::chpst` and `chpst(8)`.

fn main() -> std::process::ExitCode {
    tools::applets::exit(tools::applets::chpst)
}
