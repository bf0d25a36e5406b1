/* work.c — the gbdt kernels that run where the partitions live.
 *
 *   gbdt.sketch   partition -> quantile sketch nodes + label statistics
 *   gbdt.bin      partition, edges -> binned partition (uint8 bins, labels)
 *   gbdt.begin    binned partition -> a round starts: the previous round's
 *                 trees are added to the scores, gradients are computed and
 *                 quantized, the root histograms built; the training loss
 *                 (from the same pass as the gradients) and the validation
 *                 loss per block
 *   gbdt.wave     binned partition -> leaves are split (row lists partitioned)
 *                 and the histograms of the requested nodes built
 *   gbdt.collect  the tokens of one process's tasks -> the sum of the
 *                 histograms they built there (the first round's
 *                 gbdt.begin, and after a sum was refused: otherwise the
 *                 last begin or wave task of a process returns the sum)
 *   gbdt.restore  binned partition -> the scores rebuilt from all trees so far
 *                 (when a worker lost its state, e.g. the task moved)
 *   gbdt.release  binned partition -> its state dropped
 *
 * begin and wave add their histograms into an accumulator of the thread
 * they run on and return a small token; gbdt.collect sums a process's
 * accumulators, so a wave moves one histogram per process, not one per
 * partition.
 *
 * The per-partition state (scores, quantized gradients, the rows of every
 * leaf) lives in a cache in this process, keyed by (fit id, first row). It is
 * a cache: every value in it can be rebuilt from the immutable binned
 * partition and the trees, which gbdt.restore does when a task finds it
 * missing or stale (the driver then restarts the round).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "gbdt.h"
#include "wire.h"

/* ------------------------------------------------------------- the cache */

typedef struct gb_state {
    struct gb_state *next;
    uint64_t fit_id;
    int64_t row0;
    int busy;
    int64_t rows, d;
    int K, maxslots;
    int round; /* F holds the trees of rounds < round */
    int wave;  /* waves done in this round; -1: the round has not begun */
    int32_t *nb;
    int nsel;
    int32_t *sel, *off;
    int64_t nentries;
    double *F;           /* K x rows (class-major) */
    int obj;             /* the objective: the layout of the packed words */
    int64_t *gh;         /* K x rows: a row's packed gradient word (gbdt.h) */
    uint32_t *idx, *tmp; /* K x rows, rows */
    uint32_t *rest;      /* rows outside the bag (out-of-bag and validation) */
    int64_t nbag, nrest;
    /* K x maxslots: the rows of each node slot in idx (the driver gives
     * every split two consecutive slots for its children; a leaf's slot
     * comes with its value in gbdt.begin's trees) */
    int32_t *beg, *cnt;
    uint8_t *applied; /* K x maxslots: the slot's rows already have this round's leaf values */
} gb_state;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static gb_state *cache;

static void state_free(gb_state *s)
{
    if (!s) return;
    free(s->nb);
    free(s->sel);
    free(s->off);
    free(s->F);
    free(s->gh);
    free(s->idx);
    free(s->tmp);
    free(s->rest);
    free(s->beg);
    free(s->cnt);
    free(s->applied);
    free(s);
}

/* the state of (fit, row0), marked busy; NULL when absent (or in use) */
static gb_state *state_acquire(uint64_t fit_id, int64_t row0)
{
    pthread_mutex_lock(&cache_mu);
    gb_state *s = cache;
    while (s && (s->fit_id != fit_id || s->row0 != row0)) s = s->next;
    if (s && s->busy) s = NULL;
    if (s) s->busy = 1;
    pthread_mutex_unlock(&cache_mu);
    return s;
}

static void state_put_back(gb_state *s)
{
    pthread_mutex_lock(&cache_mu);
    s->busy = 0;
    pthread_mutex_unlock(&cache_mu);
}

/* remove (fit, row0) from the cache; returns it (caller frees) unless busy */
static gb_state *state_unlink(uint64_t fit_id, int64_t row0)
{
    pthread_mutex_lock(&cache_mu);
    gb_state **pp = &cache, *s = NULL;
    while (*pp) {
        if ((*pp)->fit_id == fit_id && (*pp)->row0 == row0 && !(*pp)->busy) {
            s = *pp;
            *pp = s->next;
            break;
        }
        pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&cache_mu);
    return s;
}

/* a new state (replacing any other of the same key), busy */
static gb_state *state_new(uint64_t fit_id, int64_t row0, int64_t rows, int64_t d, int K,
                           int maxslots, const int32_t *nb, const double *base)
{
    state_free(state_unlink(fit_id, row0));
    gb_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->fit_id = fit_id;
    s->row0 = row0;
    s->rows = rows;
    s->d = d;
    s->K = K;
    s->maxslots = maxslots;
    s->wave = -1;
    size_t r = (size_t)(rows > 0 ? rows : 1), kk = (size_t)K;
    s->nb = malloc((size_t)(d > 0 ? d : 1) * sizeof *s->nb);
    s->sel = malloc((size_t)(d > 0 ? d : 1) * sizeof *s->sel);
    s->off = malloc((size_t)(d > 0 ? d : 1) * sizeof *s->off);
    s->F = malloc(r * kk * sizeof *s->F);
    s->gh = malloc(r * kk * sizeof *s->gh);
    s->idx = malloc(r * kk * sizeof *s->idx);
    s->tmp = malloc(r * sizeof *s->tmp);
    s->rest = malloc(r * sizeof *s->rest);
    s->beg = calloc((size_t)maxslots * kk, sizeof *s->beg);
    s->cnt = calloc((size_t)maxslots * kk, sizeof *s->cnt);
    s->applied = calloc((size_t)maxslots * kk, 1);
    if (!s->nb || !s->sel || !s->off || !s->F || !s->gh || !s->idx || !s->tmp ||
        !s->rest || !s->beg || !s->cnt || !s->applied) {
        state_free(s);
        return NULL;
    }
    memcpy(s->nb, nb, (size_t)d * sizeof *nb);
    for (int64_t i = 0; i < rows; i++)
        for (int k = 0; k < K; k++) s->F[(size_t)k * (size_t)rows + i] = base[k];
    s->busy = 1;
    pthread_mutex_lock(&cache_mu);
    s->next = cache;
    cache = s;
    pthread_mutex_unlock(&cache_mu);
    return s;
}

/* fault injection for the tests (gbdt.inject): the first wave task of that
 * round forgets its partition's state, as a worker that died would; or
 * (inject_count_round) counts itself twice in its accumulator, as a task
 * that ran in a process its wave's collect did not expect; or
 * (inject_begin_round) a gbdt.begin task of that round counts itself twice */
static _Atomic int inject_round = -1, inject_count_round = -1, inject_begin_round = -1;

static int lost(int64_t row0)
{
    return H->seterr(WB_ESTATE,
                     "gbdt: the boosting state of the partition at row %lld is not on this worker",
                     (long long)row0 + 1);
}

/* ---------------------------------------------------------- binned views */

typedef struct binview {
    int64_t rows, d, row0, nval;
    const uint8_t *bins, *cols, *isval; /* row-major, column-major */
    const double *y;
} binview;

static size_t bins_size(int64_t rows, int64_t d)
{
    return sizeof(gb_binhdr) + 2 * gb_pad8((size_t)(rows * d)) + gb_pad8((size_t)rows) +
           (size_t)rows * sizeof(double);
}

static int bin_view(const wb_obj *o, binview *v)
{
    gb_binhdr h;
    if (o->type != WB_OBJ_BYTES || o->size < sizeof h) goto bad;
    memcpy(&h, o->data, sizeof h);
    if (h.magic != GB_BINS_MAGIC || h.rows < 0 || h.d < 0 || h.rows > INT32_MAX ||
        o->size != bins_size(h.rows, h.d))
        goto bad;
    const uint8_t *p = o->data;
    v->rows = h.rows;
    v->d = h.d;
    v->row0 = h.row0;
    v->nval = h.nval;
    v->bins = p + sizeof h;
    v->cols = v->bins + gb_pad8((size_t)(h.rows * h.d));
    v->isval = v->cols + gb_pad8((size_t)(h.rows * h.d));
    v->y = (const double *)(v->isval + gb_pad8((size_t)h.rows));
    return 0;
bad:
    return H->seterr(WB_EINVAL, "gbdt: input is not a binned partition");
}

/* reads consecutive arrays out of an argument */
typedef struct cursor {
    const unsigned char *p;
    size_t left;
    int bad;
} cursor;

static const void *take(cursor *c, size_t n)
{
    if (c->bad || n > c->left) {
        c->bad = 1;
        return NULL;
    }
    const void *r = c->p;
    c->p += n;
    c->left -= n;
    return r;
}

static void align8(cursor *c, const void *start)
{
    size_t at = (size_t)(c->p - (const unsigned char *)start);
    size_t pad = gb_pad8(at) - at;
    take(c, pad);
}

/* copies n items of size sz out of the cursor into new memory (aligned) */
static void *take_copy(cursor *c, size_t n, size_t sz)
{
    const void *src = take(c, n * sz);
    if (!src) return NULL;
    void *d = malloc(n * sz + 8);
    if (d) memcpy(d, src, n * sz);
    return d;
}

/* ------------------------------------------------------------- losses */

static inline double softplus(double f) { return f > 0 ? f + log1p(exp(-f)) : log1p(exp(f)); }

double gb_row_loss(int obj, int K, const double *F, double y)
{
    if (obj == GB_BINARY) return softplus(F[0]) - y * F[0];
    if (obj == GB_REGRESSION) {
        double e = F[0] - y;
        return e * e;
    }
    double mx = F[0];
    for (int k = 1; k < K; k++)
        if (F[k] > mx) mx = F[k];
    double s = 0;
    for (int k = 0; k < K; k++) s += exp(F[k] - mx);
    return mx + log(s) - F[(int)y];
}

/* ------------------------------------------------------------ histograms */

/* Within a worker a histogram entry is one packed word (gbdt.h): the sum of
 * its rows' words, the count, hessian and gradient sums in fields that
 * cannot overflow while a copy holds at most 2^GB_COPY_ROWS_LOG2 - 1 rows;
 * unpacked into gb_hentry when summed (acc_flush, acc_sum_locked). */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline int64_t qround(double x) { return _mm_cvtsd_si64(_mm_set_sd(x)); }
#else
static inline int64_t qround(double x) { return llrint(x); }
#endif

/* a classification row's word from its quantized gradient and hessian */
static inline int64_t pk_class(int64_t qg, int64_t qh)
{
    return (int64_t)(((uint64_t)qg << GB_PK_GSHIFT_C) + ((uint64_t)qh << GB_PK_CBITS) + 1);
}

/* a regression row's word (its hessian is the constant 2^GB_QH_BITS) */
static inline int64_t pk_reg(int64_t qg) { return (int64_t)(((uint64_t)qg << GB_PK_GSHIFT_R) + 1); }

/* the layout of an objective's words: where the gradient field starts, and
 * the hessian of every row when it is constant (0: a field of its own) */
static void pk_layout(int obj, int *gshift, int64_t *hconst)
{
    *gshift = obj == GB_REGRESSION ? GB_PK_GSHIFT_R : GB_PK_GSHIFT_C;
    *hconst = obj == GB_REGRESSION ? (int64_t)1 << GB_QH_BITS : 0;
}

/* a packed entry added into a full one */
static inline void unpack_add(gb_hentry *f, int64_t w, int gshift, int64_t hconst)
{
    const int64_t n = w & GB_CMASK;
    f->G += w >> gshift; /* arithmetic: the signed top field */
    f->Hs += hconst ? n * hconst : (w >> GB_PK_CBITS) & GB_HMASK;
    f->N += n;
}

/* every selected feature has 256 entries (255 bins and missing), the layout
 * is then feature j at entry 1 + 256 j, and with no column sampling the
 * loop over features has a constant trip count */
/* rows ahead whose gradients and bins are prefetched */
#define PF 32
/* rows ahead prefetched in the walks over a leaf's rows (scores, labels,
 * gradients, a column's bins) */
#define PFB 32

/* rows ahead whose gradients and bins are prefetched into L2 as well, in
 * the builds over sparse rows (a node's rows deep in a tree: every row
 * misses the caches; the L1 prefetch PF rows ahead alone leaves too few
 * misses in flight) */
#define PF_FAR 96

/* rows[0..n) (ascending, as a node's rows are) spread over at least twice
 * their count: a sparse subset, where the far prefetch pays. Dense ranges
 * (e.g. a root) stream through the hardware prefetcher, where the far
 * prefetches only cost instructions. (A choice of prefetches only: the sums
 * are the same either way.) */
static inline int sparse_rows(const uint32_t *rows, int64_t n)
{
    return n > 0 && (int64_t)rows[n - 1] - (int64_t)rows[0] >= 2 * n;
}

#define HIST_ID(D)                                                                                \
    static inline __attribute__((always_inline)) void hist_id_impl_##D(                           \
        const int64_t *restrict gw, const uint8_t *restrict B, const uint32_t *restrict rows,      \
        int64_t n, int64_t *restrict hist, int far)                                               \
    {                                                                                             \
        int64_t *h = hist + 1;                                                                    \
        int64_t tw = 0;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                         \
            uint32_t r = rows[i];                                                                 \
            if (far && i + PF_FAR < n) {                                                          \
                uint32_t rp = rows[i + PF_FAR];                                                   \
                __builtin_prefetch(gw + rp, 0, 1);                                                \
                __builtin_prefetch(B + (size_t)rp * D, 0, 1);                                     \
            }                                                                                     \
            if (i + PF < n) {                                                                     \
                uint32_t rp = rows[i + PF];                                                       \
                __builtin_prefetch(gw + rp);                                                      \
                __builtin_prefetch(B + (size_t)rp * D);                                           \
            }                                                                                     \
            const int64_t w = gw[r];                                                              \
            const uint8_t *br = B + (size_t)r * D;                                                \
            tw += w;                                                                              \
            _Pragma("GCC unroll 16") for (int j = 0; j < D; j++) h[(j << 8) + br[j]] += w;        \
        }                                                                                         \
        hist[0] += tw;                                                                            \
    }                                                                                             \
    static void hist_id_##D(const int64_t *restrict gw, const uint8_t *restrict B,                 \
                            const uint32_t *restrict rows, int64_t n, int64_t *restrict hist)      \
    {                                                                                             \
        if (sparse_rows(rows, n))                                                                 \
            hist_id_impl_##D(gw, B, rows, n, hist, 1);                                            \
        else                                                                                      \
            hist_id_impl_##D(gw, B, rows, n, hist, 0);                                            \
    }
HIST_ID(1)
HIST_ID(2)
HIST_ID(3)
HIST_ID(4)
HIST_ID(5)
HIST_ID(6)
HIST_ID(7)
HIST_ID(8)
HIST_ID(9)
HIST_ID(10)
HIST_ID(11)
HIST_ID(12)
HIST_ID(13)
HIST_ID(14)
HIST_ID(15)
HIST_ID(16)


/* the same for any number of features (far: prefetch PF_FAR rows ahead
 * into L2 too) */
static inline __attribute__((always_inline)) void hist_uniform_impl(const int64_t *restrict gw,
                                                                    const uint8_t *restrict B,
                                                                    const uint32_t *restrict rows, int64_t n,
                                                                    int64_t *restrict hist, int64_t d, int far)
{
    int64_t *h = hist + 1;
    int64_t tw = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = rows[i];
        if (far && i + PF_FAR < n) {
            uint32_t rp = rows[i + PF_FAR];
            __builtin_prefetch(gw + rp, 0, 1);
            __builtin_prefetch(B + (size_t)rp * (size_t)d, 0, 1);
            __builtin_prefetch(B + (size_t)rp * (size_t)d + 63, 0, 1);
        }
        if (i + PF < n) {
            uint32_t rp = rows[i + PF];
            __builtin_prefetch(gw + rp);
            __builtin_prefetch(B + (size_t)rp * (size_t)d);
            __builtin_prefetch(B + (size_t)rp * (size_t)d + 63);
        }
        const int64_t w = gw[r];
        const uint8_t *br = B + (size_t)r * (size_t)d;
        tw += w;
        int64_t j = 0;
        for (; j + 4 <= d; j += 4) {
            h[(j << 8) + br[j]] += w;
            h[((j + 1) << 8) + br[j + 1]] += w;
            h[((j + 2) << 8) + br[j + 2]] += w;
            h[((j + 3) << 8) + br[j + 3]] += w;
        }
        for (; j < d; j++) h[(j << 8) + br[j]] += w;
    }
    hist[0] += tw;
}

static void hist_uniform(const int64_t *restrict gw, const uint8_t *restrict B, const uint32_t *restrict rows,
                         int64_t n, int64_t *restrict hist, int64_t d)
{
    if (sparse_rows(rows, n))
        hist_uniform_impl(gw, B, rows, n, hist, d, 1);
    else
        hist_uniform_impl(gw, B, rows, n, hist, d, 0);
}
typedef void (*hist_fn)(const int64_t *, const uint8_t *, const uint32_t *, int64_t, int64_t *);
static const hist_fn hist_id[17] = {NULL,        hist_id_1,  hist_id_2,  hist_id_3,  hist_id_4,  hist_id_5,
                                    hist_id_6,   hist_id_7,  hist_id_8,  hist_id_9,  hist_id_10, hist_id_11,
                                    hist_id_12,  hist_id_13, hist_id_14, hist_id_15, hist_id_16};

/* Adds the rows rows[0..n) (at most 2^GB_COPY_ROWS_LOG2 - 1 of them) of
 * class k into hist (one node: nentries packed words). */
static void hist_build(const gb_state *s, const binview *bv, int k, const uint32_t *rows, int64_t n,
                       int64_t *hist)
{
    const int64_t *gw = s->gh + (size_t)k * (size_t)s->rows;
    const int64_t d = bv->d;
    const int nsel = s->nsel;
    const int32_t *sel = s->sel, *off = s->off;
    const uint8_t *B = bv->bins;
    int identity = nsel == d, uniform = 1;
    for (int j = 0; j < nsel; j++) {
        identity &= sel[j] == j;
        uniform &= off[j] == 1 + 256 * j;
    }
    if (identity && uniform && d <= 16) {
        hist_id[d](gw, B, rows, n, hist);
        return;
    }
    if (identity && uniform) {
        hist_uniform(gw, B, rows, n, hist, d);
        return;
    }
    int64_t tw = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = rows[i];
        const int64_t w = gw[r];
        const uint8_t *br = B + (size_t)r * (size_t)d;
        tw += w;
        for (int j = 0; j < nsel; j++) hist[off[j] + br[sel[j]]] += w;
    }
    hist[0] += tw;
}

/* the histograms of the nodes one pass over a task's partitions builds
 * together (wave_build): about half of a core's L2 cache */
#define GB_BATCH_BYTES (512 * 1024)

/* ------------------------------------------------------- accumulators */

/* one thread's histograms of one wave of one fit: packed entries of at most
 * 2^GB_COPY_ROWS_LOG2 - 1 rows each (so no field overflows), flushed into
 * full gb_hentry sums when more rows come */
typedef struct gb_acc {
    struct gb_acc *next;
    uint64_t tid, fit_id;
    int32_t epoch, round, wave, nnodes;
    int64_t nentries;
    int64_t ntasks;    /* tasks that added (or are adding) into it this wave */
    int64_t nfinished; /* of which finished */
    int64_t *packed;  /* nnodes x nentries words */
    int64_t *rows_in; /* nnodes */
    gb_hentry *full;  /* nnodes x nentries, or NULL */
    size_t cap;       /* int64 capacity of packed */
    int gshift;       /* the words' layout (pk_layout) */
    int64_t hconst;
    /* the leading words of packed known to be zero: between waves `zeroed`
     * (gb_acc_take re-zeroes what a wave wrote, acc_sum_locked does not: 0);
     * during a wave, zext, the extent that will be zero once the wave's
     * words [0, nnodes x nentries) are zeroed again */
    size_t zeroed, zext;
} gb_acc;

static pthread_mutex_t acc_mu = PTHREAD_MUTEX_INITIALIZER;
static gb_acc *accs;
static _Atomic uint64_t tid_counter;
static __thread uint64_t tls_tid;
static uint64_t proc_id;

static void acc_free(gb_acc *a)
{
    if (!a) return;
    free(a->packed);
    free(a->rows_in);
    free(a->full);
    free(a);
}

/* this thread's accumulator for (fit, epoch, round, wave), zeroed when it
 * held another wave */
static gb_acc *acc_get(uint64_t fit_id, int epoch, int round, int wave, int nnodes, int64_t nentries, int obj)
{
    if (!tls_tid) tls_tid = ++tid_counter;
    /* the key and the task count change under acc_mu: gbdt.collect reads
     * them there (a task is counted as it takes its accumulator) */
    pthread_mutex_lock(&acc_mu);
    gb_acc *a = accs;
    while (a && (a->tid != tls_tid || a->fit_id != fit_id)) a = a->next;
    if (!a && (a = calloc(1, sizeof *a)) != NULL) {
        a->tid = tls_tid;
        a->fit_id = fit_id;
        a->round = -1;
        a->next = accs;
        accs = a;
    }
    if (a && a->epoch == epoch && a->round == round && a->wave == wave && a->nnodes == nnodes &&
        a->nentries == nentries) {
        a->ntasks++;
        pthread_mutex_unlock(&acc_mu);
        return a;
    }
    if (a) a->round = -1; /* being zeroed: matches no collect */
    pthread_mutex_unlock(&acc_mu);
    if (!a) return NULL;
    size_t need = (size_t)nnodes * (size_t)nentries;
    if (need > a->cap) {
        free(a->packed);
        a->packed = aligned_alloc(64, (need * 8 + 63) & ~(size_t)63);
        a->cap = a->packed ? need : 0;
        a->zeroed = 0;
    }
    free(a->rows_in);
    free(a->full);
    a->full = NULL;
    a->rows_in = calloc((size_t)nnodes + 1, sizeof *a->rows_in);
    if (!a->packed || !a->rows_in) return NULL;
    if (a->zeroed < need) {
        memset(a->packed, 0, need * 8);
        a->zeroed = need;
    }
    a->zext = a->zeroed;
    a->zeroed = 0; /* being written */
    pk_layout(obj, &a->gshift, &a->hconst);
    pthread_mutex_lock(&acc_mu);
    a->epoch = epoch;
    a->round = round;
    a->wave = wave;
    a->nnodes = nnodes;
    a->nentries = nentries;
    a->ntasks = 1;
    a->nfinished = 0;
    pthread_mutex_unlock(&acc_mu);
    return a;
}

static int acc_flush(gb_acc *a, int q)
{
    int64_t E = a->nentries;
    if (!a->full) {
        a->full = calloc((size_t)a->nnodes * (size_t)E + 1, sizeof *a->full);
        if (!a->full) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    int64_t *p = a->packed + (size_t)q * (size_t)E;
    gb_hentry *f = a->full + (size_t)q * (size_t)E;
    const int gs = a->gshift;
    const int64_t hc = a->hconst;
    for (int64_t e = 0; e < E; e++) unpack_add(&f[e], p[e], gs, hc);
    memset(p, 0, (size_t)E * sizeof *p);
    a->rows_in[q] = 0;
    return 0;
}

/* add rows of class k into node slot q of the accumulator */
static int hist_add(gb_acc *a, int q, const gb_state *s, const binview *bv, int k, const uint32_t *rows,
                    int64_t n)
{
    const int64_t cap = ((int64_t)1 << GB_COPY_ROWS_LOG2) - 1;
    while (n > 0) {
        if (a->rows_in[q] >= cap) {
            int rc = acc_flush(a, q);
            if (rc) return rc;
        }
        int64_t m = cap - a->rows_in[q];
        if (m > n) m = n;
        hist_build(s, bv, k, rows, m, a->packed + (size_t)q * (size_t)a->nentries);
        a->rows_in[q] += m;
        rows += m;
        n -= m;
    }
    return 0;
}

/* walk one tree on a row's bins */
static inline double walk(const gb_bnode *t, const uint8_t *br, const int32_t *nb)
{
    int n = 0;
    while (t[n].feature >= 0) {
        int f = t[n].feature;
        int b = br[f];
        int left = t[n].bin >= 0 ? b <= t[n].bin || (t[n].ml && b == nb[f]) : gb_in_set(t[n].cset, b);
        n = t[n].left + !left;
    }
    return t[n].value;
}

/* ------------------------------------------------------------ gbdt.begin */

/* A block's training loss is two sums (gb_lacc) in la[2 b], la[2 b + 1],
 * each over rows in row order: the first over the block's rows outside the
 * bag (summed before the gradients), then for all objectives but binary over
 * its bagged rows too; binary: the bagged rows at even positions of the
 * block's bag go to the first, those at odd positions to the second. Which
 * rows a block bags does not depend on partitions (per-block draws), so
 * neither do the sums, and the binary gradient pass takes the products of
 * two consecutive bagged rows in one SSE2 multiply, whatever rows they are.
 *
 * lrun holds the two sums of the binary block being summed, by lane (the
 * parity of the position in the partition's bag; the block's first bagged
 * row at position pos0 makes lane l its sum l ^ (pos0 & 1)). */
typedef struct lrun {
    gb_lacc a[2];
    int64_t b;
    int flip;
    gb_lacc *la;
} lrun;

static inline void lrun_flush(lrun *L)
{
    if (L->b < 0) return;
    L->la[2 * L->b + L->flip] = L->a[0];
    L->la[2 * L->b + (L->flip ^ 1)] = L->a[1];
}

/* the sum of the bagged row r at position pos of the partition's bag */
static inline gb_lacc *lrun_at(lrun *L, uint32_t r, int64_t pos)
{
    const int64_t b = r / WB_BLOCK_ROWS;
    if (__builtin_expect(b != L->b, 0)) {
        lrun_flush(L);
        L->b = b;
        L->flip = (int)(pos & 1);
        L->a[0] = L->la[2 * b + L->flip];
        L->a[1] = L->la[2 * b + (L->flip ^ 1)];
    }
    return &L->a[pos & 1];
}

/* block b's loss sum from its two */
static inline double lacc_block_sum(const gb_lacc *la, int64_t b)
{
    const gb_lacc *x = la + 2 * b, *z = la + 2 * b + 1;
    const double ln2hi = 6.93147180369123816490e-01, ln2lo = 1.90821492927058770002e-10;
    const double ed = (double)(x->E + z->E);
    return (x->D + z->D) - ((gb_log(x->P) + gb_log(z->P)) + (ed * ln2hi + ed * ln2lo));
}

/* a binary row's loss into its block's sum, from e = exp(-F) and p = 1/(1+e)
 * as the gradient computes them: q = p for y = 1, e p = 1 - p for y = 0 */
static inline void binary_tloss(gb_lacc *la, double F, double y, double e, double p)
{
    double q = p * (y + (1 - y) * e);
    if (q >= GB_Q_MIN)
        gb_lacc_mul(la, q);
    else
        la->D += gb_binary_loss(F, y);
}

/* the training loss of a row outside the gradient pass (out of the bag, or
 * after the last round) into its block's sum; class k's score at F[k * rows] */
static inline void row_tloss(gb_lacc *la, int obj, int K, const double *F, int64_t rows, double y)
{
    if (obj == GB_REGRESSION) {
        double g = F[0] - y;
        la->D += g * g;
    } else if (obj == GB_BINARY) {
        double e = gb_exp(-F[0]);
        binary_tloss(la, F[0], y, e, 1 / (1 + e));
    } else {
        /* multiclass: softmax as the gradient pass computes it */
        int yk = (int)y;
        double mx = F[0], sum = 0;
        for (int k = 1; k < K; k++)
            if (F[k * rows] > mx) mx = F[k * rows];
        for (int k = 0; k < K; k++) sum += gb_exp(F[k * rows] - mx);
        double q = gb_exp(F[yk * rows] - mx) * (1 / sum);
        if (q >= GB_Q_MIN)
            gb_lacc_mul(la, q);
        else
            la->D += mx + gb_log(sum) - F[yk * rows];
    }
}

/* gradient and hessian of row r (one tree a round), quantized; a binary
 * row's loss (at position pos of the bag) into its block's sum (regression:
 * the caller adds it) */
static inline __attribute__((always_inline)) int grad1(gb_state *s, int obj, uint32_t r, double F, double y, double sg, double sh,
                        double *gmax, int64_t row0, lrun *L, int64_t pos)
{
    if (obj == GB_BINARY) {
        double e = gb_exp(-F), p = 1 / (1 + e);
        s->gh[r] = pk_class(qround((p - y) * sg), qround(p * (1 - p) * sh));
        binary_tloss(lrun_at(L, r, pos), F, y, e, p);
        return 0;
    }
    double g = F - y, gs = g * sg;
    if (!(fabs(gs) <= (double)((int64_t)1 << GB_QG_BITS)))
        return H->seterr(WB_EINTERNAL, "gbdt: gradient %g at row %lld beyond the fixed-point range", g,
                         (long long)(row0 + r + 1));
    if (fabs(g) > *gmax) *gmax = fabs(g);
    (void)sh; /* the constant 2^GB_QH_BITS, implied by the layout */
    s->gh[r] = pk_reg(qround(gs));
    return 0;
}

#if defined(__SSE2__)
/* gb_exp of two values in (-708, 709], the same bits (the same IEEE
 * operations in the same order) */
static inline __m128d exp_sse2(__m128d x)
{
    const __m128d ln2hi = _mm_set1_pd(6.93147180369123816490e-01 / 64),
                  ln2lo = _mm_set1_pd(1.90821492927058770002e-10 / 64), inv = _mm_set1_pd(9.23324826168936601e+01),
                  shifter = _mm_set1_pd(6755399441055744.0), one = _mm_set1_pd(1.0), c2 = _mm_set1_pd(1.0 / 2),
                  c3 = _mm_set1_pd(1.0 / 6), c4 = _mm_set1_pd(1.0 / 24), c5 = _mm_set1_pd(1.0 / 120);
    const __m128i shbits = _mm_castpd_si128(shifter), m63 = _mm_set1_epi64x(63),
                  e1023 = _mm_set1_epi64x((int64_t)1023 << 52);
    __m128d ks = _mm_add_pd(_mm_mul_pd(x, inv), shifter);
    __m128d kd = _mm_sub_pd(ks, shifter);
    __m128i k = _mm_sub_epi64(_mm_castpd_si128(ks), shbits);
    __m128d r = _mm_sub_pd(_mm_sub_pd(x, _mm_mul_pd(kd, ln2hi)), _mm_mul_pd(kd, ln2lo));
    __m128i j = _mm_and_si128(k, m63);
    __m128i scale = _mm_add_epi64(_mm_slli_epi64(_mm_sub_epi64(k, j), 46), e1023);
    __m128d t = _mm_set_pd(gb_exp_tab[_mm_cvtsi128_si32(_mm_shuffle_epi32(j, 2))], gb_exp_tab[_mm_cvtsi128_si32(j)]);
    __m128d r2 = _mm_mul_pd(r, r);
    __m128d poly = _mm_add_pd(_mm_add_pd(one, r),
                              _mm_mul_pd(r2, _mm_add_pd(_mm_add_pd(c2, _mm_mul_pd(r, c3)),
                                                        _mm_mul_pd(r2, _mm_add_pd(c4, _mm_mul_pd(r, c5))))));
    return _mm_mul_pd(_mm_mul_pd(t, poly), _mm_castsi128_pd(scale));
}

/* q of two binary rows, the same bits as binary_tloss's p (y + (1 - y) e)
 * (for y in {0, 1}: p or p e), by a select: one multiply */
static inline __m128d q_sse2(__m128d p, __m128d e, __m128d yy)
{
    const __m128d m = _mm_cmpeq_pd(yy, _mm_set1_pd(1.0));
    return _mm_or_pd(_mm_and_pd(m, p), _mm_andnot_pd(m, _mm_mul_pd(p, e)));
}

/* the training losses of two binary rows (scores f, labels yy) into a, r0's
 * first: q as binary_tloss computes it, exp two at a time */
static inline void binary_tloss2(gb_lacc *a, __m128d f, __m128d yy)
{
    const __m128d one = _mm_set1_pd(1.0), lo = _mm_set1_pd(-708.0), hi = _mm_set1_pd(709.0),
                  sign = _mm_set1_pd(-0.0);
    __m128d x = _mm_xor_pd(f, sign);
    const double f0 = _mm_cvtsd_f64(f), f1 = _mm_cvtsd_f64(_mm_unpackhi_pd(f, f));
    const double y0 = _mm_cvtsd_f64(yy), y1 = _mm_cvtsd_f64(_mm_unpackhi_pd(yy, yy));
    if (_mm_movemask_pd(_mm_and_pd(_mm_cmpgt_pd(x, lo), _mm_cmple_pd(x, hi))) != 3) {
        double e0 = gb_exp(-f0), e1 = gb_exp(-f1);
        binary_tloss(a, f0, y0, e0, 1 / (1 + e0));
        binary_tloss(a, f1, y1, e1, 1 / (1 + e1));
        return;
    }
    __m128d e = exp_sse2(x);
    __m128d p = _mm_div_pd(one, _mm_add_pd(one, e));
    __m128d qv = q_sse2(p, e, yy);
    const double q0 = _mm_cvtsd_f64(qv), q1 = _mm_cvtsd_f64(_mm_unpackhi_pd(qv, qv));
    if (q0 >= GB_Q_MIN)
        gb_lacc_mul(a, q0);
    else
        a->D += gb_binary_loss(f0, y0);
    if (q1 >= GB_Q_MIN)
        gb_lacc_mul(a, q1);
    else
        a->D += gb_binary_loss(f1, y1);
}
#endif

/* binary gradients of the rows bag[0..n) (positions pos0.. of the bag, pos0
 * even): the same bits as grad1, two rows at a time with SSE2 (IEEE
 * operations in the same order, no fused multiply-add; lanes outside exp's
 * range go through the scalar path); the rows' losses into their blocks'
 * sums */
static void grad_binary(gb_state *s, const uint32_t *bag, int64_t n, const double *y, double sg, double sh,
                        lrun *Lp, int64_t pos0)
{
    lrun L = *Lp;
    const double *F = s->F;
    int64_t *gh = s->gh;
    int64_t q = 0;
#if defined(__SSE2__)
    /* the products of the block being summed, kept in a register; written
     * back to L around the row-by-row paths */
#define P2_OUT (L.a[0].P = _mm_cvtsd_f64(P2), L.a[1].P = _mm_cvtsd_f64(_mm_unpackhi_pd(P2, P2)))
#define P2_IN (P2 = _mm_set_pd(L.a[1].P, L.a[0].P))
    __m128d P2;
    P2_IN;
    const __m128d one = _mm_set1_pd(1.0), lo = _mm_set1_pd(-708.0), hi = _mm_set1_pd(709.0),
                  vsg = _mm_set1_pd(sg), vsh = _mm_set1_pd(sh), sign = _mm_set1_pd(-0.0),
                  qmin = _mm_set1_pd(GB_Q_MIN), pmin = _mm_set1_pd(GB_P_MIN);
    for (; q + 2 <= n; q += 2) {
        const uint32_t r0 = bag[q], r1 = bag[q + 1];
        const int adj = r1 == r0 + 1;
        __m128d f = adj ? _mm_loadu_pd(F + r0) : _mm_set_pd(F[r1], F[r0]);
        __m128d x = _mm_xor_pd(f, sign);
        if (_mm_movemask_pd(_mm_and_pd(_mm_cmpgt_pd(x, lo), _mm_cmple_pd(x, hi))) != 3) {
            P2_OUT;
            grad1(s, GB_BINARY, r0, F[r0], y[r0], sg, sh, NULL, 0, &L, pos0 + q);
            grad1(s, GB_BINARY, r1, F[r1], y[r1], sg, sh, NULL, 0, &L, pos0 + q + 1);
            P2_IN;
            continue;
        }
        __m128d e = exp_sse2(x);
        __m128d p = _mm_div_pd(one, _mm_add_pd(one, e));
        __m128d yy = adj ? _mm_loadu_pd(y + r0) : _mm_set_pd(y[r1], y[r0]);
        __m128i g = _mm_cvtpd_epi32(_mm_mul_pd(_mm_sub_pd(p, yy), vsg));
        __m128i h = _mm_cvtpd_epi32(_mm_mul_pd(_mm_mul_pd(p, _mm_sub_pd(one, p)), vsh));
        /* the two rows' words (pk_class): g sign-extended to 64 bits */
        const __m128i g64 = _mm_unpacklo_epi32(g, _mm_srai_epi32(g, 31)), h64 = _mm_unpacklo_epi32(h, _mm_setzero_si128());
        const __m128i w2 = _mm_add_epi64(_mm_add_epi64(_mm_slli_epi64(g64, GB_PK_GSHIFT_C), _mm_slli_epi64(h64, GB_PK_CBITS)),
                                         _mm_set1_epi64x(1));
        if (adj)
            _mm_storeu_si128((__m128i *)(gh + r0), w2);
        else {
            _mm_storel_epi64((__m128i *)(gh + r0), w2);
            _mm_storel_epi64((__m128i *)(gh + r1), _mm_unpackhi_epi64(w2, w2));
        }
        /* the loss: q = p (y = 1) or e p (y = 0), as binary_tloss; both
         * rows in the block being summed (r1 there: so is r0): one multiply,
         * unless a q is tiny or a product needs scaling (then row by row) */
        __m128d qv = q_sse2(p, e, yy);
        if ((int64_t)(r1 / WB_BLOCK_ROWS) == L.b) {
            __m128d Pn = _mm_mul_pd(P2, qv);
            if (!_mm_movemask_pd(_mm_or_pd(_mm_cmplt_pd(qv, qmin), _mm_cmplt_pd(Pn, pmin)))) {
                P2 = Pn;
                continue;
            }
        }
        P2_OUT;
        const double q0 = _mm_cvtsd_f64(qv), q1 = _mm_cvtsd_f64(_mm_unpackhi_pd(qv, qv));
        gb_lacc *l0 = lrun_at(&L, r0, pos0 + q);
        if (q0 >= GB_Q_MIN)
            gb_lacc_mul(l0, q0);
        else
            l0->D += gb_binary_loss(F[r0], y[r0]);
        gb_lacc *l1 = lrun_at(&L, r1, pos0 + q + 1);
        if (q1 >= GB_Q_MIN)
            gb_lacc_mul(l1, q1);
        else
            l1->D += gb_binary_loss(F[r1], y[r1]);
        P2_IN;
    }
    P2_OUT;
#undef P2_OUT
#undef P2_IN
#endif
    for (; q < n; q++) grad1(s, GB_BINARY, bag[q], F[bag[q]], y[bag[q]], sg, sh, NULL, 0, &L, pos0 + q);
    *Lp = L;
}

/* gbdt.begin's argument, read (gb_begin_arg, then the arrays it announces) */
typedef struct begin_in {
    gb_begin_arg a;
    const int32_t *nb, *sel, *off, *prev_nn; /* in the argument */
    double *base;                            /* K base scores (a copy) */
    gb_bnode *prev;                          /* the previous round's trees (a copy), or NULL */
    const unsigned char *procs;              /* nprocs gb_wave_proc (in the argument), or NULL */
    uint64_t driver;
} begin_in;

static int begin_read(const void *arg, size_t arglen, const binview *bv, begin_in *b)
{
    gb_begin_arg *a = &b->a;
    if (arglen < sizeof *a) return H->seterr(WB_EINVAL, "gbdt.begin: bad argument");
    memcpy(a, arg, sizeof *a);
    if (a->K < 1 || a->K > GB_MAX_CLASSES || a->d != bv->d || a->nsel < 0 || a->nsel > a->d ||
        a->maxslots < 1 || a->nprev < 0 || a->nprev > a->K || a->round < 0 || a->nprocs < 0)
        return H->seterr(WB_EINVAL, "gbdt.begin: bad argument");
    cursor c = {(const unsigned char *)arg + sizeof *a, arglen - sizeof *a, 0};
    b->nb = take(&c, (size_t)a->d * 4);
    b->sel = take(&c, (size_t)a->nsel * 4);
    b->off = take(&c, (size_t)a->nsel * 4);
    b->prev_nn = take(&c, (size_t)a->nprev * 4);
    align8(&c, arg);
    b->base = take_copy(&c, (size_t)a->K, sizeof(double));
    int64_t tot = 0;
    for (int k = 0; !c.bad && k < a->nprev; k++) tot += b->prev_nn[k];
    b->prev = c.bad ? NULL : take_copy(&c, (size_t)tot, sizeof(gb_bnode));
    b->procs = NULL;
    b->driver = 0;
    if (a->nprocs > 0) {
        b->procs = take(&c, (size_t)a->nprocs * sizeof(gb_wave_proc));
        const void *dr = take(&c, 8);
        if (dr) memcpy(&b->driver, dr, 8);
        if (c.left) c.bad = 1;
    }
    if (c.bad || !b->base || (tot && !b->prev)) {
        free(b->base);
        free(b->prev);
        return c.bad ? H->seterr(WB_EINVAL, "gbdt.begin: bad argument") : H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    return 0;
}

/* the previous round's trees into the scores: the leaves that the last wave
 * did not apply already, then the rows outside the bag by a walk; the state
 * is then at this round (else it is lost: WB_ESTATE) */
static int apply_prev(gb_state *s, const binview *bv, const begin_in *b)
{
    const gb_begin_arg *a = &b->a;
    const int K = a->K;
    const int64_t rows = bv->rows, d = bv->d;
    if (!(s->round == a->round - 1 && s->wave >= 0 && a->nprev == K))
        return s->round != a->round ? lost(bv->row0) : 0;
    const gb_bnode *t = b->prev;
    for (int k = 0; k < K; k++) {
        const uint32_t *I = s->idx + (size_t)k * (size_t)rows;
        double *F = s->F + (size_t)k * rows;
        for (int q = 0; q < b->prev_nn[k]; q++) {
            if (t[q].feature >= 0) continue;
            const int32_t slot = t[q].left; /* a leaf's rows: this slot of the row lists */
            if (slot < 0 || slot >= s->maxslots) return H->seterr(WB_EINVAL, "gbdt.begin: bad argument");
            if (s->applied[k * s->maxslots + slot]) continue;
            double v = t[q].value;
            int32_t bg = s->beg[k * s->maxslots + slot], n = s->cnt[k * s->maxslots + slot];
            for (int32_t i = bg; i < bg + n; i++) {
                if (i + PFB < bg + n) __builtin_prefetch(F + I[i + PFB], 1);
                F[I[i]] += v;
            }
        }
        for (int64_t i = 0; i < s->nrest; i++) {
            uint32_t r = s->rest[i];
            s->F[(size_t)k * rows + r] += walk(t, bv->bins + (size_t)r * (size_t)d, s->nb);
        }
        t += b->prev_nn[k];
    }
    s->round = a->round;
    return 0;
}

/* the rows of the round: the bag (training rows drawn for it, subsample per
 * row from per-block streams) into s->idx, the others into s->rest;
 * `finish` keeps the last round's bag and puts every row into rest (only the
 * losses are wanted). *nbag, *nrest: the counts. */
static int draw_bag(gb_state *s, const binview *bv, const gb_begin_arg *a, int finish, int64_t *nbagp,
                    int64_t *nrestp)
{
    const int64_t B = WB_BLOCK_ROWS, rows = bv->rows, blk0 = bv->row0 / B;
    double *u = NULL;
    if (!finish && a->subsample < 1) {
        u = malloc(B * sizeof *u);
        if (!u) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    int64_t nbag = 0, nrest = 0;
    uint32_t *bag = s->idx;
    for (int64_t i0 = 0; i0 < rows; i0 += B) {
        int64_t m = rows - i0 < B ? rows - i0 : B;
        if (u) gb_block_uniforms(a->seed, GB_S_SUB + ((uint64_t)a->round << 32), blk0 + i0 / B, u);
        for (int64_t i = i0; i < i0 + m; i++) {
            if (!finish && !bv->isval[i] && (!u || u[i - i0] < a->subsample))
                bag[nbag++] = (uint32_t)i;
            else
                s->rest[nrest++] = (uint32_t)i;
        }
    }
    free(u);
    if (finish) {
        nrest = 0;
        for (int64_t i = 0; i < rows; i++) s->rest[nrest++] = (uint32_t)i;
    } else {
        s->nbag = nbag;
        s->nrest = nrest;
    }
    *nbagp = nbag;
    *nrestp = nrest;
    return 0;
}

/* the losses of the rows outside the gradient pass (s->rest[0..nrest)): the
 * validation loss per block (bl) and the training loss into the blocks'
 * sums (la); out of the bag, or every row after the last round */
static void rest_losses(const gb_state *s, const binview *bv, int obj, int K, int want_loss, int want_tloss,
                        int64_t nrest, gb_blockloss *bl, gb_lacc *la)
{
    const int64_t B = WB_BLOCK_ROWS, rows = bv->rows;
    /* the first sum of the block being summed, in registers; binary:
     * two training rows at a time (the first waits in `held`) */
    gb_lacc cur = la[0];
    int64_t cb = 0, held = -1;
    for (int64_t q = 0; q < nrest; q++) {
        uint32_t r = s->rest[q];
        if (!bv->isval[r]) {
            if (!want_tloss) continue;
            const int64_t b = r / B;
            if (b != cb) {
                if (held >= 0) row_tloss(&cur, obj, K, s->F + held, rows, bv->y[held]);
                held = -1;
                la[2 * cb] = cur;
                cb = b;
                cur = la[2 * b];
            }
#if defined(__SSE2__)
            if (obj == GB_BINARY) {
                if (held < 0) {
                    held = r;
                    continue;
                }
                binary_tloss2(&cur, _mm_set_pd(s->F[r], s->F[held]), _mm_set_pd(bv->y[r], bv->y[held]));
                held = -1;
                continue;
            }
#endif
            row_tloss(&cur, obj, K, s->F + r, rows, bv->y[r]);
            continue;
        }
        if (!want_loss) continue;
        gb_blockloss *x = &bl[r / B];
        double Fr[GB_MAX_CLASSES];
        for (int k = 0; k < K; k++) Fr[k] = s->F[(size_t)k * rows + r];
        x->loss += gb_row_loss(obj, K, Fr, bv->y[r]);
        x->count += 1;
    }
    if (held >= 0) row_tloss(&cur, obj, K, s->F + held, rows, bv->y[held]);
    la[2 * cb] = cur;
}

#if defined(__SSE2__)
/* the classes a row pair of grad_multi2 takes (its exponentials on the stack) */
#define GB_MULTI2_MAX 64
/* one row's softmax loss into the sum of its block (cur: the sum of block
 * *cb, in registers; la: the blocks' sums), as the scalar loop in gradients */
static inline void multi_loss(gb_lacc *la, int64_t *cb, gb_lacc *cur, uint32_t r, double qy, double mx,
                              double sum, double Fy)
{
    const int64_t b = r / WB_BLOCK_ROWS;
    if (b != *cb) {
        la[2 * *cb] = *cur;
        *cb = b;
        *cur = la[2 * b];
    }
    if (qy >= GB_Q_MIN)
        gb_lacc_mul(cur, qy);
    else
        cur->D += mx + gb_log(sum) - Fy;
}

/* the multiclass gradients, hessians and losses of rows r0 and r1 (in that
 * order), the two rows in the two lanes: the same IEEE operations in the
 * same order as the scalar loop in gradients, so the same bits. Returns 0
 * (and writes nothing) when an exponent is outside exp_sse2's range or not
 * a number: the scalar loop takes the rows then. */
static int grad_multi2(gb_state *s, const binview *bv, const int K, uint32_t r0, uint32_t r1, double sg, double sh, gb_lacc *la,
                       int64_t *cb, gb_lacc *cur)
{
    const int64_t rows = bv->rows;
    const double *F = s->F;
    __m128d mx = _mm_set_pd(F[r1], F[r0]);
    for (int k = 1; k < K; k++) /* (F > mx ? F : mx, as the scalar loop) */
        mx = _mm_max_pd(_mm_set_pd(F[(size_t)k * rows + r1], F[(size_t)k * rows + r0]), mx);
    __m128d e[GB_MULTI2_MAX], sum = _mm_setzero_pd();
    const __m128d lo = _mm_set1_pd(-708.0);
    int ok = 3;
    for (int k = 0; k < K; k++) {
        __m128d x = _mm_sub_pd(_mm_set_pd(F[(size_t)k * rows + r1], F[(size_t)k * rows + r0]), mx);
        ok &= _mm_movemask_pd(_mm_cmpgt_pd(x, lo));
        e[k] = x;
    }
    if (ok != 3) return 0; /* (x <= 0: only the lower bound can fail) */
    for (int k = 0; k < K; k++) sum = _mm_add_pd(sum, e[k] = exp_sse2(e[k]));
    const double y0 = bv->y[r0], y1 = bv->y[r1];
    const int yk0 = (int)y0, yk1 = (int)y1;
    const __m128d inv = _mm_div_pd(_mm_set1_pd(1.0), sum), one = _mm_set1_pd(1.0), vsg = _mm_set1_pd(sg),
                  vsh = _mm_set1_pd(sh);
    for (int k = 0; k < K; k++) {
        const __m128d p = _mm_mul_pd(e[k], inv);
        const __m128d g = _mm_sub_pd(p, _mm_set_pd(k == yk1, k == yk0));
        const __m128d h = _mm_mul_pd(p, _mm_sub_pd(one, p));
        const __m128d gs = _mm_mul_pd(g, vsg), hs = _mm_mul_pd(h, vsh);
        int64_t *gh = s->gh + (size_t)k * rows;
        gh[r0] = pk_class(_mm_cvtsd_si64(gs), _mm_cvtsd_si64(hs));
        gh[r1] = pk_class(_mm_cvtsd_si64(_mm_unpackhi_pd(gs, gs)), _mm_cvtsd_si64(_mm_unpackhi_pd(hs, hs)));
    }
    double ev0[2], ev1[2], in[2], m[2], su[2];
    _mm_storeu_pd(ev0, e[yk0]);
    _mm_storeu_pd(ev1, e[yk1]);
    _mm_storeu_pd(in, inv);
    _mm_storeu_pd(m, mx);
    _mm_storeu_pd(su, sum);
    multi_loss(la, cb, cur, r0, ev0[0] * in[0], m[0], su[0], F[(size_t)yk0 * rows + r0]);
    multi_loss(la, cb, cur, r1, ev1[1] * in[1], m[1], su[1], F[(size_t)yk1 * rows + r1]);
    return 1;
}
#endif

/* gradients and hessians of the bag (nbag rows in s->idx), quantized, and
 * the root histograms into acc: a chunk of the bag at a time (its gradients
 * still in cache for the histogram); the bagged rows' training losses into
 * the blocks' sums (la); *gmax: the largest regression gradient */
static int gradients(gb_state *s, const binview *bv, const gb_begin_arg *a, gb_acc *acc, int64_t nbag, gb_lacc *la,
                     double *gmax)
{
    const int K = a->K, obj = a->obj;
    const int64_t B = WB_BLOCK_ROWS, rows = bv->rows, CH = 2048;
    const double sg = a->sg, sh = a->sh;
    const uint32_t *bag = s->idx;
    if (K < 1) return H->seterr(WB_EINVAL, "gbdt.begin: bad argument"); /* (begin_read checked it) */
    int rc = 0;
    lrun L = {{{1, 0, 0}, {1, 0, 0}}, -1, 0, la};
    /* multiclass and regression: the sum of the block being summed (its
     * first, la[2 cb]) in registers */
    gb_lacc cur = la[0];
    int64_t cb = 0;
    for (int64_t q0 = 0; q0 < nbag && !rc; q0 += CH) {
        const int64_t q1 = nbag - q0 < CH ? nbag : q0 + CH;
        if (obj == GB_BINARY) grad_binary(s, bag + q0, q1 - q0, bv->y, sg, sh, &L, q0);
        for (int64_t q = q0; q < q1 && !rc && obj != GB_BINARY; q++) {
#if defined(__SSE2__)
            if (K > 1 && K <= GB_MULTI2_MAX && q + 1 < q1 && grad_multi2(s, bv, K, bag[q], bag[q + 1], sg, sh, la, &cb, &cur)) {
                q++;
                continue;
            }
#endif
            uint32_t r = bag[q];
            const double *F = s->F + r; /* class k at F[k * rows] */
            double y = bv->y[r];
            const int64_t b = r / B;
            if (b != cb) {
                la[2 * cb] = cur;
                cb = b;
                cur = la[2 * b];
            }
            if (K == 1) {
                rc = grad1(s, obj, r, F[0], y, sg, sh, gmax, bv->row0, &L, q);
                double g = F[0] - y;
                cur.D += g * g;
            } else {
                double mx = F[0], e[GB_MAX_CLASSES], sum = 0;
                for (int k = 1; k < K; k++)
                    if (F[k * rows] > mx) mx = F[k * rows];
                for (int k = 0; k < K; k++) sum += (e[k] = gb_exp(F[k * rows] - mx));
                int yk = (int)y;
                const double inv = 1 / sum;
                for (int k = 0; k < K; k++) {
                    double p = e[k] * inv, g = p - (k == yk), h = p * (1 - p);
                    s->gh[(size_t)k * rows + r] = pk_class(qround(g * sg), qround(h * sh));
                }
                /* the loss: -log p of the row's class */
                double qy = e[yk] * inv;
                if (qy >= GB_Q_MIN)
                    gb_lacc_mul(&cur, qy);
                else
                    cur.D += mx + gb_log(sum) - F[yk * rows];
            }
        }
        for (int k = 0; k < K && !rc; k++) rc = hist_add(acc, k, s, bv, k, bag + q0, q1 - q0);
    }
    if (obj == GB_BINARY)
        lrun_flush(&L);
    else
        la[2 * cb] = cur;
    return rc;
}

/* every class tree of the round starts from all the bag, in row order */
static void start_nodes(gb_state *s, int64_t nbag)
{
    const int64_t rows = s->rows;
    for (int k = 0; k < s->K; k++) {
        if (k > 0) memcpy(s->idx + (size_t)k * rows, s->idx, (size_t)nbag * sizeof *s->idx);
        memset(s->beg + (size_t)k * s->maxslots, 0, (size_t)s->maxslots * sizeof *s->beg);
        memset(s->cnt + (size_t)k * s->maxslots, 0, (size_t)s->maxslots * sizeof *s->cnt);
        memset(s->applied + (size_t)k * s->maxslots, 0, (size_t)s->maxslots);
        s->cnt[(size_t)k * s->maxslots] = (int32_t)nbag;
    }
}

/* gbdt.begin on one binned partition (see the top of the file). Its state
 * is taken from the cache (made at round 0); the previous round's trees go
 * into the scores, the round's bag is drawn, the losses of the scores are
 * summed per block into bl[] (validation, training; nblocks of them, 0: no
 * losses wanted), gradients are computed and the root histograms added into
 * the task's accumulator acc. With mode bit 0 (finish: after the last round)
 * only the losses. *gmaxp: the largest regression gradient. */
static int begin_one(const wb_obj *o, const void *arg, size_t arglen, gb_acc *acc, gb_blockloss *bl,
                     int nblocks, double *gmaxp)
{
    binview bv;
    begin_in b;
    int rc;
    if ((rc = bin_view(o, &bv))) return rc;
    if ((rc = begin_read(arg, arglen, &bv, &b))) return rc;
    const gb_begin_arg *a = &b.a;
    const int K = a->K, obj = a->obj;
    gb_state *s = state_acquire(a->fit_id, bv.row0);
    if (!s && a->round == 0) s = state_new(a->fit_id, bv.row0, bv.rows, bv.d, K, a->maxslots, b.nb, b.base);
    free(b.base);
    if (!s) {
        free(b.prev);
        return a->round == 0 ? H->seterr(WB_ENOMEM, "gbdt: out of memory") : lost(bv.row0);
    }
    const int finish = a->mode & 1, want_loss = (a->mode & 2) != 0, want_tloss = (a->mode & 4) != 0;
    if (!finish) {
        s->nsel = a->nsel;
        memcpy(s->sel, b.sel, (size_t)a->nsel * 4);
        memcpy(s->off, b.off, (size_t)a->nsel * 4);
        s->nentries = a->nentries;
        s->obj = obj;
    }
    rc = apply_prev(s, &bv, &b);
    free(b.prev);
    if (rc) {
        if (rc != WB_ESTATE) s->round = -2; /* half applied: only a restore fixes it */
        state_put_back(s);
        return rc;
    }
    const int64_t B = WB_BLOCK_ROWS, blk0 = bv.row0 / B, pblocks = (bv.rows + B - 1) / B;
    /* the training loss of each block (computed anyway: it costs a product
     * per row in the gradient pass) */
    gb_lacc *la = malloc((size_t)(2 * pblocks + 2) * sizeof *la);
    if (!la) {
        state_put_back(s);
        return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    for (int i = 0; i < nblocks; i++) bl[i] = (gb_blockloss){blk0 + i, 0, 0, 0};
    for (int64_t i = 0; i < 2 * pblocks + 2; i++) gb_lacc_init(&la[i]);
    int64_t nbag = 0, nrest = 0;
    if ((rc = draw_bag(s, &bv, a, finish, &nbag, &nrest)) != 0) {
        free(la);
        state_put_back(s);
        return rc;
    }
    if (want_loss || want_tloss) rest_losses(s, &bv, obj, K, want_loss, want_tloss, nrest, bl, la);
    if (finish) {
        for (int i = 0; i < nblocks && want_tloss; i++) bl[i].tloss = lacc_block_sum(la, i);
        free(la);
        s->nrest = 0;
        s->wave = -1;
        state_put_back(s);
        return 0;
    }
    double gmax = 0;
    rc = gradients(s, &bv, a, acc, nbag, la, &gmax);
    for (int i = 0; i < nblocks && want_tloss; i++) bl[i].tloss = lacc_block_sum(la, i);
    free(la);
    if (rc) {
        s->wave = -1;
        state_put_back(s);
        return rc;
    }
    if (obj == GB_REGRESSION) /* the training rows outside the bag too */
        for (int64_t q = 0; q < s->nrest; q++) {
            uint32_t r = s->rest[q];
            if (bv.isval[r]) continue;
            double g = fabs(s->F[r] - bv.y[r]);
            if (g > gmax) gmax = g;
        }
    if (gmax > *gmaxp) *gmaxp = gmax;
    start_nodes(s, nbag);
    s->wave = 0;
    state_put_back(s);
    return 0;
}

static int task_result(wb_kctx *ctx, gb_acc *acc, uint64_t fit_id, int epoch, int round, int wave, int nnodes,
                       int64_t E, int32_t mine, uint64_t driver, double gmax, const gb_blockloss *bl, int nblocks);

/* gbdt.begin: a round starts on one or more binned partitions (of one
 * worker process), begin_one each, their root histograms into this
 * thread's accumulator. Output: a token with the blocks' losses (then, from
 * the task that finishes its process's share when the driver told the
 * shares, the process's root histograms: task_result). */
static int k_begin(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    if (nin < 1) return H->seterr(WB_EINVAL, "gbdt.begin: no input");
    gb_begin_arg a;
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "gbdt.begin: bad argument");
    memcpy(&a, arg, sizeof a);
    if (a.K < 1 || a.K > GB_MAX_CLASSES || a.nsel < 0 || a.nprocs < 0 || a.nentries < 0)
        return H->seterr(WB_EINVAL, "gbdt.begin: bad argument");
    const int finish = a.mode & 1, want = (a.mode & 6) != 0;
    /* the blocks of every partition, in input order */
    int64_t total = 0;
    int *nbl = malloc((size_t)nin * sizeof *nbl);
    if (!nbl) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    for (int i = 0; i < nin; i++) {
        binview bv;
        int rc = bin_view(&in[i], &bv);
        if (rc) {
            free(nbl);
            return rc;
        }
        nbl[i] = want ? (int)((bv.rows + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS) : 0;
        total += nbl[i];
    }
    gb_blockloss *bl = malloc((size_t)(total + 1) * sizeof *bl);
    gb_acc *acc = NULL;
    int rc = bl ? 0 : H->seterr(WB_ENOMEM, "gbdt: out of memory");
    if (!rc && !finish && !(acc = acc_get(a.fit_id, a.epoch, a.round, 0, a.K, a.nentries, a.obj)))
        rc = H->seterr(WB_ENOMEM, "gbdt: out of memory");
    int want_round = a.round;
    if (acc && atomic_compare_exchange_strong(&inject_begin_round, &want_round, -1)) {
        pthread_mutex_lock(&acc_mu);
        acc->ntasks++;
        pthread_mutex_unlock(&acc_mu);
    }
    double gmax = 0;
    for (int i = 0, at = 0; i < nin && !rc; at += nbl[i], i++)
        rc = begin_one(&in[i], arg, arglen, acc, bl + at, nbl[i], &gmax);
    /* this process's share of the round's tasks (when the driver told them) */
    int32_t mine = 0;
    uint64_t driver = 0;
    if (!rc && a.nprocs > 0 && !finish) {
        const size_t tail = (size_t)a.nprocs * sizeof(gb_wave_proc) + 8;
        const unsigned char *p = (const unsigned char *)arg + arglen - tail; /* begin_read checked it */
        for (int32_t q = 0; q < a.nprocs; q++) {
            gb_wave_proc wp;
            memcpy(&wp, p + (size_t)q * sizeof wp, sizeof wp);
            if (wp.proc == proc_id) mine = wp.count;
        }
        memcpy(&driver, p + (size_t)a.nprocs * sizeof(gb_wave_proc), 8);
    }
    if (!rc) rc = task_result(ctx, acc, a.fit_id, a.epoch, a.round, 0, a.K, a.nentries, mine, driver, gmax, bl, (int)total);
    free(bl);
    free(nbl);
    return rc;
}

/* ------------------------------------------------------------- gbdt.wave */

/* with acc_mu held: the tasks counted in the accumulators of (fit, epoch,
 * round, wave) (started, and finished) */
static void acc_counts_locked(uint64_t fit_id, int epoch, int round, int wave, int nnodes, int64_t E,
                              int64_t *started, int64_t *finished)
{
    *started = *finished = 0;
    for (gb_acc *c = accs; c; c = c->next)
        if (c->fit_id == fit_id && c->epoch == epoch && c->round == round && c->wave == wave &&
            c->nnodes == nnodes && c->nentries == E) {
            *started += c->ntasks;
            *finished += c->nfinished;
        }
}

/* with acc_mu held: adds those accumulators into out (nnodes x E entries,
 * zeroed) and marks them collected; returns how many there were */
static int acc_sum_locked(uint64_t fit_id, int epoch, int round, int wave, int nnodes, int64_t E, gb_hentry *out)
{
    const int64_t total = (int64_t)nnodes * E;
    int found = 0;
    for (gb_acc *c = accs; c; c = c->next) {
        if (c->fit_id != fit_id || c->epoch != epoch || c->round != round || c->wave != wave) continue;
        if (c->nnodes != nnodes || c->nentries != E) continue;
        found++;
        const int64_t *p = c->packed;
        for (int64_t e = 0; e < total; e++) unpack_add(&out[e], p[e], c->gshift, c->hconst);
        if (c->full)
            for (int64_t e = 0; e < total; e++) gb_hentry_add(&out[e], &c->full[e]);
        c->round = -1; /* collected */
    }
    return found;
}

/* one binned partition of a wave task: its state taken (*sp, kept busy
 * until the task is done) and its splits made */
static int wave_split(const wb_obj *o, const gb_wave_arg *ap, const unsigned char *p, binview *bvp, gb_state **sp)
{
    const gb_wave_arg a = *ap;
    int rc;
    *sp = NULL;
    if ((rc = bin_view(o, bvp))) return rc;
    const binview bv = *bvp;
    int want = a.round;
    if (atomic_compare_exchange_strong(&inject_round, &want, -1)) state_free(state_unlink(a.fit_id, bv.row0));
    gb_state *s = state_acquire(a.fit_id, bv.row0);
    if (!s) return lost(bv.row0);
    if (s->round != a.round || s->wave != a.wave - 1) {
        state_put_back(s);
        return lost(bv.row0);
    }
    const int64_t rows = bv.rows, d = bv.d;
    const int K = s->K, M = s->maxslots;
    for (int q = 0; q < a.nsplit; q++) {
        gb_split_msg m;
        memcpy(&m, p + (size_t)q * sizeof m, sizeof m);
        if (m.k < 0 || m.k >= K || m.node < 0 || m.node >= M || m.left < 0 || m.left + 1 >= M ||
            m.feature < 0 || m.feature >= d) {
            state_put_back(s);
            return H->seterr(WB_EINVAL, "gbdt.wave: bad split");
        }
        uint32_t *I = s->idx + (size_t)m.k * rows + s->beg[m.k * M + m.node];
        const int32_t n = s->cnt[m.k * M + m.node];
        const uint8_t *col = bv.cols + (size_t)m.feature * (size_t)rows;
        const int thr = m.bin, miss = s->nb[m.feature], ml = m.ml != 0;
        if (m.cat) {
            /* a category split: the bins of the set go left (missing values
             * too when the missing bin is in it) */
            uint32_t *T = s->tmp;
            double *F = s->F + (size_t)m.k * rows;
            int32_t nl = 0, nr = 0;
            for (int32_t i = 0; i < n; i++) {
                uint32_t r = I[i];
                int gl = gb_in_set(m.cset, col[r]);
                if (m.direct) {
                    F[r] += gl ? m.vl : m.vr;
                    continue;
                }
                I[nl] = r;
                T[nr] = r;
                nl += gl;
                nr += !gl;
            }
            if (m.direct) {
                s->applied[m.k * M + m.node] = 1;
                continue;
            }
            memcpy(I + nl, T, (size_t)nr * sizeof *T);
            int32_t b0 = s->beg[m.k * M + m.node];
            s->beg[m.k * M + m.left] = b0;
            s->cnt[m.k * M + m.left] = nl;
            s->beg[m.k * M + m.left + 1] = b0 + nl;
            s->cnt[m.k * M + m.left + 1] = nr;
            continue;
        }
        if (m.direct) {
            /* the children are final leaves: their values into the scores */
            double *F = s->F + (size_t)m.k * rows;
            for (int32_t i = 0; i < n; i++) {
                uint32_t r = I[i];
                if (i + PFB < n) {
                    __builtin_prefetch(col + I[i + PFB]);
                    __builtin_prefetch(F + I[i + PFB], 1);
                }
                int b = col[r];
                int gl = (b <= thr) | (ml & (b == miss));
                F[r] += gl ? m.vl : m.vr;
            }
            s->applied[m.k * M + m.node] = 1;
            continue;
        }
        uint32_t *T = s->tmp;
        int32_t nl = 0, nr = 0;
        if (ml) {
            for (int32_t i = 0; i < n; i++) {
                uint32_t r = I[i];
                if (i + PFB < n) __builtin_prefetch(col + I[i + PFB]);
                int b = col[r];
                int gl = (b <= thr) | (b == miss);
                I[nl] = r;
                T[nr] = r;
                nl += gl;
                nr += !gl;
            }
        } else {
            /* missing values have bin nb > thr: they go right by themselves */
            for (int32_t i = 0; i < n; i++) {
                uint32_t r = I[i];
                if (i + PFB < n) __builtin_prefetch(col + I[i + PFB]);
                int gl = col[r] <= thr;
                I[nl] = r;
                T[nr] = r;
                nl += gl;
                nr += !gl;
            }
        }
        memcpy(I + nl, T, (size_t)nr * sizeof *T);
        int32_t b0 = s->beg[m.k * M + m.node];
        s->beg[m.k * M + m.left] = b0;
        s->cnt[m.k * M + m.left] = nl;
        s->beg[m.k * M + m.left + 1] = b0 + nl;
        s->cnt[m.k * M + m.left + 1] = nr;
    }
    *sp = s;
    return 0;
}

/* the histograms of the wave's build list (after nsplit splits in p) over
 * the task's n partitions (states st, views bv) into the task's accumulator:
 * a batch of nodes at a time, so that the batch's histograms stay in cache
 * while the rows of every partition go into them (one node a batch when a
 * histogram is larger than GB_BATCH_BYTES) */
static int wave_build(const gb_wave_arg *ap, const unsigned char *p, gb_state *const *st, const binview *bv, int n,
                      gb_acc **accp, int64_t *nent)
{
    const gb_wave_arg a = *ap;
    if (!a.nbuild || n < 1) return 0;
    const int64_t E = st[0]->nentries;
    for (int i = 1; i < n; i++)
        if (st[i]->nentries != E || st[i]->K != st[0]->K || st[i]->maxslots != st[0]->maxslots ||
            st[i]->obj != st[0]->obj)
            return H->seterr(WB_EINVAL, "gbdt.wave: partitions of different fits");
    const int K = st[0]->K, M = st[0]->maxslots;
    p += (size_t)a.nsplit * sizeof(gb_split_msg);
    for (int q = 0; q < a.nbuild; q++) {
        int32_t k, node;
        memcpy(&k, p + (size_t)q * 8, 4);
        memcpy(&node, p + (size_t)q * 8 + 4, 4);
        if (k < 0 || k >= K || node < 0 || node >= M) return H->seterr(WB_EINVAL, "gbdt.wave: bad node");
    }
    *accp = acc_get(a.fit_id, a.epoch, a.round, a.wave, a.nbuild, E, st[0]->obj);
    if (!*accp) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    *nent = E;
    int want = a.round;
    if (atomic_compare_exchange_strong(&inject_count_round, &want, -1)) {
        pthread_mutex_lock(&acc_mu);
        (*accp)->ntasks++;
        pthread_mutex_unlock(&acc_mu);
    }
    /* Nodes go in batches whose histograms stay in the core's cache
     * together (GB_BATCH_BYTES), and a batch goes partition by partition:
     * a partition's bins and gradients are fetched once for the rows of
     * every node of the batch (at a deep level a node's rows are a sparse
     * subset: node by node, each would fetch the cache lines it shares with
     * the rows of its neighbours again). The sums are integers: any order
     * gives the same bits. */
    int64_t nb = GB_BATCH_BYTES / (E * (int64_t)sizeof(int64_t));
    if (nb < 1) nb = 1;
    int rc = 0;
    for (int q0 = 0; q0 < a.nbuild && !rc; q0 += (int)nb) {
        const int q1 = a.nbuild - q0 < nb ? a.nbuild : q0 + (int)nb;
        for (int i = 0; i < n && !rc; i++) {
            const gb_state *s = st[i];
            for (int q = q0; q < q1 && !rc; q++) {
                int32_t k, node;
                memcpy(&k, p + (size_t)q * 8, 4);
                memcpy(&node, p + (size_t)q * 8 + 4, 4);
                rc = hist_add(*accp, q, s, &bv[i], k, s->idx + (size_t)k * (size_t)s->rows + s->beg[k * M + node],
                              s->cnt[k * M + node]);
            }
        }
    }
    return rc;
}

/* gbdt.wave over one or more binned partitions (of one worker process) */
static int k_wave(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    gb_wave_arg a;
    if (nin < 1) return H->seterr(WB_EINVAL, "gbdt.wave: no input");
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "gbdt.wave: bad argument");
    memcpy(&a, arg, sizeof a);
    if (a.nsplit < 0 || a.nbuild < 0 || a.nprocs < 0 ||
        arglen != sizeof a + (size_t)a.nsplit * sizeof(gb_split_msg) + (size_t)a.nbuild * 8 +
                      (size_t)a.nprocs * sizeof(gb_wave_proc))
        return H->seterr(WB_EINVAL, "gbdt.wave: bad argument");
    const unsigned char *p = (const unsigned char *)arg + sizeof a;
    gb_acc *acc = NULL;
    int64_t E = 0;
    int rc = 0, taken = 0;
    gb_state **st = malloc((size_t)nin * sizeof *st);
    binview *bv = malloc((size_t)nin * sizeof *bv);
    if (!st || !bv) rc = H->seterr(WB_ENOMEM, "gbdt: out of memory");
    for (int i = 0; i < nin && !rc; i++) {
        rc = wave_split(&in[i], &a, p, &bv[i], &st[i]);
        if (!rc) taken++;
    }
    if (!rc) {
        rc = wave_build(&a, p, st, bv, taken, &acc, &E);
        for (int i = 0; i < taken; i++) st[i]->wave = rc ? -1 : a.wave;
    }
    for (int i = 0; i < taken; i++) state_put_back(st[i]);
    free(st);
    free(bv);
    if (rc) return rc;
    /* this process's share of the wave's tasks (when the driver knows it) */
    p += (size_t)a.nsplit * sizeof(gb_split_msg) + (size_t)a.nbuild * 8;
    int32_t mine = 0;
    for (int32_t q = 0; q < a.nprocs; q++) {
        gb_wave_proc wp;
        memcpy(&wp, p + (size_t)q * sizeof wp, sizeof wp);
        if (wp.proc == proc_id) mine = wp.count;
    }
    return task_result(ctx, acc, a.fit_id, a.epoch, a.round, a.wave, a.nbuild, E, mine, a.driver, 0, NULL, 0);
}

/* The output of a gbdt.begin or gbdt.wave task: its token (gmax, nblocks
 * block losses), and from the task that finishes this process's share of
 * (round, wave) (`mine` tasks; 0: the driver did not tell, the sums are
 * collected after the tokens) the sum of the process's accumulators in their
 * compact form (wire.h) -- or, when the driver runs in this process, a mark
 * that they wait here for it (gb_acc_take). Counted as the tasks took their
 * accumulators: a task the driver did not expect here (still running or
 * done) shows as more tasks started than its share; the driver then
 * rebuilds the state. (A task missing here leaves the sum unsent: the driver
 * counts the tasks the sums cover.) */
static int task_result(wb_kctx *ctx, gb_acc *acc, uint64_t fit_id, int epoch, int round, int wave, int nnodes,
                       int64_t E, int32_t mine, uint64_t driver, double gmax, const gb_blockloss *bl, int nblocks)
{
    gb_token t = {GB_TOKEN_MAGIC, nblocks, proc_id, gmax, 0, 0};
    const size_t head = sizeof t + (size_t)nblocks * sizeof *bl;
    gb_hentry *sum = NULL;
    gb_wire_node *nodes = NULL;
    size_t wsize = 0;
    if (acc && mine > 0) {
        int64_t started, finished;
        pthread_mutex_lock(&acc_mu);
        acc->nfinished++;
        acc_counts_locked(fit_id, epoch, round, wave, nnodes, E, &started, &finished);
        if (finished >= mine && (started != mine || finished != mine)) {
            pthread_mutex_unlock(&acc_mu);
            return H->seterr(WB_ENOTSUP, "gbdt: %lld tasks of this wave ran in this worker process, the driver expected %d",
                             (long long)started, mine);
        }
        if (finished >= mine && driver == proc_id) {
            /* the driver runs in this process: it takes the sums in place */
            t.covered = mine;
            t.inplace = 1;
        } else if (finished >= mine) {
            sum = calloc((size_t)nnodes * (size_t)E + 1, sizeof *sum);
            nodes = malloc(((size_t)nnodes + 1) * sizeof *nodes);
            if (!sum || !nodes) {
                pthread_mutex_unlock(&acc_mu);
                free(sum);
                free(nodes);
                return H->seterr(WB_ENOMEM, "gbdt: out of memory");
            }
            acc_sum_locked(fit_id, epoch, round, wave, nnodes, E, sum);
            t.covered = mine;
        }
        pthread_mutex_unlock(&acc_mu);
    }
    if (sum) wsize = gb_wire_plan(sum, nnodes, E, nodes);
    unsigned char *o = H->out_bytes(ctx, head + wsize);
    if (o) {
        memcpy(o, &t, sizeof t);
        if (nblocks) memcpy(o + sizeof t, bl, (size_t)nblocks * sizeof *bl);
        if (sum) gb_wire_write(sum, nnodes, E, nodes, o + head, wsize);
    }
    free(sum);
    free(nodes);
    return o ? 0 : H->seterr(WB_ENOMEM, "gbdt: out of memory");
}

uint64_t gb_proc_id(void) { return proc_id; }

int gb_acc_take(uint64_t fit_id, int epoch, int round, int wave, int nnodes, int64_t E, int64_t expect, int add,
                gb_hentry *const *out)
{
    int64_t started, finished;
    pthread_mutex_lock(&acc_mu);
    acc_counts_locked(fit_id, epoch, round, wave, nnodes, E, &started, &finished);
    if (started != expect || finished != expect) {
        pthread_mutex_unlock(&acc_mu);
        return H->seterr(WB_ENOTSUP, "gbdt: %lld tasks of this wave ran in the driver's process (%lld finished), it expected %lld",
                         (long long)started, (long long)finished, (long long)expect);
    }
    for (gb_acc *c = accs; c; c = c->next) {
        if (c->fit_id != fit_id || c->epoch != epoch || c->round != round || c->wave != wave) continue;
        if (c->nnodes != nnodes || c->nentries != E) continue;
        const int gs = c->gshift;
        const int64_t hc = c->hconst;
        for (int q = 0; q < nnodes; q++) {
            int64_t *p = c->packed + (size_t)q * (size_t)E;
            gb_hentry *o = out[q];
            if (add)
                for (int64_t e = 0; e < E; e++) unpack_add(&o[e], p[e], gs, hc);
            else
                for (int64_t e = 0; e < E; e++) {
                    o[e] = (gb_hentry){0, 0, 0};
                    unpack_add(&o[e], p[e], gs, hc);
                }
            memset(p, 0, (size_t)E * sizeof *p);
            if (c->full)
                for (int64_t e = 0; e < E; e++) gb_hentry_add(&o[e], &c->full[(size_t)q * (size_t)E + e]);
        }
        add = 1;
        c->zeroed = c->zext; /* the wave's words are zero again, those past them were */
        c->round = -1; /* collected */
    }
    pthread_mutex_unlock(&acc_mu);
    if (!add) /* no accumulator (no task had rows to add): zeros */
        for (int q = 0; q < nnodes; q++) memset(out[q], 0, (size_t)E * sizeof *out[q]);
    return 0;
}

/* ---------------------------------------------------------- gbdt.collect */

/* the histograms are not all here: a short answer saying so (a successful
 * task, so that the cluster does not count a failure for what is a probe) */
static int collect_elsewhere(wb_kctx *ctx)
{
    uint32_t *o = H->out_bytes(ctx, 8);
    if (!o) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    o[0] = GB_ELSEWHERE_MAGIC;
    o[1] = 0;
    return 0;
}

static int k_collect(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    gb_collect_arg a;
    if (arglen != sizeof a) return H->seterr(WB_EINVAL, "gbdt.collect: bad argument");
    memcpy(&a, arg, sizeof a);
    if (a.nnodes < 0 || a.nentries < 0) return H->seterr(WB_EINVAL, "gbdt.collect: bad argument");
    int ntok = 0;
    for (int i = 0; i < nin; i++) {
        gb_token t;
        if (in[i].type != WB_OBJ_BYTES || in[i].size < sizeof t) return H->seterr(WB_EINVAL, "gbdt.collect: bad token");
        memcpy(&t, in[i].data, sizeof t);
        /* a binned partition among the inputs only places the task */
        if (t.magic == GB_BINS_MAGIC) continue;
        ntok++;
        if (t.magic != GB_TOKEN_MAGIC) return H->seterr(WB_EINVAL, "gbdt.collect: bad token");
        /* tokens of another process: its histograms are not here; the driver
         * then collects per process */
        if (t.proc != proc_id) return collect_elsewhere(ctx);
    }
    const int64_t E = a.nentries, total = (int64_t)a.nnodes * E;
    gb_hentry *out = H->out_bytes(ctx, (size_t)total * sizeof *out);
    if (!out) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    int64_t ntasks, nfinished;
    pthread_mutex_lock(&acc_mu);
    /* the accumulators must hold exactly the tasks of the tokens: a task of
     * another group here (or one of this group counted twice) would make the
     * sum wrong without a trace; the driver then rebuilds the state. Nothing
     * is consumed before this check. (ntasks is counted when a task takes its
     * accumulator, so a task still running is seen.) */
    acc_counts_locked(a.fit_id, a.epoch, a.round, a.wave, a.nnodes, E, &ntasks, &nfinished);
    if (ntasks != ntok && total > 0) {
        pthread_mutex_unlock(&acc_mu);
        return collect_elsewhere(ctx);
    }
    int found = acc_sum_locked(a.fit_id, a.epoch, a.round, a.wave, a.nnodes, E, out);
    pthread_mutex_unlock(&acc_mu);
    if (!found && ntok > 0 && total > 0)
        return H->seterr(WB_ESTATE, "gbdt: the histograms of a wave are not on this worker");
    return 0;
}

/* ---------------------------------------------------- restore / release */

static int k_restore(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    binview bv;
    gb_restore_arg a;
    int rc;
    (void)ctx;
    if (nin < 1 || (rc = bin_view(&in[0], &bv))) return nin < 1 ? H->seterr(WB_EINVAL, "gbdt.restore: no input") : rc;
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "gbdt.restore: bad argument");
    memcpy(&a, arg, sizeof a);
    if (a.K < 1 || a.K > GB_MAX_CLASSES || a.d != bv.d || a.ntrees < 0 || a.ntrees != a.round * a.K ||
        a.maxslots < 1)
        return H->seterr(WB_EINVAL, "gbdt.restore: bad argument");
    gb_state *s = state_acquire(a.fit_id, bv.row0);
    if (s && s->round == a.round) { /* nothing was lost here */
        s->wave = -1;
        state_put_back(s);
        return 0;
    }
    if (s) state_put_back(s);
    cursor c = {(const unsigned char *)arg + sizeof a, arglen - sizeof a, 0};
    const int32_t *nb = take(&c, (size_t)a.d * 4);
    const int32_t *tnn = take(&c, (size_t)a.ntrees * 4);
    align8(&c, arg);
    double *base = take_copy(&c, (size_t)a.K, sizeof(double));
    int64_t tot = 0;
    for (int t = 0; !c.bad && t < a.ntrees; t++) tot += tnn[t];
    gb_bnode *nodes = c.bad ? NULL : take_copy(&c, (size_t)tot, sizeof(gb_bnode));
    if (c.bad || !base || (tot && !nodes)) {
        free(base);
        free(nodes);
        return c.bad ? H->seterr(WB_EINVAL, "gbdt.restore: bad argument") : H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    s = state_new(a.fit_id, bv.row0, bv.rows, bv.d, a.K, a.maxslots, nb, base);
    free(base);
    if (!s) {
        free(nodes);
        return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    /* the trees in round order, so every score is the same sum as when it
     * was built round by round */
    const gb_bnode *t = nodes;
    for (int q = 0; q < a.ntrees; q++) {
        int k = q % a.K;
        for (int64_t i = 0; i < bv.rows; i++)
            s->F[(size_t)k * (size_t)bv.rows + i] += walk(t, bv.bins + (size_t)i * (size_t)bv.d, s->nb);
        t += tnn[q];
    }
    free(nodes);
    s->round = a.round;
    s->wave = -1;
    state_put_back(s);
    return 0;
}

static int k_release(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    binview bv;
    uint64_t fit_id;
    int rc;
    (void)ctx;
    if (nin < 1 || (rc = bin_view(&in[0], &bv))) return nin < 1 ? H->seterr(WB_EINVAL, "gbdt.release: no input") : rc;
    if (arglen != 8) return H->seterr(WB_EINVAL, "gbdt.release: bad argument");
    memcpy(&fit_id, arg, 8);
    state_free(state_unlink(fit_id, bv.row0));
    /* and the fit's accumulators in this process */
    pthread_mutex_lock(&acc_mu);
    gb_acc **pp = &accs;
    while (*pp) {
        if ((*pp)->fit_id == fit_id) {
            gb_acc *x = *pp;
            *pp = x->next;
            acc_free(x);
        } else
            pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&acc_mu);
    return 0;
}

/* ------------------------------------------------------------ gbdt.sketch */

/* argument: header then double classes[nclasses] */
typedef struct sk_arg {
    uint64_t seed;
    double val_frac, rate;
    int32_t obj, nclasses;
} sk_arg;

static int class_index(const double *classes, int n, double y)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (classes[mid] == y) return mid;
        if (classes[mid] < y)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int label_error(double y, int64_t row)
{
    return H->seterr(WB_EINVAL, "gbdt: the labels have %s at row %lld",
                     isnan(y) ? "NaN" : y > 0 ? "Inf" : "-Inf", (long long)row + 1);
}

static int k_sketch(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    sk_arg a;
    if (nin < 1 || in[0].type != WB_OBJ_PART) return H->seterr(WB_EINVAL, "gbdt.sketch: needs a partition");
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "gbdt.sketch: bad argument");
    memcpy(&a, arg, sizeof a);
    if (a.nclasses < 0 || a.nclasses > GB_MAX_CLASSES || arglen != sizeof a + (size_t)a.nclasses * 8)
        return H->seterr(WB_EINVAL, "gbdt.sketch: bad argument");
    double *classes = malloc((size_t)(a.nclasses ? a.nclasses : 1) * 8);
    if (!classes) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(classes, (const char *)arg + sizeof a, (size_t)a.nclasses * 8);
    const wb_part *p = &in[0].part;
    const int64_t B = WB_BLOCK_ROWS, d = p->cols, nb = (p->rows + B - 1) / B;
    int K = a.obj == GB_REGRESSION ? 0 : a.nclasses;
    int rc = 0;
    if (p->row0 % B) {
        free(classes);
        return H->seterr(WB_EINVAL, "gbdt.sketch: partition not aligned to blocks");
    }
    double *u = malloc(2 * B * sizeof *u), *scratch = malloc(4 * B * sizeof *scratch);
    unsigned char *keep = malloc(B);
    gb_skpt *mscratch = malloc(2 * GB_SKETCH_CAP * sizeof *mscratch);
    gb_sknode **st = calloc((size_t)nb + 2, sizeof *st);
    int sp = 0;
    if (!u || !scratch || !keep || !mscratch || !st) rc = H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t b = 0; b < nb && !rc; b++) {
        int64_t i0 = b * B, m = p->rows - i0 < B ? p->rows - i0 : B, gblk = p->row0 / B + b;
        if (a.val_frac > 0) gb_block_uniforms(a.seed, GB_S_VALID, gblk, u);
        if (a.rate < 1) gb_block_uniforms(a.seed, GB_S_SKETCH, gblk, u + B);
        gb_sknode *s = gb_sk_new(d, K);
        if (!s) {
            rc = H->seterr(WB_ENOMEM, "out of memory");
            break;
        }
        s->level = 0;
        s->index = (uint64_t)gblk;
        for (int64_t i = 0; i < m && !rc; i++) {
            double y = p->y[i0 + i];
            int val = a.val_frac > 0 && u[i] < a.val_frac;
            keep[i] = !val && (a.rate >= 1 || u[B + i] < a.rate);
            if (a.obj == GB_REGRESSION) {
                if (!isfinite(y)) rc = label_error(y, p->row0 + i0 + i);
            } else if (class_index(classes, a.nclasses, y) < 0)
                rc = H->seterr(WB_EINVAL, "gbdt: label %g at row %lld is not one of the classes", y,
                               (long long)(p->row0 + i0 + i + 1));
            if (rc || val) continue;
            s->ntrain++;
            if (a.obj == GB_REGRESSION) {
                s->ysum += y;
                if (y < s->ymin) s->ymin = y;
                if (y > s->ymax) s->ymax = y;
            } else
                s->counts[class_index(classes, a.nclasses, y)]++;
        }
        if (!rc) rc = gb_sk_block(s, p->x + (size_t)i0 * (size_t)d, m, d, keep, scratch);
        if (rc) {
            gb_sk_free(s);
            break;
        }
        st[sp++] = s;
        /* merge completed siblings, as the global tree does */
        while (sp >= 2 && st[sp - 1]->level == st[sp - 2]->level && (st[sp - 2]->index & 1) == 0 &&
               st[sp - 1]->index == (st[sp - 2]->index | 1)) {
            gb_sk_merge(st[sp - 2], st[sp - 1], mscratch);
            gb_sk_free(st[sp - 1]);
            sp--;
            st[sp - 1]->level++;
            st[sp - 1]->index >>= 1;
        }
        if (H->cancelled(ctx)) rc = H->seterr(WB_ECANCELED, "interrupted");
    }
    if (!rc) {
        size_t size = 8;
        for (int i = 0; i < sp; i++) size += 8 + gb_sk_encoded_size(st[i]);
        unsigned char *o = H->out_bytes(ctx, size);
        if (!o)
            rc = H->seterr(WB_ENOMEM, "out of memory");
        else {
            uint64_t cnt = (uint64_t)sp;
            memcpy(o, &cnt, 8);
            o += 8;
            for (int i = 0; i < sp; i++) {
                uint64_t z = gb_sk_encoded_size(st[i]);
                memcpy(o, &z, 8);
                gb_sk_encode(st[i], o + 8);
                o += 8 + z;
            }
        }
    }
    for (int i = 0; i < sp; i++) gb_sk_free(st[i]);
    free(st);
    free(u);
    free(scratch);
    free(keep);
    free(mscratch);
    free(classes);
    return rc;
}

/* --------------------------------------------------------------- gbdt.bin */

/* argument: header then double classes[nclasses] */
typedef struct bin_arg {
    uint64_t seed;
    double val_frac;
    int32_t obj, nclasses;
} bin_arg;

static int k_bin(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    bin_arg a;
    if (nin < 2 || in[0].type != WB_OBJ_PART || in[1].type != WB_OBJ_BYTES)
        return H->seterr(WB_EINVAL, "gbdt.bin: needs a partition and the edges");
    if (arglen < sizeof a) return H->seterr(WB_EINVAL, "gbdt.bin: bad argument");
    memcpy(&a, arg, sizeof a);
    if (a.nclasses < 0 || a.nclasses > GB_MAX_CLASSES || arglen != sizeof a + (size_t)a.nclasses * 8)
        return H->seterr(WB_EINVAL, "gbdt.bin: bad argument");
    const wb_part *p = &in[0].part;
    const int64_t d = p->cols, rows = p->rows, B = WB_BLOCK_ROWS;
    gb_edgehdr eh;
    if (in[1].size < sizeof eh) return H->seterr(WB_EINVAL, "gbdt.bin: bad edges");
    memcpy(&eh, in[1].data, sizeof eh);
    if (eh.magic != GB_EDGES_MAGIC || eh.d != d ||
        in[1].size != sizeof eh + gb_pad8((size_t)d * 4) + (size_t)d * 256 * 8)
        return H->seterr(WB_EINVAL, "gbdt.bin: bad edges");
    if (rows > INT32_MAX) return H->seterr(WB_ELIMIT, "gbdt: a partition of %lld rows is too big", (long long)rows);
    const int32_t *nb = (const int32_t *)((const char *)in[1].data + sizeof eh);
    const double *E = (const double *)((const char *)in[1].data + sizeof eh + gb_pad8((size_t)d * 4));
    const double *classes = (const double *)((const char *)arg + sizeof a);
    unsigned char *o = H->out_bytes(ctx, bins_size(rows, d));
    if (!o) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    gb_binhdr h = {GB_BINS_MAGIC, 0, rows, d, p->row0, 0};
    uint8_t *bins = o + sizeof h, *cols = bins + gb_pad8((size_t)(rows * d)),
            *isval = cols + gb_pad8((size_t)(rows * d));
    double *y = (double *)(isval + gb_pad8((size_t)rows));
    for (int64_t i = 0; i < rows; i++) {
        const double *x = p->x + (size_t)i * (size_t)d;
        uint8_t *br = bins + (size_t)i * (size_t)d;
        for (int64_t j = 0; j < d; j++) {
            double v = x[j];
            const double *e = E + j * 256;
            int pos = 0;
            pos += (e[pos + 127] < v) << 7;
            pos += (e[pos + 63] < v) << 6;
            pos += (e[pos + 31] < v) << 5;
            pos += (e[pos + 15] < v) << 4;
            pos += (e[pos + 7] < v) << 3;
            pos += (e[pos + 3] < v) << 2;
            pos += (e[pos + 1] < v) << 1;
            pos += e[pos] < v;
            br[j] = (uint8_t)(isnan(v) ? nb[j] : pos);
        }
    }
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = 0; i < rows; i++) cols[(size_t)j * (size_t)rows + i] = bins[(size_t)i * (size_t)d + j];
    double *u = a.val_frac > 0 ? malloc(B * sizeof *u) : NULL;
    if (a.val_frac > 0 && !u) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    for (int64_t i0 = 0; i0 < rows; i0 += B) {
        int64_t m = rows - i0 < B ? rows - i0 : B;
        if (u) gb_block_uniforms(a.seed, GB_S_VALID, p->row0 / B + i0 / B, u);
        for (int64_t i = i0; i < i0 + m; i++) {
            isval[i] = u && u[i - i0] < a.val_frac;
            h.nval += isval[i];
            double v = p->y[i];
            y[i] = a.obj == GB_REGRESSION ? v : (double)class_index(classes, a.nclasses, v);
        }
    }
    free(u);
    memcpy(o, &h, sizeof h);
    return 0;
}

static int k_inject(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int32_t r;
    (void)ctx;
    (void)in;
    (void)nin;
    if (arglen != 4 && arglen != 8)
        return H->seterr(WB_EINVAL, "gbdt.inject: argument is a 4-byte round (and a 4-byte kind: 0 lose the state, 1 count a wave task twice, 2 count a begin task twice)");
    memcpy(&r, arg, 4);
    int32_t kind = 0;
    if (arglen == 8) memcpy(&kind, (const char *)arg + 4, 4);
    if (kind == 1)
        inject_count_round = r;
    else if (kind == 2)
        inject_begin_round = r;
    else
        inject_round = r;
    return 0;
}

static const wb_kernel_def kernels[] = {
    {.name = "gbdt.sketch", .fn = k_sketch},
    {.name = "gbdt.bin", .fn = k_bin},
    {.name = "gbdt.begin", .fn = k_begin},
    {.name = "gbdt.wave", .fn = k_wave},
    {.name = "gbdt.collect", .fn = k_collect},
    {.name = "gbdt.restore", .fn = k_restore},
    {.name = "gbdt.release", .fn = k_release},
    {.name = "gbdt.inject", .fn = k_inject},
};

int gb_register_kernels(void)
{
    double t = H->now();
    uint64_t tb;
    memcpy(&tb, &t, 8);
    proc_id = wb_hash64(wb_hash64(tb, (uint64_t)getpid()), (uint64_t)(uintptr_t)&proc_id) | 1;
    return wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]);
}
