/* strmap.h - a map from byte strings to a counter, with stable ids.
 *
 * Owns: strmap and copies of its keys.  Used for label counts (the
 * --min-flows filter, summaries) and class-name tables.  Ids are 0, 1, ...
 * in insertion order, so callers can keep arrays indexed by id. */
#ifndef SNITCH_STRMAP_H
#define SNITCH_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap strmap;

strmap *strmap_new(void);
void strmap_free(strmap *m);

/* Id of key (inserting it with count 0 if new), or -1 when out of memory. */
long strmap_intern(strmap *m, const char *key, size_t len);
/* Id of key, or -1 if absent. */
long strmap_find(const strmap *m, const char *key, size_t len);

size_t strmap_size(const strmap *m);
const char *strmap_key(const strmap *m, long id);     /* NUL-terminated */
size_t strmap_key_len(const strmap *m, long id);
uint64_t *strmap_count(strmap *m, long id);

#endif
