#!/usr/bin/python3
"""bench/cluster_pca_data.py KIND N PATH [D] -- write the benchmark data as .npy (C order,
float64) so wb and scikit-learn work on identical numbers.
  roll    make_swiss_roll(N, noise=0.2, random_state=0), as sklearn_peer.py makes it
  lowrank make_low_rank_matrix(N, D, effective_rank=20, tail_strength=0.5, random_state=0)
"""
import sys
import numpy as np
from sklearn.datasets import make_swiss_roll, make_low_rank_matrix

kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "roll":
    X, _ = make_swiss_roll(n_samples=n, noise=0.2, random_state=0)
elif kind == "lowrank":
    X = make_low_rank_matrix(n_samples=n, n_features=int(sys.argv[4]), effective_rank=20, tail_strength=0.5,
                             random_state=0)
else:
    sys.exit("cluster_pca_data.py: KIND must be roll or lowrank, got %r" % kind)
np.save(path, np.ascontiguousarray(X, dtype=np.float64))
