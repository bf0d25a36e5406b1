/* mpi/rank.c — an executor rank (rank > 0): runs the driver's tasks on its
 * own thread pool over its own object store, serves its objects to the other
 * ranks, and does its part of each reduction tree.
 *
 * The loop receives messages, starts and completes transfers, hands tasks
 * to the pool and collects their results; one thread at a time holds it and
 * calls MPI (the main thread, or an idle pool thread: see "the loop's role"
 * below). A task goes to the pool only when each input is here, or is the
 * output of a task already in the pool (which runs first: the pool is FIFO),
 * so pool threads never wait on the network. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"

enum { O_HELD = 1, O_PUSHED = 2, O_INCOMING = 3, O_READY = 4, O_FAILED = 5 };

typedef struct argblob {
    int refs;
    size_t len;
    unsigned char data[];
} argblob;

typedef struct rtask {
    struct rtask *next;
    uint64_t out;
    char *kernel;
    wb_kernel_fn fn;
    int mode;
    size_t sumlen;
    int64_t out_rows;
    uint64_t reduce;
    argblob *arg;
    int nin, nref;
    uint64_t *in;
    int nwait;
    int rc;
    char *err;
} rtask;

typedef struct freq {
    int rank, tag;
    double since;
    struct freq *next;
} freq;

typedef struct robj {
    uint64_t oid;
    int st;
    rtask **waiters;
    int nw, capw;
    freq *fetchers;
    int reduce_out;
} robj;

typedef struct rreduce {
    uint64_t id;
    int begun;
    int ntasks, ndone;
    int nchildren, nchild_got;
    size_t len;
    int64_t nblocks;
    void **sets;
    size_t *sizes;
    int nsets, capsets;
    int code;
    char msg[600];
} rreduce;

typedef struct rk {
    wbm_net net;
    wb_store *store;
    wbm_map objs;    /* oid -> robj */
    wbm_map early;   /* oid -> freq list: fetches that came before the task making the object */
    double early_check;
    wbm_map reduces; /* id -> rreduce */
    int threads;
    double timeout;
    char driver_host[64];
    /* pool */
    pthread_mutex_t mu;
    pthread_cond_t cv, loop_cv;
    rtask *qh, *qt, *dh, *dt;
    int stop_pool, running, queued;
    int avail; /* queued, also read without the lock (a pool thread's spin) */
    pthread_t *th;
    int nth;
    /* the loop's role (under mu): who receives messages and sends results */
    int role;          /* ROLE_NONE, ROLE_MAIN or ROLE_POOL */
    int offer;         /* the main thread offers the role to an idle pool thread */
    int idle_threads;  /* pool threads waiting for a task or the role */
    int main_long;     /* the main thread waits for the role with a long timeout */
    double task_began; /* when a pool thread holding the role last left it for a task */
    double gap_avg;    /* how long the loop lately waited for work (WBM_SPIN_AVG) */
    pthread_cond_t main_cv; /* the main thread waits here for the role */
    /* DONE entries for the driver */
    wb_buf done;
    uint32_t ndone;
    int stopping, status;
    double last_busy;
    int loaded_plugins;
} rk;

static rk *R;

/* The loop (receiving messages, handing tasks out, sending results) is a
 * role one thread holds at a time: the main thread while the pool works;
 * an idle pool thread when the pool is idle. A pool thread holding the role
 * that receives a task leaves the role and runs the task itself, then takes
 * the role again to send the result: a short task costs no hand-off between
 * threads. The main thread takes the role when nobody holds it (within
 * MAIN_PARK while tasks come, at once when it is told), and offers it back
 * when the pool is idle. */
enum { ROLE_NONE = 0, ROLE_MAIN = 1, ROLE_POOL = 2 };
#define MAIN_PARK 1e-3

static int loop_pass(rk *r);
static void idle_wait(rk *r, double idle);

/* the loop found work after `idle` s without */
static void note_gap(rk *r, double idle) { r->gap_avg += (idle - r->gap_avg) / 4; }

static void fatal(rk *r, const char *fmt, ...) WB_PRINTF(2, 3);
static void fatal(rk *r, const char *fmt, ...)
{
    char m[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    char full[1100];
    snprintf(full, sizeof full, "mpi: rank %d (%s, pid %d): %s", r->net.rank, wbm_hostname(), (int)getpid(), m);
    /* tell the driver first (it names this rank in its own message), then end the job */
    wb_buf b = {0};
    wbm_put_u8(&b, WBM_FATAL);
    wbm_put_str(&b, m);
    if (!r->net.failed) MPI_Send(b.p, (int)b.len, MPI_BYTE, 0, WBM_TAG_CTL, r->net.comm);
    wb_buf_free(&b);
    wb_mpi_abort(full, 1);
}

/* ------------------------------------------------------------------ pool */

/* a pool thread holds the role (taken under mu): the loop until a task is
 * queued or the job ends; then the role is left (mu held on return) */
static void pool_lead(rk *r)
{
    double last = wb_now();
    int idled = 0;
    for (;;) {
        int busy = loop_pass(r);
        if (busy && idled) note_gap(r, wb_now() - last);
        idled = !busy;
        pthread_mutex_lock(&r->mu);
        if (r->qh || r->stopping || r->stop_pool) {
            r->role = ROLE_NONE;
            r->task_began = wb_now();
            /* the main thread takes the role while the task runs: told at
             * once when the job ends, a transfer is in flight or it waits long */
            if (r->stopping || r->stop_pool || r->net.nreq || r->main_long) pthread_cond_signal(&r->main_cv);
            return;
        }
        pthread_mutex_unlock(&r->mu);
        double now = wb_now();
        if (busy) {
            last = now;
            continue;
        }
        idle_wait(r, now - last);
    }
}

static void *pool_main(void *arg)
{
    rk *r = arg;
    double spin_until = 0;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->qh && !r->stop_pool) {
            if (r->offer && r->role == ROLE_NONE) {
                r->offer = 0;
                r->role = ROLE_POOL;
                pthread_mutex_unlock(&r->mu);
                pool_lead(r);
                continue;
            }
            if (spin_until > 0) {
                /* just after a task: the next one of a quick exchange comes
                 * within microseconds; a sleep would make it wait for a
                 * wake-up. The queue's count is watched without the lock. */
                pthread_mutex_unlock(&r->mu);
                while (!__atomic_load_n(&r->avail, __ATOMIC_ACQUIRE) && wb_now() < spin_until) sched_yield();
                spin_until = 0;
                pthread_mutex_lock(&r->mu);
                continue;
            }
            r->idle_threads++;
            pthread_cond_wait(&r->cv, &r->mu);
            r->idle_threads--;
        }
        if (!r->qh) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        rtask *t = r->qh;
        r->qh = t->next;
        if (!r->qh) r->qt = NULL;
        r->queued--;
        __atomic_store_n(&r->avail, r->queued, __ATOMIC_RELEASE);
        r->running++;
        pthread_mutex_unlock(&r->mu);
        wb_task task = {t->kernel, t->in, t->nin, t->arg ? t->arg->data : NULL, t->arg ? t->arg->len : 0,
                        t->mode, t->sumlen, t->out_rows};
        wb_clearerr();
        t->rc = wb_task_run(r->store, &task, t->fn, t->out);
        if (t->rc) t->err = wb_strdup(wb_errmsg());
        pthread_mutex_lock(&r->mu);
        t->next = NULL;
        if (r->dt) r->dt->next = t;
        else r->dh = t;
        r->dt = t;
        r->running--;
        if (r->role == ROLE_NONE && !r->stop_pool) {
            /* nobody holds the loop: this thread sends the result itself */
            r->offer = 0;
            r->role = ROLE_POOL;
            pthread_mutex_unlock(&r->mu);
            pool_lead(r);
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        pthread_cond_signal(&r->loop_cv);
        pthread_mutex_unlock(&r->mu);
        wbm_ring(r->net.rank); /* the loop may sleep on its doorbell */
        spin_until = wb_now() + WBM_POOL_SPIN;
    }
}

static robj *obj_new(rk *r, uint64_t oid, int st)
{
    robj *o = calloc(1, sizeof *o);
    if (!o || wbm_map_put(&r->objs, oid, o)) {
        free(o);
        fatal(r, "out of memory");
    }
    o->oid = oid;
    o->st = st;
    /* a rank that runs a task reading this object may ask for it before the
     * driver's message making it arrives here (messages from two ranks keep
     * no order between them): its request waits for the object */
    o->fetchers = wbm_map_del(&r->early, oid);
    return o;
}

static void push_task(rk *r, rtask *t);

/* an object became usable by waiting tasks (pushed, ready or failed) */
static void obj_avail(rk *r, robj *o)
{
    rtask **w = o->waiters;
    int n = o->nw;
    o->waiters = NULL;
    o->nw = o->capw = 0;
    for (int i = 0; i < n; i++)
        if (--w[i]->nwait == 0) push_task(r, w[i]);
    free(w);
}

static void push_task(rk *r, rtask *t)
{
    robj *o = wbm_map_get(&r->objs, t->out);
    if (o) o->st = O_PUSHED;
    pthread_mutex_lock(&r->mu);
    t->next = NULL;
    if (r->qt) r->qt->next = t;
    else r->qh = t;
    r->qt = t;
    r->queued++;
    __atomic_store_n(&r->avail, r->queued, __ATOMIC_RELEASE);
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (o) obj_avail(r, o);
}

static void task_free(rk *r, rtask *t)
{
    for (int i = 0; i < t->nref; i++) wb_store_unref(r->store, t->in[i]);
    if (t->arg && --t->arg->refs == 0) free(t->arg);
    free(t->in);
    free(t->kernel);
    free(t->err);
    free(t);
}

/* ------------------------------------------------------------ sending objects */

typedef struct sendctx {
    rk *r;
    uint64_t oid;
} sendctx;

static void sent_obj(void *ctx, int ok)
{
    sendctx *s = ctx;
    WB_UNUSED(ok);
    wb_store_unref(s->r->store, s->oid);
    free(s);
}

static void send_obj(rk *r, uint64_t oid, int to, int tag)
{
    wb_obj ob;
    wb_buf b = {0};
    wbm_put_u8(&b, WBM_OBJ);
    wbm_put_u64(&b, oid);
    wbm_put_i32(&b, tag);
    int rc = wb_store_acquire(r->store, oid, &ob);
    if (rc) {
        char m[800];
        if (rc == WB_ENOTFOUND)
            snprintf(m, sizeof m, "rank %d (%s) does not hold object %llx", r->net.rank, wbm_hostname(),
                     (unsigned long long)oid);
        else
            snprintf(m, sizeof m, "%s", wb_errmsg());
        wbm_put_i32(&b, rc);
        wbm_put_str(&b, m);
        if (wbm_send(&r->net, to, &b)) fatal(r, "%s", wb_errmsg());
        return;
    }
    wb_objstat st = {0};
    st.type = ob.type;
    st.size = ob.size;
    const void *ptr[2] = {ob.data, NULL};
    if (ob.type == WB_OBJ_PART) {
        st.rows = ob.part.rows;
        st.cols = ob.part.cols;
        st.row0 = ob.part.row0;
        st.has_y = ob.part.y != NULL;
        ptr[0] = ob.part.x;
        ptr[1] = ob.part.y;
    }
    wbm_put_i32(&b, 0);
    wbm_put_stat(&b, &st);
    if (wbm_send(&r->net, to, &b)) fatal(r, "%s", wb_errmsg());
    size_t len[2];
    int np = wbm_layout(&st, len);
    sendctx *s = malloc(sizeof *s);
    if (!s) fatal(r, "out of memory");
    s->r = r;
    s->oid = oid;
    if (wbm_send_data(&r->net, to, tag, ptr, len, np, sent_obj, s)) fatal(r, "%s", wb_errmsg());
}

static void serve_fetchers(rk *r, robj *o)
{
    freq *f = o->fetchers;
    o->fetchers = NULL;
    while (f) {
        freq *nx = f->next;
        send_obj(r, o->oid, f->rank, f->tag);
        free(f);
        f = nx;
    }
}

/* ------------------------------------------------------------ receiving objects */

typedef struct recvctx {
    rk *r;
    uint64_t oid;
    wb_objstat st;
    void *buf;
    int from;
} recvctx;

static void received(void *ctx, int ok)
{
    recvctx *c = ctx;
    rk *r = c->r;
    robj *o = wbm_map_get(&r->objs, c->oid);
    if (!o) { /* released meanwhile */
        free(c->buf);
        free(c);
        return;
    }
    int rc;
    if (!ok) {
        rc = wb_store_fail(r->store, c->oid, WB_ENET, "mpi: the transfer failed");
        free(c->buf);
        o->st = O_FAILED;
    } else {
        if (c->st.type == WB_OBJ_PART) {
            size_t nx = (size_t)c->st.rows * (size_t)c->st.cols;
            wb_part p = {c->st.rows, c->st.cols, c->st.row0, c->buf, c->st.has_y ? (double *)c->buf + nx : NULL};
            rc = wb_store_fulfill_part(r->store, c->oid, &p, c->buf, NULL);
        } else
            rc = wb_store_fulfill_bytes(r->store, c->oid, c->buf, c->st.size);
        if (rc) wb_store_fail(r->store, c->oid, rc, wb_errmsg());
        o->st = rc ? O_FAILED : O_READY;
    }
    free(c);
    obj_avail(r, o);
    serve_fetchers(r, o);
}

/* post the receive of an object whose header came (from a PUT or an OBJ) */
static void recv_obj(rk *r, uint64_t oid, const wb_objstat *st, int from, int tag)
{
    recvctx *c = calloc(1, sizeof *c);
    size_t bytes = st->size;
    void *buf = st->type == WB_OBJ_PART ? wb__alloc_big(bytes + 8) : malloc(bytes ? bytes : 1);
    if (!c || !buf) fatal(r, "out of memory for an object of %zu bytes from rank %d", bytes, from);
    c->r = r;
    c->oid = oid;
    c->st = *st;
    c->buf = buf;
    c->from = from;
    size_t len[2];
    int np = wbm_layout(st, len);
    void *ptr[2] = {buf, (char *)buf + len[0]};
    if (wbm_recv_data(&r->net, from, tag, ptr, len, np, received, c)) fatal(r, "%s", wb_errmsg());
}

/* ------------------------------------------------------------ reductions */

static rreduce *reduce_get(rk *r, uint64_t id)
{
    rreduce *x = wbm_map_get(&r->reduces, id);
    if (x) return x;
    x = calloc(1, sizeof *x);
    if (!x || wbm_map_put(&r->reduces, id, x)) fatal(r, "out of memory");
    x->id = id;
    int ch[64];
    x->nchildren = wbm_tree_children(r->net.rank, r->net.size, ch, 64);
    return x;
}

static void reduce_add(rk *r, rreduce *x, const void *data, size_t size)
{
    if (x->nsets == x->capsets) {
        int cap = x->capsets ? x->capsets * 2 : 8;
        void **s = realloc(x->sets, (size_t)cap * sizeof *s);
        size_t *z = realloc(x->sizes, (size_t)cap * sizeof *z);
        if (!s || !z) fatal(r, "out of memory");
        x->sets = s;
        x->sizes = z;
        x->capsets = cap;
    }
    void *c = malloc(size ? size : 1);
    if (!c) fatal(r, "out of memory");
    memcpy(c, data, size);
    x->sets[x->nsets] = c;
    x->sizes[x->nsets++] = size;
}

static void reduce_check(rk *r, rreduce *x)
{
    if (!x->begun || x->ndone < x->ntasks || x->nchild_got < x->nchildren) return;
    wb_buf b = {0};
    wbm_put_u8(&b, WBM_RPART);
    wbm_put_u64(&b, x->id);
    void *out = NULL;
    size_t size = 0;
    if (!x->code && wbm_nodes_merge((const void *const *)x->sets, x->sizes, x->nsets, x->len, &out, &size)) {
        x->code = WB_EINTERNAL;
        snprintf(x->msg, sizeof x->msg, "rank %d: %s", r->net.rank, wb_errmsg());
    }
    wbm_put_i32(&b, x->code);
    wbm_put_str(&b, x->code ? x->msg : "");
    wbm_put_bytes(&b, out, x->code ? 0 : size);
    free(out);
    if (wbm_send(&r->net, wbm_tree_parent(r->net.rank), &b)) fatal(r, "%s", wb_errmsg());
    wbm_map_del(&r->reduces, x->id);
    for (int i = 0; i < x->nsets; i++) free(x->sets[i]);
    free(x->sets);
    free(x->sizes);
    free(x);
}

/* ------------------------------------------------------------ completions */

static void done_entry(rk *r, uint64_t oid, int code, const char *msg)
{
    wbm_put_u64(&r->done, oid);
    wbm_put_i32(&r->done, code);
    r->ndone++;
    if (code) {
        wbm_put_str(&r->done, msg);
        return;
    }
    wb_obj ob;
    if (wb_store_acquire(r->store, oid, &ob)) { /* cannot happen: it was just made */
        wb_objstat z = {0};
        z.type = WB_OBJ_BYTES;
        wbm_put_stat(&r->done, &z);
        wbm_put_u8(&r->done, 0);
        return;
    }
    wb_objstat st = {0};
    st.type = ob.type;
    st.size = ob.size;
    if (ob.type == WB_OBJ_PART) {
        st.rows = ob.part.rows;
        st.cols = ob.part.cols;
        st.row0 = ob.part.row0;
        st.has_y = ob.part.y != NULL;
    }
    wbm_put_stat(&r->done, &st);
    if (st.size <= WBM_INLINE_MAX) {
        wbm_put_u8(&r->done, 1);
        if (ob.type == WB_OBJ_PART) {
            size_t len[2];
            wbm_layout(&st, len);
            wbm_put_u64(&r->done, st.size);
            wb_buf_add(&r->done, ob.part.x, len[0]);
            if (len[1]) wb_buf_add(&r->done, ob.part.y, len[1]);
        } else
            wbm_put_bytes(&r->done, ob.data, ob.size);
    } else
        wbm_put_u8(&r->done, 0);
    wb_store_unref(r->store, oid);
}

static void flush_done(rk *r)
{
    if (!r->ndone) return;
    wb_buf b = {0};
    wbm_put_u8(&b, WBM_DONE);
    wbm_put_u32(&b, r->ndone);
    wb_buf_add(&b, r->done.p, r->done.len);
    r->done.len = 0;
    r->ndone = 0;
    if (wbm_send(&r->net, 0, &b)) fatal(r, "%s", wb_errmsg());
}

static void complete(rk *r, rtask *t)
{
    robj *o = wbm_map_get(&r->objs, t->out);
    if (t->rc && t->rc != WB_ECANCELED && (!t->err || strncmp(t->err, "rank ", 5) != 0)) {
        /* the rank and its host go with the message (a file missing on one host) */
        char m[1000];
        snprintf(m, sizeof m, "rank %d (%s): %s", r->net.rank, wbm_hostname(), t->err ? t->err : wb_strerror(t->rc));
        free(t->err);
        t->err = wb_strdup(m);
    }
    if (t->reduce) {
        rreduce *x = reduce_get(r, t->reduce);
        if (t->rc) {
            if (!x->code) {
                x->code = t->rc;
                snprintf(x->msg, sizeof x->msg, "%s", t->err ? t->err : wb_strerror(t->rc));
            }
        } else if (!x->code) {
            wb_obj ob;
            if (wb_store_acquire(r->store, t->out, &ob) == 0) {
                reduce_add(r, x, ob.data, ob.size);
                wb_store_unref(r->store, t->out);
            }
        }
        x->ndone++;
        if (o) {
            wbm_map_del(&r->objs, t->out);
            free(o->waiters);
            free(o);
        }
        wb_store_unref(r->store, t->out); /* a partial result is not kept */
        task_free(r, t);
        reduce_check(r, x);
        return;
    }
    done_entry(r, t->out, t->rc, t->err ? t->err : "");
    if (o) {
        o->st = t->rc ? O_FAILED : O_READY;
        obj_avail(r, o);
        serve_fetchers(r, o);
    }
    task_free(r, t);
}

/* ------------------------------------------------------------ messages */

static void task_input(rk *r, rtask *t, uint64_t oid, int holder)
{
    robj *o = wbm_map_get(&r->objs, oid);
    if (!o) {
        if (holder == r->net.rank || holder < 0 || holder >= r->net.size) {
            /* should be here: the task fails with a clear message in task_run */
            return;
        }
        /* fetch it from its holder */
        if (wb_store_reserve_id(r->store, oid)) fatal(r, "%s", wb_errmsg());
        o = obj_new(r, oid, O_INCOMING);
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_FETCH);
        wbm_put_u64(&b, oid);
        wbm_put_i32(&b, wbm_new_tag(&r->net));
        if (wbm_send(&r->net, holder, &b)) fatal(r, "%s", wb_errmsg());
    }
    if (wb_store_ref(r->store, oid) == 0) t->in[t->nref++] = oid;
    if (o->st == O_HELD || o->st == O_INCOMING) {
        if (o->nw == o->capw) {
            int cap = o->capw ? o->capw * 2 : 4;
            rtask **w = realloc(o->waiters, (size_t)cap * sizeof *w);
            if (!w) fatal(r, "out of memory");
            o->waiters = w;
            o->capw = cap;
        }
        o->waiters[o->nw++] = t;
        t->nwait++;
    }
}

static void on_tasks(rk *r, wbm_rd *m)
{
    uint32_t n = wbm_u32(m);
    argblob *prev = NULL;
    for (uint32_t i = 0; i < n && !m->bad; i++) {
        rtask *t = calloc(1, sizeof *t);
        if (!t) fatal(r, "out of memory");
        t->out = wbm_u64(m);
        char kname[256];
        wbm_str(m, kname, sizeof kname);
        t->kernel = wb_strdup(kname);
        t->fn = wb_kernel_find(kname);
        t->mode = wbm_u8(m);
        t->sumlen = (size_t)wbm_u64(m);
        t->out_rows = wbm_i64(m);
        t->reduce = wbm_u64(m);
        uint8_t same = wbm_u8(m);
        if (same) {
            t->arg = prev;
        } else {
            size_t alen;
            const void *a = wbm_bytes(m, &alen);
            if (alen) {
                prev = malloc(sizeof *prev + alen);
                if (!prev) fatal(r, "out of memory");
                prev->refs = 0;
                prev->len = alen;
                memcpy(prev->data, a, alen);
            } else
                prev = NULL;
            t->arg = prev;
        }
        if (t->arg) t->arg->refs++;
        t->nin = (int)wbm_u32(m);
        if (m->bad || t->nin < 0 || t->nin > 1 << 20) break;
        t->in = calloc((size_t)(t->nin ? t->nin : 1), sizeof *t->in);
        if (!t->in || !t->kernel) fatal(r, "out of memory");
        uint64_t *ins = calloc((size_t)(t->nin ? t->nin : 1), sizeof *ins);
        int *hold = calloc((size_t)(t->nin ? t->nin : 1), sizeof *hold);
        if (!ins || !hold) fatal(r, "out of memory");
        for (int k = 0; k < t->nin; k++) {
            ins[k] = wbm_u64(m);
            hold[k] = wbm_i32(m);
        }
        if (m->bad) {
            free(ins);
            free(hold);
            task_free(r, t);
            break;
        }
        if (wb_store_reserve_id(r->store, t->out)) fatal(r, "%s", wb_errmsg());
        robj *o = obj_new(r, t->out, O_HELD);
        o->reduce_out = t->reduce != 0;
        for (int k = 0; k < t->nin; k++) task_input(r, t, ins[k], hold[k]);
        /* task_run names what is missing: keep the ids it should wait for */
        if (t->nref != t->nin) {
            for (int k = 0; k < t->nref; k++) wb_store_unref(r->store, t->in[k]);
            for (int k = 0; k < t->nin; k++) t->in[k] = ins[k];
            t->nref = 0;
            char msg[300];
            uint64_t miss = 0;
            for (int k = 0; k < t->nin && !miss; k++)
                if (!wbm_map_get(&r->objs, ins[k])) miss = ins[k];
            snprintf(msg, sizeof msg, "rank %d (%s): %s: input object %llx is not here", r->net.rank,
                     wbm_hostname(), kname, (unsigned long long)miss);
            /* unlist from whatever it waits on */
            for (int k = 0; k < t->nin; k++) {
                robj *w = wbm_map_get(&r->objs, ins[k]);
                if (!w) continue;
                for (int j = 0; j < w->nw; j++)
                    if (w->waiters[j] == t) w->waiters[j--] = w->waiters[--w->nw];
            }
            t->nwait = 0;
            wb_store_fail(r->store, t->out, WB_ENOTFOUND, msg);
            t->rc = WB_ENOTFOUND;
            t->err = wb_strdup(msg);
            free(ins);
            free(hold);
            complete(r, t);
            continue;
        }
        free(ins);
        free(hold);
        if (!t->fn) {
            /* task_run fails it with "no kernel named" and this rank's name */
            char msg[400];
            snprintf(msg, sizeof msg, "rank %d (%s) has no kernel named '%s'", r->net.rank, wbm_hostname(), kname);
            for (int k = 0; k < t->nin; k++) {
                robj *w = wbm_map_get(&r->objs, t->in[k]);
                if (!w) continue;
                for (int j = 0; j < w->nw; j++)
                    if (w->waiters[j] == t) w->waiters[j--] = w->waiters[--w->nw];
            }
            t->nwait = 0;
            wb_store_fail(r->store, t->out, WB_ENOTFOUND, msg);
            t->rc = WB_ENOTFOUND;
            t->err = wb_strdup(msg);
            complete(r, t);
            continue;
        }
        if (t->nwait == 0) push_task(r, t);
    }
    if (m->bad) fatal(r, "a malformed task list from the driver");
}

static void on_fetch(rk *r, wbm_rd *m, int from)
{
    uint64_t oid = wbm_u64(m);
    int tag = wbm_i32(m);
    if (m->bad) fatal(r, "a malformed FETCH from rank %d", from);
    robj *o = wbm_map_get(&r->objs, oid);
    int here = wb_store_state(r->store, oid) >= 0;
    if ((o && o->st != O_READY && o->st != O_FAILED) || (!o && !here)) {
        freq *f = malloc(sizeof *f);
        if (!f) fatal(r, "out of memory");
        f->rank = from;
        f->tag = tag;
        f->since = wb_now();
        if (o) {
            f->next = o->fetchers;
            o->fetchers = f;
        } else {
            f->next = wbm_map_get(&r->early, oid);
            wbm_map_put(&r->early, oid, f);
        }
        return;
    }
    send_obj(r, oid, from, tag);
}

static void on_obj(rk *r, wbm_rd *m, int from)
{
    uint64_t oid = wbm_u64(m);
    int tag = wbm_i32(m);
    int code = wbm_i32(m);
    robj *o = wbm_map_get(&r->objs, oid);
    if (code) {
        char msg[700];
        wbm_str(m, msg, sizeof msg);
        if (!o) return;
        wb_store_fail(r->store, oid, code, msg);
        o->st = O_FAILED;
        obj_avail(r, o);
        serve_fetchers(r, o);
        return;
    }
    wb_objstat st;
    wbm_stat(m, &st);
    if (m->bad) fatal(r, "a malformed OBJ from rank %d", from);
    recv_obj(r, oid, &st, from, tag); /* received() finds the object gone if it was released */
}

static void on_put(rk *r, wbm_rd *m)
{
    uint64_t oid = wbm_u64(m);
    int tag = wbm_i32(m);
    wb_objstat st;
    wbm_stat(m, &st);
    if (m->bad) fatal(r, "a malformed PUT from the driver");
    if (wb_store_reserve_id(r->store, oid)) fatal(r, "%s", wb_errmsg());
    obj_new(r, oid, O_INCOMING);
    recv_obj(r, oid, &st, 0, tag);
}

static void on_release(rk *r, wbm_rd *m)
{
    uint32_t n = wbm_u32(m);
    for (uint32_t i = 0; i < n && !m->bad; i++) {
        uint64_t oid = wbm_u64(m);
        if (m->bad) break;
        robj *o = wbm_map_del(&r->objs, oid);
        if (!o) continue;
        /* fetches still waiting for it get an error (the driver released
         * it: no task of this job needs it any more) */
        o->st = O_FAILED;
        freq *f = o->fetchers;
        o->fetchers = NULL;
        free(o->waiters);
        free(o);
        wb_store_fail(r->store, oid, WB_ENOTFOUND, "released");
        while (f) {
            freq *nx = f->next;
            send_obj(r, oid, f->rank, f->tag);
            free(f);
            f = nx;
        }
        wb_store_unref(r->store, oid);
    }
}

static void on_rbegin(rk *r, wbm_rd *m)
{
    uint64_t id = wbm_u64(m);
    uint32_t ntasks = wbm_u32(m);
    uint64_t len = wbm_u64(m);
    int64_t nblocks = wbm_i64(m);
    if (m->bad) fatal(r, "a malformed RBEGIN from the driver");
    rreduce *x = reduce_get(r, id);
    x->begun = 1;
    x->ntasks = (int)ntasks;
    x->len = (size_t)len;
    x->nblocks = nblocks;
    reduce_check(r, x);
}

static void on_rpart(rk *r, wbm_rd *m, int from)
{
    uint64_t id = wbm_u64(m);
    int code = wbm_i32(m);
    char msg[600];
    wbm_str(m, msg, sizeof msg);
    size_t n;
    const void *p = wbm_bytes(m, &n);
    if (m->bad) fatal(r, "a malformed reduction part from rank %d", from);
    rreduce *x = reduce_get(r, id);
    x->nchild_got++;
    if (code && !x->code) {
        x->code = code;
        snprintf(x->msg, sizeof x->msg, "%s", msg);
    } else if (!code && !x->code)
        reduce_add(r, x, p, n);
    reduce_check(r, x);
}

static void on_plugins(rk *r, wbm_rd *m)
{
    uint32_t n = wbm_u32(m);
    for (uint32_t i = 0; i < n && !m->bad; i++) {
        char name[256], path[4096];
        wbm_str(m, name, sizeof name);
        wbm_str(m, path, sizeof path);
        int have = 0;
        for (int j = 0; j < wb_plugin_count() && !have; j++) {
            const char *nm;
            wb_plugin_info_at(j, &nm, NULL, NULL);
            have = !strcmp(nm, name);
        }
        if (!have && wb_plugin_load(path))
            wb_log(WB_LOG_WARN, "mpi: rank %d (%s): %s", r->net.rank, wbm_hostname(), wb_errmsg());
    }
}

/* the reduction benchmark: the same tree over blocking sends, then MPI_Reduce */
static void on_bench(rk *r, wbm_rd *m)
{
    uint32_t len = wbm_u32(m), reps = wbm_u32(m);
    if (m->bad) fatal(r, "a malformed BENCH from the driver");
    double *v = malloc((size_t)len * sizeof *v + 8);
    if (!v) fatal(r, "out of memory");
    for (uint32_t k = 0; k < len; k++) v[k] = 1.0 / (double)(r->net.rank + k + 1);
    int ch[64];
    int nch = wbm_tree_children(r->net.rank, r->net.size, ch, 64);
    size_t setsize = 16 + 16 + (size_t)len * 8;
    unsigned char *mine = malloc(setsize);
    void **sets = calloc((size_t)nch + 1, sizeof *sets);
    size_t *sizes = calloc((size_t)nch + 1, sizeof *sizes);
    if (!mine || !sets || !sizes) fatal(r, "out of memory");
    uint64_t one = 1, l64 = len, idx = (uint64_t)(r->net.rank - 1);
    uint32_t lev = 0, pad = 0;
    memcpy(mine, &one, 8);
    memcpy(mine + 8, &l64, 8);
    memcpy(mine + 16, &lev, 4);
    memcpy(mine + 20, &pad, 4);
    memcpy(mine + 24, &idx, 8);
    memcpy(mine + 32, v, (size_t)len * 8);
    for (uint32_t rep = 0; rep < reps; rep++) {
        sets[0] = mine;
        sizes[0] = setsize;
        for (int c = 0; c < nch; c++) {
            MPI_Status st;
            MPI_Probe(ch[c], WBM_TAG_DATA0 + WBM_NTAGS, r->net.comm, &st);
            int cnt;
            MPI_Get_count(&st, MPI_BYTE, &cnt);
            sets[c + 1] = malloc((size_t)cnt);
            sizes[c + 1] = (size_t)cnt;
            MPI_Recv(sets[c + 1], cnt, MPI_BYTE, ch[c], WBM_TAG_DATA0 + WBM_NTAGS, r->net.comm, MPI_STATUS_IGNORE);
        }
        void *out;
        size_t outsize;
        if (wbm_nodes_merge((const void *const *)sets, sizes, nch + 1, len, &out, &outsize)) fatal(r, "%s", wb_errmsg());
        for (int c = 0; c < nch; c++) free(sets[c + 1]);
        MPI_Send(out, (int)outsize, MPI_BYTE, wbm_tree_parent(r->net.rank), WBM_TAG_DATA0 + WBM_NTAGS, r->net.comm);
        free(out);
    }
    for (uint32_t rep = 0; rep < reps; rep++)
        MPI_Reduce(v, NULL, (int)len, MPI_DOUBLE, MPI_SUM, 0, r->net.comm);
    free(mine);
    free(sets);
    free(sizes);
    free(v);
    r->net.heard[0] = wb_now();
}

static void handle(rk *r, const unsigned char *p, size_t n, int from)
{
    wbm_rd m = {p, n, 0, 0};
    int type = wbm_u8(&m);
    switch (type) {
    case WBM_TASKS: on_tasks(r, &m); break;
    case WBM_FETCH: on_fetch(r, &m, from); break;
    case WBM_OBJ: on_obj(r, &m, from); break;
    case WBM_PUT: on_put(r, &m); break;
    case WBM_RELEASE: on_release(r, &m); break;
    case WBM_RBEGIN: on_rbegin(r, &m); break;
    case WBM_RPART: on_rpart(r, &m, from); break;
    case WBM_HB: break;
    case WBM_PLUGINS: on_plugins(r, &m); break;
    case WBM_BENCH: on_bench(r, &m); break;
    case WBM_STOP:
        r->status = wbm_i32(&m);
        r->stopping = 1;
        break;
    default: fatal(r, "a message of unknown type %d from rank %d", type, from);
    }
}

/* ------------------------------------------------------------ the loop */

/* is there work for the loop (asked by wbm_doze before it sleeps) */
static int rank_busy(void *ctx)
{
    rk *r = ctx;
    /* twice: a probe looks at what has been received, then makes progress
     * (which may receive the message it has just missed) */
    for (int k = 0; k < 2; k++) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, WBM_TAG_CTL, r->net.comm, &flag, MPI_STATUS_IGNORE);
        if (flag) return 1;
    }
    pthread_mutex_lock(&r->mu);
    int done = r->dh != NULL;
    pthread_mutex_unlock(&r->mu);
    return done;
}

static void idle_wait(rk *r, double idle)
{
    if (wbm_bells_on()) {
        /* while the pool runs tasks, their end rings: a short poll only */
        pthread_mutex_lock(&r->mu);
        int working = r->running + r->queued > 0;
        pthread_mutex_unlock(&r->mu);
        if (idle < (working ? WBM_SPIN_WORKING : WBM_SPIN_AVG(r->gap_avg))) {
            sched_yield();
            return;
        }
        if (!r->net.nreq) {
            /* nothing in flight: sleep until a message, a result of the
             * pool (both ring), or the next heartbeat is due */
            double left = WBM_HEARTBEAT - (wb_now() - r->net.said[0]);
            wbm_doze(r->net.rank, left < 1e-3 ? 1e-3 : left > WBM_DOZE_MAX ? WBM_DOZE_MAX : left, rank_busy, r);
            return;
        }
        /* a transfer in flight: MPI progresses only when called: poll */
    }
    if (idle < 200e-6) {
        sched_yield();
        return;
    }
    double us = idle < 2e-3 ? 20 : idle < 20e-3 ? 100 : 500;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(us * 1000);
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&r->mu);
    if (!r->dh) pthread_cond_timedwait(&r->loop_cv, &r->mu, &ts);
    pthread_mutex_unlock(&r->mu);
}

/* the finished tasks the pool threads handed over, taken as one list */
static rtask *take_done(rk *r)
{
    pthread_mutex_lock(&r->mu);
    rtask *t = r->dh;
    r->dh = r->dt = NULL;
    pthread_mutex_unlock(&r->mu);
    return t;
}

/* one pass of the loop (its role held): messages, completions, results,
 * heartbeats; returns how much it did */
static int loop_pass(rk *r)
{
    int busy = 0;
    unsigned char *msg;
    size_t len;
    int src;
    while (!r->stopping && wbm_poll(&r->net, &msg, &len, &src)) {
        handle(r, msg, len, src);
        free(msg);
        busy++;
    }
    busy += wbm_progress(&r->net);
    rtask *t = take_done(r);
    while (t) {
        rtask *nx = t->next;
        complete(r, t);
        busy++;
        t = nx;
    }
    flush_done(r);
    if (r->net.failed) fatal(r, "%s", r->net.err);
    double now = wb_now();
    if (now - r->net.said[0] > WBM_HEARTBEAT) {
        wb_buf b = {0};
        wbm_put_u8(&b, WBM_HB);
        if (wbm_send(&r->net, 0, &b)) fatal(r, "%s", wb_errmsg());
    }
    if (now - r->net.heard[0] > r->timeout)
        fatal(r, "lost the driver (rank 0 on %s): no message for %.1f s (it died, hung or its host is unreachable)",
              r->driver_host, now - r->net.heard[0]);
    if (r->early.n && now - r->early_check > 1) {
        /* an object that never came: answer with an error after 30 s */
        r->early_check = now;
        for (size_t i = 0; i < r->early.cap; i++) {
            if (!r->early.keys[i]) continue;
            freq *f = r->early.vals[i];
            if (now - f->since < 30) continue;
            uint64_t oid = r->early.keys[i];
            wbm_map_del(&r->early, oid);
            while (f) {
                freq *nx = f->next;
                send_obj(r, oid, f->rank, f->tag);
                free(f);
                f = nx;
            }
            i = (size_t)-1; /* the map changed: scan again */
        }
    }
    return busy;
}

/* the end of a job, once the pool threads have ended and no transfer is in
 * flight: everything the rank made is freed (what is left in its maps, the
 * tasks still waiting for an input, the store) */
static void rank_free(rk *r)
{
    rtask *t = take_done(r);
    while (t) {
        rtask *nx = t->next;
        task_free(r, t);
        t = nx;
    }
    for (size_t i = 0; i < r->objs.cap; i++) {
        if (!r->objs.keys[i]) continue;
        robj *o = r->objs.vals[i];
        /* a waiting task is listed once per input it waits for (its nwait) */
        for (int k = 0; k < o->nw; k++)
            if (--o->waiters[k]->nwait == 0) task_free(r, o->waiters[k]);
        for (freq *f = o->fetchers, *nx; f; f = nx) {
            nx = f->next;
            free(f);
        }
        free(o->waiters);
        free(o);
    }
    for (size_t i = 0; i < r->early.cap; i++) {
        if (!r->early.keys[i]) continue;
        for (freq *f = r->early.vals[i], *nx; f; f = nx) {
            nx = f->next;
            free(f);
        }
    }
    for (size_t i = 0; i < r->reduces.cap; i++) {
        if (!r->reduces.keys[i]) continue;
        rreduce *x = r->reduces.vals[i];
        for (int k = 0; k < x->nsets; k++) free(x->sets[k]);
        free(x->sets);
        free(x->sizes);
        free(x);
    }
    wbm_map_free(&r->objs);
    wbm_map_free(&r->early);
    wbm_map_free(&r->reduces);
    wb_store_free(r->store);
    wb_buf_free(&r->done);
    wbm_net_free(&r->net);
    free(r->th);
    pthread_cond_destroy(&r->loop_cv);
    pthread_cond_destroy(&r->main_cv);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    if (R == r) R = NULL;
    free(r);
}

int wbm_rank_loop(MPI_Comm comm, int threads, double timeout, const char *driver_host)
{
    rk *r = calloc(1, sizeof *r);
    if (!r) return 1;
    R = r;
    if (wbm_net_init(&r->net, comm)) return 1;
    r->store = wb_store_new((uint64_t)r->net.rank + 2);
    r->threads = threads;
    r->timeout = timeout;
    snprintf(r->driver_host, sizeof r->driver_host, "%s", driver_host);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    pthread_cond_init(&r->loop_cv, NULL);
    pthread_cond_init(&r->main_cv, NULL);
    r->th = calloc((size_t)threads, sizeof *r->th);
    if (!r->store || !r->th) fatal(r, "out of memory");
    for (int i = 0; i < threads; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 8u << 20);
        if (pthread_create(&r->th[i], &a, pool_main, r) == 0) r->nth++;
        pthread_attr_destroy(&a);
    }
    if (!r->nth) fatal(r, "could not start threads");
    r->role = ROLE_MAIN;
    r->last_busy = wb_now();
    int idled = 0;
    for (;;) {
        int busy = loop_pass(r);
        if (r->stopping) break;
        double now = wb_now();
        if (busy && idled) note_gap(r, now - r->last_busy);
        idled = !busy;
        if (busy) {
            r->last_busy = now;
            continue;
        }
        /* the pool idle: an idle pool thread takes the role, and runs the
         * next task itself; this thread waits until nobody holds it */
        pthread_mutex_lock(&r->mu);
        if (r->idle_threads && !r->running && !r->queued && !r->dh && !r->net.nreq) {
            r->role = ROLE_NONE;
            r->offer = 1;
            pthread_cond_signal(&r->cv);
            while (r->role != ROLE_NONE || r->offer) {
                int lng = wb_now() - r->task_began > 0.1; /* no task for a while: a long wait (told at the next) */
                r->main_long = lng;
                struct timespec ts;
                double secs = lng ? WBM_DOZE_MAX : MAIN_PARK;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += (long)(secs * 1e9);
                ts.tv_sec += ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
                pthread_cond_timedwait(&r->main_cv, &r->mu, &ts);
                r->main_long = 0;
            }
            r->role = ROLE_MAIN;
            pthread_mutex_unlock(&r->mu);
            r->last_busy = wb_now();
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        idle_wait(r, now - r->last_busy);
    }
    /* the job ends: running kernels are asked to stop; queued tasks are dropped */
    wb_interrupt();
    pthread_mutex_lock(&r->mu);
    rtask *q = r->qh;
    r->qh = r->qt = NULL;
    r->stop_pool = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    while (q) {
        rtask *nx = q->next;
        task_free(r, q);
        q = nx;
    }
    double t0 = wb_now();
    int idle = 0;
    while (wb_now() - t0 < 10) {
        pthread_mutex_lock(&r->mu);
        idle = r->running == 0;
        pthread_mutex_unlock(&r->mu);
        if (idle) break;
        wbm_progress(&r->net);
        usleep(1000);
    }
    if (idle)
        for (int i = 0; i < r->nth; i++) pthread_join(r->th[i], NULL);
    /* sends still in flight (the last DONE, heartbeats) complete first */
    for (int i = 0; i < 2000 && r->net.nreq; i++) {
        wbm_progress(&r->net);
        usleep(500);
    }
    int status = r->status;
    if (!idle) return -1; /* kernels still run: the caller leaves without freeing */
    if (!r->net.nreq) rank_free(r); /* (a send still in flight keeps its buffer) */
    return status;
}
