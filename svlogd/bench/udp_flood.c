/*
 * udp_flood: the loopback's UDP ceiling for svlogd/bench/udp_ceiling.sh. Sends COUNT datagrams
 * of SIZE bytes to 127.0.0.1:PORT from one connected socket, BATCH at a time with sendmmsg,
 * and nothing else: no reading, no formatting, no files. Prints the CLOCK_REALTIME time (ns)
 * just before the first datagram and the number sent, "T0_NS SENT", so that the receiver's
 * arrival stamps (SO_TIMESTAMPNS) give the rate.
 *
 *   udp_flood PORT COUNT SIZE [BATCH]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: udp_flood PORT COUNT SIZE [BATCH]\n");
        return 100;
    }
    int port = atoi(argv[1]);
    long count = atol(argv[2]);
    int size = atoi(argv[3]);
    int batch = argc > 4 ? atoi(argv[4]) : 1024;
    if (port <= 0 || count <= 0 || size <= 0 || batch <= 0 || batch > 1024)
        return 100;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("udp_flood: socket");
        return 111;
    }
    char *buf = malloc((size_t)size * batch);
    struct mmsghdr *m = calloc(batch, sizeof *m);
    struct iovec *v = calloc(batch, sizeof *v);
    if (!buf || !m || !v)
        return 111;
    memset(buf, 'x', (size_t)size * batch);
    for (int i = 0; i < batch; i++) {
        buf[(size_t)size * (i + 1) - 1] = '\n';
        v[i].iov_base = buf + (size_t)size * i;
        v[i].iov_len = size;
        m[i].msg_hdr.msg_iov = &v[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    long sent = 0;
    while (sent < count) {
        int n = count - sent < batch ? (int)(count - sent) : batch;
        int k = sendmmsg(s, m, n, 0);
        if (k < 0) {
            if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
                continue;
            perror("udp_flood: sendmmsg");
            return 111;
        }
        sent += k;
    }
    printf("%lld %ld\n", (long long)t0.tv_sec * 1000000000 + t0.tv_nsec, sent);
    return 0;
}
