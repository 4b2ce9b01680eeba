/* utf8.c - one well-formed UTF-8 sequence, checked; see utf8.h. */
#include "utf8.h"

size_t utf8_seq_len(const unsigned char *s, size_t avail, size_t *bad)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xBF;     /* range of the second byte */
    size_t len, dummy;
    if (!bad)
        bad = &dummy;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0)
            lo = 0xA0;      /* overlong */
        else if (b == 0xED)
            hi = 0x9F;      /* UTF-16 surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0)
            lo = 0x90;      /* overlong */
        else if (b == 0xF4)
            hi = 0x8F;      /* above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (i >= avail || s[i] < l || s[i] > h) {
            *bad = i;
            return 0;
        }
    }
    return len;
}
