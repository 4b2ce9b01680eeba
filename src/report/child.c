/* child.c - run a helper program as a filter; see child.h.
 *
 * posix_spawnp starts the helper (glibc reports a failed exec, such as a
 * program not on PATH, as the spawn's own error, so "not installed" is
 * told apart from "ran and failed" without guessing from exit code 127).
 * One poll loop feeds its input and drains both of its outputs at once: a
 * helper that writes a large figure before it has read all of a large
 * script would otherwise deadlock with us. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/xalloc.h"

extern char **environ;

/* More output than any figure needs: a runaway helper is stopped. */
#define CHILD_MAX_OUTPUT ((size_t)512 << 20)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read what is available on fd into (*buf, *len); 0 at EOF, 1 if more may
 * come, -1 on error. */
static int drain(int fd, char **buf, size_t *len, size_t *cap)
{
    for (;;) {
        if (array_grow((void **)buf, cap, *len + 65536 + 1, 1) < 0)
            return -1;
        ssize_t got = read(fd, *buf + *len, *cap - *len - 1);
        if (got > 0) {
            *len += (size_t)got;
            if (*len > CHILD_MAX_OUTPUT) {
                errno = EFBIG;
                return -1;
            }
            continue;
        }
        if (got == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 1;
        return -1;
    }
}

int child_run(const char *const argv[], const char *in, size_t in_len, int timeout_ms,
              child_out *o, snitch_err *e)
{
    memset(o, 0, sizeof *o);
    int sv[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1};
    size_t out_cap = 0, err_cap = 0;
    pid_t pid = -1;
    int rc = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        err_set(e, "%s: cannot make pipes: %s", argv[0], strerror(errno));
        goto done;
    }
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        err_set(e, "%s: out of memory", argv[0]);
        goto done;
    }
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    /* The helper gets default SIGPIPE handling whatever ours is. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
    int sr = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (sr != 0) {
        pid = -1;
        if (sr == ENOENT || sr == EACCES || sr == ENOTDIR) {
            rc = 1;
        } else {
            err_set(e, "%s: cannot run: %s", argv[0], strerror(sr));
        }
        goto done;
    }
    close_fd(&sv[1]);
    close_fd(&po[1]);
    close_fd(&pe[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    fcntl(po[0], F_SETFL, fcntl(po[0], F_GETFL) | O_NONBLOCK);
    fcntl(pe[0], F_SETFL, fcntl(pe[0], F_GETFL) | O_NONBLOCK);
    size_t sent = 0;
    if (in_len == 0)
        close_fd(&sv[0]);
    double deadline = now_ms() + timeout_ms;
    while (po[0] >= 0 || pe[0] >= 0) {
        struct pollfd pf[3];
        int np = 0, iw = -1, io = -1, ie = -1;
        if (sv[0] >= 0) {
            pf[np] = (struct pollfd){sv[0], POLLOUT, 0};
            iw = np++;
        }
        if (po[0] >= 0) {
            pf[np] = (struct pollfd){po[0], POLLIN, 0};
            io = np++;
        }
        if (pe[0] >= 0) {
            pf[np] = (struct pollfd){pe[0], POLLIN, 0};
            ie = np++;
        }
        double left = deadline - now_ms();
        if (left <= 0) {
            err_set(e, "%s: no answer within %g s: stopped", argv[0], timeout_ms / 1000.0);
            goto done;
        }
        int pr = poll(pf, (nfds_t)np, (int)left + 1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            err_set(e, "%s: poll: %s", argv[0], strerror(errno));
            goto done;
        }
        if (iw >= 0 && pf[iw].revents) {
            ssize_t w = send(sv[0], in + sent, in_len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            /* EPIPE/ECONNRESET: it stopped reading (and will say why on
             * stderr, or exit 0 having read enough); either way stop. */
            if ((w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
                sent == in_len)
                close_fd(&sv[0]);
        }
        if (io >= 0 && pf[io].revents) {
            int d = drain(po[0], &o->out, &o->out_len, &out_cap);
            if (d < 0) {
                err_set(e, "%s: reading its output: %s", argv[0], strerror(errno));
                goto done;
            }
            if (d == 0)
                close_fd(&po[0]);
        }
        if (ie >= 0 && pf[ie].revents) {
            int d = drain(pe[0], &o->err, &o->err_len, &err_cap);
            if (d < 0) {
                err_set(e, "%s: reading its messages: %s", argv[0], strerror(errno));
                goto done;
            }
            if (d == 0)
                close_fd(&pe[0]);
        }
    }
    close_fd(&sv[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            err_set(e, "%s: waitpid: %s", argv[0], strerror(errno));
            pid = -1;
            goto done;
        }
    }
    pid = -1;
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    rc = 0;
done:
    if (pid > 0) {
        /* ours, started above: stop it and reap it */
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    close_fd(&sv[0]);
    close_fd(&sv[1]);
    close_fd(&po[0]);
    close_fd(&po[1]);
    close_fd(&pe[0]);
    close_fd(&pe[1]);
    if (rc != 0) {
        child_out_free(o);      /* nothing to read when it did not run */
        return rc;
    }
    /* Always NUL-terminated, also when nothing came. */
    if (!o->out && array_grow((void **)&o->out, &out_cap, 1, 1) == 0)
        o->out_len = 0;
    if (!o->err && array_grow((void **)&o->err, &err_cap, 1, 1) == 0)
        o->err_len = 0;
    if (!o->out || !o->err) {
        child_out_free(o);
        rc = err_set(e, "%s: out of memory", argv[0]);
    } else {
        o->out[o->out_len] = 0;
        o->err[o->err_len] = 0;
    }
    return rc;
}

void child_out_free(child_out *o)
{
    free(o->out);
    free(o->err);
    memset(o, 0, sizeof *o);
}

const char *child_error_line(const child_out *o, char buf[320])
{
    buf[0] = 0;
    if (!o->err)
        return buf;
    const char *pick = NULL, *pick_end = NULL;
    for (const char *l = o->err; *l;) {
        const char *nl = strchr(l, '\n'), *end = nl ? nl : l + strlen(l);
        const char *t = l;
        while (t < end && (*t == ' ' || *t == '\t'))
            t++;
        int blank = t == end, has_line = 0;
        for (const char *q = l; q + 5 < end && !has_line; q++) {
            if (!strncmp(q, "line ", 5)) {
                const char *d = q + 5;
                while (d < end && *d >= '0' && *d <= '9')
                    d++;
                has_line = d > q + 5 && d < end && *d == ':';
            }
        }
        if (has_line) {
            pick = t;
            pick_end = end;
            break;
        }
        if (!blank && !pick) {
            pick = t;
            pick_end = end;
        }
        l = nl ? nl + 1 : end;
    }
    if (pick) {
        size_t n = (size_t)(pick_end - pick);
        if (n > 300)
            n = 300;
        memcpy(buf, pick, n);
        buf[n] = 0;
    }
    return buf;
}
