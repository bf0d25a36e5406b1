/*
 * metrics.c — the kernels behind wb.metrics.* (front-ends in metrics.lua).
 *
 * Every metric is a map over the partitions of the truth plus a small reduce
 * on the driver. A task gets one partition of the truth (in[0]) and the
 * partitions of the predictions that hold the same global rows (in[1..]), so
 * truth and predictions need not be cut into partitions the same way.
 * Results never depend on partitioning: counts are exact, and sums are kept
 * per 4096-row block (aligned to global rows) for the driver to add in a
 * fixed tree.
 *
 *   metrics.layout     a partition -> {row0, rows}
 *   metrics.distinct   distinct values of the truth (sorted, at most 10000)
 *   metrics.confusion  (truth, prediction) pairs with their counts
 *   metrics.logloss    per block: sum of -log p(true class), rows
 *   metrics.auc_sort   per problem: (score, positives, negatives) sorted by score
 *   metrics.auc_merge  the sorted lists of every partition -> ROC AUC per problem
 *   metrics.regress    per block: squared and absolute errors, sums of the truth
 *
 * Argument bytes start with a metrics_arg header (which column holds the
 * truth and the prediction), followed by kernel-specific numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wb/plugin.h>

static const wb_host *H;

enum { SRC_LABELS = 0, SRC_COL0 = 1 };
#define MAX_DISTINCT 10000

typedef struct metrics_arg {
    int32_t tsrc;  /* truth: SRC_LABELS (the labels) or SRC_COL0 (column 0) */
    int32_t psrc;  /* prediction: the same */
    int32_t ncls;  /* classes that follow (logloss, auc_sort) */
    int32_t flags; /* logloss: 1 renormalise rows */
    double eps;    /* logloss: clipping */
} metrics_arg;

/* the rows of a task: truth partition in[0], prediction partitions in[1..] */
typedef struct pairing {
    const wb_part *t;
    const wb_obj *pin;
    int np;
    int cur; /* the prediction partition holding the last row asked for */
} pairing;

static int truth_at(const wb_part *t, int src, int64_t i, double *v)
{
    if (src == SRC_LABELS) {
        if (!t->y) return H->seterr(WB_EINVAL, "the truth has no labels");
        *v = t->y[i];
    } else {
        if (t->cols < 1) return H->seterr(WB_EINVAL, "the truth has no columns");
        *v = t->x[(size_t)i * (size_t)t->cols];
    }
    return 0;
}

/* the prediction row at global row r (pointer to its columns), or NULL */
static const wb_part *pred_part(pairing *pr, int64_t r, int64_t *i)
{
    for (int tries = 0; tries < pr->np; tries++) {
        const wb_part *p = &pr->pin[pr->cur].part;
        if (r >= p->row0 && r < p->row0 + p->rows) {
            *i = r - p->row0;
            return p;
        }
        pr->cur = (pr->cur + 1) % pr->np;
    }
    return NULL;
}

static int parse(const void *arg, size_t arglen, metrics_arg *a, const double **rest, size_t *nrest)
{
    *rest = NULL;
    *nrest = 0;
    if (arglen < sizeof *a || (arglen - sizeof *a) % sizeof(double))
        return H->seterr(WB_EINVAL, "metrics: bad arguments");
    memcpy(a, arg, sizeof *a);
    *rest = (const double *)((const char *)arg + sizeof *a);
    *nrest = (arglen - sizeof *a) / sizeof(double);
    return 0;
}

static int check_inputs(const wb_obj *in, int nin, int need_pred)
{
    for (int j = 0; j < nin; j++)
        if (in[j].type != WB_OBJ_PART) return H->seterr(WB_EINVAL, "metrics: input %d is not a partition", j);
    if (need_pred && nin < 2) return H->seterr(WB_EINVAL, "metrics: no predictions for these rows");
    return 0;
}

/* a value for messages: NaN and infinities named as the core names them */
static const char *num_text(double v, char *buf, size_t len)
{
    if (isnan(v)) return "NaN";
    if (isinf(v)) return v > 0 ? "Inf" : "-Inf";
    snprintf(buf, len, "%g", v);
    return buf;
}

static int not_covered(int64_t r)
{
    return H->seterr(WB_EINVAL, "the predictions do not cover row %lld of the truth", (long long)(r + 1));
}

/* metrics.layout: -> {row0, rows} */
static int k_layout(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    int64_t *o = H->out_bytes(ctx, 16);
    if (!o) return WB_ENOMEM;
    o[0] = in[0].part.row0;
    o[1] = in[0].part.rows;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* metrics.distinct: the distinct truth values -> {n, values...} */
static int k_distinct(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    metrics_arg a;
    const double *rest = NULL;
    size_t nrest = 0;
    int rc = parse(arg, arglen, &a, &rest, &nrest);
    if (!rc) rc = check_inputs(in, nin, 0);
    if (rc) return rc;
    const wb_part *t = &in[0].part;
    double *v = malloc((size_t)(t->rows > 0 ? t->rows : 1) * sizeof(double));
    if (!v) return H->seterr(WB_ENOMEM, "out of memory");
    for (int64_t i = 0; i < t->rows && !rc; i++) {
        rc = truth_at(t, a.tsrc, i, &v[i]);
        char nb[64];
        if (!rc && !isfinite(v[i]))
            rc = H->seterr(WB_EINVAL, "the truth has %s at row %lld", num_text(v[i], nb, sizeof nb),
                             (long long)(t->row0 + i + 1));
    }
    int64_t k = 0;
    if (!rc) {
        qsort(v, (size_t)t->rows, sizeof(double), cmp_double);
        for (int64_t i = 0; i < t->rows; i++)
            if (k == 0 || v[i] != v[k - 1]) v[k++] = v[i];
        if (k > MAX_DISTINCT)
            rc = H->seterr(WB_ELIMIT, "the truth has more than %d distinct values (class labels expected)", MAX_DISTINCT);
    }
    if (!rc) {
        double *o = H->out_bytes(ctx, (size_t)(k + 1) * sizeof(double));
        if (!o) rc = WB_ENOMEM;
        else {
            o[0] = (double)k;
            memcpy(o + 1, v, (size_t)k * sizeof(double));
        }
    }
    free(v);
    return rc;
}

/* metrics.confusion: -> {npairs, (truth, prediction, count)...}, pairs sorted */
typedef struct pairc {
    double t, p, n;
} pairc;

static int cmp_pair(const void *a, const void *b)
{
    const pairc *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->p < y->p ? -1 : x->p > y->p;
}

static int k_confusion(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    metrics_arg a;
    const double *rest = NULL;
    size_t nrest = 0;
    int rc = parse(arg, arglen, &a, &rest, &nrest);
    if (!rc) rc = check_inputs(in, nin, 1);
    if (rc) return rc;
    const wb_part *t = &in[0].part;
    pairing pr = {t, in + 1, nin - 1, 0};
    /* a small open-addressing table of pairs */
    size_t cap = 64, used = 0;
    pairc *tab = calloc(cap, sizeof *tab);
    unsigned char *full = calloc(cap, 1);
    if (!tab || !full) {
        free(tab);
        free(full);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    double lt = NAN, lp = NAN;
    size_t last = 0;
    for (int64_t i = 0; i < t->rows && !rc; i++) {
        int64_t r = t->row0 + i, j;
        double tv, pv;
        if ((rc = truth_at(t, a.tsrc, i, &tv)) != 0) break;
        const wb_part *p = pred_part(&pr, r, &j);
        if (!p) {
            rc = not_covered(r);
            break;
        }
        if (a.psrc == SRC_LABELS) {
            if (!p->y) {
                rc = H->seterr(WB_EINVAL, "the predictions have no labels");
                break;
            }
            pv = p->y[j];
        } else
            pv = p->x[(size_t)j * (size_t)p->cols];
        if (!isfinite(tv) || !isfinite(pv)) {
            char nb[64];
            rc = H->seterr(WB_EINVAL, "the %s has %s at row %lld", isfinite(tv) ? "prediction" : "truth",
                             num_text(isfinite(tv) ? pv : tv, nb, sizeof nb), (long long)(r + 1));
            break;
        }
        if (tv == lt && pv == lp) { /* runs of the same pair are common */
            tab[last].n += 1;
            continue;
        }
        uint64_t hb, pb;
        memcpy(&hb, &tv, 8);
        memcpy(&pb, &pv, 8);
        size_t h = (size_t)wb_hash64(hb, pb) & (cap - 1);
        while (full[h] && !(tab[h].t == tv && tab[h].p == pv)) h = (h + 1) & (cap - 1);
        if (!full[h]) {
            if (used + 1 > MAX_DISTINCT) {
                rc = H->seterr(WB_ELIMIT,
                                 "more than %d distinct (truth, prediction) pairs: class labels expected, got %g at row %lld",
                                 MAX_DISTINCT, pv, (long long)(r + 1));
                break;
            }
            full[h] = 1;
            tab[h] = (pairc){tv, pv, 0};
            used++;
            if (used * 2 > cap) { /* grow */
                size_t nc = cap * 2;
                pairc *nt = calloc(nc, sizeof *nt);
                unsigned char *nf = calloc(nc, 1);
                if (!nt || !nf) {
                    free(nt);
                    free(nf);
                    rc = H->seterr(WB_ENOMEM, "out of memory");
                    break;
                }
                for (size_t k = 0; k < cap; k++) {
                    if (!full[k]) continue;
                    uint64_t x, y;
                    memcpy(&x, &tab[k].t, 8);
                    memcpy(&y, &tab[k].p, 8);
                    size_t g = (size_t)wb_hash64(x, y) & (nc - 1);
                    while (nf[g]) g = (g + 1) & (nc - 1);
                    nf[g] = 1;
                    nt[g] = tab[k];
                }
                free(tab);
                free(full);
                tab = nt;
                full = nf;
                cap = nc;
                h = (size_t)wb_hash64(hb, pb) & (cap - 1);
                while (!(full[h] && tab[h].t == tv && tab[h].p == pv)) h = (h + 1) & (cap - 1);
            }
        }
        tab[h].n += 1;
        lt = tv, lp = pv, last = h;
    }
    if (!rc) {
        size_t k = 0;
        for (size_t h = 0; h < cap; h++)
            if (full[h]) tab[k++] = tab[h];
        qsort(tab, k, sizeof *tab, cmp_pair);
        double *o = H->out_bytes(ctx, (1 + 3 * k) * sizeof(double));
        if (!o) rc = WB_ENOMEM;
        else {
            o[0] = (double)k;
            for (size_t i = 0; i < k; i++) {
                o[1 + 3 * i] = tab[i].t;
                o[2 + 3 * i] = tab[i].p;
                o[3 + 3 * i] = tab[i].n;
            }
        }
    }
    free(tab);
    free(full);
    return rc;
}

static int class_of(const double *cls, int n, double y)
{
    int a = 0, b = n - 1;
    while (a <= b) {
        int m = (a + b) / 2;
        if (cls[m] == y) return m;
        if (cls[m] < y) a = m + 1;
        else b = m - 1;
    }
    return -1;
}

/* metrics.logloss: rest = classes[ncls]; the prediction partitions have ncls
 * columns (or one: the probability of the larger of two classes)
 * -> {nblocks, (block, sum, rows)...} */
static int k_logloss(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    metrics_arg a;
    const double *cls = NULL;
    size_t nrest = 0;
    int rc = parse(arg, arglen, &a, &cls, &nrest);
    if (!rc && (a.ncls < 2 || nrest != (size_t)a.ncls)) rc = H->seterr(WB_EINVAL, "metrics.logloss: bad arguments");
    if (!rc) rc = check_inputs(in, nin, 1);
    if (rc) return rc;
    const wb_part *t = &in[0].part;
    pairing pr = {t, in + 1, nin - 1, 0};
    const int64_t B = WB_BLOCK_ROWS;
    int64_t b0 = t->row0 / B, b1 = (t->row0 + t->rows + B - 1) / B, nb = t->rows ? b1 - b0 : 0;
    double *o = H->out_bytes(ctx, (size_t)(1 + 3 * nb) * sizeof(double));
    if (!o) return WB_ENOMEM;
    o[0] = (double)nb;
    const double eps = a.eps;
    for (int64_t i = 0; i < t->rows; i++) {
        int64_t r = t->row0 + i, j;
        double tv;
        if ((rc = truth_at(t, a.tsrc, i, &tv)) != 0) return rc;
        int c = class_of(cls, a.ncls, tv);
        if (c < 0)
            return H->seterr(WB_EINVAL, "the truth has %g at row %lld, which is not one of the %d classes", tv,
                               (long long)(r + 1), a.ncls);
        const wb_part *p = pred_part(&pr, r, &j);
        if (!p) return not_covered(r);
        const double *pp = p->x + (size_t)j * (size_t)p->cols;
        double pc, sum = 0;
        for (int64_t k = 0; k < p->cols; k++)
            if (isnan(pp[k])) return H->seterr(WB_EINVAL, "the probabilities have NaN at row %lld", (long long)(r + 1));
        if (p->cols == 1) {
            if (a.ncls != 2)
                return H->seterr(WB_EINVAL, "one column of probabilities for %d classes", a.ncls);
            double p1 = fmin(fmax(pp[0], eps), 1 - eps);
            pc = c == 1 ? p1 : 1 - p1;
            sum = 1;
        } else if (p->cols == a.ncls) {
            for (int k = 0; k < a.ncls; k++) sum += fmin(fmax(pp[k], eps), 1 - eps);
            pc = fmin(fmax(pp[c], eps), 1 - eps);
        } else
            return H->seterr(WB_EINVAL, "the probabilities have %lld columns for %d classes", (long long)p->cols,
                               a.ncls);
        char nb[64];
        if (!isfinite(pc))
            return H->seterr(WB_EINVAL, "the probabilities have %s at row %lld", num_text(pc, nb, sizeof nb),
                               (long long)(r + 1));
        if (a.flags & 1) pc /= sum;
        int64_t bi = r / B - b0;
        o[1 + 3 * bi] = (double)(r / B);
        o[2 + 3 * bi] += -log(pc);
        o[3 + 3 * bi] += 1;
    }
    return 0;
}

/* metrics.auc_sort: rest = classes[ncls] (sorted). Problems: one when the
 * scores have one column (or two columns and two classes: the second), the
 * positive class being the larger; otherwise one per class (one-vs-rest) with
 * the scores in column k.
 * -> {L, then per problem: m, (score, positives, negatives) * m sorted} */
typedef struct spn {
    double s, pos, neg;
} spn;

static int cmp_spn(const void *a, const void *b)
{
    double x = ((const spn *)a)->s, y = ((const spn *)b)->s;
    return x < y ? -1 : x > y;
}

static int k_auc_sort(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    metrics_arg a;
    const double *cls = NULL;
    size_t nrest = 0;
    int rc = parse(arg, arglen, &a, &cls, &nrest);
    if (!rc && (a.ncls < 2 || nrest != (size_t)a.ncls)) rc = H->seterr(WB_EINVAL, "metrics.auc_sort: bad arguments");
    if (!rc) rc = check_inputs(in, nin, 1);
    if (rc) return rc;
    const wb_part *t = &in[0].part;
    int64_t pc = in[1].part.cols;
    for (int j = 1; j < nin; j++)
        if (in[j].part.cols != pc) return H->seterr(WB_EINVAL, "the scores have partitions of different widths");
    int L, col0;
    if (pc == 1) L = 1, col0 = 0;
    else if (pc == 2 && a.ncls == 2) L = 1, col0 = 1;
    else if (pc == a.ncls) L = a.ncls, col0 = 0;
    else
        return H->seterr(WB_EINVAL, "the scores have %lld columns for %d classes (one column, or one per class)",
                           (long long)pc, a.ncls);
    if (L == 1 && a.ncls != 2)
        return H->seterr(WB_EINVAL, "one column of scores for %d classes: give one column per class", a.ncls);
    int64_t n = t->rows;
    spn *v = malloc((size_t)(n > 0 ? n : 1) * (size_t)L * sizeof *v);
    int *ci = malloc((size_t)(n > 0 ? n : 1) * sizeof *ci);
    if (!v || !ci) {
        free(v);
        free(ci);
        return H->seterr(WB_ENOMEM, "out of memory");
    }
    pairing pr = {t, in + 1, nin - 1, 0};
    for (int64_t i = 0; i < n && !rc; i++) {
        int64_t r = t->row0 + i, j;
        double tv;
        if ((rc = truth_at(t, a.tsrc, i, &tv)) != 0) break;
        ci[i] = class_of(cls, a.ncls, tv);
        if (ci[i] < 0) {
            rc = H->seterr(WB_EINVAL, "the truth has %g at row %lld, which is not one of the %d classes", tv,
                             (long long)(r + 1), a.ncls);
            break;
        }
        const wb_part *p = pred_part(&pr, r, &j);
        if (!p) {
            rc = not_covered(r);
            break;
        }
        for (int l = 0; l < L; l++) {
            double s = p->x[(size_t)j * (size_t)pc + (size_t)(col0 + l)];
            if (isnan(s)) {
                rc = H->seterr(WB_EINVAL, "the scores have NaN at row %lld", (long long)(r + 1));
                break;
            }
            int pos = L == 1 ? ci[i] == 1 : ci[i] == l;
            v[(size_t)l * (size_t)n + (size_t)i] = (spn){s, pos, !pos};
        }
    }
    size_t total = 1;
    int64_t *m = calloc((size_t)L, sizeof *m);
    if (!rc && !m) rc = H->seterr(WB_ENOMEM, "out of memory");
    for (int l = 0; l < L && !rc; l++) {
        spn *vl = v + (size_t)l * (size_t)n;
        qsort(vl, (size_t)n, sizeof *vl, cmp_spn);
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++) {
            if (k > 0 && vl[k - 1].s == vl[i].s) {
                vl[k - 1].pos += vl[i].pos;
                vl[k - 1].neg += vl[i].neg;
            } else
                vl[k++] = vl[i];
        }
        m[l] = k;
        total += 1 + 3 * (size_t)k;
    }
    if (!rc) {
        double *o = H->out_bytes(ctx, total * sizeof(double));
        if (!o) rc = WB_ENOMEM;
        else {
            size_t w = 0;
            o[w++] = L;
            for (int l = 0; l < L; l++) {
                o[w++] = (double)m[l];
                memcpy(o + w, v + (size_t)l * (size_t)n, (size_t)m[l] * sizeof(spn));
                w += 3 * (size_t)m[l];
            }
        }
    }
    free(m);
    free(v);
    free(ci);
    return rc;
}

/* metrics.auc_merge: inputs = auc_sort results -> {L, auc per problem} */
static int k_auc_merge(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg, (void)arglen;
    if (nin < 1) return H->seterr(WB_EINVAL, "metrics.auc_merge: no inputs");
    int L = -1;
    size_t *off = calloc((size_t)nin, sizeof *off);
    if (!off) return H->seterr(WB_ENOMEM, "out of memory");
    for (int j = 0; j < nin; j++) {
        if (in[j].type != WB_OBJ_BYTES || in[j].size < 8) {
            free(off);
            return H->seterr(WB_EINVAL, "metrics.auc_merge: input %d is not a sorted list", j);
        }
        int lj = (int)((const double *)in[j].data)[0];
        if (L >= 0 && lj != L) {
            free(off);
            return H->seterr(WB_EINVAL, "metrics.auc_merge: inputs of different shapes");
        }
        L = lj;
        off[j] = 1;
    }
    double *o = H->out_bytes(ctx, (size_t)(1 + L) * sizeof(double));
    if (!o) {
        free(off);
        return WB_ENOMEM;
    }
    o[0] = L;
    int rc = 0;
    for (int l = 0; l < L && !rc; l++) {
        size_t total = 0;
        for (int j = 0; j < nin; j++) {
            const double *dj = in[j].data;
            size_t nd = in[j].size / sizeof(double);
            if (off[j] >= nd) {
                rc = H->seterr(WB_EINVAL, "metrics.auc_merge: truncated input %d", j);
                break;
            }
            size_t m = (size_t)dj[off[j]];
            if (off[j] + 1 + 3 * m > nd) {
                rc = H->seterr(WB_EINVAL, "metrics.auc_merge: truncated input %d", j);
                break;
            }
            total += m;
        }
        if (rc) break;
        spn *v = malloc((total ? total : 1) * sizeof *v);
        if (!v) {
            rc = H->seterr(WB_ENOMEM, "out of memory");
            break;
        }
        size_t k = 0;
        for (int j = 0; j < nin; j++) {
            const double *dj = in[j].data;
            size_t m = (size_t)dj[off[j]];
            memcpy(v + k, dj + off[j] + 1, m * sizeof *v);
            k += m;
            off[j] += 1 + 3 * m;
        }
        qsort(v, total, sizeof *v, cmp_spn);
        /* AUC = P(score of a positive > score of a negative) + P(tie) / 2 */
        double negs = 0, P = 0, N = 0, acc = 0;
        for (size_t i = 0; i < total;) {
            double pos = 0, neg = 0, s = v[i].s;
            while (i < total && v[i].s == s) {
                pos += v[i].pos;
                neg += v[i].neg;
                i++;
            }
            acc += pos * (negs + 0.5 * neg);
            negs += neg;
            P += pos;
            N += neg;
        }
        free(v);
        if (P == 0 || N == 0)
            rc = H->seterr(WB_EINVAL, "only one class is present in the truth%s: ROC AUC is not defined",
                             L > 1 ? " for a one-vs-rest problem" : "");
        else
            o[1 + l] = acc / (P * N);
    }
    free(off);
    return rc;
}

/* metrics.regress: the prediction partitions have one column. Per block:
 * flags 0: (block, rows, sum (t - p)^2, sum |t - p|, sum t); flags 1 (r2's
 * second pass, rest = {mean}): (block, rows, sum (t - mean)^2, 0, 0)
 * -> {nblocks, (block, rows, a, b, c)...} */
static int k_regress(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    metrics_arg a;
    const double *rest = NULL;
    size_t nrest = 0;
    int rc = parse(arg, arglen, &a, &rest, &nrest);
    if (!rc && nrest != (size_t)((a.flags & 1) ? 1 : 0)) rc = H->seterr(WB_EINVAL, "metrics.regress: bad arguments");
    if (!rc) rc = check_inputs(in, nin, 1);
    if (rc) return rc;
    const double mean = (a.flags & 1) ? rest[0] : 0;
    const wb_part *t = &in[0].part;
    pairing pr = {t, in + 1, nin - 1, 0};
    const int64_t B = WB_BLOCK_ROWS;
    int64_t b0 = t->row0 / B, b1 = (t->row0 + t->rows + B - 1) / B, nb = t->rows ? b1 - b0 : 0;
    double *o = H->out_bytes(ctx, (size_t)(1 + 5 * nb) * sizeof(double));
    if (!o) return WB_ENOMEM;
    o[0] = (double)nb;
    char b1s[64], b2s[64];
    for (int64_t i = 0; i < t->rows; i++) {
        int64_t r = t->row0 + i, j;
        double tv;
        if ((rc = truth_at(t, a.tsrc, i, &tv)) != 0) return rc;
        if (!isfinite(tv))
            return H->seterr(WB_EINVAL, "the truth has %s at row %lld", num_text(tv, b1s, sizeof b1s), (long long)(r + 1));
        double *ob = o + 1 + 5 * (r / B - b0);
        ob[0] = (double)(r / B);
        ob[1] += 1;
        if (a.flags & 1) {
            ob[2] += (tv - mean) * (tv - mean);
            continue;
        }
        const wb_part *p = pred_part(&pr, r, &j);
        if (!p) return not_covered(r);
        if (p->cols != 1)
            return H->seterr(WB_EINVAL, "the predictions have %lld columns, one expected", (long long)p->cols);
        double pv = p->x[j];
        if (!isfinite(pv))
            return H->seterr(WB_EINVAL, "the predictions have %s at row %lld", num_text(pv, b2s, sizeof b2s),
                               (long long)(r + 1));
        double e = tv - pv;
        ob[2] += e * e;
        ob[3] += fabs(e);
        ob[4] += tv;
    }
    return 0;
}

extern const char metrics_lua_src[];

static const wb_kernel_def kernels[] = {
    {.name = "metrics.layout", .fn = k_layout},
    {.name = "metrics.distinct", .fn = k_distinct},
    {.name = "metrics.confusion", .fn = k_confusion},
    {.name = "metrics.logloss", .fn = k_logloss},
    {.name = "metrics.auc_sort", .fn = k_auc_sort},
    {.name = "metrics.auc_merge", .fn = k_auc_merge},
    {.name = "metrics.regress", .fn = k_regress},
};

WB_PLUGIN("metrics", "1.0")
{
    H = host;
    int rc = wb_register_kernels(host, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = host->register_lua("metrics", metrics_lua_src);
    return rc;
}
