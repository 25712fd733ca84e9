//! End-to-end tests of tools, run through the real binaries.
