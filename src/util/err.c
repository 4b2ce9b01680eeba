/* err.c - fill a snitch_err; see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int err_set(snitch_err *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
