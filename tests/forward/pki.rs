//! Certificates for the issue 15 tests: a CA, a server certificate for `localhost` and
//! 127.0.0.1, and a client certificate, made with Debian's openssl in a directory of the
//! test's own (a test needing openssl fails loudly without it).

use harness::{reference, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The files [`make`] writes.
pub struct Pki {
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The server's certificate and key (`client.pem` and `client.key`, a client
    /// certificate, are beside them).
    pub server: (PathBuf, PathBuf),
}

/// Makes a CA named `ca_name` and its certificates in `dir` (EC P-256, valid two days).
pub fn make(dir: &Path, ca_name: &str) -> Pki {
    let openssl = reference("/usr/bin/openssl");
    let sh = |args: &[&str]| {
        let out = run(
            Command::new(&openssl).current_dir(dir).args(args),
            Duration::from_secs(60),
        );
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let words = |s: String| -> Vec<String> { s.split(' ').map(str::to_string).collect() };
    let call = |s: String| sh(&words(s).iter().map(String::as_str).collect::<Vec<_>>());
    call(format!(
        "req -x509 {ec} -keyout ca.key -out ca.pem -days 2 -subj /CN={}",
        ca_name.replace(' ', "_")
    ));
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("server.ext");
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("client.ext");
    for who in ["server", "client"] {
        call(format!(
            "req {ec} -keyout {who}.key -out {who}.csr -subj /CN={who}"
        ));
        call(format!(
            "x509 -req -in {who}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out {who}.pem -days 2 -extfile {who}.ext"
        ));
    }
    Pki {
        ca: dir.join("ca.pem"),
        server: (dir.join("server.pem"), dir.join("server.key")),
    }
}
