#!/usr/bin/python3
"""sql_peer.py — the pandas and Dask side of bench/sql.sh: one timed step,
one JSON line (peer, step, seconds, cpu_s, peak_mb, rows, nulls per column).

  sql_peer.py read-pandas URL TABLE          pandas.read_sql("SELECT * FROM TABLE")
  sql_peer.py read-dask URL TABLE INDEX NP   dask.dataframe.read_sql_table(TABLE, index_col=INDEX,
                                             npartitions=NP), computed (threads)
  sql_peer.py write-pandas URL FROM TO       DataFrame.to_sql(TO) of FROM (read first, not timed)

URL: sqlite:PATH (pandas: Python's sqlite3; Dask: sqlite:///PATH) or
postgresql://... (SQLAlchemy with psycopg2). cpu_s is the process's CPU
time (all threads) during the step; peak_mb its peak resident memory (the
process reads nothing else). Debian's python3-pandas, python3-sqlalchemy,
python3-psycopg2 and python3-dask (/usr/bin/python3)."""
import json
import os
import resource
import sqlite3
import sys
import time

import pandas as pd


def engine(url):
    if url.startswith("sqlite:"):
        return sqlite3.connect(url[len("sqlite:"):])
    import sqlalchemy
    return sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))


def sa_url(url):
    if url.startswith("sqlite:"):
        return "sqlite:///" + os.path.abspath(url[len("sqlite:"):])
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def report(peer, step, t0, c0, df, index=None):
    out = {"peer": peer, "step": step, "seconds": time.time() - t0, "cpu_s": time.process_time() - c0,
           "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if df is not None:
        out["rows"] = int(len(df))
        nulls = {c: int(v) for c, v in df.isna().sum().items()}
        if index is not None:
            nulls[index] = int(df.index.isna().sum())
        out["nulls"] = nulls
    print(json.dumps(out), flush=True)


def main():
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "read-pandas":
        table = sys.argv[3]
        con = engine(url)
        t0, c0 = time.time(), time.process_time()
        df = pd.read_sql("SELECT * FROM %s" % table, con)
        report("pandas", "read", t0, c0, df)
    elif mode == "read-dask":
        import dask
        import dask.dataframe as dd
        table, index, np_ = sys.argv[3], sys.argv[4], int(sys.argv[5])
        dask.config.set(scheduler="threads", num_workers=np_)
        t0, c0 = time.time(), time.process_time()
        ddf = dd.read_sql_table(table, sa_url(url), index_col=index, npartitions=np_)
        df = ddf.compute()
        report("dask", "read", t0, c0, df, index)
    elif mode == "write-pandas":
        src, dst = sys.argv[3], sys.argv[4]
        con = engine(url)
        df = pd.read_sql("SELECT * FROM %s" % src, con)
        t0, c0 = time.time(), time.process_time()
        df.to_sql(dst, con, if_exists="replace", index=False)
        report("pandas", "write", t0, c0, None)
    else:
        sys.exit("usage: sql_peer.py read-pandas|read-dask|write-pandas URL ...")


if __name__ == "__main__":
    main()
