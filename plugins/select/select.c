/*
 * select.c — model selection: the pipeline estimator (transformers then a
 * final estimator, fitted and applied in order; the transformers themselves
 * are in the preprocess plugin), the kernels behind wb.split / wb.kfold (exact per-class key
 * quantiles for wb.core.select), and the cross-validation task of grid
 * search. The Lua front-ends are in select.lua.
 *
 * Cross-validation task (select.cv): its inputs are the partitions of one
 * fold's training rows and then of its test rows. It rebuilds the two
 * datasets over those objects on the executor the task runs in (host
 * kctx_exec: no copy), fits the estimator with host->fit, and scores the
 * test rows with the metrics plugin's kernels. Every (combination, fold)
 * pair is one such task, so a grid search runs all of them in parallel on
 * whatever executor holds the data.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wb/plugin.h>
#include <wb/plugin_cols.h>

static const wb_host *H;

/* --------------------------------------------------------------- encoding */

static char *hex_of(const void *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s) return NULL;
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* bytes of a hex string (malloc'd), or NULL */
static unsigned char *bytes_of(const char *s, size_t len, size_t *n)
{
    if (len % 2) return NULL;
    unsigned char *b = malloc(len / 2 + 1);
    if (!b) return NULL;
    for (size_t i = 0; i < len / 2; i++) {
        int a = hexval(s[2 * i]), c = hexval(s[2 * i + 1]);
        if (a < 0 || c < 0) {
            free(b);
            return NULL;
        }
        b[i] = (unsigned char)(a << 4 | c);
    }
    *n = len / 2;
    return b;
}

/* --------------------------------------------------------------- pipeline */

/* select.relabel: in[0] a partition, in[1] the partition of the same rows
 * with labels -> in[0]'s columns with in[1]'s labels */
static int k_relabel(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)arg, (void)arglen;
    if (nin != 2 || in[0].type != WB_OBJ_PART || in[1].type != WB_OBJ_PART || !in[1].part.y ||
        in[0].part.rows != in[1].part.rows || in[0].part.row0 != in[1].part.row0)
        return H->seterr(WB_EINVAL, "select.relabel: the partitions do not line up");
    const wb_part *p = &in[0].part;
    double *x, *y;
    int rc = H->out_part(ctx, p->rows, p->cols, p->row0, 1, &x, &y);
    if (rc) return rc;
    memcpy(x, p->x, (size_t)p->rows * (size_t)p->cols * sizeof(double));
    memcpy(y, in[1].part.y, (size_t)p->rows * sizeof(double));
    return 0;
}

/* a transformer's output without labels gets the labels of its input back
 * (the output is aligned with the input); *d is replaced */
static int keep_labels(wb_exec *ex, const wb_dataset *src, wb_dataset **d)
{
    if (!H->ds_has_labels(src) || H->ds_has_labels(*d)) return 0;
    int np = H->ds_nparts(*d);
    if (np != H->ds_nparts(src)) return H->seterr(WB_EINVAL, "pipeline: a step's output is not aligned with its input");
    wb_oid *outs = calloc((size_t)(np ? np : 1), sizeof *outs);
    if (!outs) return H->seterr(WB_ENOMEM, "out of memory");
    int rc = 0, made = 0;
    for (int i = 0; i < np && !rc; i++) {
        wb_oid in[2] = {H->ds_part_oid(*d, i), H->ds_part_oid(src, i)};
        rc = H->submit(ex, "select.relabel", in, 2, NULL, 0, &outs[i]);
        if (!rc) made++;
    }
    if (!rc) rc = H->wait(ex, outs, np);
    wb_dataset *r = NULL;
    if (!rc) rc = H->ds_from_parts(ex, outs, np, &r);
    for (int i = 0; i < made; i++) H->release(ex, outs[i]);
    free(outs);
    /* the step's column names and types, the input's label name and levels */
    if (!rc && ((rc = H->ds_copy_cols(r, *d, NULL, H->ds_cols(*d), 0)) != 0 ||
                (rc = H->ds_copy_cols(r, src, NULL, 0, 1)) != 0))
        H->ds_unref(r);
    if (rc) return rc;
    H->ds_unref(*d);
    *d = r;
    return 0;
}

/*
 * A pipeline's parameters: steps = "scaler,logreg" and spec = the steps'
 * parameters as models without fields (each one's encoding in hex, joined by
 * ','), built by wb.pipeline in Lua. The fitted model keeps every step's
 * fitted model (hex of its encoding) in the fields step1, step2, ... and the
 * final step's classes.
 */
#define MAX_STEPS 16

typedef struct steps {
    int n;
    char name[MAX_STEPS][64];
    wb_model *m[MAX_STEPS]; /* parameter carriers or fitted models */
} steps;

static void steps_free(steps *s)
{
    for (int i = 0; i < s->n; i++) H->model_free(s->m[i]);
    s->n = 0;
}

static int decode_hex_model(const char *hex, size_t len, wb_model **out)
{
    size_t n;
    unsigned char *b = bytes_of(hex, len, &n);
    if (!b) return H->seterr(WB_EFORMAT, "pipeline: a step is not a hex-encoded model");
    int rc = H->model_decode(b, n, out);
    free(b);
    return rc;
}

/* the step names and their parameter carriers from a pipeline's parameters */
static int steps_parse(const wb_params *p, steps *s)
{
    memset(s, 0, sizeof *s);
    const char *names = H->param_str(p, "steps"), *spec = H->param_str(p, "spec");
    if (!names || !*names) return H->seterr(WB_EPARAM, "pipeline: parameter 'steps' names no step");
    for (const char *a = names; *a;) {
        const char *e = strchr(a, ',');
        size_t len = e ? (size_t)(e - a) : strlen(a);
        if (s->n == MAX_STEPS) return H->seterr(WB_ELIMIT, "pipeline: more than %d steps", MAX_STEPS);
        if (len == 0 || len >= sizeof s->name[0]) return H->seterr(WB_EPARAM, "pipeline: a step has no name");
        memcpy(s->name[s->n], a, len);
        s->name[s->n][len] = 0;
        if (!H->estimator(s->name[s->n]))
            return H->seterr(WB_ENOTFOUND, "pipeline: no estimator named '%s'", s->name[s->n]);
        s->n++;
        a = e ? e + 1 : a + len;
    }
    int k = 0;
    for (const char *a = spec ? spec : ""; *a && k < s->n;) {
        const char *e = strchr(a, ',');
        size_t len = e ? (size_t)(e - a) : strlen(a);
        int rc = decode_hex_model(a, len, &s->m[k]);
        if (rc && strncmp(H->errmsg(), "pipeline", 8)) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", H->errmsg());
            rc = H->seterr(rc, "pipeline: the parameters of step %d: %s", k + 1, msg);
        }
        if (rc) {
            s->n = k;
            steps_free(s);
            return rc;
        }
        k++;
        a = e ? e + 1 : a + len;
    }
    if (k != s->n) {
        int n = s->n;
        s->n = k;
        steps_free(s);
        return H->seterr(WB_EPARAM, "pipeline: %d steps but parameters for %d", n, k);
    }
    return 0;
}

static int pipeline_check(const wb_params *p, const wb_dataset *d)
{
    (void)d;
    steps s;
    int rc = steps_parse(p, &s);
    if (rc) return rc;
    for (int i = 0; i + 1 < s.n; i++) {
        const wb_estimator_def *e = H->estimator(s.name[i]);
        if (!e->transform) {
            rc = H->seterr(WB_EPARAM, "pipeline: step %d (%s) has no transform; only the last step may be any estimator",
                             i + 1, s.name[i]);
            break;
        }
    }
    steps_free(&s);
    return rc;
}

static int pipeline_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    steps s;
    int rc = steps_parse(p, &s);
    if (rc) return rc;
    wb_dataset *cur = H->ds_ref((wb_dataset *)d);
    for (int i = 0; i < s.n && !rc; i++) {
        wb_model *f = NULL;
        rc = H->fit(ex, s.name[i], cur, H->model_params(s.m[i]), &f);
        if (rc) break;
        if (i + 1 < s.n) {
            wb_dataset *next = NULL;
            rc = H->estimator(s.name[i])->transform(ex, f, cur, &next);
            if (!rc && (rc = keep_labels(ex, cur, &next)) != 0) H->ds_unref(next);
            if (!rc) {
                H->ds_unref(cur);
                cur = next;
            }
        }
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->model_encode(f, &data, &size);
        char *hex = rc ? NULL : hex_of(data, size);
        if (!rc && !hex) rc = H->seterr(WB_ENOMEM, "out of memory");
        char key[32];
        snprintf(key, sizeof key, "step%d", i + 1);
        if (!rc) rc = H->model_set_str(m, key, hex);
        if (!rc && i + 1 == s.n) {
            int64_t r, c;
            const double *cls = H->model_array(f, "classes", &r, &c);
            if (cls) rc = H->model_set_array(m, "classes", cls, r, c);
            /* what the last step learned of the labels names the pipeline's predictions */
            static const char *const keep[] = {"label_name", "label_levels"};
            for (int k = 0; k < 2 && !rc; k++)
                if (H->model_str(f, keep[k])) rc = H->model_set_str(m, keep[k], H->model_str(f, keep[k]));
        }
        free(hex);
        H->free(data);
        H->model_free(f);
    }
    if (!rc) rc = H->model_set_num(m, "n_steps", s.n);
    H->ds_unref(cur);
    steps_free(&s);
    return rc;
}

/* the fitted step models of a pipeline model */
static int fitted_steps(const wb_model *m, steps *s)
{
    int rc = steps_parse(H->model_params(m), s);
    if (rc) return rc;
    for (int i = 0; i < s->n; i++) {
        H->model_free(s->m[i]);
        s->m[i] = NULL;
    }
    for (int i = 0; i < s->n && !rc; i++) {
        char key[32];
        snprintf(key, sizeof key, "step%d", i + 1);
        const char *hex = H->model_str(m, key);
        if (!hex) rc = H->seterr(WB_EINVAL, "pipeline: the model lacks its fitted step %d", i + 1);
        else if ((rc = decode_hex_model(hex, strlen(hex), &s->m[i])) != 0 && strncmp(H->errmsg(), "pipeline", 8)) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", H->errmsg());
            rc = H->seterr(rc, "pipeline: the model's step %d: %s", i + 1, msg);
        }
    }
    if (rc) steps_free(s);
    return rc;
}

/* the data through every step but the last; *last is the final model */
static int through(wb_exec *ex, const wb_model *m, const wb_dataset *d, steps *s, wb_dataset **out)
{
    int rc = fitted_steps(m, s);
    if (rc) return rc;
    /* a saved model is checked as pipeline_check checks the parameters of a fit */
    for (int i = 0; i + 1 < s->n && !rc; i++)
        if (!H->estimator(s->name[i])->transform)
            rc = H->seterr(WB_EINVAL, "pipeline: malformed model: step %d (%s) has no transform; only the last step may be any estimator",
                           i + 1, s->name[i]);
    if (rc) {
        steps_free(s);
        return rc;
    }
    wb_dataset *cur = H->ds_ref((wb_dataset *)d);
    for (int i = 0; i + 1 < s->n && !rc; i++) {
        wb_dataset *next = NULL;
        rc = H->estimator(s->name[i])->transform(ex, s->m[i], cur, &next);
        if (!rc && (rc = keep_labels(ex, cur, &next)) != 0) H->ds_unref(next);
        if (!rc) {
            H->ds_unref(cur);
            cur = next;
        }
    }
    if (rc) {
        H->ds_unref(cur);
        steps_free(s);
        return rc;
    }
    *out = cur;
    return 0;
}

typedef int (*ds_fn)(wb_exec *, const wb_model *, const wb_dataset *, wb_dataset **);

static int pipeline_call(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out, int which)
{
    steps s;
    wb_dataset *cur;
    int rc = through(ex, m, d, &s, &cur);
    if (rc) return rc;
    const wb_estimator_def *e = H->estimator(s.name[s.n - 1]);
    ds_fn f = which == 0 ? e->predict : which == 1 ? e->predict_proba : e->transform;
    static const char *const what[] = {"predict", "predict_proba", "transform"};
    if (!f)
        rc = H->seterr(WB_ENOTSUP, "pipeline: the last step (%s) has no %s", s.name[s.n - 1], what[which]);
    else
        rc = f(ex, s.m[s.n - 1], cur, out);
    H->ds_unref(cur);
    steps_free(&s);
    return rc;
}

static int pipeline_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return pipeline_call(ex, m, d, out, 0);
}
static int pipeline_proba(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return pipeline_call(ex, m, d, out, 1);
}
static int pipeline_transform(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return pipeline_call(ex, m, d, out, 2);
}

/* accuracy of predicted labels against the labels of d (aligned partitions) */
static int accuracy_of(wb_exec *ex, const wb_dataset *d, const wb_dataset *pred, double *out)
{
    const int32_t hdr[4] = {0, 1, 0, 0};
    unsigned char arg[24] = {0};
    memcpy(arg, hdr, sizeof hdr);
    double ok = 0, n = 0;
    int rc = 0;
    for (int i = 0; i < H->ds_nparts(d) && !rc; i++) {
        wb_oid in[2] = {H->ds_part_oid(d, i), H->ds_part_oid(pred, i)}, o = 0;
        rc = H->submit(ex, "metrics.confusion", in, 2, arg, sizeof arg, &o);
        if (!rc) rc = H->wait(ex, &o, 1);
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->get(ex, o, &data, &size);
        if (!rc) {
            const double *v = data;
            for (int k = 0; k < (int)v[0]; k++) {
                if (v[1 + 3 * k] == v[2 + 3 * k]) ok += v[3 + 3 * k];
                n += v[3 + 3 * k];
            }
        }
        H->free(data);
        if (o) H->release(ex, o);
    }
    *out = n > 0 ? ok / n : 0;
    return rc;
}

static int pipeline_score(wb_exec *ex, const wb_model *m, const wb_dataset *d, double *out)
{
    steps s;
    wb_dataset *cur;
    int rc = through(ex, m, d, &s, &cur);
    if (rc) return rc;
    const wb_estimator_def *e = H->estimator(s.name[s.n - 1]);
    if (e->score)
        rc = e->score(ex, s.m[s.n - 1], cur, out);
    else if (e->kind == WB_EST_CLASSIFIER && e->predict) {
        if (!H->ds_has_labels(cur))
            rc = H->seterr(WB_EINVAL, "score: the data has no labels");
        else {
            wb_dataset *pred = NULL;
            rc = e->predict(ex, s.m[s.n - 1], cur, &pred);
            if (!rc) rc = accuracy_of(ex, cur, pred, out);
            H->ds_unref(pred);
        }
    } else
        rc = H->seterr(WB_ENOTSUP, "pipeline: the last step (%s) has no score", s.name[s.n - 1]);
    H->ds_unref(cur);
    steps_free(&s);
    return rc;
}

static const wb_param_spec pipeline_params[] = {
    {.name = "steps", .types = WB_P_STR,
     .doc = "the estimators in order, e.g. \"scaler,logreg\" (built by wb.pipeline)"},
    {.name = "spec", .types = WB_P_STR, .def = "", .doc = "the steps' parameters (built by wb.pipeline)"},
};

static const wb_estimator_def pipeline_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "pipeline",
    .doc = "transformers then an estimator, fitted in order (build one with wb.pipeline{...})",
    .kind = WB_EST_CLASSIFIER,
    .params = pipeline_params,
    .nparams = sizeof pipeline_params / sizeof pipeline_params[0],
    .check = pipeline_check,
    .fit = pipeline_fit,
    .predict = pipeline_predict,
    .predict_proba = pipeline_proba,
    .transform = pipeline_transform,
    .score = pipeline_score,
};

/* ------------------------------------------------------------ split keys */

/* The key of a row for wb.core.select: this must stay the same function as
 * wb_select_key in the core (core/src/dataset.c); select_*.lua tests check
 * that splits and folds have exactly the sizes asked for, which holds only
 * when the two agree. */
static double select_key(uint64_t seed, int64_t row)
{
    return (double)(wb_hash64(seed ^ 0x5e1ec75e1ec7ULL, (uint64_t)row) >> 11) * 0x1.0p-53;
}

typedef struct key_hdr {
    uint64_t seed;
    int32_t ncls;   /* 0: one group for every row (no labels needed) */
    int32_t nbins;
    int32_t npairs; /* keys_in: the (class, bin) pairs that follow the classes */
    int32_t pad;
} key_hdr;

static int group_of(const wb_part *p, int64_t i, const double *cls, int ncls, int *g)
{
    if (ncls == 0) {
        *g = 0;
        return 0;
    }
    if (!p->y) return H->seterr(WB_EINVAL, "stratifying needs labels");
    double y = p->y[i];
    int a = 0, b = ncls - 1;
    while (a <= b) {
        int m = (a + b) / 2;
        if (cls[m] == y) {
            *g = m;
            return 0;
        }
        if (cls[m] < y) a = m + 1;
        else b = m - 1;
    }
    return H->seterr(WB_EINVAL, "label %g at row %lld is not one of the classes", y, (long long)(p->row0 + i + 1));
}

/* select.keyhist: arg = key_hdr, classes[ncls] -> rows per (class, key bin) */
static int k_keyhist(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    key_hdr h;
    if (arglen < sizeof h) return H->seterr(WB_EINVAL, "select.keyhist: bad arguments");
    memcpy(&h, arg, sizeof h);
    if (h.ncls < 0 || h.nbins < 1 || arglen != sizeof h + (size_t)h.ncls * sizeof(double))
        return H->seterr(WB_EINVAL, "select.keyhist: bad arguments");
    const double *cls = (const double *)((const char *)arg + sizeof h);
    const wb_part *p = &in[0].part;
    int G = h.ncls ? h.ncls : 1;
    double *o = H->out_bytes(ctx, (size_t)G * (size_t)h.nbins * sizeof(double));
    if (!o) return WB_ENOMEM;
    for (int64_t i = 0; i < p->rows; i++) {
        int g, rc = group_of(p, i, cls, h.ncls, &g);
        if (rc) return rc;
        int b = (int)(select_key(h.seed, p->row0 + i) * h.nbins);
        o[(size_t)g * (size_t)h.nbins + (size_t)b] += 1;
    }
    return 0;
}

/* select.keys_in: arg = key_hdr, classes[ncls], (class, bin)[npairs] -> for
 * each pair the number of its rows here, then their keys pair after pair */
static int k_keys_in(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin;
    key_hdr h;
    if (arglen < sizeof h) return H->seterr(WB_EINVAL, "select.keys_in: bad arguments");
    memcpy(&h, arg, sizeof h);
    if (h.ncls < 0 || h.nbins < 1 || h.npairs < 0 ||
        arglen != sizeof h + ((size_t)h.ncls + 2 * (size_t)h.npairs) * sizeof(double))
        return H->seterr(WB_EINVAL, "select.keys_in: bad arguments");
    const double *cls = (const double *)((const char *)arg + sizeof h), *pairs = cls + h.ncls;
    const wb_part *p = &in[0].part;
    int G = h.ncls ? h.ncls : 1;
    int *want = calloc((size_t)G * (size_t)h.nbins, sizeof *want);
    int64_t *cnt = calloc((size_t)h.npairs + 1, sizeof *cnt), *pos = calloc((size_t)h.npairs + 1, sizeof *pos);
    int rc = 0;
    double *o = NULL;
    if (!want || !cnt || !pos) {
        rc = H->seterr(WB_ENOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < h.npairs; k++) {
        int g = (int)pairs[2 * k], b = (int)pairs[2 * k + 1];
        if (g < 0 || g >= G || b < 0 || b >= h.nbins) {
            rc = H->seterr(WB_EINVAL, "select.keys_in: bad pair");
            goto done;
        }
        want[(size_t)g * (size_t)h.nbins + (size_t)b] = k + 1;
    }
    for (int pass = 0; pass < 2 && !rc; pass++) {
        if (pass == 1) {
            int64_t total = 0;
            for (int k = 0; k < h.npairs; k++) {
                pos[k] = h.npairs + total;
                total += cnt[k];
            }
            o = H->out_bytes(ctx, (size_t)(h.npairs + total) * sizeof(double) + 8);
            if (!o) {
                rc = WB_ENOMEM;
                goto done;
            }
            for (int k = 0; k < h.npairs; k++) o[k] = (double)cnt[k];
        }
        for (int64_t i = 0; i < p->rows; i++) {
            int g;
            if ((rc = group_of(p, i, cls, h.ncls, &g)) != 0) break;
            double u = select_key(h.seed, p->row0 + i);
            int b = (int)(u * h.nbins), k = want[(size_t)g * (size_t)h.nbins + (size_t)b];
            if (!k) continue;
            if (pass == 0) cnt[k - 1]++;
            else o[pos[k - 1]++] = u;
        }
    }
done:
    free(want);
    free(cnt);
    free(pos);
    return rc;
}

/* ------------------------------------------------------- cross-validation */

enum { CV_SCORE = 0, CV_LABELS = 1, CV_LOGLOSS = 2, CV_AUC = 3, CV_REGRESS = 4 };

typedef struct cv_hdr {
    int32_t ntrain, ntest, kind, pad;
} cv_hdr;

typedef struct dbuf {
    double *v;
    size_t n, cap;
} dbuf;

static int dbuf_add(dbuf *b, const double *v, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->n + n) c *= 2;
        double *nv = realloc(b->v, c * sizeof(double));
        if (!nv) return H->seterr(WB_ENOMEM, "out of memory");
        b->v = nv;
        b->cap = c;
    }
    memcpy(b->v + b->n, v, n * sizeof(double));
    b->n += n;
    return 0;
}

/* run a metrics kernel over each (test partition, prediction partition) pair;
 * the results go to out as (length, values...) chunks, or into objs */
static int pairs_run(wb_exec *ex, const char *kernel, const wb_dataset *test, const wb_dataset *pred,
                     const void *arg, size_t arglen, dbuf *out, wb_oid *objs)
{
    int rc = 0;
    for (int i = 0; i < H->ds_nparts(test) && !rc; i++) {
        wb_oid in[2] = {H->ds_part_oid(test, i), H->ds_part_oid(pred, i)}, o = 0;
        rc = H->submit(ex, kernel, in, 2, arg, arglen, &o);
        if (!rc) rc = H->wait(ex, &o, 1);
        if (!rc && objs) {
            objs[i] = o;
            continue;
        }
        void *data = NULL;
        size_t size = 0;
        if (!rc) rc = H->get(ex, o, &data, &size);
        if (!rc) {
            double len = (double)(size / sizeof(double));
            rc = dbuf_add(out, &len, 1);
            if (!rc) rc = dbuf_add(out, data, size / sizeof(double));
        }
        H->free(data);
        if (o) H->release(ex, o);
    }
    return rc;
}

/* a dataset's column names, types and levels and its labels' name and
 * levels from the JSON [names, levels, label name, label levels] that
 * wb.gridsearch sends with each task (select.lua, schema_of) */
static int apply_schema(wb_dataset *d, const char *json)
{
    wbc_jv *v = NULL;
    const int64_t dc = H->ds_cols(d);
    if (wbc_json_parse(json, &v) || v->type != WBC_J_ARR || v->n != 4 || v->items[0].type != WBC_J_ARR ||
        v->items[0].n != dc || v->items[1].type != WBC_J_ARR || v->items[1].n != dc ||
        (v->items[2].type != WBC_J_STR && v->items[2].type != WBC_J_NULL) ||
        (v->items[3].type != WBC_J_NULL && !wbc_json_is_strings(&v->items[3], -1, 1))) {
        wbc_json_free(v);
        return H->seterr(WB_EINVAL, "select.cv: bad column description");
    }
    int rc = 0;
    for (int64_t j = 0; j < dc && !rc; j++) {
        const wbc_jv *nm = &v->items[0].items[j], *lv = &v->items[1].items[j];
        const char *name = nm->type == WBC_J_STR ? nm->s : NULL;
        if (lv->type == WBC_J_NULL) {
            rc = H->ds_set_col(d, j, name, WB_COL_NUMBER, NULL, 0);
            continue;
        }
        const char **ls = wbc_json_is_strings(lv, -1, 1) ? wbc_json_strings(lv) : NULL;
        rc = ls ? H->ds_set_col(d, j, name, WB_COL_CATEGORY, ls, lv->n)
                : H->seterr(WB_EINVAL, "select.cv: bad column description");
        free(ls);
    }
    if (!rc && H->ds_has_labels(d)) {
        const wbc_jv *ll = &v->items[3];
        const char **ls = ll->type == WBC_J_ARR ? wbc_json_strings(ll) : NULL;
        if (ll->type == WBC_J_ARR && !ls) rc = H->seterr(WB_ENOMEM, "out of memory");
        else rc = H->ds_set_label(d, v->items[2].type == WBC_J_STR ? v->items[2].s : NULL, ls, ls ? ll->n : 0);
        free(ls);
    }
    wbc_json_free(v);
    return rc;
}

/* the truth's mean from metrics.regress chunks (length, nblocks, (block,
 * rows, sse, sae, sum)...): the block sums added in the fixed pairwise tree
 * over the sorted block indices that wb.scoring.tree_sum uses, so a fold's
 * r2 here is the one wb.metrics.r2 gives */
static int cmp_block(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int regress_mean(const dbuf *chunks, double *mean)
{
    size_t nb = 0;
    for (size_t pos = 0; pos < chunks->n;) {
        size_t len = (size_t)chunks->v[pos];
        if (len >= 1) nb += (size_t)chunks->v[pos + 1];
        pos += len + 1;
    }
    double *b = malloc((nb ? nb : 1) * 5 * sizeof(double));
    if (!b) return H->seterr(WB_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t pos = 0; pos < chunks->n;) {
        size_t len = (size_t)chunks->v[pos];
        const double *v = chunks->v + pos + 1;
        for (size_t i = 0; len >= 1 && i < (size_t)v[0] && 1 + 5 * i + 5 <= len; i++) memcpy(b + 5 * k++, v + 1 + 5 * i, 5 * sizeof(double));
        pos += len + 1;
    }
    qsort(b, k, 5 * sizeof(double), cmp_block);
    size_t n = k;
    while (n > 1) { /* pairs (0,1), (2,3), ...; an odd last one moves up as it is */
        size_t m = 0;
        for (size_t i = 0; i < n; i += 2) {
            if (i + 1 < n)
                for (int c = 1; c < 5; c++) b[5 * i + c] += b[5 * (i + 1) + c];
            memmove(b + 5 * m++, b + 5 * i, 5 * sizeof(double));
        }
        n = m;
    }
    *mean = k && b[1] > 0 ? b[4] / b[1] : 0;
    free(b);
    return 0;
}

/* select.cv: inputs = ntrain training partitions, then ntest test partitions;
 * arg = cv_hdr, u32 length + estimator name, u32 length + a model whose
 * parameters are the combination's, optionally u32 length + the columns'
 * description (apply_schema) -> doubles {fit seconds, score seconds,
 * iterations (or -1), kind, then: the score (SCORE, AUC) or chunks of the
 * metrics kernel's results (LABELS, LOGLOSS; REGRESS: the number of chunks
 * of the first pass, then the chunks of both passes)} */
static int k_cv(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)in;
    cv_hdr h;
    const unsigned char *a = arg;
    if (arglen < sizeof h + 8) return H->seterr(WB_EINVAL, "select.cv: bad arguments");
    memcpy(&h, a, sizeof h);
    uint32_t ln, lm;
    memcpy(&ln, a + sizeof h, 4);
    if (arglen < sizeof h + 8 + ln) return H->seterr(WB_EINVAL, "select.cv: bad arguments");
    memcpy(&lm, a + sizeof h + 4 + ln, 4);
    const size_t base = sizeof h + 8 + (size_t)ln + lm;
    uint32_t ls = 0;
    if (arglen >= base + 4) memcpy(&ls, a + base, 4);
    if ((arglen != base && arglen != base + 4 + (size_t)ls) || ln == 0 || ln > 255 || h.ntrain < 1 || h.ntest < 1 ||
        h.ntrain + h.ntest != nin)
        return H->seterr(WB_EINVAL, "select.cv: bad arguments");
    char name[256];
    memcpy(name, a + sizeof h + 4, ln);
    name[ln] = 0;
    const wb_estimator_def *e = H->estimator(name);
    if (!e) return H->seterr(WB_ENOTFOUND, "no estimator named '%s'", name);
    wb_exec *ex = H->kctx_exec(ctx);
    if (!ex) return H->seterr(WB_ENOMEM, "out of memory");
    wb_model *carrier = NULL, *model = NULL;
    wb_dataset *train = NULL, *test = NULL, *pred = NULL;
    wb_oid *ids = malloc((size_t)nin * sizeof *ids), *objs = NULL;
    dbuf out = {0};
    int rc = ids ? 0 : H->seterr(WB_ENOMEM, "out of memory");
    for (int i = 0; i < nin && !rc; i++) ids[i] = H->kctx_input(ctx, i);
    if (!rc) rc = H->model_decode(a + sizeof h + 8 + ln, lm, &carrier);
    if (!rc) rc = H->ds_from_parts(ex, ids, h.ntrain, &train);
    if (!rc) rc = H->ds_from_parts(ex, ids + h.ntrain, h.ntest, &test);
    if (!rc && arglen > base) {
        /* the columns' names, types and levels the folds' partitions lack */
        char *sj = malloc((size_t)ls + 1);
        if (!sj) rc = H->seterr(WB_ENOMEM, "out of memory");
        else {
            memcpy(sj, a + base + 4, ls);
            sj[ls] = 0;
            rc = apply_schema(train, sj);
            if (!rc) rc = apply_schema(test, sj);
            free(sj);
        }
    }
    double t0 = H->now();
    if (!rc) rc = H->fit(ex, name, train, H->model_params(carrier), &model);
    double t1 = H->now();
    double head[5] = {t1 - t0, 0, -1, h.kind, 0};
    if (!rc) {
        double it = H->model_num(model, "n_iter");
        if (!isfinite(it)) it = H->model_num(model, "iterations");
        if (isfinite(it)) head[2] = it;
    }
    if (!rc && h.kind == CV_SCORE) {
        if (e->score)
            rc = e->score(ex, model, test, &head[4]);
        else if (e->kind == WB_EST_CLASSIFIER && e->predict) {
            rc = e->predict(ex, model, test, &pred);
            if (!rc) rc = accuracy_of(ex, test, pred, &head[4]);
        } else
            rc = H->seterr(WB_ENOTSUP, "%s has no score: give a metric", name);
    } else if (!rc && h.kind == CV_LABELS) {
        if (!e->predict) rc = H->seterr(WB_ENOTSUP, "%s has no predict", name);
        if (!rc) rc = e->predict(ex, model, test, &pred);
        const int32_t mh[6] = {0, 1, 0, 0, 0, 0};
        if (!rc) rc = pairs_run(ex, "metrics.confusion", test, pred, mh, sizeof mh, &out, NULL);
    } else if (!rc && h.kind == CV_REGRESS) {
        /* errors of the predictions, then the truth's squared deviations
         * from its mean: head[4] = the number of chunks of the first pass */
        if (!e->predict) rc = H->seterr(WB_ENOTSUP, "%s has no predict", name);
        if (!rc) rc = e->predict(ex, model, test, &pred);
        const int32_t mh[6] = {0, 1, 0, 0, 0, 0};
        if (!rc) rc = pairs_run(ex, "metrics.regress", test, pred, mh, sizeof mh, &out, NULL);
        head[4] = H->ds_nparts(test);
        double mean = 0;
        if (!rc) rc = regress_mean(&out, &mean);
        if (!rc) {
            unsigned char ma[24 + 8];
            const int32_t mh2[4] = {0, 1, 0, 1};
            double eps = 0;
            memcpy(ma, mh2, 16);
            memcpy(ma + 16, &eps, 8);
            memcpy(ma + 24, &mean, 8);
            rc = pairs_run(ex, "metrics.regress", test, pred, ma, sizeof ma, &out, NULL);
        }
    } else if (!rc) { /* probabilities */
        int64_t r, c;
        const double *cls = H->model_array(model, "classes", &r, &c);
        if (!e->predict_proba) rc = H->seterr(WB_ENOTSUP, "%s has no predict_proba", name);
        else if (!cls) rc = H->seterr(WB_ENOTSUP, "%s: the model has no classes", name);
        if (!rc) rc = e->predict_proba(ex, model, test, &pred);
        size_t len = 24 + (size_t)(r * c) * sizeof(double);
        unsigned char *ma = rc ? NULL : malloc(len);
        if (!rc && !ma) rc = H->seterr(WB_ENOMEM, "out of memory");
        if (!rc) {
            int32_t mh[4] = {0, 1, (int32_t)(r * c), 1};
            double eps = 2.220446049250313e-16;
            memcpy(ma, mh, 16);
            memcpy(ma + 16, &eps, 8);
            memcpy(ma + 24, cls, (size_t)(r * c) * sizeof(double));
            if (h.kind == CV_LOGLOSS)
                rc = pairs_run(ex, "metrics.logloss", test, pred, ma, len, &out, NULL);
            else {
                int np = H->ds_nparts(test);
                objs = calloc((size_t)np, sizeof *objs);
                if (!objs) rc = H->seterr(WB_ENOMEM, "out of memory");
                if (!rc) rc = pairs_run(ex, "metrics.auc_sort", test, pred, ma, len, &out, objs);
                wb_oid mo = 0;
                if (!rc) rc = H->submit(ex, "metrics.auc_merge", objs, np, NULL, 0, &mo);
                if (!rc) rc = H->wait(ex, &mo, 1);
                void *data = NULL;
                size_t size = 0;
                if (!rc) rc = H->get(ex, mo, &data, &size);
                if (!rc) {
                    const double *v = data;
                    double s = 0;
                    for (int l = 0; l < (int)v[0]; l++) s += v[1 + l];
                    head[4] = s / v[0];
                }
                H->free(data);
                if (mo) H->release(ex, mo);
                for (int i = 0; i < np; i++)
                    if (objs[i]) H->release(ex, objs[i]);
            }
        }
        free(ma);
    }
    head[1] = H->now() - t1;
    if (!rc) {
        double *o = H->out_bytes(ctx, (5 + out.n) * sizeof(double));
        if (!o) rc = WB_ENOMEM;
        else {
            memcpy(o, head, sizeof head);
            if (out.n) memcpy(o + 5, out.v, out.n * sizeof(double));
        }
    }
    free(out.v);
    free(objs);
    free(ids);
    if (pred) H->ds_unref(pred);
    if (train) H->ds_unref(train);
    if (test) H->ds_unref(test);
    if (model) H->model_free(model);
    if (carrier) H->model_free(carrier);
    return rc;
}

/* select.gather: inputs = partitions holding rows [lo, hi) of a dataset; arg =
 * {lo, hi, row0} -> those rows as one partition starting at row0 (used to
 * cut a dataset into partitions of another size) */
static int k_gather(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    int64_t t[3];
    if (arglen != sizeof t || nin < 1) return H->seterr(WB_EINVAL, "select.gather: bad arguments");
    memcpy(t, arg, sizeof t);
    int64_t cols = in[0].part.cols, rows = t[1] - t[0];
    int has_y = in[0].part.y != NULL;
    double *x, *y;
    int rc = H->out_part(ctx, rows, cols, t[2], has_y, &x, &y);
    if (rc) return rc;
    int64_t got = 0;
    for (int j = 0; j < nin; j++) {
        const wb_part *p = &in[j].part;
        if (in[j].type != WB_OBJ_PART || p->cols != cols || (p->y != NULL) != has_y)
            return H->seterr(WB_EINVAL, "select.gather: inputs of different shapes");
        int64_t a = p->row0 > t[0] ? p->row0 : t[0], b = p->row0 + p->rows < t[1] ? p->row0 + p->rows : t[1];
        if (b <= a) continue;
        memcpy(x + (size_t)(a - t[0]) * (size_t)cols, p->x + (size_t)(a - p->row0) * (size_t)cols,
               (size_t)(b - a) * (size_t)cols * sizeof(double));
        if (has_y) memcpy(y + (a - t[0]), p->y + (a - p->row0), (size_t)(b - a) * sizeof(double));
        got += b - a;
    }
    if (got != rows) return H->seterr(WB_EINVAL, "select.gather: the inputs hold %lld of %lld rows", (long long)got, (long long)rows);
    return 0;
}

/* select.shape: -> {row0, rows} of a partition */
static int k_shape(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    (void)nin, (void)arg, (void)arglen;
    int64_t *o = H->out_bytes(ctx, 16);
    if (!o) return WB_ENOMEM;
    o[0] = in[0].part.row0;
    o[1] = in[0].part.rows;
    return 0;
}

extern const char select_lua_src[];

static const wb_kernel_def kernels[] = {
    {.name = "select.keyhist", .fn = k_keyhist},
    {.name = "select.keys_in", .fn = k_keys_in},
    {.name = "select.cv", .fn = k_cv},
    {.name = "select.gather", .fn = k_gather},
    {.name = "select.shape", .fn = k_shape},
    {.name = "select.relabel", .fn = k_relabel},
};

WB_PLUGIN("select", "1.0")
{
    H = host;
    const char *lacks = wbc_host_lacks(host); /* the columns of grid search's folds, pipelines' labels */
    if (lacks) return host->seterr(WB_EABI, WBC_HOST_TOO_OLD, "select", lacks);
    int rc = wb_register_kernels(host, kernels, sizeof kernels / sizeof kernels[0]);
    if (!rc) rc = host->register_estimator(&pipeline_def);
    if (!rc) rc = host->register_lua("select", select_lua_src);
    return rc;
}
