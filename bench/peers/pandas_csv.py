#!/usr/bin/env python3
"""The peer of bench/tables.lua: pandas.read_csv (the C engine) of one file,
in a process of its own, so its peak memory is the read's.

Prints one line: "pandas SECONDS PEAK_RSS_BYTES BASE_RSS_BYTES ROWS COLS MISSING CPU"
(BASE: the process's peak before the read, pandas imported; MISSING: the
missing values counted over all columns; CPU: the read's user + system
seconds). The missing tokens are pandas'
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
    c = time.process_time()
    t = time.perf_counter()
    df = pd.read_csv(path, engine="c", na_values=["?"])
    secs = time.perf_counter() - t
    cpu = time.process_time() - c
    peak = peak_bytes()
    print("pandas %.4f %d %d %d %d %d %.4f" % (secs, peak, base, len(df), df.shape[1], int(df.isna().sum().sum()), cpu))


if __name__ == "__main__":
    main()
