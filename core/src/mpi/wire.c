/* mpi/wire.c — what both sides of the MPI executor share: message
 * encoding, the transport over MPI's nonblocking point-to-point calls (all
 * progress made by one thread polling), an id map, the partial merge of
 * block-sum node sets and the reduction tree's shape. */
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"

/* ------------------------------------------------------------ encoding */

void wbm_put_u8(wb_buf *b, uint8_t v) { wb_buf_add(b, &v, 1); }
void wbm_put_u32(wb_buf *b, uint32_t v) { wb_buf_add(b, &v, 4); }
void wbm_put_i32(wb_buf *b, int32_t v) { wb_buf_add(b, &v, 4); }
void wbm_put_u64(wb_buf *b, uint64_t v) { wb_buf_add(b, &v, 8); }
void wbm_put_i64(wb_buf *b, int64_t v) { wb_buf_add(b, &v, 8); }
void wbm_put_f64(wb_buf *b, double v) { wb_buf_add(b, &v, 8); }
void wbm_put_str(wb_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 65535) n = 65535;
    wbm_put_u32(b, (uint32_t)n);
    if (n) wb_buf_add(b, s, n);
}
void wbm_put_bytes(wb_buf *b, const void *p, size_t n)
{
    wbm_put_u64(b, n);
    if (n) wb_buf_add(b, p, n);
}
void wbm_put_stat(wb_buf *b, const wb_objstat *st)
{
    wbm_put_u8(b, (uint8_t)st->type);
    wbm_put_u64(b, st->size);
    wbm_put_i64(b, st->rows);
    wbm_put_i64(b, st->cols);
    wbm_put_i64(b, st->row0);
    wbm_put_u8(b, (uint8_t)st->has_y);
}

static const unsigned char *take(wbm_rd *r, size_t k)
{
    if (r->bad || r->n - r->off < k) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *p = r->p + r->off;
    r->off += k;
    return p;
}

#define RD(T, name)                       \
    T name(wbm_rd *r)                     \
    {                                     \
        T v = 0;                          \
        const unsigned char *p = take(r, sizeof v); \
        if (p) memcpy(&v, p, sizeof v);   \
        return v;                         \
    }
RD(uint8_t, wbm_u8)
RD(uint32_t, wbm_u32)
RD(int32_t, wbm_i32)
RD(uint64_t, wbm_u64)
RD(int64_t, wbm_i64)
RD(double, wbm_f64)

char *wbm_str(wbm_rd *r, char *out, size_t cap)
{
    uint32_t n = wbm_u32(r);
    const unsigned char *p = take(r, n);
    size_t k = p ? (n < cap ? n : cap - 1) : 0;
    if (k) memcpy(out, p, k);
    out[k] = 0;
    return out;
}

const void *wbm_bytes(wbm_rd *r, size_t *n)
{
    uint64_t k = wbm_u64(r);
    const unsigned char *p = take(r, (size_t)k);
    *n = p ? (size_t)k : 0;
    return p;
}

void wbm_stat(wbm_rd *r, wb_objstat *st)
{
    memset(st, 0, sizeof *st);
    st->type = wbm_u8(r);
    st->size = (size_t)wbm_u64(r);
    st->rows = wbm_i64(r);
    st->cols = wbm_i64(r);
    st->row0 = wbm_i64(r);
    st->has_y = wbm_u8(r);
    if (st->type == WB_OBJ_PART) {
        size_t nx, bytes;
        if (st->rows < 0 || st->cols < 0 || __builtin_mul_overflow((size_t)st->rows, (size_t)st->cols, &nx) ||
            __builtin_mul_overflow(nx + (st->has_y ? (size_t)st->rows : 0), (size_t)8, &bytes) ||
            bytes != st->size)
            r->bad = 1;
    } else if (st->type != WB_OBJ_BYTES)
        r->bad = 1;
}

int wbm_layout(const wb_objstat *st, size_t *len)
{
    if (st->type == WB_OBJ_PART) {
        len[0] = (size_t)st->rows * (size_t)st->cols * 8;
        len[1] = st->has_y ? (size_t)st->rows * 8 : 0;
        return 2;
    }
    len[0] = st->size;
    return 1;
}

/* ------------------------------------------------------------ transport */

const char *wbm_errstr(int code, char *buf, size_t cap)
{
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", code);
    snprintf(buf, cap, "%s", s);
    return buf;
}

int wbm_net_init(wbm_net *n, MPI_Comm comm)
{
    memset(n, 0, sizeof *n);
    n->comm = comm;
    MPI_Comm_rank(comm, &n->rank);
    MPI_Comm_size(comm, &n->size);
    n->heard = calloc((size_t)n->size, sizeof *n->heard);
    n->said = calloc((size_t)n->size, sizeof *n->said);
    if (!n->heard || !n->said) return wb_seterr(WB_ENOMEM, "out of memory");
    double now = wb_now();
    for (int i = 0; i < n->size; i++) n->heard[i] = n->said[i] = now;
    return 0;
}

void wbm_net_free(wbm_net *n)
{
    for (int i = 0; i < n->nreq; i++) free(n->owned[i]);
    free(n->reqs);
    free(n->owned);
    free(n->xf);
    free(n->idx);
    free(n->sts);
    free(n->heard);
    free(n->said);
    memset(n, 0, sizeof *n);
}

static int mpi_fail(wbm_net *n, int code, const char *what, int peer)
{
    char e[400];
    snprintf(n->err, sizeof n->err, "%s rank %d: %s", what, peer, wbm_errstr(code, e, sizeof e));
    n->failed = 1;
    return wb_seterr(WB_ENET, "mpi: %s", n->err);
}

static int add_req(wbm_net *n, MPI_Request r, void *owned, wbm_xfer *x)
{
    if (n->nreq == n->capreq) {
        int cap = n->capreq ? n->capreq * 2 : 64;
        MPI_Request *rq = realloc(n->reqs, (size_t)cap * sizeof *rq);
        if (rq) n->reqs = rq;
        void **ow = realloc(n->owned, (size_t)cap * sizeof *ow);
        if (ow) n->owned = ow;
        wbm_xfer **xf = realloc(n->xf, (size_t)cap * sizeof *xf);
        if (xf) n->xf = xf;
        int *ix = realloc(n->idx, (size_t)cap * sizeof *ix);
        if (ix) n->idx = ix;
        MPI_Status *st = realloc(n->sts, (size_t)cap * sizeof *st);
        if (st) n->sts = st;
        if (!rq || !ow || !xf || !ix || !st) return wb_seterr(WB_ENOMEM, "out of memory");
        n->capreq = cap;
    }
    n->reqs[n->nreq] = r;
    n->owned[n->nreq] = owned;
    n->xf[n->nreq] = x;
    n->nreq++;
    return 0;
}

int wbm_send(wbm_net *n, int dest, wb_buf *buf)
{
    MPI_Request r;
    if (buf->len > (size_t)INT32_MAX) {
        wb_buf_free(buf);
        return wb_seterr(WB_ELIMIT, "mpi: a control message of %zu bytes", buf->len);
    }
    int e = MPI_Isend(buf->p, (int)buf->len, MPI_BYTE, dest, WBM_TAG_CTL, n->comm, &r);
    if (e != MPI_SUCCESS) {
        wb_buf_free(buf);
        return mpi_fail(n, e, "sending to", dest);
    }
    n->said[dest] = wb_now();
    wbm_ring(dest);
    int rc = add_req(n, r, buf->p, NULL);
    buf->p = NULL;
    buf->len = buf->cap = 0;
    return rc;
}

int wbm_new_tag(wbm_net *n)
{
    int t = WBM_TAG_DATA0 + n->next_tag;
    n->next_tag = (n->next_tag + 1) % WBM_NTAGS;
    return t;
}

static int xfer(wbm_net *n, int peer, int tag, void *const *ptr, const size_t *len, int nparts, wbm_done_fn done,
                void *ctx, int send)
{
    wbm_xfer *x = calloc(1, sizeof *x);
    if (!x) return wb_seterr(WB_ENOMEM, "out of memory");
    x->done = done;
    x->ctx = ctx;
    int chunks = 0;
    for (int i = 0; i < nparts; i++) chunks += (int)((len[i] + WBM_CHUNK - 1) / WBM_CHUNK);
    if (!chunks) {
        free(x);
        done(ctx, 1);
        return 0;
    }
    x->left = chunks;
    for (int i = 0; i < nparts; i++)
        for (size_t off = 0; off < len[i]; off += WBM_CHUNK) {
            size_t k = len[i] - off < WBM_CHUNK ? len[i] - off : WBM_CHUNK;
            MPI_Request r;
            char *p = (char *)ptr[i] + off;
            int e = send ? MPI_Isend(p, (int)k, MPI_BYTE, peer, tag, n->comm, &r)
                         : MPI_Irecv(p, (int)k, MPI_BYTE, peer, tag, n->comm, &r);
            if (e != MPI_SUCCESS) return mpi_fail(n, e, send ? "sending data to" : "receiving data from", peer);
            if (add_req(n, r, NULL, x)) return WB_ENOMEM;
        }
    if (send) n->said[peer] = wb_now();
    wbm_ring(peer); /* a receive posted late lets a waiting sender go on */
    return 0;
}

int wbm_send_data(wbm_net *n, int dest, int tag, const void *const *ptr, const size_t *len, int nparts,
                  wbm_done_fn done, void *ctx)
{
    return xfer(n, dest, tag, (void *const *)ptr, len, nparts, done, ctx, 1);
}

int wbm_recv_data(wbm_net *n, int src, int tag, void *const *ptr, const size_t *len, int nparts,
                  wbm_done_fn done, void *ctx)
{
    return xfer(n, src, tag, ptr, len, nparts, done, ctx, 0);
}

int wbm_progress(wbm_net *n)
{
    if (!n->nreq) return 0;
    int outcount = 0;
    int e = MPI_Testsome(n->nreq, n->reqs, &outcount, n->idx, n->sts);
    if (e != MPI_SUCCESS && e != MPI_ERR_IN_STATUS) {
        mpi_fail(n, e, "completing a transfer with", -1);
        return 0;
    }
    if (outcount == MPI_UNDEFINED || outcount <= 0) return 0;
    for (int k = 0; k < outcount; k++) {
        int i = n->idx[k];
        if (e == MPI_ERR_IN_STATUS && n->sts[k].MPI_ERROR != MPI_SUCCESS)
            mpi_fail(n, n->sts[k].MPI_ERROR, "a transfer with", n->sts[k].MPI_SOURCE);
        else if (n->xf[i] == NULL && n->owned[i] == NULL) {
            /* a receive: note whom we heard from */
        }
        if (n->xf[i] && n->sts[k].MPI_SOURCE >= 0 && n->sts[k].MPI_SOURCE < n->size)
            n->heard[n->sts[k].MPI_SOURCE] = wb_now();
        free(n->owned[i]);
        n->owned[i] = NULL;
        wbm_xfer *x = n->xf[i];
        n->xf[i] = NULL;
        n->reqs[i] = MPI_REQUEST_NULL;
        if (x && --x->left == 0) {
            x->done(x->ctx, !x->failed && !n->failed);
            free(x);
        }
    }
    /* compact */
    int w = 0;
    for (int i = 0; i < n->nreq; i++) {
        if (n->reqs[i] == MPI_REQUEST_NULL) continue;
        n->reqs[w] = n->reqs[i];
        n->owned[w] = n->owned[i];
        n->xf[w] = n->xf[i];
        w++;
    }
    n->nreq = w;
    return outcount;
}

int wbm_poll(wbm_net *n, unsigned char **buf, size_t *len, int *src)
{
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    int e = MPI_Improbe(MPI_ANY_SOURCE, WBM_TAG_CTL, n->comm, &flag, &msg, &st);
    if (e != MPI_SUCCESS) {
        mpi_fail(n, e, "probing for messages from", -1);
        return 0;
    }
    if (!flag) return 0;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    unsigned char *p = malloc(count > 0 ? (size_t)count : 1);
    if (!p) {
        snprintf(n->err, sizeof n->err, "out of memory for a message of %d bytes from rank %d", count, st.MPI_SOURCE);
        n->failed = 1;
        return 0;
    }
    e = MPI_Mrecv(p, count, MPI_BYTE, &msg, &st);
    if (e != MPI_SUCCESS) {
        free(p);
        mpi_fail(n, e, "receiving from", st.MPI_SOURCE);
        return 0;
    }
    *buf = p;
    *len = (size_t)count;
    *src = st.MPI_SOURCE;
    if (*src >= 0 && *src < n->size) n->heard[*src] = wb_now();
    return 1;
}

/* ------------------------------------------------------------ doorbells */

typedef struct wbm_bell {
    _Atomic uint32_t seq;      /* bumped by every ring */
    _Atomic uint32_t sleeping; /* threads of the owner asleep (or about to be) */
    char pad[56];              /* one cache line per rank */
} wbm_bell;

static wbm_bell *bells; /* [size], shared by the ranks; NULL: no doorbells */
static int nbells;
static MPI_Win bell_win = MPI_WIN_NULL;
static MPI_Comm bell_comm = MPI_COMM_NULL;

int wbm_bells_init(MPI_Comm comm)
{
    int size, rank, nsh = 0;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    const char *off = getenv("WB_MPI_DOORBELLS"); /* "0": poll with sleeps (a comparison in bench/mpi.sh) */
    int want = !(off && !strcmp(off, "0"));
    /* every rank decides the same way: all on one host and all wanting them */
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &bell_comm) != MPI_SUCCESS) {
        bell_comm = MPI_COMM_NULL;
        want = 0;
    } else
        MPI_Comm_size(bell_comm, &nsh);
    int all = want && nsh == size, agree = 0;
    MPI_Allreduce(&all, &agree, 1, MPI_INT, MPI_MIN, comm);
    if (!agree) {
        if (bell_comm != MPI_COMM_NULL) MPI_Comm_free(&bell_comm);
        return 0;
    }
    /* the shared communicator has the same ranks in the same order (split
     * with key 0 keeps comm's order, and it holds every rank) */
    void *base = NULL;
    MPI_Aint bytes = rank == 0 ? (MPI_Aint)size * (MPI_Aint)sizeof(wbm_bell) : 0;
    if (MPI_Win_allocate_shared(bytes, 1, MPI_INFO_NULL, bell_comm, &base, &bell_win) != MPI_SUCCESS) {
        bell_win = MPI_WIN_NULL;
        base = NULL;
    } else {
        MPI_Aint qsize = 0;
        int disp = 0;
        if (MPI_Win_shared_query(bell_win, 0, &qsize, &disp, &base) != MPI_SUCCESS ||
            qsize < (MPI_Aint)size * (MPI_Aint)sizeof(wbm_bell))
            base = NULL;
    }
    if (rank == 0 && base) memset(base, 0, (size_t)size * sizeof(wbm_bell));
    /* every rank takes part, whether or not its window came (no hang): the
     * doorbells are used only when all have them; this also orders the
     * zeroing before any use */
    int ok = base != NULL, allok = 0;
    MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, comm);
    if (allok) {
        bells = base;
        nbells = size;
    }
    return 0;
}

void wbm_bells_free(void)
{
    bells = NULL;
    nbells = 0;
    if (bell_win != MPI_WIN_NULL) MPI_Win_free(&bell_win);
    if (bell_comm != MPI_COMM_NULL) MPI_Comm_free(&bell_comm);
}

int wbm_bells_on(void) { return bells != NULL; }

void wbm_ring(int r)
{
    if (!bells || r < 0 || r >= nbells) return;
    wbm_bell *b = &bells[r];
    atomic_fetch_add(&b->seq, 1);
    if (atomic_load(&b->sleeping))
        syscall(SYS_futex, &b->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void wbm_doze(int r, double secs, int (*busy)(void *), void *ctx)
{
    if (!bells || r < 0 || r >= nbells) {
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        if (!busy(ctx)) nanosleep(&ts, NULL);
        return;
    }
    wbm_bell *b = &bells[r];
    /* the seq taken before the last look for work: a ring after it makes
     * the futex return at once (no lost wake-up) */
    uint32_t s = atomic_load(&b->seq);
    atomic_fetch_add(&b->sleeping, 1);
    if (!busy(ctx)) {
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        syscall(SYS_futex, &b->seq, FUTEX_WAIT, s, &ts, NULL, 0);
    }
    atomic_fetch_sub(&b->sleeping, 1);
}

const char *wbm_hostname(void)
{
    static char host[64];
    if (!host[0]) {
        if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
        host[sizeof host - 1] = 0;
    }
    return host;
}

void wb_mpi_abort(const char *msg, int code)
{
    if (msg && *msg) {
        fprintf(stderr, "wb: %s\n", msg);
        fflush(stderr);
    }
    fflush(stdout);
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    _exit(code ? code : 1);
}

/* ------------------------------------------------------------ id map */

static size_t mhash(uint64_t k)
{
    uint64_t x = k;
    return (size_t)wb_splitmix64(&x);
}

void *wbm_map_get(const wbm_map *m, uint64_t k)
{
    if (!m->cap || !k) return NULL;
    size_t mask = m->cap - 1, i = mhash(k) & mask;
    while (m->keys[i]) {
        if (m->keys[i] == k) return m->vals[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static int map_grow(wbm_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return wb_seterr(WB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = mhash(m->keys[i]) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int wbm_map_put(wbm_map *m, uint64_t k, void *v)
{
    if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m)) return WB_ENOMEM;
    size_t mask = m->cap - 1, i = mhash(k) & mask;
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & mask;
    if (!m->keys[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
    return 0;
}

void *wbm_map_del(wbm_map *m, uint64_t k)
{
    if (!m->cap || !k) return NULL;
    size_t mask = m->cap - 1, i = mhash(k) & mask;
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & mask;
    if (!m->keys[i]) return NULL;
    void *v = m->vals[i];
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->n--;
    /* re-place the cluster after the hole (linear probing) */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        uint64_t kk = m->keys[j];
        void *vv = m->vals[j];
        m->keys[j] = 0;
        m->vals[j] = NULL;
        size_t h = mhash(kk) & mask;
        while (m->keys[h]) h = (h + 1) & mask;
        m->keys[h] = kk;
        m->vals[h] = vv;
    }
    return v;
}

void wbm_map_free(wbm_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ block sums */

typedef struct mnode {
    uint32_t level;
    uint64_t index;
    double *v;
} mnode;

static int mnode_cmp(const void *a, const void *b)
{
    const mnode *x = a, *y = b;
    if (x->level != y->level) return x->level < y->level ? -1 : 1;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return 0;
}

int wbm_nodes_merge(const void *const *sets, const size_t *sizes, int nsets, size_t len, void **out,
                    size_t *outsize)
{
    size_t total = 0;
    for (int s = 0; s < nsets; s++) {
        uint64_t count, l;
        if (sizes[s] < 16) return wb_seterr(WB_EFORMAT, "block sum: truncated node set");
        memcpy(&count, sets[s], 8);
        memcpy(&l, (const char *)sets[s] + 8, 8);
        if (l != len || count > (1u << 24) || sizes[s] != 16 + count * 16 + count * len * sizeof(double))
            return wb_seterr(WB_EFORMAT, "block sum: a node set of %zu bytes does not match %zu values", sizes[s],
                             len);
        total += count;
    }
    mnode *nd = calloc(total ? total : 1, sizeof *nd);
    if (!nd) return wb_seterr(WB_ENOMEM, "out of memory");
    size_t n = 0;
    int rc = 0;
    for (int s = 0; s < nsets && !rc; s++) {
        const unsigned char *p = sets[s];
        uint64_t count;
        memcpy(&count, p, 8);
        const unsigned char *hdr = p + 16, *vals = p + 16 + count * 16;
        for (uint64_t i = 0; i < count; i++) {
            mnode *m = &nd[n];
            memcpy(&m->level, hdr + i * 16, 4);
            memcpy(&m->index, hdr + i * 16 + 8, 8);
            if (m->level > 62) {
                rc = wb_seterr(WB_EFORMAT, "block sum: bad level %u", m->level);
                break;
            }
            m->v = malloc(len * sizeof(double) + 1);
            if (!m->v) {
                rc = wb_seterr(WB_ENOMEM, "out of memory");
                break;
            }
            if (len) memcpy(m->v, vals + i * len * sizeof(double), len * sizeof(double));
            n++;
        }
    }
    /* merge sibling pairs, lowest level first, until none is left: each sum
     * is a node of the fixed tree, made as wb_treesum_result makes it */
    for (int changed = 1; changed && !rc;) {
        changed = 0;
        qsort(nd, n, sizeof *nd, mnode_cmp);
        for (size_t i = 0; i + 1 < n; i++) {
            mnode *a = &nd[i], *b = &nd[i + 1];
            if (a->level == UINT32_MAX || a->level != b->level) continue;
            if ((a->index & 1) == 0 && b->index == (a->index | 1)) {
                for (size_t k = 0; k < len; k++) a->v[k] += b->v[k];
                free(b->v);
                b->v = NULL;
                b->level = UINT32_MAX; /* dead: sorts last */
                a->level++;
                a->index >>= 1;
                changed = 1;
                i++;
            } else if (a->index == b->index) {
                rc = wb_seterr(WB_EINTERNAL, "block sum: node (%u, %llu) twice", a->level,
                               (unsigned long long)a->index);
                break;
            }
        }
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            if (nd[i].level != UINT32_MAX) nd[w++] = nd[i];
        n = w;
    }
    if (!rc) {
        size_t size = 16 + n * 16 + n * len * sizeof(double);
        unsigned char *o = malloc(size);
        if (!o)
            rc = wb_seterr(WB_ENOMEM, "out of memory");
        else {
            uint64_t count = n, l64 = len;
            memcpy(o, &count, 8);
            memcpy(o + 8, &l64, 8);
            for (size_t i = 0; i < n; i++) {
                uint32_t pad = 0;
                memcpy(o + 16 + i * 16, &nd[i].level, 4);
                memcpy(o + 16 + i * 16 + 4, &pad, 4);
                memcpy(o + 16 + i * 16 + 8, &nd[i].index, 8);
                if (len) memcpy(o + 16 + n * 16 + i * len * sizeof(double), nd[i].v, len * sizeof(double));
            }
            *out = o;
            *outsize = size;
        }
    }
    for (size_t i = 0; i < n; i++) free(nd[i].v);
    free(nd);
    return rc;
}

int wbm_tree_parent(int r)
{
    int i = r - 1;
    if (i <= 0) return 0;
    return (i & (i - 1)) + 1;
}

int wbm_tree_children(int r, int size, int *children, int max)
{
    int i = r - 1, P = size - 1, n = 0;
    int low = i ? (i & -i) : (1 << 30);
    for (int k = 1; k < low && i + k < P; k <<= 1)
        if (n < max) children[n++] = i + k + 1;
    return n;
}
