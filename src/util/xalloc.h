/* xalloc.h - growth helper for plain C arrays.
 *
 * Library code must not abort on allocation failure; array_grow returns -1
 * and leaves the old array untouched, so callers can report ENOMEM. */
#ifndef SNITCH_XALLOC_H
#define SNITCH_XALLOC_H

#include <stddef.h>

/* Ensure *arr (elements of elem_size bytes, capacity *cap) can hold `need`
 * elements.  Grows geometrically.  Returns 0, or -1 if out of memory or the
 * size would overflow. */
int array_grow(void **arr, size_t *cap, size_t need, size_t elem_size);

/* A block of at least *n bytes for free(), realloc() and free() alike.
 * From 8 MiB on it is aligned to 2 MiB, *n is rounded up to whole 2 MiB
 * pages, and transparent huge pages are asked for (a hint): faulting in
 * tens of MB 4 KiB at a time costs more than filling them.  Smaller, or
 * when the aligned block is refused, plain malloc(*n).  NULL when out of
 * memory. */
void *big_alloc(size_t *n);

#endif
