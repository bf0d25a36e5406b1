/* datagen — the data sources: wb.datagen.classification (the scikit-learn
 * make_classification recipe), swiss_roll, blobs and regression
 * (make_regression's).
 *
 * Every row is drawn from the random stream of its 4096-row block (seed,
 * stream, block), so the data is the same whatever the number of threads,
 * partitions or workers, and generating in chunks (straight to a file) gives
 * the same rows. The shared random parameters (centroids, covariance
 * matrices, the feature permutation) are drawn once on the driver from the
 * seed and travel to the kernels as their argument. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wb/plugin.h"

static const wb_host *H;

enum { S_SHARED = 1, S_ROWS = 2 }; /* random streams */

/* kernel argument header; the source's own numbers follow */
typedef struct genhdr {
    int64_t g0;   /* global index of the first row (random streams) */
    int64_t row0; /* index of the first row in the dataset being made */
    int64_t rows;
    uint64_t seed;
} genhdr;

/* one task per partition of rows [lo, hi): kernel `k`, argument = hdr + extra */
static int make_parts(wb_exec *ex, const char *k, int64_t d, uint64_t seed, int64_t lo, int64_t hi,
                      const void *extra, size_t extralen, wb_dataset **out)
{
    /* the same partition size the core uses (about 4 MB, a multiple of 4096 rows) */
    int64_t B = WB_BLOCK_ROWS, P = ((int64_t)4 << 20) / (8 * (d > 0 ? d : 1)) / B * B;
    if (P < B) P = B;
    if (lo % B) return H->seterr(WB_EINVAL, "datagen: chunk start %lld is not a multiple of %lld", (long long)lo, (long long)B);
    int64_t n = hi - lo;
    int np = (int)((n + P - 1) / P);
    wb_oid *outs = H->alloc((size_t)(np ? np : 1) * sizeof *outs);
    unsigned char *arg = H->alloc(sizeof(genhdr) + extralen);
    if (!outs || !arg) {
        H->free(outs);
        H->free(arg);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    if (extralen) memcpy(arg + sizeof(genhdr), extra, extralen);
    int rc = 0, made = 0;
    for (int i = 0; i < np && !rc; i++) {
        genhdr h = {lo + (int64_t)i * P, (int64_t)i * P, (n - (int64_t)i * P) < P ? n - (int64_t)i * P : P, seed};
        memcpy(arg, &h, sizeof h); /* the executor copies the argument at submit */
        rc = H->submit(ex, k, NULL, 0, arg, sizeof(genhdr) + extralen, &outs[i]);
        if (!rc) made++;
    }
    if (!rc) rc = H->wait(ex, outs, made);
    if (!rc) rc = H->ds_from_parts(ex, outs, np, out);
    for (int i = 0; i < made; i++) H->release(ex, outs[i]);
    H->free(outs);
    H->free(arg);
    return rc;
}

static int parse_hdr(const void *arg, size_t arglen, size_t extralen, genhdr *h)
{
    if (arglen != sizeof *h + extralen) return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    memcpy(h, arg, sizeof *h);
    if (h->g0 % WB_BLOCK_ROWS || h->rows < 0) return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    return 0;
}

/* ======================================================= classification */

#define MAXF 100000

/* two doubles in a vector register (GCC/Clang vector extension) */
typedef double v2d __attribute__((vector_size(16)));
static inline v2d ld2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st2(double *p, v2d v) { memcpy(p, &v, sizeof v); }

typedef struct cls_shape {
    int64_t features, informative, redundant, repeated, classes, clusters;
    double flip_y;
    int hypercube_unused;
    int64_t pad;
} cls_shape;
/* argument after the shape: cw[clusters] (cumulative weights), centroid[clusters*inf],
 * A[clusters*inf*inf], B[inf*red], rep[repeated] (source column), perm[features],
 * shift[features], scale[features] */

static size_t cls_extra_len(const cls_shape *s)
{
    return sizeof *s + 8 * (size_t)(s->clusters + s->clusters * s->informative +
                                    s->clusters * s->informative * s->informative +
                                    s->informative * s->redundant + s->repeated + 3 * s->features);
}

static int k_classification(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    genhdr h;
    cls_shape s;
    (void)in;
    (void)nin;
    if (arglen < sizeof h + sizeof s) return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    memcpy(&s, (const char *)arg + sizeof h, sizeof s);
    if (s.features < 1 || s.features > MAXF || s.informative < 1 || s.informative > s.features ||
        s.redundant < 0 || s.repeated < 0 || s.clusters < 1 || s.classes < 2 ||
        s.informative + s.redundant + s.repeated > s.features)
        return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    int rc = parse_hdr(arg, arglen, cls_extra_len(&s), &h);
    if (rc) return rc;
    const int64_t d = s.features, ni = s.informative, nr = s.redundant, np = s.repeated, nk = s.clusters;
    const int64_t nu = d - ni - nr - np; /* useless (noise) features */
    const double *cw = (const double *)((const char *)arg + sizeof h + sizeof s);
    const double *cen = cw + nk, *A = cen + nk * ni, *Bm = A + nk * ni * ni, *rep = Bm + ni * nr;
    const double *perm = rep + np, *shift = perm + d, *scale = shift + d;
    double *x, *y;
    if ((rc = H->out_part(ctx, h.rows, d, h.row0, 1, &x, &y)) != 0) return rc;
    /* per block: the cluster uniforms, all normals, the flip uniforms, drawn in
     * bulk from the block's stream; then the rows are computed from them */
    const int64_t B = WB_BLOCK_ROWS, nz = ni + nu;
    double *scratch = H->alloc((size_t)(B * (nz + 2) + d + 80) * sizeof(double));
    if (!scratch) return H->seterr(WB_ENOMEM, "out of memory");
    double *uc = scratch, *uf = uc + B, *zz = uf + B, *tmp = zz + B * nz;
    /* iperm[d], then the label of each cluster (k % classes: no division per row) */
    int64_t *iperm = H->alloc((size_t)(d + nk) * sizeof(int64_t)), *klabel = iperm ? iperm + d : NULL;
    if (!iperm) {
        H->free(scratch);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    for (int64_t k = 0; k < nk; k++) klabel[k] = k % s.classes;
    for (int64_t j = 0; j < d; j++) {
        iperm[j] = (int64_t)perm[j];
        if (iperm[j] < 0 || iperm[j] >= d) {
            H->free(scratch);
            H->free(iperm);
            return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
        }
    }
    /* up to 8 informative and 8 redundant features: matrices padded to 8 columns
     * (per cluster: A in 64 numbers, then the centroid in 8; then B) so the
     * products run in registers */
    double *pad = NULL;
    if (ni <= 8 && nr <= 8 && nk <= 4096) {
        pad = H->alloc((size_t)(nk * 72 + 64) * sizeof(double));
        if (!pad) {
            H->free(scratch);
            H->free(iperm);
            return H->seterr(WB_ENOMEM, "out of memory");
        }
        memset(pad, 0, (size_t)(nk * 72 + 64) * sizeof(double));
        for (int64_t k = 0; k < nk; k++) {
            for (int64_t a = 0; a < ni; a++)
                for (int64_t j = 0; j < ni; j++) pad[k * 72 + a * 8 + j] = A[k * ni * ni + a * ni + j];
            for (int64_t j = 0; j < ni; j++) pad[k * 72 + 64 + j] = cen[k * ni + j];
        }
        for (int64_t a = 0; a < ni; a++)
            for (int64_t j = 0; j < nr; j++) pad[nk * 72 + a * 8 + j] = Bm[a * nr + j];
    }
    for (int64_t i0 = 0; i0 < h.rows; i0 += B) {
        int64_t g0 = h.g0 + i0, m = h.rows - i0 < B ? h.rows - i0 : B;
        wb_rng r;
        wb_rng_init(&r, h.seed, S_ROWS, (uint64_t)(g0 / B));
        /* always a whole block of draws, so a row does not depend on where the
         * data ends */
        wb_rng_uniforms(&r, uc, (size_t)B);
        wb_rng_normals(&r, zz, (size_t)(B * nz));
        wb_rng_uniforms(&r, uf, (size_t)B);
        for (int64_t i = 0; i < m; i++) {
            int64_t k = 0;
            while (k < nk - 1 && uc[i] >= cw[k]) k++;
            const double *z = zz + i * nz;
            /* informative: N(0, I) times the cluster's covariance factor, at its
             * vertex; redundant: linear combinations of the informative ones */
            if (pad) {
                /* four 2-lane vectors hold the 8 padded outputs in registers */
                const double *Ak = pad + k * 72, *Bp = pad + nk * 72;
                v2d a0 = ld2(Ak + 64), a1 = ld2(Ak + 66), a2 = ld2(Ak + 68), a3 = ld2(Ak + 70);
                for (int64_t q = 0; q < ni; q++) {
                    const v2d za = {z[q], z[q]};
                    const double *row = Ak + q * 8;
                    a0 += za * ld2(row);
                    a1 += za * ld2(row + 2);
                    a2 += za * ld2(row + 4);
                    a3 += za * ld2(row + 6);
                }
                /* the informative values straight into tmp (its padding
                 * lanes are zero and overwritten next) */
                st2(tmp, a0);
                st2(tmp + 2, a1);
                st2(tmp + 4, a2);
                st2(tmp + 6, a3);
                v2d r0 = {0, 0}, r1 = r0, r2 = r0, r3 = r0;
                for (int64_t q = 0; q < ni; q++) {
                    const v2d v = {tmp[q], tmp[q]};
                    const double *row = Bp + q * 8;
                    r0 += v * ld2(row);
                    r1 += v * ld2(row + 2);
                    r2 += v * ld2(row + 4);
                    r3 += v * ld2(row + 6);
                }
                st2(tmp + ni, r0);
                st2(tmp + ni + 2, r1);
                st2(tmp + ni + 4, r2);
                st2(tmp + ni + 6, r3);
            } else {
                const double *Ak = A + k * ni * ni, *ck = cen + k * ni;
                for (int64_t j = 0; j < ni; j++) tmp[j] = ck[j];
                for (int64_t a = 0; a < ni; a++) {
                    const double za = z[a];
                    const double *Arow = Ak + a * ni;
                    for (int64_t j = 0; j < ni; j++) tmp[j] += za * Arow[j];
                }
                double *red = tmp + ni;
                for (int64_t j = 0; j < nr; j++) red[j] = 0;
                for (int64_t a = 0; a < ni; a++) {
                    const double v = tmp[a];
                    const double *Brow = Bm + a * nr;
                    for (int64_t j = 0; j < nr; j++) red[j] += v * Brow[j];
                }
            }
            /* repeated: copies; the rest: noise */
            for (int64_t j = 0; j < np; j++) tmp[ni + nr + j] = tmp[(int64_t)rep[j]];
            for (int64_t j = 0; j < nu; j++) tmp[ni + nr + np + j] = z[ni + j];
            /* the label, replaced at random with probability flip_y (the class
             * drawn from the same uniform, rescaled) */
            int64_t label = klabel[k];
            if (uf[i] < s.flip_y) {
                label = (int64_t)(uf[i] / s.flip_y * (double)s.classes);
                if (label >= s.classes) label = s.classes - 1;
            }
            /* shift, scale, and the fixed permutation of the features (perm holds,
             * for each source column, where it goes) */
            double *xo = x + (i0 + i) * d;
            for (int64_t j = 0; j < d; j++) xo[iperm[j]] = (tmp[j] + shift[j]) * scale[j];
            y[i0 + i] = (double)label;
        }
        if (H->cancelled(ctx)) {
            H->free(scratch);
            H->free(pad);
            H->free(iperm);
            return H->seterr(WB_ECANCELED, "interrupted");
        }
    }
    H->free(scratch);
    H->free(pad);
    H->free(iperm);
    return 0;
}

static const wb_param_spec cls_params[] = {
    {.name = "n", .types = WB_P_INT, .min = 1, .max = INFINITY, .doc = "rows"},
    {.name = "features", .types = WB_P_INT, .def = "20", .min = 1, .max = MAXF, .doc = "columns"},
    {.name = "informative", .types = WB_P_INT, .def = "2", .min = 1, .max = MAXF, .doc = "informative features"},
    {.name = "redundant", .types = WB_P_INT, .def = "2", .min = 0, .max = MAXF,
     .doc = "random linear combinations of the informative features"},
    {.name = "repeated", .types = WB_P_INT, .def = "0", .min = 0, .max = MAXF,
     .doc = "copies of informative or redundant features"},
    {.name = "classes", .types = WB_P_INT, .def = "2", .min = 2, .max = INFINITY, .doc = "number of classes"},
    {.name = "clusters_per_class", .types = WB_P_INT, .def = "2", .min = 1, .max = INFINITY,
     .doc = "Gaussian clusters per class"},
    {.name = "weights", .types = WB_P_ARRAY, .flags = WB_P_NULLABLE,
     .doc = "proportion of each class (classes or classes-1 numbers)"},
    {.name = "flip_y", .types = WB_P_NUM, .def = "0.01", .min = 0, .max = 1,
     .doc = "fraction of labels assigned at random"},
    {.name = "class_sep", .types = WB_P_NUM, .def = "1.0", .min = 0, .max = INFINITY,
     .doc = "half the side of the hypercube"},
    {.name = "hypercube", .types = WB_P_BOOL, .def = "true",
     .doc = "clusters on hypercube vertices (else on a random polytope)"},
    {.name = "shift", .types = WB_P_NUM, .def = "0.0", .min = -INFINITY, .max = INFINITY,
     .doc = "added to every feature"},
    {.name = "scale", .types = WB_P_NUM, .def = "1.0", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "every feature multiplied by this"},
    {.name = "shuffle", .types = WB_P_BOOL, .def = "true", .doc = "permute the features at random"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY, .doc = "random seed"},
};

static int cls_check(const wb_params *p)
{
    int64_t d = H->param_int(p, "features"), ni = H->param_int(p, "informative"),
            nr = H->param_int(p, "redundant"), np = H->param_int(p, "repeated"),
            nc = H->param_int(p, "classes"), cpc = H->param_int(p, "clusters_per_class");
    if (ni + nr + np > d)
        return H->seterr(WB_EPARAM,
                         "datagen.classification: informative + redundant + repeated (%lld) must be <= features (%lld)",
                         (long long)(ni + nr + np), (long long)d);
    if (ni < 62 && (double)nc * (double)cpc > ldexp(1.0, (int)ni))
        return H->seterr(WB_EPARAM,
                         "datagen.classification: classes * clusters_per_class (%.0f) must be <= 2^informative (%.0f)",
                         (double)nc * (double)cpc, ldexp(1.0, (int)ni));
    /* in doubles: classes and clusters_per_class are unbounded, their
     * product in int64 overflows (found by fuzzing) */
    if ((double)nc * (double)cpc * (double)ni * (double)ni > ldexp(1.0, 26))
        return H->seterr(WB_EPARAM, "datagen.classification: too many clusters for %lld informative features",
                         (long long)ni);
    if (H->param_has(p, "weights")) {
        int64_t r, c;
        const double *w = H->param_array(p, "weights", &r, &c);
        if (r != 1 || (c != nc && c != nc - 1))
            return H->seterr(WB_EPARAM, "datagen.classification: parameter 'weights' must hold %lld or %lld numbers, got %lld x %lld",
                             (long long)nc, (long long)nc - 1, (long long)r, (long long)c);
        double sum = 0;
        for (int64_t j = 0; j < c; j++) {
            if (!(w[j] >= 0)) return H->seterr(WB_EPARAM, "datagen.classification: parameter 'weights' must be >= 0, got %g", w[j]);
            sum += w[j];
        }
        if (c == nc - 1 ? sum > 1 : !(sum > 0))
            return H->seterr(WB_EPARAM, "datagen.classification: parameter 'weights' must sum to %s, got %g",
                             c == nc - 1 ? "at most 1" : "more than 0", sum);
    }
    return 0;
}

/* the driver draws the shared parameters from the seed */
static int cls_make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    cls_shape s = {0};
    s.features = H->param_int(p, "features");
    s.informative = H->param_int(p, "informative");
    s.redundant = H->param_int(p, "redundant");
    s.repeated = H->param_int(p, "repeated");
    s.classes = H->param_int(p, "classes");
    int64_t cpc = H->param_int(p, "clusters_per_class");
    s.clusters = s.classes * cpc;
    s.flip_y = H->param_num(p, "flip_y");
    uint64_t seed = (uint64_t)H->param_int(p, "seed");
    double sep = H->param_num(p, "class_sep"), shiftv = H->param_num(p, "shift"), scalev = H->param_num(p, "scale");
    int64_t d = s.features, ni = s.informative, nr = s.redundant, np = s.repeated, nk = s.clusters, nc = s.classes;
    size_t len = cls_extra_len(&s);
    unsigned char *extra = H->alloc(len);
    if (!extra) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(extra, &s, sizeof s);
    double *cw = (double *)(extra + sizeof s), *cen = cw + nk, *A = cen + nk * ni, *Bm = A + nk * ni * ni,
           *rep = Bm + ni * nr, *perm = rep + np, *shift = perm + d, *scale = shift + d;
    wb_rng r;
    wb_rng_init(&r, seed, S_SHARED, 0);
    /* class weights -> cumulative cluster weights (a class's weight split over its clusters) */
    double *w = H->alloc((size_t)nc * sizeof(double));
    if (!w) {
        H->free(extra);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    if (H->param_has(p, "weights")) {
        int64_t rr, c;
        const double *wp = H->param_array(p, "weights", &rr, &c);
        double sum = 0;
        for (int64_t j = 0; j < c; j++) sum += wp[j];
        for (int64_t j = 0; j < c; j++) w[j] = wp[j];
        if (c == nc - 1) w[nc - 1] = 1 - sum;
        else
            for (int64_t j = 0; j < nc; j++) w[j] /= sum;
    } else
        for (int64_t j = 0; j < nc; j++) w[j] = 1.0 / (double)nc;
    double acc = 0;
    for (int64_t k = 0; k < nk; k++) {
        acc += w[k % nc] / (double)cpc;
        cw[k] = acc;
    }
    cw[nk - 1] = 2.0; /* the last cluster takes the rounding */
    H->free(w);
    /* centroids: distinct random vertices of the hypercube {-sep, +sep}^ni */
    for (int64_t k = 0; k < nk; k++) {
        for (;;) {
            for (int64_t j = 0; j < ni; j++) cen[k * ni + j] = (wb_rng_u64(&r) >> 63) ? sep : -sep;
            int dup = 0;
            for (int64_t q = 0; q < k && !dup; q++)
                dup = memcmp(cen + q * ni, cen + k * ni, (size_t)ni * sizeof(double)) == 0;
            if (!dup || ni >= 62) break;
        }
    }
    if (!H->param_bool(p, "hypercube")) { /* a random polytope instead */
        double *cs = H->alloc((size_t)(nk + ni) * sizeof(double));
        if (!cs) {
            H->free(extra);
            return H->seterr(WB_ENOMEM, "out of memory");
        }
        for (int64_t k = 0; k < nk + ni; k++) cs[k] = wb_rng_uniform(&r);
        for (int64_t k = 0; k < nk; k++)
            for (int64_t j = 0; j < ni; j++) cen[k * ni + j] *= cs[k] * cs[nk + j];
        H->free(cs);
    }
    for (int64_t q = 0; q < nk * ni * ni; q++) A[q] = 2 * wb_rng_uniform(&r) - 1;
    for (int64_t q = 0; q < ni * nr; q++) Bm[q] = 2 * wb_rng_uniform(&r) - 1;
    for (int64_t q = 0; q < np; q++) rep[q] = (double)(int64_t)((double)(ni + nr - 1) * wb_rng_uniform(&r) + 0.5);
    for (int64_t j = 0; j < d; j++) {
        perm[j] = (double)j;
        shift[j] = shiftv;
        scale[j] = scalev;
    }
    if (H->param_bool(p, "shuffle")) {
        /* output column j takes source column order[j] (Fisher-Yates); the kernel
         * wants the inverse: where each source column goes */
        double *order = H->alloc((size_t)d * sizeof(double));
        if (!order) {
            H->free(extra);
            return H->seterr(WB_ENOMEM, "out of memory");
        }
        for (int64_t j = 0; j < d; j++) order[j] = (double)j;
        for (int64_t j = d - 1; j > 0; j--) {
            int64_t q = (int64_t)wb_rng_below(&r, (uint64_t)j + 1);
            double t = order[j];
            order[j] = order[q];
            order[q] = t;
        }
        for (int64_t j = 0; j < d; j++) perm[(int64_t)order[j]] = (double)j;
        H->free(order);
    }
    int rc = make_parts(ex, "datagen.classification", d, seed, lo, hi, extra, len, out);
    H->free(extra);
    return rc;
}

static int cls_nclasses(const wb_params *p) { return (int)H->param_int(p, "classes"); }
static int64_t cls_cols(const wb_params *p) { return H->param_int(p, "features"); }

static const wb_source_def cls_def = {
    .version = WB_SOURCE_V1,
    .name = "classification",
    .doc = "a classification problem: Gaussian clusters on hypercube vertices (scikit-learn's make_classification recipe)",
    .params = cls_params,
    .nparams = sizeof cls_params / sizeof cls_params[0],
    .check = cls_check,
    .make = cls_make,
    .nclasses = cls_nclasses,
    .cols = cls_cols,
};

/* ============================================================ swiss roll */

static int k_swiss_roll(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    genhdr h;
    double noise;
    int rc = parse_hdr(arg, arglen, sizeof noise, &h);
    if (rc) return rc;
    memcpy(&noise, (const char *)arg + sizeof h, sizeof noise);
    double *x, *y;
    if ((rc = H->out_part(ctx, h.rows, 3, h.row0, 1, &x, &y)) != 0) return rc;
    wb_rng r;
    int64_t cur = -1;
    for (int64_t i = 0; i < h.rows; i++) {
        int64_t g = h.g0 + i, b = g / WB_BLOCK_ROWS;
        if (b != cur) {
            wb_rng_init(&r, h.seed, S_ROWS, (uint64_t)b);
            cur = b;
        }
        double t = 1.5 * M_PI * (1 + 2 * wb_rng_uniform(&r));
        double hgt = 21 * wb_rng_uniform(&r);
        double *o = x + 3 * i;
        o[0] = t * cos(t);
        o[1] = hgt;
        o[2] = t * sin(t);
        if (noise > 0)
            for (int j = 0; j < 3; j++) o[j] += noise * wb_rng_normal(&r);
        y[i] = t; /* the position along the roll, as scikit-learn returns it */
    }
    (void)in;
    (void)nin;
    return 0;
}

static const wb_param_spec roll_params[] = {
    {.name = "n", .types = WB_P_INT, .min = 1, .max = INFINITY, .doc = "rows"},
    {.name = "noise", .types = WB_P_NUM, .def = "0.0", .min = 0, .max = INFINITY,
     .doc = "standard deviation of Gaussian noise added to each coordinate"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY, .doc = "random seed"},
};

static int roll_make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    double noise = H->param_num(p, "noise");
    return make_parts(ex, "datagen.swiss_roll", 3, (uint64_t)H->param_int(p, "seed"), lo, hi, &noise,
                      sizeof noise, out);
}
static int roll_nclasses(const wb_params *p) { (void)p; return 0; }
static int64_t roll_cols(const wb_params *p) { (void)p; return 3; }

static const wb_source_def roll_def = {
    .version = WB_SOURCE_V1,
    .name = "swiss_roll",
    .doc = "points on a swiss roll in 3-D (scikit-learn's make_swiss_roll); the labels hold the position t along the roll",
    .params = roll_params,
    .nparams = sizeof roll_params / sizeof roll_params[0],
    .make = roll_make,
    .nclasses = roll_nclasses,
    .cols = roll_cols,
};

/* ================================================================= blobs */

typedef struct blob_shape {
    int64_t features, centers;
    double std;
    int64_t pad;
} blob_shape; /* then centers x features doubles */

static int k_blobs(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    genhdr h;
    blob_shape s;
    if (arglen < sizeof h + sizeof s) return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    memcpy(&s, (const char *)arg + sizeof h, sizeof s);
    if (s.features < 1 || s.features > MAXF || s.centers < 1 || s.centers > 1 << 24)
        return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    int rc = parse_hdr(arg, arglen, sizeof s + (size_t)(s.features * s.centers) * 8, &h);
    if (rc) return rc;
    const double *c = (const double *)((const char *)arg + sizeof h + sizeof s);
    double *x, *y;
    int64_t d = s.features;
    if ((rc = H->out_part(ctx, h.rows, d, h.row0, 1, &x, &y)) != 0) return rc;
    wb_rng r;
    int64_t cur = -1;
    for (int64_t i = 0; i < h.rows; i++) {
        int64_t g = h.g0 + i, b = g / WB_BLOCK_ROWS;
        if (b != cur) {
            wb_rng_init(&r, h.seed, S_ROWS, (uint64_t)b);
            cur = b;
        }
        int64_t k = (int64_t)wb_rng_below(&r, (uint64_t)s.centers);
        for (int64_t j = 0; j < d; j++) x[i * d + j] = c[k * d + j] + s.std * wb_rng_normal(&r);
        y[i] = (double)k;
    }
    (void)in;
    (void)nin;
    return 0;
}

static const wb_param_spec blob_params[] = {
    {.name = "n", .types = WB_P_INT, .min = 1, .max = INFINITY, .doc = "rows"},
    {.name = "features", .types = WB_P_INT, .def = "2", .min = 1, .max = MAXF, .doc = "columns"},
    {.name = "centers", .types = WB_P_INT | WB_P_ARRAY, .def = "3", .min = 1, .max = 1 << 24,
     .doc = "number of centres, or the centres (k rows of features)"},
    {.name = "cluster_std", .types = WB_P_NUM, .def = "1.0", .min = 0, .max = INFINITY,
     .doc = "standard deviation of each blob"},
    {.name = "box", .types = WB_P_NUM, .def = "10.0", .min = 0, .max = INFINITY, .flags = WB_P_MIN_EXCL,
     .doc = "random centres are drawn uniformly from [-box, box]"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = INFINITY, .doc = "random seed"},
};

static int blob_check(const wb_params *p)
{
    if (H->param_type(p, "centers") == WB_P_ARRAY) {
        int64_t r, c;
        H->param_array(p, "centers", &r, &c);
        if (c != H->param_int(p, "features") || r < 1)
            return H->seterr(WB_EPARAM, "datagen.blobs: parameter 'centers' must have %lld columns (features), got %lld x %lld",
                             (long long)H->param_int(p, "features"), (long long)r, (long long)c);
    }
    return 0;
}

static int blob_make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    blob_shape s = {0};
    s.features = H->param_int(p, "features");
    s.std = H->param_num(p, "cluster_std");
    uint64_t seed = (uint64_t)H->param_int(p, "seed");
    const double *given = NULL;
    if (H->param_type(p, "centers") == WB_P_ARRAY) {
        int64_t r, c;
        given = H->param_array(p, "centers", &r, &c);
        s.centers = r;
    } else
        s.centers = H->param_int(p, "centers");
    size_t len = sizeof s + (size_t)(s.centers * s.features) * 8;
    unsigned char *extra = H->alloc(len);
    if (!extra) return H->seterr(WB_ENOMEM, "out of memory");
    memcpy(extra, &s, sizeof s);
    double *c = (double *)(extra + sizeof s), box = H->param_num(p, "box");
    if (given)
        memcpy(c, given, (size_t)(s.centers * s.features) * 8);
    else {
        wb_rng r;
        wb_rng_init(&r, seed, S_SHARED, 0);
        for (int64_t q = 0; q < s.centers * s.features; q++) c[q] = -box + 2 * box * wb_rng_uniform(&r);
    }
    int rc = make_parts(ex, "datagen.blobs", s.features, seed, lo, hi, extra, len, out);
    H->free(extra);
    return rc;
}
static int blob_nclasses(const wb_params *p)
{
    if (H->param_type(p, "centers") == WB_P_ARRAY) {
        int64_t r, c;
        H->param_array(p, "centers", &r, &c);
        return (int)r;
    }
    return (int)H->param_int(p, "centers");
}
static int64_t blob_cols(const wb_params *p) { return H->param_int(p, "features"); }

static const wb_source_def blob_def = {
    .version = WB_SOURCE_V1,
    .name = "blobs",
    .doc = "isotropic Gaussian blobs around random (or given) centres (scikit-learn's make_blobs)",
    .params = blob_params,
    .nparams = sizeof blob_params / sizeof blob_params[0],
    .check = blob_check,
    .make = blob_make,
    .nclasses = blob_nclasses,
    .cols = blob_cols,
};

/* ============================================================ regression */

typedef struct reg_shape {
    int64_t features;
    double noise, bias;
    int64_t pad;
} reg_shape; /* then features doubles: the coefficients (0 for uninformative columns) */

static int k_regression(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    genhdr h;
    reg_shape s;
    if (arglen < sizeof h + sizeof s) return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    memcpy(&s, (const char *)arg + sizeof h, sizeof s);
    if (s.features < 1 || s.features > MAXF) return H->seterr(WB_EINVAL, "datagen: bad kernel argument");
    int rc = parse_hdr(arg, arglen, sizeof s + (size_t)s.features * 8, &h);
    if (rc) return rc;
    const double *coef = (const double *)((const char *)arg + sizeof h + sizeof s);
    double *x, *y;
    int64_t d = s.features;
    if ((rc = H->out_part(ctx, h.rows, d, h.row0, 1, &x, &y)) != 0) return rc;
    wb_rng r;
    int64_t cur = -1;
    for (int64_t i = 0; i < h.rows; i++) {
        int64_t g = h.g0 + i, b = g / WB_BLOCK_ROWS;
        if (b != cur) {
            wb_rng_init(&r, h.seed, S_ROWS, (uint64_t)b);
            cur = b;
        }
        double *o = x + i * d, t = s.bias;
        for (int64_t j = 0; j < d; j++) {
            o[j] = wb_rng_normal(&r);
            t += coef[j] * o[j];
        }
        if (s.noise > 0) t += s.noise * wb_rng_normal(&r);
        y[i] = t;
    }
    (void)in;
    (void)nin;
    return 0;
}

static const wb_param_spec reg_params[] = {
    {"n", WB_P_INT, NULL, 1, INFINITY, 0, NULL, "rows"},
    {"features", WB_P_INT, "100", 1, MAXF, 0, NULL, "columns, each standard normal"},
    {"informative", WB_P_INT, "10", 0, MAXF, 0, NULL,
     "columns the target depends on (coefficients 100 * uniform(0, 1); the others 0)"},
    {"noise", WB_P_NUM, "0.0", 0, INFINITY, 0, NULL, "standard deviation of the Gaussian noise added to the target"},
    {"bias", WB_P_NUM, "0.0", -INFINITY, INFINITY, 0, NULL, "the target's intercept"},
    {"shuffle", WB_P_BOOL, "true", 0, 0, 0, NULL, "informative columns at random places (else the first ones)"},
    {"seed", WB_P_INT, "0", 0, INFINITY, 0, NULL, "random seed"},
};

static int reg_check(const wb_params *p)
{
    if (H->param_int(p, "informative") > H->param_int(p, "features"))
        return H->seterr(WB_EPARAM, "datagen.regression: parameter 'informative' (%lld) must be at most 'features' (%lld)",
                         (long long)H->param_int(p, "informative"), (long long)H->param_int(p, "features"));
    if (!isfinite(H->param_num(p, "bias")))
        return H->seterr(WB_EPARAM, "datagen.regression: parameter 'bias' must be a finite number");
    return 0;
}

/* the coefficients, as scikit-learn's make_regression draws them: the
 * informative ones 100 * uniform(0, 1), then (shuffle) the columns permuted */
static int reg_make(wb_exec *ex, const wb_params *p, int64_t lo, int64_t hi, wb_dataset **out)
{
    reg_shape s = {0};
    s.features = H->param_int(p, "features");
    s.noise = H->param_num(p, "noise");
    s.bias = H->param_num(p, "bias");
    int64_t inf = H->param_int(p, "informative"), d = s.features;
    uint64_t seed = (uint64_t)H->param_int(p, "seed");
    size_t len = sizeof s + (size_t)d * 8;
    unsigned char *extra = H->alloc(len);
    double *tmp = H->alloc((size_t)d * 8);
    if (!extra || !tmp) {
        H->free(extra);
        H->free(tmp);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    memcpy(extra, &s, sizeof s);
    double *coef = (double *)(extra + sizeof s);
    wb_rng r;
    wb_rng_init(&r, seed, S_SHARED, 0);
    for (int64_t j = 0; j < d; j++) tmp[j] = j < inf ? 100 * wb_rng_uniform(&r) : 0;
    if (H->param_bool(p, "shuffle")) /* Fisher-Yates: column j gets tmp[perm[j]] */
        for (int64_t j = d - 1; j > 0; j--) {
            int64_t k = (int64_t)wb_rng_below(&r, (uint64_t)j + 1);
            double t = tmp[j];
            tmp[j] = tmp[k];
            tmp[k] = t;
        }
    memcpy(coef, tmp, (size_t)d * 8);
    H->free(tmp);
    int rc = make_parts(ex, "datagen.regression", d, seed, lo, hi, extra, len, out);
    H->free(extra);
    return rc;
}
static int reg_nclasses(const wb_params *p)
{
    (void)p;
    return 0;
}
static int64_t reg_cols(const wb_params *p) { return H->param_int(p, "features"); }

static const wb_source_def reg_def = {
    .version = WB_SOURCE_V1,
    .name = "regression",
    .doc = "a linear regression problem: standard normal columns, a target linear in the informative ones plus "
           "noise (scikit-learn's make_regression recipe); the labels hold the target",
    .params = reg_params,
    .nparams = sizeof reg_params / sizeof reg_params[0],
    .check = reg_check,
    .make = reg_make,
    .nclasses = reg_nclasses,
    .cols = reg_cols,
};

static const wb_kernel_def kernels[] = {
    {.name = "datagen.classification", .fn = k_classification},
    {.name = "datagen.swiss_roll", .fn = k_swiss_roll},
    {.name = "datagen.blobs", .fn = k_blobs},
    {.name = "datagen.regression", .fn = k_regression},
};

WB_PLUGIN("datagen", "1.0")
{
    H = host;
    int rc = wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = H->register_source(&cls_def);
    if (!rc) rc = H->register_source(&roll_def);
    if (!rc) rc = H->register_source(&blob_def);
    if (!rc) rc = H->register_source(&reg_def);
    return rc;
}
