/* sgd.c — a linear classifier trained by stochastic gradient descent, with
 * scikit-learn's SGDClassifier update rules: losses hinge, log_loss and
 * modified_huber; penalties l2, l1 (cumulative, Tsuruoka et al.) and
 * elasticnet; learning rates optimal (Bottou's 1 / (alpha (t0 + t))),
 * constant, invscaling (eta0 / t^power_t) and adaptive (eta0, divided by 5
 * after n_iter_no_change epochs without improvement); several classes are
 * fitted one-vs-rest.
 *
 * Data parallelism: local SGD with model averaging once per epoch (as Spark
 * MLlib's and PyTorch's local-SGD / "model averaging" schemes; not DDP's
 * per-step gradient allreduce). The rows are cut into `shards` fixed ranges of
 * whole 4096-row blocks; each epoch, each shard starts from the current
 * model, runs SGD over its rows in an order shuffled from (seed, epoch,
 * shard), and the driver averages the shard models weighted by their rows, in
 * shard order. The cumulative L1 penalty's state (the penalty each weight may
 * have had so far, u, and the penalty it did get, q) is part of the model: it
 * goes from epoch to epoch and is averaged like the weights, so one shard
 * runs scikit-learn's SGD exactly (u and q never restart). Shards depend only on the number of rows and the `shards`
 * parameter, never on partitions, threads or workers, so the model is
 * bit-identical for a given seed wherever it runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"

_Static_assert(WB_BLOCK_ROWS == 4096, "the shard row lookup shifts by 12");

enum { L_HINGE = 0, L_LOG = 1, L_MHUBER = 2 };
enum { P_NONE = 0, P_L2 = 1, P_L1 = 2, P_EN = 3 };
enum { R_OPTIMAL = 0, R_CONSTANT = 1, R_INVSCALING = 2, R_ADAPTIVE = 3 };

typedef struct sgd_hdr {
    int32_t K, ncls, d, loss, penalty, lr, fi, shuffle, want_loss;
    int32_t check; /* the fit's first epoch: fail on a NaN/Inf in x (no pass of its own) */
    int64_t r0, r1; /* the shard's rows */
    uint64_t seed;
    int64_t epoch, shard;
    double alpha, l1_ratio, eta, power_t, t0, optimal_init;
} sgd_hdr;

static inline double sgd_loss(int loss, double p, double y)
{
    double z = p * y;
    switch (loss) {
    case L_HINGE: return z <= 1 ? 1 - z : 0;
    case L_LOG:
        if (z > 18) return exp(-z);
        if (z < -18) return -z;
        return log1p(exp(-z));
    default:
        if (z >= 1) return 0;
        if (z >= -1) return (1 - z) * (1 - z);
        return -4 * z;
    }
}

/* derivative of the loss with respect to p */
static inline double sgd_dloss(int loss, double p, double y)
{
    double z = p * y;
    switch (loss) {
    case L_HINGE: return z <= 1 ? -y : 0;
    case L_LOG:
        if (z > 18) return exp(-z) * -y;
        if (z < -18) return -y;
        return -y / (exp(z) + 1);
    default:
        if (z >= 1) return 0;
        if (z >= -1) return 2 * (1 - z) * -y;
        return -4 * y;
    }
}

/* linear.sgd: inputs = the partitions that hold rows [r0, r1); arg = sgd_hdr,
 * classes[ncls], class weights[ncls], W[K*(d+1)], q[K*(d+1)], u -> W'[K*(d+1)],
 * sum of losses, q'[K*(d+1)], u' (q, u: the cumulative L1 penalty's state) */
int lin_k_sgd(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen)
{
    sgd_hdr h;
    if (arglen < sizeof h) return H->seterr(WB_EINVAL, "linear.sgd: bad arguments");
    memcpy(&h, arg, sizeof h);
    const int K = h.K, d = h.d, nc = h.ncls;
    const size_t P = (size_t)d + 1;
    size_t need = sizeof h + ((size_t)2 * nc + (size_t)2 * K * P + 1) * sizeof(double);
    if (K < 1 || nc < 2 || d < 0 || arglen != need || h.r1 <= h.r0)
        return H->seterr(WB_EINVAL, "linear.sgd: bad arguments");
    const double *cls = (const double *)((const char *)arg + sizeof h), *cw = cls + nc, *W0 = cw + nc;
    const double *Q0 = W0 + (size_t)K * P, u0 = Q0[(size_t)K * P];
    const int64_t ns = h.r1 - h.r0;
    /* rows by block: a shard starts on a block boundary and blocks never
     * straddle partitions, so row i of the shard is blk[i >> 12] + (i & 4095) * d
     * (no pointer per row to chase in the shuffled loop) */
    const int64_t nbk = (ns + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS;
    const double **blk = calloc((size_t)nbk, sizeof *blk);
    int *ci = malloc((size_t)ns * sizeof *ci);
    uint32_t *ord = malloc((size_t)ns * sizeof *ord);
    double *w = malloc((size_t)K * P * sizeof *w), *q = calloc((size_t)K * P, sizeof *q);
    double *wscale = malloc((size_t)K * sizeof *wscale);
    int rc = 0;
    if (h.r0 % WB_BLOCK_ROWS) {
        free(blk);
        free(ci);
        free(ord);
        free(w);
        free(q);
        free(wscale);
        return H->seterr(WB_EINVAL, "linear.sgd: a shard must start on a block boundary");
    }
    if (!blk || !ci || !ord || !w || !q || !wscale) {
        rc = H->seterr(WB_ENOMEM, "out of memory");
        goto done;
    }
    int64_t filled = 0;
    for (int j = 0; j < nin; j++) {
        const wb_part *p = &in[j].part;
        if (in[j].type != WB_OBJ_PART || p->cols != d || !p->y) {
            rc = H->seterr(WB_EINVAL, "linear.sgd: input %d is not a labelled partition of %d columns", j, d);
            goto done;
        }
        int64_t a = p->row0 > h.r0 ? p->row0 : h.r0, b = p->row0 + p->rows < h.r1 ? p->row0 + p->rows : h.r1;
        if (a >= b) continue;
        /* the blocks that start in [a, b) (shard offsets are >= 0, so the
         * first block start at or after a is found by rounding up) */
        for (int64_t r = h.r0 + (a - h.r0 + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS * WB_BLOCK_ROWS; r < b; r += WB_BLOCK_ROWS)
            blk[(r - h.r0) / WB_BLOCK_ROWS] = p->x + (size_t)(r - p->row0) * (size_t)d;
        const double *y = p->y + (a - p->row0);
        int *cr = ci + (a - h.r0);
        const int64_t len = b - a;
        int bad = nc != 2;
        if (nc == 2) { /* two classes: a branch-free loop the compiler vectorises */
            const double c0 = cls[0], c1 = cls[1];
            for (int64_t i = 0; i < len; i++) {
                cr[i] = y[i] == c1;
                bad |= (y[i] != c0) & (y[i] != c1);
            }
        }
        for (int64_t i = 0; bad && i < len; i++) {
            int c = lin_class_index(cls, nc, y[i]);
            if (c < 0) {
                rc = H->seterr(WB_EINVAL, "label %g at row %lld is not one of the classes", y[i],
                                 (long long)(a + i + 1));
                goto done;
            }
            cr[i] = c;
        }
        filled += len;
    }
    if (filled != ns) {
        rc = H->seterr(WB_EINVAL, "linear.sgd: the inputs hold %lld of the shard's %lld rows", (long long)filled,
                         (long long)ns);
        goto done;
    }
    for (int64_t i = 0; i < ns; i++) ord[i] = (uint32_t)i;
    if (h.shuffle) {
        wb_rng rng;
        wb_rng_init(&rng, h.seed, 0x56d0000000ULL + (uint64_t)h.epoch, (uint64_t)h.shard);
        for (int64_t i = ns - 1; i > 0; i--) {
            /* a uniform index in [0, i] by multiply-shift (bias below 2^-40) */
            int64_t j = (int64_t)(((unsigned __int128)wb_rng_u64(&rng) * (uint64_t)(i + 1)) >> 64);
            uint32_t t = ord[i];
            ord[i] = ord[j];
            ord[j] = t;
        }
    }
    memcpy(w, W0, (size_t)K * P * sizeof *w);
    memcpy(q, Q0, (size_t)K * P * sizeof *q);
    for (int k = 0; k < K; k++) wscale[k] = 1;
    const int l2 = h.penalty == P_L2 || h.penalty == P_EN, l1 = h.penalty == P_L1 || h.penalty == P_EN;
    const double l1r = h.penalty == P_L2 ? 0 : h.penalty == P_L1 ? 1 : h.l1_ratio;
    double t = h.t0, u = u0, sumloss = 0, eta = h.eta;
    int nonfinite = 0; /* h.check: a NaN/Inf met in x (each row is checked where the loop loads it) */
    for (int64_t it = 0; it < ns; it++) {
        if (it + 16 < ns) { /* the row 16 steps ahead: its first and last cache lines */
            const uint32_t ia = ord[it + 16];
            const double *ahead = blk[ia >> 12] + (size_t)(ia & 4095) * (size_t)d;
            __builtin_prefetch(ahead);
            __builtin_prefetch(ahead + d - 1);
            __builtin_prefetch(ci + ia);
        }
        if (h.lr == R_OPTIMAL)
            eta = 1.0 / (h.alpha * (h.optimal_init + t - 1));
        else if (h.lr == R_INVSCALING)
            eta = h.eta / pow(t, h.power_t);
        const int64_t i = ord[it];
        const double *x = blk[i >> 12] + (size_t)(i & 4095) * (size_t)d;
        const int c = ci[i];
        if (h.check) nonfinite |= lin_nonfinite(x, (size_t)d);
        if (l1) u += l1r * eta * h.alpha;
        for (int k = 0; k < K; k++) {
            double *wk = w + (size_t)k * P;
            double yk = K == 1 ? (c == 1 ? 1 : -1) : (c == k ? 1 : -1);
            double cwk = K == 1 ? cw[c] : (yk > 0 ? cw[k] : 1);
            /* four partial sums: the dot product is the loop's critical path */
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int j = 0;
            for (; j + 4 <= d; j += 4) {
                s0 += wk[j] * x[j];
                s1 += wk[j + 1] * x[j + 1];
                s2 += wk[j + 2] * x[j + 2];
                s3 += wk[j + 3] * x[j + 3];
            }
            for (; j < d; j++) s0 += wk[j] * x[j];
            double pk = ((s0 + s1) + (s2 + s3)) * wscale[k] + wk[d];
            if (h.want_loss) sumloss += sgd_loss(h.loss, pk, yk);
            double dl = sgd_dloss(h.loss, pk, yk);
            if (dl < -1e12) dl = -1e12;
            if (dl > 1e12) dl = 1e12;
            double update = -eta * dl * cwk;
            if (l2) {
                double f = 1 - (1 - l1r) * eta * h.alpha;
                wscale[k] *= f > 0 ? f : 0;
                if (wscale[k] < 1e-9) {
                    for (int j = 0; j < d; j++) wk[j] *= wscale[k];
                    wscale[k] = 1;
                }
            }
            if (update != 0) {
                double a = update / wscale[k];
                for (int j = 0; j < d; j++) wk[j] += a * x[j];
                if (h.fi) wk[d] += update;
            }
            if (l1) {
                double *qk = q + (size_t)k * P, ws = wscale[k];
                for (int j = 0; j < d; j++) {
                    double z = wk[j];
                    if (ws * wk[j] > 0)
                        wk[j] = fmax(0, wk[j] - (u + qk[j]) / ws);
                    else if (ws * wk[j] < 0)
                        wk[j] = fmin(0, wk[j] + (u - qk[j]) / ws);
                    qk[j] += ws * (wk[j] - z);
                }
            }
        }
        t += 1;
    }
    if (nonfinite) {
        rc = H->seterr(WB_EINVAL, "linear.sgd: the data has NaN or Inf values");
        goto done;
    }
    double *o = H->out_bytes(ctx, ((size_t)2 * K * P + 2) * sizeof(double));
    if (!o) {
        rc = WB_ENOMEM;
        goto done;
    }
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < d; j++) o[(size_t)k * P + j] = w[(size_t)k * P + j] * wscale[k];
        o[(size_t)k * P + d] = w[(size_t)k * P + d];
    }
    o[(size_t)K * P] = sumloss;
    memcpy(o + (size_t)K * P + 1, q, (size_t)K * P * sizeof *q);
    o[(size_t)2 * K * P + 1] = u;
done:
    free(blk);
    free(ci);
    free(ord);
    free(w);
    free(q);
    free(wscale);
    return rc;
}

/* -------------------------------------------------------------- estimator */

static const wb_param_spec sgd_params[] = {
    {.name = "loss", .types = WB_P_STR, .def = "hinge", .choices = "hinge|log_loss|modified_huber",
     .doc = "hinge: a linear SVM; log_loss: logistic regression"},
    {.name = "penalty", .types = WB_P_STR, .def = "l2", .choices = "l2|l1|elasticnet|none",
     .doc = "the regularisation term"},
    {.name = "alpha", .types = WB_P_NUM, .def = "1e-4", .min = 0, .max = INFINITY,
     .doc = "regularisation strength (also sets the 'optimal' learning rate)"},
    {.name = "l1_ratio", .types = WB_P_NUM, .def = "0.15", .min = 0, .max = 1,
     .doc = "elasticnet mixing: 0 is l2, 1 is l1"},
    {.name = "fit_intercept", .types = WB_P_BOOL, .def = "true", .doc = "fit an intercept"},
    {.name = "epochs", .types = WB_P_INT, .def = "1000", .min = 1, .max = INFINITY,
     .doc = "passes over the data at most (scikit-learn's max_iter)"},
    {.name = "tol", .types = WB_P_NUM | WB_P_BOOL, .def = "1e-3", .min = 0, .max = INFINITY,
     .doc = "stop when the epoch's loss improves by less than tol * n for n_iter_no_change epochs; false: run all epochs"},
    {.name = "n_iter_no_change", .types = WB_P_INT, .def = "5", .min = 1, .max = INFINITY,
     .doc = "epochs without improvement before stopping (or, adaptive, dividing eta by 5)"},
    {.name = "shuffle", .types = WB_P_BOOL, .def = "true", .doc = "shuffle the rows of each shard every epoch"},
    {.name = "seed", .types = WB_P_INT, .def = "0", .min = 0, .max = 9.007199254740992e15,
     .doc = "seed of the shuffles"},
    {.name = "learning_rate", .types = WB_P_STR, .def = "optimal", .choices = "optimal|constant|invscaling|adaptive",
     .doc = "optimal: 1 / (alpha (t0 + t)); constant: eta0; invscaling: eta0 / t^power_t; adaptive: eta0, / 5 when stuck"},
    {.name = "eta0", .types = WB_P_NUM, .def = "0.0", .min = 0, .max = INFINITY,
     .doc = "initial learning rate (constant, invscaling, adaptive)"},
    {.name = "power_t", .types = WB_P_NUM, .def = "0.5", .min = -INFINITY, .max = INFINITY,
     .doc = "exponent of invscaling"},
    {.name = "class_weight", .types = WB_P_STR | WB_P_ARRAY, .flags = WB_P_NULLABLE, .choices = "balanced",
     .doc = "\"balanced\" or one weight per class, in sorted class order"},
    {.name = "shards", .types = WB_P_INT, .def = "64", .min = 1, .max = 65536,
     .doc = "data shards (at most one per 4096 rows) trained in parallel and averaged each epoch; the model depends on it, never on threads"},
};

static int choice(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

static int sgd_check(const wb_params *p, const wb_dataset *d)
{
    (void)d;
    const char *lr = H->param_str(p, "learning_rate");
    if (H->param_type(p, "tol") == WB_P_BOOL && H->param_bool(p, "tol"))
        return H->seterr(WB_EPARAM, "sgd: parameter 'tol' must be a number >= 0 or false, got true");
    if (!strcmp(lr, "optimal") && !(H->param_num(p, "alpha") > 0))
        return H->seterr(WB_EPARAM, "sgd: learning_rate 'optimal' needs alpha > 0, got %g", H->param_num(p, "alpha"));
    if (strcmp(lr, "optimal") && !(H->param_num(p, "eta0") > 0))
        return H->seterr(WB_EPARAM, "sgd: learning_rate '%s' needs eta0 > 0, got %g", lr, H->param_num(p, "eta0"));
    return 0;
}

static int sgd_fit(wb_exec *ex, const wb_dataset *d, const wb_params *p, wb_model *m)
{
    const char *who = "sgd";
    static const char *const losses[] = {"hinge", "log_loss", "modified_huber", NULL};
    static const char *const pens[] = {"none", "l2", "l1", "elasticnet", NULL};
    static const char *const rates[] = {"optimal", "constant", "invscaling", "adaptive", NULL};
    lin_classes cl;
    int rc = lin_prepare(ex, d, p, who, &cl), checked = 0; /* checked: an epoch checked x (hs.check) */
    if (rc) return rc;
    const int cols = (int)H->ds_cols(d), K = cl.n == 2 ? 1 : cl.n;
    const size_t P = (size_t)cols + 1;
    const int64_t n = H->ds_rows(d), nb = (n + WB_BLOCK_ROWS - 1) / WB_BLOCK_ROWS;
    int S = lin_int_param(p, "shards");
    if (S > nb) S = (int)nb;
    sgd_hdr h = {0};
    h.K = K;
    h.ncls = cl.n;
    h.d = cols;
    h.loss = choice(H->param_str(p, "loss"), losses);
    h.penalty = choice(H->param_str(p, "penalty"), pens);
    h.lr = choice(H->param_str(p, "learning_rate"), rates);
    h.fi = H->param_bool(p, "fit_intercept");
    h.shuffle = H->param_bool(p, "shuffle");
    h.want_loss = H->param_type(p, "tol") != WB_P_BOOL; /* the epoch's loss only serves tol */
    h.seed = (uint64_t)H->param_int(p, "seed");
    h.alpha = H->param_num(p, "alpha");
    h.l1_ratio = H->param_num(p, "l1_ratio");
    h.eta = H->param_num(p, "eta0");
    h.power_t = H->param_num(p, "power_t");
    if (h.lr == R_OPTIMAL) { /* scikit-learn's: eta at the first step is typw / max(1, dloss(-typw, 1)) */
        double typw = sqrt(1.0 / sqrt(h.alpha));
        double eta0 = typw / fmax(1.0, sgd_dloss(h.loss, -typw, 1.0));
        h.optimal_init = 1.0 / (eta0 * h.alpha);
    }
    const int use_tol = H->param_type(p, "tol") != WB_P_BOOL;
    const double tol = use_tol ? H->param_num(p, "tol") : 0;
    const int no_change = lin_int_param(p, "n_iter_no_change"), epochs = lin_int_param(p, "epochs");
    /* the model state: W[K*P], then the cumulative L1 penalty's q[K*P] and u */
    const size_t MS = (size_t)2 * K * P + 1;
    const size_t alen = sizeof h + ((size_t)2 * cl.n + MS) * sizeof(double);
    unsigned char *args = calloc((size_t)S, alen);
    double *W = calloc(MS, sizeof(double)), *acc = calloc(MS, sizeof(double));
    int64_t *r0 = calloc((size_t)S + 1, sizeof *r0);
    wb_oid *outs = calloc((size_t)S, sizeof *outs);
    int np = H->ds_nparts(d);
    wb_oid *ins = calloc((size_t)np + 1, sizeof *ins);
    if (!args || !W || !acc || !r0 || !outs || !ins) {
        rc = H->seterr(WB_ENOMEM, "out of memory");
        goto done;
    }
    for (int s = 0; s <= S; s++) {
        int64_t b = nb * s / S * WB_BLOCK_ROWS;
        r0[s] = b < n ? b : n;
    }
    double best = INFINITY, eta = h.eta;
    int stale = 0, converged = 0, it = 0;
    for (it = 0; it < epochs && !converged; it++) {
        int submitted = 0;
        for (int s = 0; s < S && !rc; s++) {
            unsigned char *a = args + (size_t)s * alen;
            sgd_hdr hs = h;
            hs.r0 = r0[s];
            hs.r1 = r0[s + 1];
            hs.epoch = it;
            hs.shard = s;
            hs.eta = eta;
            hs.check = !checked;
            hs.t0 = 1 + (double)it * (double)(r0[s + 1] - r0[s]);
            memcpy(a, &hs, sizeof hs);
            double *ad = (double *)(a + sizeof hs);
            memcpy(ad, cl.values, (size_t)cl.n * sizeof(double));
            memcpy(ad + cl.n, cl.weights, (size_t)cl.n * sizeof(double));
            memcpy(ad + 2 * cl.n, W, MS * sizeof(double));
            int k = 0;
            for (int j = 0; j < np; j++) {
                int64_t pr0 = H->ds_part_row0(d, j), pr = H->ds_part_rows(d, j);
                if (pr0 < hs.r1 && pr0 + pr > hs.r0) ins[k++] = H->ds_part_oid(d, j);
            }
            rc = H->submit(ex, "linear.sgd", ins, k, a, alen, &outs[s]);
            if (!rc) submitted++;
        }
        if (!rc) rc = H->wait(ex, outs, S);
        double sumloss = 0;
        memset(acc, 0, MS * sizeof(double));
        for (int s = 0; s < S && !rc; s++) {
            void *data = NULL;
            size_t size = 0;
            rc = H->get(ex, outs[s], &data, &size);
            if (!rc && size != (MS + 1) * sizeof(double))
                rc = H->seterr(WB_EINTERNAL, "sgd: a shard returned %zu bytes", size);
            if (!rc) {
                const double *o = data;
                double wgt = (double)(r0[s + 1] - r0[s]) / (double)n;
                for (size_t v = 0; v < (size_t)K * P; v++) acc[v] += wgt * o[v];
                for (size_t v = (size_t)K * P; v < MS; v++) acc[v] += wgt * o[v + 1]; /* q and u */
                sumloss += o[(size_t)K * P];
            }
            H->free(data);
        }
        for (int s = 0; s < submitted; s++) H->release(ex, outs[s]);
        if (rc) goto done;
        checked = 1; /* every shard's rows passed the check */
        for (size_t v = 0; v < (size_t)K * P; v++)
            if (!isfinite(acc[v])) {
                rc = H->seterr(WB_EINVAL,
                                 "sgd: the weights overflowed in epoch %d; scale the data (e.g. with the scaler) or lower eta0/alpha",
                                 it + 1);
                goto done;
            }
        memcpy(W, acc, MS * sizeof(double));
        if (use_tol) {
            if (sumloss > best - tol * (double)n)
                stale++;
            else
                stale = 0;
            if (sumloss < best) best = sumloss;
            if (stale >= no_change) {
                if (h.lr == R_ADAPTIVE && eta > 1e-6) {
                    eta /= 5;
                    stale = 0;
                } else
                    converged = 1;
            }
        }
        if (h.want_loss) { /* the epoch's mean loss, when it was computed */
            char info[64];
            snprintf(info, sizeof info, "epoch %d loss %.6g", it + 1, sumloss / (double)n);
            H->progress("sgd", it + 1, epochs, info);
        } else
            H->progress("sgd", it + 1, epochs, NULL);
    }
    double *coef = calloc((size_t)K * cols + 1, sizeof(double)), *icpt = calloc((size_t)K, sizeof(double));
    if (!coef || !icpt) {
        free(coef);
        free(icpt);
        rc = H->seterr(WB_ENOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < K; k++) {
        memcpy(coef + (size_t)k * cols, W + (size_t)k * P, (size_t)cols * sizeof(double));
        icpt[k] = W[(size_t)k * P + cols];
    }
    rc = H->model_set_array(m, "classes", cl.values, 1, cl.n);
    if (!rc) rc = H->model_set_array(m, "coef", coef, K, cols);
    if (!rc) rc = H->model_set_array(m, "intercept", icpt, 1, K);
    if (!rc) rc = H->model_set_num(m, "n_iter", it);
    if (!rc) rc = H->model_set_num(m, "converged", converged);
    if (!rc) rc = H->model_set_num(m, "shards_used", S);
    if (!rc) rc = H->model_set_num(m, "n_samples", (double)n);
    free(coef);
    free(icpt);
done:
    if (!checked) rc = lin_finite_first(ex, d, who, rc);
    free(args);
    free(W);
    free(acc);
    free(r0);
    free(outs);
    free(ins);
    lin_classes_free(&cl);
    return rc;
}

static int sgd_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    return lin_predict(ex, m, d, LIN_LABEL, "sgd", out);
}

static int sgd_proba(wb_exec *ex, const wb_model *m, const wb_dataset *d, wb_dataset **out)
{
    const char *loss = H->param_str(H->model_params(m), "loss");
    if (loss && !strcmp(loss, "log_loss")) return lin_predict(ex, m, d, LIN_PROBA_OVR, "sgd", out);
    if (loss && !strcmp(loss, "modified_huber")) return lin_predict(ex, m, d, LIN_PROBA_MHUBER, "sgd", out);
    return H->seterr(WB_EINVAL, "sgd: predict_proba needs loss 'log_loss' or 'modified_huber' (this model has loss '%s')",
                       loss ? loss : "?");
}

const wb_estimator_def lin_sgd_def = {
    .version = WB_ESTIMATOR_V1,
    .name = "sgd",
    .doc = "linear classifier by stochastic gradient descent (hinge, log_loss, modified_huber), shards averaged per epoch",
    .kind = WB_EST_CLASSIFIER,
    .needs_labels = 1,
    .params = sgd_params,
    .nparams = sizeof sgd_params / sizeof sgd_params[0],
    .check = sgd_check,
    .fit = sgd_fit,
    .predict = sgd_predict,
    .predict_proba = sgd_proba,
};
