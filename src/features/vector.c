/* vector.c - model feature names -> computed values; see vector.h. */
#include "vector.h"

#include <stdlib.h>
#include <string.h>

static int seq_index(const char *name, int *chan, int *pos)
{
    static const char *const ch[] = {"size_", "payload_", "iat_", "dir_"};
    for (int c = 0; c < 4; c++) {
        size_t l = strlen(ch[c]);
        if (strncmp(name, ch[c], l) != 0)
            continue;
        const char *d = name + l;
        if (!*d || strlen(d) > 6)
            return -1;
        for (const char *q = d; *q; q++)
            if (*q < '0' || *q > '9')
                return -1;
        *chan = c;
        *pos = atoi(d);
        return 0;
    }
    return -1;
}

int feat_map_build(feat_map *m, char *const *names, size_t n, snitch_err *e)
{
    memset(m, 0, sizeof *m);
    m->src = malloc((n ? n : 1) * sizeof *m->src);
    int *chan = malloc((n ? n : 1) * sizeof *chan), *pos = malloc((n ? n : 1) * sizeof *pos);
    if (!m->src || !chan || !pos) {
        free(chan);
        free(pos);
        feat_map_free(m);
        return err_set(e, "out of memory");
    }
    m->nfeat = n;
    for (size_t j = 0; j < n; j++) {
        chan[j] = -1;
        int s = -1;
        for (int i = 0; i < FEAT_NSTATS; i++)
            if (!strcmp(names[j], feat_stats_name(i)))
                s = i;
        if (s >= 0) {
            m->src[j] = s;
            m->need_stats = 1;
        } else if (seq_index(names[j], &chan[j], &pos[j]) == 0) {
            if (pos[j] + 1 > m->seq_n)
                m->seq_n = pos[j] + 1;
        } else {
            int win = 0;
            for (int i = 0; i < FEAT_NWINDOW; i++)
                win |= !strcmp(names[j], feat_window_name(i));
            err_set(e, win ? "the model uses the per-packet window feature '%s': it classifies "
                             "packets, not flows"
                           : "the model uses '%s', which is not a flow feature snitch computes",
                    names[j]);
            free(chan);
            free(pos);
            feat_map_free(m);
            return -1;
        }
    }
    for (size_t j = 0; j < n; j++)
        if (chan[j] >= 0)
            m->src[j] = FEAT_NSTATS + chan[j] * m->seq_n + pos[j];
    free(chan);
    free(pos);
    m->buf = calloc((size_t)FEAT_NSTATS + 4 * (size_t)m->seq_n, sizeof *m->buf);
    if (!m->buf) {
        feat_map_free(m);
        return err_set(e, "out of memory");
    }
    return 0;
}

int feat_map_vector(feat_map *m, feat_ws *ws, const feat_view *data, float *out)
{
    if (m->need_stats && feat_stats(ws, data, m->buf) < 0)
        return -1;
    if (m->seq_n)
        feat_seq(data, m->seq_n, m->buf + FEAT_NSTATS);
    for (size_t j = 0; j < m->nfeat; j++)
        out[j] = (float)m->buf[m->src[j]];
    return 0;
}

void feat_map_free(feat_map *m)
{
    free(m->src);
    free(m->buf);
    memset(m, 0, sizeof *m);
}
