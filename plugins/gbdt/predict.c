/* predict.c — predict, predict_proba and score for gbdt models.
 *
 * The model's trees are packed once into a compact object (16 bytes a node)
 * that every partition's task reads in place; rows are walked through the
 * trees 64 at a time so a tree stays in cache while a block of rows passes.
 * Scores add up in tree order, the same order fit() used. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gbdt.h"
#include "wb/plugin_cols.h"

enum { P_LABEL = 0, P_PROBA = 1, P_RAW = 2 };

typedef struct pack {
    gb_packhdr h;
    const int64_t *start;
    const int32_t *depth;
    const double *base;
    const double *classes;
    const gb_pnode *nodes;
    const double *value;
    const uint64_t *sets;
    const int32_t *mapoff, *maplen, *maps, *labmap;
} pack;

/* the bytes of the category part (sets, maps, label map) */
static size_t cat_size(int64_t d, int64_t nsets, int64_t nmap, int64_t nlab)
{
    if (!nsets && !nmap && !nlab) return 0;
    return (size_t)nsets * 32 + gb_pad8(((size_t)2 * (size_t)d + (size_t)nmap + (size_t)nlab) * 4);
}

static size_t pack_size(int64_t K, int64_t ntrees, int64_t nnodes, int64_t nclasses, int64_t d, int64_t nsets,
                        int64_t nmap, int64_t nlab)
{
    return sizeof(gb_packhdr) + (size_t)(ntrees + 1) * 8 + gb_pad8((size_t)ntrees * 4) + (size_t)K * 8 +
           (size_t)nclasses * 8 + (size_t)nnodes * (sizeof(gb_pnode) + 8) + cat_size(d, nsets, nmap, nlab);
}

static int pack_view(const wb_obj *o, pack *p)
{
    if (o->type != WB_OBJ_BYTES || o->size < sizeof p->h) goto bad;
    memcpy(&p->h, o->data, sizeof p->h);
    const gb_packhdr *h = &p->h;
    if (h->magic != GB_PACK_MAGIC || h->K < 1 || h->K > GB_MAX_CLASSES || h->ntrees < 0 ||
        h->nnodes < 0 || h->nclasses < 0 || h->nclasses > GB_MAX_CLASSES || h->d < 0 || h->nsets < 0 ||
        h->nmap < 0 || h->nlab < 0 || h->d > (1 << 28) || h->nsets > GB_PN_INDEX || h->nmap > (1LL << 40) ||
        h->nlab > (1LL << 40) ||
        o->size != pack_size(h->K, h->ntrees, h->nnodes, h->nclasses, h->d, h->nsets, h->nmap, h->nlab))
        goto bad;
    const unsigned char *b = (const unsigned char *)o->data + sizeof *h;
    p->start = (const int64_t *)b;
    p->depth = (const int32_t *)(b + (size_t)(h->ntrees + 1) * 8);
    p->base = (const double *)(b + (size_t)(h->ntrees + 1) * 8 + gb_pad8((size_t)h->ntrees * 4));
    p->classes = p->base + h->K;
    p->nodes = (const gb_pnode *)(p->classes + h->nclasses);
    p->value = (const double *)(p->nodes + h->nnodes);
    p->sets = NULL;
    p->mapoff = p->maplen = p->maps = p->labmap = NULL;
    if (cat_size(h->d, h->nsets, h->nmap, h->nlab)) {
        p->sets = (const uint64_t *)(p->value + h->nnodes);
        p->mapoff = (const int32_t *)(p->sets + 4 * h->nsets);
        p->maplen = p->mapoff + h->d;
        p->maps = p->maplen + h->d;
        p->labmap = p->maps + h->nmap;
    }
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

/* one step down a tree with category splits: x holds the training codes of
 * category features (missing: NaN) */
static inline uint32_t step_cat(const gb_pnode *nodes, const uint64_t *sets, uint32_t n, const double *xr)
{
    const gb_pnode *q = &nodes[n];
    double v = xr[q->feature];
    uint32_t left = q->left & GB_PN_INDEX;
    int go_left;
    if (q->left & GB_PN_CAT) {
        if (v >= 0 && v < 256) go_left = gb_in_set(sets + 4 * (size_t)q->thr, (int)v);
        else go_left = (int)(q->left >> 31);
    } else
        go_left = (v <= q->thr) | ((v != v) & (int)(q->left >> 31));
    return left + (uint32_t)!go_left;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline uint32_t step_any(const pack *p, int cat, uint32_t n, const double *xr)
{
    return cat ? step_cat(p->nodes, p->sets, n, xr) : step(p->nodes, n, xr);
}

/* raw scores of rows x[0..rows) into F (rows x K): eight rows walk a tree in
 * lockstep for the tree's depth, so their loads overlap (cat: the model has
 * category splits; a separate copy of the loop, so models without them walk
 * as they did) */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void raw_scores_impl(const pack *p, const double *x, int64_t rows, int64_t d, double *F, const int cat)
{
    const int64_t K = p->h.K, T = p->h.ntrees;
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
                    for (int j = 0; j < L; j++) n[j] = step_any(p, cat, n[j], xr[j]);
                for (int j = 0; j < L; j++) F[(i + j) * K + k] += val[n[j]];
            }
            for (; i < i0 + m; i++) {
                uint32_t n = root;
                for (int s = 0; s < depth; s++) n = step_any(p, cat, n, x + i * d);
                F[i * K + k] += val[n];
            }
        }
    }
}

/* the rows x[0..rows) with category features as training codes (missing
 * and unseen levels: NaN) into out */
static void remap_rows(const pack *p, const double *x, int64_t rows, int64_t d, double *out)
{
    memcpy(out, x, (size_t)rows * (size_t)d * sizeof *x);
    for (int64_t j = 0; j < d; j++) {
        const int32_t off = p->mapoff[j], len = p->maplen[j];
        if (off < 0) continue;
        const int32_t *mp = p->maps + off;
        for (int64_t i = 0; i < rows; i++) {
            double v = out[i * d + j];
            if (v >= 0 && v < (double)len && v == floor(v)) {
                int32_t t = mp[(int64_t)v];
                out[i * d + j] = t >= 0 ? (double)t : NAN;
            } else
                out[i * d + j] = NAN;
        }
    }
}

static void raw_scores_num(const pack *p, const double *x, int64_t rows, int64_t d, double *F)
{
    raw_scores_impl(p, x, rows, d, F, 0);
}

static void raw_scores_cat(const pack *p, const double *x, int64_t rows, int64_t d, double *F)
{
    raw_scores_impl(p, x, rows, d, F, 1);
}

/* raw scores; scratch (rows x d) holds the remapped rows when the model has
 * category features */
static void raw_scores(const pack *p, const double *x, int64_t rows, int64_t d, double *F, double *scratch)
{
    if (!p->mapoff) {
        raw_scores_num(p, x, rows, d, F);
        return;
    }
    remap_rows(p, x, rows, d, scratch);
    raw_scores_cat(p, scratch, rows, d, F);
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
    double *scratch = pk.mapoff ? malloc(CH * (size_t)(p->cols > 0 ? p->cols : 1) * sizeof *scratch) : NULL;
    if (!F || (pk.mapoff && !scratch)) {
        free(F);
        free(scratch);
        return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    for (int64_t i0 = 0; i0 < p->rows; i0 += CH) {
        int64_t m = p->rows - i0 < CH ? p->rows - i0 : CH;
        raw_scores(&pk, p->x + (size_t)i0 * (size_t)p->cols, m, p->cols, F, scratch);
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
            free(scratch);
            return H->seterr(WB_ECANCELED, "interrupted");
        }
    }
    free(F);
    free(scratch);
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
    double *scratch = pk.mapoff ? malloc((size_t)(p->rows > 0 ? p->rows : 1) * (size_t)(p->cols > 0 ? p->cols : 1) * sizeof *scratch)
                                : NULL;
    if (!F || (pk.mapoff && !scratch)) {
        free(F);
        free(scratch);
        return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    raw_scores(&pk, p->x, p->rows, p->cols, F, scratch);
    free(scratch);
    for (int64_t i = 0; i < p->rows; i++) {
        double v = to_label(&pk, F + i * K);
        double y = p->y[i];
        if (pk.h.nlab) /* the data's label codes as the model's (unseen: never right) */
            y = y >= 0 && y < (double)pk.h.nlab && y == floor(y) && pk.labmap[(int64_t)y] >= 0 ? pk.labmap[(int64_t)y] : -1;
        if (a.mode == 0)
            o[0] += v == y;
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

/* the category part of a model, checked, for data d: per feature its
 * training levels (NULL: a number feature), the maps of d's codes, the
 * sets of the category splits (node row -> set index), the label map */
typedef struct catpart {
    int any;
    wbc_jv *levels;
    int32_t *mapoff, *maplen, *maps, *labmap;
    int64_t nmap, nlab, nsets;
    int64_t *set_of;  /* per node: its set index, -1 */
    uint64_t *sets;
} catpart;

static void catpart_free(catpart *c)
{
    wbc_json_free(c->levels);
    free(c->mapoff);
    free(c->maplen);
    free(c->maps);
    free(c->labmap);
    free(c->set_of);
    free(c->sets);
    memset(c, 0, sizeof *c);
}

static const char *col_label(const wb_dataset *d, int64_t j, char *buf, size_t len)
{
    return wbc_col_label(H, d, j, buf, len);
}

static int catpart_read(const wb_model *m, const wb_dataset *d, int64_t nf, int64_t nnodes, const double *trees,
                        catpart *c)
{
    memset(c, 0, sizeof *c);
    int64_t r = 0, cc = 0, sr = 0, sc = 0;
    const double *flag = H->model_array(m, "categorical", &r, &cc);
    int rc = 0;
    char b[32];
    if (H->model_has(m, "categorical") && (!flag || r * cc != nf)) goto bad;
    /* the data's columns must have the types the model was fitted with */
    for (int64_t j = 0; j < nf; j++) {
        int mc = flag ? flag[j] == 1 : 0;
        if (flag && flag[j] != 0 && flag[j] != 1) goto bad;
        int dc = H->ds_col_type(d, j) == WB_COL_CATEGORY;
        if (mc != dc)
            return H->seterr(WB_EINVAL, "gbdt: column '%s' holds %s in the data, %s when the model was fitted",
                             col_label(d, j, b, sizeof b), dc ? "categories" : "numbers", mc ? "categories" : "numbers");
        c->any |= mc;
    }
    /* the labels' class names, for score on data whose levels differ */
    const char *ll = H->model_str(m, "label_levels");
    const int64_t dl = H->ds_label_nlevels(d);
    if (ll && dl > 0 && H->ds_has_labels(d)) {
        wbc_jv *lv = NULL;
        if (wbc_json_parse(ll, &lv) || !wbc_json_is_strings(lv, -1, 1)) {
            wbc_json_free(lv);
            goto bad;
        }
        int same = lv->n == dl;
        for (int64_t k = 0; same && k < dl; k++) same = !strcmp(lv->items[k].s, H->ds_label_level(d, k));
        if (!same) {
            c->labmap = malloc((size_t)dl * sizeof *c->labmap);
            if (!c->labmap) {
                wbc_json_free(lv);
                return H->seterr(WB_ENOMEM, "gbdt: out of memory");
            }
            for (int64_t k = 0; k < dl; k++) {
                const char *s = H->ds_label_level(d, k);
                c->labmap[k] = -1;
                for (int64_t q = 0; q < lv->n; q++)
                    if (!strcmp(lv->items[q].s, s)) c->labmap[k] = (int32_t)q;
            }
            c->nlab = dl;
        }
        wbc_json_free(lv);
    }
    if (!c->any) {
        for (int64_t q = 0; q < nnodes; q++)
            if (trees[q * 8] != 0 && trees[q * 8 + 1] != trees[q * 8 + 1]) goto bad;
        return 0;
    }
    /* levels and the maps of the data's codes */
    const char *fl = H->model_str(m, "feature_levels");
    if (!fl || wbc_json_parse(fl, &c->levels) || c->levels->type != WBC_J_ARR || c->levels->n != nf) goto bad;
    c->mapoff = malloc((size_t)nf * sizeof *c->mapoff);
    c->maplen = malloc((size_t)nf * sizeof *c->maplen);
    if (!c->mapoff || !c->maplen) goto oom;
    for (int64_t j = 0; j < nf; j++) {
        const wbc_jv *v = &c->levels->items[j];
        c->mapoff[j] = -1;
        c->maplen[j] = 0;
        if (flag[j] == 0) {
            if (v->type != WBC_J_NULL) goto bad;
            continue;
        }
        if (!wbc_json_is_strings(v, -1, 1) || v->n > 255) goto bad;
        const char **ls = wbc_json_strings(v);
        int32_t *mp = NULL;
        int64_t n = 0;
        if (!ls) goto oom;
        rc = wbc_level_map(H, d, j, ls, v->n, &mp, &n);
        free(ls);
        if (rc) {
            catpart_free(c);
            return rc;
        }
        int32_t *t = realloc(c->maps, (size_t)(c->nmap + n + 1) * sizeof *t);
        if (!t) {
            free(mp);
            goto oom;
        }
        c->maps = t;
        memcpy(c->maps + c->nmap, mp, (size_t)n * sizeof *mp);
        free(mp);
        if (c->nmap > INT32_MAX - n) goto bad;
        c->mapoff[j] = (int32_t)c->nmap;
        c->maplen[j] = (int32_t)n;
        c->nmap += n;
    }
    /* the sets of the category splits */
    const double *cs = H->model_array(m, "cat_splits", &sr, &sc);
    if (!cs) goto bad;
    c->set_of = malloc((size_t)(nnodes > 0 ? nnodes : 1) * sizeof *c->set_of);
    if (!c->set_of) goto oom;
    for (int64_t q = 0; q < nnodes; q++) c->set_of[q] = -1;
    int64_t at = 0, n = sr * sc, last = 0;
    while (at < n) {
        if (at + 2 > n) goto bad;
        double row = cs[at], cnt = cs[at + 1];
        if (!(row >= 1 && row <= (double)nnodes && row == floor(row) && row > (double)last) ||
            !(cnt >= 0 && cnt <= 255 && cnt == floor(cnt)) || at + 2 + (int64_t)cnt > n)
            goto bad;
        int64_t q = (int64_t)row - 1;
        last = q + 1;
        const double *t = trees + q * 8;
        if (t[0] == 0 || t[1] == t[1]) goto bad; /* a category split has NaN for its threshold */
        const int64_t fe = (int64_t)t[0] - 1;
        if (fe < 0 || fe >= nf || flag[fe] != 1) goto bad;
        const int64_t L = c->levels->items[fe].n;
        uint64_t *ns = realloc(c->sets, (size_t)(c->nsets + 1) * 32);
        if (!ns) goto oom;
        c->sets = ns;
        uint64_t *set = c->sets + 4 * c->nsets;
        memset(set, 0, 32);
        for (int64_t k = 0; k < (int64_t)cnt; k++) {
            double code = cs[at + 2 + k];
            if (!(code >= 0 && code < (double)L && code == floor(code))) goto bad;
            set[(int64_t)code >> 6] |= (uint64_t)1 << ((int64_t)code & 63);
        }
        c->set_of[q] = c->nsets++;
        at += 2 + (int64_t)cnt;
    }
    for (int64_t q = 0; q < nnodes; q++)
        if (trees[q * 8] != 0 && trees[q * 8 + 1] != trees[q * 8 + 1] && c->set_of[q] < 0) goto bad;
    return 0;
bad:
    catpart_free(c);
    return H->seterr(WB_EINVAL, "gbdt: the model's category splits (categorical, feature_levels, cat_splits) are malformed");
oom:
    catpart_free(c);
    return H->seterr(WB_ENOMEM, "gbdt: out of memory");
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
    if (!o || !(nf >= 1 && nf <= (1 << 28) && nf == floor(nf)) || !(K >= 1 && K <= GB_MAX_CLASSES && K == floor(K)) ||
        tc != 8 || tr < 0 || tr > INT32_MAX || tr > GB_PN_INDEX || sr * sc < 1 || br * bc != (int64_t)K ||
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
    catpart cp;
    if ((rc = catpart_read(m, d, (int64_t)nf, nnodes, trees, &cp)) != 0) return rc;
    int64_t ncl = o == GB_REGRESSION ? 0 : cr * cc;
    const int64_t dd = (int64_t)nf, nsets = cp.nsets, nmap = cp.any ? cp.nmap : 0, nlab = cp.nlab;
    const int withcat = cat_size(dd, nsets, cp.any ? nmap : 0, nlab) > 0;
    size_t size = pack_size((int64_t)K, ntrees, nnodes, ncl, dd, nsets, nmap, nlab);
    unsigned char *b = calloc(1, size);
    if (!b) {
        catpart_free(&cp);
        return H->seterr(WB_ENOMEM, "gbdt: out of memory");
    }
    gb_packhdr h = {GB_PACK_MAGIC, 0, (int64_t)K, dd, o, ntrees, nnodes, ncl, nsets, nmap, nlab};
    memcpy(b, &h, sizeof h);
    int64_t *st = (int64_t *)(b + sizeof h);
    int32_t *dep = (int32_t *)(st + ntrees + 1);
    double *bs = (double *)((unsigned char *)dep + gb_pad8((size_t)ntrees * 4)), *cl = bs + (int64_t)K;
    gb_pnode *nodes = (gb_pnode *)(cl + ncl);
    double *val = (double *)(nodes + nnodes);
    if (withcat) {
        uint64_t *sets = (uint64_t *)(val + nnodes);
        int32_t *mo = (int32_t *)(sets + 4 * nsets), *ml = mo + dd, *mp = ml + dd, *lm = mp + nmap;
        if (nsets) memcpy(sets, cp.sets, (size_t)nsets * 32);
        for (int64_t j = 0; j < dd; j++) {
            mo[j] = cp.any ? cp.mapoff[j] : -1;
            ml[j] = cp.any ? cp.maplen[j] : 0;
        }
        if (nmap) memcpy(mp, cp.maps, (size_t)nmap * 4);
        if (nlab) memcpy(lm, cp.labmap, (size_t)nlab * 4);
    }
    /* depth of each node, -1 until its parent names it: every node but a root
     * has exactly one parent, before it in its tree, so the trees are trees
     * and a walk of a tree's depth ends on a leaf */
    int32_t *nd = malloc((size_t)(nnodes > 0 ? nnodes : 1) * sizeof *nd);
    if (nd)
        for (int64_t q = 0; q < nnodes; q++) nd[q] = -1;
    if (!nd) {
        free(b);
        catpart_free(&cp);
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
                n->left = (uint32_t)q | GB_PN_ML;
                val[q] = row[5];
                if (nd[q] > dep[t]) dep[t] = nd[q];
                continue;
            }
            double L = row[3];
            const int cat = cp.set_of && cp.set_of[q] >= 0;
            /* children inside the same tree, after their parent, right = left + 1 */
            if (!(row[0] >= 1 && row[0] <= nf && row[0] == floor(row[0])) || !(L - 1 > (double)q) ||
                !(L < (double)st[t + 1]) || L != floor(L) || row[4] != L + 1 || (!cat && !(row[1] == row[1])) ||
                nd[(int64_t)L - 1] >= 0 || nd[(int64_t)L] >= 0) {
                rc = H->seterr(WB_EINVAL, "gbdt: the model's trees are malformed at row %lld", (long long)q + 1);
                break;
            }
            n->feature = (int32_t)row[0] - 1;
            n->thr = cat ? (double)cp.set_of[q] : row[1];
            n->left = (uint32_t)(L - 1) | (row[2] != 0 ? GB_PN_ML : 0) | (cat ? GB_PN_CAT : 0);
            val[q] = 0;
            nd[(int64_t)L - 1] = nd[(int64_t)L] = nd[q] + 1;
        }
    }
    free(nd);
    catpart_free(&cp);
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
