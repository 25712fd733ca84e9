# The UDP receiver of svlogd/bench/forward.sh and svlogd/bench/udp_ceiling.sh (not timed: the
# time is taken from the kernel's arrival stamps).
#
#   python3 udp_rx.py PORT READY_FILE
#
# Binds 127.0.0.1:PORT with a 1 GiB socket buffer (SO_RCVBUFFORCE: needs root, so nothing is
# dropped for want of room while the receiver waits) and creates READY_FILE. It does not read
# while the sender runs (so it takes no CPU from it); once its queue has stopped growing for
# 1 s, it reads every datagram with its kernel arrival time (SO_TIMESTAMPNS, CLOCK_REALTIME)
# and prints "COUNT LAST_ARRIVAL_NS".
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 30)  # SO_RCVBUFFORCE
s.setsockopt(socket.SOL_SOCKET, 35, 1)        # SO_TIMESTAMPNS
s.bind(("127.0.0.1", port))
open(sys.argv[2], "w").close()
me = ":%04X" % port
def queued():
    for line in open("/proc/net/udp"):
        f = line.split()
        if f[1].endswith(me):
            return int(f[4].split(":")[1], 16)
    return 0
last_q, still, waited = -1, 0, 0
while waited < 12000:
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
