//! svlogd: a runit-compatible logger that writes rotated, timestamped log directories.
