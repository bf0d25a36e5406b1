#!/usr/bin/python3
"""Write the classification benchmark's data exactly as the scikit-learn peer
(bench/peers/sklearn_peer.py) makes it: make_classification(n, d,
n_informative=d//2, n_redundant=d//2, 2 classes, random_state=0), split with
train_test_split(test_size=0.2, random_state=42). Output in DIR:
train.npy, train.labels.npy, test.npy, test.labels.npy (float64), which
wb.load("train.npy") reads with its labels.
Usage: classify_data.py DIR [--n N] [--d D]
"""
import argparse, os, time
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--n", type=int, default=1_000_000)
ap.add_argument("--d", type=int, default=10)
a = ap.parse_args()
t = time.perf_counter()
X, y = make_classification(n_samples=a.n, n_features=a.d, n_informative=a.d // 2, n_redundant=a.d // 2,
                           n_classes=2, random_state=0)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=42)
os.makedirs(a.dir, exist_ok=True)
for name, Xs, ys in (("train", Xtr, ytr), ("test", Xte, yte)):
    np.save(os.path.join(a.dir, name + ".npy"), np.ascontiguousarray(Xs, dtype=np.float64))
    np.save(os.path.join(a.dir, name + ".labels.npy"), ys.astype(np.float64))
print("wrote %d + %d rows x %d columns to %s in %.2f s" % (len(ytr), len(yte), a.d, a.dir, time.perf_counter() - t))
