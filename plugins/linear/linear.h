/* linear.h — shared parts of the linear plugin: logistic regression (logreg)
 * and the SGD classifier (sgd). Both store their fit the same way (fields
 * classes, coef, intercept) and predict with the same kernel. */
#ifndef WB_LINEAR_H
#define WB_LINEAR_H

#include <wb/plugin.h>

extern const wb_host *H; /* the host's function table, kept at init (host.c) */

/* the classes of a labelled dataset and their weights */
typedef struct lin_classes {
    int n;           /* number of classes (>= 2) */
    double *values;  /* sorted class labels */
    double *counts;  /* rows per class (counted only when class_weight is given) */
    double *weights; /* weight per class (class_weight), 1 by default */
    double rows;     /* rows of the data */
    double wsum;     /* sum over rows of their class weight */
} lin_classes;

/* The shared checks before any work (prepare.c): no category columns, integer labels (NaN/Inf labels named by
 * row), at least two classes, class weights from the parameter `class_weight`
 * ("balanced" or one weight per class in sorted order). NaN/Inf in x is left
 * to the fit's first pass over the data (one pass less): its kernel fails on
 * one, and the fit passes every error met before that pass completed through
 * lin_finite_first, so the message is the one the finite check gives first. */
int lin_prepare(wb_exec *ex, const wb_dataset *d, const wb_params *p, const char *who,
                lin_classes *c);
/* refuses category columns (their codes are not quantities): "<who>: column
 * 'colour' holds categories: encode it first, ..." (prepare.c) */
int lin_no_categories(const wb_dataset *d, const char *who);
/* rc when 0 or when the data is finite; otherwise the finite check's error
 * ("<who>: the data has NaN at row 17, column 3") */
int lin_finite_first(wb_exec *ex, const wb_dataset *d, const char *who, int rc);
/* nonzero when one of the n doubles at x is NaN or +-Inf (branch-free, vectorised) */
static inline int lin_nonfinite(const double *x, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad |= !(x[i] - x[i] == 0);
    return bad;
}
void lin_classes_free(lin_classes *c);

/* an integer parameter clamped to int */
static inline int lin_int_param(const wb_params *p, const char *name)
{
    int64_t v = H->param_int(p, name);
    return v > 2147483647 ? 2147483647 : (int)v;
}

/* index of y among the sorted values, or -1 */
static inline int lin_class_index(const double *v, int n, double y)
{
    if (n == 2) return y == v[1] ? 1 : y == v[0] ? 0 : -1;
    int a = 0, b = n - 1;
    while (a <= b) {
        int m = (a + b) / 2;
        if (v[m] == y) return m;
        if (v[m] < y) a = m + 1;
        else b = m - 1;
    }
    return -1;
}

/* prediction modes of the linear.predict kernel */
enum {
    LIN_LABEL = 0,       /* class labels */
    LIN_PROBA_LOGIT = 1, /* logistic / softmax probabilities */
    LIN_PROBA_OVR = 2,   /* one-vs-rest logistic, normalised */
    LIN_PROBA_MHUBER = 3, /* modified Huber, normalised */
    LIN_DECISION = 4     /* decision values */
};

/* a fitted linear model's arrays, checked against each other (predict.c):
 * ncls increasing finite classes; K = 1 coefficient row for two classes, else
 * one per class; coef K x d, intercept K values, all finite */
typedef struct lin_view {
    const double *classes, *coef, *intercept;
    int ncls, K, d;
} lin_view;
/* 0, or an error "<who>: malformed model: ..." naming the field */
int lin_model_view(const wb_model *m, const char *who, lin_view *v);

/* predictions of a fitted linear model (fields classes, coef, intercept; predict.c) */
int lin_predict(wb_exec *ex, const wb_model *m, const wb_dataset *d, int mode, const char *who,
                wb_dataset **out);

/* kernels (prepare.c, predict.c, logreg.c, sgd.c) */
int lin_k_class_counts(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen);
int lin_k_predict(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen);
int lin_k_logreg(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen);
int lin_k_sgd(wb_kctx *ctx, const wb_obj *in, int nin, const void *arg, size_t arglen);

extern const wb_estimator_def lin_logreg_def;
extern const wb_estimator_def lin_sgd_def;

/* Lua front-end of the plugin (printing linear models) */
extern const char lin_lua_src[];

#endif
