#!/usr/bin/env python3
"""The CSV of the tables benchmark (bench/tables.sh): N rows of 8 numeric and
4 text columns, with quotes and missing values, as analysts' files have.

  x1..x8   numbers: normal, uniform, integers, small decimals, exponents;
           about 2% "NA" or empty
  city     one of 60 names, some with a space; 1% NA
  segment  one of 5 words; 3% empty
  name     "Last, First" quoted (a comma inside quotes), about 6000 distinct
  note     quoted text with doubled quotes ("a ""b"" c"), one in 2000 spans
           two lines; 5% NA

usage: tables_data.py OUT.csv [ROWS] [SEED]
"""
import sys

import numpy as np


def main():
    out = sys.argv[1]
    n = int(float(sys.argv[2])) if len(sys.argv) > 2 else 2_000_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = np.random.default_rng(seed)
    cities = ["Paris", "Lyon", "New York", "San Jose", "Berlin", "Rome", "Oslo", "Lima", "Quito", "Cairo"]
    cities = [c + (" " + str(k) if k else "") for k in range(6) for c in cities]
    segments = ["retail", "wholesale", "online", "partner", "other"]
    last = ["Smith", "Jones", "Garcia", "Nguyen", "Kim", "Ivanov", "Rossi", "Dubois", "Silva", "Cohen"]
    last = [f"{l}{k}" for k in range(60) for l in last]
    first = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo"]
    notes = [f'said ""ok {k}"" twice' for k in range(150)] + [f"plain note {k}" for k in range(50)]

    cols = []
    cols.append(np.char.mod("%.6f", rng.normal(0, 1, n)))
    cols.append(np.char.mod("%.4f", rng.uniform(0, 100, n)))
    cols.append(rng.integers(-1000, 1000, n).astype(str))
    cols.append(np.char.mod("%.2f", rng.uniform(0, 10, n)))
    cols.append(np.char.mod("%.3e", rng.lognormal(0, 3, n)))
    cols.append(rng.integers(0, 2, n).astype(str))
    cols.append(np.char.mod("%.1f", rng.normal(50, 10, n)))
    cols.append(np.char.mod("%g", rng.exponential(2, n)))
    for c in cols:
        m = rng.random(n)
        c[m < 0.01] = "NA"
        c[(m >= 0.01) & (m < 0.02)] = ""
    city = np.array(cities)[rng.integers(0, len(cities), n)]
    city[rng.random(n) < 0.01] = "NA"
    seg = np.array(segments)[rng.integers(0, len(segments), n)]
    seg[rng.random(n) < 0.03] = ""
    name = np.char.add(np.char.add(np.char.add('"', np.array(last)[rng.integers(0, len(last), n)]), ", "),
                       np.char.add(np.array(first)[rng.integers(0, len(first), n)], '"'))
    note = np.char.add(np.char.add('"', np.array(notes)[rng.integers(0, len(notes), n)]), '"')
    note = note.astype("<U48")  # room for the two-line note
    multi = rng.random(n) < 0.0005
    note[multi] = '"first line\nsecond ""line"""'
    note[rng.random(n) < 0.05] = "NA"
    header = "x1,x2,x3,x4,x5,x6,x7,x8,city,segment,name,note\n"
    with open(out, "w") as f:
        f.write(header)
        step = 200_000
        for a in range(0, n, step):
            b = min(n, a + step)
            parts = [c[a:b] for c in cols] + [city[a:b], seg[a:b], name[a:b], note[a:b]]
            rows = parts[0]
            for p in parts[1:]:
                rows = np.char.add(np.char.add(rows, ","), p)
            f.write("\n".join(rows.tolist()))
            f.write("\n")


if __name__ == "__main__":
    main()
