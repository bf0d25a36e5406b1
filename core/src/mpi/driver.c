/* mpi/driver.c — the MPI executor on rank 0: the executor interface
 * (put/get/submit/wait/...) over the executor ranks.
 *
 * Two threads: the caller's (Lua) and an I/O thread, which call MPI one at
 * a time (see "driving MPI" below). The caller decides where each task runs
 * (the rank holding most of its input bytes, else the least loaded), makes
 * its object ids and queues encoded messages; while it submits or waits it
 * sends them and receives the results itself, else the I/O thread does.
 * Either updates the object table under the mutex, and watches that every
 * rank keeps talking (a rank silent for the timeout ends the job with its
 * name).
 *
 * map_sum goes up a reduction tree: each rank merges the block-sum nodes of
 * its tasks and of its children in the binomial tree over ranks 1..N-1 and
 * sends them to its parent; the driver finishes the tree sum. An object is
 * released on its ranks only once no submitted task still reads it. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"

enum { D_PENDING = 0, D_READY = 1, D_FAILED = 2 };

typedef struct blob {
    int refs; /* under the mutex */
    size_t len;
    unsigned char data[];
} blob;

typedef struct dobj {
    uint64_t oid;
    int refs, users, zombie;
    int state, code;
    char *err;
    wb_objstat stat;
    blob *b;      /* the raw payload when the driver has it (small results, puts) */
    int holder;   /* rank; -1: every executor rank */
    uint64_t *copies; /* ranks that may hold a copy (bitset) */
} dobj;

typedef struct dpend { /* a submitted task: the inputs it reads, its rank */
    int rank, nin;
    uint64_t in[];
} dpend;

typedef struct dreduce {
    uint64_t id;
    int done, abandoned, code;
    char msg[700];
    void *data;
    size_t size;
    uint64_t *in; /* every input of every task (users to drop) */
    size_t nin;
    int *count;   /* tasks per rank */
} dreduce;

enum { Q_MSG = 1, Q_FETCH = 2, Q_PUT = 3, Q_BENCH = 4, Q_STOP = 5 };

typedef struct dfetch {
    uint64_t oid;
    int holder;
    int done, rc, abandoned;
    char msg[700];
    wb_objstat stat;
    unsigned char *data;
    struct dfetch *next;
} dfetch;

typedef struct qitem {
    int kind;
    int dest;      /* Q_MSG */
    wb_buf msg;    /* Q_MSG */
    dfetch *f;     /* Q_FETCH */
    uint64_t oid;  /* Q_PUT */
    wb_objstat stat;
    blob *b;
    int *dests, ndests;
    size_t blen;   /* Q_BENCH */
    int reps;
    double *bench;
    int *bench_done;
    struct qitem *next;
} qitem;

typedef struct dx {
    wb_exec *ex;
    wbm_net net;
    int P; /* executor ranks: 1..P */
    wbm_rankinfo *ranks;
    double timeout;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a caller that does not drive waits here */
    pthread_cond_t wake; /* the I/O thread idles here */
    pthread_mutex_t net_mu; /* held to call MPI (the net, the fetches); taken before mu */
    int drivers;     /* callers driving the network (under mu) */
    int handover;    /* a caller left work in flight: the I/O thread takes over now */
    double drove;    /* when a caller last drove */
    double wait_avg; /* how long a caller's waits lasted lately (WBM_SPIN_AVG) */
    pthread_t io;
    int io_started, stop, dead;
    char dead_msg[1100];
    wbm_map objs;    /* oid -> dobj */
    wbm_map pend;    /* task out oid -> dpend */
    wbm_map reduces; /* id -> dreduce */
    wbm_map fetches; /* oid -> dfetch list (I/O thread) */
    uint64_t next_oid, next_reduce;
    int *load;       /* tasks outstanding per rank */
    int rr;
    size_t put_rr;
    qitem *qh, *qt;
    wb_buf *rel;     /* RELEASE lists per rank */
    uint32_t *nrel;
    int plugins_sent;
    int stop_status;
    double last_busy;
} dx;

static dx *D; /* the one executor of this process */

static dx *DX(wb_exec *ex) { return ex->impl; }

/* ------------------------------------------------------------ helpers */

static void blob_unref_locked(blob *b)
{
    if (b && --b->refs == 0) free(b);
}

static int rank_words(dx *x) { return (x->P + 1 + 63) / 64; }

static dobj *obj_new_locked(dx *x, int state, int holder)
{
    dobj *o = calloc(1, sizeof *o);
    uint64_t *c = calloc((size_t)rank_words(x), sizeof *c);
    if (!o || !c) {
        free(o);
        free(c);
        return NULL;
    }
    o->oid = ((uint64_t)1 << 40) | x->next_oid++;
    o->refs = 1;
    o->state = state;
    o->holder = holder;
    o->copies = c;
    if (holder > 0) c[holder / 64] |= (uint64_t)1 << (holder % 64);
    if (wbm_map_put(&x->objs, o->oid, o)) {
        free(o);
        free(c);
        return NULL;
    }
    return o;
}

static void obj_free(dobj *o)
{
    free(o->err);
    free(o->copies);
    free(o);
}

static void qpush_locked(dx *x, qitem *q)
{
    q->next = NULL;
    if (x->qt) x->qt->next = q;
    else x->qh = q;
    x->qt = q;
}

static int qmsg_locked(dx *x, int dest, wb_buf *b)
{
    qitem *q = calloc(1, sizeof *q);
    if (!q) {
        wb_buf_free(b);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    q->kind = Q_MSG;
    q->dest = dest;
    q->msg = *b;
    memset(b, 0, sizeof *b);
    qpush_locked(x, q);
    return 0;
}

/* the object goes from every rank that may hold it (locked) */
static void release_now_locked(dx *x, dobj *o)
{
    wbm_map_del(&x->objs, o->oid);
    wbm_ring(0); /* the I/O thread sends the list */
    for (int r = 1; r <= x->P; r++) {
        int has = o->holder == -1 || (o->copies[r / 64] >> (r % 64) & 1);
        if (!has) continue;
        if (!x->nrel[r]) {
            wbm_put_u8(&x->rel[r], WBM_RELEASE);
            wbm_put_u32(&x->rel[r], 0);
        }
        wbm_put_u64(&x->rel[r], o->oid);
        x->nrel[r]++;
    }
    blob_unref_locked(o->b);
    obj_free(o);
}

static void maybe_release_locked(dx *x, dobj *o)
{
    if (o->refs == 0 && o->users == 0 && o->state != D_PENDING) release_now_locked(x, o);
}

static void drop_users_locked(dx *x, const uint64_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dobj *o = wbm_map_get(&x->objs, in[i]);
        if (!o) continue;
        o->users--;
        maybe_release_locked(x, o);
    }
}

static int not_alive_locked(dx *x)
{
    if (x->dead) return wb_seterr(WB_ENET, "%s", x->dead_msg);
    if (x->stop) return wb_seterr(WB_ESTATE, "mpi: the executor is stopped");
    return 0;
}

/* ------------------------------------------------------------ the I/O thread */

static void fatal_io(dx *x, const char *fmt, ...) WB_PRINTF(2, 3);
static void fatal_io(dx *x, const char *fmt, ...)
{
    char m[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&x->mu);
    x->dead = 1;
    snprintf(x->dead_msg, sizeof x->dead_msg, "%s", m);
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    /* an MPI job does not survive a lost rank: end it, with the reason */
    char full[1100];
    snprintf(full, sizeof full, "%.1000s; ending the MPI job", m);
    wb_mpi_abort(full, 1);
}

static const char *rname(dx *x, int r, char *buf, size_t cap)
{
    if (r > 0 && r <= x->P)
        snprintf(buf, cap, "rank %d (host %s, pid %d)", r, x->ranks[r].host, x->ranks[r].pid);
    else
        snprintf(buf, cap, "rank %d", r);
    return buf;
}

static void on_done(dx *x, wbm_rd *m, int from)
{
    uint32_t n = wbm_u32(m);
    pthread_mutex_lock(&x->mu);
    for (uint32_t i = 0; i < n && !m->bad; i++) {
        uint64_t oid = wbm_u64(m);
        int code = wbm_i32(m);
        char msg[800] = "";
        wb_objstat st = {0};
        const void *data = NULL;
        size_t dlen = 0;
        int has = 0;
        if (code)
            wbm_str(m, msg, sizeof msg);
        else {
            wbm_stat(m, &st);
            has = wbm_u8(m);
            if (has) data = wbm_bytes(m, &dlen);
        }
        if (m->bad) break;
        if (from >= 1 && from <= x->P) x->load[from]--;
        dpend *p = wbm_map_del(&x->pend, oid);
        dobj *o = wbm_map_get(&x->objs, oid);
        if (o) {
            if (code) {
                o->state = D_FAILED;
                o->code = code;
                free(o->err);
                o->err = wb_strdup(msg);
            } else {
                o->stat = st;
                if (has && dlen == st.size) {
                    blob *b = malloc(sizeof *b + (dlen ? dlen : 1));
                    if (b) {
                        b->refs = 1;
                        b->len = dlen;
                        if (dlen) memcpy(b->data, data, dlen);
                        o->b = b;
                    }
                }
                o->state = D_READY;
            }
        }
        if (p) {
            drop_users_locked(x, p->in, (size_t)p->nin);
            free(p);
        }
        if (o) maybe_release_locked(x, o);
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (m->bad) {
        char rn[160];
        fatal_io(x, "mpi: a malformed result list from %s", rname(x, from, rn, sizeof rn));
    }
}

static void on_rpart(dx *x, wbm_rd *m, int from)
{
    uint64_t id = wbm_u64(m);
    int code = wbm_i32(m);
    char msg[700];
    wbm_str(m, msg, sizeof msg);
    size_t n;
    const void *p = wbm_bytes(m, &n);
    if (m->bad) {
        char rn[160];
        fatal_io(x, "mpi: a malformed reduction from %s", rname(x, from, rn, sizeof rn));
    }
    pthread_mutex_lock(&x->mu);
    dreduce *r = wbm_map_del(&x->reduces, id);
    if (r) {
        for (int k = 1; k <= x->P; k++) x->load[k] -= r->count[k];
        drop_users_locked(x, r->in, r->nin);
        r->code = code;
        snprintf(r->msg, sizeof r->msg, "%s", msg);
        if (!code) {
            r->data = malloc(n ? n : 1);
            if (r->data) {
                if (n) memcpy(r->data, p, n);
                r->size = n;
            } else {
                r->code = WB_ENOMEM;
                snprintf(r->msg, sizeof r->msg, "out of memory");
            }
        }
        r->done = 1;
        if (r->abandoned) {
            free(r->data);
            free(r->in);
            free(r->count);
            free(r);
        }
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static void fetch_finish(dx *x, dfetch *f, int rc, const char *msg)
{
    pthread_mutex_lock(&x->mu);
    f->rc = rc;
    if (msg) snprintf(f->msg, sizeof f->msg, "%s", msg);
    f->done = 1;
    if (f->abandoned) {
        free(f->data);
        free(f);
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static void fetched(void *ctx, int ok)
{
    dfetch *f = ctx;
    fetch_finish(D, f, ok ? 0 : WB_ENET, ok ? NULL : "mpi: the transfer failed");
}

static void on_obj(dx *x, wbm_rd *m, int from)
{
    uint64_t oid = wbm_u64(m);
    int tag = wbm_i32(m);
    int code = wbm_i32(m);
    dfetch *list = wbm_map_del(&x->fetches, oid);
    if (!list) return;
    dfetch *f = list; /* one fetch per object at a time: the others wait behind */
    if (f->next) wbm_map_put(&x->fetches, oid, f->next);
    f->next = NULL;
    if (code) {
        char msg[700];
        wbm_str(m, msg, sizeof msg);
        fetch_finish(x, f, code, msg);
        return;
    }
    wbm_stat(m, &f->stat);
    if (m->bad) {
        char rn[160];
        fatal_io(x, "mpi: a malformed object header from %s", rname(x, from, rn, sizeof rn));
    }
    f->data = malloc(f->stat.size ? f->stat.size : 1);
    if (!f->data) {
        fetch_finish(x, f, WB_ENOMEM, "mpi: out of memory for the object");
        return;
    }
    size_t len[2];
    int np = wbm_layout(&f->stat, len);
    void *ptr[2] = {f->data, f->data + len[0]};
    if (wbm_recv_data(&x->net, from, tag, ptr, len, np, fetched, f)) fatal_io(x, "%s", wb_errmsg());
}

static void handle(dx *x, const unsigned char *p, size_t n, int from)
{
    wbm_rd m = {p, n, 0, 0};
    int type = wbm_u8(&m);
    char rn[160];
    switch (type) {
    case WBM_DONE: on_done(x, &m, from); break;
    case WBM_RPART: on_rpart(x, &m, from); break;
    case WBM_OBJ: on_obj(x, &m, from); break;
    case WBM_HB: break;
    case WBM_FETCH: {
        uint64_t oid = wbm_u64(&m);
        int tag = wbm_i32(&m);
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_OBJ);
        wbm_put_u64(&b, oid);
        wbm_put_i32(&b, tag);
        wbm_put_i32(&b, WB_ENOTFOUND);
        wbm_put_str(&b, "the driver (rank 0) holds no objects for the ranks");
        wbm_send(&x->net, from, &b);
        break;
    }
    case WBM_FATAL: {
        char msg[800];
        wbm_str(&m, msg, sizeof msg);
        fatal_io(x, "mpi: %s failed: %s", rname(x, from, rn, sizeof rn), msg);
        break;
    }
    default: fatal_io(x, "mpi: a message of unknown type %d from %s", type, rname(x, from, rn, sizeof rn));
    }
}

typedef struct putctx {
    dx *x;
    blob *b;
} putctx;

static void put_sent(void *ctx, int ok)
{
    putctx *p = ctx;
    WB_UNUSED(ok);
    pthread_mutex_lock(&p->x->mu);
    blob_unref_locked(p->b);
    pthread_mutex_unlock(&p->x->mu);
    free(p);
}

static void bench_io(dx *x, size_t len, int reps, double *out)
{
    for (int r = 1; r <= x->P; r++) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_BENCH);
        wbm_put_u32(&b, (uint32_t)len);
        wbm_put_u32(&b, (uint32_t)reps);
        if (wbm_send(&x->net, r, &b)) fatal_io(x, "%s", wb_errmsg());
    }
    /* the tree: the root (rank 1) sends the merged nodes; blocking receives */
    int64_t nblocks = x->P;
    double *tree = calloc(len + 1, sizeof *tree), *red = calloc(len + 1, sizeof *red);
    double *zero = calloc(len + 1, sizeof *zero);
    double t0 = wb_now();
    for (int rep = 0; rep < reps; rep++) {
        MPI_Status st;
        MPI_Probe(1, WBM_TAG_DATA0 + WBM_NTAGS, x->net.comm, &st);
        int cnt;
        MPI_Get_count(&st, MPI_BYTE, &cnt);
        void *p = malloc((size_t)cnt);
        MPI_Recv(p, cnt, MPI_BYTE, 1, WBM_TAG_DATA0 + WBM_NTAGS, x->net.comm, MPI_STATUS_IGNORE);
        wb_treesum *t = wb_treesum_new(len, nblocks);
        if (wb_treesum_add_encoded(t, p, (size_t)cnt) || wb_treesum_result(t, tree)) fatal_io(x, "bench: %s", wb_errmsg());
        wb_treesum_free(t);
        free(p);
    }
    double t1 = wb_now();
    for (int rep = 0; rep < reps; rep++) MPI_Reduce(zero, red, (int)len, MPI_DOUBLE, MPI_SUM, 0, x->net.comm);
    double t2 = wb_now();
    out[0] = (t1 - t0) / reps;
    out[1] = (t2 - t1) / reps;
    out[2] = memcmp(tree, red, len * sizeof *tree) == 0;
    free(tree);
    free(red);
    free(zero);
    for (int r = 1; r <= x->P; r++) x->net.heard[r] = wb_now();
}

static void run_queue(dx *x, qitem *q)
{
    while (q) {
        qitem *nx = q->next;
        switch (q->kind) {
        case Q_MSG:
            if (wbm_send(&x->net, q->dest, &q->msg)) fatal_io(x, "%s", wb_errmsg());
            break;
        case Q_FETCH: {
            dfetch *f = q->f;
            dfetch *first = wbm_map_get(&x->fetches, f->oid);
            /* requests for one object go out one at a time, in order */
            if (first) {
                while (first->next) first = first->next;
                first->next = f;
            } else
                wbm_map_put(&x->fetches, f->oid, f);
            wb_buf b = {0};
            wbm_put_u8(&b, WBM_FETCH);
            wbm_put_u64(&b, f->oid);
            wbm_put_i32(&b, wbm_new_tag(&x->net));
            if (wbm_send(&x->net, f->holder, &b)) fatal_io(x, "%s", wb_errmsg());
            break;
        }
        case Q_PUT: {
            size_t len[2];
            int np = wbm_layout(&q->stat, len);
            const void *ptr[2] = {q->b->data, q->b->data + len[0]};
            for (int i = 0; i < q->ndests; i++) {
                int tag = wbm_new_tag(&x->net);
                wb_buf b = {0};
                wbm_put_u8(&b, WBM_PUT);
                wbm_put_u64(&b, q->oid);
                wbm_put_i32(&b, tag);
                wbm_put_stat(&b, &q->stat);
                if (wbm_send(&x->net, q->dests[i], &b)) fatal_io(x, "%s", wb_errmsg());
                putctx *pc = malloc(sizeof *pc);
                if (!pc) fatal_io(x, "mpi: out of memory");
                pc->x = x;
                pc->b = q->b;
                if (wbm_send_data(&x->net, q->dests[i], tag, ptr, len, np, put_sent, pc))
                    fatal_io(x, "%s", wb_errmsg());
            }
            pthread_mutex_lock(&x->mu);
            blob_unref_locked(q->b); /* the queue's */
            pthread_mutex_unlock(&x->mu);
            free(q->dests);
            break;
        }
        case Q_BENCH:
            bench_io(x, q->blen, q->reps, q->bench);
            pthread_mutex_lock(&x->mu);
            *q->bench_done = 1;
            pthread_cond_broadcast(&x->cv);
            pthread_mutex_unlock(&x->mu);
            break;
        }
        free(q);
        q = nx;
    }
}

static void flush_releases(dx *x)
{
    for (int r = 1; r <= x->P; r++) {
        if (!x->nrel[r]) continue;
        memcpy(x->rel[r].p + 1, &x->nrel[r], 4);
        if (wbm_send(&x->net, r, &x->rel[r])) fatal_io(x, "%s", wb_errmsg());
        x->nrel[r] = 0;
    }
}

/* ------------------------------------------------------------ driving MPI */
/* Two threads call MPI, one at a time (MPI_THREAD_SERIALIZED), each holding
 * net_mu: the I/O thread, and the caller while it submits, puts or waits.
 * A caller sends its own messages and receives the answers itself: a short
 * exchange then needs no hand-off between threads (each one a wake-up on a
 * machine whose cores are all busy). Meanwhile the I/O thread stands aside:
 * it waits on x->wake, not on the doorbell the ranks ring, and takes over
 * IO_LAZY after the caller left (a loop of calls comes back sooner), at once
 * when the caller left work in flight (a transfer MPI progresses only when
 * called). */
#define IO_LAZY 2e-3

/* is there work (asked by wbm_doze before it sleeps; net_mu held) */
static int io_busy_held(void *ctx)
{
    dx *x = ctx;
    /* twice: a probe looks at what has been received, then makes progress
     * (which may receive the message it has just missed) */
    for (int k = 0; k < 2; k++) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, WBM_TAG_CTL, x->net.comm, &flag, MPI_STATUS_IGNORE);
        if (flag) return 1;
    }
    pthread_mutex_lock(&x->mu);
    int work = x->qh != NULL || x->stop;
    for (int r = 1; r <= x->P && !work; r++) work = x->nrel[r] != 0;
    pthread_mutex_unlock(&x->mu);
    return work;
}

/* the I/O thread's look before it sleeps: a caller driving is work too (the
 * I/O thread goes to stand aside) */
static int io_busy(void *ctx)
{
    dx *x = ctx;
    pthread_mutex_lock(&x->mu);
    int drivers = x->drivers;
    pthread_mutex_unlock(&x->mu);
    if (drivers || pthread_mutex_trylock(&x->net_mu)) return 1;
    int busy = io_busy_held(x);
    pthread_mutex_unlock(&x->net_mu);
    return busy;
}

/* one pass over the network (net_mu held): the queued work, releases,
 * received messages, completions, heartbeats and the ranks' silence;
 * returns how much it did. *stop (when asked): the executor stops (its
 * STOP messages went with the queue) */
static int io_pass(dx *x, int *stop)
{
    int busy = 0;
    pthread_mutex_lock(&x->mu);
    qitem *q = x->qh;
    x->qh = x->qt = NULL;
    if (stop) *stop = x->stop;
    pthread_mutex_unlock(&x->mu);
    if (q) {
        run_queue(x, q);
        busy++;
    }
    pthread_mutex_lock(&x->mu);
    flush_releases(x);
    pthread_mutex_unlock(&x->mu);
    unsigned char *msg;
    size_t len;
    int src;
    while (wbm_poll(&x->net, &msg, &len, &src)) {
        handle(x, msg, len, src);
        free(msg);
        busy++;
    }
    busy += wbm_progress(&x->net);
    if (x->net.failed) fatal_io(x, "mpi: %s", x->net.err);
    if (stop && *stop) return busy;
    double now = wb_now();
    for (int r = 1; r <= x->P; r++) {
        if (now - x->net.said[r] > WBM_HEARTBEAT) {
            wb_buf b = {0};
            wbm_put_u8(&b, WBM_HB);
            if (wbm_send(&x->net, r, &b)) fatal_io(x, "%s", wb_errmsg());
        }
        if (now - x->net.heard[r] > x->timeout) {
            char rn[160];
            fatal_io(x, "mpi: %s sent nothing for %.1f s (it died, hung or its host is unreachable)",
                     rname(x, r, rn, sizeof rn), now - x->net.heard[r]);
        }
    }
    return busy;
}

/* the longest sleep on the doorbell: until the next heartbeat is due */
static double doze_len(dx *x)
{
    double now = wb_now(), left = WBM_DOZE_MAX;
    for (int r = 1; r <= x->P; r++) {
        double l = WBM_HEARTBEAT - (now - x->net.said[r]);
        if (l < left) left = l;
    }
    return left < 1e-3 ? 1e-3 : left;
}

static void sleep_us(double us)
{
    struct timespec ts = {0, (long)(us * 1000)};
    nanosleep(&ts, NULL);
}

/* The caller drives the network (mu held on entry and on return) until
 * done(x, arg) holds (asked under mu), the job dies or the caller is
 * interrupted; done NULL: one pass (a submit's messages go out at once).
 * Between passes that find nothing it polls for WBM_SPIN (a short task's
 * result comes within it), then sleeps on the driver's doorbell. */
static void drive_locked(dx *x, int (*done)(dx *, void *), void *arg)
{
    x->drivers++;
    pthread_mutex_unlock(&x->mu);
    pthread_mutex_lock(&x->net_mu);
    double start = wb_now(), last = start, spin = WBM_SPIN_AVG(x->wait_avg);
    for (;;) {
        int busy = io_pass(x, NULL);
        pthread_mutex_lock(&x->mu);
        if (!done || done(x, arg) || x->dead || x->stop || wb_interrupted()) break;
        pthread_mutex_unlock(&x->mu);
        double now = wb_now();
        if (busy) {
            last = now;
            continue;
        }
        double idle = now - last;
        if (idle < spin) sched_yield();
        else if (wbm_bells_on() && !x->net.nreq)
            wbm_doze(0, doze_len(x), io_busy_held, x);
        else if (idle < 200e-6)
            sched_yield();
        else
            sleep_us(idle < 2e-3 ? 20 : idle < 20e-3 ? 100 : 500);
    }
    /* mu held: the I/O thread takes over at once if work is in flight */
    x->drivers--;
    x->drove = wb_now();
    if (done) x->wait_avg += (x->drove - start - x->wait_avg) / 4;
    if (!x->drivers && (x->net.nreq || x->qh || x->fetches.n)) {
        x->handover = 1;
        pthread_cond_signal(&x->wake);
    }
    pthread_mutex_unlock(&x->net_mu);
}

/* a submit's or a put's messages: sent now by the caller, or by the I/O
 * thread when it is in a pass (mu held) */
static void send_now_locked(dx *x)
{
    if (pthread_mutex_trylock(&x->net_mu) == 0) {
        pthread_mutex_unlock(&x->net_mu);
        drive_locked(x, NULL, NULL);
    } else {
        pthread_cond_signal(&x->wake);
        wbm_ring(0);
    }
}

static void *io_main(void *arg)
{
    dx *x = arg;
    x->last_busy = wb_now();
    for (;;) {
        /* stand aside while a caller drives and shortly after (unless it
         * left work in flight) */
        pthread_mutex_lock(&x->mu);
        for (;;) {
            double now = wb_now();
            if (x->stop || x->handover || (!x->drivers && (x->qh || now - x->drove >= IO_LAZY))) break;
            double secs = x->drivers ? WBM_DOZE_MAX : x->drove + IO_LAZY - now;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(secs * 1e9);
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&x->wake, &x->mu, &ts);
        }
        x->handover = 0;
        pthread_mutex_unlock(&x->mu);
        pthread_mutex_lock(&x->net_mu);
        int stop = 0;
        int busy = io_pass(x, &stop);
        if (stop) {
            /* the STOP messages went with the queue: let the sends complete */
            double t0 = wb_now();
            while (x->net.nreq && wb_now() - t0 < 5) {
                wbm_progress(&x->net);
                usleep(200);
            }
            pthread_mutex_unlock(&x->net_mu);
            return NULL;
        }
        int nreq = x->net.nreq;
        pthread_mutex_unlock(&x->net_mu);
        double now = wb_now();
        if (busy) {
            x->last_busy = now;
            continue;
        }
        double idle = now - x->last_busy;
        if (wbm_bells_on()) {
            if (idle < WBM_SPIN) {
                sched_yield();
                continue;
            }
            if (!nreq) {
                /* nothing in flight: sleep until a rank's message, the
                 * caller's work (both ring) or the next heartbeat */
                wbm_doze(0, doze_len(x), io_busy, x);
                continue;
            }
            /* a transfer in flight: MPI progresses only when called: poll */
        }
        if (idle < 200e-6) {
            sched_yield();
            continue;
        }
        double us = idle < 2e-3 ? 20 : idle < 20e-3 ? 100 : 500;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(us * 1000);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&x->mu);
        if (!x->qh && !x->stop && !x->drivers) pthread_cond_timedwait(&x->wake, &x->mu, &ts);
        pthread_mutex_unlock(&x->mu);
    }
}

/* ------------------------------------------------------------ the interface */

static int choose_rank_locked(dx *x, const wb_task *t)
{
    int P = x->P;
    uint64_t best_local = 0;
    uint64_t local[P + 1];
    memset(local, 0, sizeof local);
    for (int k = 0; k < t->nin; k++) {
        dobj *o = wbm_map_get(&x->objs, t->in[k]);
        if (!o || o->holder <= 0) continue;
        local[o->holder] += o->state == D_READY ? (uint64_t)o->stat.size + 1 : 1;
    }
    for (int r = 1; r <= P; r++)
        if (local[r] > best_local) best_local = local[r];
    int best = -1;
    double best_load = 0;
    for (int i = 0; i < P; i++) {
        int r = 1 + (x->rr + i) % P;
        if (local[r] < best_local - best_local / 2) continue;
        double load = (double)x->load[r] / (double)(x->ranks[r].threads > 0 ? x->ranks[r].threads : 1);
        if (best < 0 || load < best_load || (load == best_load && local[r] > local[best])) {
            best = r;
            best_load = load;
        }
    }
    x->rr = (x->rr + 1) % P;
    return best;
}

/* the PLUGINS message when the driver loaded plugins since the last tasks */
static void plugins_locked(dx *x)
{
    int np = wb_plugin_count();
    if (np == x->plugins_sent) return;
    for (int r = 1; r <= x->P; r++) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_PLUGINS);
        wbm_put_u32(&b, (uint32_t)(np - x->plugins_sent));
        for (int j = x->plugins_sent; j < np; j++) {
            const char *name, *path;
            wb_plugin_info_at(j, &name, NULL, &path);
            wbm_put_str(&b, name);
            wbm_put_str(&b, path);
        }
        qmsg_locked(x, r, &b);
    }
    x->plugins_sent = np;
}

/* encode and assign tasks (locked); reduce != 0: a reduction's tasks, whose
 * per-rank counts go to *count and inputs to *rin */
static int submit_locked(dx *x, const wb_task *tasks, int n, wb_oid *outs, uint64_t reduce, int *count,
                         uint64_t *rin)
{
    int rc = not_alive_locked(x);
    if (rc) return rc;
    /* outputs get the next ids in order: an input may be an earlier task's */
    const uint64_t base = ((uint64_t)1 << 40) | x->next_oid;
    for (int i = 0; i < n; i++) {
        const wb_task *t = &tasks[i];
        if (!t->kernel || strlen(t->kernel) > 200) return wb_seterr(WB_EINVAL, "mpi: bad kernel name");
        for (int k = 0; k < t->nin; k++) {
            dobj *o = wbm_map_get(&x->objs, t->in[k]);
            int later = !reduce && t->in[k] >= base && t->in[k] < base + (uint64_t)i;
            if ((!o || o->zombie) && !later)
                return wb_seterr(WB_ENOTFOUND, "%s: input object %llx is not on this executor", t->kernel,
                                 (unsigned long long)t->in[k]);
        }
    }
    plugins_locked(x);
    int P = x->P;
    wb_buf *msgs = calloc((size_t)P + 1, sizeof *msgs);
    uint32_t *cnt = calloc((size_t)P + 1, sizeof *cnt);
    const void **lastarg = calloc((size_t)P + 1, sizeof *lastarg);
    size_t *lastlen = calloc((size_t)P + 1, sizeof *lastlen);
    if (!msgs || !cnt || !lastarg || !lastlen) {
        free(msgs);
        free(cnt);
        free(lastarg);
        free(lastlen);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    size_t nrin = 0;
    for (int i = 0; i < n && !rc; i++) {
        const wb_task *t = &tasks[i];
        int r = choose_rank_locked(x, t);
        uint64_t oid;
        if (reduce) {
            oid = ((uint64_t)1 << 40) | x->next_oid++;
            count[r]++;
        } else {
            dobj *o = obj_new_locked(x, D_PENDING, r);
            dpend *p = malloc(sizeof *p + (size_t)(t->nin ? t->nin : 1) * sizeof(uint64_t));
            if (!o || !p) {
                free(p);
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
            oid = o->oid;
            p->rank = r;
            p->nin = t->nin;
            for (int k = 0; k < t->nin; k++) p->in[k] = t->in[k];
            wbm_map_put(&x->pend, oid, p);
            outs[i] = oid;
        }
        x->load[r]++;
        wb_buf *b = &msgs[r];
        if (!cnt[r]) {
            wbm_put_u8(b, WBM_TASKS);
            wbm_put_u32(b, 0);
        }
        cnt[r]++;
        wbm_put_u64(b, oid);
        wbm_put_str(b, t->kernel);
        wbm_put_u8(b, (uint8_t)t->mode);
        wbm_put_u64(b, t->mode == WB_TASK_BLOCKSUM ? t->sumlen : 0);
        wbm_put_i64(b, t->out_rows);
        wbm_put_u64(b, reduce);
        int same = cnt[r] > 1 && lastlen[r] == t->arglen &&
                   (lastarg[r] == t->arg || (t->arglen && memcmp(lastarg[r], t->arg, t->arglen) == 0));
        wbm_put_u8(b, (uint8_t)same);
        if (!same) wbm_put_bytes(b, t->arg, t->arglen);
        lastarg[r] = t->arg;
        lastlen[r] = t->arglen;
        wbm_put_u32(b, (uint32_t)t->nin);
        for (int k = 0; k < t->nin; k++) {
            dobj *o = wbm_map_get(&x->objs, t->in[k]);
            wbm_put_u64(b, t->in[k]);
            wbm_put_i32(b, o ? o->holder : -2);
            if (o) {
                o->users++;
                o->copies[r / 64] |= (uint64_t)1 << (r % 64);
            }
            if (rin) rin[nrin++] = t->in[k];
        }
    }
    for (int r = 1; r <= P; r++) {
        if (!cnt[r]) continue;
        memcpy(msgs[r].p + 1, &cnt[r], 4);
        if (!rc) qmsg_locked(x, r, &msgs[r]);
        else wb_buf_free(&msgs[r]);
    }
    free(msgs);
    free(cnt);
    free(lastarg);
    free(lastlen);
    return rc;
}

static int d_submit(wb_exec *ex, const wb_task *tasks, int n, wb_oid *outs)
{
    dx *x = DX(ex);
    for (int i = 0; i < n; i++) outs[i] = 0;
    pthread_mutex_lock(&x->mu);
    int rc = submit_locked(x, tasks, n, outs, 0, NULL, NULL);
    if (!rc) send_now_locked(x);
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static int obj_settled(dx *x, void *arg)
{
    dobj *o = wbm_map_get(&x->objs, *(const wb_oid *)arg);
    return !o || o->state != D_PENDING;
}

static int fetch_done(dx *x, void *arg)
{
    WB_UNUSED(x);
    return ((dfetch *)arg)->done;
}

static int reduce_done(dx *x, void *arg)
{
    WB_UNUSED(x);
    return ((dreduce *)arg)->done;
}

static int flag_set(dx *x, void *arg)
{
    WB_UNUSED(x);
    return *(int *)arg;
}

static int wait_obj_locked(dx *x, wb_oid id, dobj **out)
{
    for (;;) {
        dobj *o = wbm_map_get(&x->objs, id);
        if (!o) return wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
        if (o->state == D_FAILED) return wb_seterr(o->code, "%s", o->err ? o->err : wb_strerror(o->code));
        if (o->state == D_READY) {
            *out = o;
            return 0;
        }
        if (x->dead) return wb_seterr(WB_ENET, "%s", x->dead_msg);
        if (wb_interrupted()) return wb_seterr(WB_ECANCELED, "interrupted");
        drive_locked(x, obj_settled, &id);
    }
}

static int d_wait(wb_exec *ex, const wb_oid *ids, int n)
{
    dx *x = DX(ex);
    int first = 0;
    char msg[1000] = "";
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < n; i++) {
        dobj *o;
        int rc = wait_obj_locked(x, ids[i], &o);
        if (rc == WB_ECANCELED || rc == WB_ENET) {
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

static int d_get(wb_exec *ex, wb_oid id, void **data, size_t *size)
{
    dx *x = DX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o;
    int rc = wait_obj_locked(x, id, &o);
    if (!rc && o->b) {
        rc = encode_raw(&o->stat, o->b->data, data, size);
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    dfetch *f = rc ? NULL : calloc(1, sizeof *f);
    qitem *q = rc ? NULL : calloc(1, sizeof *q);
    if (!rc && (!f || !q)) rc = wb_seterr(WB_ENOMEM, "out of memory");
    if (rc) {
        free(f);
        free(q);
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    f->oid = id;
    f->holder = o->holder;
    q->kind = Q_FETCH;
    q->f = f;
    o->users++; /* not released on its rank before it came */
    qpush_locked(x, q);
    while (!f->done) {
        if (x->dead) {
            rc = wb_seterr(WB_ENET, "%s", x->dead_msg);
            break;
        }
        if (wb_interrupted()) {
            rc = wb_seterr(WB_ECANCELED, "interrupted");
            break;
        }
        drive_locked(x, fetch_done, f);
    }
    if (!rc) {
        rc = f->rc;
        if (rc) wb_seterr(rc, "%s", f->msg);
        else rc = encode_raw(&f->stat, f->data, data, size);
        free(f->data);
        free(f);
    } else
        f->abandoned = 1;
    o = wbm_map_get(&x->objs, id);
    uint64_t one = id;
    if (o) drop_users_locked(x, &one, 1);
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static int put_raw(dx *x, const wb_objstat *st, const void *a, size_t alen, const void *b2, size_t blen, wb_oid *out)
{
    blob *b = malloc(sizeof *b + alen + blen + 1);
    if (!b) return wb_seterr(WB_ENOMEM, "out of memory (%zu bytes)", alen + blen);
    b->len = alen + blen;
    if (alen) memcpy(b->data, a, alen);
    if (blen) memcpy(b->data + alen, b2, blen);
    pthread_mutex_lock(&x->mu);
    int rc = not_alive_locked(x);
    int bcast = b->len <= WBM_BCAST_MAX;
    int holder = bcast ? -1 : 1 + (int)(x->put_rr++ % (size_t)x->P);
    dobj *o = rc ? NULL : obj_new_locked(x, D_READY, holder);
    qitem *q = o ? calloc(1, sizeof *q) : NULL;
    int *dests = q ? calloc((size_t)x->P, sizeof *dests) : NULL;
    if (!rc && !dests) {
        if (o) {
            wbm_map_del(&x->objs, o->oid);
            obj_free(o);
        }
        free(q);
        rc = wb_seterr(WB_ENOMEM, "out of memory");
    }
    if (rc) {
        pthread_mutex_unlock(&x->mu);
        free(b);
        return rc;
    }
    o->stat = *st;
    b->refs = 1; /* the queue's */
    if (bcast) {
        o->b = b;
        b->refs++;
        for (int r = 1; r <= x->P; r++) dests[q->ndests++] = r;
    } else
        dests[q->ndests++] = holder;
    q->kind = Q_PUT;
    q->oid = o->oid;
    q->stat = *st;
    q->b = b;
    b->refs += q->ndests; /* each send's */
    q->dests = dests;
    qpush_locked(x, q);
    *out = o->oid;
    send_now_locked(x);
    pthread_mutex_unlock(&x->mu);
    return 0;
}

static int d_put(wb_exec *ex, const void *data, size_t size, wb_oid *out)
{
    wb_objstat st = {0};
    st.type = WB_OBJ_BYTES;
    st.size = size;
    return put_raw(DX(ex), &st, data, size, NULL, 0, out);
}

static int d_put_part(wb_exec *ex, const wb_part *p, wb_oid *out)
{
    wb_objstat st = {0};
    st.type = WB_OBJ_PART;
    st.rows = p->rows;
    st.cols = p->cols;
    st.row0 = p->row0;
    st.has_y = p->y != NULL;
    size_t nx = (size_t)p->rows * (size_t)p->cols * 8, ny = p->y ? (size_t)p->rows * 8 : 0;
    st.size = nx + ny;
    return put_raw(DX(ex), &st, p->x, nx, p->y, ny, out);
}

static int d_ref(wb_exec *ex, wb_oid id)
{
    dx *x = DX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wbm_map_get(&x->objs, id);
    if (o && !o->zombie) o->refs++;
    pthread_mutex_unlock(&x->mu);
    return o && !o->zombie ? 0 : wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
}

static void d_release(wb_exec *ex, wb_oid id)
{
    dx *x = DX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wbm_map_get(&x->objs, id);
    if (o && !o->zombie && --o->refs == 0) {
        o->zombie = 1;
        maybe_release_locked(x, o);
    }
    pthread_mutex_unlock(&x->mu);
}

static int d_stat(wb_exec *ex, wb_oid id, wb_objstat *out)
{
    dx *x = DX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wbm_map_get(&x->objs, id);
    int rc = 0;
    if (!o) rc = wb_seterr(WB_ENOTFOUND, "object %llx not in the store", (unsigned long long)id);
    else if (o->state == D_FAILED) rc = wb_seterr(o->code, "%s", o->err ? o->err : wb_strerror(o->code));
    else if (o->state != D_READY) rc = wb_seterr(WB_ESTATE, "object %llx is not ready", (unsigned long long)id);
    else *out = o->stat;
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static void d_info(wb_exec *ex, wb_exec_info *out)
{
    dx *x = DX(ex);
    out->kind = "mpi";
    out->workers = x->P;
    int t = 0;
    for (int r = 1; r <= x->P; r++) t += x->ranks[r].threads;
    out->threads = t;
    snprintf(out->address, sizeof out->address, "mpi:%d", x->P + 1);
}

static void d_destroy(wb_exec *ex)
{
    /* the I/O thread and the table live until wbm_driver_stop (at exit) */
    WB_UNUSED(ex);
}

/* map_sum up the reduction tree */
static int d_map_sum(wb_exec *ex, const char *kernel, const wb_dataset *d, const wb_oid *extra, int nextra,
                     const void *arg, size_t arglen, double *out, size_t len)
{
    dx *x = DX(ex);
    if (!d || d->ex != ex) return wb_seterr(WB_EINVAL, "%s: the dataset belongs to another executor", kernel);
    int rc = wb_ds_check_aligned(d);
    if (rc) return rc;
    int np = d->nparts, nin = 1 + nextra;
    int64_t nblocks = (d->n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS;
    if (np == 0) {
        wb_treesum *t = wb_treesum_new(len, nblocks);
        if (!t) return wb_seterr(WB_ENOMEM, "out of memory");
        rc = wb_treesum_result(t, out);
        wb_treesum_free(t);
        return rc;
    }
    wb_task *tasks = calloc((size_t)np, sizeof *tasks);
    wb_oid *ins = calloc((size_t)np * (size_t)nin, sizeof *ins);
    dreduce *r = calloc(1, sizeof *r);
    int *count = calloc((size_t)x->P + 1, sizeof *count);
    uint64_t *rin = calloc((size_t)np * (size_t)nin, sizeof *rin);
    if (!tasks || !ins || !r || !count || !rin) {
        free(tasks);
        free(ins);
        free(r);
        free(count);
        free(rin);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (int i = 0; i < np; i++) {
        ins[(size_t)i * nin] = d->parts[i].oid;
        for (int j = 0; j < nextra; j++) ins[(size_t)i * nin + 1 + j] = extra[j];
        tasks[i] = (wb_task){kernel, ins + (size_t)i * nin, nin, arg, arglen, WB_TASK_BLOCKSUM, len, -1};
    }
    pthread_mutex_lock(&x->mu);
    r->id = ++x->next_reduce;
    r->count = count;
    r->in = rin;
    r->nin = (size_t)np * (size_t)nin;
    /* every rank takes part (the tree's shape is fixed): RBEGIN goes first */
    qitem *mark = x->qt;
    rc = not_alive_locked(x);
    for (int k = 1; k <= x->P && !rc; k++) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_RBEGIN);
        wbm_put_u64(&b, r->id);
        wbm_put_u32(&b, 0); /* the count, patched below */
        wbm_put_u64(&b, len);
        wbm_put_i64(&b, nblocks);
        rc = qmsg_locked(x, k, &b);
    }
    if (!rc) rc = submit_locked(x, tasks, np, NULL, r->id, count, rin);
    if (!rc) {
        /* patch the counts into the RBEGIN messages */
        qitem *q = mark ? mark->next : x->qh;
        for (; q; q = q->next)
            if (q->kind == Q_MSG && q->msg.len > 9 && q->msg.p[0] == WBM_RBEGIN) {
                uint64_t id;
                memcpy(&id, q->msg.p + 1, 8);
                if (id == r->id) memcpy(q->msg.p + 9, &count[q->dest], 4);
            }
        wbm_map_put(&x->reduces, r->id, r);
    } else {
        /* drop the queued RBEGINs */
        qitem *q = mark ? mark->next : x->qh, *keep_t = mark;
        while (q) {
            qitem *nx = q->next;
            wb_buf_free(&q->msg);
            free(q);
            q = nx;
        }
        if (keep_t) keep_t->next = NULL;
        else x->qh = NULL;
        x->qt = keep_t;
    }
    pthread_mutex_unlock(&x->mu);
    free(tasks);
    free(ins);
    if (rc) {
        free(r);
        free(count);
        free(rin);
        return rc;
    }
    pthread_mutex_lock(&x->mu);
    while (!r->done) {
        if (x->dead) {
            rc = wb_seterr(WB_ENET, "%s", x->dead_msg);
            break;
        }
        if (wb_interrupted()) {
            rc = wb_seterr(WB_ECANCELED, "interrupted");
            break;
        }
        drive_locked(x, reduce_done, r);
    }
    if (rc) {
        r->abandoned = 1; /* the I/O thread frees it when the tree's result comes */
        pthread_mutex_unlock(&x->mu);
        return rc;
    }
    pthread_mutex_unlock(&x->mu);
    if (r->code)
        rc = wb_seterr(r->code, "%s", r->msg);
    else {
        wb_treesum *t = wb_treesum_new(len, nblocks);
        if (!t) rc = wb_seterr(WB_ENOMEM, "out of memory");
        if (!rc) rc = wb_treesum_add_encoded(t, r->data, r->size);
        if (!rc) rc = wb_treesum_result(t, out);
        wb_treesum_free(t);
    }
    free(r->data);
    free(r->in);
    free(r->count);
    free(r);
    return rc;
}

static const wb_exec_vt mpi_vt = {"mpi", d_put, d_put_part, d_get, d_ref, d_release, d_submit,
                                  d_wait, d_stat, d_info, d_destroy, d_map_sum};

int wb_exec_is_mpi(wb_exec *ex) { return ex && ex->vt == &mpi_vt; }

int wb_mpi_ranks(wb_exec *ex, wb_mpi_rank_info *out, int max)
{
    if (!wb_exec_is_mpi(ex)) return 0;
    dx *x = DX(ex);
    int n = x->P + 1;
    for (int r = 0; r < n && r < max; r++) {
        out[r].rank = r;
        snprintf(out[r].host, sizeof out[r].host, "%s", x->ranks[r].host);
        out[r].pid = x->ranks[r].pid;
        out[r].threads = r ? x->ranks[r].threads : 0;
    }
    return n;
}

int wb_mpi_holder(wb_exec *ex, wb_oid id)
{
    if (!wb_exec_is_mpi(ex)) return 0;
    dx *x = DX(ex);
    pthread_mutex_lock(&x->mu);
    dobj *o = wbm_map_get(&x->objs, id);
    int h = o ? o->holder : 0;
    pthread_mutex_unlock(&x->mu);
    return h;
}

int wbm_driver_bench(wb_exec *ex, size_t len, int reps, double out[3])
{
    if (!wb_exec_is_mpi(ex)) return wb_seterr(WB_EINVAL, "not an MPI executor");
    dx *x = DX(ex);
    int done = 0;
    qitem *q = calloc(1, sizeof *q);
    if (!q) return wb_seterr(WB_ENOMEM, "out of memory");
    q->kind = Q_BENCH;
    q->blen = len;
    q->reps = reps;
    q->bench = out;
    q->bench_done = &done;
    pthread_mutex_lock(&x->mu);
    int rc = not_alive_locked(x);
    if (!rc) qpush_locked(x, q);
    else free(q);
    while (!rc && !done) {
        if (x->dead) rc = wb_seterr(WB_ENET, "%s", x->dead_msg);
        else drive_locked(x, flag_set, &done);
    }
    pthread_mutex_unlock(&x->mu);
    return rc;
}

int wbm_driver_new(MPI_Comm comm, const wbm_rankinfo *ranks, double timeout, wb_exec **out)
{
    dx *x = calloc(1, sizeof *x);
    wb_exec *ex = calloc(1, sizeof *ex);
    if (!x || !ex) {
        free(x);
        free(ex);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    if (wbm_net_init(&x->net, comm)) return WB_ENOMEM;
    x->P = x->net.size - 1;
    x->ranks = calloc((size_t)x->net.size, sizeof *x->ranks);
    x->load = calloc((size_t)x->net.size, sizeof *x->load);
    x->rel = calloc((size_t)x->net.size, sizeof *x->rel);
    x->nrel = calloc((size_t)x->net.size, sizeof *x->nrel);
    if (!x->ranks || !x->load || !x->rel || !x->nrel) return wb_seterr(WB_ENOMEM, "out of memory");
    memcpy(x->ranks, ranks, (size_t)x->net.size * sizeof *ranks);
    x->timeout = timeout;
    x->plugins_sent = wb_plugin_count();
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    pthread_cond_init(&x->wake, NULL);
    pthread_mutex_init(&x->net_mu, NULL);
    ex->vt = &mpi_vt;
    ex->refs = 1;
    ex->impl = x;
    x->ex = ex;
    D = x;
    if (pthread_create(&x->io, NULL, io_main, x) != 0) return wb_seterr(WB_EINTERNAL, "mpi: cannot start the I/O thread");
    x->io_started = 1;
    *out = ex;
    return 0;
}

void wbm_driver_stop(int status)
{
    dx *x = D;
    if (!x || !x->io_started) return;
    pthread_mutex_lock(&x->mu);
    for (int r = 1; r <= x->P; r++) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_STOP);
        wbm_put_i32(&b, status);
        qmsg_locked(x, r, &b);
    }
    x->stop = 1;
    pthread_cond_signal(&x->wake);
    wbm_ring(0);
    pthread_mutex_unlock(&x->mu);
    pthread_join(x->io, NULL);
    x->io_started = 0;
}
