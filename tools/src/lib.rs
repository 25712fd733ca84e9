//! What the command-line tools (`sv`, `svc`, `svok`, `svstat`, `chpst`, `tai64n`, ...) share.
