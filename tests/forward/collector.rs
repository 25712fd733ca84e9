//! Collectors the tests forward to: a real rsyslogd (Debian's, with its own config, work
//! directory and ports in the test's scratch directory, killed by pid), and socat as a receiver
//! of another kind. rsyslog writes what it parsed of every message as one line:
//! `HOSTNAME|APP-NAME|FACILITY.SEVERITY|TIMESTAMP|MSG`.

use harness::{reference, wait_until_or, Proc, Scratch};
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long a collector may take to start or stop.
pub const START: Duration = Duration::from_secs(20);

/// A free TCP port on `ip` (and the same number is then tried for UDP by callers that want
/// both; each test picks its own).
pub fn free_port(ip: &str) -> u16 {
    let l = TcpListener::bind((ip, 0)).expect("bind a free port");
    let port = l.local_addr().expect("addr").port();
    // Also free for UDP, so one number serves both.
    if UdpSocket::bind((ip, port)).is_err() {
        return free_port(ip);
    }
    port
}

/// What an rsyslogd listens on.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// imtcp on this address (octet counting is on by default in imtcp).
    pub tcp: Option<SocketAddr>,
    /// imudp on this address.
    pub udp: Option<SocketAddr>,
    /// imtcp with TLS (gtls) on this address: (address, CA, server cert, server key, whether a
    /// client certificate signed by the CA is required).
    pub tls: Option<(SocketAddr, PathBuf, PathBuf, PathBuf, bool)>,
}

/// A running rsyslogd.
pub struct Rsyslog {
    dir: PathBuf,
    conf: PathBuf,
    inputs: Inputs,
    proc: Option<Proc>,
    /// Where it writes what it received.
    pub out: PathBuf,
}

fn address(a: SocketAddr) -> String {
    a.ip().to_string()
}

impl Rsyslog {
    /// Writes the config into `s/NAME` and starts rsyslogd; returns once every TCP input
    /// accepts connections and every UDP input is bound.
    pub fn start(s: &Scratch, name: &str, inputs: Inputs) -> Rsyslog {
        reference("/usr/sbin/rsyslogd");
        let dir = s.mkdir(name);
        let work = s.mkdir(format!("{name}/work"));
        let out = dir.join("out.log");
        let mut conf = format!(
            "global(workDirectory=\"{}\" maxMessageSize=\"64k\" parser.escapeControlCharactersOnReceive=\"off\")\n\
             template(name=\"fields\" type=\"string\" string=\"%hostname%|%app-name%|%syslogfacility-text%.%syslogseverity-text%|%timereported:::date-rfc3339%|%msg%\\n\")\n\
             ruleset(name=\"out\") {{ action(type=\"omfile\" file=\"{}\" template=\"fields\") }}\n",
            work.display(),
            out.display()
        );
        if let Some((_, ca, cert, key, _)) = &inputs.tls {
            conf.push_str(&format!(
                "global(DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\")\n",
                ca.display(),
                cert.display(),
                key.display()
            ));
        }
        match (&inputs.tcp, &inputs.tls) {
            (Some(_), Some(_)) => panic!("one rsyslogd serves plain TCP or TLS, not both"),
            (_, Some((a, _, _, _, client))) => {
                let mode = if *client { "x509/certvalid" } else { "anon" };
                conf.push_str(&format!(
                    "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"{mode}\")\n\
                     input(type=\"imtcp\" port=\"{}\" address=\"{}\" ruleset=\"out\")\n",
                    a.port(),
                    address(*a)
                ));
            }
            (Some(a), None) => conf.push_str(&format!(
                "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{}\" address=\"{}\" ruleset=\"out\")\n",
                a.port(),
                address(*a)
            )),
            (None, None) => {}
        }
        if let Some(a) = &inputs.udp {
            conf.push_str(&format!(
                "module(load=\"imudp\")\ninput(type=\"imudp\" port=\"{}\" address=\"{}\" ruleset=\"out\")\n",
                a.port(),
                address(*a)
            ));
        }
        let conf_path = dir.join("rsyslog.conf");
        fs::write(&conf_path, conf).expect("write rsyslog.conf");
        let mut r = Rsyslog {
            dir,
            conf: conf_path,
            inputs,
            proc: None,
            out,
        };
        r.run();
        r
    }

    /// rsyslogd with one imtcp input on 127.0.0.1:`port`, the tests' usual collector.
    pub fn tcp(s: &Scratch, port: u16) -> Rsyslog {
        Rsyslog::on_loopback(s, port, |i, a| i.tcp = Some(a))
    }

    /// rsyslogd with one imudp input on 127.0.0.1:`port`.
    pub fn udp(s: &Scratch, port: u16) -> Rsyslog {
        Rsyslog::on_loopback(s, port, |i, a| i.udp = Some(a))
    }

    /// rsyslogd with the one input `set` puts on 127.0.0.1:`port`.
    fn on_loopback(s: &Scratch, port: u16, set: impl FnOnce(&mut Inputs, SocketAddr)) -> Rsyslog {
        let mut inputs = Inputs::default();
        set(&mut inputs, SocketAddr::from(([127, 0, 0, 1], port)));
        Rsyslog::start(s, "rsyslog", inputs)
    }

    fn run(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("rsyslogd.stderr"))
            .expect("rsyslogd stderr file");
        let mut c = Command::new("/usr/sbin/rsyslogd");
        c.arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log);
        self.proc = Some(Proc::spawn_group(&mut c));
        let tcp: Vec<SocketAddr> = self
            .inputs
            .tcp
            .iter()
            .chain(self.inputs.tls.iter().map(|t| &t.0))
            .copied()
            .collect();
        let udp = self.inputs.udp;
        let dir = self.dir.clone();
        wait_until_or(
            START,
            "rsyslogd listening",
            &mut || {
                tcp.iter().all(|a| TcpStream::connect(a).is_ok())
                    && udp.is_none_or(|a| udp_bound(a.port()))
            },
            || harness::read_text(dir.join("rsyslogd.stderr")),
        );
    }

    /// Stops it with `sig` and waits until it is gone.
    pub fn stop(&mut self, sig: nix::sys::signal::Signal) {
        if let Some(mut p) = self.proc.take() {
            p.signal(sig);
            p.wait_timeout(START);
        }
    }

    /// Starts it again after [`Rsyslog::stop`].
    pub fn restart(&mut self) {
        self.run();
    }

    /// The lines it wrote so far: whole lines only (it may be in the middle of one).
    pub fn lines(&self) -> Vec<String> {
        harness::whole_lines(&self.out)
    }

    /// Waits until it wrote at least `n` lines; returns them.
    pub fn wait_lines(&self, n: usize, timeout: Duration, svlogd_dir: &Path) -> Vec<String> {
        let count = || self.lines().len();
        wait_until_or(
            timeout,
            &format!("rsyslog to write {n} lines"),
            &mut || count() >= n,
            || {
                format!(
                    "rsyslog wrote {} lines\nrsyslogd stderr:\n{}\nsvlogd stderr:\n{}",
                    self.lines().len(),
                    harness::read_text(self.dir.join("rsyslogd.stderr")),
                    harness::read_text(svlogd_dir.join("svlogd.stderr"))
                )
            },
        );
        self.lines()
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        // Proc's drop kills it by pid.
        self.proc.take();
    }
}

/// Whether a UDP socket is bound to `port` (IPv4 or IPv6), from /proc/net.
fn udp_bound(port: u16) -> bool {
    let hex = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"]
        .iter()
        .any(|f| fs::read_to_string(f).is_ok_and(|t| t.contains(&hex)))
}

/// One field line of rsyslog's output, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// HOSTNAME.
    pub host: String,
    /// APP-NAME.
    pub app: String,
    /// `facility.severity`.
    pub pri: String,
    /// TIMESTAMP as rsyslog renders it (RFC 3339).
    pub time: String,
    /// MSG.
    pub msg: String,
}

/// Splits a line of the `fields` template.
pub fn parse(line: &str) -> Parsed {
    let mut f = line.splitn(5, '|');
    let mut next = || {
        f.next()
            .unwrap_or_else(|| panic!("not a field line: {line:?}"))
            .to_string()
    };
    Parsed {
        host: next(),
        app: next(),
        pri: next(),
        time: next(),
        msg: next(),
    }
}

/// A socat receiver: TCP (one connection, LF framing) on `addr`, everything received written
/// to `out`.
pub fn socat_tcp(s: &Scratch, port: u16, out: &Path) -> Proc {
    reference("/usr/bin/socat");
    let mut c = Command::new("/usr/bin/socat");
    c.arg("-u")
        .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"))
        .arg(format!("CREATE:{}", out.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(s.join("socat.stderr")).expect("socat stderr"));
    let p = Proc::spawn_group(&mut c);
    wait_until_or(
        START,
        "socat listening",
        &mut || {
            fs::read_to_string("/proc/net/tcp")
                .is_ok_and(|t| t.contains(&format!("0100007F:{port:04X} 00000000:0000 0A")))
        },
        || harness::read_text(s.join("socat.stderr")),
    );
    p
}
