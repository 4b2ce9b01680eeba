/* utf8.h - one well-formed UTF-8 sequence, checked.
 *
 * Owns nothing.  The JSON writer and reader, the HTML report and the
 * gnuplot scripts all pass names from captures (SNIs, labels) through; they
 * share this one check of what well-formed means (RFC 3629: no overlong
 * forms, no UTF-16 surrogates, nothing above U+10FFFF). */
#ifndef SNITCH_UTF8_H
#define SNITCH_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed sequence at s, or 0 if there is none.
 * avail: bytes readable at s (at least 1); a NUL-terminated string may pass
 * SIZE_MAX, since a NUL fails every continuation check and nothing past it
 * is read.  bad (may be NULL), when 0 is returned: the bytes to replace by
 * one U+FFFD, the maximal prefix of a valid sequence (Unicode's "maximal
 * subpart" practice, also Python's decode(errors='replace')). */
size_t utf8_seq_len(const unsigned char *s, size_t avail, size_t *bad);

#endif
