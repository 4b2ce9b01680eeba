/* xalloc.c - geometric growth of plain arrays; see xalloc.h. */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

int array_grow(void **arr, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return -1;
        n *= 2;
    }
    if (elem_size && n > SIZE_MAX / elem_size)
        return -1;
    void *p = realloc(*arr, n * elem_size);
    if (!p)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

void *big_alloc(size_t *n)
{
    size_t huge = (size_t)2 << 20;
    if (*n >= 4 * huge && *n <= SIZE_MAX - huge) {
        size_t r = (*n + huge - 1) / huge * huge;
        void *p = aligned_alloc(huge, r);
        if (p) {
#ifdef MADV_HUGEPAGE
            madvise(p, r, MADV_HUGEPAGE);   /* a hint: fine if refused */
#endif
            *n = r;
            return p;
        }
    }
    return malloc(*n ? *n : 1);
}
