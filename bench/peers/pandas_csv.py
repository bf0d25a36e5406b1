#!/usr/bin/env python3
"""The peer of bench/tables.lua: pandas.read_csv (the C engine) of one file,
in a process of its own, so its peak memory is the read's.

Prints one line: "pandas SECONDS PEAK_RSS_BYTES BASE_RSS_BYTES ROWS COLS MISSING"
(BASE: the process's peak before the read, pandas imported; MISSING: the
missing values counted over all columns). The missing tokens are pandas'
defaults and "?", as wb's.

usage: pandas_csv.py FILE
"""
import resource
import sys
import time

import pandas as pd


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    path = sys.argv[1]
    base = peak_bytes()
    t = time.perf_counter()
    df = pd.read_csv(path, engine="c", na_values=["?"])
    secs = time.perf_counter() - t
    peak = peak_bytes()
    print("pandas %.4f %d %d %d %d %d" % (secs, peak, base, len(df), df.shape[1], int(df.isna().sum().sum())))


if __name__ == "__main__":
    main()
