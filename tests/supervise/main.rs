//! End-to-end tests of supervise, run through the real binaries.
