/* log.c — progress reports and log lines: the sinks a program installs (the
 * shell's progress line, the cluster's log format) and the defaults (silent
 * progress; warnings and errors on stderr). Progress reported inside a
 * running kernel is dropped (see wb__in_kernel). */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static wb_progress_fn progress_sink;
static wb_log_fn log_sink;

void wb_set_progress(wb_progress_fn fn) { progress_sink = fn; }
_Thread_local int wb__in_kernel;
void wb_progress(const char *stage, double done, double total, const char *info)
{
    if (wb__in_kernel) return;
    wb_activity_progress(stage, done, total, info); /* the job the dashboards show */
    if (progress_sink) progress_sink(stage, done, total, info);
}
void wb_set_log(wb_log_fn fn) { log_sink = fn; }

static void vlog(int level, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (level >= WB_LOG_INFO) wb_activity_log(level, msg); /* the dashboards' log lines */
    if (log_sink)
        log_sink(level, msg);
    else if (level >= WB_LOG_WARN)
        fprintf(stderr, "wb: %s: %s\n", level >= WB_LOG_ERROR ? "error" : "warning", msg);
}

void wb_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}
