#!/bin/sh
# Forwarding: lines per second from svlogd to a local receiver, counted at the receiver.
#
#   svlogd/bench/forward.sh          (scripts/bench.sh runs it with the others)
#
# Cases (all with -tt, so every datagram or message carries the time of receipt), records
# `forward CASE IMPL RUN METRIC VALUE` with metrics sent (lines given to svlogd), arrived
# (lines counted at the receiver) and ns (from the first line written into svlogd's input to
# the arrival of the last):
#   U runit         runit's svlogd, config `U127.0.0.1:PORT` (one socket per line, no header)
#   U ours          our svlogd, the same `U` line (runit's bytes, one connected socket, sendmmsg)
#   udp5424 ours    our svlogd, `>udp 127.0.0.1:PORT` (RFC 5424, sent from the log directory)
#   tcp5424 ours    our svlogd, `>tcp 127.0.0.1:PORT` to rsyslogd (imtcp, octet counting,
#                   omfile to tmpfs, written at the end of each batch): the time until
#                   rsyslogd has written the last line, so rsyslog's own speed is part of it
# UDP: svlogd/bench/udp_rx.py, a receiver with a 1 GiB socket buffer that reads nothing while
# the sender runs and then counts every datagram with its kernel arrival time. A datagram that
# did not arrive is not counted: the rate is arrived / time, and `arrived` is recorded beside
# `sent`. The loopback's own ceiling: svlogd/bench/udp_ceiling.sh. Each case runs RUNS times
# (default 3), in turns.
#
# Environment: UDP_LINES (200,000 at full size), TCP_LINES (1,000,000), RUNS (defaults from
# BENCH_SCALE, BENCH_RUNS), BENCH_DIR (default /dev/shm/svlogd-forward-bench.PID), NO_BUILD=1.
# Needs root (SO_RCVBUFFORCE), python3 (the receiver, not timed), rsyslogd, runit's svlogd.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

UDP_LINES=${UDP_LINES:-$(scaled 200000 2000)}
TCP_LINES=${TCP_LINES:-$(scaled 1000000 10000)}
RUNS=${RUNS:-$(runs 3)}
DIR=${BENCH_DIR:-/dev/shm/svlogd-forward-bench.$$}

[ -n "${NO_BUILD:-}" ] || (cd "$ROOT" && cargo build --release --quiet --locked -p svlogd --bin svlogd)
OURS=$CARGO_TARGET_DIR/release/svlogd
need "$OURS" /usr/bin/svlogd /usr/sbin/rsyslogd python3
[ "$(id -u)" -eq 0 ] || bench_fatal "forward.sh needs root (the receiver's SO_RCVBUFFORCE)"

rm -rf "$DIR"
mkdir -p "$DIR"
RSPID=""
cleanup() {
    [ -z "$RSPID" ] || kill "$RSPID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

max=$UDP_LINES
[ "$TCP_LINES" -gt "$max" ] && max=$TCP_LINES
INPUT=$DIR/input
echo "forward: generating $max lines of 120 bytes..."
gen_lines "$max" "$INPUT"
record forward - - - udp_lines "$UDP_LINES"
record forward - - - tcp_lines "$TCP_LINES"
record forward - - - runs "$RUNS"

now() { date +%s%N; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# udp_once CASE IMPL CONFIG_LINE SVLOGD: one UDP run.
udp_once() {
    cs=$1 impl=$2 line=$3 bin=$4
    port=$(free_port)
    d=$DIR/run
    rm -rf "$d"
    mkdir -p "$d/log"
    printf '%s\ns100000000\nn2\n' "$(echo "$line" | sed "s/PORT/$port/")" >"$d/log/config"
    python3 "$ROOT/svlogd/bench/udp_rx.py" "$port" "$d/ready" >"$d/rx.out" &
    rx=$!
    while [ ! -e "$d/ready" ]; do sleep 0.01; done
    # Input through a FIFO kept open until everything arrived: the forwarder sends from the
    # log directory after svlogd has written it, and must not be cut short by the exit.
    mkfifo "$d/in"
    (cd "$d" && exec "$bin" -tt log <in) &
    sv=$!
    exec 3>"$d/in"
    t0=$(now)
    head -n "$UDP_LINES" "$INPUT" >&3
    wait "$rx"
    exec 3>&-
    wait "$sv"
    read -r got last <"$d/rx.out"
    [ "$got" -eq "$UDP_LINES" ] || echo "forward: $cs $impl: $got of $UDP_LINES datagrams arrived" >&2
    [ "$got" -gt 0 ] || bench_fatal "forward: $cs $impl: nothing arrived"
    record forward "$cs" "$impl" "$r" sent "$UDP_LINES"
    record forward "$cs" "$impl" "$r" arrived "$got"
    record forward "$cs" "$impl" "$r" ns $((last - t0))
    awk -v c="$cs" -v i="$impl" -v r="$r" -v n="$got" -v ns=$((last - t0)) \
        'BEGIN { printf "  forward %-8s %-6s run %d: %d arrived, %.0f lines/s\n", c, i, r, n, n / ns * 1e9 }'
    rm -rf "$d"
}

# rsyslogd for the TCP case, writing to tmpfs.
start_rsyslog() {
    RSPORT=$(free_port)
    mkdir -p "$DIR/rs/work"
    cat >"$DIR/rs/rsyslog.conf" <<EOF
global(workDirectory="$DIR/rs/work" maxMessageSize="64k")
module(load="imtcp")
template(name="msg" type="string" string="%msg%\n")
ruleset(name="out") {
    action(type="omfile" file="$DIR/rs/out" template="msg" asyncWriting="off" ioBufferSize="1m" flushOnTXEnd="on")
}
input(type="imtcp" port="$RSPORT" address="127.0.0.1" ruleset="out")
EOF
    rm -f "$DIR/rs/out"
    /usr/sbin/rsyslogd -n -f "$DIR/rs/rsyslog.conf" -i "$DIR/rs/pid" 2>"$DIR/rs/err" &
    RSPID=$!
    i=0
    while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $RSPORT))" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -lt 500 ] || { cat "$DIR/rs/err" >&2; bench_fatal "rsyslogd did not start"; }
        sleep 0.01
    done
}

stop_rsyslog() {
    kill "$RSPID"
    wait "$RSPID" 2>/dev/null || true
    RSPID=""
}

lines_of() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }

tcp_once() {
    start_rsyslog
    d=$DIR/run
    rm -rf "$d"
    mkdir -p "$d/log"
    printf '>tcp 127.0.0.1:%s\ns100000000\nn2\n' "$RSPORT" >"$d/log/config"
    mkfifo "$d/in"
    (cd "$d" && exec "$OURS" -tt log <in) &
    sv=$!
    exec 3>"$d/in"
    # The last input line ends with its number in 20 digits; rsyslogd writes in order.
    lastnum=$(printf '%020d' $((TCP_LINES - 1)))
    t0=$(now)
    head -n "$TCP_LINES" "$INPUT" >&3
    i=0
    until tail -c 100 "$DIR/rs/out" 2>/dev/null | grep -q "$lastnum"; do
        i=$((i + 1))
        [ "$i" -lt 30000 ] || bench_fatal "forward: only $(lines_of "$DIR/rs/out") lines at rsyslog"
        sleep 0.005
    done
    t1=$(now)
    exec 3>&-
    wait "$sv"
    stop_rsyslog
    got=$(lines_of "$DIR/rs/out")
    [ "$got" -eq "$TCP_LINES" ] || echo "forward: tcp5424: $got lines at rsyslog, want $TCP_LINES" >&2
    record forward tcp5424 ours "$r" sent "$TCP_LINES"
    record forward tcp5424 ours "$r" arrived "$got"
    record forward tcp5424 ours "$r" ns $((t1 - t0))
    awk -v r="$r" -v n="$got" -v ns=$((t1 - t0)) \
        'BEGIN { printf "  forward tcp5424  ours   run %d: %d arrived, %.0f lines/s\n", r, n, n / ns * 1e9 }'
    rm -rf "$d"
}

echo "forward: UDP $UDP_LINES lines, TCP $TCP_LINES lines, $RUNS runs each, in turns"
r=0
while [ "$r" -lt "$RUNS" ]; do
    r=$((r + 1))
    udp_once U runit 'U127.0.0.1:PORT' /usr/bin/svlogd
    udp_once U ours 'U127.0.0.1:PORT' "$OURS"
    udp_once udp5424 ours '>udp 127.0.0.1:PORT' "$OURS"
    tcp_once
done
