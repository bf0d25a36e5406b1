/*
 * optim.h — optimizers for "smooth objective + optional L1 term", written once
 * and shared by every loss (after liblinear's newton.h: the objective only
 * provides value, gradient and, for Newton, the Hessian; the optimizer never
 * knows what the loss is or where the data lives).
 *
 *   lin_lbfgs   L-BFGS with a strong-Wolfe line search; with L1 weights it is
 *               OWL-QN (Andrew & Gao 2007): pseudo-gradient, orthant-wise
 *               projection, backtracking line search.
 *   lin_newton  Newton's method with a Cholesky solve and backtracking; with
 *               L1 weights it is proximal Newton (the GLMNET / liblinear
 *               newGLMNET scheme): each step minimises the quadratic model
 *               plus the L1 term by coordinate descent.
 *
 * Both stop when the largest component of the (pseudo-)gradient is <= tol, or
 * when the objective stops decreasing (relative change <= 64 machine epsilon,
 * scipy's L-BFGS-B `ftol` as scikit-learn sets it).
 */
#ifndef WB_LINEAR_OPTIM_H
#define WB_LINEAR_OPTIM_H

typedef struct lin_objective {
    int n;     /* number of variables */
    void *ctx; /* handed to eval */
    /* the smooth part at w: *f, g[n] and, when hess != NULL, the Hessian hess[n*n]
     * (row-major); returns 0 or a negative WB_E* code (error message set) */
    int (*eval)(void *ctx, const double *w, double *f, double *g, double *hess);
} lin_objective;

typedef struct lin_options {
    int max_iter;     /* outer iterations */
    double tol;       /* on the largest (pseudo-)gradient component */
    const double *l1; /* per-variable L1 weights (>= 0), or NULL for none */
    int memory;       /* L-BFGS correction pairs */
    /* optional: called after each iteration with "iter N objective F" */
    void (*progress)(const char *stage, double done, double total, const char *info);
    const char *stage;
} lin_options;

typedef struct lin_result {
    int n_iter;    /* outer iterations done */
    int converged; /* 1 when a stopping test was met before max_iter */
    int n_evals;   /* objective evaluations (passes over the data) */
    double f;      /* final objective, smooth part + L1 term */
    double gmax;   /* final largest (pseudo-)gradient component */
} lin_result;

/* w[n] holds the start point and receives the solution. Allocation failure
 * and evaluation errors return a negative code; not converging is not an
 * error (r->converged = 0). */
int lin_lbfgs(const lin_objective *o, const lin_options *opt, double *w, lin_result *r);
int lin_newton(const lin_objective *o, const lin_options *opt, double *w, lin_result *r);

#endif
