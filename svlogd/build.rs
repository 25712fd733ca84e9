//! Non-PIE where it pays: see build/no_pie.rs (one rule for every per-service binary).
include!("../build/no_pie.rs");
