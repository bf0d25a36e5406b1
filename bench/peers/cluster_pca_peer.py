#!/usr/bin/python3
"""bench/peers/cluster_pca_peer.py -- scikit-learn runs that sklearn_peer.py does not do, for
bench/cluster_pca.lua (one JSON line per step, like sklearn_peer.py):
  kmeans PATH SEEDS...   KMeans(16, n_init=1, max_iter=100, random_state=s) on the .npy data
                         for each seed: fit seconds (and CPU seconds of all threads), iterations, inertia;
                         Davies-Bouldin seconds
  wide PATH K            PCA(K, svd_solver="randomized", random_state=0) on the .npy data
  memory_kmeans PATH     load + KMeans fit (seed 0), for the peak memory under /usr/bin/time -v
  memory_pca PATH        load + PCA(2) fit, likewise
Threads: --threads T first (default 2), as sklearn_peer.py.
"""
import json, os, sys, time

args = sys.argv[1:]
threads = "2"
if args[:1] == ["--threads"]:
    threads, args = args[1], args[2:]
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = threads
import numpy as np


def out(step, t, **kw):
    print(json.dumps({"peer": "sklearn", "step": step, "seconds": round(t, 4), **kw}), flush=True)


mode, path = args[0], args[1]
X = np.load(path)
if mode == "kmeans":
    from sklearn.cluster import KMeans
    from sklearn.metrics import davies_bouldin_score
    for s in args[2:]:
        m = KMeans(n_clusters=16, n_init=1, max_iter=100, random_state=int(s))
        t, c = time.perf_counter(), time.process_time(); m.fit(X)
        out("fit", time.perf_counter() - t, cpu=time.process_time() - c, seed=int(s), iters=int(m.n_iter_), inertia=float(m.inertia_))
        t, c = time.perf_counter(), time.process_time(); db = davies_bouldin_score(X, m.labels_)
        out("davies_bouldin", time.perf_counter() - t, cpu=time.process_time() - c, seed=int(s), score=float(db))
elif mode == "wide":
    from sklearn.decomposition import PCA
    m = PCA(n_components=int(args[2]), svd_solver="randomized", random_state=0)
    t, c = time.perf_counter(), time.process_time(); m.fit(X)
    out("fit", time.perf_counter() - t, cpu=time.process_time() - c, ev=[float(v) for v in m.explained_variance_], evr=[float(v) for v in m.explained_variance_ratio_])
elif mode == "memory_kmeans":
    from sklearn.cluster import KMeans
    m = KMeans(n_clusters=16, n_init=1, max_iter=100, random_state=0).fit(X)
    out("fit", 0, inertia=float(m.inertia_))
elif mode == "memory_pca":
    from sklearn.decomposition import PCA
    m = PCA(n_components=2).fit(X)
    out("fit", 0, evr=[float(v) for v in m.explained_variance_ratio_])
else:
    sys.exit("cluster_pca_peer.py: unknown mode %r" % mode)
