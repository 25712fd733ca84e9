//! The example service directories of `examples/`, run for real: each test copies the examples
//! it needs into a scratch service tree, replaces the network daemons and probes with harmless
//! commands through each example's `conf` file, and runs the tree under our runsvdir, with our
//! runsv, svlogd, sv and chpst on PATH.

mod control;
mod layout;
mod services;
mod tree;
