#!/usr/bin/python3
"""Data and peers for bench/gbdt.sh.

  gbdt_data.py data DIR [--n N] [--d D] [--classes K]
      make_classification(N, D, n_informative=D//2, n_redundant=D//2,
      n_classes=K, random_state=0), train_test_split(test_size=0.2,
      random_state=42) -- for K=2 the arrays of bench/peers/sklearn_peer.py.
      Writes DIR/train.npy, train.labels.npy, test.npy, test.labels.npy (float64),
      which wb.load("DIR/train.npy") reads with its labels.
  gbdt_data.py fit DIR {xgb|hgb} [--threads T] [--max-depth D] [--max-leaves L]
      loads those files, fits the peer with the parameters of sklearn_peer.py
      (XGBoost hist: 100 trees, max_depth 6, default learning rate 0.3;
      HistGradientBoosting: 100 iterations, no early stopping), prints one JSON
      line: fit seconds (wall and CPU of the process, all threads), held-out
      accuracy, peak RSS before and after the fit, and for XGBoost the leaves
      grown per tree. XGBoost with --max-depth D: depth-wise to depth D; with
      --max-leaves L: best-first (grow_policy lossguide, no depth limit) to L
      leaves (bench/gbdt_shapes.sh).
"""
import argparse, json, os, resource, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["data", "fit"])
ap.add_argument("dir")
ap.add_argument("peer", nargs="?", choices=["xgb", "hgb"])
ap.add_argument("--n", type=int, default=1_000_000)
ap.add_argument("--d", type=int, default=10)
ap.add_argument("--classes", type=int, default=2)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--max-depth", type=int, default=6)
ap.add_argument("--max-leaves", type=int, default=0)
a = ap.parse_args()
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(a.threads)
import numpy as np


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


if a.mode == "data":
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    t = time.perf_counter()
    X, y = make_classification(n_samples=a.n, n_features=a.d, n_informative=a.d // 2, n_redundant=a.d // 2,
                               n_classes=a.classes, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=42)
    os.makedirs(a.dir, exist_ok=True)
    for name, Xs, ys in (("train", Xtr, ytr), ("test", Xte, yte)):
        np.save(os.path.join(a.dir, name + ".npy"), np.ascontiguousarray(Xs, dtype=np.float64))
        np.save(os.path.join(a.dir, name + ".labels.npy"), ys.astype(np.float64))
    print("wrote %d + %d rows x %d columns, %d classes, to %s in %.2f s" % (
        len(ytr), len(yte), a.d, a.classes, a.dir, time.perf_counter() - t), file=sys.stderr)
    sys.exit(0)

Xtr = np.load(os.path.join(a.dir, "train.npy"))
ytr = np.load(os.path.join(a.dir, "train.labels.npy")).astype(np.int64)
Xte = np.load(os.path.join(a.dir, "test.npy"))
yte = np.load(os.path.join(a.dir, "test.labels.npy")).astype(np.int64)
if a.peer == "xgb":
    import xgboost as xgb
    if a.max_leaves > 0:
        m = xgb.XGBClassifier(n_estimators=100, tree_method="hist", max_depth=0, max_leaves=a.max_leaves,
                              grow_policy="lossguide", n_jobs=a.threads)
    else:
        m = xgb.XGBClassifier(n_estimators=100, tree_method="hist", max_depth=a.max_depth, n_jobs=a.threads)
else:
    from sklearn.ensemble import HistGradientBoostingClassifier
    m = HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0)
before = peak_mb()
t, c = time.perf_counter(), time.process_time()
m.fit(Xtr, ytr)
fit, cpu = time.perf_counter() - t, time.process_time() - c
after = peak_mb()
acc = float((m.predict(Xte) == yte).mean())
rec = {"peer": a.peer, "classes": int(len(np.unique(ytr))), "step": "fit", "seconds": round(fit, 4), "cpu_seconds": round(cpu, 4),
       "accuracy": acc, "peak_mb_before_fit": round(before, 1), "peak_mb_after_fit": round(after, 1)}
if a.peer == "xgb":
    df = m.get_booster().trees_to_dataframe()
    rec["leaves_per_tree"] = round(float((df.Feature == "Leaf").sum()) / df.Tree.nunique(), 2)
print(json.dumps(rec), flush=True)
