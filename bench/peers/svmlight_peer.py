#!/usr/bin/python3
"""The scikit-learn side of bench/io.lua: write and read back a LIBSVM file
of N x D classification data with dump_svmlight_file / load_svmlight_file.

    /usr/bin/python3 bench/peers/svmlight_peer.py N D PATH

The data: make_classification(N, D, n_informative=D//2, n_redundant=D//2,
random_state=0); the file is written 1-based (as wb writes LIBSVM) to PATH
and left there. Prints one JSON line:
  {"peer": "sklearn", "step": "svmlight", "n": N, "d": D, "mb": file size in 10^6 bytes,
   "write_s": ..., "read_s": ..., "read_mb_s": ...}
"""
import json
import os
import sys
import time


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: svmlight_peer.py N D PATH")
    n, d, path = int(argv[0]), int(argv[1]), argv[2]
    if n < 1 or d < 2:
        sys.exit("svmlight_peer.py: N must be >= 1 and D >= 2, got %d and %d" % (n, d))
    os.environ["OMP_NUM_THREADS"] = "2"
    from sklearn.datasets import dump_svmlight_file, load_svmlight_file, make_classification
    X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, n_redundant=d // 2, random_state=0)
    t = time.perf_counter()
    dump_svmlight_file(X, y, path, zero_based=False)
    write_s = time.perf_counter() - t
    mb = os.path.getsize(path) / 1e6
    t = time.perf_counter()
    load_svmlight_file(path)
    read_s = time.perf_counter() - t
    print(json.dumps({"peer": "sklearn", "step": "svmlight", "n": n, "d": d, "mb": round(mb, 1),
                      "write_s": round(write_s, 3), "read_s": round(read_s, 3),
                      "read_mb_s": round(mb / read_s, 1)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
