#!/usr/bin/python3
"""sql_compare.py WB_CSV SOURCE QUERY [REAL_COLUMNS [KEY]] — a dataset wb read from a database
(saved by wb.save as CSV, with its .meta beside it) against what pandas reads
with QUERY (its ORDER BY gives the rows' order), cell by cell.

SOURCE is sqlite:PATH or a postgresql:// URL (SQLAlchemy with psycopg2).
Numbers must be equal (NULL: NaN both); dates and times as seconds since
1970 (UTC; a time as seconds since midnight), booleans as 1/0; text columns
must hold the same text (NULL: missing), and their levels (the .meta) must be
the sorted (bytewise) distinct values. REAL_COLUMNS (a,b): columns of
PostgreSQL's real (float4), which wb widens exactly and psycopg2 reads as
their shortest decimal: compared as float32. KEY: a column of unique
numbers by which both sides are sorted first (for a server whose scans
return rows in their order on disk, which is not the order they came in). Prints the row count and the NULLs
per column; exits 1 naming the first difference."""
import csv
import datetime
import decimal
import json
import math
import sys

import pandas as pd

wb_csv, source, query = sys.argv[1:4]
reals = set(sys.argv[4].split(",")) if len(sys.argv) > 4 and sys.argv[4] else set()
key = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
if source.startswith("sqlite:"):
    import sqlite3
    con = sqlite3.connect(source[len("sqlite:"):])
else:
    import sqlalchemy
    con = sqlalchemy.create_engine(source.replace("postgresql://", "postgresql+psycopg2://", 1))
    query = sqlalchemy.text(query)  # (a % in it is not a parameter)
df = pd.read_sql(query, con)
meta = json.load(open(wb_csv + ".meta"))
types = {c["name"]: c for c in meta.get("columns", [])}
if "label" in meta:  # the labels: the CSV's last column
    lab = meta["label"]
    types[lab.get("name", "label")] = {"name": lab.get("name"), "type": "category" if "levels" in lab else "number",
                                       "levels": lab.get("levels")}
with open(wb_csv, newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
if key:
    kj = header.index(key)
    body.sort(key=lambda r: float(r[kj]))
    df = df.sort_values(key, kind="stable").reset_index(drop=True)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


if len(body) != len(df):
    fail("wb read %d rows, pandas %d" % (len(body), len(df)))
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def number(v, col):
    """pandas' value as the number wb should have read"""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return math.nan
    if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
        return 1.0 if v else 0.0
    if isinstance(v, pd.Timestamp):
        if v.tzinfo is None:
            v = v.tz_localize("UTC")
        return (v - pd.Timestamp(0, tz="UTC")).value / 1e9
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return (v - EPOCH).total_seconds()
    if isinstance(v, datetime.date):
        return (v - datetime.date(1970, 1, 1)).days * 86400.0
    if isinstance(v, datetime.time):
        return v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6
    if isinstance(v, str):  # SQLite: a date as text
        t = pd.Timestamp(v)
        if t.tzinfo is None:
            t = t.tz_localize("UTC")
        return (t - pd.Timestamp(0, tz="UTC")).value / 1e9
    if isinstance(v, decimal.Decimal):
        return float(v)
    return float(v)


nulls = {}
for j, name in enumerate(header):
    if name not in df.columns:
        fail("column %s of wb is not in pandas' result (%s)" % (name, list(df.columns)))
    kind = types.get(name, {}).get("type", "number")
    values = df[name].tolist()
    nulls[name] = 0
    if kind == "category":
        seen = set()
        for i, v in enumerate(values):
            got = body[i][j]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                nulls[name] += 1
                if got != "":
                    fail("row %d, %s: wb has %r, pandas NULL" % (i + 1, name, got))
                continue
            want = v if isinstance(v, str) else str(v)
            seen.add(want)
            if got != want:
                fail("row %d, %s: wb has %r, pandas %r" % (i + 1, name, got, want))
        levels = sorted(seen, key=lambda s: s.encode())
        if types[name].get("levels") != levels:
            fail("%s: wb's levels %s, the sorted distinct values %s" % (name, types[name].get("levels"), levels))
    else:
        for i, v in enumerate(values):
            want = number(v, name)
            got = float(body[i][j])
            # times: to the microsecond (wb and pandas round differently below it); the rest exactly
            timeish = isinstance(v, (datetime.date, datetime.time, str, pd.Timestamp))
            if math.isnan(want):
                nulls[name] += 1
                if not math.isnan(got):
                    fail("row %d, %s: wb has %r, pandas NULL" % (i + 1, name, got))
            elif name in reals:
                import numpy
                if numpy.float32(got) != numpy.float32(want) or float(numpy.float32(got)) != got:
                    fail("row %d, %s: wb has %r, pandas %r (as float32)" % (i + 1, name, got, want))
            elif not (got == want or (timeish and abs(got - want) <= 2e-6)):
                fail("row %d, %s: wb has %r, pandas %r (%r)" % (i + 1, name, got, want, v))
print("ok: %d rows, %d columns, NULLs %s" % (len(body), len(header), " ".join("%s=%d" % kv for kv in nulls.items())))
