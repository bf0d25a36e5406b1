#!/usr/bin/env python3
"""The CSV of bench/preprocess.sh's gbdt comparison: N rows of a binary class
that depends on four text columns through per-level effects in no order
(so a split on a set of levels beats a threshold on codes), on six number
columns and on noise; missing values in a text and a number column.

  c8, c20, c50   one of 8, 20, 50 levels ("L3", "L17", ...), effects drawn per level
  c3             one of "red", "green", "blue", 5% missing (NA)
  x1..x6         normal numbers, x1 2% missing
  y              "yes" / "no"

usage: preprocess_data.py OUT.csv [ROWS] [SEED]
"""
import sys

import numpy as np
import pandas as pd


def main():
    out = sys.argv[1]
    n = int(float(sys.argv[2])) if len(sys.argv) > 2 else 500_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    rng = np.random.default_rng(seed)
    cols, logit = {}, np.zeros(n)
    for name, k, scale in (("c8", 8, 1.0), ("c20", 20, 0.8), ("c50", 50, 0.6)):
        codes = rng.integers(0, k, n)
        effect = rng.normal(0, scale, k)
        logit += effect[codes]
        cols[name] = np.array([f"L{i}" for i in range(k)], dtype=object)[codes]
    c3 = rng.integers(0, 3, n)
    logit += np.array([0.5, -0.5, 0.2])[c3]
    c3 = np.array(["red", "green", "blue"], dtype=object)[c3]
    c3[rng.random(n) < 0.05] = None
    cols["c3"] = c3
    x = rng.normal(0, 1, (n, 6))
    logit += 0.8 * x[:, 0] - 0.6 * x[:, 1] + 0.4 * x[:, 2] * x[:, 3] + 0.3 * np.sin(3 * x[:, 4])
    for j in range(6):
        v = x[:, j].round(5)
        if j == 0:
            v[rng.random(n) < 0.02] = np.nan
        cols[f"x{j + 1}"] = v
    y = np.where(logit + rng.logistic(0, 0.5, n) > 0, "yes", "no")
    cols["y"] = y
    pd.DataFrame(cols).to_csv(out, index=False, na_rep="NA")


if __name__ == "__main__":
    main()
