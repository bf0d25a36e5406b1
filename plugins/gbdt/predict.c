/* predict.c — predict, predict_proba and score for gbdt models.
 *
 * The model's trees are packed once into a compact object (16 bytes a node)
 * that every partition's task reads in place; rows are walked through the
 * trees 64 at a time so a tree stays in cache while a block of rows passes.
 * Scores add up in tree order, the same order fit() used. */
#include <math.h>
#include <stdlib.h>

#include "gbdt.h"

enum { P_LABEL = 0, P_PROBA = 1, P_RAW = 2 };

typedef struct pack {
    gb_packhdr h;
    const int64_t *start;
    const int32_t *depth;
    const double *base;
    const double *classes;
    const gb_pnode *nodes;
    const double *value;
} pack;

static size_t pack_size(int64_t K, int64_t ntrees, int64_t nnodes, int64_t nclasses)
{
    return sizeof(gb_packhdr) + (size_t)(ntrees + 1) * 8 + gb_pad8((size_t)ntrees * 4) + (size_t)K * 8 +
           (size_t)nclasses * 8 + (size_t)nnodes * (sizeof(gb_pnode) + 8);
}

static int pack_view(const wb_obj *o, pack *p)
{
    if (o->type != WB_OBJ_BYTES || o->size < sizeof p->h) goto bad;
    memcpy(&p->h, o->data, sizeof p->h);
    const gb_packhdr *h = &p->h;
    if (h->magic != GB_PACK_MAGIC || h->K < 1 || h->K > GB_MAX_CLASSES || h->ntrees < 0 ||
        h->nnodes < 0 || h->nclasses < 0 || h->nclasses > GB_MAX_CLASSES ||
        o->size != pack_size(h->K, h->ntrees, h->nnodes, h->nclasses))
        goto bad;
    const unsigned char *b = (const unsigned char *)o->data + sizeof *h;
    p->start = (const int64_t *)b;
    p->depth = (const int32_t *)(b + (size_t)(h->ntrees + 1) * 8);
    p->base = (const double *)(b + (size_t)(h->ntrees + 1) * 8 + gb_pad8((size_t)h->ntrees * 4));
    p->classes = p->base + h->K;
    p->nodes = (const gb_pnode *)(p->classes + h->nclasses);
    p->value = (const double *)(p->nodes + h->nnodes);
    return 0;
bad:
    return H->seterr(WB_EINVAL, "gbdt: input is not a packed model");
}

/* one step down a tree */
static inline uint32_t step(const gb_pnode *nodes, uint32_t n, const double *xr)
{
    const gb_pnode *q = &nodes[n];
    double v = xr[q->feature];
    uint32_t left = q->left & INT32_MAX;
    int go_left = (v <= q->thr) | ((v != v) & (int)(q->left >> 31));
    return left + (uint32_t)!go_left;
}

/* raw scores of rows x[0..rows) into F (rows x K): eight rows walk a tree in
 * lockstep for the tree's depth, so their loads overlap */
static void raw_scores(const pack *p, const double *x, int64_t rows, int64_t d, double *F)
{
    const int64_t K = p->h.K, T = p->h.ntrees;
    const gb_pnode *nodes = p->nodes;
    const double *val = p->value;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t k = 0; k < K; k++) F[i * K + k] = p->base[k];
    enum { BR = 256, L = 8 };
    for (int64_t i0 = 0; i0 < rows; i0 += BR) {
        const int64_t m = rows - i0 < BR ? rows - i0 : BR;
        for (int64_t t = 0; t < T; t++) {
            const int64_t k = t % K;
            const uint32_t root = (uint32_t)p->start[t];
            const int depth = p->depth[t];
            int64_t i = i0;
            for (; i + L <= i0 + m; i += L) {
                uint32_t n[L];
                const double *xr[L];
                for (int j = 0; j < L; j++) {
                    n[j] = root;
                    xr[j] = x + (i + j) * d;
                }
                for (int s = 0; s < depth; s++)
                    for (int j = 0; j < L; j++) n[j] = step(nodes, n[j], xr[j]);
                for (int j = 0; j < L; j++) F[(i + j) * K + k] += val[n[j]];
            }
            for (; i < i0 + m; i++) {
                uint32_t n = root;
                for (int s = 0; s < depth; s++) n = step(nodes, n, x + i * d);
                F[i * K + k] += val[n];
            }
        }
    }
}

/* one row's raw scores -> label / probabilities */
static double to_label(const pack *p, const double *F)
{
    const gb_packhdr *h = &p->h;
    if (h->obj == GB_REGRESSION) return F[0];
    if (h->nclasses == 1) return p->classes[0];
    if (h->obj == GB_BINARY) return p->classes[F[0] > 0];
    int64_t b = 0;
    for (int64_t k = 1; k < h->K; k++)
        if (F[k] > F[b]) b = k;
    return p->classes[b];
}

static void to_proba(const pack *p, const double *F, double *out)
{
    const gb_packhdr *h = &p->h;
    if (h->nclasses == 1) {
        out[0] = 1;
        return;
    }
    if (h->obj == GB_BINARY) {
        double pr = 1 / (1 + exp(-F[0]));
        out[0] = 1 - pr;
        out[1] = pr;
        return;
    }
    double mx = F[0], s = 0;
    for (int64_t k = 1; k < h->K; k++)
        if (F[k] > mx) mx = F[k];
    for (int64_t k = 0; k < h->K; k++) s += (out[k] = exp(F[k] - mx));
    for (int64_t k = 0; k < h->K; k++) out[k] /= s;
}

static int64_t proba_cols(const pack *p)
{
    if (p->h.nclasses == 1) return 1;
    return p->h.obj == GB_BINARY ? 2 : p->h.K;
}

static int k_predict(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    pack pk;
    int32_t mode;
    int rc;
    if (nin < 2 || in[0].type != WB_OBJ_PART) return H->seterr(WB_EINVAL, "gbdt.predict: needs a partition and a model");
    if ((rc = pack_view(&in[1], &pk))) return rc;
    if (arglen != 4) return H->seterr(WB_EINVAL, "gbdt.predict: bad argument");
    memcpy(&mode, arg, 4);
    const wb_part *p = &in[0].part;
    if (p->cols != pk.h.d) return H->seterr(WB_EINVAL, "gbdt: the model was fitted on %lld features, the data has %lld",
                                            (long long)pk.h.d, (long long)p->cols);
    const int64_t K = pk.h.K, cols = mode == P_PROBA ? proba_cols(&pk) : mode == P_RAW ? K : 1;
    double *x;
    if ((rc = H->out_part(ctx, p->rows, cols, p->row0, 0, &x, NULL))) return rc;
    enum { CH = 1024 };
    double *F = malloc(CH * (size_t)K * sizeof *F);
    if (!F) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    for (int64_t i0 = 0; i0 < p->rows; i0 += CH) {
        int64_t m = p->rows - i0 < CH ? p->rows - i0 : CH;
        raw_scores(&pk, p->x + (size_t)i0 * (size_t)p->cols, m, p->cols, F);
        for (int64_t i = 0; i < m; i++) {
            double *o = x + (size_t)(i0 + i) * (size_t)cols;
            if (mode == P_LABEL)
                o[0] = to_label(&pk, F + i * K);
            else if (mode == P_PROBA)
                to_proba(&pk, F + i * K, o);
            else
                memcpy(o, F + i * K, (size_t)K * sizeof *F);
        }
        if (H->cancelled(ctx)) {
            free(F);
            return H->seterr(WB_ECANCELED, "interrupted");
        }
    }
    free(F);
    return 0;
}

/* map_sum kernel: per block, mode 0: {correct, rows}; mode 1: {sum y,
 * sum (y - pred)^2, rows}; mode 2 (arg: mean): {sum (y - mean)^2} */
static int k_score(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    pack pk;
    int rc;
    struct {
        int32_t mode, pad;
        double mean;
    } a;
    if (nin < 2 || in[0].type != WB_OBJ_PART) return H->seterr(WB_EINVAL, "gbdt.score: needs a partition and a model");
    if ((rc = pack_view(&in[1], &pk))) return rc;
    if (arglen != sizeof a) return H->seterr(WB_EINVAL, "gbdt.score: bad argument");
    memcpy(&a, arg, sizeof a);
    const wb_part *p = &in[0].part;
    if (!p->y) return H->seterr(WB_EINVAL, "gbdt: score needs labels");
    if (p->cols != pk.h.d) return H->seterr(WB_EINVAL, "gbdt: the model was fitted on %lld features, the data has %lld",
                                            (long long)pk.h.d, (long long)p->cols);
    double *o = H->out_bytes(ctx, (a.mode == 2 ? 1 : a.mode == 1 ? 3 : 2) * sizeof(double));
    if (!o) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    if (a.mode == 2) {
        for (int64_t i = 0; i < p->rows; i++) o[0] += (p->y[i] - a.mean) * (p->y[i] - a.mean);
        return 0;
    }
    const int64_t K = pk.h.K;
    double *F = malloc((size_t)(p->rows > 0 ? p->rows : 1) * (size_t)K * sizeof *F);
    if (!F) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    raw_scores(&pk, p->x, p->rows, p->cols, F);
    for (int64_t i = 0; i < p->rows; i++) {
        double v = to_label(&pk, F + i * K);
        if (a.mode == 0)
            o[0] += v == p->y[i];
        else {
            o[0] += p->y[i];
            o[1] += (p->y[i] - v) * (p->y[i] - v);
        }
    }
    o[a.mode == 0 ? 1 : 2] = (double)p->rows;
    free(F);
    return 0;
}

/* ------------------------------------------------------------- the driver */

static int need(const wb_model *m, const char *name, int64_t *r, int64_t *c, const double **v)
{
    *v = H->model_array(m, name, r, c);
    if (!*v) return H->seterr(WB_EINVAL, "gbdt: the model has no '%s' (not a gbdt model?)", name);
    return 0;
}

/* the model packed into an object of ex */
static int make_pack(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_oid *out, pack *info)
{
    int64_t tr, tc, sr, sc, br, bc, cr = 0, cc = 0;
    const double *trees, *start, *base, *classes = NULL;
    int rc;
    if ((rc = need(m, "trees", &tr, &tc, &trees)) || (rc = need(m, "tree_start", &sr, &sc, &start)) ||
        (rc = need(m, "base_score", &br, &bc, &base)))
        return rc;
    const char *obj = H->model_str(m, "objective");
    int o = obj && !strcmp(obj, "regression") ? GB_REGRESSION : obj && !strcmp(obj, "multiclass") ? GB_MULTI
            : obj && !strcmp(obj, "binary")                      ? GB_BINARY
                                                                  : 0;
    double nf = H->model_num(m, "n_features"), K = H->model_num(m, "trees_per_round");
    if (o != GB_REGRESSION) classes = H->model_array(m, "classes", &cr, &cc);
    /* every count is checked for range before it is converted or multiplied:
     * the model may come from a file (wb.load_model) or have been changed */
    if (!o || !(nf >= 1 && nf <= INT32_MAX && nf == floor(nf)) || !(K >= 1 && K <= GB_MAX_CLASSES && K == floor(K)) ||
        tc != 8 || tr < 0 || tr > INT32_MAX || sr * sc < 1 || br * bc != (int64_t)K ||
        (o != GB_MULTI && K != 1) || (o != GB_REGRESSION && (!classes || cr * cc < 1 || cr * cc > GB_MAX_CLASSES)) ||
        (o == GB_MULTI && cr * cc != (int64_t)K) || (o == GB_BINARY && cr * cc > 2))
        return H->seterr(WB_EINVAL, "gbdt: the model's fields do not fit together");
    int64_t ntrees = sr * sc - 1, nnodes = tr;
    for (int64_t k = 0; k < (int64_t)K; k++)
        if (!isfinite(base[k])) return H->seterr(WB_EINVAL, "gbdt: the model's base_score is not finite");
    for (int64_t k = 0; classes && k < cr * cc; k++)
        if (!isfinite(classes[k])) return H->seterr(WB_EINVAL, "gbdt: the model's classes are not finite");
    if (H->ds_cols(d) != (int64_t)nf)
        return H->seterr(WB_EINVAL, "gbdt: the model was fitted on %.0f features, the data has %lld", nf,
                         (long long)H->ds_cols(d));
    int64_t ncl = o == GB_REGRESSION ? 0 : cr * cc;
    size_t size = pack_size((int64_t)K, ntrees, nnodes, ncl);
    unsigned char *b = calloc(1, size);
    if (!b) return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    gb_packhdr h = {GB_PACK_MAGIC, 0, (int64_t)K, (int64_t)nf, o, ntrees, nnodes, ncl};
    memcpy(b, &h, sizeof h);
    int64_t *st = (int64_t *)(b + sizeof h);
    int32_t *dep = (int32_t *)(st + ntrees + 1);
    double *bs = (double *)((unsigned char *)dep + gb_pad8((size_t)ntrees * 4)), *cl = bs + (int64_t)K;
    gb_pnode *nodes = (gb_pnode *)(cl + ncl);
    double *val = (double *)(nodes + nnodes);
    /* depth of each node, -1 until its parent names it: every node but a root
     * has exactly one parent, before it in its tree, so the trees are trees
     * and a walk of a tree's depth ends on a leaf */
    int32_t *nd = malloc((size_t)(nnodes > 0 ? nnodes : 1) * sizeof *nd);
    if (nd)
        for (int64_t q = 0; q < nnodes; q++) nd[q] = -1;
    if (!nd) {
        free(b);
        return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    rc = 0;
    for (int64_t t = 0; t <= ntrees && !rc; t++) {
        double s = start[t];
        if (!(s >= 1 && s <= (double)nnodes + 1 && s == floor(s)) || (t > 0 && s <= start[t - 1]) ||
            (t == ntrees && s != (double)nnodes + 1)) {
            rc = H->seterr(WB_EINVAL, "gbdt: the model's tree_start is malformed");
            break; /* s is out of range: not converted */
        }
        st[t] = (int64_t)s - 1;
    }
    memcpy(bs, base, (size_t)K * 8);
    if (ncl) memcpy(cl, classes, (size_t)ncl * 8);
    for (int64_t t = 0; t < ntrees && !rc; t++) {
        dep[t] = 0;
        nd[st[t]] = 0;
        for (int64_t q = st[t]; q < st[t + 1] && !rc; q++) {
            const double *row = trees + q * 8;
            gb_pnode *n = &nodes[q];
            if (nd[q] < 0) {
                rc = H->seterr(WB_EINVAL, "gbdt: the model's trees are malformed at row %lld (a node no node above it leads to)",
                               (long long)q + 1);
                break;
            }
            if (row[0] == 0) {
                if (!isfinite(row[5])) {
                    rc = H->seterr(WB_EINVAL, "gbdt: the model's trees are malformed at row %lld", (long long)q + 1);
                    break;
                }
                n->feature = 0;
                n->thr = INFINITY;
                n->left = (uint32_t)q | 0x80000000u;
                val[q] = row[5];
                if (nd[q] > dep[t]) dep[t] = nd[q];
                continue;
            }
            double L = row[3];
            /* children inside the same tree, after their parent, right = left + 1 */
            if (!(row[0] >= 1 && row[0] <= nf && row[0] == floor(row[0])) || !(L - 1 > (double)q) ||
                !(L < (double)st[t + 1]) || L != floor(L) || row[4] != L + 1 || !(row[1] == row[1]) ||
                nd[(int64_t)L - 1] >= 0 || nd[(int64_t)L] >= 0) {
                rc = H->seterr(WB_EINVAL, "gbdt: the model's trees are malformed at row %lld", (long long)q + 1);
                break;
            }
            n->feature = (int32_t)row[0] - 1;
            n->thr = row[1];
            n->left = (uint32_t)(L - 1) | (row[2] != 0 ? 0x80000000u : 0);
            val[q] = 0;
            nd[(int64_t)L - 1] = nd[(int64_t)L] = nd[q] + 1;
        }
    }
    free(nd);
    if (!rc) rc = H->put(ex, b, size, out);
    if (!rc && info) {
        info->h = h;
    }
    free(b);
    return rc;
}

static int run(wb_exec *ex, const wb_model *m, const wb_dataset *d, int mode, wb_dataset **out)
{
    wb_oid pk;
    pack info;
    int rc = make_pack(ex, m, d, &pk, &info);
    if (rc) return rc;
    if (mode == P_PROBA && info.h.obj == GB_REGRESSION) {
        H->release(ex, pk);
        return H->seterr(WB_EINVAL, "gbdt: predict_proba needs a classification model (this one is a regression)");
    }
    int32_t md = mode;
    rc = H->map_dataset(ex, "gbdt.predict", d, &pk, 1, &md, 4, out);
    H->release(ex, pk);
    return rc;
}

int gb_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return run(ex, m, d, P_LABEL, out);
}

int gb_predict_proba(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return run(ex, m, d, P_PROBA, out);
}

int gb_score(wb_exec *ex, const wb_model *m, const wb_dataset *d, double *out)
{
    if (!H->ds_has_labels(d)) return H->seterr(WB_EINVAL, "gbdt: score needs data with labels");
    if (H->ds_rows(d) < 1) return H->seterr(WB_EINVAL, "gbdt: score needs at least one row");
    wb_oid pk;
    pack info;
    int rc = make_pack(ex, m, d, &pk, &info);
    if (rc) return rc;
    struct {
        int32_t mode, pad;
        double mean;
    } a = {info.h.obj == GB_REGRESSION ? 1 : 0, 0, 0};
    double v[3] = {0, 0, 0};
    rc = H->map_sum(ex, "gbdt.score", d, &pk, 1, &a, sizeof a, v, a.mode == 1 ? 3 : 2);
    if (!rc && a.mode == 0) *out = v[0] / v[1];
    if (!rc && a.mode == 1) {
        /* R^2: 1 - residual / total sum of squares */
        double ssres = v[1], n = v[2];
        a.mode = 2;
        a.mean = v[0] / n;
        double sst = 0;
        rc = H->map_sum(ex, "gbdt.score", d, &pk, 1, &a, sizeof a, &sst, 1);
        if (!rc) *out = sst > 0 ? 1 - ssres / sst : (ssres == 0 ? 1 : 0);
    }
    H->release(ex, pk);
    return rc;
}

static const wb_kernel_def kernels[] = {
    {.name = "gbdt.predict", .fn = k_predict},
    {.name = "gbdt.score", .fn = k_score},
};

int gb_register_predict_kernels(void) { return wb_register_kernels(H, kernels, sizeof kernels / sizeof kernels[0]); }
