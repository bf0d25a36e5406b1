/* cluster/worker.c — `wb worker`: joins a head, runs kernels on its own
 * thread pool over its own object store, and serves its objects to peers.
 *
 * The loop thread owns every connection: the head's, the data port (other
 * workers and drivers fetch objects here, drivers put them), and outgoing
 * connections to other workers' data ports for the inputs this worker lacks.
 * A task goes to the pool only once all its inputs are in the local store,
 * so pool threads never wait on the network; results go back to the loop
 * through a queue and an async handle, and from there to the head in batches
 * (a task given to an idle pool is waited for a few microseconds first, so a
 * short one's result needs no wake-up of the loop: spin_for_result).
 * Objects move as an OBJ/PUT frame followed by their raw bytes, read straight
 * into the buffer that the store then keeps. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cluster_internal.h"
#include "fetch.h"
#include "map.h"

typedef struct wblob {
    int refs; /* loop thread only */
    size_t len;
    unsigned char data[];
} wblob;

typedef struct wtask {
    uint64_t oid;
    const char *kernel; /* interned */
    wb_kernel_fn fn;
    uint8_t mode;
    uint64_t sumlen;
    int64_t out_rows;
    uint32_t nin;
    uint64_t *in;
    int nref; /* inputs referenced so far */
    wblob *arg;
    uint32_t nmissing;
    int dead; /* an input could not be fetched */
    int rc;
    char *err;
    struct wtask *next;
} wtask;

typedef struct fetch {
    uint64_t oid;
    uint32_t holders[WB_PROTO_MAX_HOLDERS];
    int nholders, next;
    uint32_t trying;
    wtask **waiters;
    int nwaiters, capwaiters;
    int pull, started;
    int code;
    char err[300];
    wb_wstat stat;
} fetch;

typedef struct winfo {
    uint32_t id;
    char host[64];
    int port;
} winfo;

typedef struct wworker {
    uv_loop_t *loop;
    wb_net net;
    const wb_worker_opts *o;
    char head_addr[160];
    struct sockaddr_storage head_sa;
    wb_conn *head;
    int welcomed;
    uint32_t id;
    int heartbeat_ms;
    uv_tcp_t server;
    int server_on;
    char data_host[64];
    int data_port;
    wb_store *store;
    uint64_t mem_limit;
    wb_omap held;    /* oid -> (void*)1: objects this worker holds for the cluster */
    wb_omap fetches; /* oid -> fetch */
    wb_omap peers;   /* worker id -> wb_fetcher: connections to other workers' data ports */
    wb_omap winfos;  /* worker id -> winfo */
    char **knames;
    size_t nk, capk;
    /* pool */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wtask *qh, *qt, *dh, *dt;
    int stop, running, queued;
    pthread_t *threads;
    int nthreads;
    uv_async_t async;
    uv_timer_t hb, retry;
    uv_signal_t sigint, sigterm;
    double started;
    int exit_code;
    int stopping;
    uint64_t done, failed;
    /* batches to the head: DONE, HOLD and INPUT_LOST entries */
    wb_list bdone, bhold, blost;
    uv_check_t check;
    /* a task given to an idle pool in this loop turn: the loop thread waits
     * for its result a few microseconds before it sleeps (spin_until, ns of
     * uv_hrtime; 0: none); while it does (spinning, under mu) the pool does
     * not wake it through the async handle */
    uint64_t spin_until;
    int spinning;
    int spin_ok; /* fewer pool threads than cores: a spinning loop takes no pool thread's core */
    int spin_skip, spin_backoff; /* a wait in vain leaves out the next 1, 2, 4 ... 64 */
} wworker;

static wworker *the_worker;

/* a buffer for an object arriving from the network: the buffer of an object
 * freed here lately when one fits (its pages are already there: a fresh one
 * costs a page fault and the zeroing of every page, which on a virtual
 * machine can cost more than the transfer itself); large ones are otherwise
 * aligned to 2 MB and asked to use transparent huge pages (fewer page faults
 * while the bytes land); freed with free() like any store buffer */
static void *recv_buffer(wworker *w, size_t n)
{
    if (n < ((size_t)4 << 20)) return malloc(n ? n : 1);
    void *p = wb_store_take_buffer(w->store, n);
    if (p) return p;
    size_t a = (size_t)2 << 20, sz = (n + a - 1) / a * a;
    p = aligned_alloc(a, sz);
    if (p) madvise(p, sz, MADV_HUGEPAGE);
    return p;
}

/* freed buffers kept for objects arriving: at most an eighth of the memory
 * (within --memory-limit), each for at most KEEP_SECONDS */
#define KEEP_SECONDS 10.0

static void worker_log(int level, const char *msg)
{
    wworker *w = the_worker;
    if (level < WB_LOG_WARN && (level == WB_LOG_DEBUG || (w && w->o->quiet))) return;
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char ts[16];
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    if (w && w->id)
        fprintf(stderr, "%s wb worker %u: %s%s\n", ts, w->id, level >= WB_LOG_ERROR ? "error: " : level == WB_LOG_WARN ? "warning: " : "", msg);
    else
        fprintf(stderr, "%s wb worker: %s%s\n", ts, level >= WB_LOG_ERROR ? "error: " : level == WB_LOG_WARN ? "warning: " : "", msg);
    fflush(stderr);
}

static void worker_stop(wworker *w, int code)
{
    if (w->stopping) return;
    w->stopping = 1;
    w->exit_code = code;
    wb_interrupt(); /* running kernels that check for it stop early */
    uv_stop(w->loop);
}

/* ------------------------------------------------------- head messages */

static void flush_batches(wworker *w)
{
    wb_list *all[] = {&w->bdone, &w->bhold, &w->blost};
    int up = w->head && w->head->state == WB_CS_READY;
    for (size_t i = 0; i < 3; i++) {
        if (up && all[i]->n) {
            wb_wr wr = wb_conn_wr(w->head);
            if (wb_enc_list(&wr, all[i]) == 0) wb_conn_mark(w->head);
        }
        wb_list_clear(all[i]);
    }
}

static void spin_for_result(wworker *w);

static void on_check(uv_check_t *c)
{
    wworker *w = c->data;
    spin_for_result(w);
    flush_batches(w);
    wb_net_flush(&w->net);
}

static void add_done(wworker *w, uint64_t oid, int code, const char *msg)
{
    wb_m_done1 d;
    memset(&d, 0, sizeof d);
    wb_objstat st;
    int have = code == 0 && wb_store_stat(w->store, oid, &st) == 0;
    if (code == 0 && !have) {
        code = WB_EINTERNAL;
        msg = wb_errmsg();
    }
    d.oid = oid;
    d.code = code;
    d.worker = w->id;
    if (have) wb_wstat_from(&d.stat, &st);
    d.msg = wb_pstr_z(code ? (msg && *msg ? msg : wb_strerror(code)) : "");
    /* small results travel with the message (a partition's rows, then its labels) */
    wb_obj obj;
    if (have && st.size <= WB_PROTO_INLINE_MAX && wb_store_acquire(w->store, oid, &obj) == 0) {
        d.has_inline = 1;
        const void *tail = NULL;
        size_t ntail = 0;
        if (obj.type == WB_OBJ_BYTES) {
            d.data.p = obj.data;
            d.data.len = (uint32_t)obj.size;
        } else {
            d.data.p = (const char *)obj.part.x;
            d.data.len = (uint32_t)((size_t)obj.part.rows * (size_t)obj.part.cols * 8);
            if (obj.part.y) {
                tail = obj.part.y;
                ntail = (size_t)obj.part.rows * 8;
            }
        }
        wb_enc_done1(&w->bdone, &d, tail, ntail);
        wb_store_unref(w->store, oid);
    } else {
        wb_enc_done1(&w->bdone, &d, NULL, 0);
    }
    if (w->bdone.b.len > (16u << 20)) flush_batches(w);
}

static void add_hold(wworker *w, uint64_t oid)
{
    wb_objstat st;
    if (wb_store_stat(w->store, oid, &st)) return;
    wb_m_obj1 e = {oid, 0, {0}};
    wb_wstat_from(&e.stat, &st);
    wb_enc_obj1(&w->bhold, &e);
}

static void add_lost(wworker *w, uint64_t task, uint64_t input, uint32_t holder, int code, const char *msg)
{
    wb_m_loc1 e = {task, code ? code : WB_ENET, holder, input, wb_pstr_z(msg)};
    wb_enc_loc1(&w->blost, &e);
}

static void hold(wworker *w, uint64_t oid) { wb_omap_put(&w->held, oid, (void *)1); }

/* ------------------------------------------------------------------ pool */

static void *pool_main(void *arg)
{
    wworker *w = arg;
    static int next_slot; /* the dashboard's thread lanes */
    wb_activity_set_thread(__atomic_fetch_add(&next_slot, 1, __ATOMIC_RELAXED));
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->qh && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->qh) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        wtask *t = w->qh;
        w->qh = t->next;
        if (!w->qh) w->qt = NULL;
        w->queued--;
        w->running++;
        pthread_mutex_unlock(&w->mu);
        wb_task task = {t->kernel, t->in, (int)t->nin, t->arg ? t->arg->data : NULL, t->arg ? t->arg->len : 0,
                        t->mode, (size_t)t->sumlen, t->out_rows};
        wb_clearerr();
        t->rc = wb_task_run(w->store, &task, t->fn, t->oid);
        if (t->rc) t->err = wb_strdup(wb_errmsg());
        pthread_mutex_lock(&w->mu);
        t->next = NULL;
        if (w->dt) w->dt->next = t;
        else __atomic_store_n(&w->dh, t, __ATOMIC_RELEASE); /* (the spinning loop thread reads it unlocked) */
        w->dt = t;
        w->running--;
        int wake = !w->spinning; /* a spinning loop thread takes it itself */
        pthread_mutex_unlock(&w->mu);
        if (wake) uv_async_send(&w->async);
    }
}

/* the loop thread waits for a task it gave to an idle pool at most this
 * long before it goes back to sleep: a short task's result then goes out
 * without the pool waking the loop (one thread wake-up less per task) */
#define SPIN_NS 30000

static void pool_push(wworker *w, wtask *t)
{
    pthread_mutex_lock(&w->mu);
    int idle = !w->running && !w->queued;
    t->next = NULL;
    if (w->qt) w->qt->next = t;
    else w->qh = t;
    w->qt = t;
    w->queued++;
    pthread_mutex_unlock(&w->mu);
    /* signalled after the unlock: the woken thread does not then block on the
     * mutex still held here (a second wake-up) */
    pthread_cond_signal(&w->cv);
    if (w->spin_ok) w->spin_until = idle && !w->spin_until ? uv_hrtime() + SPIN_NS : 1;
}

static void task_free(wworker *w, wtask *t)
{
    for (int i = 0; i < t->nref; i++) wb_store_unref(w->store, t->in[i]);
    if (t->arg && --t->arg->refs == 0) free(t->arg);
    free(t->in);
    free(t->err);
    free(t);
}

static void tasks_done(wworker *w, wtask *t);

static void on_async(uv_async_t *a)
{
    wworker *w = a->data;
    pthread_mutex_lock(&w->mu);
    wtask *t = w->dh;
    w->dh = w->dt = NULL;
    pthread_mutex_unlock(&w->mu);
    tasks_done(w, t);
}

/* after a loop turn that gave one task to an idle pool (spin_until set by
 * pool_push; 1: more than one task, no wait): wait a few microseconds for its
 * result, which then goes to the head in this turn's batch */
static void spin_for_result(wworker *w)
{
    uint64_t until = w->spin_until;
    w->spin_until = 0;
    if (until <= 1 || w->stopping) return;
    if (w->spin_skip > 0) {
        w->spin_skip--;
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->spinning = 1;
    pthread_mutex_unlock(&w->mu);
    while (!__atomic_load_n(&w->dh, __ATOMIC_ACQUIRE) && uv_hrtime() < until) {
        wb__spin_pause();
    }
    pthread_mutex_lock(&w->mu);
    w->spinning = 0;
    wtask *t = w->dh; /* what came while spinning: the pool did not wake the loop for it */
    w->dh = w->dt = NULL;
    pthread_mutex_unlock(&w->mu);
    if (t) w->spin_backoff = 0;
    else {
        w->spin_backoff = w->spin_backoff ? (w->spin_backoff < 64 ? 2 * w->spin_backoff : 64) : 1;
        w->spin_skip = w->spin_backoff;
    }
    tasks_done(w, t);
}

static void tasks_done(wworker *w, wtask *t)
{
    while (t) {
        wtask *nx = t->next;
        if (t->rc == 0) {
            w->done++;
            hold(w, t->oid);
            add_done(w, t->oid, 0, NULL);
        } else {
            w->failed++;
            add_done(w, t->oid, t->rc, t->err);
            wb_store_unref(w->store, t->oid); /* a failed result is not kept */
        }
        task_free(w, t);
        t = nx;
    }
}

/* -------------------------------------------------------------- fetching */

static void fetch_next(wworker *w, fetch *f);
static wb_fetcher *get_peer(wworker *w, uint32_t id);

/* take a task out of every fetch that lists it (a rare path: a failed fetch) */
static void unlist_task(wworker *w, wtask *t)
{
    for (size_t k = 0; k < w->fetches.cap; k++) {
        if (!w->fetches.keys[k]) continue;
        fetch *g = w->fetches.vals[k];
        for (int j = 0; j < g->nwaiters; j++)
            if (g->waiters[j] == t) g->waiters[j--] = g->waiters[--g->nwaiters];
    }
}

static void fetch_done(wworker *w, fetch *f, int code)
{
    wb_omap_del(&w->fetches, f->oid);
    if (code == 0) {
        hold(w, f->oid);
        add_hold(w, f->oid);
        for (int i = 0; i < f->nwaiters; i++) {
            wtask *t = f->waiters[i];
            if (--t->nmissing == 0) pool_push(w, t);
        }
    } else {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", f->err[0] ? f->err : "no holder could send it");
        wb_store_fail(w->store, f->oid, code, msg);
        if (f->pull) add_lost(w, f->oid, f->oid, f->trying, code, msg);
        /* the tasks that needed it go back to the head */
        for (int i = 0; i < f->nwaiters; i++) {
            wtask *t = f->waiters[i];
            add_lost(w, t->oid, f->oid, f->trying, code, msg);
            wb_store_fail(w->store, t->oid, code, msg);
            wb_store_unref(w->store, t->oid);
            unlist_task(w, t);
            task_free(w, t);
        }
        wb_store_unref(w->store, f->oid); /* the fetch's own reference */
    }
    free(f->waiters);
    free(f);
}

static void fetch_fail_msg(fetch *f, int code, const char *fmt, ...) WB_PRINTF(3, 4);
static void fetch_fail_msg(fetch *f, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    f->code = code;
}

static void fetch_next(wworker *w, fetch *f)
{
    while (f->next < f->nholders) {
        uint32_t id = f->holders[f->next++];
        if (id == w->id) continue;
        wb_fetcher *p = get_peer(w, id);
        if (!p) {
            fetch_fail_msg(f, WB_ENET, "worker %u is not known here", id);
            continue;
        }
        f->trying = id;
        if (wb_fetcher_request(p, f->oid, f)) {
            fetch_fail_msg(f, WB_ENOMEM, "out of memory");
            continue;
        }
        return;
    }
    fetch_done(w, f, f->code ? f->code : WB_ENET);
}

/* a new fetch of oid from holders (the store entry is reserved by the caller) */
static fetch *fetch_new(wworker *w, uint64_t oid, const uint32_t *holders, int n)
{
    fetch *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->oid = oid;
    f->nholders = n > WB_PROTO_MAX_HOLDERS ? WB_PROTO_MAX_HOLDERS : n;
    memcpy(f->holders, holders, (size_t)f->nholders * sizeof *holders);
    wb_omap_put(&w->fetches, oid, f);
    return f;
}

static void fetch_add_waiter(fetch *f, wtask *t)
{
    if (f->nwaiters == f->capwaiters) {
        int cap = f->capwaiters ? f->capwaiters * 2 : 4;
        wtask **p = realloc(f->waiters, (size_t)cap * sizeof *p);
        if (!p) return;
        f->waiters = p;
        f->capwaiters = cap;
    }
    f->waiters[f->nwaiters++] = t;
}

/* --------------------------------------------------- peer data connections */

/* the answer to a fetch is an object of this shape: where its bytes go */
static unsigned char *peer_obj(wb_fetcher *p, void *req, const wb_wstat *stat)
{
    wworker *w = p->net->loop->data;
    fetch *f = req;
    f->stat = *stat;
    size_t used = wb_store_bytes(w->store);
    if (w->mem_limit && used + stat->size > w->mem_limit) {
        char a[32], b2[32], c2[32];
        wb_size_format(stat->size, a, sizeof a);
        wb_size_format(used, b2, sizeof b2);
        wb_size_format(w->mem_limit, c2, sizeof c2);
        fetch_fail_msg(f, WB_ELIMIT,
                       "worker %u at %s:%d: memory limit: an object of %s would bring its store to more than "
                       "its limit of %s (%s used)",
                       w->id, w->data_host, w->data_port, a, c2, b2);
        f->nholders = 0; /* no other holder can change that */
        return NULL;
    }
    unsigned char *buf = recv_buffer(w, (size_t)stat->size);
    if (!buf) {
        fetch_fail_msg(f, WB_ENOMEM, "worker %u: out of memory for an object of %llu bytes", w->id,
                       (unsigned long long)stat->size);
        f->nholders = 0;
    }
    return buf;
}

/* the fetched bytes arrived: into the store */
static void peer_body(wb_fetcher *p, void *req, unsigned char *buf)
{
    wworker *w = p->net->loop->data;
    fetch *f = req;
    if (!buf) { /* thrown away (memory limit) */
        fetch_done(w, f, f->code ? f->code : WB_ELIMIT);
        return;
    }
    int rc;
    if (f->stat.type == WB_OBJ_BYTES) {
        rc = wb_store_fulfill_bytes(w->store, f->oid, buf, (size_t)f->stat.size);
    } else {
        size_t nx = (size_t)f->stat.rows * (size_t)f->stat.cols;
        wb_part part = {f->stat.rows, f->stat.cols, f->stat.row0, (const double *)buf,
                        f->stat.has_y ? (const double *)buf + nx : NULL};
        rc = wb_store_fulfill_part(w->store, f->oid, &part, buf, NULL);
    }
    if (rc) {
        fetch_fail_msg(f, rc, "worker %u: %s", w->id, wb_errmsg());
        f->nholders = 0;
        fetch_done(w, f, rc);
        return;
    }
    fetch_done(w, f, 0);
}

/* the holder does not have it: the next holder */
static void peer_refused(wb_fetcher *p, void *req, int code, const char *msg)
{
    wworker *w = p->net->loop->data;
    fetch *f = req;
    fetch_fail_msg(f, code, "worker %u: %s", p->id, msg);
    fetch_next(w, f);
}

static void peer_close(wb_fetcher *p, int code, const char *why)
{
    (void)code;
    (void)why;
    wworker *w = p->net->loop->data;
    wb_omap_del(&w->peers, p->id);
}

/* requests not answered go to their next holder */
static void peer_lost(wb_fetcher *p, void *req, const char *why)
{
    wworker *w = p->net->loop->data;
    fetch *f = req;
    fetch_fail_msg(f, WB_ENET, "worker %u: %s", p->id, why[0] ? why : "closed the connection");
    if (!w->stopping) fetch_next(w, f);
}

static const wb_fetch_cbs peer_cbs = {NULL, peer_obj, peer_body, peer_refused, peer_close, peer_lost};

static wb_fetcher *get_peer(wworker *w, uint32_t id)
{
    wb_fetcher *p = wb_omap_get(&w->peers, id);
    if (p) return p;
    winfo *wi = wb_omap_get(&w->winfos, id);
    if (!wi) return NULL;
    p = wb_fetcher_open(&w->net, id, wi->host, wi->port, 10000, &peer_cbs, w);
    if (!p) return NULL;
    wb_omap_put(&w->peers, id, p);
    return p;
}

/* ------------------------------------------------------- the data port */

typedef struct putctx {
    uint64_t oid;
    wb_wstat stat;
    unsigned char *buf;
    int refused;
    char err[400];
} putctx;

static void obj_sent(void *ctx, int status)
{
    (void)status;
    uint64_t *x = ctx;
    wworker *w = the_worker;
    if (w) wb_store_unref(w->store, x[0]);
    free(x);
}

static void serve_fetch(wworker *w, wb_conn *c, uint64_t oid)
{
    wb_obj o;
    int st = wb_store_state(w->store, oid);
    if (st != WB_ST_READY || !wb_omap_get(&w->held, oid) || wb_store_acquire(w->store, oid, &o)) {
        char msg[200];
        snprintf(msg, sizeof msg, "does not hold object %llx", (unsigned long long)oid);
        wb_m_loc1 e = {oid, WB_ENOTFOUND, w->id, 0, wb_pstr_z(msg)};
        wb_m_locs m = {1, &e};
        wb_wr wr = wb_conn_wr(c);
        wb_enc_locs(&wr, WB_M_OBJ_ERR, &m);
        wb_conn_mark(c);
        return;
    }
    wb_objstat os = {0};
    os.type = o.type;
    os.size = o.size;
    if (o.type == WB_OBJ_PART) {
        os.rows = o.part.rows;
        os.cols = o.part.cols;
        os.row0 = o.part.row0;
        os.has_y = o.part.y != NULL;
    }
    wb_buf fb = {0};
    wb_wr wr = {&fb, 0};
    wb_m_obj m = {oid, {0}};
    wb_wstat_from(&m.stat, &os);
    wb_enc_obj(&wr, WB_M_OBJ, &m);
    uv_buf_t bufs[2]; /* len is a size_t on Unix: no 4 GB limit */
    int nb = 0;
    if (o.type == WB_OBJ_BYTES) {
        if (o.size) {
            bufs[nb].base = (char *)o.data;
            bufs[nb++].len = o.size;
        }
    } else {
        size_t nx = (size_t)o.part.rows * (size_t)o.part.cols * 8;
        if (nx) {
            bufs[nb].base = (char *)o.part.x;
            bufs[nb++].len = nx;
        }
        if (o.part.y && o.part.rows) {
            bufs[nb].base = (char *)o.part.y;
            bufs[nb++].len = (size_t)o.part.rows * 8;
        }
    }
    uint64_t *ctx = malloc(sizeof *ctx);
    if (!ctx) {
        wb_store_unref(w->store, oid);
        wb_buf_free(&fb);
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return;
    }
    ctx[0] = oid;
    wb_conn_send_raw(c, &fb, bufs, nb, obj_sent, ctx);
    wb_buf_free(&fb);
}

static int data_frame(wb_conn *c, int type, const unsigned char *b, size_t n)
{
    wworker *w = c->net->loop->data;
    if (type == WB_M_FETCH) {
        wb_m_oids m;
        if (wb_dec_oids(b, n, &m)) return -1;
        for (uint32_t i = 0; i < m.n && c->state != WB_CS_CLOSED; i++) serve_fetch(w, c, wb_m_oid_at(&m, i));
        return 0;
    }
    if (type == WB_M_PUT) {
        wb_m_obj m;
        if (wb_dec_obj(b, n, &m)) return -1;
        if ((m.oid >> 40) >= (1u << 22)) return wb_seterr(WB_EPROTO, "PUT of object %llx: not a driver's id", (unsigned long long)m.oid);
        putctx *p = calloc(1, sizeof *p);
        if (!p) return wb_seterr(WB_ENOMEM, "out of memory");
        p->oid = m.oid;
        p->stat = m.stat;
        size_t used = wb_store_bytes(w->store);
        if (w->mem_limit && used + m.stat.size > w->mem_limit) {
            char a[32], b2[32], c2[32];
            wb_size_format(m.stat.size, a, sizeof a);
            wb_size_format(used, b2, sizeof b2);
            wb_size_format(w->mem_limit, c2, sizeof c2);
            snprintf(p->err, sizeof p->err,
                     "worker %u at %s:%d: memory limit: an object of %s would bring its store to more than its "
                     "limit of %s (%s used)",
                     w->id, w->data_host, w->data_port, a, c2, b2);
            p->refused = 1;
            wb_conn_recv_raw(c, NULL, (size_t)m.stat.size, p);
            return 0;
        }
        p->buf = recv_buffer(w, (size_t)m.stat.size);
        if (!p->buf) {
            snprintf(p->err, sizeof p->err, "worker %u: out of memory for an object of %llu bytes", w->id,
                     (unsigned long long)m.stat.size);
            p->refused = 1;
            wb_conn_recv_raw(c, NULL, (size_t)m.stat.size, p);
            return 0;
        }
        wb_conn_recv_raw(c, p->buf, (size_t)m.stat.size, p);
        return 0;
    }
    return wb_seterr(WB_EPROTO, "%s sent %s to the data port", c->peer, wb_msg_name(type));
}

static void data_raw(wb_conn *c, void *ctx)
{
    wworker *w = c->net->loop->data;
    putctx *p = ctx;
    if (p->refused) {
        wb_log(WB_LOG_WARN, "refused an object from %s: %s", c->peer, p->err);
        add_done(w, p->oid, WB_ELIMIT, p->err);
        free(p);
        return;
    }
    int rc = wb_store_reserve_id(w->store, p->oid);
    if (rc == WB_EEXIST) { /* put again: keep what is here */
        free(p->buf);
        add_hold(w, p->oid);
        free(p);
        return;
    }
    if (!rc) {
        if (p->stat.type == WB_OBJ_BYTES) {
            rc = wb_store_fulfill_bytes(w->store, p->oid, p->buf, (size_t)p->stat.size);
        } else {
            size_t nx = (size_t)p->stat.rows * (size_t)p->stat.cols;
            wb_part part = {p->stat.rows, p->stat.cols, p->stat.row0, (const double *)p->buf,
                            p->stat.has_y ? (const double *)p->buf + nx : NULL};
            rc = wb_store_fulfill_part(w->store, p->oid, &part, p->buf, NULL);
        }
        p->buf = NULL;
        if (rc) wb_store_unref(w->store, p->oid);
    } else {
        free(p->buf);
    }
    if (rc) {
        add_done(w, p->oid, rc, wb_errmsg());
    } else {
        hold(w, p->oid);
        add_hold(w, p->oid);
    }
    free(p);
}

static void data_close(wb_conn *c, int code, const char *why)
{
    (void)c;
    (void)code;
    (void)why;
}

static const wb_conn_cbs data_cbs = {NULL, data_frame, data_raw, data_close};

static void on_data_connection(uv_stream_t *s, int status)
{
    wworker *w = s->data;
    if (status < 0) return;
    wb_conn_accept(&w->net, s, &data_cbs, w, WB_ROLE_WORKER, 1u << WB_ROLE_PEER);
}

/* ----------------------------------------------------- from the head */

static const char *intern(wworker *w, wb_pstr s)
{
    for (size_t i = 0; i < w->nk; i++)
        if (wb_pstr_eq(s, w->knames[i])) return w->knames[i];
    if (w->nk == w->capk) {
        size_t cap = w->capk ? w->capk * 2 : 64;
        char **p = realloc(w->knames, cap * sizeof *p);
        if (!p) return NULL;
        w->knames = p;
        w->capk = cap;
    }
    char *k = malloc(s.len + 1);
    if (!k) return NULL;
    wb_pstr_copy(s, k, s.len + 1);
    w->knames[w->nk++] = k;
    return k;
}

static int on_tasks(wworker *w, const unsigned char *b, size_t n)
{
    wb_m_tasks m;
    if (wb_dec_tasks(b, n, &m)) return -1;
    wblob **args = calloc(m.nargs ? m.nargs : 1, sizeof *args);
    if (!args) {
        wb_m_tasks_free(&m);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < m.ntasks; i++) {
        wb_m_task *mt = &m.tasks[i];
        const char *kname = intern(w, m.kernels[mt->kernel]);
        wb_kernel_fn fn = kname ? wb_kernel_find(kname) : NULL;
        if (!fn) {
            char msg[300];
            char kn[WB_PROTO_MAX_NAME + 1];
            wb_pstr_copy(m.kernels[mt->kernel], kn, sizeof kn);
            snprintf(msg, sizeof msg, "worker %u has no kernel named '%s'", w->id, kn);
            add_done(w, mt->oid, WB_ENOTFOUND, msg);
            continue;
        }
        int rc = wb_store_reserve_id(w->store, mt->oid);
        if (rc == WB_EEXIST) {
            if (wb_store_state(w->store, mt->oid) == WB_ST_READY) add_done(w, mt->oid, 0, NULL);
            continue;
        }
        if (rc) {
            add_done(w, mt->oid, rc, wb_errmsg());
            continue;
        }
        wtask *t = calloc(1, sizeof *t);
        uint64_t *in = mt->nin ? malloc(mt->nin * sizeof *in) : NULL;
        if (!t || (mt->nin && !in)) {
            free(t);
            free(in);
            wb_store_fail(w->store, mt->oid, WB_ENOMEM, "out of memory");
            add_done(w, mt->oid, WB_ENOMEM, "out of memory");
            wb_store_unref(w->store, mt->oid);
            continue;
        }
        t->oid = mt->oid;
        t->kernel = kname;
        t->fn = fn;
        t->mode = mt->mode;
        t->sumlen = mt->sumlen;
        t->out_rows = mt->out_rows;
        t->nin = mt->nin;
        t->in = in;
        if (mt->arg != WB_NO_ARG) {
            if (!args[mt->arg]) {
                wblob *a = malloc(sizeof *a + m.args[mt->arg].len);
                if (a) {
                    a->refs = 1; /* the batch's */
                    a->len = m.args[mt->arg].len;
                    memcpy(a->data, m.args[mt->arg].p, a->len);
                }
                args[mt->arg] = a;
            }
            t->arg = args[mt->arg];
            if (t->arg) t->arg->refs++;
        }
        for (uint32_t k = 0; k < mt->nin; k++) {
            uint64_t oid = mt->in[k].oid;
            in[k] = oid;
            int st = wb_store_state(w->store, oid);
            if (st == WB_ST_READY) {
                wb_store_ref(w->store, oid);
                t->nref++;
                continue;
            }
            fetch *f = wb_omap_get(&w->fetches, oid);
            if (st == WB_ST_PENDING && f) {
                wb_store_ref(w->store, oid);
                t->nref++;
                t->nmissing++;
                fetch_add_waiter(f, t);
                continue;
            }
            if (st >= 0 || mt->in[k].nholders == 0) {
                /* not here (or a stale failed copy) and nobody to ask */
                char msg[200];
                snprintf(msg, sizeof msg, "worker %u does not hold input %llx", w->id, (unsigned long long)oid);
                add_lost(w, t->oid, oid, 0, WB_ENOTFOUND, msg);
                t->dead = 1;
                break;
            }
            if (wb_store_reserve_id(w->store, oid)) {
                add_lost(w, t->oid, oid, 0, WB_ENOMEM, wb_errmsg());
                t->dead = 1;
                break;
            }
            wb_store_ref(w->store, oid);
            t->nref++;
            f = fetch_new(w, oid, mt->in[k].holders, mt->in[k].nholders);
            if (!f) {
                wb_store_unref(w->store, oid);
                add_lost(w, t->oid, oid, 0, WB_ENOMEM, "out of memory");
                t->dead = 1;
                break;
            }
            t->nmissing++;
            fetch_add_waiter(f, t);
            /* fetch_next runs after the whole task is set up (it may fail at once) */
        }
        if (t->dead) {
            unlist_task(w, t);
            /* fetches made for it alone and not started are abandoned */
            for (int k = 0; k < t->nref; k++) {
                fetch *f = wb_omap_get(&w->fetches, t->in[k]);
                if (f && !f->started && f->nwaiters == 0) {
                    wb_omap_del(&w->fetches, f->oid);
                    wb_store_fail(w->store, f->oid, WB_ENOTFOUND, "not fetched");
                    wb_store_unref(w->store, f->oid);
                    free(f->waiters);
                    free(f);
                }
            }
            wb_store_fail(w->store, t->oid, WB_ENOTFOUND, "input not available");
            wb_store_unref(w->store, t->oid);
            task_free(w, t);
            continue;
        }
        if (t->nmissing == 0) {
            pool_push(w, t);
            continue;
        }
        /* start the fetches this task created (each may complete or fail at once) */
        for (uint32_t k = 0; k < t->nin; k++) {
            fetch *f = wb_omap_get(&w->fetches, t->in[k]);
            if (f && !f->started) {
                f->started = 1;
                fetch_next(w, f);
            }
        }
    }
    for (uint32_t i = 0; i < m.nargs; i++)
        if (args[i] && --args[i]->refs == 0) free(args[i]);
    free(args);
    wb_m_tasks_free(&m);
    return 0;
}

static int on_pull(wworker *w, const unsigned char *b, size_t n)
{
    wb_m_pull m;
    if (wb_dec_pull(b, n, &m)) return -1;
    for (uint32_t i = 0; i < m.n; i++) {
        uint64_t oid = m.p[i].oid;
        if (wb_omap_get(&w->held, oid)) {
            add_hold(w, oid);
            continue;
        }
        fetch *f = wb_omap_get(&w->fetches, oid);
        if (f) {
            f->pull = 1;
            continue;
        }
        if (wb_store_reserve_id(w->store, oid)) {
            add_lost(w, oid, oid, 0, WB_ESTATE, wb_errmsg());
            continue;
        }
        f = fetch_new(w, oid, m.p[i].holders, m.p[i].nholders);
        if (!f) {
            wb_store_unref(w->store, oid);
            continue;
        }
        f->pull = 1;
        f->started = 1;
        fetch_next(w, f);
    }
    wb_m_pull_free(&m);
    return 0;
}

static void send_heartbeat(wworker *w)
{
    if (!w->head || w->head->state != WB_CS_READY) return;
    pthread_mutex_lock(&w->mu);
    int running = w->running, queued = w->queued;
    pthread_mutex_unlock(&w->mu);
    wb_m_heartbeat m = {wb_store_bytes(w->store), w->mem_limit, wb_store_count(w->store), (uint32_t)running,
                        (uint32_t)queued, w->done, w->failed, wb_current_rss()};
    wb_wr wr = wb_conn_wr(w->head);
    wb_enc_heartbeat(&wr, &m);
    wb_conn_mark(w->head);
}

/* WSTATS: the tasks run and log lines made since the last one, and the
 * CPU time, for the head's dashboard (sent with each heartbeat) */
#define WSTATS_TASKS 4096
#define WSTATS_LOGS 64
static uint64_t act_tasks, act_logs; /* what was sent so far (loop thread) */

static void send_wstats(wworker *w)
{
    if (!w->head || w->head->state != WB_CS_READY) return;
    wb_taskrec *t = malloc(WSTATS_TASKS * sizeof *t);
    wb_logrec *l = malloc(WSTATS_LOGS * sizeof *l);
    if (t && l) {
        int nt = wb_activity_tasks_since(&act_tasks, t, WSTATS_TASKS);
        int nl = wb_activity_logs_since(&act_logs, l, WSTATS_LOGS);
        wb_wr wr = wb_conn_wr(w->head);
        wb_enc_wstats(&wr, wb_now(), wb_process_cpu_seconds(), wb_current_rss(), t, nt, l, nl);
        wb_conn_mark(w->head);
    }
    free(t);
    free(l);
}

static void on_heartbeat(uv_timer_t *t)
{
    wworker *w = t->data;
    wb_net_trim(&w->net);
    wb_store_trim_buffers(w->store, KEEP_SECONDS);
    /* the head PINGs every heartbeat: silent for the head timeout, it is
     * gone or frozen (stopped, swapping): this worker stops waiting for it */
    if (w->head && w->head->state == WB_CS_READY) {
        double limit = w->o->head_timeout > 0 ? w->o->head_timeout : 30;
        if (limit < 3 * w->heartbeat_ms / 1000.0) limit = 3 * w->heartbeat_ms / 1000.0;
        uint64_t silent = uv_now(w->loop) - w->head->last_in;
        if (silent > (uint64_t)(limit * 1000)) {
            char why[200];
            snprintf(why, sizeof why, "it sent nothing for %.1f s (--head-timeout %g s)", silent / 1000.0, limit);
            wb_conn_close(w->head, WB_ETIMEDOUT, why);
            return;
        }
    }
    send_heartbeat(w);
    send_wstats(w);
}

static int head_frame(wb_conn *c, int type, const unsigned char *b, size_t n)
{
    wworker *w = c->data;
    switch (type) {
    case WB_M_WELCOME: {
        wb_m_welcome m;
        if (wb_dec_welcome(b, n, &m)) return -1;
        w->id = m.id;
        w->heartbeat_ms = (int)m.heartbeat_ms;
        wb_m_welcome_free(&m);
        w->welcomed = 1;
        wb_log(WB_LOG_INFO, "joined the head at %s (%d thread%s, data port %s:%d)", w->head_addr, w->nthreads,
               w->nthreads == 1 ? "" : "s", w->data_host, w->data_port);
        uv_timer_start(&w->hb, on_heartbeat, (uint64_t)w->heartbeat_ms, (uint64_t)w->heartbeat_ms);
        send_heartbeat(w);
        return 0;
    }
    case WB_M_WORKERS: {
        wb_m_workers m;
        if (wb_dec_workers(b, n, &m)) return -1;
        /* forget the workers that left (and drop connections to them) */
        for (size_t i = 0; i < w->winfos.cap; i++) {
            if (!w->winfos.keys[i]) continue;
            uint32_t id = (uint32_t)w->winfos.keys[i];
            int found = 0;
            for (uint32_t k = 0; k < m.n && !found; k++) found = m.w[k].id == id && m.w[k].alive;
            if (!found) {
                winfo *wi = w->winfos.vals[i];
                wb_fetcher *p = wb_omap_get(&w->peers, id);
                if (p) wb_fetcher_close(p, WB_ENET, "it left the cluster");
                wb_omap_del(&w->winfos, id);
                free(wi);
                i--; /* the map shifted entries back */
            }
        }
        for (uint32_t k = 0; k < m.n; k++) {
            if (!m.w[k].alive || wb_omap_get(&w->winfos, m.w[k].id)) continue;
            winfo *wi = calloc(1, sizeof *wi);
            if (!wi) continue;
            wi->id = m.w[k].id;
            wb_pstr_copy(m.w[k].host, wi->host, sizeof wi->host);
            wi->port = m.w[k].port;
            wb_omap_put(&w->winfos, wi->id, wi);
        }
        wb_m_workers_free(&m);
        return 0;
    }
    case WB_M_TASKS: return on_tasks(w, b, n);
    case WB_M_DROP: {
        wb_m_oids m;
        if (wb_dec_oids(b, n, &m)) return -1;
        for (uint32_t i = 0; i < m.n; i++) {
            uint64_t oid = wb_m_oid_at(&m, i);
            if (wb_omap_del(&w->held, oid)) wb_store_unref(w->store, oid);
        }
        return 0;
    }
    case WB_M_PULL: return on_pull(w, b, n);
    case WB_M_PING: return wb_dec_ping(b, n);
    case WB_M_REJECT: { /* the head is going away: so does this worker */
        wb_m_reject m;
        if (wb_dec_reject(b, n, &m)) return -1;
        char em[WB_PROTO_MAX_TEXT + 1];
        wb_pstr_copy(m.msg, em, sizeof em);
        if (m.code == WB_ESTATE) { /* an orderly stop */
            wb_log(WB_LOG_INFO, "%s; exiting", em);
            worker_stop(w, 0);
        } else {
            wb_log(WB_LOG_ERROR, "the head at %s refused this worker: %s", w->head_addr, em);
            worker_stop(w, 1);
        }
        return 0;
    }
    default: return wb_seterr(WB_EPROTO, "the head sent %s", wb_msg_name(type));
    }
}

static int start_data_port(wworker *w)
{
    struct sockaddr_storage local;
    int len = sizeof local;
    char host[64];
    if (w->o->host) {
        snprintf(host, sizeof host, "%s", w->o->host);
    } else {
        /* the address this machine uses to reach the head is the one others can reach */
        if (uv_tcp_getsockname(&w->head->tcp, (struct sockaddr *)&local, &len))
            return wb_seterr(WB_ENET, "cannot read the local address");
        char buf[96];
        wb_addr_str((struct sockaddr *)&local, buf, sizeof buf);
        char *colon = strrchr(buf, ':');
        if (colon) *colon = 0;
        if (buf[0] == '[') {
            memmove(buf, buf + 1, strlen(buf));
            char *rb = strchr(buf, ']');
            if (rb) *rb = 0;
        }
        snprintf(host, sizeof host, "%s", buf);
    }
    struct sockaddr_storage sa;
    if (wb_resolve_hp(host, 0, &sa)) return WB_ENET;
    uv_tcp_init(w->loop, &w->server);
    w->server.data = w;
    w->server_on = 1;
    int e = uv_tcp_bind(&w->server, (struct sockaddr *)&sa, 0);
    if (!e) e = uv_listen((uv_stream_t *)&w->server, 128, on_data_connection);
    if (e) return wb_seterr(WB_ENET, "cannot open a data port on %s: %s", host, uv_strerror(e));
    struct sockaddr_storage b;
    len = sizeof b;
    uv_tcp_getsockname(&w->server, (struct sockaddr *)&b, &len);
    w->data_port = b.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&b)->sin_port)
                                          : ntohs(((struct sockaddr_in6 *)&b)->sin6_port);
    snprintf(w->data_host, sizeof w->data_host, "%s", host);
    return 0;
}

static void head_ready(wb_conn *c)
{
    wworker *w = c->data;
    if (!w->server_on && start_data_port(w)) {
        wb_log(WB_LOG_ERROR, "%s", wb_errmsg());
        worker_stop(w, 1);
        return;
    }
    /* REGISTER: its threads, memory, data port, plugins and kernels */
    wb_m_register m = {(uint32_t)w->nthreads, w->mem_limit, wb_pstr_z(w->data_host), (uint16_t)w->data_port,
                       (uint32_t)getpid(), 0, NULL, 0, NULL};
    m.plugins = wb_plugins_here(&m.nplugins);
    int nk = wb_kernel_count();
    m.kernels = calloc(nk > 0 ? (size_t)nk : 1, sizeof *m.kernels);
    for (int i = 0; m.kernels && i < nk; i++) {
        const char *k = wb_kernel_name_at(i);
        if (k) m.kernels[m.nkernels++] = wb_pstr_z(k);
    }
    int rc = m.plugins && m.kernels ? 0 : wb_seterr(WB_ENOMEM, "out of memory");
    if (!rc) {
        wb_wr wr = wb_conn_wr(c);
        rc = wb_enc_register(&wr, &m);
    }
    free(m.plugins);
    free(m.kernels);
    if (rc) {
        wb_log(WB_LOG_ERROR, "%s", wb_errmsg());
        worker_stop(w, 1);
        return;
    }
    wb_conn_mark(c);
}

static void try_connect(wworker *w);
static void on_retry(uv_timer_t *t) { try_connect(t->data); }

static void head_close(wb_conn *c, int code, const char *why)
{
    wworker *w = c->data;
    w->head = NULL;
    if (w->stopping) return;
    if (w->welcomed) {
        wb_log(WB_LOG_ERROR, "lost the head at %s%s%s; exiting", w->head_addr, why[0] ? ": " : "", why);
        worker_stop(w, 1);
        return;
    }
    if (code == WB_EAUTH || code == WB_EPROTO || code == WB_EABI) {
        wb_log(WB_LOG_ERROR, "%s", why);
        worker_stop(w, 1);
        return;
    }
    if (wb_now() - w->started > w->o->connect_timeout) {
        wb_log(WB_LOG_ERROR, "cannot reach the head at %s: %s (gave up after %.0f s)", w->head_addr, why,
               w->o->connect_timeout);
        worker_stop(w, 1);
        return;
    }
    uv_timer_start(&w->retry, on_retry, 500, 0);
}

static const wb_conn_cbs head_cbs = {head_ready, head_frame, NULL, head_close};

static void try_connect(wworker *w)
{
    w->head = wb_conn_connect(&w->net, (struct sockaddr *)&w->head_sa, w->head_addr, &head_cbs, w, WB_ROLE_WORKER,
                              WB_ROLE_HEAD, 10000);
    if (!w->head) uv_timer_start(&w->retry, on_retry, 500, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
    wworker *w = s->data;
    wb_log(WB_LOG_INFO, "stopping (signal %d)", signum);
    worker_stop(w, 0);
}

void wb_worker_opts_init(wb_worker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout = 30;
    o->head_timeout = 30;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int wb_worker_run(const wb_worker_opts *o)
{
    wworker *w = calloc(1, sizeof *w);
    if (!w) return 1;
    the_worker = w;
    w->o = o;
    wb_list_init(&w->bdone, WB_M_DONE);
    wb_list_init(&w->bhold, WB_M_HOLD);
    wb_list_init(&w->blost, WB_M_INPUT_LOST);
    wb_set_log(worker_log);
    wb_cluster_kernels_init();
    w->started = wb_now();
    w->mem_limit = o->memory_limit;
    w->nthreads = o->threads > 0 ? o->threads : wb_ncpu();
    if (w->nthreads > 1024) w->nthreads = 1024;
    snprintf(w->head_addr, sizeof w->head_addr, "%s", o->address ? o->address : "");
    if (wb_resolve(w->head_addr, &w->head_sa, NULL, 0, NULL)) {
        fprintf(stderr, "wb worker: %s\n", wb_errmsg());
        free(w);
        the_worker = NULL;
        wb_set_log(NULL);
        return 1;
    }
    w->store = wb_store_new(((uint64_t)1 << 23) | (uint64_t)(getpid() & 0x3fffff));
    if (o->memory_limit) wb_store_set_limit(w->store, (size_t)o->memory_limit);
    wb_store_keep_buffers(w->store, wb__phys_bytes() / 8);
    uv_loop_t *loop = uv_default_loop();
    w->loop = loop;
    loop->data = w;
    if (wb_net_init(&w->net, loop, o->token, "worker") || wb_net_tls(&w->net, &o->tls)) {
        fprintf(stderr, "wb worker: %s\n", wb_errmsg());
        wb_net_close(&w->net);
        uv_run(loop, UV_RUN_DEFAULT);
        wb_store_free(w->store);
        free(w);
        the_worker = NULL;
        wb_set_log(NULL);
        return 1;
    }
    wb_net_limits(&w->net, o->max_connections, 0, 0);
    if (w->net.tls == WB_TLS_OFF) wb_tls_warn_off("worker", o->quiet);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    uv_async_init(loop, &w->async, on_async);
    w->async.data = w;
    uv_timer_init(loop, &w->hb);
    uv_timer_init(loop, &w->retry);
    w->hb.data = w->retry.data = w;
    uv_check_init(loop, &w->check);
    w->check.data = w;
    uv_check_start(&w->check, on_check);
    uv_signal_init(loop, &w->sigint);
    uv_signal_init(loop, &w->sigterm);
    w->sigint.data = w->sigterm.data = w;
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    w->threads = calloc((size_t)w->nthreads, sizeof *w->threads);
    int started = 0;
    for (int i = 0; w->threads && i < w->nthreads; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 8u << 20);
        if (pthread_create(&w->threads[i], &a, pool_main, w) == 0) started++;
        pthread_attr_destroy(&a);
    }
    w->nthreads = started;
    w->spin_ok = started < wb_ncpu();
    if (!started) {
        fprintf(stderr, "wb worker: could not start threads\n");
        w->exit_code = 1;
    } else {
        try_connect(w);
        uv_run(loop, UV_RUN_DEFAULT);
    }
    /* stop: the pool finishes what runs, then everything closes */
    w->stopping = 1;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    /* queued tasks are dropped */
    while (w->qh) {
        wtask *t = w->qh;
        w->qh = t->next;
        wb_store_unref(w->store, t->oid);
        task_free(w, t);
    }
    w->qt = NULL;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < started; i++) pthread_join(w->threads[i], NULL);
    free(w->threads);
    on_async(&w->async); /* results that arrived meanwhile */
    if (w->head) wb_conn_close(w->head, 0, "the worker is stopping");
    for (size_t i = 0; i < w->peers.cap; i++)
        if (w->peers.keys[i]) {
            wb_fetcher *p = w->peers.vals[i];
            wb_fetcher_close(p, 0, "the worker is stopping");
        }
    wb_net_close(&w->net);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    /* tasks still waiting for an input: a task may wait on several fetches,
     * so it leaves them all before it is freed (and before any fetch is) */
    for (size_t i = 0; i < w->fetches.cap; i++)
        if (w->fetches.keys[i]) {
            fetch *f = w->fetches.vals[i];
            while (f->nwaiters) {
                wtask *t = f->waiters[0];
                unlist_task(w, t);
                task_free(w, t);
            }
        }
    for (size_t i = 0; i < w->fetches.cap; i++)
        if (w->fetches.keys[i]) {
            fetch *f = w->fetches.vals[i];
            free(f->waiters);
            free(f);
        }
    wb_omap_free(&w->fetches);
    wb_omap_free(&w->peers);
    for (size_t i = 0; i < w->winfos.cap; i++)
        if (w->winfos.keys[i]) free(w->winfos.vals[i]);
    wb_omap_free(&w->winfos);
    wb_omap_free(&w->held);
    for (size_t i = 0; i < w->nk; i++) free(w->knames[i]);
    free(w->knames);
    wb_list_free(&w->bdone);
    wb_list_free(&w->bhold);
    wb_list_free(&w->blost);
    wb_store_free(w->store);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    int rc = w->exit_code;
    the_worker = NULL;
    wb_set_log(NULL);
    free(w);
    return rc;
}
