/* util.c - helpers shared by the subcommands: safe output files, strict
 * option parsing, a clock. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pipeline/extract.h"

int outfile_open(outfile *o, const char *cmd, const char *path, int force)
{
    memset(o, 0, sizeof *o);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        return 0;
    }
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "snitch %s: '%s' is a directory\n", cmd, path);
            return -1;
        }
        if (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)) {
            /* /dev/null, a named pipe: nothing to replace, write in place */
            if (!(o->f = fopen(path, "w"))) {
                fprintf(stderr, "snitch %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
                return -1;
            }
            o->direct = 1;
            return 0;
        }
        if (!force) {
            fprintf(stderr, "snitch %s: '%s' exists; use --force to replace it\n", cmd, path);
            return -1;
        }
    }
    size_t n = strlen(path);
    o->path = strdup(path);
    o->tmp = malloc(n + 16);
    if (!o->path || !o->tmp) {
        fprintf(stderr, "snitch %s: out of memory\n", cmd);
        goto fail;
    }
    snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        fprintf(stderr, "snitch %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        goto fail;
    }
    /* mkstemp makes the file 0600; give it the usual mode. */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        fprintf(stderr, "snitch %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
        close(fd);
        unlink(o->tmp);
        goto fail;
    }
    return 0;
fail:
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return -1;
}

int outfile_commit(outfile *o, const char *cmd)
{
    int r = 0;
    if (o->direct) {
        if (fclose(o->f) != 0) {
            fprintf(stderr, "snitch %s: writing output: %s\n", cmd, strerror(errno));
            r = -1;
        }
        memset(o, 0, sizeof *o);
        return r;
    }
    if (!o->path) {
        if (fflush(stdout) != 0) {
            fprintf(stderr, "snitch %s: writing standard output: %s\n", cmd, strerror(errno));
            r = -1;
        }
        return r;
    }
    if (fflush(o->f) != 0 || ferror(o->f)) {
        fprintf(stderr, "snitch %s: writing '%s': %s\n", cmd, o->path, strerror(errno));
        r = -1;
    }
    if (fclose(o->f) != 0 && r == 0) {
        fprintf(stderr, "snitch %s: writing '%s': %s\n", cmd, o->path, strerror(errno));
        r = -1;
    }
    o->f = NULL;
    if (r == 0 && rename(o->tmp, o->path) != 0) {
        fprintf(stderr, "snitch %s: cannot rename '%s' to '%s': %s\n", cmd, o->tmp, o->path,
                strerror(errno));
        r = -1;
    }
    if (r != 0)
        unlink(o->tmp);
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
    return r;
}

void outfile_abort(outfile *o)
{
    if (o->direct)
        fclose(o->f);
    if (o->path) {
        if (o->f)
            fclose(o->f);
        unlink(o->tmp);
        free(o->path);
        free(o->tmp);
    }
    memset(o, 0, sizeof *o);
}

int cli_uint(const char *cmd, const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "snitch %s: bad value for %s: '%s' (a whole number up to %llu)\n", cmd, opt,
            s ? s : "", (unsigned long long)max);
    return -1;
}

int cli_real(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (!s || !*s || errno || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "snitch %s: bad value for %s: '%s' (a number from %g to %g)\n", cmd, opt,
                s ? s : "", lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_seconds(const char *cmd, const char *opt, const char *s, int64_t *ns_out)
{
    char *end;
    errno = 0;
    double v = s && *s ? strtod(s, &end) : -1;
    if (!s || !*s || errno || *end || !(v >= 0) || v > 1e9) {
        fprintf(stderr, "snitch %s: bad value for %s: '%s' (seconds, e.g. 0.010)\n", cmd, opt,
                s ? s : "");
        return -1;
    }
    *ns_out = (int64_t)llround(v * 1e9);
    return 0;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cli_threads(const char *cmd, const char *s, int *out)
{
    uint64_t v;
    if (cli_uint(cmd, "--threads", s, 2, &v) < 0)
        return -1;
    if (v < 1) {
        fprintf(stderr, "snitch %s: --threads: 1 or 2\n", cmd);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_default_threads(void)
{
    cpu_set_t cs;
    return sched_getaffinity(0, sizeof cs, &cs) == 0 && CPU_COUNT(&cs) >= 2 ? 2 : 1;
}

static void human(double v, char *buf, size_t n)
{
    const char *u[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f%s", v, u[i]);
}

void cli_progress(capture *c, const extract *x, double t0, int final, const char *extra)
{
    extract_stats st;
    extract_get_stats(x, &st);
    uint64_t done, total;
    capture_progress(c, &done, &total);
    double el = cli_now() - t0;
    char p[32], fl[32], rate[32];
    human((double)st.packets, p, sizeof p);
    human((double)st.flows.flows, fl, sizeof fl);
    human(el > 0 ? (double)st.packets / el : 0, rate, sizeof rate);
    if (total)
        fprintf(stderr, "\r  %5.1f%%  %spackets  %sflows  %spackets/s%s   ",
                100.0 * (double)done / (double)total, p, fl, rate, extra ? extra : "");
    else
        fprintf(stderr, "\r  %spackets  %sflows  %spackets/s%s   ", p, fl, rate, extra ? extra : "");
    if (final)
        fprintf(stderr, "\r%60s\r", "");
}
