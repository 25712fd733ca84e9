//! `svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`: runit's logger; see
//! `svlogd::program` and `svlogd(8)`.

fn main() -> std::process::ExitCode {
    let code = svlogd::program::main(std::env::args_os().collect());
    std::process::ExitCode::from(code as u8)
}
