/* exec_local.c — the local executor: a pool of threads in this process over
 * one object store. Tasks run in submission order (FIFO), so a task's inputs
 * produced by earlier tasks are ready or being made when it starts. Kernels
 * run single-threaded; BLAS is set to one thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct local_impl {
    wb_store *store;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    qtask *head, *tail;
    int nthreads;
    pthread_t *threads;
    int stopping;
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

static void *worker_main(void *arg)
{
    local_impl *im = arg;
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
        pthread_mutex_unlock(&im->mu);
        /* the queue's references to the inputs and the result go with the run */
        wb__task_run_owned(im->store, &q->t, q->fn, q->out);
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
        int err = pthread_create(&im->threads[i], &a, worker_main, im);
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
