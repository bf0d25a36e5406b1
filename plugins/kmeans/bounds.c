/* bounds.c — Elkan's and Hamerly's bounds for Lloyd's iterations (see
 * bounds.h).
 *
 * Exactness. A row's centre is the one whose criterion value km_crit (a
 * squared distance computed in a fixed order) is lowest, ties to the lowest
 * index, exactly as Lloyd's pass decides. A computed squared distance is
 * within a relative eps of the true one (km_bound_eps: a sum of non-negative
 * rounded terms), so the bounds are kept on true distances with that margin
 * folded in: an upper bound u is at least the true distance to the row's
 * centre, a lower bound l_j at most the true distance to centre j, and a
 * centre j is skipped only when l_j > u * R (R = 1 + 4 eps) or u is below
 * half the gap between the centres (with the same margin), which proves
 * that its computed value is strictly above the row centre's. Bounds are
 * moved with the centres' shifts and rounded outwards at every step (upper
 * bounds up, lower bounds down; Elkan's k lower bounds a row are floats,
 * rounded down). So every skipped centre would have lost in Lloyd's pass,
 * and every centre that could win is computed.
 *
 * State object (one per partition, the result of kmeans.bounds): 8 doubles
 * of header (rows, k, bounds per row B, tree nodes, vector length), the
 * rows' centres (int32, padded to 8 bytes), their upper bounds (double),
 * their lower bounds (Hamerly: one double a row; Elkan: k floats a row,
 * padded), then the partition's per-block sums as tree nodes: (level,
 * index) pairs and their vectors. The final pass writes no rows. */
#include "bounds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

#define BLK WB_BLOCK_ROWS
#define HDR 8

double km_bound_eps(int64_t d) { return ((double)d + 6.0) * 0x1p-52; }

/* outward rounding of a computed value */
static inline double up(double v) { return v * (1 + 0x1p-51); }
static inline double dn(double v) { return v > 0 ? v * (1 - 0x1p-51) : 0; }
/* as floats: at most v (dnf), at least v (upf), also where floats are
 * subnormal (their relative spacing is coarser there) */
static inline float dnf(double v)
{
    float f = (float)(v * (1 - 0x1p-22));
    if ((double)f > v) f = nextafterf(f, 0);
    return f > 0 ? f : 0;
}
static inline float upf(double v)
{
    float f = (float)(v * (1 + 0x1p-22));
    if ((double)f < v) f = nextafterf(f, INFINITY);
    return f;
}

int64_t km_bounds_aux(const double *C, const double *P, int64_t k, int64_t d, int elkan, double *aux)
{
    const double eps = km_bound_eps(d), R = 1 + 4 * eps;
    double *p = aux, *s = aux + k, *h = elkan ? aux + 2 * k : NULL;
    for (int64_t j = 0; j < k; j++) {
        p[j] = P ? sqrt(km_dist2(C + j * d, P + j * d, d)) * (1 + 2 * eps) : 0;
        s[j] = INFINITY;
    }
    for (int64_t a = 0; a < k; a++) {
        if (h) h[a * k + a] = 0;
        for (int64_t j = a + 1; j < k; j++) {
            /* below (distance between the centres) / (1 + R) */
            double g = sqrt(km_dist2(C + a * d, C + j * d, d)) * (1 - 2 * eps) / (1 + R) * (1 - eps);
            if (!(g >= 0)) g = 0; /* (NaN centres: no pruning) */
            if (h) h[a * k + j] = h[j * k + a] = g;
            if (g < s[a]) s[a] = g;
            if (g < s[j]) s[j] = g;
        }
    }
    return elkan ? 2 * k + k * k : 2 * k;
}

/* ------------------------------------------------------------ the tree */

/* a partition's blocks [b0, b0 + nb) folded as the host's map_sum folds
 * them: leaf j = block j, siblings merged as soon as both are there */
typedef struct tstack {
    int n;
    uint64_t level[64], index[64];
    double *v[64];
} tstack;

static void tree_push(tstack *t, uint64_t index, double *v, size_t len)
{
    t->level[t->n] = 0;
    t->index[t->n] = index;
    t->v[t->n++] = v;
    while (t->n >= 2 && t->level[t->n - 1] == t->level[t->n - 2] && (t->index[t->n - 2] & 1) == 0 &&
           t->index[t->n - 1] == (t->index[t->n - 2] | 1)) {
        double *l = t->v[t->n - 2], *r = t->v[t->n - 1];
        for (size_t q = 0; q < len; q++) l[q] += r[q];
        free(r);
        t->n--;
        t->level[t->n - 1]++;
        t->index[t->n - 1] >>= 1;
    }
}

/* the number of nodes the fold of blocks [b0, b0 + nb) leaves */
static int tree_count(uint64_t b0, uint64_t nb)
{
    uint64_t lv[64], ix[64];
    int n = 0;
    for (uint64_t b = b0; b < b0 + nb; b++) {
        lv[n] = 0;
        ix[n++] = b;
        while (n >= 2 && lv[n - 1] == lv[n - 2] && (ix[n - 2] & 1) == 0 && ix[n - 1] == (ix[n - 2] | 1)) {
            n--;
            lv[n - 1]++;
            ix[n - 1] >>= 1;
        }
    }
    return n;
}

typedef struct tnode {
    uint64_t level, index;
    const double *v;
} tnode;

static int node_cmp(const void *a, const void *b)
{
    const tnode *x = a, *y = b;
    if (x->level != y->level) return x->level < y->level ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* node (level, index) into out: given, or left + right (right absent when it
 * lies beyond the last block); scratch[level] holds right children */
static int tree_value(const tnode *nodes, size_t n, int64_t nblocks, uint64_t level, uint64_t index, size_t len,
                      double *out, double **scratch)
{
    tnode key = {level, index, NULL};
    const tnode *f = bsearch(&key, nodes, n, sizeof *nodes, node_cmp);
    if (f) {
        memcpy(out, f->v, len * sizeof(double));
        return 0;
    }
    if (level == 0) return H->seterr(WB_EINTERNAL, "kmeans: block %llu has no sums", (unsigned long long)index);
    int rc = tree_value(nodes, n, nblocks, level - 1, 2 * index, len, out, scratch);
    if (rc) return rc;
    if (((2 * index + 1) << (level - 1)) < (uint64_t)nblocks) {
        double *r = scratch[level - 1];
        rc = tree_value(nodes, n, nblocks, level - 1, 2 * index + 1, len, r, scratch);
        if (rc) return rc;
        for (size_t q = 0; q < len; q++) out[q] += r[q];
    }
    return 0;
}

int km_tree_root(const double *const *lists, const size_t *counts, int nlists, int64_t nblocks, size_t len,
                 double *out)
{
    size_t total = 0;
    for (int i = 0; i < nlists; i++) {
        const double *v = lists[i];
        if (counts[i] < 2 || v[1] != (double)len || !(v[0] >= 0) ||
            counts[i] != 2 + (size_t)v[0] * (2 + len))
            return H->seterr(WB_EINTERNAL, "kmeans: bad block sums");
        total += (size_t)v[0];
    }
    if (nblocks <= 0) {
        memset(out, 0, len * sizeof(double));
        return 0;
    }
    tnode *nodes = malloc((total + 1) * sizeof *nodes);
    double *scratch[64] = {0};
    int rc = nodes ? 0 : H->seterr(WB_ENOMEM, "out of memory");
    size_t n = 0;
    for (int i = 0; !rc && i < nlists; i++) {
        const double *v = lists[i];
        size_t c = (size_t)v[0];
        for (size_t q = 0; q < c; q++)
            nodes[n++] = (tnode){(uint64_t)v[2 + 2 * q], (uint64_t)v[3 + 2 * q], v + 2 + 2 * c + q * len};
    }
    uint64_t top = 0;
    while (((int64_t)1 << top) < nblocks) top++;
    for (uint64_t l = 0; !rc && l < top; l++)
        if (!(scratch[l] = malloc(len * sizeof(double) + 1))) rc = H->seterr(WB_ENOMEM, "out of memory");
    if (!rc) {
        qsort(nodes, n, sizeof *nodes, node_cmp);
        rc = tree_value(nodes, n, nblocks, top, 0, len, out, scratch);
    }
    for (uint64_t l = 0; l < 64; l++) free(scratch[l]);
    free(nodes);
    return rc;
}

/* ------------------------------------------------------------- the rows */

typedef struct rowctx {
    const double *C, *p, *s;
    const float *pf, *hf; /* Elkan: the shifts rounded up, the half gaps rounded down, as floats */
    int64_t k, d;
    double eps, R;
    int64_t pmax;  /* Hamerly: the centre with the largest shift */
    double p1, p2; /* Hamerly: the largest shift and the largest among the others */
} rowctx;

static inline double ub(const rowctx *r, double D) { return sqrt(D) * (1 + 2 * r->eps); }
/* a lower bound on the distance from a computed squared distance, or from a
 * lower bound on the true squared distance (km_assign_bounds) */
static inline double lb(const rowctx *r, double D) { return D > 0 ? sqrt(D) * (1 - 2 * r->eps) : 0; }

/* Elkan: the centres other than a whose bounds do not rule them out */
static inline int64_t elkan_count(const rowctx *r, const float *l, int64_t a, double u)
{
    const int64_t k = r->k;
    const float uRf = upf(u * r->R), uf = upf(u), *h = r->hf + a * k;
    int64_t n = 0;
    for (int64_t j = 0; j < k; j++) n += (l[j] <= uRf) & (uf >= h[j]);
    /* (l[a] <= u always; h[a] = 0) */
    return n - ((l[a] <= uRf) & (uf >= h[a]));
}

/* Elkan: row x, centre *a, upper bound *u, lower bounds l[k] (moved
 * already); 1 when so many centres stay open that the row goes to the batch
 * of every distance instead (cheaper than one distance at a time) */
static int elkan_row(const rowctx *r, const double *x, int64_t *a_, double *u_, float *l)
{
    const int64_t k = r->k, d = r->d;
    int64_t a = *a_;
    double u = *u_;
    if (u < r->s[a] || !elkan_count(r, l, a, u)) return 0;
    double Da = km_crit(x, r->C + a * d, d);
    u = ub(r, Da);
    l[a] = dnf(lb(r, Da));
    *u_ = u;
    int64_t open = elkan_count(r, l, a, u);
    if (!open) return 0;
    if (open > 2 + k / 8) return 1;
    /* every candidate is computed; the lowest value wins, ties to the lowest index */
    const float uRf = upf(u * r->R), uf = upf(u), *h = r->hf + a * k;
    int64_t best = a;
    double Db = Da;
    for (int64_t j = 0; j < k; j++) {
        if (j == a || !((l[j] <= uRf) & (uf >= h[j]))) continue;
        double Dj = km_crit(x, r->C + j * d, d);
        l[j] = dnf(lb(r, Dj));
        if (Dj < Db || (Dj == Db && j < best)) {
            best = j;
            Db = Dj;
        }
    }
    *a_ = best;
    *u_ = ub(r, Db);
    return 0;
}

/* Hamerly: row x, centre *a, upper bound *u, lower bound l (moved already),
 * u0: the row's upper bound before the move; 1 when every centre has to be
 * computed. When even the distance u0 - shift (what the centre's distance
 * is at least when u0 was exact) would not pass the tests, the distance to
 * the centre is not computed first: the row goes to the batch at once
 * (only a question of speed: the batch computes every distance). */
static inline int hamerly_row(const rowctx *r, const double *x, int64_t a, double *u_, double l, double u0)
{
    double u = *u_;
    if (l > u * r->R || u < r->s[a]) return 0;
    const double lowest = u0 - r->p[a];
    if (!(l > lowest * r->R) && !(lowest < r->s[a])) return 1;
    u = ub(r, km_crit(x, r->C + a * r->d, r->d));
    *u_ = u;
    return !(l > u * r->R || u < r->s[a]);
}

/* ------------------------------------------------------------ the kernel */

/* per-cluster sums and counts of m rows, in row order (Lloyd's order; D is a
 * constant at the small-d call sites, so the column loop unrolls) */
static inline __attribute__((always_inline)) void accumulate(const int64_t D, const double *x, int m,
                                                             const int32_t *lab, double *sums, double *cnt)
{
    for (int i = 0; i < m; i++) {
        double *sj = sums + (int64_t)lab[i] * D;
        const double *xi = x + (int64_t)i * D;
        for (int64_t t = 0; t < D; t++) sj[t] += xi[t];
        cnt[lab[i]] += 1;
    }
}

static size_t pad8(size_t b) { return (b + 7) & ~(size_t)7; }

/* byte offsets of a state of `rows` rows with B bounds a row */
typedef struct layout {
    size_t lab, u, l, tree, end;
} layout;

static layout lay(int64_t rows, int64_t B, int64_t ntree, size_t len)
{
    layout L;
    L.lab = HDR * sizeof(double);
    L.u = L.lab + pad8((size_t)rows * 4);
    L.l = L.u + (size_t)rows * 8;
    L.tree = L.l + pad8((size_t)rows * (size_t)B * (B == 1 ? 8 : 4));
    L.end = L.tree + (size_t)ntree * (2 + len) * sizeof(double);
    return L;
}

/* kmeans.bounds (one task per partition): in[0] the partition, in[1] the
 * centres (k x d), in[2] the driver's aux (km_bounds_aux), in[3] the
 * partition's previous state (not for KB_INIT). a.mode: KB_INIT (every
 * distance), KB_UPDATE, KB_FINAL (no rows written; the last number of each
 * block's vector is the inertia instead of the count of rows that changed
 * centre). a.m: KB_ELKAN or KB_HAMERLY. Block vectors: per-cluster sums
 * (k x d), counts (k), then that number: Lloyd's order of summation. Rows
 * go by KM_SUB: first the bounds, then the rows the bounds leave open in one
 * batch of every distance (km_assign_bounds), then the sums in row order. */
static int k_bounds(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    kmarg a;
    int rc = km_arg(arg, arglen, &a, 0);
    if (rc) return rc;
    const wb_part *p = km_part(in, nin, a.d);
    const int64_t k = a.k, d = a.d, elkan = a.m == KB_ELKAN;
    if (!p) return WB_EINVAL;
    if (k < 1 || (a.m != KB_ELKAN && a.m != KB_HAMERLY) || a.mode < KB_INIT || a.mode > KB_FINAL ||
        (a.mode != KB_INIT && nin < 4) || p->row0 % BLK)
        return H->seterr(WB_EINVAL, "kmeans: bad kernel argument");
    const double *C = km_doubles(in, nin, 1, k * d);
    const double *aux = km_doubles(in, nin, 2, elkan ? 2 * k + k * k : 2 * k);
    if (!C || !aux) return WB_EINVAL;
    const int64_t rows = p->rows, B = elkan ? k : 1;
    const size_t len = (size_t)(k * d + k + 1);
    const unsigned char *old = NULL;
    layout LO = {0};
    if (a.mode != KB_INIT) {
        const double *oh = in[3].data;
        if (in[3].type != WB_OBJ_BYTES || in[3].size < HDR * sizeof(double) || oh[0] != (double)rows ||
            oh[1] != (double)k || oh[2] != (double)B ||
            (LO = lay(rows, B, (int64_t)oh[3], (size_t)oh[4])).end != in[3].size)
            return H->seterr(WB_EINVAL, "kmeans: the bounds do not fit the partition");
        old = in[3].data;
    }
    const int64_t wrows = a.mode == KB_FINAL ? 0 : rows, nb = (rows + BLK - 1) / BLK;
    const int ntree = tree_count((uint64_t)(p->row0 / BLK), (uint64_t)nb);
    layout LN = lay(wrows, B, ntree, len);
    unsigned char *o = H->out_bytes(ctx, LN.end);
    if (!o) return WB_ENOMEM;
    double *hdr = (double *)o;
    hdr[0] = (double)wrows;
    hdr[1] = (double)k;
    hdr[2] = (double)B;
    hdr[3] = ntree;
    hdr[4] = (double)len;

    rowctx r = {.C = C, .p = aux, .s = aux + k, .k = k, .d = d};
    r.eps = km_bound_eps(d);
    r.R = 1 + 4 * r.eps;
    km_cs cs;
    if (km_cs_init(&cs, C, k, d)) return H->seterr(WB_ENOMEM, "out of memory");
    float *pf = elkan ? malloc((size_t)k * sizeof(float)) : NULL;
    float *hf = elkan ? malloc((size_t)(k * k) * sizeof(float)) : NULL;
    float *L = elkan ? malloc((size_t)(KM_SUB * k) * sizeof(float)) : NULL;
    double *lo = elkan ? malloc((size_t)(KM_SUB * k) * sizeof(double)) : NULL;
    double *g = malloc((size_t)(KM_SUB * k) * sizeof(double)), *xs = malloc((size_t)(KM_SUB * d) * sizeof(double));
    tstack T = {0};
    if (!g || !xs || (elkan && (!pf || !hf || !L || !lo))) rc = H->seterr(WB_ENOMEM, "out of memory");
    if (elkan && !rc) {
        for (int64_t j = 0; j < k; j++) {
            float f = upf(r.p[j]);
            pf[j] = f < (float)INFINITY ? f : (float)INFINITY;
        }
        for (int64_t q = 0; q < k * k; q++) hf[q] = dnf(aux[2 * k + q]);
    }
    r.pf = pf;
    r.hf = hf;
    if (!elkan) {
        r.pmax = 0;
        r.p1 = r.p2 = 0;
        for (int64_t j = 0; j < k; j++)
            if (r.p[j] > r.p1) {
                r.p1 = r.p[j];
                r.pmax = j;
            }
        for (int64_t j = 0; j < k; j++)
            if (j != r.pmax && r.p[j] > r.p2) r.p2 = r.p[j];
    }
    const int32_t *olab = old ? (const int32_t *)(old + LO.lab) : NULL;
    const double *ou = old ? (const double *)(old + LO.u) : NULL;
    int32_t *nlab = (int32_t *)(o + LN.lab);
    double *nu = (double *)(o + LN.u);
    const float *olf = old && elkan ? (const float *)(old + LO.l) : NULL;
    const double *old_ = old && !elkan ? (const double *)(old + LO.l) : NULL;
    float *nlf = elkan ? (float *)(o + LN.l) : NULL;
    double *nld = elkan ? NULL : (double *)(o + LN.l);
    const float c22 = 1 - 0x1p-22f;
    int32_t lab[KM_SUB], lab2[KM_SUB];
    int need[KM_SUB];
    double U[KM_SUB], Lh[KM_SUB], crit2[KM_SUB], lo2[KM_SUB];

    for (int64_t b = 0; !rc && b < nb; b++) {
        double *v = calloc(len, sizeof(double));
        if (!v) {
            rc = H->seterr(WB_ENOMEM, "out of memory");
            break;
        }
        double *sums = v, *cnt = v + k * d, last = 0;
        const int64_t e = (b + 1) * BLK < rows ? (b + 1) * BLK : rows;
        for (int64_t s0 = b * BLK; s0 < e; s0 += KM_SUB) {
            const int m = (int)(e - s0 < KM_SUB ? e - s0 : KM_SUB);
            const double *x0 = p->x + s0 * d;
            int nn = 0;
            /* the bounds */
            for (int i = 0; i < m; i++) {
                if (!old) {
                    need[nn++] = i;
                    continue;
                }
                const int64_t row = s0 + i;
                const double *x = x0 + (int64_t)i * d;
                int64_t c = olab[row];
                double u = up(ou[row] + r.p[c]);
                if (elkan) {
                    const float *ol = olf + (size_t)row * (size_t)k;
                    float *l = L + (size_t)i * (size_t)k;
                    for (int64_t j = 0; j < k; j++) {
                        float t = (ol[j] - pf[j]) * c22;
                        l[j] = t > 0 ? t : 0;
                    }
                    if (elkan_row(&r, x, &c, &u, l)) need[nn++] = i;
                } else {
                    double l = dn(old_[row] - (c == r.pmax ? r.p2 : r.p1));
                    Lh[i] = l;
                    if (hamerly_row(&r, x, c, &u, l, ou[row])) need[nn++] = i;
                }
                lab[i] = (int32_t)c;
                U[i] = u;
            }
            /* every distance for the rows left open, in one batch */
            if (nn > 0) {
                const double *xb = x0;
                if (nn < m) {
                    for (int q = 0; q < nn; q++) memcpy(xs + (int64_t)q * d, x0 + (int64_t)need[q] * d, (size_t)d * sizeof(double));
                    xb = xs;
                }
                km_assign_bounds(&cs, xb, nn, lab2, crit2, elkan ? lo : NULL, elkan ? NULL : lo2, g);
                for (int q = 0; q < nn; q++) {
                    int i = need[q];
                    lab[i] = lab2[q];
                    U[i] = ub(&r, crit2[q]);
                    if (elkan) {
                        float *l = L + (size_t)i * (size_t)k;
                        for (int64_t j = 0; j < k; j++) l[j] = dnf(lb(&r, lo[(size_t)q * k + j]));
                    } else
                        Lh[i] = dn(lb(&r, lo2[q]));
                }
            }
            /* the new state, and Lloyd's accumulation in row order */
            if (wrows)
                for (int i = 0; i < m; i++) {
                    const int64_t row = s0 + i;
                    nlab[row] = lab[i];
                    nu[row] = U[i];
                    if (elkan)
                        memcpy(nlf + (size_t)row * (size_t)k, L + (size_t)i * (size_t)k, (size_t)k * sizeof(float));
                    else
                        nld[row] = Lh[i];
                }
            switch (d) {
            case 1: accumulate(1, x0, m, lab, sums, cnt); break;
            case 2: accumulate(2, x0, m, lab, sums, cnt); break;
            case 3: accumulate(3, x0, m, lab, sums, cnt); break;
            case 4: accumulate(4, x0, m, lab, sums, cnt); break;
            default: km__accum_wide(x0, m, d, lab, sums, cnt); break;
            }
            for (int i = 0; i < m; i++) {
                if (a.mode == KB_FINAL)
                    last += km_dist2(x0 + (int64_t)i * d, C + (int64_t)lab[i] * d, d);
                else
                    last += !old || lab[i] != olab[s0 + i];
            }
        }
        v[len - 1] = last;
        tree_push(&T, (uint64_t)(p->row0 / BLK + b), v, len);
        if ((b & 15) == 15 && H->cancelled(ctx)) rc = H->seterr(WB_ECANCELED, "interrupted");
    }
    if (!rc) {
        if (T.n != ntree) rc = H->seterr(WB_EINTERNAL, "kmeans: tree of %d nodes, %d expected", T.n, ntree);
        double *th = (double *)(o + LN.tree), *tv = th + 2 * (size_t)ntree;
        for (int q = 0; !rc && q < T.n; q++) {
            th[2 * q] = (double)T.level[q];
            th[2 * q + 1] = (double)T.index[q];
            memcpy(tv + (size_t)q * len, T.v[q], len * sizeof(double));
        }
    }
    for (int q = 0; q < T.n; q++) free(T.v[q]);
    km_cs_free(&cs);
    free(pf);
    free(hf);
    free(L);
    free(lo);
    free(g);
    free(xs);
    return rc;
}

/* kmeans.bounds_sums (task): the tree nodes of a kmeans.bounds result as
 * doubles: count, vector length, count x (level, index), the vectors */
static int k_bounds_sums(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg;
    (void)arglen;
    if (nin < 1 || in[0].type != WB_OBJ_BYTES || in[0].size < HDR * sizeof(double))
        return H->seterr(WB_EINVAL, "kmeans: bad bounds object");
    const double *h = in[0].data;
    layout L = lay((int64_t)h[0], (int64_t)h[2], (int64_t)h[3], (size_t)h[4]);
    if (L.end != in[0].size) return H->seterr(WB_EINVAL, "kmeans: bad bounds object");
    size_t n = (size_t)h[3] * (2 + (size_t)h[4]);
    double *o = H->out_bytes(ctx, (2 + n) * sizeof(double));
    if (!o) return WB_ENOMEM;
    o[0] = h[3];
    o[1] = h[4];
    memcpy(o + 2, (const unsigned char *)in[0].data + L.tree, n * sizeof(double));
    return 0;
}

static const wb_kernel_def kernels[] = {
    {.name = "kmeans.bounds", .fn = k_bounds},
    {.name = "kmeans.bounds_sums", .fn = k_bounds_sums},
};

int km_bounds_register(void) { return wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]); }
