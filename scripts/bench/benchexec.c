/*
 * benchexec: runs one command and measures it, with nothing else in the timed interval (no
 * shell, no interpreter start): the clock starts just before the fork and stops when the
 * command (and its feeder, with -c) has exited.
 *
 *   benchexec [-d DIR] [-c FILE]... [-i FILE] [-o FILE] [-r RESULT] [-t SECONDS]
 *             [-w LOGDIR -b BYTES] -- COMMAND [ARG]...
 *
 *   -d DIR      run COMMAND in DIR
 *   -c FILE     COMMAND's standard input is a pipe fed by `cat FILE...` (repeatable; cat's
 *               time counts, as in the shell's `cat FILE | COMMAND`)
 *   -i FILE     COMMAND's standard input is FILE
 *   -o FILE     COMMAND's standard output goes to FILE (truncated)
 *   -r RESULT   where the figures go (default: standard error), one `name value` a line:
 *               wall_ns, status (the exit code, or 128+signal), maxrss_kb, user_us, sys_us
 *               (COMMAND's own, from wait4)
 *   -t SECONDS  kill everything and fail after this long (default 900)
 *   -w LOGDIR -b BYTES  (with -c) an svlogd with `compress gzip`: the pipe stays open after
 *               cat is done, and LOGDIR is watched until it holds BYTES bytes of log
 *               (current, @*.s and @*.u at their sizes, @*.s.gz at their uncompressed sizes
 *               from the gzip trailer) with nothing left uncompressed (no @*.s, @*.u or
 *               *.tmp); only then is the pipe closed. Adds written_ns (all BYTES written),
 *               compressed_ns (every archive compressed), compress_cpu_ns (CPU time of
 *               COMMAND's thread named "compress", from /proc/PID/task/TID/schedstat),
 *               archives and archive_bytes (their uncompressed bytes).
 *
 * Exit: 0 when the measurement was made (whatever COMMAND's exit code), 111 on a failure
 * (cat's included: the input would not have been the whole input).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "benchexec: fatal: %s: %s\n", what, strerror(errno));
    exit(111);
}

static void usage(void)
{
    fprintf(stderr, "usage: benchexec [-d DIR] [-c FILE]... [-i FILE] [-o FILE] [-r RESULT] "
                    "[-t SECONDS] [-w LOGDIR -b BYTES] -- COMMAND [ARG]...\n");
    exit(100);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct dirstate {
    uint64_t bytes;       /* log bytes, uncompressed */
    int pending;          /* @*.s, @*.u or *.tmp present */
    uint64_t archives;    /* @*.s.gz */
    uint64_t archive_bytes;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The uncompressed size of a gzip file, from its trailer (ISIZE, modulo 2^32). */
static int gz_isize(int dfd, const char *name, uint64_t *out)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    unsigned char b[4];
    int ok = fstat(fd, &st) == 0 && st.st_size >= 18 && pread(fd, b, 4, st.st_size - 4) == 4;
    close(fd);
    if (!ok)
        return -1;
    *out = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24;
    return 0;
}

/* One look at a log directory; -1 when a file went away under us (look again). */
static int scan(const char *dir, struct dirstate *s)
{
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    if (!d)
        die(dir);
    int dfd = dirfd(d), rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        struct stat st;
        if (ends_with(n, ".tmp")) {
            s->pending = 1;
            continue;
        }
        if (strcmp(n, "current") != 0 && n[0] != '@')
            continue;
        if (n[0] == '@' && ends_with(n, ".s.gz")) {
            uint64_t sz;
            if (gz_isize(dfd, n, &sz) < 0) {
                rc = -1;
                continue;
            }
            s->bytes += sz;
            s->archives++;
            s->archive_bytes += sz;
            continue;
        }
        if (fstatat(dfd, n, &st, 0) < 0) {
            rc = -1;
            continue;
        }
        if (n[0] == '@')
            s->pending = 1;
        s->bytes += (uint64_t)st.st_size;
    }
    closedir(d);
    return rc;
}

/* CPU time (ns) of PID's thread named "compress"; 0 when there is none. */
static uint64_t compress_cpu(pid_t pid)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    uint64_t ns = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[512], comm[64] = "";
        snprintf(p, sizeof p, "/proc/%d/task/%s/comm", (int)pid, e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = 0;
        fclose(f);
        if (strcmp(comm, "compress\n") != 0)
            continue;
        snprintf(p, sizeof p, "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
        f = fopen(p, "r");
        if (!f)
            continue;
        unsigned long long run = 0;
        if (fscanf(f, "%llu", &run) == 1)
            ns += run;
        fclose(f);
    }
    closedir(d);
    return ns;
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *in = NULL, *out = NULL, *result = NULL, *watch = NULL;
    const char *cats[256];
    int ncat = 0;
    long timeout = 900;
    uint64_t want = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+d:c:i:o:r:t:w:b:")) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'c':
            if (ncat == 255)
                usage();
            cats[ncat++] = optarg;
            break;
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'r': result = optarg; break;
        case 't': timeout = atol(optarg); break;
        case 'w': watch = optarg; break;
        case 'b': want = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind >= argc || (ncat && in) || (watch && (!ncat || !want)))
        usage();
    char **cmd = argv + optind;

    FILE *res = stderr;
    if (result && !(res = fopen(result, "w")))
        die(result);

    int infd = -1, outfd = -1, pipefd[2] = {-1, -1};
    if (in && (infd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
        die(in);
    if (out && (outfd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        die(out);
    if (ncat && pipe2(pipefd, O_CLOEXEC) < 0)
        die("pipe");

    int64_t t0 = now_ns(), deadline = t0 + (int64_t)timeout * 1000000000;
    pid_t feeder = 0;
    if (ncat) {
        feeder = fork();
        if (feeder < 0)
            die("fork");
        if (feeder == 0) {
            if (dup2(pipefd[1], 1) < 0)
                _exit(111);
            char *av[260];
            int k = 0;
            av[k++] = "cat";
            for (int i = 0; i < ncat; i++)
                av[k++] = (char *)cats[i];
            av[k] = NULL;
            execv("/bin/cat", av);
            _exit(111);
        }
    }
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        if (ncat && dup2(pipefd[0], 0) < 0)
            _exit(111);
        if (infd >= 0 && dup2(infd, 0) < 0)
            _exit(111);
        if (outfd >= 0 && dup2(outfd, 1) < 0)
            _exit(111);
        if (dir && chdir(dir) < 0) {
            perror(dir);
            _exit(111);
        }
        execvp(cmd[0], cmd);
        perror(cmd[0]);
        _exit(111);
    }
    if (ncat)
        close(pipefd[0]);
    if (ncat && !watch)
        close(pipefd[1]);

    int64_t written = 0, compressed = 0;
    uint64_t cpu = 0;
    struct dirstate ds = {0};
    int feeder_done = !feeder, child_done = 0, st = 0, fst = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);

    if (watch) {
        /* Until cat is done, look every 5 ms; then every millisecond. */
        for (;;) {
            if (now_ns() > deadline) {
                fprintf(stderr, "benchexec: timeout: %s holds %llu of %llu bytes%s\n", watch,
                        (unsigned long long)ds.bytes, (unsigned long long)want,
                        ds.pending ? ", archives not compressed" : "");
                kill(child, SIGKILL);
                if (feeder)
                    kill(feeder, SIGKILL);
                exit(111);
            }
            if (!feeder_done && waitpid(feeder, &fst, WNOHANG) == feeder)
                feeder_done = 1;
            if (wait4(child, &st, WNOHANG, &ru) == child) {
                fprintf(stderr, "benchexec: %s exited (status %d) before the log was complete\n",
                        cmd[0], status_code(st));
                exit(111);
            }
            int queued = 0;
            if (!feeder_done || ioctl(pipefd[1], FIONREAD, &queued) < 0 || queued > 0) {
                struct timespec ts = {0, feeder_done ? 1000000 : 5000000};
                nanosleep(&ts, NULL);
                continue;
            }
            if (scan(watch, &ds) == 0 && ds.bytes == want) {
                int64_t t = now_ns();
                if (!written)
                    written = t;
                if (!ds.pending) {
                    compressed = t;
                    cpu = compress_cpu(child);
                    break;
                }
            } else if (ds.bytes > want && !ds.pending) {
                fprintf(stderr, "benchexec: %s holds %llu bytes, more than %llu\n", watch,
                        (unsigned long long)ds.bytes, (unsigned long long)want);
                exit(111);
            }
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        close(pipefd[1]);
    }

    while (!child_done || !feeder_done) {
        if (now_ns() > deadline) {
            fprintf(stderr, "benchexec: timeout after %ld s: %s\n", timeout, cmd[0]);
            kill(child, SIGKILL);
            if (feeder)
                kill(feeder, SIGKILL);
            exit(111);
        }
        int s;
        struct rusage r;
        pid_t p = wait4(-1, &s, 0, &r);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            die("wait4");
        }
        if (p == child) {
            child_done = 1;
            st = s;
            ru = r;
        } else if (p == feeder) {
            feeder_done = 1;
            fst = s;
        }
    }
    int64_t t1 = now_ns();
    if (feeder && status_code(fst) != 0) {
        fprintf(stderr, "benchexec: fatal: cat exited with status %d\n", status_code(fst));
        exit(111);
    }

    fprintf(res, "wall_ns %lld\n", (long long)(t1 - t0));
    fprintf(res, "status %d\n", status_code(st));
    fprintf(res, "maxrss_kb %ld\n", ru.ru_maxrss);
    fprintf(res, "user_us %lld\n", (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec);
    fprintf(res, "sys_us %lld\n", (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
    if (watch) {
        fprintf(res, "written_ns %lld\n", (long long)(written - t0));
        fprintf(res, "compressed_ns %lld\n", (long long)(compressed - t0));
        fprintf(res, "compress_cpu_ns %llu\n", (unsigned long long)cpu);
        fprintf(res, "archives %llu\n", (unsigned long long)ds.archives);
        fprintf(res, "archive_bytes %llu\n", (unsigned long long)ds.archive_bytes);
    }
    if (res != stderr && fclose(res) != 0)
        die(result);
    return 0;
}
