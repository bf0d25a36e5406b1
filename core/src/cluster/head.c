/* cluster/head.c — `wb head`: the scheduler and the object directory.
 *
 * The head knows every object of the cluster: its state, its shape, which
 * workers hold it, and how it was made (the task, for lineage). A task is
 * the pending state of its result object. Tasks run where their inputs are
 * (most input bytes held), then on the least loaded worker; each worker gets
 * a window of tasks ahead so that its threads never wait for the head.
 *
 * Faults: a worker that closes its connection or stays silent past the
 * heartbeat timeout is removed; its running tasks are queued again (at most
 * max_retries times, then the task fails naming itself and the worker);
 * objects that only it held become LOST and are rebuilt when needed: by
 * running their task again (recursively for lost inputs), or by asking the
 * driver that put them to put them again.
 *
 * References: an object lives while its driver holds it, or while another
 * live object was made from it (lineage), so that a lost object can always
 * be rebuilt. Everything runs on the head's loop thread. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "head.h"

/* ------------------------------------------------------------- logging */

static wb_head *the_head; /* for the log sink */

/* the dashboard's list of recent errors */
static void record_error(wb_head *h, const char *msg)
{
    herr *e = &h->errors[h->nerrors % WB_HEAD_ERRORS];
    e->when = (double)time(NULL);
    /* long messages are cut: the dashboard shows the start, without the
     * folders of paths or quoted excerpts of files (wb_redact) */
    wb_redact(msg, e->msg, sizeof e->msg);
    h->nerrors++;
}

static void head_log(int level, const char *msg)
{
    wb_head *h = the_head;
    if (h && level >= WB_LOG_WARN) record_error(h, msg);
    if (level < WB_LOG_WARN && h && h->quiet) return;
    if (level == WB_LOG_DEBUG) return;
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char ts[16];
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    fprintf(stderr, "%s wb head: %s%s\n", ts, level >= WB_LOG_ERROR ? "error: " : level == WB_LOG_WARN ? "warning: " : "",
            msg);
    fflush(stderr);
}

/* --------------------------------------------------------------- kernels */

static uint32_t intern_kernel(wb_head *h, const char *name, size_t len)
{
    for (uint32_t i = 0; i < h->nk; i++)
        if (strlen(h->knames[i]) == len && memcmp(h->knames[i], name, len) == 0) return i;
    if (h->nk == h->capk) {
        uint32_t cap = h->capk ? h->capk * 2 : 64;
        char **p = realloc(h->knames, cap * sizeof *p);
        if (!p) return UINT32_MAX;
        h->knames = p;
        h->capk = cap;
    }
    char *s = malloc(len + 1);
    if (!s) return UINT32_MAX;
    memcpy(s, name, len);
    s[len] = 0;
    h->knames[h->nk] = s;
    return h->nk++;
}

static int has_kernel(const hworker *w, uint32_t k) { return k < w->nkbits && w->kbits[k]; }

/* ------------------------------------------------------------- helpers */

static hworker *worker_by_id(wb_head *h, uint32_t id) { return wb_omap_get(&h->workers, id); }
static hdriver *driver_by_id(wb_head *h, uint32_t id) { return wb_omap_get(&h->drivers, id); }
static hobj *obj_get(wb_head *h, uint64_t oid) { return wb_omap_get(&h->objs, oid); }

/* ------------------------------------------------------------- plugins */

/* a plugin the driver has in one version and the worker in another (NULL:
 * none); *theirs: the worker's */
static const wb_cplugin *plug_conflict(const hdriver *d, const hworker *w, const wb_cplugin **theirs)
{
    for (uint32_t i = 0; i < d->npl; i++)
        for (uint32_t j = 0; j < w->npl; j++)
            if (!strcmp(d->pl[i].name, w->pl[j].name) && strcmp(d->pl[i].version, w->pl[j].version)) {
                if (theirs) *theirs = &w->pl[j];
                return &d->pl[i];
            }
    return NULL;
}

/* log that the worker has one of the driver's plugins in another version
 * (the driver's tasks do not run there) */
static void warn_conflict(const hdriver *d, const hworker *w)
{
    const wb_cplugin *t = NULL, *c = plug_conflict(d, w, &t);
    if (c)
        wb_log(WB_LOG_WARN,
               "driver %u has plugin '%s' version %s, worker %u at %s has version %s: the driver's tasks do not "
               "run there",
               d->id, c->name, c->version, w->id, w->addr, t->version);
}

/* may the worker run the driver's tasks? Not when a plugin both have loaded
 * differs in version: the worker would give other results. Cached per driver. */
static int driver_may_use(wb_head *h, hdriver *d, const hworker *w)
{
    if (!d || !d->npl || !w->npl) return 1;
    if (d->cgen != h->pgen || w->id >= d->ncbad) {
        uint32_t n = h->next_worker;
        if (n > d->ncbad) {
            uint8_t *b = realloc(d->cbad, n);
            if (!b) return !plug_conflict(d, w, NULL);
            d->cbad = b;
            d->ncbad = n;
        }
        memset(d->cbad, 0, d->ncbad);
        for (size_t i = 0; i < h->nworker_list; i++) {
            const hworker *x = h->worker_list[i];
            if (x->id < d->ncbad) d->cbad[x->id] = plug_conflict(d, x, NULL) != NULL;
        }
        d->cgen = h->pgen;
        if (w->id >= d->ncbad) return !plug_conflict(d, w, NULL);
    }
    return !d->cbad[w->id];
}

/* why no worker can run a task of the kernel for the driver (none has the
 * kernel, or those that have it have another version of one of the driver's
 * plugins): the message names the plugin, both versions and the worker */
static void explain_no_worker(wb_head *h, hdriver *d, uint32_t kernel, char *m, size_t cap)
{
    const char *kn = h->knames[kernel];
    const hworker *bad = NULL;
    const wb_cplugin *mine = NULL, *theirs = NULL;
    uint32_t nbad = 0;
    for (size_t i = 0; i < h->nworker_list; i++) {
        const hworker *w = h->worker_list[i];
        if (!w->alive || !w->welcomed || !has_kernel(w, kernel)) continue;
        const wb_cplugin *t = NULL, *c = d ? plug_conflict(d, w, &t) : NULL;
        if (!c) continue;
        if (!nbad++) {
            bad = w;
            mine = c;
            theirs = t;
        }
    }
    if (bad) {
        char more[64] = "";
        if (nbad > 1) snprintf(more, sizeof more, " (and %u other workers)", nbad - 1);
        snprintf(m, cap,
                 "no worker can run this driver's task '%s': plugin '%s' is version %s on this driver but version %s "
                 "on the worker at %s%s (a worker runs a driver's tasks only if the plugins both have loaded are of "
                 "the same versions); load the same version of '%s' on the driver and the workers",
                 kn, mine->name, mine->version, theirs->version, bad->addr, more, mine->name);
        return;
    }
    /* no worker has the kernel: say what the workers have of its plugin */
    size_t plen = strcspn(kn, ".");
    const wb_cplugin *dp = NULL;
    for (uint32_t i = 0; d && i < d->npl && !dp; i++)
        if (strlen(d->pl[i].name) == plen && !strncmp(d->pl[i].name, kn, plen)) dp = &d->pl[i];
    const hworker *same = NULL, *other = NULL;
    const wb_cplugin *ov = NULL;
    for (size_t i = 0; dp && i < h->nworker_list && !same; i++) {
        const hworker *w = h->worker_list[i];
        if (!w->alive || !w->welcomed) continue;
        for (uint32_t j = 0; j < w->npl; j++)
            if (!strcmp(w->pl[j].name, dp->name)) {
                if (!strcmp(w->pl[j].version, dp->version)) same = w;
                else if (!other) other = w, ov = &w->pl[j];
                break;
            }
    }
    if (dp && !same && other)
        snprintf(m, cap,
                 "no worker of the cluster has the kernel '%s': plugin '%s' is version %s on this driver but version "
                 "%s on the worker at %s, which has no such kernel; load the same version of '%s' on the driver and "
                 "the workers",
                 kn, dp->name, dp->version, ov->version, other->addr, dp->name);
    else if (dp && same)
        snprintf(m, cap,
                 "no worker of the cluster has the kernel '%s': plugin '%s' is version %s on this driver and on the "
                 "worker at %s, but the worker's has no such kernel (two builds under one version: give the new "
                 "one another version)",
                 kn, dp->name, dp->version, same->addr);
    else if (dp)
        snprintf(m, cap,
                 "no worker of the cluster has the kernel '%s': no worker has loaded plugin '%s' (version %s on this "
                 "driver); start the workers with --plugin PATH",
                 kn, dp->name, dp->version);
    else
        snprintf(m, cap,
                 "no worker of the cluster has the kernel '%s' (the workers did not load the plugin that provides it)",
                 kn);
}

static int on_plugins(wb_head *h, hdriver *d, const unsigned char *p, size_t n)
{
    wb_m_plugins m;
    if (wb_dec_plugins(p, n, &m)) return -1;
    wb_cplugin *pl = wb_cplugins_from(m.plugins, m.nplugins);
    uint32_t np = m.nplugins;
    wb_m_plugins_free(&m);
    if (!pl) return wb_seterr(WB_ENOMEM, "out of memory");
    free(d->pl);
    d->pl = pl;
    d->npl = np;
    h->pgen++;
    h->sched_needed = 1;
    /* say once which workers its tasks avoid */
    for (size_t i = 0; i < h->nworker_list; i++) {
        const hworker *w = h->worker_list[i];
        if (w->alive && w->welcomed) warn_conflict(d, w);
    }
    return 0;
}

/* A driver sends the declaration of an object it puts to the head and its
 * bytes to a worker at once: the worker's HOLD (or refusal) can reach the
 * head first. Its ids come in increasing order, so an unknown id above the
 * highest it declared is early (kept until declared), below it released. */
static int is_early(wb_head *h, uint64_t oid)
{
    hdriver *d = wb_omap_get(&h->drivers, (uint32_t)(oid >> 40));
    return d && oid > d->max_oid;
}

static void keep_early(wb_head *h, uint64_t oid, uint32_t worker, const wb_objstat *st, int code, const char *msg)
{
    if (wb_omap_get(&h->early, oid)) return;
    early *e = calloc(1, sizeof *e);
    if (!e) return;
    e->worker = worker;
    if (st) e->stat = *st;
    e->code = code;
    e->msg = code ? wb_strdup(msg) : NULL;
    wb_omap_put(&h->early, oid, e);
}

static void describe_obj(const wb_head *h, const hobj *o, char *buf, size_t cap)
{
    if (o->has_spec)
        snprintf(buf, cap, "task '%s' (object %llx)", h->knames[o->kernel], (unsigned long long)o->oid);
    else
        snprintf(buf, cap, "object %llx", (unsigned long long)o->oid);
}

/* a DONE entry for a driver (the shape only of a result, a message only with a failure) */
static void ob_add_done(wb_list *l, uint64_t oid, int32_t code, uint32_t worker, const wb_objstat *st,
                        const char *msg, const void *inl, size_t inlen, int has_inline)
{
    wb_m_done1 d;
    memset(&d, 0, sizeof d);
    d.oid = oid;
    d.code = code;
    d.worker = worker;
    if (st && code == 0) wb_wstat_from(&d.stat, st);
    d.msg = wb_pstr_z(msg);
    d.has_inline = has_inline ? 1 : 0;
    if (has_inline) {
        d.data.p = inl;
        d.data.len = (uint32_t)inlen;
    }
    wb_enc_done1(l, &d, NULL, 0);
}

/* a LOCATION or REPUT entry */
static void ob_add_loc(wb_list *l, uint64_t oid, int32_t code, uint32_t worker, uint64_t other, const char *msg)
{
    wb_m_loc1 e = {oid, code, worker, other, wb_pstr_z(msg)};
    wb_enc_loc1(l, &e);
}

/* send a batch of entries as one message (dropped when the peer cannot take it) */
static void ob_flush(wb_conn *c, wb_list *l)
{
    if (!l->n) return;
    if (c && c->state == WB_CS_READY) {
        wb_wr w = wb_conn_wr(c);
        if (wb_enc_list(&w, l) == 0) wb_conn_mark(c);
    }
    wb_list_clear(l);
}

static void driver_lists_free(hdriver *d)
{
    wb_list_free(&d->done);
    wb_list_free(&d->loc);
    wb_list_free(&d->freed);
    wb_list_free(&d->reput);
}

static void mark_dirty_driver(wb_head *h, hdriver *d)
{
    if (!d->dirty) {
        d->dirty = 1;
        d->next_dirty = h->dirty_drivers;
        h->dirty_drivers = d;
    }
}

static void mark_dirty_worker(wb_head *h, hworker *w)
{
    if (!w->dirty) {
        w->dirty = 1;
        w->next_dirty = h->dirty_workers;
        h->dirty_workers = w;
    }
}

/* -------------------------------------------------------- object lists */

static void q_unlink(hobj **head, hobj **tail, hobj *o)
{
    if (o->qprev) o->qprev->qnext = o->qnext;
    else *head = o->qnext;
    if (o->qnext) o->qnext->qprev = o->qprev;
    else if (tail) *tail = o->qprev;
    o->qprev = o->qnext = NULL;
}

static void ready_push(wb_head *h, hobj *o)
{
    o->tstate = T_READY;
    o->qprev = h->rtail;
    o->qnext = NULL;
    if (h->rtail) h->rtail->qnext = o;
    else h->rhead = o;
    h->rtail = o;
    h->sched_needed = 1;
}

static void run_push(hworker *w, hobj *o)
{
    o->qprev = NULL;
    o->qnext = w->run;
    if (w->run) w->run->qprev = o;
    w->run = o;
}

/* take a task off whatever list it is on */
static void task_unlist(wb_head *h, hobj *o)
{
    if (o->tstate == T_READY) {
        q_unlink(&h->rhead, &h->rtail, o);
    } else if (o->tstate == T_RUNNING) {
        hworker *w = worker_by_id(h, o->worker);
        if (w) {
            q_unlink(&w->run, NULL, o);
            if (w->inflight > 0) w->inflight--;
        }
    }
}

static int add_holder(hobj *o, uint32_t w)
{
    for (uint16_t i = 0; i < o->nholders; i++)
        if (o->holders[i] == w) return 0;
    if (o->nholders == o->capholders) {
        uint16_t cap = o->capholders ? (uint16_t)(o->capholders * 2) : 2;
        uint32_t *p = realloc(o->holders, cap * sizeof *p);
        if (!p) return WB_ENOMEM;
        o->holders = p;
        o->capholders = cap;
    }
    o->holders[o->nholders++] = w;
    return 0;
}

static int del_holder(hobj *o, uint32_t w)
{
    for (uint16_t i = 0; i < o->nholders; i++)
        if (o->holders[i] == w) {
            o->holders[i] = o->holders[--o->nholders];
            return 1;
        }
    return 0;
}

static int holds(const hobj *o, uint32_t w)
{
    for (uint16_t i = 0; i < o->nholders; i++)
        if (o->holders[i] == w) return 1;
    return 0;
}

static void add_dep(hobj *o, hobj *t)
{
    if (o->ndeps == o->capdeps) {
        uint32_t cap = o->capdeps ? o->capdeps * 2 : 4;
        hobj **p = realloc(o->deps, cap * sizeof *p);
        if (!p) return; /* the task stays waiting; the head logs nothing: out of memory */
        o->deps = p;
        o->capdeps = cap;
    }
    o->deps[o->ndeps++] = t;
}

static void del_dep(hobj *o, hobj *t)
{
    for (uint32_t i = 0; i < o->ndeps; i++)
        if (o->deps[i] == t) {
            o->deps[i] = o->deps[--o->ndeps];
            return;
        }
}

static void add_waiter(hobj *o, uint32_t driver, uint32_t worker)
{
    if (o->nwaiters == o->capwaiters) {
        uint32_t cap = o->capwaiters ? o->capwaiters * 2 : 2;
        waiter *p = realloc(o->waiters, cap * sizeof *p);
        if (!p) return;
        o->waiters = p;
        o->capwaiters = cap;
    }
    o->waiters[o->nwaiters++] = (waiter){driver, worker, 0};
}

/* ----------------------------------------------------- object lifecycle */

static void obj_delete(wb_head *h, hobj *o);
static void obj_fail(wb_head *h, hobj *o, int code, const char *msg);
static void obj_need(wb_head *h, hobj *o, const char *why);

static void obj_unref(wb_head *h, hobj *o)
{
    if (--o->refs <= 0) obj_delete(h, o);
}

static void obj_free(hobj *o)
{
    free(o->holders);
    free(o->in);
    if (o->arg && --o->arg->refs == 0) free(o->arg);
    free(o->deps);
    free(o->waiters);
    free(o->err);
    free(o);
}

static void obj_delete(wb_head *h, hobj *o)
{
    wb_omap_del(&h->objs, o->oid);
    if (o->has_spec && o->tstate != T_NONE) {
        if (o->tstate == T_WAITING)
            for (uint32_t i = 0; i < o->nin; i++) {
                hobj *in = obj_get(h, o->in[i]);
                if (in) del_dep(in, o);
            }
        if (o->tstate == T_RUNNING) h->cancelled++;
        task_unlist(h, o);
        o->tstate = T_NONE;
    }
    for (uint16_t i = 0; i < o->nholders; i++) {
        hworker *w = worker_by_id(h, o->holders[i]);
        if (w && w->alive) {
            wb_enc_oid1(&w->drop, o->oid);
            mark_dirty_worker(h, w);
        }
    }
    if (o->is_put) {
        hdriver *d = driver_by_id(h, o->owner);
        if (d) {
            wb_enc_oid1(&d->freed, o->oid);
            mark_dirty_driver(h, d);
        }
    }
    h->nobj_bytes -= o->state == O_READY ? o->stat.size : 0;
    /* its inputs lose a lineage reference */
    if (o->has_spec)
        for (uint32_t i = 0; i < o->nin; i++) {
            hobj *in = obj_get(h, o->in[i]);
            if (in) obj_unref(h, in);
        }
    obj_free(o);
}

/* tell the owner driver about a finished (or failed) object, and wake waiters */
static void notify_driver(wb_head *h, hobj *o, const void *inl, size_t inlen, int has_inline)
{
    hdriver *d = driver_by_id(h, o->owner);
    if (d && o->driver_ref && (!o->is_put || o->state == O_FAILED)) {
        ob_add_done(&d->done, o->oid, o->state == O_FAILED ? o->code : 0, o->nholders ? o->holders[0] : 0, &o->stat,
                    o->err, inl, inlen, has_inline);
        mark_dirty_driver(h, d);
        if (d->done.b.len > (16u << 20)) {
            ob_flush(d->conn, &d->done);
        }
    }
}

static void wake_waiters(wb_head *h, hobj *o)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < o->nwaiters; i++) {
        waiter wt = o->waiters[i];
        hdriver *d = driver_by_id(h, wt.driver);
        if (!d) continue;
        if (o->state == O_FAILED) {
            ob_add_loc(&d->loc, o->oid, o->code, 0, 0, o->err);
        } else if (o->state == O_READY && o->nholders && (!wt.worker || holds(o, wt.worker))) {
            ob_add_loc(&d->loc, o->oid, 0, wt.worker ? wt.worker : o->holders[0], 0, NULL);
        } else {
            hworker *tw = wt.worker ? worker_by_id(h, wt.worker) : NULL;
            if (wt.worker && (!tw || !tw->alive)) {
                char m[160];
                snprintf(m, sizeof m, "worker %u left the cluster", wt.worker);
                ob_add_loc(&d->loc, o->oid, WB_ENET, 0, 0, m);
                mark_dirty_driver(h, d);
                continue;
            }
            if (tw && !wt.pulled && o->state == O_READY && o->nholders) {
                uint16_t nh = o->nholders > WB_PROTO_MAX_HOLDERS ? WB_PROTO_MAX_HOLDERS : o->nholders;
                wb_m_pull1 e = {o->oid, nh, o->holders};
                wb_enc_pull1(&tw->pull, &e);
                mark_dirty_worker(h, tw);
                wt.pulled = 1;
            }
            o->waiters[keep++] = wt;
            continue;
        }
        mark_dirty_driver(h, d);
    }
    o->nwaiters = keep;
}

/* an input of waiting tasks became ready: they may run */
static void wake_deps(wb_head *h, hobj *o)
{
    hobj **deps = o->deps;
    uint32_t n = o->ndeps;
    o->deps = NULL;
    o->ndeps = o->capdeps = 0;
    for (uint32_t i = 0; i < n; i++) {
        hobj *t = deps[i];
        if (t->tstate != T_WAITING) continue;
        if (o->state == O_FAILED) {
            obj_fail(h, t, o->code, o->err);
            continue;
        }
        if (t->nmissing > 0 && --t->nmissing == 0) ready_push(h, t);
    }
    free(deps);
}

static void obj_fail(wb_head *h, hobj *o, int code, const char *msg)
{
    if (o->state == O_FAILED) return;
    if (o->has_spec && o->tstate != T_NONE) {
        if (o->tstate == T_WAITING)
            for (uint32_t i = 0; i < o->nin; i++) {
                hobj *in = obj_get(h, o->in[i]);
                if (in) del_dep(in, o);
            }
        task_unlist(h, o);
        o->tstate = T_NONE;
    }
    if (o->state == O_READY) h->nobj_bytes -= o->stat.size;
    o->state = O_FAILED;
    o->code = code ? code : WB_EINTERNAL;
    free(o->err);
    o->err = wb_strdup(msg ? msg : wb_strerror(code));
    h->tasks_failed++;
    notify_driver(h, o, NULL, 0, 0);
    wake_waiters(h, o);
    wake_deps(h, o);
}

/* move the per-second throughput ring to the current second */
static void tput_advance(wb_head *h)
{
    uint64_t sec = (uv_now(h->loop) - h->t0) / 1000;
    if (sec > h->tput_sec + WB_HEAD_TPUT) {
        memset(h->tput, 0, sizeof h->tput);
        h->tput_sec = sec;
    }
    while (h->tput_sec < sec) h->tput[++h->tput_sec % WB_HEAD_TPUT] = 0;
}

static void obj_ready(wb_head *h, hobj *o, uint32_t worker, const wb_objstat *st, const void *inl, size_t inlen,
                      int has_inline)
{
    int was_task = o->has_spec && o->tstate != T_NONE;
    if (was_task) {
        task_unlist(h, o);
        o->tstate = T_NONE;
    }
    int first = o->state != O_READY;
    if (st) o->stat = *st;
    add_holder(o, worker);
    if (first) {
        o->state = O_READY;
        h->nobj_bytes += o->stat.size;
        free(o->err);
        o->err = NULL;
        if (was_task) {
            h->tasks_done++;
            tput_advance(h);
            h->tput[h->tput_sec % WB_HEAD_TPUT]++;
        }
        if (!o->rebuilt) notify_driver(h, o, inl, inlen, has_inline);
        o->rebuilt = 0;
        wake_deps(h, o);
    }
    wake_waiters(h, o);
}

/* count missing inputs of a task and queue it (inputs lost are rebuilt) */
static void task_start(wb_head *h, hobj *o)
{
    o->nmissing = 0;
    o->tstate = T_WAITING;
    for (uint32_t i = 0; i < o->nin; i++) {
        hobj *in = obj_get(h, o->in[i]);
        if (!in) {
            char m[200];
            snprintf(m, sizeof m, "input object %llx of task '%s' is not on the cluster",
                     (unsigned long long)o->in[i], h->knames[o->kernel]);
            obj_fail(h, o, WB_ENOTFOUND, m);
            return;
        }
        if (in->state == O_FAILED) {
            obj_fail(h, o, in->code, in->err);
            return;
        }
        if (in->state == O_READY && in->nholders) continue;
        if (in->state == O_READY) in->state = O_LOST;
        if (in->state == O_LOST) obj_need(h, in, NULL);
        if (in->state == O_FAILED) {
            obj_fail(h, o, in->code, in->err);
            return;
        }
        o->nmissing++;
        add_dep(in, o);
    }
    if (o->nmissing == 0) ready_push(h, o);
}

/* a lost object is needed: rebuild it from its lineage or ask its driver */
static void obj_need(wb_head *h, hobj *o, const char *why)
{
    if (o->state != O_LOST) return;
    char desc[200];
    describe_obj(h, o, desc, sizeof desc);
    if (o->has_spec) {
        o->state = O_PENDING;
        o->rebuilt = 1;
        h->rebuilt++;
        wb_log(WB_LOG_INFO, "rebuilding %s from its lineage", desc);
        task_start(h, o);
        return;
    }
    hdriver *d = o->is_put ? driver_by_id(h, o->owner) : NULL;
    hworker *target = NULL;
    for (size_t i = 0; d && i < h->nworker_list; i++) {
        hworker *w = h->worker_list[i];
        if (w->alive && (!target || w->inflight < target->inflight)) target = w;
    }
    if (d && target) {
        o->state = O_PENDING;
        o->put_worker = target->id;
        ob_add_loc(&d->reput, o->oid, 0, target->id, 0, NULL);
        mark_dirty_driver(h, d);
        wb_log(WB_LOG_INFO, "asking the driver to put %s again (on worker %u)", desc, target->id);
        return;
    }
    char m[400];
    snprintf(m, sizeof m, "%s was lost%s%s and cannot be rebuilt (%s)", desc, why ? " " : "", why ? why : "",
             o->is_put ? (d ? "no worker left" : "its driver is gone") : "it has no lineage");
    obj_fail(h, o, WB_ENOTFOUND, m);
}

/* ------------------------------------------------------------- workers */

static void broadcast_workers(wb_head *h);

/* the worker is gone: queue its tasks again and forget what it held */
static void worker_lost(wb_head *h, hworker *w, const char *why)
{
    if (!w->alive) return;
    w->alive = 0;
    h->workers_lost++;
    wb_log(WB_LOG_WARN, "worker %u at %s removed: %s", w->id, w->addr, why);
    snprintf(w->why, sizeof w->why, "%s", why);
    if (w->conn) {
        wb_conn *c = w->conn;
        w->conn = NULL;
        c->data = NULL;
        wb_conn_close(c, WB_ENET, why);
    }
    /* running tasks go back to the queue (bounded) */
    hobj *t = w->run;
    w->run = NULL;
    while (t) {
        hobj *nx = t->qnext;
        t->qprev = t->qnext = NULL;
        t->tstate = T_NONE;
        t->attempts++;
        if ((int)t->attempts > h->max_retries) {
            char m[600], desc[200];
            describe_obj(h, t, desc, sizeof desc);
            snprintf(m, sizeof m, "%s failed: its worker was lost %u times (last: worker %u at %s: %s)", desc,
                     t->attempts, w->id, w->addr, why);
            obj_fail(h, t, WB_ENET, m);
        } else {
            h->retried++;
            task_start(h, t);
        }
        t = nx;
    }
    w->inflight = 0;
    /* what it needed to work goes now (it stays listed for the dashboard) */
    wb_taskbatch_free(&w->batch);
    free(w->klocal);
    w->klocal = NULL;
    w->nklocal = 0;
    /* objects: drop this holder; objects left without one are lost */
    size_t nlost = 0;
    for (size_t i = 0; i < h->objs.cap; i++) {
        if (!h->objs.keys[i]) continue;
        hobj *o = h->objs.vals[i];
        if (del_holder(o, w->id) && o->nholders == 0 && o->state == O_READY) {
            o->state = O_LOST;
            h->nobj_bytes -= o->stat.size;
            nlost++;
        }
        if (o->state == O_PENDING && o->is_put && o->put_worker == w->id) {
            /* its put never arrived: ask again */
            o->state = O_LOST;
            nlost++;
        }
    }
    if (nlost) wb_log(WB_LOG_INFO, "%zu objects held only by worker %u are lost (rebuilt when needed)", nlost, w->id);
    /* waiting tasks whose inputs are lost: rebuild those inputs now (LOCATE
     * waiters and queued tasks find them lost on their own) */
    for (size_t i = 0; i < h->objs.cap; i++) {
        if (!h->objs.keys[i]) continue;
        hobj *o = h->objs.vals[i];
        if (o->state == O_LOST && (o->ndeps || o->nwaiters)) obj_need(h, o, NULL);
    }
    broadcast_workers(h);
    h->sched_needed = 1;
}

/* WELCOME to a worker or a driver: its id, the heartbeat, the dashboard, the head's plugins */
static void encode_welcome(wb_head *h, wb_wr *w, uint32_t id)
{
    wb_m_welcome m = {id, (uint32_t)h->heartbeat_ms, (uint32_t)h->timeout_ms,
                      (uint16_t)(h->dashboard_port > 0 ? h->dashboard_port : 0), 0, NULL};
    m.plugins = wb_plugins_here(&m.nplugins);
    if (!m.plugins) {
        w->err = wb_seterr(WB_ENOMEM, "out of memory");
        return;
    }
    wb_enc_welcome(w, &m);
    free(m.plugins);
}

/* WORKERS: the live workers */
static void encode_workers(wb_head *h, wb_wr *w)
{
    wb_list l;
    wb_list_init(&l, WB_M_WORKERS);
    for (size_t i = 0; i < h->nworker_list; i++) {
        hworker *x = h->worker_list[i];
        if (!x->alive) continue;
        wb_m_plugin *pl = wb_cplugins_view(x->pl, x->npl);
        wb_m_worker e = {x->id, wb_pstr_z(x->host), (uint16_t)x->port, x->threads, x->pid, 1, pl ? x->npl : 0, pl};
        wb_enc_worker1(&l, &e);
        free(pl);
    }
    wb_enc_list(w, &l);
    wb_list_free(&l);
}

static void broadcast_workers(wb_head *h)
{
    for (size_t i = 0; i < h->drivers.cap; i++) {
        if (!h->drivers.keys[i]) continue;
        hdriver *d = h->drivers.vals[i];
        if (!d->conn) continue;
        wb_wr w = wb_conn_wr(d->conn);
        encode_workers(h, &w);
        wb_conn_mark(d->conn);
    }
    for (size_t i = 0; i < h->nworker_list; i++) {
        hworker *x = h->worker_list[i];
        if (!x->alive || !x->conn || !x->welcomed) continue;
        wb_wr w = wb_conn_wr(x->conn);
        encode_workers(h, &w);
        wb_conn_mark(x->conn);
    }
}

/* ------------------------------------------------------------ scheduling */

static int window_of(const hworker *w) { return (int)w->threads * 8 + 32; }

/* add a task to a worker's outgoing batch */
static void batch_task(wb_head *h, hworker *w, hobj *t)
{
    if (!w->bgen) w->bgen = ++h->gen;
    /* kernel and argument indices local to this batch */
    if (w->nklocal < h->nk) {
        uint64_t *p = realloc(w->klocal, h->capk * sizeof *p);
        if (!p) return;
        for (uint32_t i = w->nklocal; i < h->capk; i++) p[i] = 0;
        w->klocal = p;
        w->nklocal = h->capk;
    }
    uint32_t kidx;
    if ((w->klocal[t->kernel] >> 32) == (w->bgen & 0xffffffffu))
        kidx = (uint32_t)w->klocal[t->kernel];
    else {
        kidx = wb_taskbatch_kernel(&w->batch, h->knames[t->kernel]);
        w->klocal[t->kernel] = ((w->bgen & 0xffffffffu) << 32) | kidx;
    }
    uint32_t aidx = WB_NO_ARG;
    if (t->arg) {
        if (t->arg->stamp_gen == w->bgen && t->arg->stamp_worker == w->id)
            aidx = t->arg->stamp_idx;
        else {
            aidx = wb_taskbatch_arg(&w->batch, t->arg->data, t->arg->len);
            t->arg->stamp_gen = w->bgen;
            t->arg->stamp_worker = w->id;
            t->arg->stamp_idx = aidx;
        }
    }
    wb_m_task mt = {t->oid, kidx, t->mode, t->sumlen, t->out_rows, t->attempts, aidx, t->nin, NULL};
    wb_taskbatch_task(&w->batch, &mt);
    /* each input with the workers to fetch it from (none when it is here) */
    for (uint32_t i = 0; i < t->nin; i++) {
        hobj *in = obj_get(h, t->in[i]);
        uint16_t nh = 0;
        if (in && !holds(in, w->id)) nh = in->nholders > WB_PROTO_MAX_HOLDERS ? WB_PROTO_MAX_HOLDERS : in->nholders;
        wb_taskbatch_input(&w->batch, t->in[i], nh, nh ? in->holders : NULL);
    }
    mark_dirty_worker(h, w);
}

static void flush_tasks(wb_head *h, hworker *w)
{
    if (!w->batch.nt) return;
    if (w->conn && w->alive) {
        wb_wr out = wb_conn_wr(w->conn);
        if (wb_enc_taskbatch(&out, &w->batch) == 0) wb_conn_mark(w->conn);
        else wb_log(WB_LOG_ERROR, "worker %u: %s", w->id, wb_errmsg());
    }
    wb_taskbatch_clear(&w->batch);
    w->bgen = 0;
}

static void assign(wb_head *h, hworker *w, hobj *t)
{
    q_unlink(&h->rhead, &h->rtail, t);
    t->tstate = T_RUNNING;
    t->worker = w->id;
    w->inflight++;
    run_push(w, t);
    batch_task(h, w, t);
    if (w->batch.tasks.len + w->batch.args.len > (16u << 20)) flush_tasks(h, w);
}

static void schedule(wb_head *h)
{
    h->sched_needed = 0;
    hobj *t = h->rhead;
    while (t) {
        hobj *nx = t->qnext;
        /* any room left at all? */
        int room = 0, alive = 0;
        for (size_t i = 0; i < h->nworker_list; i++) {
            hworker *w = h->worker_list[i];
            if (!w->alive || !w->welcomed) continue;
            alive++;
            if (w->inflight < window_of(w)) room = 1;
        }
        if (!room) break;
        /* inputs lost since the task was queued wait for their rebuild */
        int lost = 0;
        for (uint32_t i = 0; i < t->nin && !lost; i++) {
            hobj *in = obj_get(h, t->in[i]);
            if (!in || in->state != O_READY || in->nholders == 0) lost = 1;
        }
        if (lost) {
            q_unlink(&h->rhead, &h->rtail, t);
            t->tstate = T_NONE;
            task_start(h, t);
            t = nx;
            continue;
        }
        /* locality first: the worker holding the most of the task's input
         * bytes. But a task whose inputs are spread (a fold of every partition,
         * as grid search's tasks) goes to the least loaded of the workers
         * holding at least half as much as the most: else every such task
         * queued on one worker while the others idled */
        hworker *best = NULL, *idle = NULL;
        uint64_t max_local = 0;
        double best_load = 0;
        int candidates = 0;
        hdriver *td = driver_by_id(h, t->owner);
        for (size_t i = 0; i < h->nworker_list; i++) {
            hworker *w = h->worker_list[i];
            w->sched_local = UINT64_MAX; /* not a candidate */
            if (!w->alive || !w->welcomed || !has_kernel(w, t->kernel) || !driver_may_use(h, td, w)) continue;
            candidates++;
            uint64_t local = 0;
            for (uint32_t k = 0; k < t->nin; k++) {
                hobj *in = obj_get(h, t->in[k]);
                if (in && holds(in, w->id)) local += in->stat.size + 1;
            }
            w->sched_local = local;
            if (local > max_local) max_local = local;
            if (w->inflight < (int)w->threads && (!idle || w->inflight < idle->inflight)) idle = w;
        }
        for (size_t i = 0; i < h->nworker_list && candidates; i++) {
            hworker *w = h->worker_list[i];
            uint64_t local = w->sched_local;
            if (local == UINT64_MAX || local < max_local - max_local / 2) continue;
            double load = (double)w->inflight / (double)w->threads;
            if (!best || load < best_load || (load == best_load && local > best->sched_local)) {
                best = w;
                best_load = load;
            }
        }
        if (!candidates) {
            if (alive) {
                char m[1200];
                explain_no_worker(h, td, t->kernel, m, sizeof m);
                q_unlink(&h->rhead, &h->rtail, t);
                t->tstate = T_NONE;
                obj_fail(h, t, WB_ENOTFOUND, m);
            }
            t = nx;
            continue;
        }
        if (best->inflight < window_of(best))
            assign(h, best, t);
        else if (idle)
            assign(h, idle, t);
        t = nx;
    }
    for (size_t i = 0; i < h->nworker_list; i++) flush_tasks(h, h->worker_list[i]);
}

/* after each burst of messages: schedule, then send what was batched */
static void head_flush(wb_head *h)
{
    if (h->sched_needed) schedule(h);
    for (hworker *w = h->dirty_workers; w; w = w->next_dirty) {
        w->dirty = 0;
        flush_tasks(h, w);
        ob_flush(w->alive ? w->conn : NULL, &w->drop);
        ob_flush(w->alive ? w->conn : NULL, &w->pull);
    }
    h->dirty_workers = NULL;
    for (hdriver *d = h->dirty_drivers; d; d = d->next_dirty) {
        d->dirty = 0;
        ob_flush(d->conn, &d->done);
        ob_flush(d->conn, &d->loc);
        ob_flush(d->conn, &d->freed);
        ob_flush(d->conn, &d->reput);
    }
    h->dirty_drivers = NULL;
}

static void on_check(uv_check_t *c)
{
    wb_head *h = c->data;
    head_flush(h);
    wb_net_flush(&h->net); /* after the poll phase: out now, not a loop turn later */
}

/* ---------------------------------------------------------- driver side */

static int on_submit(wb_head *h, hdriver *d, const unsigned char *p, size_t n)
{
    wb_m_tasks m;
    if (wb_dec_tasks(p, n, &m)) return -1;
    uint32_t *kid = calloc(m.nkernels ? m.nkernels : 1, sizeof *kid);
    argblob **args = calloc(m.nargs ? m.nargs : 1, sizeof *args);
    int rc = (!kid || !args) ? wb_seterr(WB_ENOMEM, "out of memory") : 0;
    for (uint32_t i = 0; !rc && i < m.nkernels; i++) {
        kid[i] = intern_kernel(h, m.kernels[i].p, m.kernels[i].len);
        if (kid[i] == UINT32_MAX) rc = wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; !rc && i < m.nargs; i++) {
        argblob *a = malloc(sizeof *a + m.args[i].len);
        if (!a) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        a->refs = 1; /* this batch's, dropped below */
        a->len = m.args[i].len;
        a->stamp_gen = 0;
        a->stamp_worker = 0;
        a->stamp_idx = 0;
        memcpy(a->data, m.args[i].p, a->len);
        args[i] = a;
    }
    for (uint32_t i = 0; !rc && i < m.ntasks; i++) {
        wb_m_task *t = &m.tasks[i];
        if ((t->oid >> 40) != d->id || obj_get(h, t->oid)) {
            rc = wb_seterr(WB_EPROTO, "SUBMIT message: object id %llx is not a new id of this driver",
                           (unsigned long long)t->oid);
            break;
        }
        if (t->oid > d->max_oid) d->max_oid = t->oid;
        hobj *o = calloc(1, sizeof *o);
        uint64_t *in = t->nin ? malloc(t->nin * sizeof *in) : NULL;
        if (!o || (t->nin && !in)) {
            free(o);
            free(in);
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        o->oid = t->oid;
        o->state = O_PENDING;
        o->refs = 1;
        o->driver_ref = 1;
        o->owner = d->id;
        o->has_spec = 1;
        o->kernel = kid[t->kernel];
        o->mode = t->mode;
        o->sumlen = t->sumlen;
        o->out_rows = t->out_rows;
        o->nin = t->nin;
        o->in = in;
        if (t->arg != WB_NO_ARG) {
            o->arg = args[t->arg];
            o->arg->refs++;
        }
        wb_omap_put(&h->objs, o->oid, o);
        h->tasks_submitted++;
        /* lineage references on the inputs */
        int bad = 0;
        for (uint32_t k = 0; k < t->nin; k++) {
            in[k] = t->in[k].oid;
            hobj *x = obj_get(h, in[k]);
            if (x) x->refs++;
            else bad = 1;
        }
        if (bad) {
            /* task_start reports the missing input; only the known inputs are referenced */
            uint32_t keep = 0;
            for (uint32_t k = 0; k < t->nin; k++)
                if (obj_get(h, in[k])) keep++;
            char m2[200];
            uint64_t miss = 0;
            for (uint32_t k = 0; k < t->nin && !miss; k++)
                if (!obj_get(h, in[k])) miss = in[k];
            for (uint32_t k = 0, j = 0; k < t->nin; k++)
                if (obj_get(h, in[k])) in[j++] = in[k];
            o->nin = keep;
            snprintf(m2, sizeof m2, "input object %llx of task '%s' is not on the cluster (was it released?)",
                     (unsigned long long)miss, h->knames[o->kernel]);
            obj_fail(h, o, WB_ENOTFOUND, m2);
            continue;
        }
        task_start(h, o);
    }
    for (uint32_t i = 0; i < m.nargs; i++)
        if (args && args[i] && --args[i]->refs == 0) free(args[i]);
    free(kid);
    free(args);
    wb_m_tasks_free(&m);
    return rc;
}

static int on_put_decl(wb_head *h, hdriver *d, const unsigned char *p, size_t n)
{
    wb_m_objs m;
    if (wb_dec_objs(p, n, 1, &m)) return -1;
    int rc = 0;
    for (uint32_t i = 0; i < m.n && !rc; i++) {
        wb_m_obj1 *x = &m.o[i];
        if ((x->oid >> 40) != d->id || obj_get(h, x->oid)) {
            rc = wb_seterr(WB_EPROTO, "PUT_DECL message: object id %llx is not a new id of this driver",
                           (unsigned long long)x->oid);
            break;
        }
        hobj *o = calloc(1, sizeof *o);
        if (!o) {
            rc = wb_seterr(WB_ENOMEM, "out of memory");
            break;
        }
        o->oid = x->oid;
        o->refs = 1;
        o->driver_ref = 1;
        o->owner = d->id;
        o->is_put = 1;
        o->put_worker = x->worker;
        wb_wstat_to(&x->stat, &o->stat);
        o->state = O_PENDING;
        if (x->oid > d->max_oid) d->max_oid = x->oid;
        wb_omap_put(&h->objs, o->oid, o);
        early *e = wb_omap_del(&h->early, x->oid);
        hworker *w = worker_by_id(h, x->worker);
        if (e) { /* the worker answered before this declaration arrived */
            hworker *ew = worker_by_id(h, e->worker);
            if (e->code) obj_fail(h, o, e->code, e->msg);
            else if (ew && ew->alive) obj_ready(h, o, e->worker, &e->stat, NULL, 0, 0);
            free(e->msg);
            free(e);
            if (o->state != O_PENDING) continue;
        }
        if (!w || !w->alive) { /* the driver's view was stale: put it elsewhere */
            o->state = O_LOST;
            obj_need(h, o, NULL);
        }
    }
    wb_m_objs_free(&m);
    return rc;
}

static int on_release(wb_head *h, hdriver *d, const unsigned char *p, size_t n)
{
    wb_m_oids m;
    if (wb_dec_oids(p, n, &m)) return -1;
    for (uint32_t i = 0; i < m.n; i++) {
        hobj *o = obj_get(h, wb_m_oid_at(&m, i));
        if (!o || o->owner != d->id || !o->driver_ref) continue;
        o->driver_ref = 0;
        obj_unref(h, o);
    }
    return 0;
}

static int on_locate(wb_head *h, hdriver *d, const unsigned char *p, size_t n, int replicate)
{
    uint32_t cnt;
    uint64_t oid;
    uint32_t target = 0;
    wb_m_oids m;
    wb_m_locs l;
    if (replicate) {
        if (wb_dec_locs(p, n, &l)) return -1;
        cnt = l.n;
    } else {
        if (wb_dec_oids(p, n, &m)) return -1;
        cnt = m.n;
    }
    for (uint32_t i = 0; i < cnt; i++) {
        if (replicate) {
            oid = l.l[i].oid;
            target = l.l[i].worker;
        } else
            oid = wb_m_oid_at(&m, i);
        hobj *o = obj_get(h, oid);
        if (!o) {
            char msg[160];
            snprintf(msg, sizeof msg, "object %llx is not on the cluster (was it released?)", (unsigned long long)oid);
            ob_add_loc(&d->loc, oid, WB_ENOTFOUND, 0, 0, msg);
            mark_dirty_driver(h, d);
            continue;
        }
        hworker *tw = target ? worker_by_id(h, target) : NULL;
        if (replicate && (!tw || !tw->alive)) {
            char msg[160];
            snprintf(msg, sizeof msg, "worker %u is not part of the cluster", target);
            ob_add_loc(&d->loc, oid, WB_ENOTFOUND, 0, 0, msg);
            mark_dirty_driver(h, d);
            continue;
        }
        add_waiter(o, d->id, target);
        if (o->state == O_READY && o->nholders == 0) o->state = O_LOST;
        if (o->state == O_LOST) obj_need(h, o, NULL);
        wake_waiters(h, o);
    }
    if (replicate) wb_m_locs_free(&l);
    return 0;
}

static int on_job(wb_head *h, hdriver *d, const unsigned char *p, size_t n);

static int driver_frame(wb_conn *c, int type, const unsigned char *p, size_t n)
{
    hdriver *d = c->data;
    wb_head *h = d->head;
    int rc;
    switch (type) {
    case WB_M_SUBMIT: rc = on_submit(h, d, p, n); break;
    case WB_M_PUT_DECL: rc = on_put_decl(h, d, p, n); break;
    case WB_M_RELEASE: rc = on_release(h, d, p, n); break;
    case WB_M_LOCATE: rc = on_locate(h, d, p, n, 0); break;
    case WB_M_REPLICATE: rc = on_locate(h, d, p, n, 1); break;
    case WB_M_PLUGINS: rc = on_plugins(h, d, p, n); break;
    case WB_M_PING: rc = wb_dec_ping(p, n); break;
    case WB_M_JOB: rc = on_job(h, d, p, n); break;
    default: rc = wb_seterr(WB_EPROTO, "a driver sent %s", wb_msg_name(type)); break;
    }
    return rc;
}

static void driver_gone(wb_head *h, hdriver *d)
{
    wb_omap_del(&h->drivers, d->id);
    /* its references go; objects it put can no longer be put again */
    size_t nrel = 0;
    uint64_t *oids = malloc((h->objs.n + 1) * sizeof *oids);
    for (size_t i = 0; oids && i < h->objs.cap; i++) {
        if (!h->objs.keys[i]) continue;
        hobj *o = h->objs.vals[i];
        if (o->owner == d->id && o->driver_ref) oids[nrel++] = o->oid;
    }
    for (size_t i = 0; i < nrel; i++) {
        hobj *o = obj_get(h, oids[i]);
        if (o && o->driver_ref) {
            o->driver_ref = 0;
            obj_unref(h, o);
        }
    }
    free(oids);
    /* early reports of its objects: the workers forget them */
    for (size_t i = 0; i < h->early.cap; i++) {
        if (!h->early.keys[i] || (uint32_t)(h->early.keys[i] >> 40) != d->id) continue;
        uint64_t oid = h->early.keys[i];
        early *e = wb_omap_del(&h->early, oid);
        hworker *w = worker_by_id(h, e->worker);
        if (w && w->alive && !e->code) {
            wb_enc_oid1(&w->drop, oid);
            mark_dirty_worker(h, w);
        }
        free(e->msg);
        free(e);
        i--; /* entries shifted back */
    }
    driver_lists_free(d);
    free(d->pl);
    free(d->cbad);
    /* take it off the dirty list */
    hdriver **pp = &h->dirty_drivers;
    while (*pp && *pp != d) pp = &(*pp)->next_dirty;
    if (*pp) *pp = d->next_dirty;
    free(d);
}

static void driver_close(wb_conn *c, int code, const char *why)
{
    (void)code;
    hdriver *d = c->data;
    if (!d) return;
    wb_head *h = d->head;
    wb_log(WB_LOG_INFO, "driver %u at %s left%s%s", d->id, c->peer, why[0] ? ": " : "", why);
    d->conn = NULL;
    driver_gone(h, d);
    h->sched_needed = 1;
}

static const wb_conn_cbs driver_cbs = {NULL, driver_frame, NULL, driver_close};

/* ---------------------------------------------------------- worker side */

static int on_register(wb_head *h, hworker *w, const unsigned char *p, size_t n)
{
    wb_m_register m;
    if (wb_dec_register(p, n, &m)) return -1;
    /* a plugin of the same name in another version gives other results: refuse */
    char conflict[400] = "";
    for (uint32_t i = 0; i < m.nplugins && !conflict[0]; i++)
        for (int j = 0; j < wb_plugin_count(); j++) {
            const char *name, *version;
            wb_plugin_info_at(j, &name, &version, NULL);
            if (wb_pstr_eq(m.plugins[i].name, name) && !wb_pstr_eq(m.plugins[i].version, version)) {
                char v[130];
                wb_pstr_copy(m.plugins[i].version, v, sizeof v);
                snprintf(conflict, sizeof conflict, "its plugin '%s' is version %s, the head's is %s", name, v,
                         version);
            }
        }
    if (conflict[0]) {
        char msg[600];
        snprintf(msg, sizeof msg, "worker refused: %s", conflict);
        wb_wr wr = wb_conn_wr(w->conn);
        wb_enc_reject(&wr, WB_EABI, msg);
        wb_log(WB_LOG_WARN, "refused the worker at %s: %s", w->conn->peer, conflict);
        wb_m_register_free(&m);
        wb_conn *c = w->conn;
        wb_conn_close(c, WB_EABI, msg);
        return 0;
    }
    w->threads = m.threads;
    w->mem_limit = m.mem_limit;
    wb_pstr_copy(m.host, w->host, sizeof w->host);
    w->port = m.port;
    w->pid = m.pid;
    snprintf(w->addr, sizeof w->addr, "%s:%d", w->host, w->port);
    for (uint32_t i = 0; i < m.nkernels; i++) {
        uint32_t k = intern_kernel(h, m.kernels[i].p, m.kernels[i].len);
        if (k == UINT32_MAX) continue;
        if (k >= w->nkbits) {
            uint32_t cap = w->nkbits ? w->nkbits : 64;
            while (cap <= k) cap *= 2;
            uint8_t *b = realloc(w->kbits, cap);
            if (!b) continue;
            memset(b + w->nkbits, 0, cap - w->nkbits);
            w->kbits = b;
            w->nkbits = cap;
        }
        w->kbits[k] = 1;
    }
    /* plugins: list them, and say what differs from the head's set */
    wb_buf pl = {0}, diff = {0};
    for (uint32_t i = 0; i < m.nplugins; i++) {
        char nm[130], vs[130];
        wb_pstr_copy(m.plugins[i].name, nm, sizeof nm);
        wb_pstr_copy(m.plugins[i].version, vs, sizeof vs);
        wb_buf_printf(&pl, "%s%s %s", i ? ", " : "", nm, vs);
        int found = 0;
        for (int j = 0; j < wb_plugin_count() && !found; j++) {
            const char *name;
            wb_plugin_info_at(j, &name, NULL, NULL);
            found = wb_pstr_eq(m.plugins[i].name, name);
        }
        if (!found) wb_log(WB_LOG_INFO, "worker %u has plugin '%s', which the head has not loaded", w->id, nm);
    }
    for (int j = 0; j < wb_plugin_count(); j++) {
        const char *name;
        wb_plugin_info_at(j, &name, NULL, NULL);
        int found = 0;
        for (uint32_t i = 0; i < m.nplugins && !found; i++) found = wb_pstr_eq(m.plugins[i].name, name);
        if (!found) wb_buf_printf(&diff, "%slacks plugin '%s'", diff.len ? ", " : "", name);
    }
    free(w->plugins);
    w->plugins = pl.len ? (char *)pl.p : wb_strdup("");
    if (!pl.len) wb_buf_free(&pl);
    free(w->pl);
    w->pl = wb_cplugins_from(m.plugins, m.nplugins);
    w->npl = w->pl ? m.nplugins : 0;
    h->pgen++;
    for (size_t i = 0; i < h->drivers.cap; i++) {
        if (!h->drivers.keys[i]) continue;
        warn_conflict(h->drivers.vals[i], w);
    }
    wb_m_register_free(&m);
    w->welcomed = 1;
    w->alive = 1;
    w->last_seen = uv_now(h->loop);
    wb_omap_put(&h->workers, w->id, w);
    char mem[32];
    if (w->mem_limit) wb_size_format(w->mem_limit, mem, sizeof mem);
    else snprintf(mem, sizeof mem, "no limit");
    wb_log(WB_LOG_INFO, "worker %u joined from %s (%u thread%s, memory %s, data port %s)", w->id, w->conn->peer,
           w->threads, w->threads == 1 ? "" : "s", mem, w->addr);
    if (diff.len) {
        wb_buf_add(&diff, "", 1);
        wb_log(WB_LOG_WARN,
               "worker %u at %s has a different plugin set (%s): tasks of the missing kernels are routed to other "
               "workers",
               w->id, w->addr, (char *)diff.p);
    }
    wb_buf_free(&diff);
    /* welcome it */
    wb_wr wr = wb_conn_wr(w->conn);
    encode_welcome(h, &wr, w->id);
    wb_conn_mark(w->conn);
    broadcast_workers(h);
    h->sched_needed = 1;
    return 0;
}

static int on_done(wb_head *h, hworker *w, const unsigned char *p, size_t n)
{
    wb_m_done m;
    if (wb_dec_done(p, n, &m)) return -1;
    for (uint32_t i = 0; i < m.n; i++) {
        wb_m_done1 *d = &m.d[i];
        hobj *o = obj_get(h, d->oid);
        int was_running_here = o && o->has_spec && o->tstate == T_RUNNING && o->worker == w->id;
        if (!o && d->code && is_early(h, d->oid)) { /* a put refused before it was declared */
            char em[WB_PROTO_MAX_TEXT + 1];
            keep_early(h, d->oid, w->id, NULL, d->code, wb_pstr_copy(d->msg, em, sizeof em));
            continue;
        }
        if (!o || (d->code == 0 && o->state == O_FAILED)) {
            /* released (or failed) while it ran: the worker forgets it */
            if (d->code == 0) {
                wb_enc_oid1(&w->drop, d->oid);
                mark_dirty_worker(h, w);
            }
            continue;
        }
        if (d->code == 0) {
            if (was_running_here) w->tasks_done++;
            wb_objstat st;
            wb_wstat_to(&d->stat, &st);
            obj_ready(h, o, w->id, &st, d->data.p, d->data.len, d->has_inline);
        } else {
            if (o->has_spec && !was_running_here) continue; /* a stale report */
            char msg[WB_PROTO_MAX_TEXT + 200];
            char em[WB_PROTO_MAX_TEXT + 1];
            wb_pstr_copy(d->msg, em, sizeof em);
            /* where it failed goes at the end of the first line (before a traceback) */
            char *nl = strchr(em, '\n');
            if (nl) *nl = 0;
            snprintf(msg, sizeof msg, "%s (on worker %u at %s)%s%s", em, w->id, w->addr, nl ? "\n" : "",
                     nl ? nl + 1 : "");
            w->tasks_failed++;
            record_error(h, msg);
            wb_log(WB_LOG_INFO, "task failed: %s", em);
            obj_fail(h, o, d->code, msg);
        }
    }
    wb_m_done_free(&m);
    h->sched_needed = 1;
    return 0;
}

static int on_hold(wb_head *h, hworker *w, const unsigned char *p, size_t n)
{
    wb_m_objs m;
    if (wb_dec_objs(p, n, 0, &m)) return -1;
    for (uint32_t i = 0; i < m.n; i++) {
        hobj *o = obj_get(h, m.o[i].oid);
        if (!o && is_early(h, m.o[i].oid)) {
            wb_objstat st;
            wb_wstat_to(&m.o[i].stat, &st);
            keep_early(h, m.o[i].oid, w->id, &st, 0, NULL);
            continue;
        }
        if (!o || o->state == O_FAILED) {
            wb_enc_oid1(&w->drop, m.o[i].oid);
            mark_dirty_worker(h, w);
            continue;
        }
        wb_objstat st;
        wb_wstat_to(&m.o[i].stat, &st);
        if (o->state == O_READY) {
            add_holder(o, w->id);
            wake_waiters(h, o);
        } else if (o->is_put || o->state == O_LOST) {
            obj_ready(h, o, w->id, &st, NULL, 0, 0);
        } else {
            /* a copy of an object whose task is running again elsewhere: keep it */
            obj_ready(h, o, w->id, &st, NULL, 0, 0);
        }
    }
    wb_m_objs_free(&m);
    h->sched_needed = 1;
    return 0;
}

static int on_input_lost(wb_head *h, hworker *w, const unsigned char *p, size_t n)
{
    wb_m_locs m;
    if (wb_dec_locs(p, n, &m)) return -1;
    for (uint32_t i = 0; i < m.n; i++) {
        wb_m_loc1 *l = &m.l[i];
        char em[WB_PROTO_MAX_TEXT + 1];
        wb_pstr_copy(l->msg, em, sizeof em);
        hobj *in = obj_get(h, l->other);
        /* the holders that failed it are not holders any more */
        if (in && l->worker && del_holder(in, l->worker) && in->nholders == 0 && in->state == O_READY) {
            in->state = O_LOST;
            h->nobj_bytes -= in->stat.size;
        }
        if (l->oid == l->other) { /* a PULL (replication) failed */
            if (!in) continue;
            for (uint32_t k = 0; k < in->nwaiters; k++) {
                if (in->waiters[k].worker != w->id) continue;
                hdriver *d = driver_by_id(h, in->waiters[k].driver);
                if (d) {
                    ob_add_loc(&d->loc, in->oid, l->code ? l->code : WB_ENET, 0, 0, em);
                    mark_dirty_driver(h, d);
                }
                in->waiters[k--] = in->waiters[--in->nwaiters];
            }
            continue;
        }
        hobj *t = obj_get(h, l->oid);
        if (!t || t->tstate != T_RUNNING || t->worker != w->id) continue;
        task_unlist(h, t);
        t->tstate = T_NONE;
        t->attempts++;
        wb_log(WB_LOG_INFO, "worker %u could not fetch input %llx of task '%s': %s", w->id,
               (unsigned long long)l->other, h->knames[t->kernel], em);
        if ((int)t->attempts > h->max_retries + 2) {
            char msg[WB_PROTO_MAX_TEXT + 600], desc[200];
            describe_obj(h, t, desc, sizeof desc);
            snprintf(msg, sizeof msg, "%s failed: its input %llx could not be fetched (worker %u at %s: %s)", desc,
                     (unsigned long long)l->other, w->id, w->addr, em);
            obj_fail(h, t, l->code ? l->code : WB_ENET, msg);
        } else {
            h->retried++;
            task_start(h, t);
        }
    }
    wb_m_locs_free(&m);
    h->sched_needed = 1;
    return 0;
}

/* ------------------------------------------------------- the dashboard */

/* WSTATS: a worker's tasks and log lines (its clock moved onto the head's)
 * and a sample of its memory and CPU */
static int on_wstats(wb_head *h, hworker *w, const unsigned char *p, size_t n)
{
    wb_m_wstats m;
    if (wb_dec_wstats(p, n, &m)) return -1;
    double now = wb_now(), off = now - m.now;
    hsample *sm = &w->hist[w->nhist % WB_HEAD_HIST];
    sm->t = now;
    sm->rss = (double)m.rss;
    sm->mem = (double)w->hb.mem_used;
    sm->cpu = 0;
    if (w->nhist && m.now > w->clock_prev && m.cpu >= w->cpu_prev)
        sm->cpu = (m.cpu - w->cpu_prev) / (m.now - w->clock_prev);
    w->nhist++;
    w->cpu_prev = m.cpu;
    w->clock_prev = m.now;
    for (uint32_t i = 0; i < m.ntasks && h->stream; i++) {
        const wb_m_wtask *t = &m.tasks[i];
        hstream *e = &h->stream[h->nstream % WB_HEAD_STREAM];
        e->worker = w->id;
        e->kernel = intern_kernel(h, t->kernel.p, t->kernel.len);
        e->thread = t->thread;
        e->ok = t->ok;
        e->start = t->start + off;
        e->end = t->end + off;
        h->nstream++;
    }
    for (uint32_t i = 0; i < m.nlogs; i++) {
        hwlog *l = &h->wlogs[h->nwlogs % WB_HEAD_WLOGS];
        l->time = m.logs[i].time + off;
        l->worker = w->id;
        l->level = m.logs[i].level;
        wb_pstr_copy(m.logs[i].msg, l->msg, sizeof l->msg);
        h->nwlogs++;
    }
    wb_m_wstats_free(&m);
    return 0;
}

/* JOB: a driver's running job */
static int on_job(wb_head *h, hdriver *d, const unsigned char *p, size_t n)
{
    (void)h;
    wb_m_job m;
    if (wb_dec_job(p, n, &m)) return -1;
    double now = wb_now();
    d->njob = (int)m.n;
    for (uint32_t i = 0; i < m.n; i++) {
        wb_jobstage *s = &d->job[i];
        wb_pstr_copy(m.s[i].name, s->name, sizeof s->name);
        wb_pstr_copy(m.s[i].info, s->info, sizeof s->info);
        s->done = m.s[i].done;
        s->total = m.s[i].total;
        s->start = now - m.s[i].elapsed;
    }
    d->job_at = now;
    return 0;
}

static int worker_frame(wb_conn *c, int type, const unsigned char *p, size_t n)
{
    hworker *w = c->data;
    if (!w) return 0;
    wb_head *h = w->head;
    w->last_seen = uv_now(h->loop);
    if (!w->welcomed && type != WB_M_REGISTER) return wb_seterr(WB_EPROTO, "a worker sent %s before REGISTER", wb_msg_name(type));
    switch (type) {
    case WB_M_REGISTER:
        if (w->welcomed) return wb_seterr(WB_EPROTO, "a worker registered twice");
        return on_register(h, w, p, n);
    case WB_M_HEARTBEAT: {
        wb_m_heartbeat hb;
        if (wb_dec_heartbeat(p, n, &hb)) return -1;
        w->hb = hb;
        return 0;
    }
    case WB_M_DONE: return on_done(h, w, p, n);
    case WB_M_WSTATS: return on_wstats(h, w, p, n);
    case WB_M_HOLD: return on_hold(h, w, p, n);
    case WB_M_INPUT_LOST: return on_input_lost(h, w, p, n);
    default: return wb_seterr(WB_EPROTO, "a worker sent %s", wb_msg_name(type));
    }
}

static void worker_close(wb_conn *c, int code, const char *why)
{
    (void)code;
    hworker *w = c->data;
    if (!w) return;
    wb_head *h = w->head;
    w->conn = NULL;
    if (w->welcomed && w->alive) {
        char m[600];
        snprintf(m, sizeof m, "%s", why[0] ? why : "it closed its connection");
        worker_lost(h, w, m);
    } else if (!w->welcomed) {
        /* never joined: forget it */
        for (size_t i = 0; i < h->nworker_list; i++)
            if (h->worker_list[i] == w) {
                h->worker_list[i] = h->worker_list[--h->nworker_list];
                break;
            }
        free(w->plugins);
        free(w->pl);
        free(w->kbits);
        free(w->klocal);
        free(w);
    }
}

static const wb_conn_cbs worker_cbs = {NULL, worker_frame, NULL, worker_close};

/* ----------------------------------------------------------- accepting */

static void on_peer_ready(wb_conn *c)
{
    wb_head *h = c->data;
    if (c->peer_role == WB_ROLE_WORKER) {
        hworker *w = calloc(1, sizeof *w);
        if (!w) {
            wb_conn_close(c, WB_ENOMEM, "out of memory");
            return;
        }
        if (h->nworker_list == h->capworker_list) {
            size_t cap = h->capworker_list ? h->capworker_list * 2 : 16;
            hworker **p = realloc(h->worker_list, cap * sizeof *p);
            if (!p) {
                free(w);
                wb_conn_close(c, WB_ENOMEM, "out of memory");
                return;
            }
            h->worker_list = p;
            h->capworker_list = cap;
        }
        h->worker_list[h->nworker_list++] = w;
        wb_list_init(&w->drop, WB_M_DROP);
        wb_list_init(&w->pull, WB_M_PULL);
        wb_taskbatch_init(&w->batch, WB_M_TASKS);
        w->head = h;
        w->id = h->next_worker++;
        w->conn = c;
        w->joined = (double)time(NULL);
        snprintf(w->addr, sizeof w->addr, "%s", c->peer);
        c->data = w;
        c->cb = &worker_cbs;
        return;
    }
    /* a driver */
    hdriver *d = calloc(1, sizeof *d);
    if (!d) {
        wb_conn_close(c, WB_ENOMEM, "out of memory");
        return;
    }
    wb_list_init(&d->done, WB_M_DONE);
    wb_list_init(&d->loc, WB_M_LOCATION);
    wb_list_init(&d->freed, WB_M_FREED);
    wb_list_init(&d->reput, WB_M_REPUT);
    d->head = h;
    d->id = h->next_driver++;
    d->conn = c;
    c->data = d;
    c->cb = &driver_cbs;
    wb_omap_put(&h->drivers, d->id, d);
    wb_log(WB_LOG_INFO, "driver %u connected from %s", d->id, c->peer);
    wb_wr wr = wb_conn_wr(c);
    encode_welcome(h, &wr, d->id);
    encode_workers(h, &wr);
    wb_conn_mark(c);
}

static void pre_close(wb_conn *c, int code, const char *why)
{
    (void)c;
    (void)code;
    (void)why; /* dropped before the handshake ended: net.c has logged it */
}

static const wb_conn_cbs pre_cbs = {on_peer_ready, NULL, NULL, pre_close};

static void on_connection(uv_stream_t *server, int status)
{
    wb_head *h = server->data;
    if (status < 0) {
        wb_log(WB_LOG_WARN, "accept: %s", uv_strerror(status));
        return;
    }
    wb_conn_accept(&h->net, server, &pre_cbs, h, WB_ROLE_HEAD, (1u << WB_ROLE_WORKER) | (1u << WB_ROLE_DRIVER));
}

/* ------------------------------------------------------------- timers */

static void worker_free(hworker *w)
{
    free(w->plugins);
    free(w->pl);
    free(w->kbits);
    free(w->klocal);
    wb_list_free(&w->drop);
    wb_list_free(&w->pull);
    wb_taskbatch_free(&w->batch);
    free(w);
}

/* forget the oldest removed workers past WB_HEAD_KEEP_REMOVED, so workers
 * that come and go do not grow the head (called with no worker dirty) */
static void prune_removed(wb_head *h)
{
    size_t removed = 0;
    for (size_t i = 0; i < h->nworker_list; i++) removed += h->worker_list[i]->welcomed && !h->worker_list[i]->alive;
    while (removed > WB_HEAD_KEEP_REMOVED) {
        size_t old = h->nworker_list;
        for (size_t i = 0; i < h->nworker_list; i++) {
            hworker *w = h->worker_list[i];
            if (w->welcomed && !w->alive && !w->dirty && (old == h->nworker_list || w->id < h->worker_list[old]->id)) old = i;
        }
        if (old == h->nworker_list) return;
        hworker *w = h->worker_list[old];
        memmove(h->worker_list + old, h->worker_list + old + 1, (h->nworker_list - old - 1) * sizeof *h->worker_list);
        h->nworker_list--;
        wb_omap_del(&h->workers, w->id);
        worker_free(w);
        removed--;
    }
}

static void on_tick(uv_timer_t *t)
{
    wb_head *h = t->data;
    uint64_t now = uv_now(h->loop);
    for (size_t i = 0; i < h->nworker_list; i++) {
        hworker *w = h->worker_list[i];
        if (!w->alive || !w->welcomed) continue;
        if (now - w->last_seen > (uint64_t)h->timeout_ms) {
            char m[200];
            snprintf(m, sizeof m, "silent for %.1f s (heartbeat timeout %.1f s)", (now - w->last_seen) / 1000.0,
                     h->timeout_ms / 1000.0);
            worker_lost(h, w, m);
        }
    }
    /* PING every heartbeat: a driver (and a worker) that hears nothing from
     * the head for its head timeout knows the head is gone or frozen */
    if (now - h->last_ping >= (uint64_t)h->heartbeat_ms) {
        h->last_ping = now;
        for (size_t i = 0; i < h->nworker_list; i++) {
            hworker *w = h->worker_list[i];
            if (!w->alive || !w->welcomed || !w->conn) continue;
            wb_wr wr = wb_conn_wr(w->conn);
            wb_enc_ping(&wr);
            wb_conn_mark(w->conn);
        }
        for (size_t i = 0; i < h->drivers.cap; i++) {
            if (!h->drivers.keys[i]) continue;
            hdriver *d = h->drivers.vals[i];
            if (!d->conn) continue;
            wb_wr wr = wb_conn_wr(d->conn);
            wb_enc_ping(&wr);
            wb_conn_mark(d->conn);
        }
    }
    tput_advance(h);
    wb_net_trim(&h->net);
    /* idle (no driver, no object): give the memory of the last burst back
     * to the system, once */
    if (h->drivers.n == 0 && h->objs.n == 0) {
#ifdef __GLIBC__
        if (!h->idle_trimmed) malloc_trim(0);
#endif
        h->idle_trimmed = 1;
    } else {
        h->idle_trimmed = 0;
    }
    head_flush(h);
    prune_removed(h);
}

static void on_signal(uv_signal_t *s, int signum)
{
    wb_head *h = s->data;
    wb_log(WB_LOG_INFO, "stopping (signal %d)", signum);
    h->stopping = 1;
    uv_stop(h->loop);
}

/* -------------------------------------------------------- status (JSON) */

#define HELD_SHOWN 10         /* objects listed per worker, the largest */
#define STREAM_WINDOW 120.0   /* seconds of task stream */
#define STREAM_SHOWN 6000     /* tasks at most */
#define LOGS_SHOWN 150

static void json_str(wb_buf *b, const char *s) { wb_json_str(b, s); }

typedef struct held_top {
    const hobj *o[HELD_SHOWN];
    int n;
    uint64_t count, bytes;
} held_top;

static void held_add(held_top *t, const hobj *o)
{
    t->count++;
    t->bytes += o->stat.size;
    int i = t->n < HELD_SHOWN ? t->n++ : HELD_SHOWN - 1;
    if (i == HELD_SHOWN - 1 && t->n == HELD_SHOWN && t->o[i] && t->o[i]->stat.size >= o->stat.size) return;
    while (i > 0 && t->o[i - 1]->stat.size < o->stat.size) {
        t->o[i] = t->o[i - 1];
        i--;
    }
    t->o[i] = o;
}

static void held_json(wb_head *h, wb_buf *b, const held_top *t)
{
    wb_buf_printf(b, ",\"held_count\":%llu,\"held_bytes\":%llu,\"held\":[", (unsigned long long)t->count,
                  (unsigned long long)t->bytes);
    for (int i = 0; i < t->n; i++) {
        const hobj *o = t->o[i];
        wb_buf_printf(b, "%s{\"id\":\"%llx\",\"kind\":\"%s\",\"rows\":%lld,\"cols\":%lld,\"bytes\":%llu,\"made_by\":", i ? "," : "",
                      (unsigned long long)o->oid, o->stat.type == WB_OBJ_PART ? "partition" : "bytes",
                      (long long)o->stat.rows, (long long)o->stat.cols, (unsigned long long)o->stat.size);
        json_str(b, o->has_spec && o->kernel < h->nk ? h->knames[o->kernel] : "put");
        wb_buf_printf(b, ",\"driver\":%u,\"copies\":%u}", o->owner, (unsigned)o->nholders);
    }
    wb_buf_add(b, "]", 1);
}

/* the tasks the workers ran in the last STREAM_WINDOW seconds, newest first */
static void stream_json(wb_head *h, wb_buf *b, double tnow)
{
    wb_buf_printf(b, "\"stream\":{\"window\":%.0f,\"tasks\":[", STREAM_WINDOW);
    uint32_t *kidx = calloc(h->nk + 1, sizeof *kidx); /* interned id -> index + 1 in the list sent */
    uint32_t *klist = calloc(h->nk + 1, sizeof *klist);
    uint32_t nklist = 0;
    int shown = 0;
    uint64_t lo = h->nstream > WB_HEAD_STREAM ? h->nstream - WB_HEAD_STREAM : 0;
    for (uint64_t i = h->nstream; h->stream && kidx && klist && i > lo && shown < STREAM_SHOWN; i--) {
        const hstream *e = &h->stream[(i - 1) % WB_HEAD_STREAM];
        if (e->end < tnow - STREAM_WINDOW) continue;
        if (e->kernel >= h->nk) continue;
        if (!kidx[e->kernel]) {
            klist[nklist] = e->kernel;
            kidx[e->kernel] = ++nklist;
        }
        wb_buf_printf(b, "%s[%u,%u,%u,%.3f,%.3f,%u]", shown ? "," : "", e->worker, (unsigned)e->thread,
                      kidx[e->kernel] - 1, tnow - e->start, tnow - e->end, (unsigned)e->ok);
        shown++;
    }
    wb_buf_printf(b, "],\"kernels\":[");
    for (uint32_t k = 0; k < nklist; k++) {
        if (k) wb_buf_add(b, ",", 1);
        json_str(b, h->knames[klist[k]]);
    }
    wb_buf_add(b, "]}", 2);
    free(kidx);
    free(klist);
}

/* the last log lines of the head and of the workers, oldest first */
static void logs_json(wb_head *h, wb_buf *b, double tnow)
{
    wb_logrec *mine = malloc(256 * sizeof *mine);
    uint64_t cur = 0;
    int nm = mine ? wb_activity_logs_since(&cur, mine, 256) : 0;
    uint64_t wlo = h->nwlogs > WB_HEAD_WLOGS ? h->nwlogs - WB_HEAD_WLOGS : 0;
    int nw = (int)(h->nwlogs - wlo);
    /* the newest LOGS_SHOWN of the two, merged by time */
    int im = nm, iw = nw, take = 0;
    while (take < LOGS_SHOWN && (im > 0 || iw > 0)) {
        const hwlog *w = iw > 0 ? &h->wlogs[(wlo + (uint64_t)iw - 1) % WB_HEAD_WLOGS] : NULL;
        if (im > 0 && (!w || mine[im - 1].time >= w->time)) im--;
        else iw--;
        take++;
    }
    wb_buf_printf(b, "\"logs\":[");
    int first = 1;
    while (im < nm || iw < nw) {
        const hwlog *w = iw < nw ? &h->wlogs[(wlo + (uint64_t)iw) % WB_HEAD_WLOGS] : NULL;
        if (!first) wb_buf_add(b, ",", 1);
        first = 0;
        if (im < nm && (!w || mine[im].time <= w->time)) {
            wb_json_log(b, tnow - mine[im].time, "head", mine[im].level, mine[im].msg);
            im++;
        } else {
            char src[32];
            snprintf(src, sizeof src, "worker %u", w->worker);
            wb_json_log(b, tnow - w->time, src, w->level, w->msg);
            iw++;
        }
    }
    wb_buf_add(b, "]", 1);
    free(mine);
}

void wb_head_status_json(wb_head *h, wb_buf *b)
{
    uint64_t now = uv_now(h->loop);
    double tnow = wb_now();
    size_t waiting = 0, ready = 0, assigned = 0, pending_put = 0, ready_objs = 0, lost = 0, failed = 0;
    /* what each worker holds, from the directory */
    wb_omap index = {0};
    held_top *tops = calloc(h->nworker_list + 1, sizeof *tops);
    for (size_t i = 0; i < h->nworker_list; i++) wb_omap_put(&index, h->worker_list[i]->id, (void *)(uintptr_t)(i + 1));
    for (size_t i = 0; i < h->objs.cap; i++) {
        if (!h->objs.keys[i]) continue;
        hobj *o = h->objs.vals[i];
        if (o->tstate == T_WAITING) waiting++;
        else if (o->tstate == T_READY) ready++;
        else if (o->tstate == T_RUNNING) assigned++;
        if (o->state == O_READY) ready_objs++;
        else if (o->state == O_LOST) lost++;
        else if (o->state == O_FAILED) failed++;
        else if (o->is_put) pending_put++;
        if (o->state == O_READY && tops)
            for (uint16_t k = 0; k < o->nholders; k++) {
                uintptr_t at = (uintptr_t)wb_omap_get(&index, o->holders[k]);
                if (at) held_add(&tops[at - 1], o);
            }
    }
    wb_buf_printf(b, "{\"kind\":\"cluster\",\"version\":");
    json_str(b, WB_VERSION);
    wb_buf_printf(b, ",\"protocol\":%d,\"address\":", WB_PROTO_VERSION);
    json_str(b, h->address);
    wb_buf_printf(b, ",\"uptime\":%.1f,\"heartbeat_timeout\":%.1f", (now - h->t0) / 1000.0, h->timeout_ms / 1000.0);
    size_t ndrivers = h->drivers.n;
    wb_buf_printf(b, ",\"drivers\":%zu,\"workers\":[", ndrivers);
    int first = 1;
    unsigned running = 0, queued_w = 0;
    for (size_t i = 0; i < h->nworker_list; i++) {
        hworker *w = h->worker_list[i];
        if (!w->welcomed) continue;
        if (w->alive) {
            running += w->hb.running;
            queued_w += w->hb.queued;
        }
        wb_buf_printf(b, "%s{\"id\":%u,\"address\":", first ? "" : ",", w->id);
        first = 0;
        json_str(b, w->addr);
        double cpu = w->nhist ? w->hist[(w->nhist - 1) % WB_HEAD_HIST].cpu : 0;
        wb_buf_printf(b,
                      ",\"alive\":%s,\"threads\":%u,\"pid\":%u,\"memory_used\":%llu,\"memory_limit\":%llu,"
                      "\"rss\":%lld,\"objects\":%llu,\"tasks_running\":%u,\"tasks_queued\":%u,\"tasks_assigned\":%d,"
                      "\"tasks_done\":%llu,\"tasks_failed\":%llu,\"last_heartbeat\":%.1f,\"cpu\":%.3f,\"plugins\":",
                      w->alive ? "true" : "false", w->threads, w->pid, (unsigned long long)w->hb.mem_used,
                      (unsigned long long)w->mem_limit, (long long)w->hb.rss, (unsigned long long)w->hb.objects,
                      w->alive ? w->hb.running : 0, w->alive ? w->hb.queued : 0, w->inflight, (unsigned long long)w->tasks_done,
                      (unsigned long long)w->tasks_failed, w->alive ? (now - w->last_seen) / 1000.0 : -1.0, cpu);
        json_str(b, w->plugins ? w->plugins : "");
        wb_buf_printf(b, ",\"removed\":");
        json_str(b, w->alive ? "" : w->why);
        held_top none = {0};
        held_json(h, b, tops ? &tops[i] : &none);
        wb_buf_printf(b, ",\"history\":");
        wb_json_samples(b, w->hist, w->nhist, WB_HEAD_HIST, tnow);
        wb_buf_printf(b, "}");
    }
    free(tops);
    wb_omap_free(&index);
    /* running: what the workers say runs (the sum of the table's column);
     * assigned: sent to workers, running there or waiting in their queues */
    wb_buf_printf(b,
                  "],\"tasks\":{\"waiting\":%zu,\"queued\":%zu,\"assigned\":%zu,\"running\":%u,\"queued_on_workers\":%u,"
                  "\"done\":%llu,\"failed\":%llu,\"retried\":%llu,\"submitted\":%llu,\"rebuilt\":%llu},",
                  waiting, ready, assigned, running, queued_w, (unsigned long long)h->tasks_done,
                  (unsigned long long)h->tasks_failed, (unsigned long long)h->retried,
                  (unsigned long long)h->tasks_submitted, (unsigned long long)h->rebuilt);
    wb_buf_printf(b, "\"objects\":{\"count\":%zu,\"ready\":%zu,\"lost\":%zu,\"failed\":%zu,\"bytes\":%llu},",
                  h->objs.n, ready_objs, lost, failed, (unsigned long long)h->nobj_bytes);
    wb_buf_printf(b, "\"workers_lost\":%llu,", (unsigned long long)h->workers_lost);
    /* the drivers' running jobs */
    wb_buf_printf(b, "\"jobs\":[");
    first = 1;
    for (size_t i = 0; i < h->drivers.cap; i++) {
        if (!h->drivers.keys[i]) continue;
        hdriver *d = h->drivers.vals[i];
        if (d->njob <= 0) continue;
        wb_buf_printf(b, "%s{\"driver\":%u,\"updated\":%.1f,\"stages\":", first ? "" : ",", d->id, tnow - d->job_at);
        first = 0;
        wb_json_job(b, d->job, d->njob, tnow);
        wb_buf_add(b, "}", 1);
    }
    wb_buf_printf(b, "],");
    stream_json(h, b, tnow);
    wb_buf_add(b, ",", 1);
    logs_json(h, b, tnow);
    /* tasks finished per second over the last minutes, oldest first */
    uint64_t sec = (now - h->t0) / 1000;
    int span = (int)(sec + 1 < 120 ? sec + 1 : 120);
    wb_buf_printf(b, ",\"throughput\":[");
    for (int k = span - 1; k >= 0; k--) {
        uint64_t s = sec - (uint64_t)k;
        uint32_t v = (s + WB_HEAD_TPUT > h->tput_sec) ? h->tput[s % WB_HEAD_TPUT] : 0;
        wb_buf_printf(b, "%s%u", k == span - 1 ? "" : ",", v);
    }
    wb_buf_printf(b, "],\"errors\":[");
    size_t ne = h->nerrors < WB_HEAD_ERRORS ? h->nerrors : WB_HEAD_ERRORS;
    for (size_t k = 0; k < ne; k++) {
        const herr *e = &h->errors[(h->nerrors - 1 - k) % WB_HEAD_ERRORS];
        wb_buf_printf(b, "%s{\"time\":%.0f,\"message\":", k ? "," : "", e->when);
        json_str(b, e->msg);
        wb_buf_printf(b, "}");
    }
    wb_buf_printf(b, "]}");
}

/* ------------------------------------------------------------------ run */

void wb_head_opts_init(wb_head_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 7878;
    o->dashboard_port = 7879;
    o->heartbeat_ms = 1000;
    o->timeout_ms = 10000;
    o->max_retries = 3;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return memcmp(&s->sin6_addr, lo, 16) == 0;
    }
    return 0;
}

static void close_walk(uv_handle_t *hd, void *arg)
{
    (void)arg;
    if (!uv_is_closing(hd)) uv_close(hd, NULL);
}

/* close every connection and handle, then free the tables */
static void head_shutdown(wb_head *h)
{
    h->stopping = 1;
    uv_loop_t *loop = h->loop;
    for (size_t i = 0; i < h->nworker_list; i++) {
        hworker *w = h->worker_list[i];
        if (w->conn) {
            wb_conn *c = w->conn;
            w->conn = NULL;
            c->data = NULL;
            if (c->state == WB_CS_READY) { /* a worker told so exits quietly */
                wb_wr wr = wb_conn_wr(c);
                wb_enc_reject(&wr, WB_ESTATE, "the head is stopping");
            }
            wb_conn_close(c, 0, "the head is stopping");
        }
    }
    for (size_t i = 0; i < h->drivers.cap; i++) {
        if (!h->drivers.keys[i]) continue;
        hdriver *d = h->drivers.vals[i];
        if (d->conn) {
            wb_conn *c = d->conn;
            d->conn = NULL;
            c->data = NULL;
            if (c->state == WB_CS_READY) {
                wb_wr wr = wb_conn_wr(c);
                wb_enc_reject(&wr, WB_ESTATE, "the head is stopping");
            }
            wb_conn_close(c, 0, "the head is stopping");
        }
    }
    wb_dash_stop(h);
    wb_net_close(&h->net);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    for (size_t i = 0; i < h->objs.cap; i++)
        if (h->objs.keys[i]) obj_free(h->objs.vals[i]);
    wb_omap_free(&h->objs);
    for (size_t i = 0; i < h->early.cap; i++)
        if (h->early.keys[i]) {
            early *e = h->early.vals[i];
            free(e->msg);
            free(e);
        }
    wb_omap_free(&h->early);
    for (size_t i = 0; i < h->nworker_list; i++) worker_free(h->worker_list[i]);
    free(h->worker_list);
    wb_omap_free(&h->workers);
    for (size_t i = 0; i < h->drivers.cap; i++) {
        if (!h->drivers.keys[i]) continue;
        hdriver *d = h->drivers.vals[i];
        driver_lists_free(d);
        free(d->pl);
        free(d->cbad);
        free(d);
    }
    wb_omap_free(&h->drivers);
    for (uint32_t i = 0; i < h->nk; i++) free(h->knames[i]);
    free(h->knames);
    wb_set_log(NULL);
    the_head = NULL;
    free(h->stream);
    free(h);
}

int wb_head_run(const wb_head_opts *o)
{
    wb_head *h = calloc(1, sizeof *h);
    if (!h) {
        fprintf(stderr, "wb head: out of memory\n");
        return 1;
    }
    the_head = h;
    wb_set_log(head_log);
    h->quiet = o->quiet;
    h->heartbeat_ms = o->heartbeat_ms > 0 ? o->heartbeat_ms : 1000;
    h->timeout_ms = o->timeout_ms > h->heartbeat_ms ? o->timeout_ms : h->heartbeat_ms * 3;
    h->max_retries = o->max_retries >= 0 ? o->max_retries : 3;
    h->next_worker = 1;
    h->next_driver = 1;
    h->stream = calloc(WB_HEAD_STREAM, sizeof *h->stream); /* (none: no task stream on the dashboard) */
    wb_cluster_kernels_init();
    int np = wb_plugin_load_default();
    if (np < 0) wb_log(WB_LOG_WARN, "%s", wb_errmsg());

    uv_loop_t *loop = uv_default_loop();
    h->loop = loop;
    h->t0 = uv_now(loop);
    int rc = 1;
    if (wb_net_init(&h->net, loop, o->token, "head") || wb_net_tls(&h->net, &o->tls)) {
        fprintf(stderr, "wb head: %s\n", wb_errmsg());
        goto out;
    }
    wb_net_limits(&h->net, o->max_connections, o->handshake_ms, o->max_unauth);
    if (o->max_auth_failures) h->net.fail_max = o->max_auth_failures > 0 ? o->max_auth_failures : 0;
    if (o->auth_window_ms > 0) h->net.fail_window_ms = o->auth_window_ms;
    struct sockaddr_storage sa;
    if (wb_resolve_hp(o->host, o->port, &sa)) {
        fprintf(stderr, "wb head: %s\n", wb_errmsg());
        goto out;
    }
    uv_tcp_init(loop, &h->server);
    h->server.data = h;
    int e = uv_tcp_bind(&h->server, (struct sockaddr *)&sa, 0);
    if (!e) e = uv_listen((uv_stream_t *)&h->server, 256, on_connection);
    if (e) {
        fprintf(stderr, "wb head: cannot listen on %s:%d: %s\n", o->host, o->port, uv_strerror(e));
        goto out;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&h->server, (struct sockaddr *)&bound, &blen);
    wb_addr_str((struct sockaddr *)&bound, h->address, sizeof h->address);
    int loopback = is_loopback((struct sockaddr *)&bound);
    int dport = -1;
    if (o->dashboard_port >= 0) {
        if (wb_dash_start(h, o->host, o->dashboard_port, o->dashboard_hosts, &dport)) {
            fprintf(stderr, "wb head: %s\n", wb_errmsg());
            goto out;
        }
    }
    h->dashboard_port = dport;
    char durl[160] = "";
    if (dport >= 0) {
        char host[128];
        snprintf(host, sizeof host, "%s", h->address);
        char *colon = strrchr(host, ':');
        if (colon) *colon = 0;
        snprintf(durl, sizeof durl, "http://%s:%d/", host, dport);
    }
    if (!loopback) {
        fprintf(stderr,
                "\n"
                "  ********************************************************************\n"
                "  WARNING: the head listens on %s, which is reachable from other\n"
                "  machines. Anyone who has the cluster token can run code on every\n"
                "  worker. Keep the token file private (mode 600) and firewall the\n"
                "  ports; the dashboard%s has no password.\n"
                "  ********************************************************************\n\n",
                h->address, durl[0] ? " (read-only)" : "");
    }
    if (h->net.tls == WB_TLS_OFF) wb_tls_warn_off("head", o->quiet);
    if (!o->quiet) {
        printf("wb head %s: listening on %s (protocol %d)\n", WB_VERSION, h->address, WB_PROTO_VERSION);
        printf("  transport:     %s\n", wb_tls_mode_name(h->net.tls));
        if (durl[0]) printf("  dashboard:     %s\n", durl);
        if (o->token_file) printf("  token file:    %s\n", o->token_file);
        printf("  start workers: wb worker --address %s%s%s\n", h->address, o->token_file ? " --token-file " : "",
               o->token_file ? o->token_file : "");
        printf("  connect:       wb.connect(\"%s\"%s%s%s)\n", h->address, o->token_file ? ", {token_file = \"" : "",
               o->token_file ? o->token_file : "", o->token_file ? "\"}" : "");
        printf("  plugins:       %d loaded\n", wb_plugin_count());
        fflush(stdout);
    }
    if (o->ready_file) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", o->ready_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n%d\n%d\n", h->address, dport, (int)getpid()) < 0 || fclose(f) != 0 ||
            rename(tmp, o->ready_file) != 0) {
            fprintf(stderr, "wb head: cannot write %s\n", o->ready_file);
            goto out;
        }
    }
    uv_timer_init(loop, &h->tick);
    h->tick.data = h;
    uv_timer_start(&h->tick, on_tick, 200, 200);
    uv_check_init(loop, &h->check);
    h->check.data = h;
    uv_check_start(&h->check, on_check);
    uv_signal_init(loop, &h->sigint);
    uv_signal_init(loop, &h->sigterm);
    h->sigint.data = h->sigterm.data = h;
    uv_signal_start(&h->sigint, on_signal, SIGINT);
    uv_signal_start(&h->sigterm, on_signal, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    head_shutdown(h);
    return rc;
}
