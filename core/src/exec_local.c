/* exec_local.c — the local executor: a pool of threads in this process over
 * one object store. Tasks run in submission order (FIFO), so a task's inputs
 * produced by earlier tasks are ready or being made when it starts. Kernels
 * run single-threaded; BLAS is set to one thread.
 *
 * map_sum does not make a task per partition: the pool's threads take runs
 * of blocks (aligned nodes of the block tree, see treesum.c) from a shared
 * counter over the whole dataset until none is left, so the threads finish
 * a pass together whatever the partitions' sizes, and nothing goes through
 * the store. Each run is folded into its tree node as it goes; the driver
 * adds the nodes in the fixed tree: the same bits as a task per partition. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

typedef struct qtask {
    struct qtask *next;
    void (*job)(void *); /* instead of a task: a function run in a pool thread */
    void *jobarg;
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

/* the tasks first..last (n of them) onto the pool's queue; one thread woken
 * when `one`, else all */
static void enqueue(local_impl *im, qtask *first, qtask *last, int n, int one)
{
    pthread_mutex_lock(&im->mu);
    if (im->tail)
        im->tail->next = first;
    else
        im->head = first;
    im->tail = last;
    im->queued += n;
    im->submitted += (uint64_t)n;
    if (one)
        pthread_cond_signal(&im->cv);
    else
        pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
}

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
        int rc = q->job ? (q->job(q->jobarg), 0) : wb__task_run_owned(im->store, &q->t, q->fn, q->out);
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

/* queue a function for n pool threads (each runs it once) */
static int queue_jobs(local_impl *im, void (*job)(void *), void *arg, int n)
{
    qtask *first = NULL, *last = NULL;
    for (int i = 0; i < n; i++) {
        qtask *q = calloc(1, sizeof *q);
        if (!q) {
            while (first) {
                qtask *nx = first->next;
                free(first);
                first = nx;
            }
            return wb_seterr(WB_ENOMEM, "out of memory");
        }
        q->job = job;
        q->jobarg = arg;
        if (last)
            last->next = q;
        else
            first = q;
        last = q;
    }
    enqueue(im, first, last, n, 0);
    return 0;
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
    enqueue(im, first, last, made, n == 1);
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


/* ------------------------------------------------------------ map_sum */

typedef struct msjob {
    local_impl *im;
    const char *kernel;
    wb_kernel_fn fn;
    const void *arg;
    size_t arglen, len;
    int nin;           /* inputs of a block: its partition, then the extras */
    const wb_obj *obj; /* nparts x nin, acquired */
    const wb_oid *ids; /* the same layout */
    const int64_t *pb; /* first global block of each partition; pb[nparts] = nblocks */
    int nparts, nthreads;
    int64_t nblocks;
    int shift;         /* a run: 2^shift blocks, aligned ... */
    int tail;          /* ... halved down to 2^tail near the end (see next_run) */
    atomic_llong next; /* the first block not taken yet */
    atomic_llong bad;  /* the first block that failed so far (nblocks: none) */
    atomic_int slot;   /* the next pool thread's index in runs */
    wb_treesum **runs; /* each pool thread's nodes (all its runs) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;          /* pool threads still in the job */
    int rc, rc_cancel; /* the error of block `bad`, and whether one was an interrupt */
    int64_t bad_cancel;
    char msg[1024], msg_cancel[1024];
} msjob;

/* one block's kernel call; sub: the block's inputs (sub[0] rewritten) */
static int ms_block(msjob *j, wb_kctx *ctx, wb_obj *sub, int p, int64_t b, wb_treesum *t)
{
    const wb_obj *o = j->obj + (size_t)p * (size_t)j->nin;
    const wb_part *pp = &o[0].part;
    int64_t B = WB_BLOCK_ROWS, r0 = (b - j->pb[p]) * B, r1 = r0 + B < pp->rows ? r0 + B : pp->rows;
    memcpy(sub, o, (size_t)j->nin * sizeof *sub);
    sub[0].part.rows = r1 - r0;
    sub[0].part.row0 = pp->row0 + r0;
    sub[0].part.x = pp->x + (size_t)r0 * (size_t)pp->cols;
    sub[0].part.y = pp->y ? pp->y + r0 : NULL;
    sub[0].size = (size_t)(r1 - r0) * (size_t)pp->cols * 8 + (pp->y ? (size_t)(r1 - r0) * 8 : 0);
    ctx->in_ids = j->ids + (size_t)p * (size_t)j->nin;
    double *v = calloc(j->len ? j->len : 1, sizeof(double));
    if (!v) return wb_seterr(WB_ENOMEM, "out of memory");
    ctx->slot = v;
    ctx->slot_taken = 0;
    wb_clearerr();
    int rc = j->fn(ctx, sub, j->nin, j->arg, j->arglen);
    if (rc > 0) rc = wb_seterr(WB_EINTERNAL, "%s: kernel returned %d", j->kernel, rc);
    if (!rc && !ctx->slot_taken) rc = wb_seterr(WB_EINVAL, "%s: the kernel wrote no block sum", j->kernel);
    if (rc) {
        free(v);
        return rc;
    }
    rc = wb__treesum_fold(t, (uint64_t)b, v);
    if (!rc && wb_interrupted()) rc = wb_seterr(WB_ECANCELED, "interrupted");
    return rc;
}

/* the next run [*b0, *b1) or 0 when none is left: 2^shift blocks while
 * more than 2 x threads such runs are left, then halved (to 2^tail at the
 * least) so that the threads end the pass within a small run of each other.
 * Sizes never grow, so each run starts at a multiple of its size: an aligned
 * node of the tree (the last may be cut at the last block). */
static int next_run(msjob *j, int64_t *b0, int64_t *b1)
{
    long long b = atomic_load(&j->next);
    for (;;) {
        if (b >= j->nblocks) return 0;
        int64_t left = j->nblocks - b, size = (int64_t)1 << j->shift;
        while (size > ((int64_t)1 << j->tail) && left / (2 * (int64_t)j->nthreads) < size) size >>= 1;
        if (atomic_compare_exchange_weak(&j->next, &b, b + size)) {
            *b0 = b;
            *b1 = b + size < j->nblocks ? b + size : j->nblocks;
            return 1;
        }
    }
}

/* a pool thread: runs of blocks until none is left */
static void ms_runner(void *vj)
{
    msjob *j = vj;
    wb_kctx ctx = {.store = j->im->store, .kernel = j->kernel, .mode = WB_TASK_BLOCKSUM, .sumlen = j->len,
                   .nin = j->nin};
    wb_obj *sub = malloc((size_t)j->nin * sizeof *sub);
    int top = wb__in_kernel == 0, ok = 1, ran = 0;
    double t0 = top ? wb_now() : 0;
    wb__in_kernel++;
    /* the nodes of all its runs: only siblings merge (wb__treesum_fold), so
     * runs apart stay apart and the driver's tree adds them as before */
    wb_treesum *t = wb_treesum_new(j->len, j->nblocks);
    j->runs[atomic_fetch_add(&j->slot, 1)] = t;
    int64_t b0, b1;
    while (next_run(j, &b0, &b1)) {
        if (b0 > atomic_load(&j->bad)) continue; /* an earlier block failed: its error is the answer */
        ran = 1;
        int rc = sub && t ? 0 : wb_seterr(WB_ENOMEM, "out of memory");
        int p = 0;
        int64_t b = b0;
        while (p + 1 < j->nparts && j->pb[p + 1] <= b0) p++;
        while (!rc && b < b1) {
            while (j->pb[p + 1] <= b) p++;
            rc = ms_block(j, &ctx, sub, p, b, t);
            if (!rc) b++;
        }
        if (!rc) continue;
        ok = 0; /* b: the failing block (the pass fails: t's nodes are not used) */
        pthread_mutex_lock(&j->mu);
        if (rc == WB_ECANCELED) {
            if (b < j->bad_cancel) {
                j->bad_cancel = b;
                j->rc_cancel = rc;
                snprintf(j->msg_cancel, sizeof j->msg_cancel, "%s", wb_errmsg());
            }
        } else if (b < atomic_load(&j->bad)) {
            atomic_store(&j->bad, b);
            j->rc = rc;
            snprintf(j->msg, sizeof j->msg, "%s", wb_errmsg());
        }
        pthread_mutex_unlock(&j->mu);
    }
    wb__in_kernel--;
    if (top && ran) wb_activity_task(j->kernel, t0, wb_now(), ok);
    free(sub);
    if (ctx.inl) wb_exec_unref(ctx.inl);
    pthread_mutex_lock(&j->mu);
    if (--j->left == 0) pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static int l_map_sum(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra, int nextra,
                     const void *arg, size_t arglen, double *out, size_t len)
{
    local_impl *im = L(ex);
    int rc = wb_ds_check_aligned(d);
    if (rc) return rc;
    const int64_t B = WB_BLOCK_ROWS, nblocks = (d->n + B - 1) / B;
    const int np = d->nparts, nin = 1 + nextra;
    if (np == 0 || nblocks == 0) { /* no task would run */
        if (len) memset(out, 0, len * sizeof(double));
        return 0;
    }
    msjob j = {.im = im, .kernel = kernel, .fn = wb_kernel_find(kernel), .arg = arg, .arglen = arglen, .len = len,
               .nin = nin, .nparts = np, .nblocks = nblocks, .bad_cancel = nblocks};
    if (!j.fn) return wb_seterr(WB_ENOTFOUND, "no kernel named '%s'", kernel);
    /* runs: at most 32 a thread (a thread idles at the end for at most the
     * last, small run), their nodes within 64 MB: the runs of 2^shift, and
     * the smaller runs of the end, at most 2 x threads per size */
#define MS_RUNS(sh) ((nblocks + ((int64_t)1 << (sh)) - 1) >> (sh))
#define MS_FITS(n) ((n) * (int64_t)(len ? len : 1) <= ((int64_t)8 << 20))
    const int64_t T = im->nthreads;
    while (MS_RUNS(j.shift) > 32 * T) j.shift++;
    while (j.shift < 62 && !MS_FITS(MS_RUNS(j.shift))) j.shift++;
    j.tail = 0;
    while (j.tail < j.shift && !MS_FITS(MS_RUNS(j.shift) + 2 * T * (j.shift - j.tail + 1))) j.tail++;
    const int64_t nruns = MS_RUNS(j.shift);
#undef MS_RUNS
#undef MS_FITS
    atomic_init(&j.next, 0);
    atomic_init(&j.bad, nblocks);
    atomic_init(&j.slot, 0);
    wb_obj *obj = calloc((size_t)np * (size_t)nin, sizeof *obj);
    wb_oid *ids = calloc((size_t)np * (size_t)nin, sizeof *ids);
    int64_t *pb = calloc((size_t)np + 1, sizeof *pb);
    const int nthr = im->nthreads < nruns ? im->nthreads : (int)nruns;
    j.nthreads = nthr;
    j.runs = calloc((size_t)nthr, sizeof *j.runs);
    int held = 0;
    if (!obj || !ids || !pb || !j.runs) rc = wb_seterr(WB_ENOMEM, "out of memory");
    /* the inputs, waited for and held as a task holds them */
    for (int p = 0; !rc && p < np; p++) {
        ids[(size_t)p * nin] = d->parts[p].oid;
        for (int e = 0; e < nextra; e++) ids[(size_t)p * nin + 1 + e] = extra[e];
        pb[p] = d->parts[p].row0 / B;
        for (int i = 0; !rc && i < nin; i++) {
            size_t k = (size_t)p * nin + i;
            rc = wb_store_wait(im->store, ids[k]);
            if (!rc) rc = wb_store_acquire(im->store, ids[k], &obj[k]);
            if (!rc) held++;
        }
        if (!rc && obj[(size_t)p * nin].type != WB_OBJ_PART)
            rc = wb_seterr(WB_EINVAL, "%s: a block sum needs a partition as first input", kernel);
    }
    if (!rc) {
        pb[np] = nblocks;
        j.obj = obj;
        j.ids = ids;
        j.pb = pb;
        pthread_mutex_init(&j.mu, NULL);
        pthread_cond_init(&j.cv, NULL);
        j.left = nthr;
        rc = queue_jobs(im, ms_runner, &j, nthr);
        if (!rc) {
            pthread_mutex_lock(&j.mu);
            while (j.left) pthread_cond_wait(&j.cv, &j.mu);
            pthread_mutex_unlock(&j.mu);
            if (atomic_load(&j.bad) < nblocks)
                rc = wb_seterr(j.rc, "%s", j.msg);
            else if (j.bad_cancel < nblocks)
                rc = wb_seterr(j.rc_cancel, "%s", j.msg_cancel);
        }
        pthread_mutex_destroy(&j.mu);
        pthread_cond_destroy(&j.cv);
    }
    for (int k = 0; k < held; k++) wb_store_unref(im->store, ids[k]);
    wb_treesum *t = rc ? NULL : wb_treesum_new(len, nblocks);
    if (!rc && !t) rc = wb_seterr(WB_ENOMEM, "out of memory");
    for (int r = 0; j.runs && r < nthr; r++) {
        if (!rc && !j.runs[r]) rc = wb_seterr(WB_ENOMEM, "out of memory");
        if (!rc) rc = wb__treesum_take(t, j.runs[r]);
        wb_treesum_free(j.runs[r]);
    }
    if (!rc) rc = wb_treesum_result(t, out);
    wb_treesum_free(t);
    free(j.runs);
    free(obj);
    free(ids);
    free(pb);
    return rc;
}

static const wb_exec_vt local_vt = {"local", l_put, l_put_part, l_get, l_ref, l_release,
                                    l_submit, l_wait, l_stat, l_info, l_destroy, l_map_sum};

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
