/* synth_ex.h - synth_write() with progress reports and final counts.
 *
 * synth.h's synth_write() returns only success or failure; the CLI also
 * needs a progress line for long runs and a summary (flows, packets, bytes)
 * at the end, and the library must not print.  synth_write_ex() is the same
 * writer with a callback and a result struct; synth_write() calls it with
 * neither. */
#ifndef SNITCH_SYNTH_EX_H
#define SNITCH_SYNTH_EX_H

#include <stdint.h>

#include "synth/synth.h"

typedef struct synth_stats {
    uint64_t flows;     /* flows started (= truth rows) */
    uint64_t packets;   /* packets written */
    uint64_t bytes;     /* bytes of the pcap file, header included */
} synth_stats;

/* Called from inside synth_write_ex() every few tens of thousands of
 * packets with the counts so far (never after an error). */
typedef void (*synth_progress_fn)(const synth_stats *so_far, void *arg);

/* As synth_write(); progress may be NULL; out (may be NULL) gets the final
 * counts on success. */
int synth_write_ex(const synth_config *cfg, const char *path,
                   synth_progress_fn progress, void *arg,
                   synth_stats *out, snitch_err *e);

#endif
