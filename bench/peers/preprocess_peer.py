#!/usr/bin/env python3
"""scikit-learn's side of bench/preprocess.sh (wb's: bench/preprocess.lua).
Each mode prints one JSON line.

  preprocess_peer.py cv CSV LABEL FOLDS
      5-fold cross-validated accuracy on the folds wb used (FOLDS: one fold
      number per row, written by bench/preprocess.lua) of
      Pipeline([ColumnTransformer([SimpleImputer(median) on the number
      columns, OneHotEncoder(handle_unknown="ignore") on the text columns]),
      StandardScaler(), LogisticRegression(C=1)]) and of
      HistGradientBoostingClassifier with categorical_features (the text
      columns as pandas category codes, NaN missing)
  preprocess_peer.py gbdt CSV LABEL TRAIN_ROWS [REPEATS]
      HistGradientBoostingClassifier(categorical_features=the text columns,
      100 iterations, 31 leaves, learning rate 0.1, no early stopping) on the
      first TRAIN_ROWS rows, accuracy on the rest; fit time (wall and CPU,
      median of REPEATS; pandas reading and the category codes not counted)
  preprocess_peer.py transform CSV [REPEATS]
      ColumnTransformer([Pipeline([SimpleImputer(median), StandardScaler()])
      on the number columns, OneHotEncoder(max_categories=20,
      handle_unknown="ignore", dense) on the text columns]) fitted and
      applied to every row; times of the fit and of the transform

The CSV is read by pandas.read_csv with its default missing-value tokens; a
column of text is a text column (wb.load's categories).
"""
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def split_columns(df):
    text = [c for c in df.columns if df[c].dtype == object]
    num = [c for c in df.columns if c not in text]
    return num, text


def hgb_codes(X, text):
    """the text columns as category codes (sorted levels, as wb's), NaN missing"""
    X = X.copy()
    for c in text:
        codes = X[c].astype("category").cat.codes.astype(float)
        codes[codes < 0] = np.nan
        X[c] = codes
    mask = [c in text for c in X.columns]
    return X, mask


def hgb(mask):
    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
                                          l2_regularization=0.0, max_bins=255, early_stopping=False,
                                          categorical_features=mask)


def timed(f):
    t0, c0 = time.perf_counter(), time.process_time()
    r = f()
    return time.perf_counter() - t0, time.process_time() - c0, r


def main():
    mode = sys.argv[1]
    if mode == "cv":
        csv, label, folds = sys.argv[2], sys.argv[3], sys.argv[4]
        df = pd.read_csv(csv)
        y = df[label]
        X = df.drop(columns=[label])
        num, text = split_columns(X)
        test_fold = np.loadtxt(folds, dtype=int)
        assert len(test_fold) == len(X)
        cv = PredefinedSplit(test_fold)
        # impute + onehot, then a scaler over every column (as wb's pipeline)
        ct_dense = ColumnTransformer([("num", SimpleImputer(strategy="median"), num),
                                      ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), text)])
        pipe = Pipeline([("ct", ct_dense), ("scale", StandardScaler()), ("lr", LogisticRegression(C=1.0))])
        wall, cpu, s = timed(lambda: cross_val_score(pipe, X, y, cv=cv, scoring="accuracy"))
        Xc, mask = hgb_codes(X, text)
        g = cross_val_score(hgb(mask), Xc, y, cv=cv, scoring="accuracy")
        print(json.dumps({"mode": "cv", "side": "sklearn", "rows": len(X), "cols": X.shape[1],
                          "pipeline_mean": float(np.mean(s)), "pipeline_folds": [float(v) for v in s],
                          "pipeline_seconds": wall, "pipeline_cpu": cpu,
                          "gbdt_mean": float(np.mean(g)), "gbdt_folds": [float(v) for v in g]}))
    elif mode == "gbdt":
        csv, label, ntr = sys.argv[2], sys.argv[3], int(sys.argv[4])
        reps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
        df = pd.read_csv(csv)
        y = df[label]
        X = df.drop(columns=[label])
        num, text = split_columns(X)
        Xc, mask = hgb_codes(X, text)
        Xtr, ytr, Xte, yte = Xc.iloc[:ntr], y.iloc[:ntr], Xc.iloc[ntr:], y.iloc[ntr:]
        walls, cpus, m = [], [], None
        for _ in range(reps):
            w, c, m = timed(lambda: hgb(mask).fit(Xtr, ytr))
            walls.append(w)
            cpus.append(c)
        print(json.dumps({"mode": "gbdt", "side": "sklearn", "train_rows": len(Xtr), "test_rows": len(Xte),
                          "categorical": len(text), "accuracy": float(m.score(Xte, yte)),
                          "fit_seconds": statistics.median(walls), "fit_cpu": statistics.median(cpus),
                          "fit_all": walls}))
    elif mode == "transform":
        csv = sys.argv[2]
        reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
        lw, lc, df = timed(lambda: pd.read_csv(csv))
        num, text = split_columns(df)
        fits, tfs, fitc, tfc, out = [], [], [], [], None
        for _ in range(reps):
            pipe = ColumnTransformer([("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                                                        ("scale", StandardScaler())]), num),
                                      ("cat", OneHotEncoder(max_categories=20, handle_unknown="ignore",
                                                            sparse_output=False), text)])
            w, c, _ = timed(lambda: pipe.fit(df))
            fits.append(w)
            fitc.append(c)
            out = None
            w2, c2, out = timed(lambda: pipe.transform(df))
            tfs.append(w2)
            tfc.append(c2)
        print(json.dumps({"mode": "transform", "side": "sklearn", "rows": len(df), "cols_in": df.shape[1],
                          "cols_out": out.shape[1], "load_seconds": lw,
                          "fit_seconds": statistics.median(fits), "transform_seconds": statistics.median(tfs),
                          "fit_cpu": statistics.median(fitc), "transform_cpu": statistics.median(tfc),
                          "total_seconds": statistics.median(fits) + statistics.median(tfs),
                          "row1_sum": float(np.sum(out[0]))}))
    else:
        sys.exit("usage: preprocess_peer.py cv|gbdt|transform ...")


if __name__ == "__main__":
    main()
