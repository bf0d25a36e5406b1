/* optim.c — L-BFGS / OWL-QN and (proximal) Newton over a lin_objective.
 * See optim.h. Everything here runs on the driver; one objective evaluation
 * is one pass over the data (a map_sum), so the code tries to keep the
 * number of evaluations small. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linear.h"
#include "optim.h"

#define FTOL (64 * DBL_EPSILON)

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double l1_term(const double *l1, const double *w, int n)
{
    double s = 0;
    for (int i = 0; l1 && i < n; i++) s += l1[i] * fabs(w[i]);
    return s;
}

/* the pseudo-gradient of f + sum l1_i |w_i| (the minimum-norm subgradient) */
static double pseudo_grad(const double *l1, const double *w, const double *g, double *pg, int n)
{
    double mx = 0;
    for (int i = 0; i < n; i++) {
        double l = l1 ? l1[i] : 0, v;
        if (l == 0)
            v = g[i];
        else if (w[i] > 0)
            v = g[i] + l;
        else if (w[i] < 0)
            v = g[i] - l;
        else if (g[i] + l < 0)
            v = g[i] + l;
        else if (g[i] - l > 0)
            v = g[i] - l;
        else
            v = 0;
        pg[i] = v;
        if (fabs(v) > mx) mx = fabs(v);
    }
    return mx;
}

static int decreased_enough(double fold, double fnew)
{
    double scale = fmax(fmax(fabs(fold), fabs(fnew)), 1.0);
    return (fold - fnew) <= FTOL * scale;
}

/* ------------------------------------------------------------------ L-BFGS */

typedef struct lsearch {
    const lin_objective *o;
    const double *w, *d;
    double *wt, *gt; /* the last evaluated point and its gradient */
    double ft;
    int *evals;
} lsearch;

static int ls_eval(lsearch *s, double a, double *phi, double *dphi)
{
    int n = s->o->n;
    for (int i = 0; i < n; i++) s->wt[i] = s->w[i] + a * s->d[i];
    int rc = s->o->eval(s->o->ctx, s->wt, &s->ft, s->gt, NULL);
    (*s->evals)++;
    if (rc) return rc;
    *phi = s->ft;
    *dphi = dot(s->gt, s->d, n);
    return 0;
}

/* a minimiser of the cubic through (a, fa, da) and (b, fb, db), kept inside
 * [lo + 0.1 w, hi - 0.1 w] of the interval; bisection when it misbehaves */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
    double lo = fmin(a, b), hi = fmax(a, b), w = hi - lo;
    double d1 = da + db - 3 * (fa - fb) / (a - b);
    double disc = d1 * d1 - da * db;
    double t = 0.5 * (a + b);
    if (disc >= 0 && isfinite(disc)) {
        double d2 = copysign(sqrt(disc), b - a);
        double den = db - da + 2 * d2;
        if (den != 0 && isfinite(den)) t = b - (b - a) * (db + d2 - d1) / den;
    }
    if (!isfinite(t) || t < lo + 0.1 * w || t > hi - 0.1 * w) t = 0.5 * (a + b);
    return t;
}

/* strong Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6).
 * On success s->wt/gt/ft hold the accepted point; returns 1 when found,
 * 0 when not, negative on an evaluation error */
static int wolfe(lsearch *s, double f0, double dphi0, double a1)
{
    const double c1 = 1e-4, c2 = 0.9;
    double a_prev = 0, f_prev = f0, d_prev = dphi0, a = a1;
    for (int i = 0; i < 25; i++) {
        double fa, da;
        int rc = ls_eval(s, a, &fa, &da);
        if (rc) return rc;
        int zoom = 0;
        double lo = 0, flo = 0, dlo = 0, hi = 0, fhi = 0, dhi = 0;
        if (!isfinite(fa) || fa > f0 + c1 * a * dphi0 || (i > 0 && fa >= f_prev)) {
            zoom = 1;
            lo = a_prev, flo = f_prev, dlo = d_prev, hi = a, fhi = fa, dhi = da;
        } else if (fabs(da) <= -c2 * dphi0) {
            return 1;
        } else if (da >= 0) {
            zoom = 1;
            lo = a, flo = fa, dlo = da, hi = a_prev, fhi = f_prev, dhi = d_prev;
        }
        if (zoom) {
            for (int j = 0; j < 30; j++) {
                double t = isfinite(fhi) && isfinite(dhi) ? cubic_min(lo, flo, dlo, hi, fhi, dhi)
                                                          : 0.5 * (lo + hi);
                double ft, dt;
                rc = ls_eval(s, t, &ft, &dt);
                if (rc) return rc;
                if (!isfinite(ft) || ft > f0 + c1 * t * dphi0 || ft >= flo) {
                    hi = t, fhi = ft, dhi = dt;
                } else {
                    if (fabs(dt) <= -c2 * dphi0) return 1;
                    if (dt * (hi - lo) >= 0) hi = lo, fhi = flo, dhi = dlo;
                    lo = t, flo = ft, dlo = dt;
                }
                if (fabs(hi - lo) <= 1e-16 * fmax(1.0, fabs(lo))) break;
            }
            /* settle for the best point with sufficient decrease */
            if (lo > 0 && flo <= f0 + c1 * lo * dphi0) {
                double ft, dt;
                rc = ls_eval(s, lo, &ft, &dt);
                if (rc) return rc;
                return 1;
            }
            return 0;
        }
        a_prev = a, f_prev = fa, d_prev = da;
        a *= 2;
    }
    return 0;
}

/* the progress line after an iteration (when the caller asked for one) */
static void report(const lin_options *opt, int iter, double F)
{
    if (!opt->progress) return;
    char info[64];
    snprintf(info, sizeof info, "iter %d objective %.6g", iter, F);
    opt->progress(opt->stage ? opt->stage : "optimize", (double)iter, (double)opt->max_iter, info);
}

int lin_lbfgs(const lin_objective *o, const lin_options *opt, double *w, lin_result *r)
{
    int n = o->n, m = opt->memory > 0 ? opt->memory : 10;
    const double *l1 = opt->l1;
    memset(r, 0, sizeof *r);
    size_t nn = (size_t)(n > 0 ? n : 1);
    double *buf = calloc(nn * (7 + 2 * (size_t)m) + 2 * (size_t)m, sizeof(double));
    if (!buf) return H->seterr(WB_ENOMEM, "out of memory");
    double *g = buf, *pg = g + nn, *d = pg + nn, *wt = d + nn, *gt = wt + nn, *q = gt + nn,
           *xi = q + nn, *S = xi + nn, *Y = S + nn * m, *rho = Y + nn * m, *alpha = rho + m;
    int rc = 0, k = 0, head = 0; /* k pairs stored, newest at head-1 */
    double f;
    rc = o->eval(o->ctx, w, &f, g, NULL);
    r->n_evals = 1;
    if (rc) goto done;
    double F = f + l1_term(l1, w, n);
    r->gmax = pseudo_grad(l1, w, g, pg, n);
    r->f = F;
    if (r->gmax <= opt->tol) {
        r->converged = 1;
        goto done;
    }
    for (int it = 0; it < opt->max_iter; it++) {
        /* direction: d = -H pg by the two-loop recursion (H: the inverse Hessian approximation) */
        memcpy(q, pg, nn * sizeof(double));
        for (int j = 0; j < k; j++) {
            int idx = (head - 1 - j + m) % m;
            alpha[idx] = rho[idx] * dot(S + (size_t)idx * nn, q, n);
            for (int i = 0; i < n; i++) q[i] -= alpha[idx] * Y[(size_t)idx * nn + i];
        }
        if (k > 0) {
            int idx = (head - 1 + m) % m;
            double yy = dot(Y + (size_t)idx * nn, Y + (size_t)idx * nn, n);
            double gamma = yy > 0 ? 1.0 / (rho[idx] * yy) : 1.0;
            for (int i = 0; i < n; i++) q[i] *= gamma;
        }
        for (int j = k - 1; j >= 0; j--) {
            int idx = (head - 1 - j + m) % m;
            double beta = rho[idx] * dot(Y + (size_t)idx * nn, q, n);
            for (int i = 0; i < n; i++) q[i] += S[(size_t)idx * nn + i] * (alpha[idx] - beta);
        }
        for (int i = 0; i < n; i++) d[i] = -q[i];
        if (l1) /* keep the direction in the orthant the pseudo-gradient points to */
            for (int i = 0; i < n; i++)
                if (d[i] * pg[i] >= 0) d[i] = 0;
        double dg = dot(d, pg, n);
        if (!(dg < 0)) { /* not a descent direction: restart from steepest descent */
            k = 0;
            for (int i = 0; i < n; i++) d[i] = -pg[i];
            dg = -dot(pg, pg, n);
        }
        double a0 = 1.0;
        if (k == 0) a0 = fmin(1.0, 1.0 / sqrt(dot(pg, pg, n)));
        double Fn = F, fn = f;
        int ok = 0;
        if (!l1) {
            lsearch s = {o, w, d, wt, gt, 0, &r->n_evals};
            ok = wolfe(&s, f, dg, a0);
            if (ok < 0) {
                rc = ok;
                goto done;
            }
            fn = s.ft;
            Fn = fn;
        } else {
            for (int i = 0; i < n; i++) xi[i] = w[i] != 0 ? (w[i] > 0 ? 1 : -1) : (pg[i] < 0 ? 1 : -1);
            double a = a0;
            for (int ls = 0; ls < 40 && !ok; ls++, a *= 0.5) {
                for (int i = 0; i < n; i++) {
                    double v = w[i] + a * d[i];
                    if (l1[i] > 0 && v * xi[i] <= 0) v = 0;
                    wt[i] = v;
                }
                rc = o->eval(o->ctx, wt, &fn, gt, NULL);
                r->n_evals++;
                if (rc) goto done;
                Fn = fn + l1_term(l1, wt, n);
                double lin = 0;
                for (int i = 0; i < n; i++) lin += pg[i] * (wt[i] - w[i]);
                if (isfinite(Fn) && Fn <= F + 1e-4 * lin) ok = 1;
            }
        }
        if (!ok) break; /* no progress possible along this direction */
        /* the correction pair from the smooth gradients */
        double *sv = S + (size_t)head * nn, *yv = Y + (size_t)head * nn;
        for (int i = 0; i < n; i++) {
            sv[i] = wt[i] - w[i];
            yv[i] = gt[i] - g[i];
        }
        double sy = dot(sv, yv, n);
        if (sy > 1e-12 * dot(yv, yv, n) && sy > 0) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % m;
            if (k < m) k++;
        }
        memcpy(w, wt, nn * sizeof(double));
        memcpy(g, gt, nn * sizeof(double));
        double Fold = F;
        f = fn;
        F = Fn;
        r->n_iter = it + 1;
        r->f = F;
        report(opt, it + 1, F);
        r->gmax = pseudo_grad(l1, w, g, pg, n);
        if (r->gmax <= opt->tol || decreased_enough(Fold, F)) {
            r->converged = 1;
            break;
        }
    }
done:
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ Newton */

/* Cholesky factor of A + mu I into L (lower, row-major); 0 when positive definite */
static int cholesky(const double *A, double mu, double *L, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            double s = A[(size_t)i * n + j] + (i == j ? mu : 0);
            for (int k = 0; k < j; k++) s -= L[(size_t)i * n + k] * L[(size_t)j * n + k];
            if (i == j) {
                if (!(s > 0) || !isfinite(s)) return -1;
                L[(size_t)i * n + i] = sqrt(s);
            } else
                L[(size_t)i * n + j] = s / L[(size_t)j * n + j];
        }
    }
    return 0;
}

/* solve (A) x = b with a damped Cholesky factorisation when A is singular */
static void newton_solve(const double *A, const double *b, double *x, double *L, int n)
{
    double maxdiag = 0;
    for (int i = 0; i < n; i++) maxdiag = fmax(maxdiag, fabs(A[(size_t)i * n + i]));
    double mu = 0;
    for (int tries = 0; tries < 40; tries++) {
        if (cholesky(A, mu, L, n) == 0) break;
        mu = mu == 0 ? 1e-10 * (maxdiag > 0 ? maxdiag : 1) : mu * 10;
    }
    for (int i = 0; i < n; i++) { /* L y = b */
        double s = b[i];
        for (int k = 0; k < i; k++) s -= L[(size_t)i * n + k] * x[k];
        x[i] = s / L[(size_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L^T x = y */
        double s = x[i];
        for (int k = i + 1; k < n; k++) s -= L[(size_t)k * n + i] * x[k];
        x[i] = s / L[(size_t)i * n + i];
    }
}

/* minimise g.d + 1/2 d'Hd + sum l1_i |w_i + d_i| over d by coordinate descent */
static void prox_direction(const double *hess, const double *g, const double *w, const double *l1,
                           double *d, double *Hd, int n)
{
    memset(d, 0, (size_t)n * sizeof(double));
    memset(Hd, 0, (size_t)n * sizeof(double));
    for (int sweep = 0; sweep < 500; sweep++) {
        double change = 0, size = 0;
        for (int j = 0; j < n; j++) {
            double a = hess[(size_t)j * n + j];
            if (!(a > 0)) continue;
            double b = g[j] + Hd[j] - a * d[j];
            double z;
            if (l1[j] > 0) {
                double u = w[j] - b / a, t = l1[j] / a;
                u = u > t ? u - t : u < -t ? u + t : 0;
                z = u - w[j];
            } else
                z = -b / a;
            double delta = z - d[j];
            if (delta != 0) {
                for (int i = 0; i < n; i++) Hd[i] += hess[(size_t)i * n + j] * delta;
                d[j] = z;
            }
            change = fmax(change, fabs(delta));
            size = fmax(size, fabs(d[j]));
        }
        if (change <= 1e-12 * fmax(size, 1e-8)) break;
    }
}

int lin_newton(const lin_objective *o, const lin_options *opt, double *w, lin_result *r)
{
    int n = o->n;
    const double *l1 = opt->l1;
    memset(r, 0, sizeof *r);
    size_t nn = (size_t)(n > 0 ? n : 1);
    double *buf = calloc(nn * 8 + nn * nn * 3, sizeof(double));
    if (!buf) return H->seterr(WB_ENOMEM, "out of memory");
    double *g = buf, *pg = g + nn, *d = pg + nn, *wt = d + nn, *gt = wt + nn, *Hd = gt + nn,
           *mg = Hd + nn, *Hm = mg + nn * 2, *Ht = Hm + nn * nn, *L = Ht + nn * nn;
    double f, ft;
    int rc = o->eval(o->ctx, w, &f, g, Hm);
    r->n_evals = 1;
    if (rc) goto done;
    double F = f + l1_term(l1, w, n);
    r->f = F;
    for (int it = 0;; it++) {
        r->gmax = pseudo_grad(l1, w, g, pg, n);
        if (r->gmax <= opt->tol) {
            r->converged = 1;
            break;
        }
        if (it >= opt->max_iter) break;
        double delta;
        if (l1) {
            prox_direction(Hm, g, w, l1, d, Hd, n);
            double lw = l1_term(l1, w, n);
            for (int i = 0; i < n; i++) wt[i] = w[i] + d[i];
            delta = dot(g, d, n) + l1_term(l1, wt, n) - lw;
        } else {
            for (int i = 0; i < n; i++) mg[i] = -g[i];
            newton_solve(Hm, mg, d, L, n);
            delta = dot(g, d, n);
        }
        if (!(delta < 0)) break; /* no descent left at this precision */
        int ok = 0;
        double Ft = F, a = 1;
        for (int ls = 0; ls < 40 && !ok; ls++, a *= 0.5) {
            for (int i = 0; i < n; i++) wt[i] = w[i] + a * d[i];
            rc = o->eval(o->ctx, wt, &ft, gt, Ht);
            r->n_evals++;
            if (rc) goto done;
            Ft = ft + l1_term(l1, wt, n);
            if (isfinite(Ft) && Ft <= F + 1e-4 * a * delta) ok = 1;
        }
        if (!ok) break;
        memcpy(w, wt, nn * sizeof(double));
        memcpy(g, gt, nn * sizeof(double));
        memcpy(Hm, Ht, nn * nn * sizeof(double));
        double Fold = F;
        f = ft;
        F = Ft;
        r->n_iter = it + 1;
        r->f = F;
        report(opt, it + 1, F);
        if (decreased_enough(Fold, F)) {
            r->gmax = pseudo_grad(l1, w, g, pg, n);
            r->converged = 1;
            break;
        }
    }
done:
    free(buf);
    return rc;
}
