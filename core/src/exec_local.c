/* exec_local.c — the local executor: a pool of threads in this process over
 * one object store. Tasks run in submission order (FIFO), so a task's inputs
 * produced by earlier tasks are ready or being made when it starts. Kernels
 * run single-threaded; BLAS is set to one thread. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

typedef struct qtask {
    struct qtask *next;
    wb_task t;
    wb_kernel_fn fn;
    wb_oid out;
    struct argblob *blob; /* shared argument bytes of a batch */
    wb_oid inbuf[4];      /* inputs stored inline when few */
    wb_oid *inheap;
    char *kname;
} qtask;

typedef struct argblob {
    int refs; /* under the pool lock */
    size_t len;
    unsigned char data[];
} argblob;

#define LOCAL_TPUT 300   /* seconds of tasks finished per second */
#define LOCAL_HIST 180   /* samples of memory and CPU (one a second) */
#define LOCAL_ERRORS 20

typedef struct local_impl {
    wb_store *store;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    qtask *head, *tail;
    int nthreads;
    pthread_t *threads;
    int stopping;
    /* figures for the dashboard (under mu) */
    double t0;
    uint64_t submitted, done, failed;
    int queued, running;
    uint32_t tput[LOCAL_TPUT];
    uint64_t tput_sec;
    struct {
        double when;
        char msg[300];
    } errors[LOCAL_ERRORS];
    uint64_t nerrors;
    wb_sample hist[LOCAL_HIST];
    uint64_t nhist;
    double cpu_prev, clock_prev;
} local_impl;

static local_impl *L(wb_exec *ex) { return ex->impl; }
static void stop_threads(local_impl *im);

static void qtask_free(local_impl *im, qtask *q)
{
    for (int i = 0; i < q->t.nin; i++) wb_store_unref(im->store, q->t.in[i]);
    free(q->inheap);
    free(q->kname);
    if (q->blob) {
        pthread_mutex_lock(&im->mu);
        int last = --q->blob->refs == 0;
        pthread_mutex_unlock(&im->mu);
        if (last) free(q->blob);
    }
    free(q);
}

typedef struct thread_arg {
    local_impl *im;
    int slot;
} thread_arg;

static void *worker_main(void *arg)
{
    thread_arg ta = *(thread_arg *)arg;
    free(arg);
    local_impl *im = ta.im;
    wb_activity_set_thread(ta.slot); /* its tasks in the dashboard's stream */
    for (;;) {
        pthread_mutex_lock(&im->mu);
        while (!im->head && !im->stopping) pthread_cond_wait(&im->cv, &im->mu);
        if (!im->head) {
            pthread_mutex_unlock(&im->mu);
            return NULL;
        }
        qtask *q = im->head;
        im->head = q->next;
        if (!im->head) im->tail = NULL;
        im->queued--;
        im->running++;
        pthread_mutex_unlock(&im->mu);
        /* the queue's references to the inputs and the result go with the run */
        int rc = wb__task_run_owned(im->store, &q->t, q->fn, q->out);
        pthread_mutex_lock(&im->mu);
        im->running--;
        if (rc && rc != WB_ECANCELED) {
            im->failed++;
            im->errors[im->nerrors % LOCAL_ERRORS].when = (double)time(NULL);
            /* as the dashboard shows it: no folders, no excerpts of files */
            wb_redact(wb_errmsg(), im->errors[im->nerrors % LOCAL_ERRORS].msg, sizeof im->errors[0].msg);
            im->nerrors++;
        } else if (!rc) {
            im->done++;
            uint64_t sec = (uint64_t)(wb_now() - im->t0);
            if (sec > im->tput_sec + LOCAL_TPUT) {
                memset(im->tput, 0, sizeof im->tput);
                im->tput_sec = sec;
            }
            while (im->tput_sec < sec) im->tput[++im->tput_sec % LOCAL_TPUT] = 0;
            im->tput[sec % LOCAL_TPUT]++;
        }
        pthread_mutex_unlock(&im->mu);
        q->t.nin = 0;
        qtask_free(im, q);
    }
}

static int l_submit(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs)
{
    local_impl *im = L(ex);
    qtask *first = NULL, *last = NULL;
    argblob *blob = NULL;
    const void *blob_src = NULL;
    int rc = 0, made = 0;
    for (int i = 0; i < n && !rc; i++) {
        const wb_task *t = &tasks[i];
        qtask *q = calloc(1, sizeof *q);
        if (!q) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        q->t = *t;
        q->fn = wb_kernel_find(t->kernel);
        q->kname = wb_strdup(t->kernel ? t->kernel : "?");
        q->t.kernel = q->kname;
        /* arguments: tasks of a batch usually share one argument buffer */
        if (t->arglen) {
            if (!blob || blob_src != t->arg || blob->len != t->arglen) {
                blob = malloc(sizeof *blob + t->arglen);
                if (!blob) {
                    free(q);
                    rc = wb_seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                blob->refs = 0;
                blob->len = t->arglen;
                memcpy(blob->data, t->arg, t->arglen);
                blob_src = t->arg;
            }
            blob->refs++;
            q->blob = blob;
            q->t.arg = blob->data;
        } else {
            q->t.arg = NULL;
        }
        wb_oid *in = t->nin <= 4 ? q->inbuf : (q->inheap = malloc((size_t)t->nin * sizeof *in));
        if (!in) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            q->t.nin = 0;
            qtask_free(im, q);
            break;
        }
        int nref = 0;
        for (int j = 0; j < t->nin && !rc; j++) {
            rc = wb_store_ref(im->store, t->in[j]);
            if (!rc) in[nref++] = t->in[j];
        }
        q->t.in = in;
        q->t.nin = nref;
        if (!rc) rc = wb_store_reserve(im->store, &q->out);
        if (rc) {
            qtask_free(im, q);
            break;
        }
        wb_store_ref(im->store, q->out); /* the caller's reference */
        outs[i] = q->out;
        made++;
        if (last)
            last->next = q;
        else
            first = q;
        last = q;
    }
    if (rc) {
        /* nothing was queued: undo */
        while (first) {
            qtask *nx = first->next;
            wb_store_fail(im->store, first->out, rc, wb_errmsg());
            wb_store_unref(im->store, first->out);
            wb_store_unref(im->store, first->out);
            qtask_free(im, first);
            first = nx;
        }
        for (int i = 0; i < n; i++) outs[i] = 0;
        return rc;
    }
    if (!first) return 0;
    pthread_mutex_lock(&im->mu);
    if (im->tail)
        im->tail->next = first;
    else
        im->head = first;
    im->tail = last;
    im->queued += made;
    im->submitted += (uint64_t)made;
    if (n == 1)
        pthread_cond_signal(&im->cv);
    else
        pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
    return 0;
}

static int l_wait(wb_exec *ex, const wb_oid *ids, int n)
{
    int first = 0;
    char msg[1024] = "";
    for (int i = 0; i < n; i++) {
        int rc = wb_store_wait(L(ex)->store, ids[i]);
        if (rc && (!first || (first == WB_ECANCELED && rc != WB_ECANCELED))) {
            first = rc;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
    }
    return first ? wb_seterr(first, "%s", msg) : 0;
}

static int l_put(wb_exec *ex, const void *data, size_t size, wb_oid *out)
{
    return wb_store_put_bytes(L(ex)->store, data, size, out);
}
static int l_put_part(wb_exec *ex, const wb_part *p, wb_oid *out)
{
    return wb_store_put_part(L(ex)->store, p, out);
}
static int l_get(wb_exec *ex, wb_oid id, void **data, size_t *size)
{
    int rc = wb_store_wait(L(ex)->store, id); /* a future: get blocks until it is set */
    return rc ? rc : wb_store_get_bytes(L(ex)->store, id, data, size);
}
static int l_ref(wb_exec *ex, wb_oid id) { return wb_store_ref(L(ex)->store, id); }
static void l_release(wb_exec *ex, wb_oid id) { wb_store_unref(L(ex)->store, id); }
static int l_stat(wb_exec *ex, wb_oid id, wb_objstat *out)
{
    return wb_store_stat(L(ex)->store, id, out);
}

static void l_info(wb_exec *ex, wb_exec_info *out)
{
    out->kind = "local";
    out->workers = 1;
    out->threads = L(ex)->nthreads;
    out->store = L(ex)->store;
}

static void l_destroy(wb_exec *ex)
{
    local_impl *im = L(ex);
    stop_threads(im); /* the queue drains first: workers exit only when it is empty */
    wb_store_free(im->store);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->cv);
    free(im);
    free(ex);
}

static int start_threads(local_impl *im, int threads)
{
    im->threads = calloc((size_t)threads, sizeof *im->threads);
    if (!im->threads) return wb_seterr(WB_ENOMEM, "out of memory");
    im->nthreads = 0;
    for (int i = 0; i < threads; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 8u << 20);
        thread_arg *ta = malloc(sizeof *ta);
        int err = ta ? 0 : ENOMEM;
        if (ta) {
            ta->im = im;
            ta->slot = i;
            err = pthread_create(&im->threads[i], &a, worker_main, ta);
            if (err) free(ta);
        }
        pthread_attr_destroy(&a);
        if (err) break;
        im->nthreads++;
    }
    return im->nthreads ? 0 : wb_seterr(WB_ENOMEM, "could not start threads");
}

static void stop_threads(local_impl *im)
{
    pthread_mutex_lock(&im->mu);
    im->stopping = 1;
    pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
    for (int i = 0; i < im->nthreads; i++) pthread_join(im->threads[i], NULL);
    free(im->threads);
    im->threads = NULL;
    im->nthreads = 0;
    im->stopping = 0;
}

static const wb_exec_vt local_vt = {"local", l_put, l_put_part, l_get, l_ref, l_release,
                                    l_submit, l_wait, l_stat, l_info, l_destroy};

wb_store *wb_exec_local_store(wb_exec *ex)
{
    return ex && ex->vt == &local_vt ? L(ex)->store : NULL;
}

wb_exec *wb_exec_local_new(int threads)
{
    if (threads <= 0) threads = wb_ncpu();
    if (threads > 1024) threads = 1024;
    wb_exec *ex = calloc(1, sizeof *ex);
    local_impl *im = calloc(1, sizeof *im);
    if (!ex || !im) goto fail;
    im->store = wb_store_new(0);
    if (!im->store) goto fail;
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    im->t0 = wb_now();
    ex->vt = &local_vt;
    ex->refs = 1;
    ex->impl = im;
    if (start_threads(im, threads)) {
        l_destroy(ex);
        return NULL;
    }
    return ex;
fail:
    if (im) wb_store_free(im->store);
    free(im);
    free(ex);
    wb_seterr(WB_ENOMEM, "out of memory");
    return NULL;
}

int wb_exec_local_resize(wb_exec *ex, int threads)
{
    if (!ex || ex->vt != &local_vt) return wb_seterr(WB_EINVAL, "not a local executor");
    if (threads <= 0) threads = wb_ncpu();
    if (threads > 1024) threads = 1024;
    local_impl *im = L(ex);
    if (threads == im->nthreads) return 0;
    stop_threads(im);
    return start_threads(im, threads);
}

/* ------------------------------------------------------------ dashboard */

void wb_exec_local_sample(void *exec)
{
    wb_exec *ex = exec;
    if (!ex || ex->vt != &local_vt) return;
    local_impl *im = L(ex);
    double now = wb_now(), cpu = wb_process_cpu_seconds();
    pthread_mutex_lock(&im->mu);
    wb_sample *s = &im->hist[im->nhist % LOCAL_HIST];
    s->t = now;
    s->rss = (double)wb_current_rss();
    s->mem = (double)wb_store_bytes(im->store);
    s->cpu = im->nhist && now > im->clock_prev && cpu >= im->cpu_prev ? (cpu - im->cpu_prev) / (now - im->clock_prev) : 0;
    im->cpu_prev = cpu;
    im->clock_prev = now;
    im->nhist++;
    pthread_mutex_unlock(&im->mu);
}

#define STREAM_WINDOW 120.0
#define STREAM_SHOWN 6000

/* the tasks of the last two minutes (this process's pool threads) */
static void stream_json(wb_buf *b, double now)
{
    wb_taskrec *t = malloc(STREAM_SHOWN * sizeof *t);
    uint64_t cur = 0;
    int n = 0;
    if (t) {
        /* the newest STREAM_SHOWN: read forward, keep the last ones */
        wb_taskrec *tmp = malloc(1024 * sizeof *tmp);
        int k;
        while (tmp && (k = wb_activity_tasks_since(&cur, tmp, 1024)) > 0)
            for (int i = 0; i < k; i++) {
                if (n == STREAM_SHOWN) {
                    memmove(t, t + 1, (STREAM_SHOWN - 1) * sizeof *t);
                    n--;
                }
                t[n++] = tmp[i];
            }
        free(tmp);
    }
    char (*names)[48] = calloc(256, sizeof *names);
    int nnames = 0, shown = 0;
    wb_buf_printf(b, "\"stream\":{\"window\":%.0f,\"tasks\":[", STREAM_WINDOW);
    for (int i = n - 1; i >= 0 && names; i--) {
        if (t[i].end < now - STREAM_WINDOW) continue;
        int k;
        for (k = 0; k < nnames && strcmp(names[k], t[i].kernel) != 0; k++) {}
        if (k == nnames) {
            if (nnames == 256) continue;
            snprintf(names[nnames++], sizeof names[0], "%s", t[i].kernel);
        }
        wb_buf_printf(b, "%s[1,%d,%d,%.3f,%.3f,%d]", shown++ ? "," : "", t[i].thread, k, now - t[i].start,
                      now - t[i].end, t[i].ok ? 1 : 0);
    }
    wb_buf_printf(b, "],\"kernels\":[");
    for (int k = 0; k < nnames; k++) {
        if (k) wb_buf_add(b, ",", 1);
        wb_json_str(b, names[k]);
    }
    wb_buf_add(b, "]}", 2);
    free(names);
    free(t);
}

void wb_exec_local_status_json(void *exec, wb_buf *b)
{
    wb_exec *ex = exec;
    if (!ex || ex->vt != &local_vt) {
        wb_buf_printf(b, "{}");
        return;
    }
    local_impl *im = L(ex);
    double now = wb_now();
    size_t count = wb_store_count(im->store), bytes = wb_store_bytes(im->store);
    wb_storeitem held[10];
    int nheld = wb_store_largest(im->store, held, 10);
    int pid = (int)getpid();
    pthread_mutex_lock(&im->mu);
    wb_buf_printf(b, "{\"kind\":\"local\",\"version\":");
    wb_json_str(b, WB_VERSION);
    wb_buf_printf(b, ",\"address\":\"this process (pid %d)\",\"uptime\":%.1f,\"drivers\":1,\"workers\":[", pid,
                  now - im->t0);
    double cpu = im->nhist ? im->hist[(im->nhist - 1) % LOCAL_HIST].cpu : 0;
    wb_buf_printf(b,
                  "{\"id\":1,\"address\":\"local threads (pid %d)\",\"alive\":true,\"threads\":%d,\"pid\":%d,"
                  "\"memory_used\":%zu,\"memory_limit\":0,\"rss\":%lld,\"objects\":%zu,\"tasks_running\":%d,"
                  "\"tasks_queued\":%d,\"tasks_assigned\":%d,\"tasks_done\":%llu,\"tasks_failed\":%llu,"
                  "\"last_heartbeat\":0,\"cpu\":%.3f,\"plugins\":\"\",\"removed\":\"\",",
                  pid, im->nthreads, pid, bytes, (long long)wb_current_rss(), count, im->running, im->queued,
                  im->running + im->queued, (unsigned long long)im->done, (unsigned long long)im->failed, cpu);
    wb_buf_printf(b, "\"held_count\":%zu,\"held_bytes\":%zu,\"held\":[", count, bytes);
    for (int i = 0; i < nheld; i++)
        wb_buf_printf(b, "%s{\"id\":\"%llx\",\"kind\":\"%s\",\"rows\":%lld,\"cols\":%lld,\"bytes\":%zu,"
                         "\"made_by\":\"\",\"driver\":0,\"copies\":1}",
                      i ? "," : "", (unsigned long long)held[i].id, held[i].stat.type == WB_OBJ_PART ? "partition" : "bytes",
                      (long long)held[i].stat.rows, (long long)held[i].stat.cols, held[i].stat.size);
    wb_buf_printf(b, "],\"history\":");
    wb_json_samples(b, im->hist, im->nhist, LOCAL_HIST, now);
    wb_buf_printf(b, "}],\"tasks\":{\"waiting\":0,\"queued\":0,\"assigned\":%d,\"running\":%d,"
                     "\"queued_on_workers\":%d,\"done\":%llu,\"failed\":%llu,\"retried\":0,\"submitted\":%llu,"
                     "\"rebuilt\":0},",
                  im->running + im->queued, im->running, im->queued, (unsigned long long)im->done,
                  (unsigned long long)im->failed, (unsigned long long)im->submitted);
    wb_buf_printf(b, "\"objects\":{\"count\":%zu,\"ready\":%zu,\"lost\":0,\"failed\":0,\"bytes\":%zu},"
                     "\"workers_lost\":0,",
                  count, count, bytes);
    uint64_t sec = (uint64_t)(now - im->t0);
    int span = (int)(sec + 1 < 120 ? sec + 1 : 120);
    wb_buf_printf(b, "\"throughput\":[");
    for (int k = span - 1; k >= 0; k--) {
        uint64_t s = sec - (uint64_t)k;
        uint32_t v = (s + LOCAL_TPUT > im->tput_sec && s <= im->tput_sec) ? im->tput[s % LOCAL_TPUT] : 0;
        wb_buf_printf(b, "%s%u", k == span - 1 ? "" : ",", v);
    }
    wb_buf_printf(b, "],\"errors\":[");
    uint64_t ne = im->nerrors < LOCAL_ERRORS ? im->nerrors : LOCAL_ERRORS;
    for (uint64_t k = 0; k < ne; k++) {
        wb_buf_printf(b, "%s{\"time\":%.0f,\"message\":", k ? "," : "",
                      im->errors[(im->nerrors - 1 - k) % LOCAL_ERRORS].when);
        wb_json_str(b, im->errors[(im->nerrors - 1 - k) % LOCAL_ERRORS].msg);
        wb_buf_add(b, "}", 1);
    }
    pthread_mutex_unlock(&im->mu);
    /* the job of this process (its progress line), the task stream, the log */
    wb_jobstage st[8];
    int nst = wb_activity_job(st, 8, NULL);
    wb_buf_printf(b, "],\"jobs\":[");
    if (nst > 0) {
        wb_buf_printf(b, "{\"driver\":\"this process\",\"updated\":0,\"stages\":");
        wb_json_job(b, st, nst, now);
        wb_buf_add(b, "}", 1);
    }
    wb_buf_printf(b, "],");
    stream_json(b, now);
    wb_buf_printf(b, ",\"logs\":[");
    wb_logrec *l = malloc(256 * sizeof *l);
    uint64_t cur = 0;
    int nl = l ? wb_activity_logs_since(&cur, l, 256) : 0;
    for (int i = nl > 150 ? nl - 150 : 0, first = 1; i < nl; i++, first = 0) {
        if (!first) wb_buf_add(b, ",", 1);
        wb_json_log(b, now - l[i].time, "wb", l[i].level, l[i].msg);
    }
    free(l);
    wb_buf_printf(b, "]}");
}
