/* modelfile.h - the model file container (.snm) and byte (de)serializers.
 *
 * Owns: the on-disk layout every model kind shares, and bounds-checked
 * readers/writers of little-endian numbers and strings.  Layout (all
 * integers little-endian):
 *
 *   magic      8 bytes  "SNITCHM\x1a"
 *   version    u32      MF_VERSION
 *   nsections  u32
 *   nsections times:  tag u32 (four ASCII letters), length u64, bytes
 *   sha256     32 bytes of everything before it
 *
 * mf_parse validates the magic, the version, every section bound, unique
 * tags and the checksum before anything is used; a damaged, truncated or
 * hostile file gives an error naming what is wrong and where (offset). */
#ifndef SNITCH_MODELFILE_H
#define SNITCH_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define MF_MAGIC "SNITCHM\x1a"
#define MF_VERSION 1u
#define MF_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* A growable output buffer.  After an allocation failure `oom` is set and
 * further puts do nothing. */
typedef struct mf_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} mf_buf;

void mf_buf_free(mf_buf *b);
void mf_put_bytes(mf_buf *b, const void *p, size_t n);
void mf_put_u8(mf_buf *b, uint8_t v);
void mf_put_u32(mf_buf *b, uint32_t v);
void mf_put_u64(mf_buf *b, uint64_t v);
void mf_put_f32(mf_buf *b, float v);
void mf_put_f64(mf_buf *b, double v);
void mf_put_str(mf_buf *b, const char *s);     /* u32 length + bytes */

/* A bounds-checked reading cursor over len bytes.  Reading past the end
 * sets `bad` and returns 0 / NULL; check `bad` once after a group of reads.
 * A plain cursor (src NULL; make one with a designated initializer) has
 * all its bytes at p.  A streaming one (mf_stream_cursor) has only a window
 * of them, bytes [lo, hi) at p, and reads more from its file as reads go
 * past the window; a pointer it returned is good until the next read. */
struct mf_stream;
typedef struct mf_cur {
    const uint8_t *p;
    size_t len, off;
    int bad;
    struct mf_stream *src;
    size_t lo, hi;
} mf_cur;

/* The n bytes at the cursor, contiguous, without advancing: NULL (and bad)
 * when fewer than n are left, or (streaming) they cannot be read. */
const uint8_t *mf_cur_peek(mf_cur *c, size_t n);

uint8_t mf_get_u8(mf_cur *c);
uint32_t mf_get_u32(mf_cur *c);
uint64_t mf_get_u64(mf_cur *c);
float mf_get_f32(mf_cur *c);
double mf_get_f64(mf_cur *c);
const uint8_t *mf_get_bytes(mf_cur *c, size_t n);
/* A string as malloc'd NUL-terminated copy (NULL + bad on overrun, a
 * length above max_len, an embedded NUL, or out of memory). */
char *mf_get_str(mf_cur *c, size_t max_len);

typedef struct mf_section {
    uint32_t tag;
    const uint8_t *data;
    size_t len;
} mf_section;

/* Serialize sections into out (magic, version, sections, checksum). */
int mf_build(const mf_section *secs, size_t n, mf_buf *out);

typedef struct mf_file {
    uint8_t *raw;           /* the whole file (owned) */
    size_t rawlen;
    uint32_t version;
    mf_section *sec;        /* pointing into raw */
    size_t nsec;
} mf_file;

/* Parse and validate a file image (copied).  Returns 0 or -1 with e. */
int mf_parse(const uint8_t *data, size_t len, mf_file *out, snitch_err *e);
/* Read path and parse it; errors start with the path. */
int mf_read_path(const char *path, mf_file *out, snitch_err *e);
const mf_section *mf_find(const mf_file *f, uint32_t tag);
void mf_file_free(mf_file *f);

/* A model file read front to back in pieces, for loading a big model
 * without holding its bytes: each section's bytes go through a cursor's
 * window (mf_stream_cursor), and the checksum is computed as they pass.
 * It answers only yes or no: every check mf_read_path makes is made here
 * too (magic, version, section count and headers, unique tags, lengths,
 * the checksum, nothing after it), but by the end of the file, after the
 * sections were used, and a failure carries no message.  So a caller
 * builds from the sections as they come, throws it all away unless
 * mf_stream_finish says yes, and on any no reads the file again with
 * mf_read_path, which says what is wrong (and a file that changed in
 * between gets that read's answer).
 *
 * Open: a regular file only (a pipe cannot be read twice); window: the
 * window's first size in bytes (0: 1 MiB; it grows to the largest single
 * read).  NULL for a no. */
typedef struct mf_stream mf_stream;
mf_stream *mf_stream_open(const char *path, size_t window);
/* The next section's header: 1 with *tag and *len, 0 after the last, -1
 * for a no.  What the previous section's cursor left unread is skipped
 * (read and checksummed). */
int mf_stream_next(mf_stream *s, uint32_t *tag, uint64_t *len);
/* A cursor over the bytes of the section mf_stream_next just announced;
 * one per section, used before the next call to mf_stream_next. */
void mf_stream_cursor(mf_stream *s, mf_cur *c);
/* After the last section: 0 when every section was announced, the
 * checksum matches and the file ends right after it; -1 for a no. */
int mf_stream_finish(mf_stream *s);
void mf_stream_close(mf_stream *s);

#endif
