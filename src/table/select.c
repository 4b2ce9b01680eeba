/* select.c - narrow a table to some feature families; see table.h.
 *
 * Kept apart from the reader: choosing which features a model uses is a
 * decision of the commands (the reference forest takes the statistics when
 * present, else the window features, else the sequences). */
#include <stdlib.h>
#include <string.h>

#include "table/table.h"

unsigned table_families_present(const table *t)
{
    unsigned f = 0;
    for (size_t j = 0; j < t->nfeat; j++)
        f |= table_feature_family(t->feat[j]);
    return f;
}

int table_select_families(table *t, unsigned families, snitch_err *e)
{
    size_t *keep = malloc((t->nfeat ? t->nfeat : 1) * sizeof *keep), nk = 0;
    if (!keep)
        return err_set(e, "out of memory");
    for (size_t j = 0; j < t->nfeat; j++)
        if (table_feature_family(t->feat[j]) & families)
            keep[nk++] = j;
    if (nk == 0) {
        free(keep);
        return err_set(e, "%s: no feature columns of the requested kind", t->path ? t->path : "table");
    }
    if (nk == t->nfeat) {
        free(keep);
        return 0;
    }
    for (size_t i = 0; i < t->nrows; i++) {
        const float *src = t->x + i * t->nfeat;
        float *dst = t->x + i * nk;         /* nk < nfeat: never overtakes src */
        for (size_t j = 0; j < nk; j++)
            dst[j] = src[keep[j]];
    }
    char **names = t->feat;
    for (size_t j = 0, k = 0; j < t->nfeat; j++) {
        if (k < nk && keep[k] == j)
            names[k++] = names[j];
        else
            free(names[j]);
    }
    t->nfeat = nk;
    free(keep);
    return 0;
}
