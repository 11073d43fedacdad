//go:build cgo

// PocketSphinx logs every model detail to stderr. Route its warnings and errors to slog
// (through sphinxLog in log.go) and drop the informational chatter.

#include <stdarg.h>
#include <stdio.h>
#include <sphinxbase/err.h>
#include "_cgo_export.h"

static void lectern_sphinx_log(void *user_data, err_lvl_t lvl, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    (void)user_data;
    if (lvl < ERR_WARN)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sphinxLog((int)lvl, buf);
}

void lectern_sphinx_route_log(void)
{
    // The configuration dump goes straight to the log file handle, not through the callback.
    err_set_logfp(NULL);
    err_set_callback(lectern_sphinx_log, NULL);
}
