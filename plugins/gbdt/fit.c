/* fit.c — the gbdt driver: bin edges from a merged sketch, binning, then
 * rounds of tree growth from histograms the partitions build.
 *
 * A round: gbdt.begin on every partition adds the previous round's trees to
 * the scores and returns the root histograms, with the losses of the scores
 * it computed the gradients from (the training loss after the previous
 * round, shown on the progress line and kept in m.train_loss); then waves of
 * gbdt.wave: the driver picks the leaves to split, the partitions split their
 * row lists and build the histogram of the smaller child of each split (the
 * sibling is the parent minus it); the last task of each worker process
 * returns the process's sum (so does the last gbdt.begin task of each
 * process from the second round on; after the first: gbdt.collect). Trees grow best-first: one split
 * per tree and wave, or every splittable leaf at once when max_depth and
 * max_leaves guarantee that best-first growth splits them all anyway (the
 * tree is then the same, in fewer waves). */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gbdt.h"
#include "wire.h"
#include "wb/plugin_cols.h"

typedef struct fparams {
    int obj;
    int64_t n_trees, max_leaves, max_depth, min_samples_leaf, esr;
    double lr, mcw, lambda, msg, subsample, colsample, val_frac;
    int max_bins;
    uint64_t seed;
} fparams;

typedef struct dnode {
    int32_t feature, bin, ml, left; /* feature -1: leaf */
    int32_t depth, cat;             /* cat: a category split (bin -1), cset goes left */
    int32_t slot; /* the slot of its rows in the partitions' row lists */
    double thr, value, gain;
    int64_t G, Hs, N;
    uint64_t cset[4];
} dnode;

/* A leaf with a histogram: a candidate for a split (its best one: feature,
 * bin, ml, the left child's sums GL, HL, NL and the gain). A candidate can
 * also be split ahead of best-first growth (`ahead`): its rows already went
 * to slots slot, slot + 1 of the row lists and the histograms of the
 * children that may split are ready (hc[0] left, hc[1] right, else NULL);
 * growth commits it (gives its children node numbers) without a wave when
 * it is the best. While such a split is in flight, hist is NULL. */
typedef struct cand {
    int node;
    gb_hentry *hist; /* nentries entries */
    int has;
    double gain;
    int32_t feature, bin, ml, cat;
    int64_t GL, HL, NL;
    uint64_t cset[4]; /* cat: the bins that go left */
    int ahead;
    int32_t slot;
    gb_hentry *hc[2];
} cand;

typedef struct dtree {
    dnode *nodes;
    int nn;
    cand *c;
    int nc;
    int nleaves;
    int32_t next_slot; /* the next free slot of the row lists */
} dtree;

/* best-first growth (one leaf a wave) also splits this many of the next best
 * leaves of a tree ahead, in the same wave (the waves' round trips are most
 * of the cost of small leaves, and a cluster's); WB_GBDT_AHEAD=n (0..GB_AHEAD_MAX)
 * overrides it, for tests: the model does not depend on it */
#define GB_AHEAD 2
#define GB_AHEAD_MAX 8

typedef struct fit {
    wb_exec *ex;
    fparams p;
    int64_t n, d;
    int K, nparts, par;
    int maxnodes; /* nodes of a tree */
    int maxslots; /* slots of the row lists of a tree (splits ahead use extra ones) */
    cand *late;   /* scratch of split_tree: 2 x maxnodes */
    double *classes;
    int nclasses;
    /* bins */
    int32_t *nb;
    double *edges; /* d x 256 */
    unsigned char *cat; /* category features: bin = code, splits on sets (NULL: none) */
    int *usable;
    wb_oid *bins;
    uint64_t fit_id;
    double base[GB_MAX_CLASSES];
    double sg, sh, gmax_bound;
    /* this round */
    int nsel;
    int32_t *sel, *off;
    int64_t nentries;
    dtree *trees;
    /* the model so far: nodes of all finished trees, tree sizes */
    dnode *all;
    int64_t nall, capall;
    int32_t *tree_nn;
    int64_t ntrees;
    double *imp_gain, *imp_split;
    /* validation; the training loss (tloss[i]: after i rounds) */
    int64_t nval, ntrain;
    double *vloss, *tloss;
    int nvloss, ntloss;
    int restores, epoch, multiproc;
    /* the worker process of each partition's tasks this round (from the
     * tokens of gbdt.begin): a wave's collects go out with its tasks */
    uint64_t *pmap;
    int pmap_ok, pmap_off;
    /* plan_ok: the plan below (from an earlier round's gbdt.begin) still
     * holds: the next round's gbdt.begin goes out as its tasks, and the
     * last task of each process returns the root histograms (no
     * gbdt.collect); cleared when the state is rebuilt */
    int plan_ok;
    /* the round's plan for its waves (plan_waves, once pmap is known):
     * ntasks tasks over the partitions of one process each, task t reads
     * tin[tstart[t] .. tstart[t + 1]); nwprocs processes with their task
     * counts (sent with a wave whose tasks return the sums) */
    wb_oid *tin;
    int *tstart;
    uint64_t *tproc; /* the process of each task */
    int ntasks, nwprocs;
    gb_wave_proc *wprocs;
    /* histogram buffers (hcap entries: the most a round can have) kept for
     * reuse: a wave's buffers come from here and go back when their
     * candidates are done (no page faults of memory the allocator gave back) */
    gb_hentry **hpool;
    int nhpool, caphpool;
    int64_t hcap;
    int trace; /* WB_GBDT_TRACE */
    int ahead; /* GB_AHEAD, or WB_GBDT_AHEAD */
    int64_t st_hist, st_part, st_waves;
    /* WB_GBDT_TRACE: seconds in gbdt.begin and in the waves (submit to
     * summed histograms); wave sums returned by the tasks, sums collected
     * after the tokens */
    double t_begin, t_waves;
    int64_t st_direct, st_after, st_bytes, st_fused_begin;
    double *wdur; /* the waves' times (trace) */
    int64_t nwdur, capwdur;
    double t0, t_sketch, t_bin, t_rounds0; /* (trace) the fit's start, sketch done, bins done, rounds begun */
} fit;

/* ---------------------------------------------------------- small helpers */

static int oom(void) { return H->seterr(WB_ENOMEM, "gbdt: out of memory"); }

/* a histogram buffer (f->hcap entries): a kept one, or a new one */
static gb_hentry *hist_new(fit *f)
{
    if (f->nhpool > 0) return f->hpool[--f->nhpool];
    return malloc((size_t)f->hcap * sizeof(gb_hentry));
}

/* a histogram buffer done with: kept for hist_new */
static void hist_free(fit *f, gb_hentry *h)
{
    if (!h) return;
    if (f->nhpool == f->caphpool) {
        int c = f->caphpool ? 2 * f->caphpool : 64;
        gb_hentry **np = realloc(f->hpool, (size_t)c * sizeof *np);
        if (!np) {
            free(h);
            return;
        }
        f->hpool = np;
        f->caphpool = c;
    }
    f->hpool[f->nhpool++] = h;
}

static uint64_t new_fit_id(void)
{
    static atomic_uint_fast64_t counter;
    uint64_t c = atomic_fetch_add(&counter, 1);
    double t = H->now();
    uint64_t tb;
    memcpy(&tb, &t, 8);
    return wb_hash64(wb_hash64(tb, (uint64_t)getpid()), c ^ (uint64_t)(uintptr_t)&counter);
}

/* a growing byte buffer for kernel arguments */
typedef struct buf {
    unsigned char *p;
    size_t len, cap;
    int bad;
} buf;

static void bput(buf *b, const void *data, size_t n)
{
    if (b->bad) return;
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->len + n) c *= 2;
        unsigned char *q = realloc(b->p, c);
        if (!q) {
            b->bad = 1;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void bpad8(buf *b)
{
    static const unsigned char z[8] = {0};
    bput(b, z, gb_pad8(b->len) - b->len);
}

/* deterministic sum over global blocks: a fixed pairwise tree */
static double tree_sum(const double *v, int64_t n)
{
    if (n <= 0) return 0;
    if (n == 1) return v[0];
    int64_t h = 1;
    while (h * 2 < n) h *= 2;
    return tree_sum(v, h) + tree_sum(v + h, n - h);
}

/* ------------------------------------------------------------ the sketch */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_node(const void *a, const void *b)
{
    const gb_sknode *x = *(gb_sknode *const *)a, *y = *(gb_sknode *const *)b;
    if (x->level != y->level) return x->level < y->level ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* merge nodes of the fixed tree over nblocks blocks into the root (the same
 * grouping map_sum uses: siblings merge, a node whose sibling lies past the
 * last block moves up alone) */
static int merge_tree(gb_sknode **v, int n, int64_t nblocks, gb_sknode **root)
{
    gb_skpt *scratch = malloc(2 * GB_SKETCH_CAP * sizeof *scratch);
    if (!scratch) return oom();
    uint32_t top = 0;
    while (((int64_t)1 << top) < nblocks) top++;
    for (uint32_t level = 0; level < top; level++) {
        qsort(v, (size_t)n, sizeof *v, cmp_node);
        int w = 0;
        int64_t span = (int64_t)1 << level;
        for (int i = 0; i < n;) {
            gb_sknode *a = v[i];
            if (a->level != level) {
                v[w++] = v[i++];
                continue;
            }
            uint64_t sib = a->index ^ 1;
            if (a->index & 1) goto missing;
            if (i + 1 < n && v[i + 1]->level == level && v[i + 1]->index == sib) {
                gb_sk_merge(a, v[i + 1], scratch);
                gb_sk_free(v[i + 1]);
                i += 2;
            } else if ((int64_t)sib * span < nblocks) {
                goto missing;
            } else
                i += 1;
            a->level = level + 1;
            a->index >>= 1;
            v[w++] = a;
        }
        n = w;
    }
    free(scratch);
    if (n != 1) return H->seterr(WB_EINTERNAL, "gbdt: sketch merge left %d nodes", n);
    *root = v[0];
    return 0;
missing:
    free(scratch);
    return H->seterr(WB_EINTERNAL, "gbdt: a block is missing from the sketch");
}

/* sketch every partition, merge, compute the edges and the label statistics */
static int sketch(fit *f, const wb_dataset *d, gb_sknode **root)
{
    int np = f->nparts, rc = 0;
    buf a = {0};
    struct {
        uint64_t seed;
        double val_frac, rate;
        int32_t obj, nclasses;
    } sa = {f->p.seed, f->p.esr > 0 ? f->p.val_frac : 0, f->n > 262144 ? 262144.0 / (double)f->n : 1.0,
            f->p.obj, f->nclasses};
    bput(&a, &sa, sizeof sa);
    bput(&a, f->classes, (size_t)f->nclasses * 8);
    wb_oid *outs = calloc((size_t)np + 1, sizeof *outs);
    gb_sknode **nodes = NULL;
    int nnodes = 0, cap = 0;
    if (a.bad || !outs) {
        free(a.p);
        free(outs);
        return oom();
    }
    rc = H->map(f->ex, "gbdt.sketch", d, NULL, 0, a.p, a.len, outs);
    free(a.p);
    int K = f->p.obj == GB_REGRESSION ? 0 : f->nclasses;
    for (int i = 0; i < np; i++) {
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->get(f->ex, outs[i], &data, &size);
        if (!rc) {
            const unsigned char *p = data;
            uint64_t cnt = 0;
            size_t at = 8;
            if (size < 8) rc = H->seterr(WB_EFORMAT, "gbdt: truncated sketch");
            else
                memcpy(&cnt, p, 8);
            for (uint64_t q = 0; !rc && q < cnt; q++) {
                uint64_t z;
                if (size - at < 8) {
                    rc = H->seterr(WB_EFORMAT, "gbdt: truncated sketch");
                    break;
                }
                memcpy(&z, p + at, 8);
                at += 8;
                if (z > size - at) {
                    rc = H->seterr(WB_EFORMAT, "gbdt: truncated sketch");
                    break;
                }
                gb_sknode *s;
                size_t used;
                rc = gb_sk_decode(p + at, (size_t)z, f->d, K, &s, &used);
                if (rc) break;
                at += z;
                if (nnodes == cap) {
                    cap = cap ? cap * 2 : 64;
                    gb_sknode **nn = realloc(nodes, (size_t)cap * sizeof *nn);
                    if (!nn) {
                        gb_sk_free(s);
                        rc = oom();
                        break;
                    }
                    nodes = nn;
                }
                nodes[nnodes++] = s;
            }
        }
        H->free(data);
        if (outs[i]) H->release(f->ex, outs[i]);
    }
    free(outs);
    if (!rc) rc = merge_tree(nodes, nnodes, (f->n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS, root);
    if (rc) {
        for (int i = 0; i < nnodes; i++) gb_sk_free(nodes[i]);
    }
    free(nodes);
    return rc;
}

/* a node as the kernels walk it (a leaf: the slot of its rows) */
static gb_bnode bnode_of(const dnode *n)
{
    gb_bnode b = {n->feature, n->cat ? -1 : n->bin, n->ml, n->feature >= 0 ? n->left : n->slot, n->value, {0, 0, 0, 0}};
    if (n->cat) memcpy(b.cset, n->cset, sizeof b.cset);
    return b;
}

/* --------------------------------------------------------- split finding */

static inline double score_of(double G, double Hs, double lambda)
{
    double den = Hs + lambda;
    return den > 0 ? G * G / den : 0;
}

static int splittable(const fit *f, int64_t N, double Hd, int depth, int leaves_after)
{
    if (f->p.max_depth > 0 && depth >= f->p.max_depth) return 0;
    if (leaves_after >= f->p.max_leaves) return 0;
    if (N < 2 * f->p.min_samples_leaf) return 0;
    if (Hd < 2 * f->p.mcw) return 0;
    return 1;
}

/* Category features (as scikit-learn's HistGradientBoosting and LightGBM
 * do): the categories with at least GB_CAT_SUPPORT rows at the node (the
 * missing values one of them) are sorted by G / (H + GB_CAT_SUPPORT), and
 * the left child takes a prefix of that order, from either end, of at most
 * GB_CAT_MAX categories (and half of them); the rest, rarer categories and
 * categories unseen at the node go right. */
#define GB_CAT_SUPPORT 10
#define GB_CAT_MAX 32

typedef struct catinfo {
    double value;
    int bin;
} catinfo;

static int cmp_catinfo(const void *a, const void *b)
{
    const catinfo *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->bin - y->bin;
}

static void find_cat_split(const fit *f, cand *c, const dnode *nd, int fe, const gb_hentry *seg, double parent,
                           double *best, int *found)
{
    const double isg = 1 / f->sg, ish = 1 / f->sh, lam = f->p.lambda, mcw = f->p.mcw;
    const int64_t PG = nd->G, PH = nd->Hs, PN = nd->N, msl = f->p.min_samples_leaf;
    const int nbf = f->nb[fe];
    catinfo info[257];
    int nu = 0;
    for (int b = 0; b <= nbf; b++) /* bin nbf: the missing values */
        if (seg[b].N >= GB_CAT_SUPPORT) {
            info[nu].value = (double)seg[b].G * isg / ((double)seg[b].Hs * ish + GB_CAT_SUPPORT);
            info[nu].bin = b;
            nu++;
        }
    if (nu <= 1) return;
    qsort(info, (size_t)nu, sizeof *info, cmp_catinfo);
    const int maxc = (nu + 1) / 2 < GB_CAT_MAX ? (nu + 1) / 2 : GB_CAT_MAX;
    for (int dir = 0; dir < 2; dir++) {
        int64_t GL = 0, HL = 0, NL = 0;
        for (int i = 0; i < maxc; i++) {
            const int b = info[dir == 0 ? i : nu - 1 - i].bin;
            GL += seg[b].G;
            HL += seg[b].Hs;
            NL += seg[b].N;
            const int64_t NR = PN - NL;
            const double hl = (double)HL * ish, hr = (double)(PH - HL) * ish;
            if (NL < msl || hl < mcw) continue;
            if (NR < msl || hr < mcw) break;
            double g = score_of((double)GL * isg, hl, lam) + score_of((double)(PG - GL) * isg, hr, lam) - parent;
            if (g > *best) {
                *best = g;
                *found = 1;
                c->feature = fe;
                c->bin = -1;
                c->cat = 1;
                c->GL = GL;
                c->HL = HL;
                c->NL = NL;
                memset(c->cset, 0, sizeof c->cset);
                for (int q = 0; q <= i; q++) {
                    int bq = info[dir == 0 ? q : nu - 1 - q].bin;
                    c->cset[bq >> 6] |= (uint64_t)1 << (bq & 63);
                }
                /* missing values: left when their bin is in the set; when the
                 * node had none, with the larger child (decided below) */
                c->ml = seg[nbf].N == 0 ? -1 : gb_in_set(c->cset, nbf);
            }
        }
    }
}

static void find_split(const fit *f, cand *c, const dnode *nd)
{
    const double isg = 1 / f->sg, ish = 1 / f->sh, lam = f->p.lambda;
    const int64_t PG = nd->G, PH = nd->Hs, PN = nd->N;
    const double parent = score_of((double)PG * isg, (double)PH * ish, lam);
    const double mcw = f->p.mcw;
    const int64_t msl = f->p.min_samples_leaf;
    double best = f->p.msg + 1e-10 * fabs(parent);
    int found = 0;
    c->has = 0;
    for (int j = 0; j < f->nsel; j++) {
        const int fe = f->sel[j], nbf = f->nb[fe];
        const gb_hentry *seg = c->hist + f->off[j];
        if (f->cat && f->cat[fe]) {
            find_cat_split(f, c, nd, fe, seg, parent, &best, &found);
            continue;
        }
        const int64_t MG = seg[nbf].G, MH = seg[nbf].Hs, MN = seg[nbf].N;
        int64_t GL = 0, HL = 0, NL = 0;
        for (int t = 0; t < nbf; t++) {
            /* an empty bin (no rows: its sums are 0) gives threshold t the
             * rows and sums of threshold t - 1, so no better gain (a gain
             * must be larger to win): most bins of a deep node are empty */
            if (seg[t].N == 0 && t > 0) continue;
            GL += seg[t].G;
            HL += seg[t].Hs;
            NL += seg[t].N;
            if (t == nbf - 1 && MN == 0) break;
            /* missing values right */
            {
                int64_t NR = PN - NL;
                double hl = (double)HL * ish, hr = (double)(PH - HL) * ish;
                if (NL >= msl && NR >= msl && hl >= mcw && hr >= mcw) {
                    double g = score_of((double)GL * isg, hl, lam) + score_of((double)(PG - GL) * isg, hr, lam) - parent;
                    if (g > best) {
                        best = g;
                        found = 1;
                        c->feature = fe;
                        c->bin = t;
                        c->cat = 0;
                        c->ml = MN == 0 ? -1 : 0;
                        c->GL = GL;
                        c->HL = HL;
                        c->NL = NL;
                    }
                }
            }
            /* missing values left */
            if (MN > 0 && t < nbf - 1) {
                int64_t gl = GL + MG, hlq = HL + MH, nl = NL + MN, nr = PN - nl;
                double hl = (double)hlq * ish, hr = (double)(PH - hlq) * ish;
                if (nl >= msl && nr >= msl && hl >= mcw && hr >= mcw) {
                    double g = score_of((double)gl * isg, hl, lam) + score_of((double)(PG - gl) * isg, hr, lam) - parent;
                    if (g > best) {
                        best = g;
                        found = 1;
                        c->feature = fe;
                        c->bin = t;
                        c->cat = 0;
                        c->ml = 1;
                        c->GL = gl;
                        c->HL = hlq;
                        c->NL = nl;
                    }
                }
            }
        }
    }
    if (found) {
        c->has = 1;
        c->gain = best;
        /* no missing values seen: they go to the child with more rows */
        if (c->ml < 0) {
            c->ml = c->NL >= PN - c->NL;
            if (c->cat && c->ml) c->cset[f->nb[c->feature] >> 6] |= (uint64_t)1 << (f->nb[c->feature] & 63);
        }
    }
}

/* ------------------------------------------------------------ executor io */

/* restore every partition's state to `round` rounds (after a lost state) */
static int restore_all(fit *f, int round);
/* submit a kernel's tasks: grouped as the round's plan says, or one a partition */
static int submit_tasks(fit *f, const char *kernel, const buf *w, int grouped, int ntasks, wb_oid *outs);

/* submit one kernel on every binned partition; outs[nparts] */
static int submit_all(fit *f, const char *kernel, const void *arg, size_t len, wb_oid *outs)
{
    int rc = 0, made = 0;
    for (int i = 0; i < f->nparts && !rc; i++) {
        rc = H->submit(f->ex, kernel, &f->bins[i], 1, arg, len, &outs[i]);
        if (!rc) made++;
    }
    if (rc)
        for (int i = 0; i < made; i++) H->release(f->ex, outs[i]);
    return rc;
}

static void release_all(fit *f, wb_oid *ids, int n)
{
    for (int i = 0; i < n; i++)
        if (ids[i]) H->release(f->ex, ids[i]);
}

/* one gbdt.collect per worker process over the tokens of its partitions
 * (proc[i]: the process of partition i; 0: none), all submitted before the
 * first wait; adds the sums into hist. The binned partition of the first of
 * a group goes first among the inputs: it places the task on that worker (the
 * scheduler weighs the bytes of the inputs). The tokens may still be pending:
 * a collect then waits for them where it runs. */
static int collect_groups(fit *f, const wb_oid *outs, const uint64_t *proc, int round, int wave, int nnodes,
                          gb_hentry *hist)
{
    const int64_t total = (int64_t)nnodes * f->nentries;
    int rc = 0, ngroups = 0;
    unsigned char *done = calloc((size_t)f->nparts + 1, 1);
    wb_oid *group = calloc((size_t)f->nparts + 2, sizeof *group);
    wb_oid *res = calloc((size_t)f->nparts + 1, sizeof *res);
    if (!done || !group || !res) rc = oom();
    gb_collect_arg ca = {f->fit_id, f->epoch, round, wave, nnodes, f->nentries};
    for (int i = 0; i < f->nparts && !rc; i++) {
        if (!proc[i] || done[i]) continue;
        int ng = 1;
        group[0] = f->bins[i];
        for (int j = i; j < f->nparts; j++)
            if (proc[j] == proc[i]) {
                group[ng++] = outs[j];
                done[j] = 1;
            }
        rc = H->submit(f->ex, "gbdt.collect", group, ng, &ca, sizeof ca, &res[ngroups]);
        if (!rc) ngroups++;
    }
    for (int g = 0; g < ngroups; g++) {
        int e = H->wait(f->ex, &res[g], 1);
        void *data = NULL;
        size_t size = 0;
        if (!e && !rc) {
            e = H->get(f->ex, res[g], &data, &size);
            if (!e && size != (size_t)total * sizeof *hist) e = H->seterr(WB_EFORMAT, "gbdt: malformed histogram sum");
            if (!e) {
                const gb_hentry *v = data;
                for (int64_t q = 0; q < total; q++) gb_hentry_add(&hist[q], &v[q]);
            }
            H->free(data);
        }
        if (e && !rc) rc = e; /* the first error's message stays */
        H->release(f->ex, res[g]);
    }
    free(done);
    free(group);
    free(res);
    return rc;
}

/* whether an earlier partition's tasks ran in the same process as i's */
static int proc_seen_before(const fit *f, int i)
{
    for (int j = 0; j < i; j++)
        if (f->pmap[j] == f->pmap[i]) return 1;
    return 0;
}

/* the round's wave tasks from pmap: each process gets about as many tasks as
 * it has threads (the executor's threads shared among the processes), each
 * over consecutive partitions of that process */
static void plan_waves(fit *f)
{
    int ndist = 0;
    for (int i = 0; i < f->nparts; i++) ndist += !proc_seen_before(f, i);
    int tpp = f->par / (ndist > 0 ? ndist : 1);
    if (tpp < 1) tpp = 1;
    int nin = 0;
    f->ntasks = f->nwprocs = 0;
    for (int i = 0; i < f->nparts; i++) {
        if (proc_seen_before(f, i)) continue;
        int cnt = 0;
        for (int j = i; j < f->nparts; j++) cnt += f->pmap[j] == f->pmap[i];
        const int g = cnt < tpp ? cnt : tpp;
        /* g tasks over the process's cnt partitions, in order */
        int done = 0;
        for (int t = 0, j = i; t < g; t++) {
            const int take = (cnt - done) / (g - t);
            f->tproc[f->ntasks] = f->pmap[i];
            f->tstart[f->ntasks++] = nin;
            for (int c = 0; c < take; j++)
                if (f->pmap[j] == f->pmap[i]) {
                    f->tin[nin++] = f->bins[j];
                    c++;
                }
            done += take;
        }
        f->wprocs[f->nwprocs++] = (gb_wave_proc){f->pmap[i], g, 0};
    }
    f->tstart[f->ntasks] = nin;
    f->plan_ok = f->ntasks > 0;
}

/* adds a token's block losses (after its header) into the per-block sums */
static int add_block_losses(const void *data, const gb_token *t, int64_t nblocks, double *bl, double *bc, double *bt)
{
    for (int32_t b = 0; b < t->nblocks; b++) {
        gb_blockloss x;
        memcpy(&x, (const unsigned char *)data + sizeof *t + (size_t)b * sizeof x, sizeof x);
        if (x.block < 0 || x.block >= nblocks) return H->seterr(WB_EFORMAT, "gbdt: malformed block loss");
        bl[x.block] += x.loss;
        bc[x.block] += x.count;
        bt[x.block] += x.tloss;
    }
    return 0;
}

/* after outs (one token per partition) were submitted for (round, wave):
 * waits, then sums the histograms the worker processes accumulated into hist
 * (nnodes x nentries entries); with `loss`, the block losses of the
 * tokens (validation: lsum, lcount; training: tsum) are summed over the
 * global blocks in a fixed tree; gmax gets the partitions' maximum */
static int collect(fit *f, wb_oid *outs, int round, int wave, int nnodes, int loss, gb_hentry *hist,
                   double *lsum, double *lcount, double *tsum, double *gmax)
{
    const int64_t nblocks = (f->n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS, total = (int64_t)nnodes * f->nentries;
    const int need_tokens = loss || f->p.obj == GB_REGRESSION || f->multiproc;
    int rc = 0;
    if (total > 0 && !f->multiproc) {
        /* one process holds every partition (the local executor): one collect
         * over all the tokens, submitted at once; it waits for them itself */
        gb_collect_arg ca = {f->fit_id, f->epoch, round, wave, nnodes, f->nentries};
        wb_oid res = 0;
        rc = H->submit(f->ex, "gbdt.collect", outs, f->nparts, &ca, sizeof ca, &res);
        if (!rc) rc = H->wait(f->ex, &res, 1);
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->get(f->ex, res, &data, &size);
        uint32_t mark = 0;
        if (!rc && size == 8) memcpy(&mark, data, 4);
        if (!rc && mark == GB_ELSEWHERE_MAGIC) rc = WB_ENOTSUP; /* the histograms are on several workers */
        else if (!rc && size != (size_t)total * 24) rc = H->seterr(WB_EFORMAT, "gbdt: malformed histogram sum");
        if (!rc) memcpy(hist, data, (size_t)total * 24);
        H->free(data);
        if (res) H->release(f->ex, res);
        if (rc == WB_ENOTSUP) {
            f->multiproc = 1; /* tokens of several workers: collect per worker from now on */
            memset(hist, 0, (size_t)total * sizeof *hist);
            rc = 0;
        } else if (rc || !need_tokens)
            return rc;
    }
    if (!rc) rc = H->wait(f->ex, outs, f->nparts);
    if (rc) return rc;
    double *bl = NULL, *bc = NULL, *bt = NULL;
    uint64_t *proc = calloc((size_t)f->nparts + 1, sizeof *proc);
    if (!proc) rc = oom();
    if (!rc && loss) {
        bl = calloc((size_t)nblocks + 1, sizeof *bl);
        bc = calloc((size_t)nblocks + 1, sizeof *bc);
        bt = calloc((size_t)nblocks + 1, sizeof *bt);
        if (!bl || !bc || !bt) rc = oom();
    }
    for (int i = 0; i < f->nparts && !rc; i++) {
        void *data = NULL;
        size_t size = 0;
        rc = H->get(f->ex, outs[i], &data, &size);
        gb_token t;
        if (!rc && (size < sizeof t || (memcpy(&t, data, sizeof t), t.magic != GB_TOKEN_MAGIC) || t.nblocks < 0 ||
                    size != sizeof t + (size_t)t.nblocks * sizeof(gb_blockloss)))
            rc = H->seterr(WB_EFORMAT, "gbdt: malformed token");
        if (!rc) {
            proc[i] = t.proc;
            if (t.gmax > *gmax) *gmax = t.gmax;
            if (loss) rc = add_block_losses(data, &t, nblocks, bl, bc, bt);
        }
        H->free(data);
    }
    if (!rc && loss) {
        *lsum = tree_sum(bl, nblocks);
        *lcount = tree_sum(bc, nblocks);
        *tsum = tree_sum(bt, nblocks);
    }
    if (!rc && total > 0 && loss) {
        /* the tokens of gbdt.begin name the process of each partition's
         * task: its state lives there, the waves of this round run there too */
        memcpy(f->pmap, proc, (size_t)f->nparts * sizeof *proc);
        f->pmap_ok = 1;
        plan_waves(f);
    }
    if (!rc && total > 0 && f->multiproc) {
        f->st_after++;
        rc = collect_groups(f, outs, proc, round, wave, nnodes, hist);
        if (rc == WB_ENOTSUP) rc = H->seterr(WB_ESTATE, "%s", H->errmsg());
    }
    free(bl);
    free(bc);
    free(bt);
    free(proc);
    return rc;
}

/* a wave whose tasks knew their process's share (gb_wave_proc): waits for
 * each task, then sums the histograms of its nnodes build nodes into hq[q] (E entries each):
 * those that came back with the last task of each worker process, and those
 * that wait in this process's accumulators (the local executor: taken in
 * place, gb_acc_take). They must cover every task once (WB_ENOTSUP if not). */
static int gather(fit *f, wb_oid *outs, int ntasks, int r, int wave, int nnodes, gb_hentry *const *hq)
{
    const int64_t E = f->nentries;
    int rc = 0;
    int64_t covered = 0, inplace = 0;
    int filled = 0;
    /* task by task: a worker's sums are decoded while another still works */
    for (int i = 0; i < ntasks && !rc; i++) {
        void *data = NULL;
        size_t size = 0;
        rc = H->wait(f->ex, &outs[i], 1);
        if (!rc) rc = H->get(f->ex, outs[i], &data, &size);
        gb_token t;
        if (!rc && (size < sizeof t || (memcpy(&t, data, sizeof t), t.magic != GB_TOKEN_MAGIC) || t.nblocks != 0 ||
                    t.covered < 0 ||
                    (t.covered > 0 && !t.inplace ? size == sizeof t : size != sizeof t)))
            rc = H->seterr(WB_EFORMAT, "gbdt: malformed token");
        if (!rc && t.covered > 0 && t.inplace) {
            if (t.proc != gb_proc_id()) rc = H->seterr(WB_EFORMAT, "gbdt: malformed token");
            inplace += t.covered;
        } else if (!rc && t.covered > 0) {
            /* the worker's sums in their compact form (wire.h) */
            f->st_bytes += (int64_t)size;
            const char *why = NULL;
            if (gb_wire_read((const unsigned char *)data + sizeof t, size - sizeof t, nnodes, E, filled, hq, &why))
                rc = H->seterr(WB_EFORMAT, "gbdt: malformed histogram sums from a worker: %s", why);
            filled = 1;
            covered += t.covered;
        }
        H->free(data);
    }
    if (!rc && inplace > 0) {
        rc = gb_acc_take(f->fit_id, f->epoch, r, wave, nnodes, E, inplace, filled, hq);
        covered += inplace;
        filled = 1;
    }
    if (!rc && !filled)
        for (int q = 0; q < nnodes; q++) memset(hq[q], 0, (size_t)E * sizeof *hq[q]);
    if (!rc && covered != ntasks)
        rc = H->seterr(WB_ENOTSUP, "gbdt: the histograms of a wave covered %lld of its %d tasks", (long long)covered,
                       ntasks);
    if (!rc) f->st_direct++;
    return rc;
}

/* ---------------------------------------------------------------- rounds */

static int tree_add_node(dtree *t, int depth, int64_t G, int64_t Hs, int64_t N)
{
    dnode *n = &t->nodes[t->nn++];
    memset(n, 0, sizeof *n);
    n->feature = -1;
    n->left = -1;
    n->depth = depth;
    n->G = G;
    n->Hs = Hs;
    n->N = N;
    return t->nn - 1;
}

static void trees_clear(fit *f)
{
    for (int k = 0; k < f->K; k++) {
        for (int i = 0; i < f->trees[k].nc; i++) {
            hist_free(f, f->trees[k].c[i].hist);
            hist_free(f, f->trees[k].c[i].hc[0]);
            hist_free(f, f->trees[k].c[i].hc[1]);
        }
        f->trees[k].nc = 0;
        f->trees[k].nn = 0;
        f->trees[k].nleaves = 0;
    }
}

/* the features of round r (colsample) and the histogram layout */
static void choose_features(fit *f, int r)
{
    int nu = 0;
    int32_t *u = f->sel; /* reuse as scratch */
    for (int64_t j = 0; j < f->d; j++)
        if (f->usable[j]) u[nu++] = (int32_t)j;
    int m = nu;
    if (f->p.colsample < 1 && nu > 0) {
        m = (int)floor(f->p.colsample * nu + 0.5);
        if (m < 1) m = 1;
        wb_rng rng;
        wb_rng_init(&rng, f->p.seed, GB_S_COLS, (uint64_t)r);
        for (int i = 0; i < m; i++) {
            int q = i + (int)wb_rng_below(&rng, (uint64_t)(nu - i));
            int32_t t = u[i];
            u[i] = u[q];
            u[q] = t;
        }
        /* sort the m chosen */
        for (int i = 1; i < m; i++) {
            int32_t v = u[i];
            int q = i - 1;
            while (q >= 0 && u[q] > v) {
                u[q + 1] = u[q];
                q--;
            }
            u[q + 1] = v;
        }
    }
    f->nsel = m;
    int64_t at = 1;
    for (int j = 0; j < m; j++) {
        f->off[j] = (int32_t)at;
        at += f->nb[f->sel[j]] + 1;
    }
    f->nentries = at;
}

static double leaf_value(const fit *f, const dnode *n)
{
    double G = (double)n->G / f->sg, Hd = (double)n->Hs / f->sh, den = Hd + f->p.lambda;
    return den > 0 ? -G / den * f->p.lr : 0;
}

static double threshold_of(const fit *f, int feature, int bin)
{
    if (bin >= f->nb[feature] - 1) return INFINITY; /* every value left, missing right */
    return f->edges[(size_t)feature * 256 + bin];
}

/* wave mode: with this depth limit, can best-first growth split every
 * candidate of tree t within max_leaves? */
static int all_fit(const fit *f, const dtree *t)
{
    if (f->p.max_depth <= 0) return 0;
    int64_t extra = 0;
    for (int i = 0; i < t->nc; i++) {
        if (!t->c[i].has) continue;
        int left = (int)f->p.max_depth - t->nodes[t->c[i].node].depth;
        if (left > 40) return 0;
        extra += ((int64_t)1 << left) - 1;
    }
    return t->nleaves + extra <= f->p.max_leaves;
}

/* a split of a wave, until its histograms come back: a committed one
 * (children small and other: node numbers), or one ahead of growth (ahead:
 * the candidate's node; small and other: 0 left, 1 right) */
typedef struct pending {
    int k;
    gb_hentry *phist; /* parent's histogram (owned) */
    int small, other, need_small, need_other;
    int build; /* index in the build list, -1 if none */
    int32_t small_slot;
    int ahead; /* -1, or the node of the candidate split ahead */
} pending;

/* the progress line: `done` rounds, the training loss after them (and the
 * validation loss) */
static void report(const fit *f, int done)
{
    static const char *lname[] = {"", "logloss", "mlogloss", "mse"};
    char info[96];
    int n = snprintf(info, sizeof info, "train %s %.6g", lname[f->p.obj], f->tloss[f->ntloss - 1]);
    if (f->nval > 0 && f->nvloss > 0 && n > 0 && (size_t)n < sizeof info)
        snprintf(info + n, sizeof info - (size_t)n, " valid %.6g", f->vloss[f->nvloss - 1]);
    H->progress("gbdt", done, (double)f->p.n_trees, info);
}

/* the fixed-point scales of this round's gradients (sg) and hessians (sh):
 * classification gradients lie in [-1, 1] and hessians in [0, 1/4];
 * regression gradients within the bound the last round found (grown by the
 * learning rate), its hessians are 1 */
static void set_scales(fit *f)
{
    if (f->p.obj == GB_REGRESSION) {
        double b = f->gmax_bound * 1.001 + 1e-300;
        int e;
        frexp(b, &e);
        f->sg = ldexp(1.0, GB_QG_BITS - e);
        f->sh = ldexp(1.0, GB_QH_BITS);
    } else {
        f->sg = ldexp(1.0, GB_QG_BITS_C);
        f->sh = ldexp(1.0, GB_QH_BITS_C + 2);
    }
}

/* the argument of gbdt.begin for round r: the round's features and scales,
 * then the previous round's trees; `finish`: only the losses after the last
 * round r (no features, no gradients) */
static void begin_arg(const fit *f, int r, int finish, int fused, buf *a)
{
    const int K = f->K, nsel = finish ? 0 : f->nsel;
    gb_begin_arg ba = {f->fit_id, f->p.seed, r, K, f->p.obj, (finish ? 1 : 0) | (f->nval > 0 ? 2 : 0) | 4,
                       (int32_t)f->d, nsel, f->maxslots, r > 0 ? K : 0, f->epoch, fused ? f->nwprocs : 0,
                       finish ? 1 : f->p.subsample, finish ? 1 : f->sg, finish ? 1 : f->sh,
                       finish ? 0 : f->nentries};
    bput(a, &ba, sizeof ba);
    bput(a, f->nb, (size_t)f->d * 4);
    bput(a, f->sel, (size_t)nsel * 4);
    bput(a, f->off, (size_t)nsel * 4);
    int64_t first = 0; /* the previous round's first node in f->all */
    if (r > 0) {
        int64_t t0 = f->ntrees - K;
        for (int64_t t = 0; t < t0; t++) first += f->tree_nn[t];
        bput(a, f->tree_nn + t0, (size_t)K * 4);
    }
    bpad8(a);
    bput(a, f->base, (size_t)K * 8);
    for (int64_t q = first; r > 0 && q < f->nall; q++) {
        const dnode *n = &f->all[q];
        gb_bnode b = bnode_of(n);
        bput(a, &b, sizeof b);
    }
    if (fused) { /* each process's share of the tasks, the driver's process */
        const uint64_t driver = gb_proc_id();
        bput(a, f->wprocs, (size_t)f->nwprocs * sizeof *f->wprocs);
        bput(a, &driver, 8);
    }
}

/* the tasks of a gbdt.begin submitted as the round's plan (fused): waits
 * for them one by one (a worker's sums are decoded while another still
 * works), sums the root histograms into hist (K nodes) -- those that came
 * back with the last task of each worker process, and those that wait in
 * this process's accumulators (taken in place) -- and the block losses as
 * collect() does. Every task must have run in the process it was planned
 * for, and the sums must cover every task once (WB_ENOTSUP if not). */
static int begin_gather(fit *f, wb_oid *outs, int r, gb_hentry *hist, double *lsum, double *lcount, double *tsum,
                        double *gmax)
{
    const int64_t nblocks = (f->n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS, E = f->nentries;
    const int K = f->K, ntasks = f->ntasks;
    double *bl = calloc((size_t)nblocks + 1, sizeof *bl), *bc = calloc((size_t)nblocks + 1, sizeof *bc),
           *bt = calloc((size_t)nblocks + 1, sizeof *bt);
    gb_hentry **hq = malloc(((size_t)K + 1) * sizeof *hq);
    int rc = bl && bc && bt && hq ? 0 : oom();
    for (int k = 0; k < K && !rc; k++) hq[k] = hist + (size_t)k * (size_t)E;
    int64_t covered = 0, inplace = 0;
    int filled = 0;
    for (int i = 0; i < ntasks && !rc; i++) {
        rc = H->wait(f->ex, &outs[i], 1);
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->get(f->ex, outs[i], &data, &size);
        gb_token t;
        size_t head = 0;
        if (!rc && (size < sizeof t || (memcpy(&t, data, sizeof t), t.magic != GB_TOKEN_MAGIC) || t.nblocks < 0 ||
                    t.covered < 0 || (size - sizeof t) / sizeof(gb_blockloss) < (size_t)t.nblocks ||
                    (head = sizeof t + (size_t)t.nblocks * sizeof(gb_blockloss),
                     t.covered > 0 && !t.inplace ? size == head : size != head)))
            rc = H->seterr(WB_EFORMAT, "gbdt: malformed token");
        if (!rc && t.proc != f->tproc[i])
            rc = H->seterr(WB_ENOTSUP, "gbdt: a task of gbdt.begin ran in another worker process than planned");
        if (!rc) {
            if (t.gmax > *gmax) *gmax = t.gmax;
            rc = add_block_losses(data, &t, nblocks, bl, bc, bt);
        }
        if (!rc && t.covered > 0 && t.inplace) {
            if (t.proc != gb_proc_id()) rc = H->seterr(WB_EFORMAT, "gbdt: malformed token");
            inplace += t.covered;
        } else if (!rc && t.covered > 0) {
            const char *why = NULL;
            f->st_bytes += (int64_t)size;
            if (gb_wire_read((const unsigned char *)data + head, size - head, K, E, filled, hq, &why))
                rc = H->seterr(WB_EFORMAT, "gbdt: malformed histogram sums from a worker: %s", why);
            filled = 1;
            covered += t.covered;
        }
        H->free(data);
    }
    if (!rc && inplace > 0) {
        rc = gb_acc_take(f->fit_id, f->epoch, r, 0, K, E, inplace, filled, hq);
        covered += inplace;
        filled = 1;
    }
    if (!rc && !filled) memset(hist, 0, (size_t)K * (size_t)E * sizeof *hist);
    if (!rc && covered != ntasks)
        rc = H->seterr(WB_ENOTSUP, "gbdt: the root histograms covered %lld of the %d tasks of gbdt.begin",
                       (long long)covered, ntasks);
    if (!rc) {
        *lsum = tree_sum(bl, nblocks);
        *lcount = tree_sum(bc, nblocks);
        *tsum = tree_sum(bt, nblocks);
        f->pmap_ok = 1; /* the partitions are where the plan says */
        f->st_fused_begin++;
    }
    free(bl);
    free(bc);
    free(bt);
    free(hq);
    return rc;
}

/* gbdt.begin on every partition for round r, and the sums of its results:
 * the root histograms (hist, K nodes; NULL with `finish`), the losses of the
 * scores before the round (validation: lsum over lcount rows; training:
 * tsum) and the largest regression gradient (gmax) */
static int run_begin(fit *f, int r, int finish, gb_hentry *hist, double *lsum, double *lcount, double *tsum,
                     double *gmax)
{
    buf a = {0};
    /* fused: as the plan of an earlier round's begin says (tasks over the
     * partitions of one process, the sums returned by the tasks) */
    const int fused = !finish && f->plan_ok && !f->pmap_off && f->ntasks > 0;
    begin_arg(f, r, finish, fused, &a);
    wb_oid *outs = a.bad ? NULL : calloc((size_t)f->nparts + 1, sizeof *outs);
    if (!outs) {
        free(a.p);
        return oom();
    }
    if (fused) {
        int rc = submit_tasks(f, "gbdt.begin", &a, 1, f->ntasks, outs);
        free(a.p);
        if (!rc) {
            rc = begin_gather(f, outs, r, hist, lsum, lcount, tsum, gmax);
            release_all(f, outs, f->ntasks);
        }
        free(outs);
        if (rc == WB_ENOTSUP) {
            /* a task ran where the driver did not expect it: rebuild the
             * state, collect after the tokens from then on */
            f->pmap_off = 1;
            rc = H->seterr(WB_ESTATE, "%s", H->errmsg());
        }
        return rc;
    }
    int rc = submit_all(f, "gbdt.begin", a.p, a.len, outs);
    free(a.p);
    if (!rc) {
        if (hist) memset(hist, 0, (size_t)f->K * (size_t)f->nentries * sizeof *hist);
        rc = collect(f, outs, r, 0, finish ? 0 : f->K, 1, hist, lsum, lcount, tsum, gmax);
        release_all(f, outs, f->nparts);
    }
    free(outs);
    return rc;
}

/* the losses after r rounds (the scores before round r's trees), kept for
 * the model and shown on the progress line */
static void record_losses(fit *f, int r, double lsum, double lcount, double tsum)
{
    f->tloss[f->ntloss++] = tsum / (double)f->ntrain;
    if (f->nval > 0) f->vloss[f->nvloss++] = lcount > 0 ? lsum / lcount : 0;
    report(f, r);
}

/* the round with the lowest validation loss so far (the first of equals) */
static int best_round(const fit *f)
{
    int best = 0;
    for (int i = 1; i < f->nvloss; i++)
        if (f->vloss[i] < f->vloss[best]) best = i;
    return best;
}

/* early stopping: the validation loss has not improved for
 * early_stopping_rounds rounds */
static int early_stop(const fit *f)
{
    return f->nval > 0 && f->nvloss - 1 - best_round(f) >= f->p.esr;
}

/* node of tree t becomes a candidate for a split, with its histogram h (the
 * candidate owns it) and its best split */
static void add_candidate(const fit *f, dtree *t, int node, gb_hentry *h)
{
    cand *c = &t->c[t->nc++];
    memset(c, 0, sizeof *c);
    c->node = node;
    c->hist = h;
    find_split(f, c, &t->nodes[node]);
}

/* the roots of the round's trees from their histograms (hist: K nodes) */
static int start_trees(fit *f, const gb_hentry *hist)
{
    trees_clear(f);
    for (int k = 0; k < f->K; k++) {
        dtree *t = &f->trees[k];
        const gb_hentry *h = hist + (size_t)k * f->nentries;
        tree_add_node(t, 0, h[0].G, h[0].Hs, h[0].N);
        t->nleaves = 1;
        t->next_slot = 1; /* the root's rows: slot 0 */
        if (splittable(f, h[0].N, (double)h[0].Hs / f->sh, 0, 1)) {
            gb_hentry *c = hist_new(f);
            if (!c) return oom();
            memcpy(c, h, (size_t)f->nentries * sizeof *c);
            add_candidate(f, t, 0, c);
        }
    }
    return 0;
}

/* the best candidate of tree t (the largest gain, the first node of equals),
 * or -1; with `fresh`, only one not split ahead nor in flight, other than
 * candidate `except` */
static int best_cand(const dtree *t, int fresh, int except)
{
    int b = -1;
    for (int i = 0; i < t->nc; i++) {
        const cand *c = &t->c[i];
        if (!c->has || (fresh && (c->ahead || !c->hist || i == except))) continue;
        if (b < 0 || c->gain > t->c[b].gain || (c->gain == t->c[b].gain && c->node < t->c[b].node)) b = i;
    }
    return b;
}

/* commits the split of candidate c of tree t: the children get node numbers
 * (L, R) and slot, slot + 1; needL/needR: whether they may split again, the
 * tree having leaves_after leaves once this wave's splits are made */
static void commit_split(const fit *f, dtree *t, const cand *c, int32_t slot, int leaves_after, int *L, int *R,
                         int *needL, int *needR)
{
    dnode *pn = &t->nodes[c->node];
    *L = tree_add_node(t, pn->depth + 1, c->GL, c->HL, c->NL);
    *R = tree_add_node(t, pn->depth + 1, pn->G - c->GL, pn->Hs - c->HL, pn->N - c->NL);
    pn = &t->nodes[c->node];
    pn->feature = c->feature;
    pn->bin = c->bin;
    pn->ml = c->ml;
    pn->left = *L;
    pn->gain = c->gain;
    pn->cat = c->cat;
    memcpy(pn->cset, c->cset, sizeof pn->cset);
    pn->thr = c->cat ? NAN : threshold_of(f, c->feature, c->bin);
    dnode *ln = &t->nodes[*L], *rn = &t->nodes[*R];
    ln->slot = slot;
    rn->slot = slot + 1;
    *needL = splittable(f, ln->N, (double)ln->Hs / f->sh, ln->depth, leaves_after);
    *needR = splittable(f, rn->N, (double)rn->Hs / f->sh, rn->depth, leaves_after);
}

/* commits candidate c, split ahead (its rows and children's histograms are
 * ready; c is no longer among the tree's candidates): its children that may
 * split become candidates. Their histograms were built when either could
 * split whatever the leaf count, so every child that may split has one. */
static void commit_ahead(fit *f, dtree *t, cand *c, int leaves_after)
{
    int L, R, needL, needR;
    commit_split(f, t, c, c->slot, leaves_after, &L, &R, &needL, &needR);
    const int need[2] = {needL, needR}, node[2] = {L, R};
    for (int s = 0; s < 2; s++) {
        if (need[s] && c->hc[s])
            add_candidate(f, t, node[s], c->hc[s]);
        else
            hist_free(f, c->hc[s]);
        c->hc[s] = NULL;
    }
}

/* the candidates of tree t in node order */
static void sort_tree_candidates(dtree *t)
{
    for (int i = 1; i < t->nc; i++) {
        cand v = t->c[i];
        int j = i - 1;
        while (j >= 0 && t->c[j].node > v.node) {
            t->c[j + 1] = t->c[j];
            j--;
        }
        t->c[j + 1] = v;
    }
}

/* Splits leaves of tree k: the best candidate, or every one when best-first
 * growth would split them all anyway (all_fit). The splits are made in the
 * driver's tree, their messages written into w (the wave's argument) and
 * recorded in pend[*np..] (the split leaf's histogram moves there, and a
 * child to build gets the next index of the build list, *nbuild).
 * Candidates split ahead are committed first, without a wave, for as long
 * as best-first growth would pick them next; one-at-a-time growth then also
 * splits the GB_AHEAD next best leaves ahead (row slots permitting: every
 * later commit keeps two). The tree, its node numbers and its leaves are
 * the same as one split a wave. Returns the number of splits in w. */
static int split_tree(fit *f, int k, buf *w, pending *pend, int *np, int *nbuild)
{
    dtree *t = &f->trees[k];
    for (;;) { /* growth that needs no wave */
        if (t->nleaves >= f->p.max_leaves || all_fit(f, t)) break;
        const int b = best_cand(t, 0, -1);
        if (b < 0 || !t->c[b].ahead) break;
        cand c = t->c[b];
        t->c[b] = t->c[--t->nc];
        commit_ahead(f, t, &c, t->nleaves + 1);
        t->nleaves++;
    }
    sort_tree_candidates(t);
    int any = 0;
    for (int i = 0; i < t->nc; i++) any |= t->c[i].has;
    if (!any || t->nleaves >= f->p.max_leaves) return 0;
    const int all = all_fit(f, t);
    /* the leaves to split: in node order (all), or the best one */
    const int chosen = all ? -1 : best_cand(t, 0, -1);
    int nsplit_k = 0;
    for (int i = 0; i < t->nc; i++) nsplit_k += all ? t->c[i].has : 0;
    if (!all) nsplit_k = 1;
    const int leaves_after = t->nleaves + nsplit_k;
    int nsplit = 0;
    /* ahead of growth: the next best leaves (after the chosen one) */
    int ahead[GB_AHEAD_MAX], nahead = 0;
    for (int q = 0; !all && q < f->ahead; q++) {
        if (t->next_slot + 2 * (nahead + 1) + 2 * (f->p.max_leaves - t->nleaves) > f->maxslots) break;
        int b = -1;
        for (int i = 0; i < t->nc; i++) {
            const cand *c = &t->c[i];
            int taken = i == chosen;
            for (int z = 0; z < nahead; z++) taken |= i == ahead[z];
            if (taken || !c->has || c->ahead || !c->hist) continue;
            if (b < 0 || c->gain > t->c[b].gain || (c->gain == t->c[b].gain && c->node < t->c[b].node)) b = i;
        }
        if (b < 0) break;
        ahead[nahead++] = b;
    }
    /* walk candidates; split the chosen ones (all: those split ahead are
     * committed in their place, their children join the candidates after) */
    int nc2 = 0, nlate = 0;
    cand *late = f->late; /* (node, hist) of children that join later */
    for (int i = 0; i < t->nc; i++) {
        cand *c = &t->c[i];
        int is_ahead = 0;
        for (int z = 0; z < nahead; z++) is_ahead |= i == ahead[z];
        if (is_ahead) {
            /* split ahead: rows to two new slots, the children's histograms
             * when either could split (whatever the leaf count) */
            const dnode *pn = &t->nodes[c->node];
            const int64_t NR = pn->N - c->NL, HR = pn->Hs - c->HL;
            const int nl = splittable(f, c->NL, (double)c->HL / f->sh, pn->depth + 1, 0);
            const int nr = splittable(f, NR, (double)HR / f->sh, pn->depth + 1, 0);
            const int32_t slot = t->next_slot;
            t->next_slot += 2;
            gb_split_msg m = {k, pn->slot, c->feature, c->bin, c->ml, slot, 0, c->cat, 0, 0, {0, 0, 0, 0}};
            if (c->cat) memcpy(m.cset, c->cset, sizeof m.cset);
            bput(w, &m, sizeof m);
            nsplit++;
            pending *pp = &pend[(*np)++];
            pp->k = k;
            pp->ahead = c->node;
            pp->phist = c->hist;
            c->hist = NULL; /* in flight */
            c->slot = slot;
            pp->small = c->NL <= NR ? 0 : 1;
            pp->other = 1 - pp->small;
            pp->small_slot = slot + pp->small;
            pp->need_small = pp->small == 0 ? nl : nr;
            pp->need_other = pp->small == 0 ? nr : nl;
            pp->build = (nl || nr) ? (*nbuild)++ : -1;
            f->st_part += pn->N;
            if (pp->build >= 0) f->st_hist += pp->small == 0 ? c->NL : NR;
            t->c[nc2++] = *c;
            continue;
        }
        const int take_it = all ? c->has : i == chosen;
        if (!take_it) {
            t->c[nc2++] = *c;
            continue;
        }
        if (c->ahead) { /* (all) split ahead already: no wave */
            int L, R, needL, needR;
            commit_split(f, t, c, c->slot, leaves_after, &L, &R, &needL, &needR);
            const int need[2] = {needL, needR}, node[2] = {L, R};
            for (int z = 0; z < 2; z++) {
                if (need[z] && c->hc[z]) {
                    late[nlate].node = node[z];
                    late[nlate++].hist = c->hc[z];
                } else
                    hist_free(f, c->hc[z]);
                c->hc[z] = NULL;
            }
            continue;
        }
        int L, R, needL, needR;
        const int32_t pslot = t->nodes[c->node].slot, slot = t->next_slot;
        t->next_slot += 2;
        commit_split(f, t, c, slot, leaves_after, &L, &R, &needL, &needR);
        const dnode *ln = &t->nodes[L], *rn = &t->nodes[R];
        gb_split_msg m = {k, pslot, c->feature, c->bin, c->ml, slot, !needL && !needR, c->cat,
                          leaf_value(f, ln), leaf_value(f, rn), {0, 0, 0, 0}};
        if (c->cat) memcpy(m.cset, c->cset, sizeof m.cset);
        bput(w, &m, sizeof m);
        nsplit++;
        pending *pp = &pend[(*np)++];
        pp->k = k;
        pp->ahead = -1;
        pp->phist = c->hist;
        pp->small = ln->N <= rn->N ? L : R;
        pp->other = pp->small == L ? R : L;
        pp->small_slot = t->nodes[pp->small].slot;
        pp->need_small = pp->small == L ? needL : needR;
        pp->need_other = pp->small == L ? needR : needL;
        pp->build = (needL || needR) ? (*nbuild)++ : -1;
        f->st_part += t->nodes[c->node].N;
        if (pp->build >= 0) f->st_hist += t->nodes[pp->small].N;
    }
    t->nc = nc2;
    for (int i = 0; i < nlate; i++) add_candidate(f, t, late[i].node, late[i].hist);
    t->nleaves = leaves_after;
    return nsplit;
}

/* The leaves wave `wave` of round r splits, tree by tree (split_tree), and
 * the wave's argument in w: its header (counts filled in by run_wave), the
 * splits, then the build list (the smaller child of each split whose
 * children may split again). pend[*npp] keeps each split for add_children;
 * returns the number of splits (0: the round's trees are grown). */
static int plan_splits(fit *f, int r, int wave, buf *w, pending *pend, int *npp, int *nbuildp)
{
    int np = 0, nbuild = 0, nsplit = 0;
    w->len = 0;
    gb_wave_arg wa = {f->fit_id, r, wave, 0, 0, f->epoch, 0, 0};
    bput(w, &wa, sizeof wa);
    for (int k = 0; k < f->K; k++) nsplit += split_tree(f, k, w, pend, &np, &nbuild);
    /* the build list: the slots of the children to build */
    for (int q = 0; q < np; q++)
        if (pend[q].build >= 0) {
            int32_t kb[2] = {pend[q].k, pend[q].small_slot};
            bput(w, kb, 8);
        }
    *npp = np;
    *nbuildp = nbuild;
    return nsplit;
}

/* WB_GBDT_TRACE: a wave's time, for the percentiles at the end */
static void trace_wave(fit *f, double seconds)
{
    if (!f->trace) return;
    if (f->nwdur == f->capwdur) {
        int64_t c = f->capwdur ? 2 * f->capwdur : 1024;
        double *nw = realloc(f->wdur, (size_t)c * sizeof *nw);
        if (nw) {
            f->wdur = nw;
            f->capwdur = c;
        }
    }
    if (f->nwdur < f->capwdur) f->wdur[f->nwdur++] = seconds;
}

/* the wave's tasks: where this round's gbdt.begin told where each partition
 * lives (grouped), a task goes over several partitions of one worker process
 * (as many tasks a process as it has threads, about), else one task a
 * partition; outs gets them */
static int submit_tasks(fit *f, const char *kernel, const buf *w, int grouped, int ntasks, wb_oid *outs)
{
    if (!grouped) return submit_all(f, kernel, w->p, w->len, outs);
    int rc = 0, made = 0;
    for (int t = 0; t < ntasks && !rc; t++) {
        rc = H->submit(f->ex, kernel, f->tin + f->tstart[t], f->tstart[t + 1] - f->tstart[t], w->p, w->len,
                       &outs[t]);
        if (!rc) made++;
    }
    if (rc) release_all(f, outs, made);
    return rc;
}

/* runs wave `wave` of round r (its argument w from plan_splits) and sums the
 * histograms of its build list into hq[0..nbuild) (the caller's buffers of
 * nentries entries). When the tasks run where the driver expects (fused),
 * the last task of each worker process returns the process's sum (or, in
 * the driver's own process, leaves it for gather to take in place); else the
 * sums are collected after the tokens. */
static int run_wave(fit *f, int r, int wave, buf *w, int nsplit, int nbuild, wb_oid *outs, gb_hentry *const *hq)
{
    const int grouped = f->pmap_ok && !f->pmap_off, fused = nbuild > 0 && grouped;
    const int ntasks = grouped ? f->ntasks : f->nparts, nprocs = fused ? f->nwprocs : 0;
    if (fused) bput(w, f->wprocs, (size_t)nprocs * sizeof *f->wprocs);
    if (w->bad) return oom();
    gb_wave_arg wa;
    memcpy(&wa, w->p, sizeof wa);
    wa.nsplit = nsplit;
    wa.nbuild = nbuild;
    wa.nprocs = nprocs;
    wa.driver = gb_proc_id();
    memcpy(w->p, &wa, sizeof wa);
    double ts0 = H->now();
    int rc = submit_tasks(f, "gbdt.wave", w, grouped, ntasks, outs);
    if (!rc) {
        if (nbuild && fused) {
            rc = gather(f, outs, ntasks, r, wave, nbuild, hq);
            if (rc == WB_ENOTSUP) {
                /* a task ran where the driver did not expect it:
                 * rebuild the state, collect after the tokens */
                f->pmap_off = 1;
                rc = H->seterr(WB_ESTATE, "%s", H->errmsg());
            }
        } else if (nbuild) {
            const int64_t E = f->nentries;
            double d0 = 0, d1 = 0, g0 = 0;
            gb_hentry *hist = calloc((size_t)nbuild * (size_t)E, sizeof *hist);
            rc = hist ? collect(f, outs, r, wave, nbuild, 0, hist, &d0, &d1, &d0, &g0) : oom();
            for (int q = 0; q < nbuild && !rc; q++) memcpy(hq[q], hist + (size_t)q * (size_t)E, (size_t)E * sizeof *hist);
            free(hist);
        } else
            rc = H->wait(f->ex, outs, ntasks);
        release_all(f, outs, ntasks);
    }
    f->t_waves += H->now() - ts0;
    trace_wave(f, H->now() - ts0);
    return rc;
}

/* the children of the wave's splits that may split again become candidates:
 * the smaller child's histogram came from the partitions (hq[build], taken
 * over: the slot is cleared), the other's is its parent's minus it */
static int add_children(fit *f, pending *pend, int np, gb_hentry **hq)
{
    for (int q = 0; q < np; q++) {
        pending *pp = &pend[q];
        dtree *t = &f->trees[pp->k];
        if (pp->ahead >= 0) {
            /* a split ahead: its candidate keeps the children's histograms
             * (the smaller one built, the other its parent's minus it) */
            cand *c = NULL;
            for (int i = 0; i < t->nc && !c; i++)
                if (t->c[i].node == pp->ahead) c = &t->c[i];
            if (!c) return H->seterr(WB_EINTERNAL, "gbdt: a split made ahead lost its candidate");
            gb_hentry *sh = pp->build >= 0 ? hq[pp->build] : NULL;
            if (sh && pp->need_other) {
                gb_hentry *ho = pp->phist;
                for (int64_t e = 0; e < f->nentries; e++) {
                    ho[e].G -= sh[e].G;
                    ho[e].Hs -= sh[e].Hs;
                    ho[e].N -= sh[e].N;
                }
                c->hc[pp->other] = ho;
                pp->phist = NULL;
            }
            if (sh && pp->need_small) {
                c->hc[pp->small] = sh;
                hq[pp->build] = NULL;
            }
            c->ahead = 1;
        } else if (pp->build >= 0) {
            gb_hentry *sh = hq[pp->build], *hs = NULL, *ho = NULL;
            if (pp->need_other) {
                ho = pp->phist;
                for (int64_t e = 0; e < f->nentries; e++) {
                    ho[e].G -= sh[e].G;
                    ho[e].Hs -= sh[e].Hs;
                    ho[e].N -= sh[e].N;
                }
                pp->phist = NULL;
            }
            if (pp->need_small) {
                hs = sh;
                hq[pp->build] = NULL;
            }
            if (hs) add_candidate(f, t, pp->small, hs);
            if (ho) add_candidate(f, t, pp->other, ho);
        }
        hist_free(f, pp->phist);
        pp->phist = NULL;
    }
    return 0;
}

/* every tree's candidates in node order, so "every candidate" waves are stable */
static void sort_candidates(fit *f)
{
    for (int k = 0; k < f->K; k++) {
        dtree *t = &f->trees[k];
        for (int i = 1; i < t->nc; i++) {
            cand v = t->c[i];
            int j = i - 1;
            while (j >= 0 && t->c[j].node > v.node) {
                t->c[j + 1] = t->c[j];
                j--;
            }
            t->c[j + 1] = v;
        }
    }
}

/* the waves of round r, until no leaf of its trees can split */
static int grow_waves(fit *f, int r)
{
    pending *pend = malloc((size_t)f->maxnodes * (size_t)f->K * sizeof *pend);
    gb_hentry **hq = calloc((size_t)f->maxnodes * (size_t)f->K + 1, sizeof *hq);
    wb_oid *outs = calloc((size_t)f->nparts + 1, sizeof *outs);
    buf w = {0};
    int rc = pend && hq && outs ? 0 : oom();
    for (int wave = 1; !rc; wave++) {
        int np = 0, nbuild = 0;
        int nsplit = plan_splits(f, r, wave, &w, pend, &np, &nbuild);
        if (nsplit == 0) break;
        f->st_waves++;
        /* a buffer for each histogram to build (a candidate's from then on) */
        for (int q = 0; q < nbuild && !rc; q++)
            if (!(hq[q] = hist_new(f))) rc = oom();
        if (!rc) rc = run_wave(f, r, wave, &w, nsplit, nbuild, outs, hq);
        if (!rc) rc = add_children(f, pend, np, hq);
        for (int q = 0; q < np; q++) {
            hist_free(f, pend[q].phist);
            pend[q].phist = NULL;
        }
        for (int q = 0; q < nbuild; q++) {
            hist_free(f, hq[q]);
            hq[q] = NULL;
        }
        sort_candidates(f);
    }
    free(w.p);
    free(pend);
    free(hq);
    free(outs);
    return rc;
}

/* the round's trees, with their leaf values, join the model */
static int join_trees(fit *f)
{
    for (int k = 0; k < f->K; k++) {
        dtree *t = &f->trees[k];
        if (f->nall + t->nn > f->capall) {
            int64_t c = f->capall ? f->capall * 2 : 4096;
            while (c < f->nall + t->nn) c *= 2;
            dnode *na = realloc(f->all, (size_t)c * sizeof *na);
            if (!na) return oom();
            f->all = na;
            f->capall = c;
        }
        for (int i = 0; i < t->nn; i++) {
            dnode *n = &t->nodes[i];
            if (n->feature < 0) n->value = leaf_value(f, n);
            f->all[f->nall + i] = *n;
        }
        f->nall += t->nn;
        f->tree_nn[f->ntrees++] = t->nn;
    }
    return 0;
}

/* Round r: gbdt.begin (the previous round's trees into the scores,
 * gradients, the root histograms and the losses), early stopping, then the
 * waves grow the round's trees, which join the model. Returns 0 (*stop set
 * when early stopping ends the fit), or WB_ESTATE after a lost worker state
 * (the caller restores it and grows the round again). */
static int grow_round(fit *f, int r, int *stop)
{
    *stop = 0;
    f->pmap_ok = 0; /* until this round's gbdt.begin tells where it ran */
    choose_features(f, r);
    set_scales(f);
    gb_hentry *hist = malloc((size_t)f->K * (size_t)f->nentries * sizeof *hist);
    if (!hist) return oom();
    double lsum = 0, lcount = 0, tsum = 0, gmax = 0, tb0 = H->now();
    int rc = run_begin(f, r, 0, hist, &lsum, &lcount, &tsum, &gmax);
    if (rc) {
        free(hist);
        return rc;
    }
    f->t_begin += H->now() - tb0;
    if (f->p.obj == GB_REGRESSION) f->gmax_bound = gmax * (1 + f->p.lr);
    record_losses(f, r, lsum, lcount, tsum);
    if (early_stop(f)) {
        *stop = 1;
        free(hist);
        return 0;
    }
    rc = start_trees(f, hist);
    free(hist);
    if (!rc) rc = grow_waves(f, r);
    if (!rc) rc = join_trees(f);
    return rc;
}

static int restore_all(fit *f, int round)
{
    f->plan_ok = 0; /* the rebuilt state may live elsewhere: the next begin tells */
    buf a = {0};
    int64_t ntrees = (int64_t)round * f->K;
    gb_restore_arg ra = {f->fit_id, round, f->K, (int32_t)f->d, (int32_t)ntrees, f->maxslots, 0};
    bput(&a, &ra, sizeof ra);
    bput(&a, f->nb, (size_t)f->d * 4);
    bput(&a, f->tree_nn, (size_t)ntrees * 4);
    bpad8(&a);
    bput(&a, f->base, (size_t)f->K * 8);
    int64_t tot = 0;
    for (int64_t t = 0; t < ntrees; t++) tot += f->tree_nn[t];
    for (int64_t q = 0; q < tot; q++) {
        const dnode *n = &f->all[q];
        gb_bnode b = bnode_of(n);
        bput(&a, &b, sizeof b);
    }
    if (a.bad) {
        free(a.p);
        return oom();
    }
    wb_oid *outs = calloc((size_t)f->nparts, sizeof *outs);
    if (!outs) {
        free(a.p);
        return oom();
    }
    int rc = submit_all(f, "gbdt.restore", a.p, a.len, outs);
    free(a.p);
    if (!rc) {
        rc = H->wait(f->ex, outs, f->nparts);
        release_all(f, outs, f->nparts);
    }
    free(outs);
    return rc;
}

/* the training and validation losses after the last round r (no gradients) */
static int finish_loss(fit *f, int r)
{
    double lsum = 0, lcount = 0, tsum = 0, gmax = 0;
    int rc = run_begin(f, r, 1, NULL, &lsum, &lcount, &tsum, &gmax);
    if (!rc) record_losses(f, r, lsum, lcount, tsum);
    return rc;
}

/* ------------------------------------------------------------ the model */

/* the category features' part of a model (only when there are some, so
 * models of number columns stay as they were): categorical (1 x d, 0/1),
 * feature_levels (JSON: each category feature's levels, code k = level k,
 * null for number features) and cat_splits: for each category split, in
 * node order, its row in trees, the count of codes that go left, then those
 * codes (missing values follow missing_left) */
static int write_categories(fit *f, wb_model *m, const wb_dataset *d, const double *trees, int64_t nn)
{
    double *flag = malloc((size_t)(f->d + 1) * sizeof *flag), *cs = NULL;
    const char **lv = NULL;
    wbc_buf b = {0};
    int64_t len = 0, cap = 0;
    int rc = flag ? 0 : oom();
    for (int64_t j = 0; !rc && j < f->d; j++) flag[j] = f->cat[j];
    for (int64_t q = 0; !rc && q < nn; q++) {
        const double *row = trees + q * 8;
        if (row[0] == 0 || row[1] == row[1]) continue;
        const dnode *n = &f->all[q];
        const int nbf = f->nb[n->feature];
        if (len + 2 + 256 > cap) {
            cap = cap ? cap * 2 : 1024;
            double *t = realloc(cs, (size_t)cap * sizeof *t);
            if (!t) {
                rc = oom();
                break;
            }
            cs = t;
        }
        int64_t at = len;
        cs[len++] = (double)q + 1;
        cs[len++] = 0;
        for (int c = 0; c < nbf; c++)
            if (gb_in_set(n->cset, c)) {
                cs[len++] = c;
                cs[at + 1] += 1;
            }
    }
    wbc_put(&b, "[", 1);
    for (int64_t j = 0; !rc && j < f->d; j++) {
        if (j) wbc_put(&b, ",", 1);
        if (!f->cat[j]) {
            wbc_put(&b, "null", 4);
            continue;
        }
        const int64_t L = H->ds_col_nlevels(d, j);
        free(lv);
        lv = malloc((size_t)(L > 0 ? L : 1) * sizeof *lv);
        if (!lv) {
            rc = oom();
            break;
        }
        for (int64_t k = 0; k < L; k++) lv[k] = H->ds_col_level(d, j, k);
        char *js = wbc_json_list(lv, L);
        if (!js) rc = oom();
        else wbc_put(&b, js, strlen(js));
        free(js);
    }
    wbc_put(&b, "]", 1);
    if (!rc && b.bad) rc = oom();
    if (!rc) rc = H->model_set_array(m, "categorical", flag, 1, f->d);
    if (!rc) rc = H->model_set_str(m, "feature_levels", b.p);
    if (!rc) rc = H->model_set_array(m, "cat_splits", cs ? cs : flag, 1, len);
    free(flag);
    free(cs);
    free(lv);
    free(b.p);
    return rc;
}

static int write_model(fit *f, wb_model *m, int rounds, const wb_dataset *d)
{
    const int K = f->K;
    int64_t ntrees = (int64_t)rounds * K, nn = 0;
    for (int64_t t = 0; t < ntrees; t++) nn += f->tree_nn[t];
    double *trees = malloc((size_t)(nn > 0 ? nn : 1) * 8 * sizeof *trees);
    double *start = malloc((size_t)(ntrees + 1) * sizeof *start);
    double *imp_g = calloc((size_t)f->d + 1, sizeof *imp_g), *imp_s = calloc((size_t)f->d + 1, sizeof *imp_s);
    double *nbv = malloc((size_t)(f->d + 1) * sizeof *nbv);
    if (!trees || !start || !imp_g || !imp_s || !nbv) {
        free(trees);
        free(start);
        free(imp_g);
        free(imp_s);
        free(nbv);
        return oom();
    }
    /* rows are 1-based in the trees matrix; features 1-based, 0 on leaves */
    int64_t at = 0;
    for (int64_t t = 0; t < ntrees; t++) {
        start[t] = (double)(at + 1);
        for (int i = 0; i < f->tree_nn[t]; i++) {
            const dnode *n = &f->all[at + i];
            double *row = trees + (at + i) * 8;
            int leaf = n->feature < 0;
            row[0] = leaf ? 0 : n->feature + 1;
            row[1] = leaf ? 0 : n->thr;
            row[2] = leaf ? 0 : n->ml;
            row[3] = leaf ? 0 : (double)(at + n->left + 1);
            row[4] = leaf ? 0 : (double)(at + n->left + 2);
            row[5] = leaf ? n->value : 0;
            row[6] = (double)n->Hs / f->sh;
            row[7] = (double)n->N;
            if (!leaf) {
                imp_g[n->feature] += n->gain;
                imp_s[n->feature] += 1;
            }
        }
        at += f->tree_nn[t];
    }
    start[ntrees] = (double)(nn + 1);
    for (int64_t j = 0; j < f->d; j++) nbv[j] = f->nb[j];
    static const char *objn[] = {"", "binary", "multiclass", "regression"};
    int rc = H->model_set_str(m, "objective", objn[f->p.obj]);
    if (!rc) rc = H->model_set_num(m, "n_features", (double)f->d);
    if (!rc && f->p.obj != GB_REGRESSION) {
        rc = H->model_set_num(m, "n_classes", f->nclasses);
        if (!rc) rc = H->model_set_array(m, "classes", f->classes, 1, f->nclasses);
    }
    if (!rc) rc = H->model_set_array(m, "base_score", f->base, 1, K);
    if (!rc) rc = H->model_set_num(m, "rounds", rounds);
    if (!rc) rc = H->model_set_num(m, "trees_per_round", K);
    if (!rc) rc = H->model_set_array(m, "tree_start", start, 1, ntrees + 1);
    if (!rc) rc = H->model_set_array(m, "trees", trees, nn, 8);
    if (!rc) rc = H->model_set_array(m, "n_bins", nbv, 1, f->d);
    if (!rc) rc = H->model_set_array(m, "feature_importance_gain", imp_g, 1, f->d);
    if (!rc) rc = H->model_set_array(m, "feature_importance_split", imp_s, 1, f->d);
    if (!rc) rc = H->model_set_num(m, "train_rows", (double)f->ntrain);
    if (!rc) rc = H->model_set_array(m, "train_loss", f->tloss, 1, f->ntloss);
    if (!rc && f->nval > 0) {
        rc = H->model_set_num(m, "valid_rows", (double)f->nval);
        if (!rc) rc = H->model_set_array(m, "valid_loss", f->vloss, 1, f->nvloss);
        if (!rc) rc = H->model_set_num(m, "best_round", rounds);
    }
    if (!rc && f->cat) rc = write_categories(f, m, d, trees, nn);
    free(trees);
    free(start);
    free(imp_g);
    free(imp_s);
    free(nbv);
    return rc;
}

/* --------------------------------------------------------------- gb_fit */

static void read_params(const wb_params *p, fparams *o)
{
    const char *obj = H->param_str(p, "objective");
    o->obj = !strcmp(obj, "regression") ? GB_REGRESSION : !strcmp(obj, "multiclass") ? GB_MULTI
             : !strcmp(obj, "binary")   ? GB_BINARY
                                        : 0;
    o->n_trees = H->param_int(p, "n_trees");
    o->lr = H->param_num(p, "learning_rate");
    o->max_leaves = H->param_int(p, "max_leaves");
    o->max_depth = H->param_int(p, "max_depth");
    o->mcw = H->param_num(p, "min_child_weight");
    o->min_samples_leaf = H->param_int(p, "min_samples_leaf");
    o->lambda = H->param_num(p, "lambda_l2");
    o->msg = H->param_num(p, "min_split_gain");
    o->max_bins = (int)H->param_int(p, "max_bins");
    o->subsample = H->param_num(p, "subsample");
    o->colsample = H->param_num(p, "colsample");
    o->esr = H->param_int(p, "early_stopping_rounds");
    o->val_frac = H->param_num(p, "validation_fraction");
    o->seed = (uint64_t)H->param_int(p, "seed");
}

int gb_check(const wb_params *p, const wb_dataset *d)
{
    (void)p;
    (void)d;
    return 0;
}

static void fit_free(fit *f)
{
    free(f->classes);
    free(f->nb);
    free(f->edges);
    free(f->cat);
    free(f->usable);
    free(f->sel);
    free(f->off);
    free(f->pmap);
    free(f->tin);
    free(f->tstart);
    free(f->tproc);
    free(f->wprocs);
    free(f->wdur);
    if (f->trees) {
        trees_clear(f);
        for (int k = 0; k < f->K; k++) {
            free(f->trees[k].nodes);
            free(f->trees[k].c);
        }
    }
    free(f->trees);
    for (int i = 0; i < f->nhpool; i++) free(f->hpool[i]);
    free(f->hpool);
    free(f->late);
    free(f->all);
    free(f->tree_nn);
    free(f->imp_gain);
    free(f->imp_split);
    free(f->vloss);
    free(f->tloss);
}

/* a model of one class: every prediction is that class */
static int write_categories(fit *f, wb_model *m, const wb_dataset *d, const double *trees, int64_t nn);

static int one_class_model(fit *f, wb_model *m, const wb_dataset *d)
{
    int rc = H->model_set_str(m, "objective", "binary");
    if (!rc) rc = H->model_set_num(m, "n_features", (double)f->d);
    if (!rc) rc = H->model_set_num(m, "n_classes", 1);
    if (!rc) rc = H->model_set_array(m, "classes", f->classes, 1, 1);
    double base = 0, start = 1, zero = 0;
    if (!rc) rc = H->model_set_array(m, "base_score", &base, 1, 1);
    if (!rc) rc = H->model_set_num(m, "rounds", 0);
    if (!rc) rc = H->model_set_num(m, "trees_per_round", 1);
    if (!rc) rc = H->model_set_array(m, "tree_start", &start, 1, 1);
    if (!rc) rc = H->model_set_array(m, "trees", &zero, 0, 8);
    double *z = calloc((size_t)f->d + 1, sizeof *z);
    if (!z) return oom();
    if (!rc) rc = H->model_set_array(m, "feature_importance_gain", z, 1, f->d);
    if (!rc) rc = H->model_set_array(m, "feature_importance_split", z, 1, f->d);
    if (!rc) rc = H->model_set_num(m, "train_rows", (double)f->n);
    if (!rc) rc = H->model_set_array(m, "train_loss", z, 1, 1); /* every row is predicted with certainty */
    if (!rc && f->cat) rc = write_categories(f, m, d, z, 0);
    free(z);
    return rc;
}

/* the fit's parameters, the shape of the data and its category columns */
static int fit_open(fit *f, wb_exec *ex, const wb_dataset *d, const wb_params *p)
{
    f->trace = getenv("WB_GBDT_TRACE") != NULL;
    const char *ah = getenv("WB_GBDT_AHEAD");
    f->ahead = ah && *ah >= '0' && *ah <= '0' + GB_AHEAD_MAX && !ah[1] ? *ah - '0' : GB_AHEAD;
    f->t0 = H->now();
    f->ex = ex;
    read_params(p, &f->p);
    f->n = H->ds_rows(d);
    f->d = H->ds_cols(d);
    f->nparts = H->ds_nparts(d);
    f->par = H->parallelism(ex);
    if (f->n < 1) return H->seterr(WB_EINVAL, "gbdt: the data has no rows");
    if (f->d < 1) return H->seterr(WB_EINVAL, "gbdt: the data has no columns");
    /* category columns split on sets of their levels: at most max_bins of them */
    for (int64_t j = 0; j < f->d; j++) {
        if (H->ds_col_type(d, j) != WB_COL_CATEGORY) continue;
        const int64_t L = H->ds_col_nlevels(d, j);
        if (L > f->p.max_bins) {
            const char *nm = H->ds_col_name(d, j);
            char b[32];
            if (!nm || !*nm) snprintf(b, sizeof b, "x%lld", (long long)j + 1), nm = b;
            return H->seterr(WB_ELIMIT, "gbdt: column '%s' has %lld categories, more than max_bins (%d): "
                                        "encode it (ordinal, onehot with min_frequency) or raise max_bins",
                             nm, (long long)L, f->p.max_bins);
        }
        if (!f->cat && !(f->cat = calloc((size_t)f->d, 1))) return oom();
        f->cat[j] = 1;
    }
    return 0;
}

/* the objective ("auto": binary for two classes, multiclass for more) and,
 * for classification, the classes of the labels */
static int fit_objective(fit *f, const wb_dataset *d)
{
    if (f->p.obj == GB_REGRESSION) return 0;
    int rc = H->ds_classes(f->ex, d, "gbdt", GB_MAX_CLASSES, &f->classes, &f->nclasses);
    if (rc) return rc;
    if (f->p.obj == 0) f->p.obj = f->nclasses > 2 ? GB_MULTI : GB_BINARY;
    if (f->p.obj == GB_BINARY && f->nclasses > 2)
        return H->seterr(WB_EINVAL, "gbdt: objective 'binary' needs 2 classes, the labels have %d (use 'multiclass')",
                         f->nclasses);
    return 0;
}

/* the scores every row starts from: the mean label (regression), the log-odds
 * of class 1 (binary), the log of each class's share (multiclass) */
static void base_scores(fit *f, const gb_sknode *root)
{
    if (f->p.obj == GB_REGRESSION) {
        f->base[0] = root->ysum / (double)root->ntrain;
        f->gmax_bound = fmax(fabs(root->ymax - f->base[0]), fabs(root->ymin - f->base[0]));
    } else if (f->p.obj == GB_BINARY) {
        double pr = (double)root->counts[1] / (double)root->ntrain;
        pr = fmin(fmax(pr, 1e-15), 1 - 1e-15);
        f->base[0] = log(pr / (1 - pr));
    } else {
        for (int k = 0; k < f->K; k++) {
            double pr = (double)root->counts[k] / (double)root->ntrain;
            f->base[k] = log(fmax(pr, 1e-15));
        }
    }
}

/* the bin edges of every feature from the merged sketch of the partitions,
 * the training and validation rows, the base scores */
static int fit_edges(fit *f, const wb_dataset *d)
{
    gb_sknode *root = NULL;
    int rc = sketch(f, d, &root);
    if (rc) return rc;
    f->t_sketch = H->now();
    f->nb = calloc((size_t)f->d, sizeof *f->nb);
    f->edges = malloc((size_t)f->d * 256 * sizeof *f->edges);
    f->usable = calloc((size_t)f->d, sizeof *f->usable);
    f->sel = calloc((size_t)f->d, sizeof *f->sel);
    f->off = calloc((size_t)f->d, sizeof *f->off);
    if (!f->nb || !f->edges || !f->usable || !f->sel || !f->off) {
        gb_sk_free(root);
        return oom();
    }
    for (int64_t j = 0; j < f->d; j++) {
        double *e = f->edges + j * 256;
        int nb;
        if (f->cat && f->cat[j]) {
            /* a category column: one bin per level, bin = code */
            nb = (int)H->ds_col_nlevels(d, j);
            if (nb < 1) nb = 1;
            for (int q = 0; q < nb - 1; q++) e[q] = q + 0.5;
        } else
            nb = gb_sk_edges(&root->f[j], f->p.max_bins, e);
        for (int q = nb - 1; q < 256; q++) e[q] = INFINITY;
        f->nb[j] = nb;
        f->usable[j] = nb >= 2 || root->f[j].nan > 0;
    }
    f->ntrain = root->ntrain;
    f->nval = f->p.esr > 0 ? f->n - f->ntrain : 0;
    if (f->ntrain < 1)
        rc = H->seterr(WB_EINVAL, "gbdt: no training rows left after holding out validation_fraction %g", f->p.val_frac);
    else if (f->p.esr > 0 && f->nval < 1)
        rc = H->seterr(WB_EINVAL,
                       "gbdt: early_stopping_rounds needs validation rows; validation_fraction %g of %lld rows left none",
                       f->p.val_frac, (long long)f->n);
    else
        base_scores(f, root);
    gb_sk_free(root);
    return rc;
}

/* every partition binned once (gbdt.bin, with the edges as an object): the
 * binned partitions stay for the whole fit */
static int fit_bin(fit *f, const wb_dataset *d)
{
    size_t esz = sizeof(gb_edgehdr) + gb_pad8((size_t)f->d * 4) + (size_t)f->d * 256 * 8;
    unsigned char *eb = calloc(1, esz);
    if (!eb) return oom();
    gb_edgehdr eh = {GB_EDGES_MAGIC, 0, f->d};
    memcpy(eb, &eh, sizeof eh);
    memcpy(eb + sizeof eh, f->nb, (size_t)f->d * 4);
    memcpy(eb + sizeof eh + gb_pad8((size_t)f->d * 4), f->edges, (size_t)f->d * 256 * 8);
    wb_oid eid = 0;
    int rc = H->put(f->ex, eb, esz, &eid);
    free(eb);
    if (rc) return rc;
    buf a = {0};
    struct {
        uint64_t seed;
        double val_frac;
        int32_t obj, nclasses;
    } ba = {f->p.seed, f->p.esr > 0 ? f->p.val_frac : 0, f->p.obj, f->nclasses};
    bput(&a, &ba, sizeof ba);
    bput(&a, f->classes, (size_t)f->nclasses * 8);
    f->bins = calloc((size_t)f->nparts + 1, sizeof *f->bins);
    f->pmap = calloc((size_t)f->nparts + 1, sizeof *f->pmap);
    f->tin = calloc((size_t)f->nparts + 1, sizeof *f->tin);
    f->tstart = calloc((size_t)f->nparts + 2, sizeof *f->tstart);
    f->tproc = calloc((size_t)f->nparts + 1, sizeof *f->tproc);
    f->wprocs = calloc((size_t)f->nparts + 1, sizeof *f->wprocs);
    if (a.bad || !f->bins || !f->pmap || !f->tin || !f->tstart || !f->tproc || !f->wprocs)
        rc = oom();
    else
        rc = H->map(f->ex, "gbdt.bin", d, &eid, 1, a.p, a.len, f->bins);
    free(a.p);
    H->release(f->ex, eid);
    if (!rc) f->t_bin = H->now();
    return rc;
}

/* the trees of a round and the arrays of the model so far */
static int fit_alloc_rounds(fit *f)
{
    f->hcap = 1; /* the entries of every usable feature (colsample takes some) */
    for (int64_t j = 0; j < f->d; j++)
        if (f->usable[j]) f->hcap += f->nb[j] + 1;
    f->trees = calloc((size_t)f->K, sizeof *f->trees);
    f->tree_nn = malloc((size_t)(f->p.n_trees * f->K + 1) * sizeof *f->tree_nn);
    f->imp_gain = calloc((size_t)f->d, sizeof *f->imp_gain);
    f->imp_split = calloc((size_t)f->d, sizeof *f->imp_split);
    f->vloss = malloc((size_t)(f->p.n_trees + 2) * sizeof *f->vloss);
    f->tloss = malloc((size_t)(f->p.n_trees + 2) * sizeof *f->tloss);
    f->late = malloc((size_t)(2 * f->maxnodes) * sizeof *f->late);
    if (!f->late || !f->trees || !f->tree_nn || !f->imp_gain || !f->imp_split || !f->vloss || !f->tloss) return oom();
    for (int k = 0; k < f->K; k++) {
        f->trees[k].nodes = malloc((size_t)f->maxnodes * sizeof(dnode));
        f->trees[k].c = calloc((size_t)f->maxnodes, sizeof(cand));
        if (!f->trees[k].nodes || !f->trees[k].c) return oom();
    }
    return 0;
}

/* The boosting rounds (a worker that lost its state has it rebuilt from the
 * trees so far and the round grows again, up to 3 times a fit), then the
 * losses after the last round. *kept: the rounds the model keeps (with
 * early stopping, those up to the best validation loss). */
static int fit_rounds(fit *f, int *kept)
{
    int rc = 0, rounds = 0, stopped = 0;
    f->t_rounds0 = H->now();
    for (int r = 0; r < f->p.n_trees && !rc; r++) {
        int nv = f->nvloss, nt = f->ntloss;
        rc = grow_round(f, r, &stopped);
        if (rc == WB_ESTATE && f->restores < 3) {
            /* a worker lost its state: rebuild it from the trees so far and
             * grow this round again */
            f->restores++;
            f->epoch++;
            f->nvloss = nv;
            f->ntloss = nt;
            trees_clear(f);
            rc = restore_all(f, r);
            if (!rc) {
                r--;
                continue;
            }
        }
        if (rc || stopped) break;
        rounds = r + 1;
    }
    /* the losses of the last round (grow_round recorded those of the rounds
     * before it, from the pass that computed the gradients) */
    if (!rc && !stopped) {
        rc = finish_loss(f, rounds);
        if (rc == WB_ESTATE && f->restores < 3) {
            f->restores++;
            f->epoch++;
            rc = restore_all(f, rounds);
            if (!rc) rc = finish_loss(f, rounds);
        }
    }
    if (stopped) H->progress("gbdt", (double)f->p.n_trees, (double)f->p.n_trees, NULL); /* ends the stage */
    if (!rc && f->nval > 0) rounds = best_round(f);
    *kept = rounds;
    return rc;
}

/* WB_GBDT_TRACE: where the fit's time went, on stderr */
static void trace_fit(fit *f, const wb_dataset *d)
{
    double tr = H->now() - f->t_rounds0;
    fprintf(stderr, "gbdt: rounds %.3f s: begin %.3f s, waves %.3f s, driver %.3f s; histogram sums: %lld returned by the wave tasks, %lld by the begin tasks, %lld collected after the tokens; %.1f MB of sums from other processes\n",
            tr, f->t_begin, f->t_waves, tr - f->t_begin - f->t_waves, (long long)f->st_direct,
            (long long)f->st_fused_begin, (long long)f->st_after, (double)f->st_bytes / 1e6);
    if (f->nwdur > 0) {
        double *v = f->wdur;
        int64_t n = f->nwdur;
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        fprintf(stderr, "gbdt: a wave's time in ms: p10 %.3f, median %.3f, p90 %.3f, p99 %.3f, max %.3f\n", v[n / 10] * 1e3,
                v[n / 2] * 1e3, v[n * 9 / 10] * 1e3, v[n * 99 / 100] * 1e3, v[n - 1] * 1e3);
    }
    if (f->multiproc && f->pmap_ok) {
        /* the partitions of each worker process in the last round */
        fprintf(stderr, "gbdt: %d partitions, per worker process:", f->nparts);
        for (int i = 0; i < f->nparts; i++) {
            if (proc_seen_before(f, i)) continue;
            int cnt = 0;
            int64_t rows = 0;
            for (int j = i; j < f->nparts; j++)
                if (f->pmap[j] == f->pmap[i]) {
                    cnt++;
                    rows += H->ds_part_rows(d, j);
                }
            fprintf(stderr, " %d (%lld rows)", cnt, (long long)rows);
        }
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "gbdt: sketch %.3f s, bin %.3f s, rounds %.3f s (%d restores); rows: %lld in histograms, %lld partitioned; %lld waves\n",
            f->t_sketch - f->t0, f->t_bin - f->t_sketch, H->now() - f->t_bin, f->restores, (long long)f->st_hist,
            (long long)f->st_part, (long long)f->st_waves);
}

/* the end of a fit (rc: its result): the workers drop their state, the
 * binned partitions are released (the error message of a failed fit stays) */
static void fit_close(fit *f, int rc)
{
    if (f->bins) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", H->errmsg());
        wb_oid *tmp = calloc((size_t)f->nparts + 1, sizeof *tmp), one = 0;
        if (tmp && f->fit_id && !submit_all(f, "gbdt.release", &f->fit_id, 8, tmp)) {
            H->wait(f->ex, tmp, f->nparts);
            release_all(f, tmp, f->nparts);
        } else if (!tmp && f->fit_id) /* out of memory: one partition at a time */
            for (int i = 0; i < f->nparts; i++)
                if (f->bins[i] && !H->submit(f->ex, "gbdt.release", &f->bins[i], 1, &f->fit_id, 8, &one)) {
                    H->wait(f->ex, &one, 1);
                    H->release(f->ex, one);
                }
        free(tmp);
        release_all(f, f->bins, f->nparts);
        free(f->bins);
        f->bins = NULL;
        if (rc) H->seterr(rc, "%s", msg);
    }
    fit_free(f);
}

/* fit: the objective and classes, the bin edges (sketch), the binned
 * partitions, the rounds, the model */
int gb_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    fit F = {0}, *f = &F;
    int rc = fit_open(f, ex, d, p);
    if (!rc) rc = fit_objective(f, d);
    if (!rc && f->nclasses == 1) {
        rc = one_class_model(f, m, d);
    } else if (!rc) {
        f->K = f->p.obj == GB_MULTI ? f->nclasses : 1;
        f->maxnodes = (int)(2 * f->p.max_leaves);
        f->maxslots = 2 * f->maxnodes + 2;
        f->fit_id = new_fit_id();
        rc = fit_edges(f, d);
        if (!rc) rc = fit_bin(f, d);
        if (!rc) rc = fit_alloc_rounds(f);
        if (!rc) {
            int rounds = 0;
            rc = fit_rounds(f, &rounds);
            if (!rc) rc = write_model(f, m, rounds, d);
            if (f->trace) trace_fit(f, d);
        }
    }
    fit_close(f, rc);
    return rc;
}
