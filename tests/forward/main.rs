//! End-to-end tests of svlogd's syslog forwarding (`>udp`, `>tcp`, `>tls` config lines)
//! against real collectors: Debian's rsyslogd, started by each test with its own config on
//! loopback ports and killed by pid, and socat as a receiver of another kind.
//!
//! rsyslog writes every field it parsed (hostname, app-name, facility and severity, timestamp,
//! message), so the tests check the parse, not just the bytes. See `svlogd/src/forward/`.

mod carry;
mod check_settings;
mod collector;
mod fields;
mod guide;
mod messages;
mod metrics_exact;
mod outage;
mod pacing;
mod pki;
mod spool;
mod tls;
mod util;
