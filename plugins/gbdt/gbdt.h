/* gbdt.h — shared between the files of the gbdt plugin (not installed).
 *
 * The plugin has two sides:
 *  - the driver (fit.c, predict.c): the estimator functions. fit() computes
 *    bin edges from a mergeable quantile sketch (sketch.c), bins the data
 *    once, then grows trees from histograms that the partitions build;
 *  - the kernels (work.c): they run where the partitions live and keep the
 *    per-partition boosting state (scores, gradients, row lists per leaf) in
 *    a worker-local cache between rounds. Only histograms and split decisions
 *    cross the executor.
 *
 * Exactness: gradients and hessians are fixed-point integers, so histogram
 * sums are exact in any order and the model is bit-identical whatever the
 * number of threads, partitions or workers.
 */
#ifndef WB_GBDT_H
#define WB_GBDT_H

#include <stdint.h>
#include <string.h>

#include "wb/plugin.h"

extern const wb_host *H; /* the host's function table, kept at init (host.c) */

enum { GB_BINARY = 1, GB_MULTI = 2, GB_REGRESSION = 3 };

/* random streams (with the `seed` parameter) */
enum { GB_S_VALID = 0x67620001, GB_S_SKETCH = 0x67620002, GB_S_SUB = 0x67620003, GB_S_COLS = 0x67620004 };

/* Fixed point. A row's quantized gradient qg and hessian qh are packed into
 * one int64 word, w = qg 2^GS + qh 2^GB_PK_CBITS + 1: its low GB_PK_CBITS
 * bits count the rows, the next ones sum the hessians, the top ones (signed)
 * the gradients. A histogram bin within a worker is such a word, the sum of
 * its rows' words: one 64-bit add a row and feature. The fields cannot
 * overflow into each other while a packed copy holds at most
 * 2^GB_COPY_ROWS_LOG2 - 1 rows (then it is flushed into full gb_hentry sums):
 *  - classification (|g| <= 1, 0 <= h <= 1/4): |qg| <= 2^GB_QG_BITS_C,
 *    qh <= 2^GB_QH_BITS_C; counts 12 bits, hessians 24, gradients 28 signed
 *    (4095 x 2^15 < 2^27);
 *  - regression (h = 1 for every row): |qg| <= 2^GB_QG_BITS, no hessian
 *    field (qh is the constant 2^GB_QH_BITS: a bin's hessian sum is its count
 *    times that), gradients from bit GB_PK_CBITS. */
#define GB_QG_BITS 30   /* regression gradients */
#define GB_QH_BITS 22   /* regression hessians (all 1) */
#define GB_QG_BITS_C 15 /* classification gradients */
#define GB_QH_BITS_C 12 /* classification hessians */
#define GB_COPY_ROWS_LOG2 12
#define GB_PK_CBITS 12
#define GB_PK_HBITS 24
#define GB_PK_GSHIFT_C (GB_PK_CBITS + GB_PK_HBITS) /* 36 */
#define GB_PK_GSHIFT_R GB_PK_CBITS
#define GB_CMASK ((int64_t)((1 << GB_PK_CBITS) - 1))
#define GB_HMASK ((int64_t)((1 << GB_PK_HBITS) - 1))
_Static_assert(GB_COPY_ROWS_LOG2 == GB_PK_CBITS, "a copy's count fills the count field");
_Static_assert(GB_QH_BITS_C + GB_COPY_ROWS_LOG2 <= GB_PK_HBITS, "hessian sums fit their field");
_Static_assert(GB_PK_GSHIFT_C + GB_QG_BITS_C + GB_COPY_ROWS_LOG2 + 1 <= 64, "gradient sums fit their field");
_Static_assert(GB_PK_GSHIFT_R + GB_QG_BITS + GB_COPY_ROWS_LOG2 + 1 <= 64, "regression gradient sums fit");

/* A histogram entry as the partitions' sums cross the executor and as the
 * driver keeps them: the sums of the quantized gradients (G) and hessians
 * (Hs) and the count (N) of the rows in one bin of one feature (entry 0 of a
 * node: all its rows). A node's histogram is nentries entries in a row; a
 * feature j of the round's selection has nb[j] + 1 of them from entry off[j]
 * (its bins, then the missing values). Within a worker, before they are
 * summed, the entries are packed in one word (above). */
typedef struct gb_hentry {
    int64_t G, Hs, N;
} gb_hentry;
_Static_assert(sizeof(gb_hentry) == 3 * sizeof(int64_t), "a histogram entry is three int64 words, unpadded");

static inline void gb_hentry_add(gb_hentry *a, const gb_hentry *b)
{
    a->G += b->G;
    a->Hs += b->Hs;
    a->N += b->N;
}

#define GB_MAX_CLASSES 1024
#define GB_SKETCH_CAP 1024 /* points per feature summary */

/* 2^(j/64), correctly rounded */
static const double gb_exp_tab[64] = {
    0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0,
    0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0,
    0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0,
    0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0,
    0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0,
    0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0,
    0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0,
    0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0,
    0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0,
    0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0,
    0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0,
    0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0,
    0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0,
    0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0,
};

/* exp(x) in plain IEEE arithmetic (no libm: glibc picks its exp by CPU, and
 * gradients must be the same bits on every worker; the plugin is compiled
 * with -ffp-contract=off so no build fuses these operations):
 * x = (64 m + j) ln2/64 + r with |r| <= ln2/128, exp(x) = 2^m 2^(j/64) e^r,
 * 2^(j/64) from a table of correctly rounded constants, e^r by its Taylor
 * series to r^5 (relative error about 3e-16 before the last products).
 * Below -708 it returns 0, above 709 +inf. */
static inline double gb_exp(double x)
{
    if (!(x > -708.0)) return x != x ? x : 0.0;
    if (x > 709.0) return INFINITY;
    /* ln2/64 split so that k * hi is exact for |k| < 2^20 */
    const double ln2hi = 6.93147180369123816490e-01 / 64, ln2lo = 1.90821492927058770002e-10 / 64,
                 inv = 9.23324826168936601e+01; /* 64 / ln2 */
    /* round to nearest by the 1.5 * 2^52 shifter: no branch, and the same
     * operations as the two-lane version in work.c */
    const double shifter = 6755399441055744.0;
    double kd = (x * inv + shifter) - shifter;
    int64_t k = (int64_t)kd;
    double r = (x - kd * ln2hi) - kd * ln2lo;
    /* k - j is a multiple of 64: the shift is the exact quotient (written
     * as a shift: GCC compiles "/ 64" in code it deems cold to an idiv) */
    int64_t j = k & 63, m = (k - j) >> 6;
    double r2 = r * r;
    double p = 1.0 + r + r2 * ((1.0 / 2 + r * (1.0 / 6)) + r2 * (1.0 / 24 + r * (1.0 / 120)));
    uint64_t bits = (uint64_t)(m + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, 8);
    return gb_exp_tab[j] * p * scale;
}

/* log(x) in plain IEEE arithmetic (the same bits on every worker, as gb_exp):
 * x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1),
 * |s| <= 0.172, by its series to s^21 (truncation below 1e-18). For x > 0
 * (subnormals included); 0 gives -inf, negatives and NaN give NaN. */
static inline double gb_log(double x)
{
    if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
    if (x == INFINITY) return x;
    int64_t e = 0;
    if (x < 0x1p-1022) {
        x *= 0x1p54;
        e = -54;
    }
    uint64_t bits;
    memcpy(&bits, &x, 8);
    e += (int64_t)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    double m;
    memcpy(&m, &bits, 8);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    const double s = (m - 1) / (m + 1), z = s * s;
    const double q = z * (1.0 / 3 + z * (1.0 / 5 + z * (1.0 / 7 + z * (1.0 / 9 + z * (1.0 / 11 + z * (1.0 / 13 +
                     z * (1.0 / 15 + z * (1.0 / 17 + z * (1.0 / 19 + z * (1.0 / 21))))))))));
    const double ln2hi = 6.93147180369123816490e-01, ln2lo = 1.90821492927058770002e-10;
    const double ed = (double)e;
    return ed * ln2hi + ((2 * s + 2 * s * q) + ed * ln2lo);
}

/* A sum of training losses over rows taken in row order, without a log per
 * row: a classification row's loss is -log q (q the predicted probability of
 * its class), so the sum is D - log of the product of the q, the product kept
 * as P * 2^E. Rows whose q is tiny or not finite (scores beyond exp's range)
 * add their loss to D directly, as do regression rows. work.c keeps two per
 * 4096-row block. */
typedef struct gb_lacc {
    double P, D;
    int64_t E;
} gb_lacc;

#define GB_Q_MIN 0x1p-400 /* smaller q go to D; P stays >= 2^-1000 (normal) */
#define GB_P_MIN 0x1p-600 /* a smaller P is scaled to [1, 2) */

static inline void gb_lacc_init(gb_lacc *a)
{
    a->P = 1;
    a->D = 0;
    a->E = 0;
}

/* one row's q (0 < q <= 1 up to rounding, >= GB_Q_MIN) into the product */
static inline void gb_lacc_mul(gb_lacc *a, double q)
{
    a->P *= q;
    if (a->P < GB_P_MIN) { /* P to [1, 2), its exponent into E */
        uint64_t bits;
        memcpy(&bits, &a->P, 8);
        a->E += (int64_t)((bits >> 52) & 0x7ff) - 1023;
        bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
        memcpy(&a->P, &bits, 8);
    }
}

/* the loss of a binary row with score F and label y (0/1) where q is not
 * usable: softplus(F) - y F, softplus(F) = max(F, 0) + log(1 + exp(-|F|)) */
static inline double gb_binary_loss(double F, double y)
{
    double a = F > 0 ? F : -F;
    return (F > 0 ? F : 0) + gb_log(1 + gb_exp(-a)) - y * F;
}

/* the validation split and sketch sampling are per row, from per-block streams:
 * fills u[0..4096) for block b */
static inline void gb_block_uniforms(uint64_t seed, uint64_t stream, int64_t block, double *u)
{
    wb_rng r;
    wb_rng_init(&r, seed, stream, (uint64_t)block);
    wb_rng_uniforms(&r, u, WB_BLOCK_ROWS);
}

/* ---------------------------------------------------------------- objects */

#define GB_BINS_MAGIC 0x53424247u /* "GBBS" */
#define GB_EDGES_MAGIC 0x45424247u
#define GB_TOKEN_MAGIC 0x4f424247u
#define GB_SK_MAGIC 0x4b424247u
#define GB_PACK_MAGIC 0x50424247u
/* gbdt.collect's answer when this process does not hold the whole wave's
 * histograms (the partitions are on several workers): not a failure, the
 * driver then collects per worker process */
#define GB_ELSEWHERE_MAGIC 0x57424247u

/* binned partition: header, uint8 bins rows*d row-major (padded to 8), the
 * same column-major, uint8 isval rows (padded to 8), double y rows (class
 * index or label) */
typedef struct gb_binhdr {
    uint32_t magic, pad;
    int64_t rows, d, row0, nval;
} gb_binhdr;

static inline size_t gb_pad8(size_t n) { return (n + 7) & ~(size_t)7; }

/* bin edges: header, int32 nb[d] (padded to 8), double edges[d][256] (nb-1
 * edges, then +inf); a value x gets bin #{edges < x}, NaN gets nb */
typedef struct gb_edgehdr {
    uint32_t magic, pad;
    int64_t d;
} gb_edgehdr;

/* a tree node as kernels walk it on bins; the right child is left + 1 */
typedef struct gb_bnode {
    int32_t feature; /* -1: leaf */
    int32_t bin;     /* go left when bin <= this (missing: see ml); -1: a category split */
    int32_t ml;      /* missing values go left */
    int32_t left;    /* the left child; on a leaf, the slot of its rows in the
                      * partitions' row lists (gbdt.begin applies its value there) */
    double value;    /* leaf value (learning rate applied) */
    uint64_t cset[4]; /* a category split (bin -1): the bins that go left, the
                       * missing-value bin nb included when ml */
} gb_bnode;

/* does bin b go left at a category split? */
static inline int gb_in_set(const uint64_t *cset, int b) { return (int)(cset[b >> 6] >> (b & 63)) & 1; }

/* argument of gbdt.begin (then int32 nb[d], sel[nsel], off[nsel], prev_nn[K],
 * padding to 8, double base[K], gb_bnode prev[sum prev_nn], then, with
 * nprocs > 0, nprocs gb_wave_proc and uint64 driver). A task goes over one
 * or more binned partitions (of one worker process). With nprocs > 0 the
 * driver knows where each partition's task runs (the previous round's
 * gbdt.begin ran there): as in gbdt.wave, the task that finishes its
 * process's share returns the process's root histograms after its token (no
 * gbdt.collect), or leaves them for the driver to take in its own process */
typedef struct gb_begin_arg {
    uint64_t fit_id, seed;
    int32_t round, K, obj, mode; /* mode bit 0: only apply + losses (no gradients); bit 1: validation
                                  * loss; bit 2: training loss */
    int32_t d, nsel, maxslots, nprev;
    int32_t epoch, nprocs;
    double subsample, sg, sh;
    int64_t nentries;
} gb_begin_arg;

/* argument of gbdt.wave (then nsplit gb_split_msg, nbuild x {k, node},
 * nprocs gb_wave_proc). With nprocs > 0 the driver knows where each
 * partition's task runs (this round's gbdt.begin ran there): in each worker
 * process the task that finishes the process's `count` tasks returns the
 * sum of the process's histograms after its token (no gbdt.collect) -- or,
 * in the driver's own process (`driver`, gb_proc_id: the local executor),
 * leaves them where they are for the driver to take (gb_acc_take) */
typedef struct gb_wave_arg {
    uint64_t fit_id;
    int32_t round, wave, nsplit, nbuild;
    int32_t epoch, nprocs;
    uint64_t driver;
} gb_wave_arg;

typedef struct gb_wave_proc {
    uint64_t proc;
    int32_t count, pad;
} gb_wave_proc;

/* a split: the rows of slot `node` of class k's row lists go to slots left
 * (x's bin <= bin, or missing with ml) and left + 1. Slots are the driver's
 * handles for row lists, not node numbers of the tree: a split made ahead of
 * best-first growth (speculatively) gets slots at once, its node numbers only
 * when the growth commits it. */
typedef struct gb_split_msg {
    int32_t k, node, feature, bin, ml, left;
    /* direct: neither child will split again; no row lists for them, the
     * scores get their leaf values (vl, vr) right away */
    int32_t direct, cat; /* cat: a category split, the bins of cset go left */
    double vl, vr;
    uint64_t cset[4];
} gb_split_msg;

/* argument of gbdt.restore (then int32 nb[d], tree_nn[ntrees], padding,
 * double base[K], gb_bnode nodes[...]) and of gbdt.release */
typedef struct gb_restore_arg {
    uint64_t fit_id;
    int32_t round, K, d, ntrees, maxslots, pad;
} gb_restore_arg;

/* Histograms stay in the worker: every thread adds the rows of the tasks it
 * runs into its own accumulator (per fit, epoch, round and wave); a task's
 * output is a token naming the worker process, with the validation and
 * training losses of its blocks (begin). gbdt.collect, run once in each process that ran tasks
 * (its inputs are that process's tokens), sums the accumulators into
 * nnodes x nentries gb_hentry. */
typedef struct gb_token {
    uint32_t magic;
    int32_t nblocks;
    uint64_t proc; /* the worker process (random per process) */
    double gmax;
    int32_t covered; /* gbdt.wave: the tasks whose histograms follow (0: none) */
    int32_t inplace; /* gbdt.wave: ... are not sent: they wait in the driver's process */
} gb_token; /* then nblocks x gb_blockloss; then, when covered > 0 and not inplace,
             * the nnodes x nentries sums in their compact form (wire.h) */

typedef struct gb_blockloss {
    int64_t block;
    double loss, count; /* validation rows: loss sum, count */
    double tloss;       /* training rows: loss sum */
} gb_blockloss;

typedef struct gb_collect_arg {
    uint64_t fit_id;
    int32_t epoch, round, wave, nnodes;
    int64_t nentries;
} gb_collect_arg;

/* the model packed for prediction: header, int64 tree_start[ntrees+1],
 * int32 depth[ntrees] (padded to 8), double base[K], double classes[nclasses],
 * gb_pnode nodes[nnodes], double value[nnodes] (leaf values), then for
 * category features: uint64 sets[nsets][4] (the codes that go left at each
 * category split), int32 mapoff[d] (-1: a number feature), int32
 * maplen[d], int32 maps[nmap] (the data's codes -> the training codes, -1:
 * unseen, taken as missing), int32 labmap[nlab] (the data's label codes ->
 * the model's, for score), padded to 8 */
typedef struct gb_packhdr {
    uint32_t magic, pad;
    int64_t K, d, obj, ntrees, nnodes, nclasses;
    int64_t nsets, nmap, nlab;
} gb_packhdr;

/* a leaf points at itself (feature 0, thr +inf, missing left), so every row
 * takes exactly `depth` steps through a tree, without branches */
typedef struct gb_pnode {
    double thr;       /* x <= thr goes left; a category split: the index of its set */
    int32_t feature;
    uint32_t left;    /* right = left + 1; bit 31: missing values go left; bit 30: a category split */
} gb_pnode;
#define GB_PN_ML 0x80000000u
#define GB_PN_CAT 0x40000000u
#define GB_PN_INDEX 0x3fffffffu

/* ------------------------------------------------------------ sketch.c */

typedef struct gb_skpt {
    double v;
    int64_t w;
} gb_skpt;

/* one feature's summary: sorted distinct values with weights */
typedef struct gb_fsum {
    int32_t n, compressed;
    int64_t nan;
    gb_skpt *p; /* capacity GB_SKETCH_CAP */
} gb_fsum;

/* a node of the fixed merge tree over global blocks: label statistics and
 * one summary per feature */
typedef struct gb_sknode {
    uint32_t level;
    uint64_t index;
    int64_t ntrain;
    double ysum, ymin, ymax;
    int64_t *counts; /* K class counts (K may be 0) */
    int K;
    int64_t d;
    gb_fsum *f;
    gb_skpt *store;
} gb_sknode;

gb_sknode *gb_sk_new(int64_t d, int K);
void gb_sk_free(gb_sknode *s);
/* a block's summary from the rows whose keep[] is set */
int gb_sk_block(gb_sknode *s, const double *x, int64_t rows, int64_t d, const unsigned char *keep,
                double *scratch);
/* a <- merge(a, b) */
int gb_sk_merge(gb_sknode *a, const gb_sknode *b, gb_skpt *scratch);
size_t gb_sk_encoded_size(const gb_sknode *s);
void gb_sk_encode(const gb_sknode *s, unsigned char *dst);
int gb_sk_decode(const unsigned char *src, size_t size, int64_t d, int K, gb_sknode **out,
                 size_t *used);
/* bin edges of one feature from its summary: fills edges[0..nb-1) and returns nb >= 1 */
int gb_sk_edges(const gb_fsum *f, int max_bins, double *edges);

/* ------------------------------------------------------------ work.c */
int gb_register_kernels(void);
/* this process's id (random, nonzero), as the tokens name it */
uint64_t gb_proc_id(void);
/* the driver takes the histograms of a wave whose tasks ran in its own
 * process: node q's sums into out[q] (E entries, written, or added with
 * `add`), the accumulators left zeroed; the tasks counted there must be
 * exactly `expect`, all finished (else WB_ENOTSUP) */
int gb_acc_take(uint64_t fit_id, int epoch, int round, int wave, int nnodes, int64_t E, int64_t expect, int add,
                gb_hentry *const *out);
/* the loss of one row given raw scores F[K] and label y (class index or value) */
double gb_row_loss(int obj, int K, const double *F, double y);

/* ------------------------------------------------------------ fit.c / predict.c */
int gb_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m);
int gb_check(const wb_params *p, const wb_dataset *d);
int gb_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out);
int gb_predict_proba(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out);
int gb_score(wb_exec *ex, const wb_model *m, const wb_dataset *d, double *out);
int gb_register_predict_kernels(void);

#endif
