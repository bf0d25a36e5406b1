#!/usr/bin/python3
"""bench/kmeans_data.py -- the data and the scikit-learn side of bench/kmeans_speed.sh.

  data KIND N D K DIR   write DIR/x.npy (N x D, float64, C order), DIR/init.npy (the K
                        starting centres: K distinct rows drawn with numpy's default_rng(0)),
                        so wb and scikit-learn start from the same centres, and
                        DIR/late/init.npy: the centres after 30 Lloyd iterations from those
                        (scikit-learn), to time the later iterations, where most rows stay
                        (DIR/late/x.npy is a link to DIR/x.npy)
        KIND roll:  make_swiss_roll(N, noise=0.2, random_state=0) (D must be 3)
        KIND blobs: make_blobs(N, D, centers=K, cluster_std=4, random_state=0)
  fit DIR ALGO ITERS THREADS
                        KMeans(K, init=init.npy, n_init=1, max_iter=ITERS, tol=0,
                        algorithm=ALGO) on DIR/x.npy with THREADS threads (threadpoolctl);
                        prints one JSON line: fit wall seconds, CPU seconds of the process
                        (all threads), iterations, inertia
  pass DIR              the memory-bandwidth bound: the best time of one read pass over
                        DIR/x.npy (numpy sum over all values, one thread) of 5, wall and CPU
"""
import json
import os
import sys
import time

import numpy as np


def data(kind, n, d, k, out):
    os.makedirs(out, exist_ok=True)
    if kind == "roll":
        from sklearn.datasets import make_swiss_roll
        if d != 3:
            sys.exit("kmeans_data.py: the swiss roll has 3 columns, got D = %d" % d)
        X, _ = make_swiss_roll(n_samples=n, noise=0.2, random_state=0)
    elif kind == "blobs":
        from sklearn.datasets import make_blobs
        X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=4.0, random_state=0)
    else:
        sys.exit("kmeans_data.py: KIND must be roll or blobs, got %r" % kind)
    X = np.ascontiguousarray(X, dtype=np.float64)
    rows = np.sort(np.random.default_rng(0).choice(n, size=k, replace=False))
    np.save(os.path.join(out, "x.npy"), X)
    np.save(os.path.join(out, "init.npy"), np.ascontiguousarray(X[rows]))
    from sklearn.cluster import KMeans
    km = KMeans(n_clusters=k, init=X[rows], n_init=1, max_iter=30, tol=0).fit(X)
    os.makedirs(os.path.join(out, "late"), exist_ok=True)
    np.save(os.path.join(out, "late", "init.npy"), np.ascontiguousarray(km.cluster_centers_))
    os.symlink(os.path.abspath(os.path.join(out, "x.npy")), os.path.join(out, "late", "x.npy"))


def fit(path, algo, iters, threads):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits
    X = np.load(os.path.join(path, "x.npy"))
    C = np.load(os.path.join(path, "init.npy"))
    with threadpool_limits(limits=threads):
        km = KMeans(n_clusters=C.shape[0], init=C, n_init=1, max_iter=iters, tol=0, algorithm=algo)
        t, c = time.perf_counter(), time.process_time()
        km.fit(X)
        t, c = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({"side": "sklearn-" + algo, "seconds": t, "cpu_seconds": c, "iterations": int(km.n_iter_),
                      "inertia": float(km.inertia_)}), flush=True)


def one_pass(path):
    X = np.load(os.path.join(path, "x.npy"))
    best, cbest = float("inf"), float("inf")
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        X.sum()
        best, cbest = min(best, time.perf_counter() - t), min(cbest, time.process_time() - c)
    print(json.dumps({"side": "pass", "seconds": best, "cpu_seconds": cbest, "bytes": X.nbytes}), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 6 and a[0] == "data":
        data(a[1], int(a[2]), int(a[3]), int(a[4]), a[5])
    elif len(a) == 5 and a[0] == "fit":
        fit(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) == 2 and a[0] == "pass":
        one_pass(a[1])
    else:
        sys.exit(__doc__)
