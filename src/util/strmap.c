/* strmap.c - open-addressing hash map of byte strings; see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    size_t len;
    uint64_t count;
    uint64_t hash;
} entry;

struct strmap {
    entry *e;           /* by id */
    size_t n, cap;
    long *slots;        /* id + 1, 0 = empty */
    size_t nslots;      /* power of two */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;    /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

strmap *strmap_new(void)
{
    strmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nslots = 64;
    m->slots = calloc(m->nslots, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void strmap_free(strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].key);
    free(m->e);
    free(m->slots);
    free(m);
}

static long lookup(const strmap *m, const char *key, size_t len, uint64_t h, size_t *slot)
{
    size_t mask = m->nslots - 1, i = h & mask;
    while (m->slots[i]) {
        const entry *e = &m->e[m->slots[i] - 1];
        if (e->hash == h && e->len == len && !memcmp(e->key, key, len)) {
            *slot = i;
            return m->slots[i] - 1;
        }
        i = (i + 1) & mask;
    }
    *slot = i;
    return -1;
}

static int rehash(strmap *m)
{
    size_t ns = m->nslots * 2;
    long *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (size_t id = 0; id < m->n; id++) {
        size_t i = m->e[id].hash & (ns - 1);
        while (s[i])
            i = (i + 1) & (ns - 1);
        s[i] = (long)id + 1;
    }
    free(m->slots);
    m->slots = s;
    m->nslots = ns;
    return 0;
}

long strmap_find(const strmap *m, const char *key, size_t len)
{
    size_t slot;
    return lookup(m, key, len, hash_bytes(key, len), &slot);
}

long strmap_intern(strmap *m, const char *key, size_t len)
{
    uint64_t h = hash_bytes(key, len);
    size_t slot;
    long id = lookup(m, key, len, h, &slot);
    if (id >= 0)
        return id;
    if ((m->n + 1) * 2 > m->nslots) {
        if (rehash(m) < 0)
            return -1;
        lookup(m, key, len, h, &slot);
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        entry *ne = realloc(m->e, nc * sizeof *ne);
        if (!ne)
            return -1;
        m->e = ne;
        m->cap = nc;
    }
    char *k = malloc(len + 1);
    if (!k)
        return -1;
    memcpy(k, key, len);
    k[len] = 0;
    m->e[m->n] = (entry){k, len, 0, h};
    m->slots[slot] = (long)m->n + 1;
    return (long)m->n++;
}

size_t strmap_size(const strmap *m) { return m->n; }
const char *strmap_key(const strmap *m, long id) { return m->e[id].key; }
size_t strmap_key_len(const strmap *m, long id) { return m->e[id].len; }
uint64_t *strmap_count(strmap *m, long id) { return &m->e[id].count; }
