#!/bin/sh
# Forwarding benchmark: lines per second from svlogd to a local receiver.
#
#   svlogd/bench/forward.sh            # no arguments; builds the release binary itself
#
# Cases (all with -tt, so every datagram or message carries the time of receipt):
#   runit-u      runit's svlogd, config `U127.0.0.1:PORT` (one socket per line, no header)
#   ours-u       our svlogd, the same `U` line (runit's bytes, one connected socket, sendmmsg)
#   ours-5424-udp  our svlogd, `>udp 127.0.0.1:PORT` (RFC 5424, from the log directory)
#   ours-5424-tcp  our svlogd, `>tcp 127.0.0.1:PORT` to rsyslogd (imtcp, octet counting,
#                  omfile to tmpfs)
#
# UDP: a receiver with a 1 GiB socket buffer (SO_RCVBUFFORCE, so nothing is dropped while it
# catches up) reads every datagram with its kernel arrival time (SO_TIMESTAMPNS) and counts
# them; the rate is lines / (arrival of the last datagram - start). TCP: rsyslogd writes one
# line per message; the rate is lines / (time rsyslogd has written them all - start), so
# rsyslog's own speed is part of it. Every case checks that every line arrived. Each case
# runs RUNS times (default 3); the best run counts.
#
# Targets (issue 6): UDP >= 10x runit's `u`; >= 300,000 lines/s over TCP to rsyslog.
#
# Environment: UDP_LINES (default 200000), TCP_LINES (default 1000000), RUNS (default 3),
# BENCH_DIR (default /dev/shm/svlogd-forward-bench). Needs root (SO_RCVBUFFORCE), python3,
# rsyslogd, runit's svlogd.
set -eu
cd "$(dirname "$0")/../.."

UDP_LINES=${UDP_LINES:-200000}
TCP_LINES=${TCP_LINES:-1000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/dev/shm/svlogd-forward-bench}

cargo build --release --quiet -p svlogd --bin svlogd
OURS="${CARGO_TARGET_DIR:-target}/release/svlogd"
OURS=$(cd "$(dirname "$OURS")" && pwd)/$(basename "$OURS")
for tool in /usr/bin/svlogd /usr/sbin/rsyslogd /usr/bin/python3; do
    [ -x "$tool" ] || { echo "missing $tool (install runit, rsyslog, python3)" >&2; exit 1; }
done

rm -rf "$DIR"
mkdir -p "$DIR"
RSPID=""
cleanup() {
    [ -n "$RSPID" ] && kill "$RSPID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

max=$UDP_LINES
[ "$TCP_LINES" -gt "$max" ] && max=$TCP_LINES
INPUT="$DIR/input"
echo "generating $max lines of 120 bytes..."
awk -v n="$max" 'BEGIN {
    pad = "the quick brown fox jumps over the lazy dog, while a log line of typical length goes by"
    for (i = 0; i < n; i++) printf "%010d %s %020d\n", i, pad, i
}' > "$INPUT"

now() { date +%s%N; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The UDP receiver: a socket with a 1 GiB buffer (SO_RCVBUFFORCE) that is not read while the
# sender runs (so it takes no CPU from it); once its queue has stopped growing for 1 s, every
# datagram is read with its kernel arrival time (SO_TIMESTAMPNS). Prints "COUNT LAST_NS".
cat > "$DIR/rx.py" <<'EOF'
import socket, struct, sys, time
port, want = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 30)  # SO_RCVBUFFORCE
s.setsockopt(socket.SOL_SOCKET, 35, 1)        # SO_TIMESTAMPNS
s.bind(("127.0.0.1", port))
open(sys.argv[3], "w").close()                # ready
me = ":%04X" % port
def queued():
    for line in open("/proc/net/udp"):
        f = line.split()
        if f[1].endswith(me):
            return int(f[4].split(":")[1], 16)
    return 0
last_q, still, waited = -1, 0, 0
while waited < 1200:
    time.sleep(0.05)
    waited += 1
    q = queued()
    if q > 0 and q == last_q:
        still += 1
        if still >= 20:
            break
    else:
        still = 0
    last_q = q
n, last = 0, 0
s.setblocking(False)
while True:
    try:
        data, anc, flags, addr = s.recvmsg(70000, 64)
    except BlockingIOError:
        break
    n += 1
    for level, kind, val in anc:
        if kind == 35:
            sec, nsec = struct.unpack("qq", val[:16])
            last = sec * 1000000000 + nsec
print(n, last)
EOF

# udp_once NAME CONFIG_LINE SVLOGD: one UDP run; appends "ns" to $DIR/NAME.runs
udp_once() {
    name=$1; line=$2; bin=$3
    port=$(free_port)
    rm -rf "${DIR:?}/$name.d"; mkdir -p "$DIR/$name.d/log"
    printf '%s\ns100000000\nn2\n' "$(echo "$line" | sed "s/PORT/$port/")" > "$DIR/$name.d/log/config"
    python3 "$DIR/rx.py" "$port" "$UDP_LINES" "$DIR/$name.d/ready" > "$DIR/$name.d/rx.out" &
    rx=$!
    while [ ! -e "$DIR/$name.d/ready" ]; do sleep 0.01; done
    # Input through a FIFO kept open until everything arrived: the forwarder sends from the
    # log directory after svlogd has written it, and must not be cut short by the exit.
    mkfifo "$DIR/$name.d/in"
    ( cd "$DIR/$name.d" && "$bin" -tt log < in ) &
    sv=$!
    exec 3> "$DIR/$name.d/in"
    t0=$(now)
    head -n "$UDP_LINES" "$INPUT" >&3
    wait "$rx"
    exec 3>&-
    wait "$sv"
    read -r got last < "$DIR/$name.d/rx.out"
    if [ "$got" -ne "$UDP_LINES" ]; then
        echo "$name: $got datagrams arrived, want $UDP_LINES" >&2
        exit 1
    fi
    echo $((last - t0)) >> "$DIR/$name.runs"
}

# rsyslogd for the TCP case, writing to tmpfs.
start_rsyslog() {
    RSPORT=$(free_port)
    mkdir -p "$DIR/rs/work"
    cat > "$DIR/rs/rsyslog.conf" <<EOF
global(workDirectory="$DIR/rs/work" maxMessageSize="64k")
module(load="imtcp")
template(name="msg" type="string" string="%msg%\n")
ruleset(name="out") {
    action(type="omfile" file="$DIR/rs/out" template="msg" asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off")
}
input(type="imtcp" port="$RSPORT" address="127.0.0.1" ruleset="out")
EOF
    rm -f "$DIR/rs/out"
    /usr/sbin/rsyslogd -n -f "$DIR/rs/rsyslog.conf" -i "$DIR/rs/pid" 2> "$DIR/rs/err" &
    RSPID=$!
    i=0
    while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $RSPORT))" 2>/dev/null; do
        i=$((i + 1)); [ "$i" -lt 500 ] || { echo "rsyslogd did not start" >&2; cat "$DIR/rs/err" >&2; exit 1; }
        sleep 0.01
    done
}

stop_rsyslog() {
    kill "$RSPID"; wait "$RSPID" 2>/dev/null || true; RSPID=""
}

lines_of() { [ -e "$1" ] && wc -l < "$1" || echo 0; }

tcp_once() {
    name=ours-5424-tcp
    start_rsyslog
    rm -rf "${DIR:?}/$name.d"; mkdir -p "$DIR/$name.d/log"
    printf '>tcp 127.0.0.1:%s\ns100000000\nn2\n' "$RSPORT" > "$DIR/$name.d/log/config"
    mkfifo "$DIR/$name.d/in"
    ( cd "$DIR/$name.d" && "$OURS" -tt log < in ) &
    sv=$!
    exec 3> "$DIR/$name.d/in"
    t0=$(now)
    head -n "$TCP_LINES" "$INPUT" >&3
    i=0
    while [ "$(lines_of "$DIR/rs/out")" -lt "$TCP_LINES" ]; do
        i=$((i + 1)); [ "$i" -lt 12000 ] || { echo "$name: only $(lines_of "$DIR/rs/out") lines at rsyslog" >&2; exit 1; }
        sleep 0.005
    done
    t1=$(now)
    exec 3>&-
    wait "$sv"
    stop_rsyslog
    got=$(lines_of "$DIR/rs/out")
    if [ "$got" -ne "$TCP_LINES" ]; then
        echo "$name: $got lines at rsyslog, want $TCP_LINES (duplicates?)" >&2
    fi
    echo $((t1 - t0)) >> "$DIR/$name.runs"
}

echo "UDP: $UDP_LINES lines, TCP: $TCP_LINES lines, best of $RUNS runs each, in turns..."
r=0
while [ "$r" -lt "$RUNS" ]; do
    r=$((r + 1))
    udp_once runit-u 'U127.0.0.1:PORT' /usr/bin/svlogd
    udp_once ours-u 'U127.0.0.1:PORT' "$OURS"
    udp_once ours-5424-udp '>udp 127.0.0.1:PORT' "$OURS"
    tcp_once
done

best() { sort -n "$DIR/$1.runs" | head -n 1; }
runit_ns=$(best runit-u)
echo
printf '%-16s %9s %9s %12s %10s\n' case lines seconds lines/s "x runit-u"
for n in runit-u ours-u ours-5424-udp ours-5424-tcp; do
    lines=$UDP_LINES
    [ "$n" = ours-5424-tcp ] && lines=$TCP_LINES
    awk -v n="$n" -v ns="$(best "$n")" -v lines="$lines" -v r="$runit_ns" -v rl="$UDP_LINES" \
        'BEGIN { s = ns / 1e9; printf "%-16s %9d %9.3f %12.0f %9.1fx\n", n, lines, s, lines / s, (lines / s) / (rl / (r / 1e9)) }'
done
