#!/usr/bin/python3
"""The Python side of wb's benchmarks: the same work done with scikit-learn,
XGBoost or Dask, timed step by step.

    /usr/bin/python3 bench/peers/sklearn_peer.py WORKLOAD [--n N] [--d D] [--k K] [--threads T]

Workloads (the bench scripts that call them in brackets):
  gen       make_classification only                      [generate.lua, studies.lua]
  lr        LogisticRegression (lbfgs, max_iter 100)      [classify.sh, studies.lua]
  sgd       SGDClassifier, 5 epochs (hinge)               [classify.sh, studies.lua]
  hgb       HistGradientBoostingClassifier, 100 iterations, no early stopping
                                                          [gbdt.sh, studies.lua]
  xgb       XGBClassifier, hist, 100 trees, max_depth 6   [gbdt.sh, studies.lua]
  grid      GridSearchCV of LogisticRegression (saga): C in {0.01, 0.1, 1, 10}
            x penalty {l1, l2}, 3 folds                   [classify.sh, studies.lua]
  kmeans    KMeans(K, n_init=1, max_iter=100), then the Davies-Bouldin index
                                                          [cluster_pca.lua, studies.lua]
  pca       PCA, 2 components                             [cluster_pca.lua, studies.lua]
  dask_pca  the same PCA as a Dask array SVD on T worker processes   [studies.lua]

Data, drawn here with a fixed seed (bench/classify_data.py and
bench/gbdt_data.py write the same arrays for wb):
  classification: make_classification(N, D, n_informative=D//2,
    n_redundant=D//2, 2 classes, random_state=0), of which 20 % held out by
    train_test_split(test_size=0.2, random_state=42);
  gen: the same make_classification, timed;
  kmeans, pca, dask_pca: make_swiss_roll(N, noise=0.2, random_state=0), 3 columns.

Output: one JSON line per timed step, the keys in this order:
  {"peer": WORKLOAD, "step": ..., "n": N, "d": D, "seconds": ..., <figures>}
steps: "generate" (always first), then "fit" and, for the classifiers,
"predict" (with "accuracy" on the held-out rows); grid's fit has "best" (the
best parameters as a Python dict literal) and "score"; kmeans' fit has
"iters" and "inertia", its "davies_bouldin" step "score"; the PCAs' fit has
"evr" (explained variance ratio of the 2 components).
Threads: T for OpenMP/BLAS (set before numpy loads), XGBoost and GridSearchCV.
"""
import argparse
import json
import os
import sys
import time

WORKLOADS = ("gen", "lr", "sgd", "hgb", "xgb", "grid", "kmeans", "pca", "dask_pca")


def options(argv):
    ap = argparse.ArgumentParser(prog="sklearn_peer.py", description="the peers of wb's benchmarks")
    ap.add_argument("workload", choices=WORKLOADS)
    ap.add_argument("--n", type=int, default=1_000_000, help="rows (default 1000000)")
    ap.add_argument("--d", type=int, default=10, help="columns of the classification data (default 10)")
    ap.add_argument("--k", type=int, default=16, help="clusters of kmeans (default 16)")
    ap.add_argument("--threads", type=int, default=2, help="threads or worker processes (default 2)")
    o = ap.parse_args(argv)
    if o.n < 10 or o.d < 2 or o.k < 1 or o.threads < 1:
        ap.error("--n must be >= 10, --d >= 2, --k >= 1, --threads >= 1")
    return o


class Report:
    """Prints one JSON line per step."""

    def __init__(self, o):
        self.o = o

    def step(self, name, seconds, **figures):
        rec = {"peer": self.o.workload, "step": name, "n": self.o.n, "d": self.o.d, "seconds": round(seconds, 4)}
        rec.update(figures)
        print(json.dumps(rec), flush=True)


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t


def classification(o, rep, split=True):
    from sklearn.datasets import make_classification
    (X, y), s = timed(lambda: make_classification(n_samples=o.n, n_features=o.d, n_informative=o.d // 2,
                                                  n_redundant=o.d // 2, n_classes=2, random_state=0))
    rep.step("generate", s)
    if not split:
        return None
    from sklearn.model_selection import train_test_split
    return train_test_split(X, y, test_size=0.2, random_state=42)


def swiss_roll(o, rep):
    from sklearn.datasets import make_swiss_roll
    (X, _), s = timed(lambda: make_swiss_roll(n_samples=o.n, noise=0.2, random_state=0))
    rep.step("generate", s)
    return X


def classifier(o):
    w = o.workload
    if w == "lr":
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(max_iter=100)
    if w == "sgd":
        from sklearn.linear_model import SGDClassifier
        return SGDClassifier(max_iter=5, tol=None, random_state=0)
    if w == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        return HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0)
    import xgboost
    return xgboost.XGBClassifier(n_estimators=100, tree_method="hist", max_depth=6, n_jobs=o.threads)


def run_classifier(o, rep):
    Xtr, Xte, ytr, yte = classification(o, rep)
    model = classifier(o)
    _, s = timed(lambda: model.fit(Xtr, ytr))
    rep.step("fit", s)
    pred, s = timed(lambda: model.predict(Xte))
    rep.step("predict", s, accuracy=float((pred == yte).mean()))


def run_grid(o, rep):
    Xtr, _, ytr, _ = classification(o, rep)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    grid = GridSearchCV(LogisticRegression(solver="saga", max_iter=50),
                        {"C": [0.01, 0.1, 1.0, 10.0], "penalty": ["l1", "l2"]}, cv=3, n_jobs=o.threads)
    _, s = timed(lambda: grid.fit(Xtr, ytr))
    rep.step("fit", s, best=str(grid.best_params_), score=float(grid.best_score_))


def run_kmeans(o, rep):
    X = swiss_roll(o, rep)
    from sklearn.cluster import KMeans
    from sklearn.metrics import davies_bouldin_score
    km = KMeans(n_clusters=o.k, n_init=1, max_iter=100, random_state=0)
    _, s = timed(lambda: km.fit(X))
    rep.step("fit", s, iters=int(km.n_iter_), inertia=float(km.inertia_))
    db, s = timed(lambda: davies_bouldin_score(X, km.labels_))
    rep.step("davies_bouldin", s, score=float(db))


def run_pca(o, rep):
    X = swiss_roll(o, rep)
    from sklearn.decomposition import PCA
    pca = PCA(n_components=2)
    _, s = timed(lambda: pca.fit(X))
    rep.step("fit", s, evr=[float(v) for v in pca.explained_variance_ratio_])


def run_dask_pca(o, rep):
    X = swiss_roll(o, rep)
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=o.threads, threads_per_worker=1, processes=True, dashboard_address=None))
    try:
        def fit():
            Xd = da.from_array(X, chunks=(max(o.n // (4 * o.threads), 1), X.shape[1])).persist()
            _, sv, _ = da.linalg.svd(Xd - Xd.mean(axis=0))
            var = sv.compute() ** 2
            return var / var.sum()
        evr, s = timed(fit)
        rep.step("fit", s, evr=[float(v) for v in evr[:2]])
    finally:
        client.close()


def main(argv):
    o = options(argv)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(o.threads)
    rep = Report(o)
    if o.workload == "gen":
        classification(o, rep, split=False)
    elif o.workload in ("lr", "sgd", "hgb", "xgb"):
        run_classifier(o, rep)
    else:
        {"grid": run_grid, "kmeans": run_kmeans, "pca": run_pca, "dask_pca": run_dask_pca}[o.workload](o, rep)


if __name__ == "__main__":
    main(sys.argv[1:])
