/* cluster/driver.c — the cluster executor: the driver's side of the cluster,
 * behind the same executor interface as the local thread pool.
 *
 * Two threads: the caller's (Lua, the REPL) and an I/O thread running its own
 * libuv loop with the connections to the head and to the workers' data
 * ports. The caller never touches a socket: it appends frames for the head
 * to a buffer and queues requests (puts, fetches) under a mutex, then wakes
 * the loop with uv_async_send; the I/O thread updates the object table under
 * the same mutex and signals a condition variable. So the REPL can block in
 * readline while heartbeats and results keep flowing. In a synchronous loop
 * (submit one task, get it) neither thread sleeps between the two: the caller
 * watches for the result of the task it just submitted (get_spin_locked, at
 * most 250 us after the submit), and the I/O thread, having given it, watches
 * for the next submit (on_spinner, at most 50 us), so no result and no
 * request has to wake a thread (each wake-up of an idle core costs tens of
 * microseconds on a virtual machine).
 *
 * Object ids are made here (the client id from the head in the top bits), so
 * submit returns its futures at once. Small results arrive inline with their
 * completion; larger ones are fetched from the worker that holds them. The
 * driver keeps a copy of what it puts until the head says the cluster forgot
 * the object, so that an object lost with its worker can be put again. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cluster_internal.h"
#include "fetch.h"
#include "map.h"

enum { D_PENDING = 0, D_READY = 1, D_FAILED = 2 };
enum { C_CONNECTING = 0, C_READY = 1, C_DEAD = 2, C_CLOSED = 3 };
enum { R_PUT = 1, R_FETCH = 2, R_REPLICATE = 3 };

typedef struct dblob { /* a put object's bytes: raw payload (PART: x then y) */
    int refs;          /* under the executor's mutex */
    size_t len;
    unsigned char data[];
} dblob;

typedef struct dobj {
    uint64_t oid;
    int refs;
    int state;
    int code;
    char *err;
    wb_objstat stat;
    unsigned char *inl; /* inline raw payload */
    int has_inline;
    uint32_t holder;
} dobj;

typedef struct dreq {
    int kind;
    uint64_t oid;
    uint32_t worker;
    dblob *blob; /* R_PUT */
    wb_objstat stat;
    int tries;
    /* the answer */
    int done, rc, abandoned;
    char msg[600];
    unsigned char *data;
    size_t size;
    struct dreq *next;
} dreq;

typedef struct dworker {
    uint32_t id;
    char host[64];
    int port;
    uint32_t threads, pid;
    int alive;
    wb_cplugin *pl; /* its plugins */
    uint32_t npl;
    int warned; /* its plugin versions were compared with this driver's */
    /* I/O thread only */
    wb_fetcher *fc; /* the connection to its data port: fetches and puts */
    dreq *puts;     /* puts waiting for the connection */
} dworker;

typedef struct cx {
    wb_exec *ex;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uv_loop_t loop;
    uv_async_t wake;
    /* a result the caller waits for came: the I/O thread then waits a few
     * microseconds for the caller's next frames (in a synchronous loop they
     * follow at once) before it sleeps, so the caller does not have to wake
     * it. spin: asked for by on_done (I/O thread); spinning: the I/O thread
     * is waiting now; poked: the caller queued something (both atomic: see
     * kick); spin_skip: spins left out after one that waited in vain */
    uv_check_t spinner;
    int spin, spinning, poked, spin_skip, spin_backoff;
    uint64_t waited; /* the object the caller waits for on cv (0: none) */
    /* the caller's get of the task it submitted last, within GET_SPIN_NS of
     * the submit, first watches done_seq (bumped by each DONE) instead of
     * sleeping on cv: the result does not have to wake it. A watch in vain
     * leaves out the next 1, 2, 4 ... 64 (gspin_*, caller's thread) */
    unsigned done_seq;
    uint64_t last_oid, last_submit_ns;
    int gspin_ok, gspin_skip, gspin_backoff;
    uv_timer_t jobt;  /* the running job told to the head (JOB) */
    uint64_t job_gen; /* the job's generation told */
    pthread_t io;
    int io_started;
    wb_net net;
    wb_conn *head;
    int state;
    char err[800];
    char address[128];
    struct sockaddr_storage head_sa;
    uint32_t client_id;
    uint64_t next_oid;
    int dashboard_port;
    char dashboard[160];
    wb_omap objs;    /* oid -> dobj */
    wb_omap puts;    /* oid -> dblob, until FREED */
    wb_omap workers; /* id -> dworker */
    uint32_t rr;
    wb_buf hout;       /* frames for the head */
    wb_list rel;       /* RELEASE entries, framed into hout before any other frame */
    int plugins_sent;  /* plugins told to the head (PLUGINS), -1: none yet */
    int warn_np;       /* the plugin count the workers were compared at */
    dreq *rq, *rqt;    /* new requests for the I/O thread */
    wb_omap locwait;   /* oid -> dreq list waiting for LOCATION (I/O thread) */
    int stopping;
    double timeout;
    /* the head PINGs every heartbeat (heartbeat_ms, from WELCOME): silent for
     * head_timeout, the I/O thread gives up on it; the driver PINGs back */
    uv_timer_t beat;
    int heartbeat_ms;
    uint64_t last_ping;
    double head_timeout;
    /* live workers (from WORKERS), and since when there is none (wb_now(); 0:
     * some): a wait goes on at most worker_timeout without one */
    int nalive;
    double noworker_since, worker_timeout;
    /* called once the connections are closed (the local-cluster launcher
     * stops the processes it started) */
    void (*on_close)(void *);
    void *on_close_arg;
} cx;

static cx *CX(wb_exec *ex) { return ex->impl; }

/* ---------------------------------------------------------------- helpers */

static void blob_unref_locked(dblob *b)
{
    if (b && --b->refs == 0) free(b);
}

static void dobj_free(dobj *o)
{
    free(o->err);
    free(o->inl);
    free(o);
}

static int not_ready_locked(cx *x)
{
    if (x->state == C_READY) return 0;
    if (x->state == C_CLOSED)
        return wb_seterr(WB_ESTATE,
                         "cluster: the executor is disconnected: this data was on the cluster at %s and is gone with "
                         "it (d:collect() before wb.disconnect() brings a dataset to this process; "
                         "wb.disconnect{collect = true} brings all of them)",
                         x->address);
    return wb_seterr(WB_ENET, "cluster: %s", x->err[0] ? x->err : "not connected");
}

static void close_release_frame(cx *x)
{
    if (!x->rel.n) return;
    wb_wr w = {&x->hout, 0};
    wb_enc_list(&w, &x->rel);
}

/* frames to the head go after any open RELEASE list (order matters) */
static wb_wr hout_wr(cx *x)
{
    close_release_frame(x);
    wb_wr w = {&x->hout, 0};
    return w;
}

static void add_release(cx *x, uint64_t oid)
{
    if (x->rel.n >= 1000000) close_release_frame(x);
    wb_enc_oid1(&x->rel, oid);
}

/* wake the I/O thread for what was queued; a spinning one sees `poked`
 * (set first, then spinning read, as the I/O thread does the reverse: one of
 * the two sees the other, so nothing queued is left unseen) */
static void kick(cx *x)
{
    if (!x->io_started) return;
    __atomic_store_n(&x->poked, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&x->spinning, __ATOMIC_SEQ_CST)) uv_async_send(&x->wake);
}

static void push_req(cx *x, dreq *r)
{
    r->next = NULL;
    if (x->rqt) x->rqt->next = r;
    else x->rq = r;
    x->rqt = r;
}

/* wait on the condition variable a little (interrupts are checked by callers) */
static void cv_wait_ms(cx *x, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&x->cv, &x->mu, &ts);
}

/* a caller's wait (one call of the executor, over all the objects it waits for) */
typedef struct wwait {
    double t0;   /* when it began */
    int said;    /* lines said so far */
    int gaveup;  /* it ended for want of workers */
} wwait;
static wwait wait_begin(void) { return (wwait){wb_now(), 0, 0}; }

/* with the cluster connected, none of its workers alive for worker_timeout
 * ends a wait (WB_ETIMEDOUT, message set); meanwhile a line says so every
 * 10 s */
static int worker_wait_locked(cx *x, wwait *ww)
{
    if (x->state != C_READY || x->nalive > 0 || !x->noworker_since) return 0;
    double since = x->noworker_since > ww->t0 ? x->noworker_since : ww->t0, now = wb_now(), el = now - since;
    int *said = &ww->said;
    if (el >= x->worker_timeout) {
        ww->gaveup = 1;
        return wb_seterr(WB_ETIMEDOUT,
                         "cluster: no live worker at the head at %s for %.0f s (worker_timeout = %g s): the work "
                         "waits for workers that did not come",
                         x->address, el, x->worker_timeout);
    }
    if (el >= 3 + 10.0 * *said) {
        time_t t = time(NULL) - (time_t)el; /* (wb_now() is not the wall clock) */
        struct tm tm;
        localtime_r(&t, &tm);
        char ts[16];
        strftime(ts, sizeof ts, "%H:%M:%S", &tm);
        wb_log(WB_LOG_WARN,
               "cluster: waiting since %s (%.0f s): no live worker at the head at %s; start workers, or Ctrl-C (the "
               "wait ends after worker_timeout = %g s)",
               ts, el, x->address, x->worker_timeout);
        (*said)++;
    }
    return 0;
}

static dworker *pick_worker_locked(cx *x)
{
    size_t n = 0;
    dworker *list[1024];
    for (size_t i = 0; i < x->workers.cap && n < 1024; i++) {
        if (!x->workers.keys[i]) continue;
        dworker *w = x->workers.vals[i];
        if (w->alive) list[n++] = w;
    }
    if (!n) return NULL;
    /* in id order, round robin */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && list[j - 1]->id > list[j]->id; j--) {
            dworker *t = list[j];
            list[j] = list[j - 1];
            list[j - 1] = t;
        }
    return list[x->rr++ % n];
}

/* ------------------------------------------------- the I/O thread: fetches */

static void req_finish_locked(cx *x, dreq *r, int rc, const char *msg)
{
    r->rc = rc;
    if (msg && msg != r->msg) snprintf(r->msg, sizeof r->msg, "%s", msg); /* (never onto itself: that emptied it) */
    r->done = 1;
    if (r->abandoned) {
        free(r->data);
        if (r->blob) blob_unref_locked(r->blob);
        free(r);
    }
    pthread_cond_broadcast(&x->cv);
}

static void req_finish(cx *x, dreq *r, int rc, const char *msg)
{
    pthread_mutex_lock(&x->mu);
    req_finish_locked(x, r, rc, msg);
    pthread_mutex_unlock(&x->mu);
}

static const wb_fetch_cbs data_cbs;
static void send_locate(cx *x, dreq *r);

static int ensure_conn(cx *x, dworker *w)
{
    if (w->fc) return 0;
    w->fc = wb_fetcher_open(&x->net, w->id, w->host, w->port, (int)(x->timeout * 1000), &data_cbs, w);
    return w->fc ? 0 : WB_ENET;
}

static void put_done(void *ctx, int status)
{
    (void)status;
    dreq *r = ctx;
    cx *x = (cx *)r->next; /* stashed: the request is off every list */
    pthread_mutex_lock(&x->mu);
    blob_unref_locked(r->blob);
    pthread_mutex_unlock(&x->mu);
    free(r);
}

static void send_put(cx *x, dworker *w, dreq *r)
{
    wb_buf fb = {0};
    wb_wr wr = {&fb, 0};
    wb_m_obj m = {r->oid, {0}};
    wb_wstat_from(&m.stat, &r->stat);
    wb_enc_obj(&wr, WB_M_PUT, &m);
    uv_buf_t b;
    b.base = (char *)r->blob->data;
    b.len = r->blob->len;
    r->next = (dreq *)x;
    wb_conn_send_raw(w->fc->conn, &fb, &b, r->blob->len ? 1 : 0, put_done, r);
    wb_buf_free(&fb);
}

static void fetch_from(cx *x, dworker *w, dreq *r)
{
    if (!w || !w->alive || ensure_conn(x, w)) {
        send_locate(x, r);
        return;
    }
    if (wb_fetcher_request(w->fc, r->oid, r)) req_finish(x, r, WB_ENOMEM, "cluster: out of memory");
}

static void send_locate(cx *x, dreq *r)
{
    if (++r->tries > 5) {
        req_finish(x, r, WB_ENET, r->msg[0] ? r->msg : "cluster: the object could not be fetched");
        return;
    }
    if (!x->head || x->head->state != WB_CS_READY) {
        req_finish(x, r, WB_ENET, x->err[0] ? x->err : "cluster: not connected to the head");
        return;
    }
    /* several requests for one object share one LOCATE */
    dreq *first = wb_omap_get(&x->locwait, r->oid);
    int same_kind_waiting = 0;
    for (dreq *q = first; q; q = q->next) same_kind_waiting |= q->kind == r->kind && q->worker == r->worker;
    r->next = first;
    wb_omap_put(&x->locwait, r->oid, r);
    if (same_kind_waiting && r->kind == R_FETCH) return;
    wb_wr wr = wb_conn_wr(x->head);
    if (r->kind == R_REPLICATE) {
        wb_m_loc1 e = {r->oid, 0, r->worker, 0, {"", 0}};
        wb_m_locs m = {1, &e};
        wb_enc_locs(&wr, WB_M_REPLICATE, &m);
    } else {
        wb_enc_oids(&wr, WB_M_LOCATE, &r->oid, 1);
    }
    wb_conn_mark(x->head);
}

/* the data connection is up: the puts that waited for it go first */
static void data_ready(wb_fetcher *f)
{
    dworker *w = f->data;
    cx *x = f->net->loop->data;
    while (w->puts) {
        dreq *r = w->puts;
        w->puts = r->next;
        send_put(x, w, r);
    }
}

static unsigned char *data_obj(wb_fetcher *f, void *req, const wb_wstat *stat)
{
    (void)f;
    dreq *r = req;
    wb_wstat_to(stat, &r->stat);
    unsigned char *buf = malloc(stat->size ? (size_t)stat->size : 1);
    if (!buf) {
        snprintf(r->msg, sizeof r->msg, "cluster: out of memory for an object of %llu bytes",
                 (unsigned long long)stat->size);
        r->tries = 100;
    }
    return buf;
}

/* a fetched object arrived: hand it to the caller in the executor's encoding */
static void data_body(wb_fetcher *f, void *req, unsigned char *raw)
{
    dworker *w = f->data;
    cx *x = f->net->loop->data;
    dreq *r = req;
    if (!raw) {
        send_locate(x, r);
        return;
    }
    if (r->stat.type == WB_OBJ_PART) {
        size_t nx = (size_t)r->stat.rows * (size_t)r->stat.cols;
        wb_part p = {r->stat.rows, r->stat.cols, r->stat.row0, (const double *)raw,
                     r->stat.has_y ? (const double *)raw + nx : NULL};
        size_t sz = wb_part_encoded_size(&p);
        unsigned char *enc = malloc(sz);
        if (!enc) {
            free(raw);
            req_finish(x, r, WB_ENOMEM, "cluster: out of memory");
            return;
        }
        wb_part_encode(&p, enc);
        free(raw);
        raw = enc;
        r->size = sz;
    } else {
        r->size = r->stat.size;
    }
    pthread_mutex_lock(&x->mu);
    r->data = raw;
    dobj *o = wb_omap_get(&x->objs, r->oid);
    if (o) o->holder = w->id;
    req_finish_locked(x, r, 0, NULL);
    pthread_mutex_unlock(&x->mu);
}

/* the worker does not hold it (any more): ask the head where it is */
static void data_refused(wb_fetcher *f, void *req, int code, const char *msg)
{
    (void)code;
    cx *x = f->net->loop->data;
    dreq *r = req;
    snprintf(r->msg, sizeof r->msg, "cluster: worker %u %s", f->id, msg);
    send_locate(x, r);
}

static void data_close(wb_fetcher *f, int code, const char *why)
{
    (void)code;
    (void)why;
    dworker *w = f->data;
    cx *x = f->net->loop->data;
    w->fc = NULL;
    /* puts that never went out: the head asks for them again if the worker is gone */
    while (w->puts) {
        dreq *r = w->puts;
        w->puts = r->next;
        pthread_mutex_lock(&x->mu);
        blob_unref_locked(r->blob);
        pthread_mutex_unlock(&x->mu);
        free(r);
    }
}

/* a fetch the connection took with it: ask the head again */
static void data_lost(wb_fetcher *f, void *req, const char *why)
{
    cx *x = f->net->loop->data;
    dreq *r = req;
    snprintf(r->msg, sizeof r->msg, "cluster: worker %u: %s", f->id, why[0] ? why : "closed the connection");
    if (x->stopping) req_finish(x, r, WB_ENET, r->msg);
    else send_locate(x, r);
}

static const wb_fetch_cbs data_cbs = {data_ready, data_obj, data_body, data_refused, data_close, data_lost};

/* -------------------------------------------- the I/O thread: the head */

static void fail_all_locked(cx *x)
{
    for (size_t i = 0; i < x->objs.cap; i++) {
        if (!x->objs.keys[i]) continue;
        dobj *o = x->objs.vals[i];
        if (o->state != D_PENDING) continue;
        o->state = D_FAILED;
        o->code = WB_ENET;
        free(o->err);
        char m[sizeof x->err + 16];
        snprintf(m, sizeof m, "cluster: %s", x->err);
        o->err = wb_strdup(m);
    }
    pthread_cond_broadcast(&x->cv);
}

static void on_done(cx *x, const unsigned char *p, size_t n)
{
    wb_m_done m;
    if (wb_dec_done(p, n, &m)) {
        wb_log(WB_LOG_WARN, "cluster: %s", wb_errmsg());
        return;
    }
    pthread_mutex_lock(&x->mu);
    for (uint32_t i = 0; i < m.n; i++) {
        wb_m_done1 *d = &m.d[i];
        if (x->waited && d->oid == x->waited) x->spin = 1;
        dobj *o = wb_omap_get(&x->objs, d->oid);
        if (!o) continue;
        if (d->code) {
            o->state = D_FAILED;
            o->code = d->code;
            free(o->err);
            char em[WB_PROTO_MAX_TEXT + 1];
            o->err = wb_strdup(wb_pstr_copy(d->msg, em, sizeof em));
            continue;
        }
        wb_wstat_to(&d->stat, &o->stat);
        o->holder = d->worker;
        if (d->has_inline) {
            free(o->inl);
            o->inl = malloc(d->data.len ? d->data.len : 1);
            if (o->inl) {
                if (d->data.len) memcpy(o->inl, d->data.p, d->data.len);
                o->has_inline = 1;
            }
        }
        o->state = D_READY;
    }
    pthread_mutex_unlock(&x->mu);
    __atomic_add_fetch(&x->done_seq, 1, __ATOMIC_SEQ_CST);
    /* after the unlock: the woken caller does not block on the mutex held
     * here (a second wake-up) */
    pthread_cond_broadcast(&x->cv);
    wb_m_done_free(&m);
}

static void on_location(cx *x, const unsigned char *p, size_t n)
{
    wb_m_locs m;
    if (wb_dec_locs(p, n, &m)) {
        wb_log(WB_LOG_WARN, "cluster: %s", wb_errmsg());
        return;
    }
    for (uint32_t i = 0; i < m.n; i++) {
        wb_m_loc1 *l = &m.l[i];
        dreq *list = wb_omap_del(&x->locwait, l->oid), *keep = NULL;
        char em[WB_PROTO_MAX_TEXT + 1];
        wb_pstr_copy(l->msg, em, sizeof em);
        while (list) {
            dreq *r = list;
            list = r->next;
            if (l->code) {
                char msg[WB_PROTO_MAX_TEXT + 20];
                snprintf(msg, sizeof msg, "cluster: %s", em);
                req_finish(x, r, l->code, msg);
            } else if (r->kind == R_FETCH) {
                pthread_mutex_lock(&x->mu);
                dworker *w = wb_omap_get(&x->workers, l->worker);
                pthread_mutex_unlock(&x->mu);
                fetch_from(x, w, r);
            } else if (r->kind == R_REPLICATE && r->worker == l->worker) {
                req_finish(x, r, 0, NULL);
            } else {
                r->next = keep;
                keep = r;
            }
        }
        if (keep) wb_omap_put(&x->locwait, l->oid, keep);
    }
    wb_m_locs_free(&m);
}

static void on_workers(cx *x, const unsigned char *p, size_t n)
{
    wb_m_workers m;
    if (wb_dec_workers(p, n, &m)) {
        wb_log(WB_LOG_WARN, "cluster: %s", wb_errmsg());
        return;
    }
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->workers.cap; i++) {
        if (!x->workers.keys[i]) continue;
        dworker *w = x->workers.vals[i];
        int found = 0;
        for (uint32_t k = 0; k < m.n && !found; k++) found = m.w[k].id == w->id && m.w[k].alive;
        w->alive = found;
    }
    for (uint32_t k = 0; k < m.n; k++) {
        dworker *w = wb_omap_get(&x->workers, m.w[k].id);
        if (w || !m.w[k].alive) continue;
        w = calloc(1, sizeof *w);
        if (!w) continue;
        w->id = m.w[k].id;
        wb_pstr_copy(m.w[k].host, w->host, sizeof w->host);
        w->port = m.w[k].port;
        w->threads = m.w[k].threads;
        w->pid = m.w[k].pid;
        w->alive = 1;
        w->pl = wb_cplugins_from(m.w[k].plugins, m.w[k].nplugins);
        w->npl = w->pl ? m.w[k].nplugins : 0;
        wb_omap_put(&x->workers, w->id, w);
    }
    int alive = 0;
    for (uint32_t k = 0; k < m.n; k++) alive += m.w[k].alive != 0;
    if (!alive && (x->nalive || !x->noworker_since)) x->noworker_since = wb_now();
    if (alive) x->noworker_since = 0;
    x->nalive = alive;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    /* connections to workers that left close now (their fetches relocate) */
    for (size_t i = 0; i < x->workers.cap; i++) {
        if (!x->workers.keys[i]) continue;
        dworker *w = x->workers.vals[i];
        if (!w->alive && w->fc) wb_fetcher_close(w->fc, WB_ENET, "it left the cluster");
    }
    wb_m_workers_free(&m);
}

static void on_reput(cx *x, const unsigned char *p, size_t n)
{
    wb_m_locs m;
    if (wb_dec_locs(p, n, &m)) {
        wb_log(WB_LOG_WARN, "cluster: %s", wb_errmsg());
        return;
    }
    for (uint32_t i = 0; i < m.n; i++) {
        pthread_mutex_lock(&x->mu);
        dblob *b = wb_omap_get(&x->puts, m.l[i].oid);
        dworker *w = wb_omap_get(&x->workers, m.l[i].worker);
        dobj *o = wb_omap_get(&x->objs, m.l[i].oid);
        if (b) b->refs++;
        pthread_mutex_unlock(&x->mu);
        if (!b || !w) {
            if (b) {
                pthread_mutex_lock(&x->mu);
                blob_unref_locked(b);
                pthread_mutex_unlock(&x->mu);
            }
            continue;
        }
        dreq *r = calloc(1, sizeof *r);
        if (!r) continue;
        r->kind = R_PUT;
        r->oid = m.l[i].oid;
        r->worker = w->id;
        r->blob = b;
        if (o) r->stat = o->stat;
        else {
            r->stat.type = WB_OBJ_BYTES;
            r->stat.size = b->len;
        }
        if (ensure_conn(x, w)) {
            pthread_mutex_lock(&x->mu);
            blob_unref_locked(b);
            pthread_mutex_unlock(&x->mu);
            free(r);
            continue;
        }
        if (w->fc->ready) send_put(x, w, r);
        else {
            r->next = w->puts;
            w->puts = r;
        }
    }
    wb_m_locs_free(&m);
}

static int head_frame(wb_conn *c, int type, const unsigned char *p, size_t n)
{
    cx *x = c->data;
    switch (type) {
    case WB_M_WELCOME: {
        wb_m_welcome m;
        if (wb_dec_welcome(p, n, &m)) return -1;
        pthread_mutex_lock(&x->mu);
        x->client_id = m.id;
        x->next_oid = ((uint64_t)m.id << 40) | 1;
        x->heartbeat_ms = (int)m.heartbeat_ms;
        x->plugins_sent = -1;
        x->dashboard_port = m.dashboard_port;
        if (m.dashboard_port) {
            char host[128];
            snprintf(host, sizeof host, "%s", x->address);
            char *colon = strrchr(host, ':');
            if (colon) *colon = 0;
            snprintf(x->dashboard, sizeof x->dashboard, "http://%s:%u/", host, (unsigned)m.dashboard_port);
        }
        /* plugins the head has and this driver lacks are worth a line */
        for (uint32_t i = 0; i < m.nplugins; i++) {
            int found = 0;
            for (int j = 0; j < wb_plugin_count() && !found; j++) {
                const char *name;
                wb_plugin_info_at(j, &name, NULL, NULL);
                found = wb_pstr_eq(m.plugins[i].name, name);
            }
            if (!found) {
                char nm[130];
                wb_log(WB_LOG_INFO, "cluster: the head has plugin '%s', which this driver has not loaded",
                       wb_pstr_copy(m.plugins[i].name, nm, sizeof nm));
            }
        }
        x->state = C_READY;
        pthread_cond_broadcast(&x->cv);
        pthread_mutex_unlock(&x->mu);
        wb_m_welcome_free(&m);
        return 0;
    }
    case WB_M_WORKERS: on_workers(x, p, n); return 0;
    case WB_M_DONE: on_done(x, p, n); return 0;
    case WB_M_LOCATION: on_location(x, p, n); return 0;
    case WB_M_REPUT: on_reput(x, p, n); return 0;
    case WB_M_REJECT: {
        wb_m_reject m;
        if (wb_dec_reject(p, n, &m)) return -1;
        char em[WB_PROTO_MAX_TEXT + 1];
        pthread_mutex_lock(&x->mu);
        snprintf(x->err, sizeof x->err, "the head at %s: %s", x->address, wb_pstr_copy(m.msg, em, sizeof em));
        pthread_mutex_unlock(&x->mu);
        return 0; /* the head closes the connection next */
    }
    case WB_M_PING: return wb_dec_ping(p, n);
    case WB_M_FREED: {
        wb_m_oids m;
        if (wb_dec_oids(p, n, &m)) return -1;
        pthread_mutex_lock(&x->mu);
        for (uint32_t i = 0; i < m.n; i++) blob_unref_locked(wb_omap_del(&x->puts, wb_m_oid_at(&m, i)));
        pthread_mutex_unlock(&x->mu);
        return 0;
    }
    default: return wb_seterr(WB_EPROTO, "the head sent %s", wb_msg_name(type));
    }
}

static void head_close(wb_conn *c, int code, const char *why)
{
    (void)code;
    cx *x = c->data;
    x->head = NULL;
    pthread_mutex_lock(&x->mu);
    if (x->state == C_CONNECTING)
        snprintf(x->err, sizeof x->err, "%s", why[0] ? why : "the head closed the connection");
    else if (x->state == C_READY && !x->err[0])
        snprintf(x->err, sizeof x->err, "lost the connection to the head at %s%s%s", x->address, why[0] ? ": " : "",
                 why);
    if (x->state != C_CLOSED) x->state = C_DEAD;
    fail_all_locked(x);
    pthread_mutex_unlock(&x->mu);
    /* requests waiting for the head fail */
    for (size_t i = 0; i < x->locwait.cap; i++) {
        if (!x->locwait.keys[i]) continue;
        dreq *r = x->locwait.vals[i];
        while (r) {
            dreq *nx = r->next;
            req_finish(x, r, WB_ENET, x->err);
            r = nx;
        }
    }
    wb_omap_free(&x->locwait);
}

static const wb_conn_cbs head_cbs = {NULL, head_frame, NULL, head_close};

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* the running job (the progress line's stages), told to the head when it
 * changed, at most four times a second, for its dashboard */
static void on_job_timer(uv_timer_t *t)
{
    cx *x = t->data;
    if (!x->head || x->head->state != WB_CS_READY) return;
    wb_jobstage st[WB_PROTO_MAX_STAGES];
    uint64_t gen = 0;
    int n = wb_activity_job(st, WB_PROTO_MAX_STAGES, &gen);
    if (gen == x->job_gen) return;
    x->job_gen = gen;
    wb_wr w = wb_conn_wr(x->head);
    wb_enc_job(&w, st, n, wb_now());
    wb_conn_mark(x->head);
    wb_net_flush(&x->net);
}

static void on_wake(uv_async_t *a)
{
    cx *x = a->data;
    __atomic_store_n(&x->poked, 0, __ATOMIC_SEQ_CST); /* what is queued from here on is taken below or pokes again */
    pthread_mutex_lock(&x->mu);
    close_release_frame(x);
    wb_buf out = x->hout;
    x->hout = (wb_buf){0};
    dreq *rq = x->rq;
    x->rq = x->rqt = NULL;
    int stopping = x->stopping;
    pthread_mutex_unlock(&x->mu);
    if (out.len && x->head && x->head->state == WB_CS_READY) {
        wb_wr w = wb_conn_wr(x->head);
        wb_wr_raw(&w, out.p, out.len);
        wb_conn_mark(x->head);
        wb_net_flush(&x->net);
    }
    wb_buf_free(&out);
    while (rq) {
        dreq *r = rq;
        rq = r->next;
        r->next = NULL;
        if (stopping) {
            if (r->kind == R_PUT) {
                pthread_mutex_lock(&x->mu);
                blob_unref_locked(r->blob);
                pthread_mutex_unlock(&x->mu);
                free(r);
            } else
                req_finish(x, r, WB_ESTATE, "cluster: the executor is disconnected");
            continue;
        }
        pthread_mutex_lock(&x->mu);
        dworker *w = wb_omap_get(&x->workers, r->worker);
        pthread_mutex_unlock(&x->mu);
        if (r->kind == R_PUT) {
            if (!w || ensure_conn(x, w)) { /* the head asks for it again */
                pthread_mutex_lock(&x->mu);
                blob_unref_locked(r->blob);
                pthread_mutex_unlock(&x->mu);
                free(r);
                continue;
            }
            if (w->fc->ready) send_put(x, w, r);
            else {
                r->next = w->puts;
                w->puts = r;
            }
        } else if (r->kind == R_FETCH) {
            if (w) fetch_from(x, w, r);
            else send_locate(x, r);
        } else {
            send_locate(x, r);
        }
    }
    if (stopping) {
        if (x->head) wb_conn_close(x->head, 0, "");
        for (size_t i = 0; i < x->workers.cap; i++) {
            if (!x->workers.keys[i]) continue;
            dworker *w = x->workers.vals[i];
            if (w->fc) wb_fetcher_close(w->fc, 0, "");
        }
        wb_net_close(&x->net);
        uv_walk(&x->loop, close_walk, NULL);
    }
}

/* the I/O thread waits at most this long for the caller's next frames after
 * giving it the result it waited for */
#define SPIN_NS 50000

/* after the loop turn that gave the caller its result (x->spin): wait a few
 * microseconds for what it queues next, then send it from here; a wait in
 * vain leaves out the next spins (1, 2, 4 ... up to 64 of them) */
static void on_spinner(uv_check_t *c)
{
    cx *x = c->data;
    if (!x->spin) return;
    x->spin = 0;
    if (x->spin_skip > 0) {
        x->spin_skip--;
        return;
    }
    __atomic_store_n(&x->spinning, 1, __ATOMIC_SEQ_CST);
    uint64_t until = uv_hrtime() + SPIN_NS;
    while (!__atomic_load_n(&x->poked, __ATOMIC_SEQ_CST) && uv_hrtime() < until) {
        wb__spin_pause();
    }
    __atomic_store_n(&x->spinning, 0, __ATOMIC_SEQ_CST);
    int caught = __atomic_load_n(&x->poked, __ATOMIC_SEQ_CST);
    wb__spin_backoff(caught, &x->spin_backoff, &x->spin_skip);
    if (caught) on_wake(&x->wake);
}

/* every 250 ms on the I/O thread: PING the head each heartbeat, and give up
 * on a head that has sent nothing (not even its PING) for head_timeout */
static void on_beat(uv_timer_t *t)
{
    cx *x = t->data;
    wb_conn *c = x->head;
    if (!c || c->state != WB_CS_READY || x->heartbeat_ms <= 0) return;
    uint64_t now = uv_now(&x->loop);
    double limit = x->head_timeout;
    if (limit < 3 * x->heartbeat_ms / 1000.0) limit = 3 * x->heartbeat_ms / 1000.0;
    if (now - c->last_in > (uint64_t)(limit * 1000)) {
        char why[300];
        snprintf(why, sizeof why, "it sent nothing for %.1f s (head_timeout = %g s: is the head stopped or overloaded?)",
                 (now - c->last_in) / 1000.0, limit);
        wb_conn_close(c, WB_ETIMEDOUT, why);
        return;
    }
    if (now - x->last_ping >= (uint64_t)x->heartbeat_ms) {
        x->last_ping = now;
        wb_wr w = wb_conn_wr(c);
        wb_enc_ping(&w);
        wb_conn_mark(c);
    }
}

static void *io_main(void *arg)
{
    cx *x = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the caller's thread */
    uv_run(&x->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* ------------------------------------------------------------ the vtable */

static dobj *new_obj_locked(cx *x, int state)
{
    dobj *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->oid = x->next_oid++;
    o->refs = 1;
    o->state = state;
    if (wb_omap_put(&x->objs, o->oid, o)) {
        free(o);
        return NULL;
    }
    return o;
}

/* put raw payload bytes (copied) as an object of the given shape */
static int put_raw(wb_exec *ex, const wb_objstat *st, const void *a, size_t alen, const void *b, size_t blen,
                   wb_oid *out)
{
    cx *x = CX(ex);
    dblob *bl = malloc(sizeof *bl + alen + blen);
    if (!bl) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", alen + blen);
    bl->refs = 1;
    bl->len = alen + blen;
    if (alen) memcpy(bl->data, a, alen);
    if (blen) memcpy(bl->data + alen, b, blen);
    pthread_mutex_lock(&x->mu);
    int rc = not_ready_locked(x);
    dworker *w = NULL;
    double t0 = wb_now();
    while (!rc && !(w = pick_worker_locked(x))) {
        if (wb_now() - t0 > x->timeout) {
            rc = wb_seterr(WB_ENET, "cluster: the cluster at %s has no workers (waited %.0f s)", x->address, x->timeout);
            break;
        }
        if (wb_interrupted()) {
            rc = wb_seterr(WB_ECANCELED, "interrupted");
            break;
        }
        cv_wait_ms(x, 50);
        rc = not_ready_locked(x);
    }
    dobj *o = rc ? NULL : new_obj_locked(x, D_READY);
    dreq *r = rc ? NULL : calloc(1, sizeof *r);
    if (!rc && (!o || !r)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (rc) {
        if (o) {
            wb_omap_del(&x->objs, o->oid);
            free(o);
        }
        free(r);
        pthread_mutex_unlock(&x->mu);
        free(bl);
        return rc;
    }
    o->stat = *st;
    o->holder = w->id;
    wb_omap_put(&x->puts, o->oid, bl);
    bl->refs++; /* the request's */
    wb_m_obj1 decl = {o->oid, w->id, {0}};
    wb_wstat_from(&decl.stat, st);
    wb_m_objs m = {1, &decl};
    wb_wr wr = hout_wr(x);
    wb_enc_objs(&wr, WB_M_PUT_DECL, &m);
    r->kind = R_PUT;
    r->oid = o->oid;
    r->worker = w->id;
    r->blob = bl;
    r->stat = *st;
    push_req(x, r);
    *out = o->oid;
    pthread_mutex_unlock(&x->mu);
    kick(x);
    return 0;
}

static int c_put(wb_exec *ex, const void *data, size_t size, wb_oid *out)
{
    wb_objstat st = {0};
    st.type = WB_OBJ_BYTES;
    st.size = size;
    return put_raw(ex, &st, data, size, NULL, 0, out);
}

static int c_put_part(wb_exec *ex, const wb_part *p, wb_oid *out)
{
    wb_objstat st = {0};
    st.type = WB_OBJ_PART;
    st.rows = p->rows;
    st.cols = p->cols;
    st.row0 = p->row0;
    st.has_y = p->y != NULL;
    size_t nx = (size_t)p->rows * (size_t)p->cols * 8, ny = p->y ? (size_t)p->rows * 8 : 0;
    st.size = nx + ny;
    return put_raw(ex, &st, p->x, nx, p->y, ny, out);
}

/* the executor's encoding of an object from its raw payload */
static int encode_raw(const wb_objstat *st, const unsigned char *raw, void **data, size_t *size)
{
    if (st->type == WB_OBJ_PART) {
        size_t nx = (size_t)st->rows * (size_t)st->cols;
        wb_part p = {st->rows, st->cols, st->row0, (const double *)raw, st->has_y ? (const double *)raw + nx : NULL};
        size_t sz = wb_part_encoded_size(&p);
        void *enc = malloc(sz);
        if (!enc) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", sz);
        wb_part_encode(&p, enc);
        *data = enc;
        *size = sz;
        return 0;
    }
    void *b = malloc(st->size ? st->size : 1);
    if (!b) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", st->size);
    if (st->size) memcpy(b, raw, st->size);
    *data = b;
    *size = st->size;
    return 0;
}

/* wait until an object is ready or failed (locked) */
static int wait_obj_locked(cx *x, wb_oid id, dobj **out, wwait *ww)
{
    for (;;) {
        dobj *o = wb_omap_get(&x->objs, id);
        if (!o) return wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
        if (o->state == D_FAILED) return wb_seterr(o->code, "%s", o->err ? o->err : wb_strerror(o->code));
        if (o->state == D_READY) {
            *out = o;
            return 0;
        }
        if (x->state != C_READY) return not_ready_locked(x);
        if (wb_interrupted()) return wb_seterr(WB_ECANCELED, "interrupted");
        if (worker_wait_locked(x, ww)) return WB_ETIMEDOUT;
        x->waited = id;
        cv_wait_ms(x, 50);
        x->waited = 0;
    }
}

/* how long after its submit the caller's get of a task watches for its
 * result before it sleeps (a synchronous loop's round trip is well under it) */
#define GET_SPIN_NS 250000

/* the caller's get (or wait for one object) of the task it submitted last, still pending: watch for
 * a DONE until GET_SPIN_NS after the submit (locked; unlocked while watching) */
static void get_spin_locked(cx *x, wb_oid id)
{
    if (!x->gspin_ok || id != x->last_oid || x->state != C_READY) return;
    dobj *o = wb_omap_get(&x->objs, id);
    if (!o || o->state != D_PENDING) return;
    uint64_t until = x->last_submit_ns + GET_SPIN_NS;
    if (uv_hrtime() >= until) return;
    if (x->gspin_skip > 0) {
        x->gspin_skip--;
        return;
    }
    unsigned seq = __atomic_load_n(&x->done_seq, __ATOMIC_SEQ_CST);
    x->waited = id; /* the I/O thread then waits for the next submit (on_spinner) */
    pthread_mutex_unlock(&x->mu);
    int got = 0;
    while (!(got = __atomic_load_n(&x->done_seq, __ATOMIC_SEQ_CST) != seq) && uv_hrtime() < until) {
        wb__spin_pause();
    }
    pthread_mutex_lock(&x->mu);
    x->waited = 0;
    wb__spin_backoff(got, &x->gspin_backoff, &x->gspin_skip);
}

static int c_get(wb_exec *ex, wb_oid id, void **data, size_t *size)
{
    cx *x = CX(ex);
    pthread_mutex_lock(&x->mu);
    get_spin_locked(x, id);
    dobj *o;
    wwait ww = wait_begin();
    int rc = wait_obj_locked(x, id, &o, &ww);
    if (rc) {
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    if (o->has_inline) {
        rc = encode_raw(&o->stat, o->inl, data, size);
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    dblob *b = wb_omap_get(&x->puts, id);
    if (b) {
        rc = encode_raw(&o->stat, b->data, data, size);
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    rc = not_ready_locked(x);
    dreq *r = rc ? NULL : calloc(1, sizeof *r);
    if (!rc && !r) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (rc) {
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    r->kind = R_FETCH;
    r->oid = id;
    r->worker = o->holder;
    push_req(x, r);
    kick(x);
    while (!r->done) {
        if (wb_interrupted() || worker_wait_locked(x, &ww)) {
            int code = wb_interrupted() ? WB_ECANCELED : WB_ETIMEDOUT;
            char m[600];
            snprintf(m, sizeof m, "%s", code == WB_ECANCELED ? "interrupted" : wb_errmsg());
            r->abandoned = 1;
            pthread_mutex_unlock(&x->mu);
            return wb_seterr(code, "%s", m);
        }
        cv_wait_ms(x, 50);
    }
    rc = r->rc;
    if (rc) wb_seterr(rc, "%s", r->msg);
    else {
        *data = r->data;
        *size = r->size;
    }
    pthread_mutex_unlock(&x->mu);
    free(r);
    return rc;
}

static int c_ref(wb_exec *ex, wb_oid id)
{
    cx *x = CX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wb_omap_get(&x->objs, id);
    if (o) o->refs++;
    pthread_mutex_unlock(&x->mu);
    return o ? 0 : wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
}

static void c_release(wb_exec *ex, wb_oid id)
{
    cx *x = CX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wb_omap_get(&x->objs, id);
    int kick_it = 0;
    if (o && --o->refs == 0) {
        wb_omap_del(&x->objs, id);
        dobj_free(o);
        if (x->state == C_READY) {
            add_release(x, id);
            kick_it = x->rel.n >= 256;
        }
    }
    pthread_mutex_unlock(&x->mu);
    if (kick_it) kick(x);
}

/* say once per worker (and again after a wb.plugin.load) which workers have
 * one of this driver's plugins in another version: the head runs none of this
 * driver's tasks there (main thread: reads the plugin table) */
static void warn_plugins_locked(cx *x)
{
    int np = wb_plugin_count();
    int fresh = np != x->warn_np;
    x->warn_np = np;
    for (size_t i = 0; i < x->workers.cap; i++) {
        if (!x->workers.keys[i]) continue;
        dworker *w = x->workers.vals[i];
        if (fresh) w->warned = 0;
        if (!w->alive || w->warned) continue;
        w->warned = 1;
        int said = 0;
        for (int j = 0; j < np && !said; j++) {
            const char *name, *version;
            wb_plugin_info_at(j, &name, &version, NULL);
            for (uint32_t k = 0; k < w->npl && !said; k++)
                if (!strcmp(w->pl[k].name, name) && strcmp(w->pl[k].version, version)) {
                    wb_log(WB_LOG_WARN,
                           "cluster: plugin '%s' is version %s on this driver but version %s on the worker at %s:%d: "
                           "this driver's tasks do not run there",
                           name, version, w->pl[k].version, w->host, w->port);
                    said = 1;
                }
        }
    }
}

/* SUBMIT frames: kernel and argument tables, then the tasks */
typedef struct sbatch {
    wb_taskbatch tb;
    const char *knames[64];
    const void *aptr;
    size_t alen;
    uint32_t aidx;
} sbatch;

static void sbatch_flush(cx *x, sbatch *b)
{
    if (!b->tb.nt) return;
    wb_wr w = hout_wr(x);
    wb_enc_taskbatch(&w, &b->tb);
    b->aptr = NULL;
}

#define ARG_MAX ((size_t)32 << 20)

static int c_submit(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs)
{
    cx *x = CX(ex);
    for (int i = 0; i < n; i++) {
        if (tasks[i].arglen > ARG_MAX)
            return wb_seterr(WB_ELIMIT,
                             "%s: an argument of %zu bytes is too large for one task on a cluster (at most %zu MB); "
                             "put large values as objects (wb.core.put) and pass them as inputs",
                             tasks[i].kernel, tasks[i].arglen, ARG_MAX >> 20);
        if (!tasks[i].kernel || strlen(tasks[i].kernel) > WB_PROTO_MAX_NAME)
            return wb_seterr(WB_EINVAL, "cluster: bad kernel name");
    }
    pthread_mutex_lock(&x->mu);
    int rc = not_ready_locked(x);
    if (rc) {
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    /* the head runs this driver's tasks only on workers that have its plugins
     * in the same versions: tell it which it has (again after a wb.plugin.load) */
    if (x->plugins_sent != wb_plugin_count()) {
        wb_m_plugins m;
        m.plugins = wb_plugins_here(&m.nplugins);
        wb_wr w = hout_wr(x);
        if (m.plugins && wb_enc_plugins(&w, &m) == 0) x->plugins_sent = (int)m.nplugins;
        free(m.plugins);
    }
    warn_plugins_locked(x);
    close_release_frame(x);
    size_t hout_mark = x->hout.len; /* rolled back if a task is refused */
    sbatch b;
    memset(&b, 0, sizeof b);
    wb_taskbatch_init(&b.tb, WB_M_SUBMIT);
    for (int i = 0; i < n; i++) {
        const wb_task *t = &tasks[i];
        /* inputs: objects of this executor (outputs of earlier tasks of the batch included) */
        for (int k = 0; k < t->nin && !rc; k++)
            if (!wb_omap_get(&x->objs, t->in[k]))
                rc = wb_seterr(WB_ENOTFOUND, "%s: input object %llx is not on this executor", t->kernel,
                               (unsigned long long)t->in[k]);
        dobj *o = rc ? NULL : new_obj_locked(x, D_PENDING);
        if (!o) {
            if (!rc) rc = wb_seterr(WB_ENOMEM, "out of memory");
            for (int j = 0; j < i; j++) {
                dobj *d = wb_omap_del(&x->objs, outs[j]);
                if (d) dobj_free(d);
                outs[j] = 0;
            }
            x->hout.len = hout_mark;
            break;
        }
        outs[i] = o->oid;
        /* kernel index */
        uint32_t kidx = UINT32_MAX;
        for (uint32_t k = 0; k < b.tb.nk && k < 64; k++)
            if (b.knames[k] == t->kernel || strcmp(b.knames[k], t->kernel) == 0) {
                kidx = k;
                break;
            }
        if (kidx == UINT32_MAX) {
            if (b.tb.nk == 64) sbatch_flush(x, &b);
            kidx = wb_taskbatch_kernel(&b.tb, t->kernel);
            b.knames[kidx] = t->kernel;
        }
        uint32_t aidx = WB_NO_ARG;
        if (t->arglen) {
            if (b.aptr && b.alen == t->arglen && (b.aptr == t->arg || memcmp(b.aptr, t->arg, t->arglen) == 0))
                aidx = b.aidx;
            else {
                if (b.tb.args.len + t->arglen > ARG_MAX) {
                    sbatch_flush(x, &b);
                    /* the kernel table went with the frame */
                    kidx = wb_taskbatch_kernel(&b.tb, t->kernel);
                    b.knames[kidx] = t->kernel;
                }
                aidx = wb_taskbatch_arg(&b.tb, t->arg, t->arglen);
                b.aptr = t->arg;
                b.alen = t->arglen;
                b.aidx = aidx;
            }
        }
        /* the head finds where the inputs are: no holders */
        wb_m_task mt = {o->oid, kidx, (uint8_t)t->mode, t->mode == WB_TASK_BLOCKSUM ? t->sumlen : 0, t->out_rows, 0,
                        aidx, (uint32_t)t->nin, NULL};
        wb_taskbatch_task(&b.tb, &mt);
        for (int k = 0; k < t->nin; k++) wb_taskbatch_input(&b.tb, t->in[k], 0, NULL);
        int err = b.tb.err;
        if (b.tb.tasks.len > ARG_MAX) sbatch_flush(x, &b);
        if (err) rc = wb_seterr(WB_ENOMEM, "out of memory");
    }
    if (!rc) sbatch_flush(x, &b);
    wb_taskbatch_free(&b.tb);
    if (!rc && n > 0) {
        x->last_oid = outs[n - 1];
        x->last_submit_ns = uv_hrtime();
    }
    pthread_mutex_unlock(&x->mu);
    if (!rc) kick(x);
    return rc;
}

static int c_wait(wb_exec *ex, const wb_oid *ids, int n)
{
    cx *x = CX(ex);
    int first = 0;
    char msg[WB_PROTO_MAX_TEXT + 200] = "";
    pthread_mutex_lock(&x->mu);
    if (n == 1) get_spin_locked(x, ids[0]);
    wwait ww = wait_begin(); /* one wait for all of them */
    for (int i = 0; i < n; i++) {
        dobj *o;
        int rc = wait_obj_locked(x, ids[i], &o, &ww);
        if (rc == WB_ECANCELED || ww.gaveup) {
            first = rc;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
            break;
        }
        if (rc && !first) {
            first = rc;
            snprintf(msg, sizeof msg, "%s", wb_errmsg());
        }
    }
    pthread_mutex_unlock(&x->mu);
    return first ? wb_seterr(first, "%s", msg) : 0;
}

static int c_stat(wb_exec *ex, wb_oid id, wb_objstat *out)
{
    cx *x = CX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wb_omap_get(&x->objs, id);
    int rc = 0;
    if (!o) rc = wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
    else if (o->state == D_FAILED) rc = wb_seterr(o->code, "%s", o->err ? o->err : wb_strerror(o->code));
    else if (o->state != D_READY) rc = wb_seterr(WB_ESTATE, "object %llx is not ready", (unsigned long long)id);
    else *out = o->stat;
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static void c_info(wb_exec *ex, wb_exec_info *out)
{
    cx *x = CX(ex);
    out->kind = "cluster";
    out->remote = 1;
    pthread_mutex_lock(&x->mu);
    int workers = 0, threads = 0;
    for (size_t i = 0; i < x->workers.cap; i++) {
        if (!x->workers.keys[i]) continue;
        dworker *w = x->workers.vals[i];
        if (!w->alive) continue;
        workers++;
        threads += (int)w->threads;
    }
    out->workers = workers;
    out->threads = threads;
    snprintf(out->address, sizeof out->address, "%s", x->address);
    pthread_mutex_unlock(&x->mu);
}

static void shutdown_io(cx *x)
{
    pthread_mutex_lock(&x->mu);
    int started = x->io_started;
    x->stopping = 1;
    if (x->state != C_DEAD) {
        x->state = C_CLOSED;
        snprintf(x->err, sizeof x->err, "the executor is disconnected");
    }
    fail_all_locked(x);
    pthread_mutex_unlock(&x->mu);
    if (started) {
        uv_async_send(&x->wake);
        pthread_join(x->io, NULL);
        x->io_started = 0;
        uv_loop_close(&x->loop);
    }
    if (x->on_close) {
        void (*f)(void *) = x->on_close;
        x->on_close = NULL;
        f(x->on_close_arg);
    }
}

static void c_destroy(wb_exec *ex)
{
    cx *x = CX(ex);
    shutdown_io(x);
    for (size_t i = 0; i < x->objs.cap; i++)
        if (x->objs.keys[i]) dobj_free(x->objs.vals[i]);
    wb_omap_free(&x->objs);
    for (size_t i = 0; i < x->puts.cap; i++)
        if (x->puts.keys[i]) free(x->puts.vals[i]);
    wb_omap_free(&x->puts);
    for (size_t i = 0; i < x->workers.cap; i++)
        if (x->workers.keys[i]) {
            dworker *w = x->workers.vals[i];
            free(w->pl);
            free(w);
        }
    wb_omap_free(&x->workers);
    wb_omap_free(&x->locwait);
    wb_buf_free(&x->hout);
    wb_list_free(&x->rel);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
    free(ex);
}

static const wb_exec_vt cluster_vt = {"cluster", c_put, c_put_part, c_get, c_ref, c_release,
                                      c_submit, c_wait, c_stat, c_info, c_destroy};

int wb_exec_is_cluster(wb_exec *ex) { return ex && ex->vt == &cluster_vt; }

/* ------------------------------------------------------------ connecting */

void wb_connect_opts_init(wb_connect_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = 10;
    o->head_timeout = 30;
    o->worker_timeout = 120;
}

int wb_cluster_connect(const char *address, const wb_connect_opts *opts, wb_exec **out)
{
    wb_connect_opts o;
    if (opts) o = *opts;
    else wb_connect_opts_init(&o);
    if (!(o.timeout > 0)) o.timeout = 10;
    if (!(o.head_timeout > 0)) o.head_timeout = 30;
    if (!(o.worker_timeout > 0)) o.worker_timeout = 120;
    if (wb_tls_check_opts(&o.tls)) return wb_preferr(WB_EINVAL, "cluster");
    wb_cluster_kernels_init();
    char token[WB_TOKEN_MAX + 1];
    if (o.token) {
        size_t len = strlen(o.token);
        if (len < 16 || len > WB_TOKEN_MAX)
            return wb_seterr(WB_EINVAL, "cluster: a token of %zu characters (16 to %d expected)", len, WB_TOKEN_MAX);
        snprintf(token, sizeof token, "%s", o.token);
    } else {
        const char *tf = o.token_file ? o.token_file : wb_token_default_path();
        if (wb_token_read(tf, token, sizeof token))
            return wb_preferr(WB_EAUTH, "cluster: no token given (token = ...) and none could be read");
    }
    cx *x = calloc(1, sizeof *x);
    wb_exec *ex = calloc(1, sizeof *ex);
    if (!x || !ex) {
        free(x);
        free(ex);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    x->ex = ex;
    wb_list_init(&x->rel, WB_M_RELEASE);
    x->warn_np = -1;
    x->timeout = o.timeout;
    x->head_timeout = o.head_timeout;
    x->worker_timeout = o.worker_timeout;
    snprintf(x->address, sizeof x->address, "%s", address ? address : "");
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    x->gspin_ok = wb_ncpu() > 1; /* a caller watching takes no core the others need */
    ex->vt = &cluster_vt;
    ex->refs = 1;
    ex->impl = x;
    if (wb_resolve(x->address, &x->head_sa, NULL, 0, NULL)) {
        char m[600];
        snprintf(m, sizeof m, "%s", wb_errmsg());
        c_destroy(ex);
        return wb_seterr(WB_EINVAL, "cluster: %s", m);
    }
    uv_loop_init(&x->loop);
    x->loop.data = x;
    int trc = wb_net_init(&x->net, &x->loop, token, "driver");
    if (!trc) trc = wb_net_tls(&x->net, &o.tls);
    OPENSSL_cleanse(token, sizeof token);
    uv_async_init(&x->loop, &x->wake, on_wake);
    x->wake.data = x;
    uv_check_init(&x->loop, &x->spinner);
    x->spinner.data = x;
    uv_check_start(&x->spinner, on_spinner);
    uv_unref((uv_handle_t *)&x->spinner);
    uv_timer_init(&x->loop, &x->beat);
    x->beat.data = x;
    uv_timer_start(&x->beat, on_beat, 250, 250);
    uv_timer_init(&x->loop, &x->jobt);
    x->jobt.data = x;
    uv_timer_start(&x->jobt, on_job_timer, 250, 250);
    if (trc) {
        char m[600];
        snprintf(m, sizeof m, "%s", wb_errmsg());
        wb_net_close(&x->net);
        uv_walk(&x->loop, close_walk, NULL);
        uv_run(&x->loop, UV_RUN_DEFAULT);
        uv_loop_close(&x->loop);
        c_destroy(ex);
        return wb_seterr(trc, "cluster: %s", m);
    }
    if (x->net.tls == WB_TLS_OFF)
        wb_log(WB_LOG_WARN, "cluster: TLS is off (insecure_no_tls): every task, object and result to and from %s "
                            "crosses the network in clear",
               x->address);
    x->head = wb_conn_connect(&x->net, (struct sockaddr *)&x->head_sa, x->address, &head_cbs, x, WB_ROLE_DRIVER,
                              WB_ROLE_HEAD, (int)(o.timeout * 1000));
    if (!x->head) {
        snprintf(x->err, sizeof x->err, "%s", wb_errmsg());
        x->state = C_DEAD;
    }
    signal(SIGPIPE, SIG_IGN);
    if (pthread_create(&x->io, NULL, io_main, x) != 0) {
        c_destroy(ex);
        return wb_seterr(WB_EINTERNAL, "cluster: cannot start the I/O thread");
    }
    x->io_started = 1;
    /* wait for the handshake (the connection's own timer bounds it) */
    pthread_mutex_lock(&x->mu);
    double t0 = wb_now();
    int rc = 0;
    while (x->state == C_CONNECTING) {
        if (wb_now() - t0 > o.timeout + 2) {
            snprintf(x->err, sizeof x->err, "no answer from %s within %.1f s", x->address, o.timeout);
            break;
        }
        if (wb_interrupted()) {
            snprintf(x->err, sizeof x->err, "interrupted");
            rc = WB_ECANCELED;
            break;
        }
        cv_wait_ms(x, 20);
    }
    if (x->state != C_READY && !rc) rc = WB_ENET;
    /* and for the workers asked for */
    while (!rc && o.wait_workers > 0) {
        int alive = 0;
        for (size_t i = 0; i < x->workers.cap; i++)
            if (x->workers.keys[i] && ((dworker *)x->workers.vals[i])->alive) alive++;
        if (alive >= o.wait_workers) break;
        if (x->state != C_READY) {
            rc = WB_ENET;
            break;
        }
        if (wb_now() - t0 > o.timeout) {
            snprintf(x->err, sizeof x->err, "only %d of %d workers joined the head at %s within %.1f s", alive,
                     o.wait_workers, x->address, o.timeout);
            rc = WB_ETIMEDOUT;
            break;
        }
        cv_wait_ms(x, 20);
    }
    if (!rc) warn_plugins_locked(x);
    char msg[900];
    snprintf(msg, sizeof msg, "%s", x->err);
    pthread_mutex_unlock(&x->mu);
    if (rc) {
        c_destroy(ex);
        return wb_seterr(rc, "cluster: %s", msg);
    }
    *out = ex;
    return 0;
}

void wb_cluster_disconnect(wb_exec *ex)
{
    if (!wb_exec_is_cluster(ex)) return;
    shutdown_io(CX(ex));
}

int wb_cluster_workers(wb_exec *ex, wb_cluster_worker_info *out, int max)
{
    if (!wb_exec_is_cluster(ex)) return 0;
    cx *x = CX(ex);
    int n = 0;
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->workers.cap; i++) {
        if (!x->workers.keys[i]) continue;
        dworker *w = x->workers.vals[i];
        if (n < max) {
            out[n].id = w->id;
            snprintf(out[n].address, sizeof out[n].address, "%s:%d", w->host, w->port);
            out[n].threads = (int)w->threads;
            out[n].pid = (int)w->pid;
            out[n].alive = w->alive;
        }
        n++;
    }
    pthread_mutex_unlock(&x->mu);
    /* in id order */
    int m = n < max ? n : max;
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && out[j - 1].id > out[j].id; j--) {
            wb_cluster_worker_info t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

uint32_t wb_cluster_holder(wb_exec *ex, wb_oid id)
{
    if (!wb_exec_is_cluster(ex)) return 0;
    cx *x = CX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wb_omap_get(&x->objs, id);
    uint32_t h = o && o->state == D_READY ? o->holder : 0;
    pthread_mutex_unlock(&x->mu);
    return h;
}

const char *wb_cluster_dashboard(wb_exec *ex)
{
    if (!wb_exec_is_cluster(ex)) return "";
    return CX(ex)->dashboard;
}

int wb_cluster_replicate(wb_exec *ex, const wb_oid *ids, int n, uint32_t worker)
{
    if (!wb_exec_is_cluster(ex)) return wb_seterr(WB_EINVAL, "replicate: not a cluster executor");
    cx *x = CX(ex);
    dreq **rs = calloc((size_t)(n > 0 ? n : 1), sizeof *rs);
    if (!rs) return wb_seterr(WB_ENOMEM, "out of memory");
    pthread_mutex_lock(&x->mu);
    int rc = not_ready_locked(x);
    wwait ww = wait_begin();
    for (int i = 0; !rc && i < n; i++) {
        dobj *o;
        rc = wait_obj_locked(x, ids[i], &o, &ww);
        if (rc) break;
        rs[i] = calloc(1, sizeof **rs);
        if (!rs[i]) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        rs[i]->kind = R_REPLICATE;
        rs[i]->oid = ids[i];
        rs[i]->worker = worker;
        push_req(x, rs[i]);
    }
    kick(x);
    for (int i = 0; i < n; i++) {
        if (!rs[i]) continue;
        int stop = 0;
        while (!rs[i]->done) {
            if (wb_interrupted()) stop = WB_ECANCELED;
            else if (worker_wait_locked(x, &ww)) stop = WB_ETIMEDOUT;
            if (stop) {
                rs[i]->abandoned = 1;
                break;
            }
            cv_wait_ms(x, 50);
        }
        if (!rs[i]->done) {
            if (!rc) rc = stop == WB_ETIMEDOUT ? WB_ETIMEDOUT : wb_seterr(WB_ECANCELED, "interrupted");
            rs[i] = NULL;
            continue;
        }
        if (rs[i]->rc && !rc) rc = wb_seterr(rs[i]->rc, "%s", rs[i]->msg);
        free(rs[i]);
    }
    pthread_mutex_unlock(&x->mu);
    free(rs);
    return rc;
}

void wb_cluster_on_close(wb_exec *ex, void (*fn)(void *), void *arg)
{
    cx *x = CX(ex);
    x->on_close = fn;
    x->on_close_arg = arg;
}
