//! End-to-end tests of svlogd, run through the real binaries.
