/* xalloc.c - geometric growth of plain arrays; see xalloc.h. */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>

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
