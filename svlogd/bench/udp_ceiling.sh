#!/bin/sh
# The loopback's UDP ceiling on this machine: how many datagrams a second a C loop with nothing
# else to do (svlogd/bench/udp_flood.c: one connected socket, sendmmsg of 1024 at a time) gets
# to a receiver on 127.0.0.1, counted at the receiver the way svlogd/bench/forward.sh counts
# svlogd's (svlogd/bench/udp_rx.py: arrivals and the kernel's arrival stamp of the last). No
# UDP forwarder can go faster here, so it bounds the `U` rows of the forwarding table.
#
#   svlogd/bench/udp_ceiling.sh      (scripts/bench.sh runs it with the others)
#
# Records `forward ceiling sendmmsg RUN sent|arrived|ns VALUE`. Datagrams of 147 bytes, the
# size of svlogd -tt's (a 26-byte stamp before a 120-byte line, and the newline).
# Environment: UDP_LINES (200,000 at full size), RUNS (default 3); cc builds the sender.
# Needs root (the receiver's SO_RCVBUFFORCE) and python3 (the receiver, not timed).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/bench/lib.sh"

UDP_LINES=${UDP_LINES:-$(scaled 200000 2000)}
RUNS=${RUNS:-$(runs 3)}
FLOOD=$(bench_tool "$ROOT/svlogd/bench/udp_flood.c")
need python3
[ "$(id -u)" -eq 0 ] || bench_fatal "udp_ceiling.sh needs root (the receiver's SO_RCVBUFFORCE)"
DIR=$(mktemp -d /dev/shm/udp-ceiling.XXXXXX)
trap 'rm -rf "$DIR"' EXIT INT TERM

echo "udp ceiling: $RUNS runs of $UDP_LINES datagrams of 147 bytes"
r=0
while [ "$r" -lt "$RUNS" ]; do
    r=$((r + 1))
    port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -f "$DIR/ready"
    python3 "$ROOT/svlogd/bench/udp_rx.py" "$port" "$DIR/ready" >"$DIR/rx.out" &
    rx=$!
    while [ ! -e "$DIR/ready" ]; do sleep 0.01; done
    "$FLOOD" "$port" "$UDP_LINES" 147 >"$DIR/tx.out"
    wait "$rx"
    read -r t0 sent <"$DIR/tx.out"
    read -r got last <"$DIR/rx.out"
    [ "$got" -gt 0 ] || bench_fatal "udp ceiling: nothing arrived"
    record forward ceiling sendmmsg "$r" sent "$sent"
    record forward ceiling sendmmsg "$r" arrived "$got"
    record forward ceiling sendmmsg "$r" ns $((last - t0))
    awk -v r="$r" -v n="$got" -v s="$sent" -v ns=$((last - t0)) \
        'BEGIN { printf "  ceiling run %d: %d of %d arrived, %.0f datagrams/s\n", r, n, s, n / ns * 1e9 }'
done
