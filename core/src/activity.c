/* activity.c — what this process is doing, for the dashboards: the tasks
 * it ran (kernel, pool thread, start, end; the last WB_ACT_TASKS), its last
 * log lines, the running job (the stages of progress reports, as the
 * terminal's progress line shows them) and the CPU time it used. Readers
 * keep a cursor (a sequence number) and get what came after it; every
 * function is thread-safe. Nothing here calls the rest of the core back. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "internal.h"

#define WB_ACT_TASKS 16384
#define WB_ACT_LOGS 256
#define JOB_DEPTH 6

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- tasks */

static wb_taskrec tasks[WB_ACT_TASKS];
static uint64_t ntasks; /* records ever added; the newest is ntasks - 1 */
static _Thread_local int thread_slot;

void wb_activity_set_thread(int slot) { thread_slot = slot; }
int wb_activity_thread(void) { return thread_slot; }

void wb_activity_task(const char *kernel, double start, double end, int ok)
{
    pthread_mutex_lock(&mu);
    wb_taskrec *r = &tasks[ntasks % WB_ACT_TASKS];
    snprintf(r->kernel, sizeof r->kernel, "%s", kernel ? kernel : "?");
    r->thread = thread_slot;
    r->start = start;
    r->end = end;
    r->ok = ok;
    ntasks++;
    pthread_mutex_unlock(&mu);
}

/* the records after *cursor (at most max, the oldest first); records that
 * were overwritten before they were read are skipped */
int wb_activity_tasks_since(uint64_t *cursor, wb_taskrec *out, int max)
{
    pthread_mutex_lock(&mu);
    uint64_t from = *cursor;
    if (ntasks > WB_ACT_TASKS && from < ntasks - WB_ACT_TASKS) from = ntasks - WB_ACT_TASKS;
    if (from > ntasks) from = ntasks;
    int n = 0;
    for (uint64_t s = from; s < ntasks && n < max; s++) out[n++] = tasks[s % WB_ACT_TASKS];
    *cursor = from + (uint64_t)n;
    pthread_mutex_unlock(&mu);
    return n;
}

/* ----------------------------------------------------------------- logs */

static wb_logrec logs[WB_ACT_LOGS];
static uint64_t nlogs;

void wb_activity_log(int level, const char *msg)
{
    pthread_mutex_lock(&mu);
    wb_logrec *r = &logs[nlogs % WB_ACT_LOGS];
    r->time = wb_now();
    r->level = level;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
    nlogs++;
    pthread_mutex_unlock(&mu);
}

int wb_activity_logs_since(uint64_t *cursor, wb_logrec *out, int max)
{
    pthread_mutex_lock(&mu);
    uint64_t from = *cursor;
    if (nlogs > WB_ACT_LOGS && from < nlogs - WB_ACT_LOGS) from = nlogs - WB_ACT_LOGS;
    if (from > nlogs) from = nlogs;
    int n = 0;
    for (uint64_t s = from; s < nlogs && n < max; s++) out[n++] = logs[s % WB_ACT_LOGS];
    *cursor = from + (uint64_t)n;
    pthread_mutex_unlock(&mu);
    return n;
}

/* ------------------------------------------------------------------ job */

/* the stages: a stage is active from its first report until done >= total;
 * a report from an outer stage ends the ones above it (the rules of the
 * shell's progress line, shell/progress.c, which draws from this) */
static wb_jobstage job[JOB_DEPTH];
static int depth;
static uint64_t job_gen;

void wb_activity_progress(const char *name, double done, double total, const char *info)
{
    if (!name) return;
    pthread_mutex_lock(&mu);
    double now = wb_now();
    int i;
    for (i = 0; i < depth; i++)
        if (strncmp(job[i].name, name, sizeof job[i].name - 1) == 0) break;
    if (i < depth) {
        depth = i + 1; /* the stages above this one have ended */
    } else if (depth < JOB_DEPTH) {
        i = depth++;
        snprintf(job[i].name, sizeof job[i].name, "%s", name);
        job[i].start = now;
        job[i].done = 0;
    } else {
        i = depth - 1; /* too deep: the innermost slot shows the newest stage */
        snprintf(job[i].name, sizeof job[i].name, "%s", name);
        job[i].start = now;
        job[i].done = 0;
    }
    wb_jobstage *s = &job[i];
    if (done <= 0 && s->done > 0) s->start = now; /* the stage starts again */
    s->done = done;
    s->total = total;
    snprintf(s->info, sizeof s->info, "%s", info ? info : "");
    if (total > 0 && done >= total) depth = i; /* finished */
    job_gen++;
    pthread_mutex_unlock(&mu);
}

void wb_activity_job_end(void)
{
    pthread_mutex_lock(&mu);
    if (depth) job_gen++;
    depth = 0;
    pthread_mutex_unlock(&mu);
}

int wb_activity_job(wb_jobstage *out, int max, uint64_t *gen)
{
    pthread_mutex_lock(&mu);
    int n = depth < max ? depth : max;
    if (n > 0) memcpy(out, job, (size_t)n * sizeof *out);
    if (gen) *gen = job_gen;
    pthread_mutex_unlock(&mu);
    return n;
}

/* ------------------------------------------------------------------ cpu */

double wb_process_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ----------------------------------------------------------------- JSON */

void wb_json_str(wb_buf *b, const char *s)
{
    wb_buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') wb_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f) wb_buf_printf(b, "\\u%04x", *p);
        else wb_buf_add(b, p, 1);
    }
    wb_buf_add(b, "\"", 1);
}

static double finite_or(double v, double d) { return v == v && v < 1e300 && v > -1e300 ? v : d; }

void wb_json_job(wb_buf *b, const wb_jobstage *s, int n, double now)
{
    wb_buf_add(b, "[", 1);
    for (int i = 0; i < n; i++) {
        double el = finite_or(now - s[i].start, 0), done = finite_or(s[i].done, 0), total = finite_or(s[i].total, 0);
        double eta = total > 0 && done > 0 && done < total ? el * (total - done) / done : -1;
        wb_buf_printf(b, "%s{\"name\":", i ? "," : "");
        wb_json_str(b, s[i].name);
        wb_buf_printf(b, ",\"done\":%.17g,\"total\":%.17g,\"elapsed\":%.3f,\"eta\":%.3f,\"info\":", done, total, el, eta);
        wb_json_str(b, s[i].info);
        wb_buf_add(b, "}", 1);
    }
    wb_buf_add(b, "]", 1);
}

void wb_json_samples(wb_buf *b, const wb_sample *ring, uint64_t n, int cap, double now)
{
    uint64_t from = n > (uint64_t)cap ? n - (uint64_t)cap : 0;
    static const char *keys[] = {"ago", "rss", "mem", "cpu"};
    wb_buf_add(b, "{", 1);
    for (int k = 0; k < 4; k++) {
        wb_buf_printf(b, "%s\"%s\":[", k ? "," : "", keys[k]);
        for (uint64_t i = from; i < n; i++) {
            const wb_sample *x = &ring[i % (uint64_t)cap];
            double v = k == 0 ? now - x->t : k == 1 ? x->rss : k == 2 ? x->mem : x->cpu;
            wb_buf_printf(b, i > from ? ",%.6g" : "%.6g", finite_or(v, 0));
        }
        wb_buf_add(b, "]", 1);
    }
    wb_buf_add(b, "}", 1);
}

/* a message as the dashboards show it: an absolute path keeps its last
 * part (".../data.csv"), a quoted excerpt its quotes ("...") */
void wb_redact(const char *msg, char *out, size_t cap)
{
    if (!cap) return;
    size_t o = 0;
#define PUT(ch)                       \
    do {                              \
        if (o + 1 < cap) out[o++] = (ch); \
    } while (0)
    for (size_t i = 0; msg[i];) {
        char ch = msg[i];
        char prev = i ? msg[i - 1] : ' ';
        if (ch == '"') { /* a quoted excerpt: the quotes stay, what they held goes */
            const char *end = strchr(msg + i + 1, '"');
            const char *nl = strchr(msg + i + 1, '\n');
            if (end && (!nl || end < nl) && end > msg + i + 1) {
                for (const char *r = "\"...\""; *r; r++) PUT(*r);
                i = (size_t)(end - msg) + 1;
                continue;
            }
        }
        int at_word = strchr(" \t\n(['=,", prev) != NULL;
        if (at_word && (ch == '/' || (ch == '~' && msg[i + 1] == '/'))) { /* an absolute path: its last part */
            size_t j = i, last = i;
            while (msg[j] && !strchr(" \t\n'\",;:)]}", msg[j])) {
                if (msg[j] == '/' && msg[j + 1] && !strchr(" \t\n'\",;:)]}", msg[j + 1])) last = j;
                j++;
            }
            if (last > i + (ch == '~')) {
                for (const char *r = ".../"; *r; r++) PUT(*r);
                for (size_t k = last + 1; k < j; k++) PUT(msg[k]);
                i = j;
                continue;
            }
        }
        PUT(ch);
        i++;
    }
#undef PUT
    out[o] = 0;
}

void wb_json_log(wb_buf *b, double ago, const char *source, int level, const char *msg)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char shown[600];
    wb_redact(msg ? msg : "", shown, sizeof shown);
    wb_buf_printf(b, "{\"ago\":%.3f,\"source\":", finite_or(ago, 0));
    wb_json_str(b, source);
    wb_buf_printf(b, ",\"level\":\"%s\",\"message\":", names[level < 0 ? 0 : level > 3 ? 3 : level]);
    wb_json_str(b, shown);
    wb_buf_add(b, "}", 1);
}
