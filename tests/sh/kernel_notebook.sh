#!/bin/bash
# kernel_notebook.sh — examples/notebooks/tour.ipynb runs end to end on
# `wb kernel` under Jupyter's nbconvert (--to notebook --execute: a cell
# that fails fails the run); its outputs hold the tables (text/html) and the
# chart (image/svg+xml); converted to HTML and rendered by headless
# Chromium, the page shows the tables and the chart's colours. With
# WB_KERNEL_SHOTS=DIR the executed notebook, its HTML and the screenshot are
# kept there.
. "$(dirname "$0")/kernel_common.bash"
NB=$(realpath "$(dirname "$0")/../../examples/notebooks/tour.ipynb")
command -v jupyter > /dev/null || { echo "SKIP: jupyter (Debian's jupyter-nbconvert) is not installed"; exit 77; }
cd "$T" || exit 1
t0=$(date +%s.%N)
if ! timeout 300 jupyter nbconvert --to notebook --execute "$NB" --ExecutePreprocessor.timeout=240 \
       --output-dir "$T" --output tour.executed.ipynb > nbconvert.log 2>&1; then
  tail -n 40 nbconvert.log
  echo "FAIL: jupyter nbconvert --execute $NB"
  exit 1
fi
echo "executed in $(echo "$(date +%s.%N) - $t0" | bc) s: $(tail -n 1 nbconvert.log)"
"$PY" - "$T/tour.executed.ipynb" <<'PYEOF' || { echo "FAIL: the executed notebook's outputs"; exit 1; }
import json, sys
nb = json.load(open(sys.argv[1]))
assert nb["metadata"]["kernelspec"]["name"] == "wb"
code = [c for c in nb["cells"] if c["cell_type"] == "code"]
def text(x): return "".join(x) if isinstance(x, list) else x
for i, c in enumerate(code, 1):
    assert c["execution_count"] == i, ("cell", i, c["execution_count"])
    for o in c["outputs"]:
        assert o["output_type"] != "error", ("cell", i, o)
        assert not (o["output_type"] == "stream" and o["name"] == "stderr"), ("stderr in cell", i, o)
def result(i):
    rs = [o for o in code[i - 1]["outputs"] if o["output_type"] == "execute_result"]
    assert len(rs) == 1, ("cell", i, "has no result")
    return {k: text(v) for k, v in rs[0]["data"].items()}
stream = lambda i: "".join(text(o["text"]) for o in code[i - 1]["outputs"] if o["output_type"] == "stream")
assert stream(1).startswith("wb ") and "executor" in stream(1), stream(1)
d = result(2)
assert d["text/plain"].startswith("Dataset: 200,000 rows x 10 columns, labelled"), d["text/plain"][:80]
assert '<table class="wb">' in d["text/html"] and "<th>x10</th>" in d["text/html"]
assert ">mean</th>" in result(3)["text/html"]
assert stream(4) == "train 160000 rows, test 40000 rows\n", stream(4)
acc = result(5)["text/html"]
for e in ("logreg", "sgd", "gbdt"): assert ">%s</td>" % e in acc, e
g = result(6)
assert "gridsearch of logreg: 8 candidates x 3 folds" in g["text/html"] and ">penalty</th>" in g["text/html"]
assert "kmeans model" in result(7)["text/html"] and "pca model" in result(9)["text/html"]
assert stream(8).startswith("Davies-Bouldin index "), stream(8)
chart = result(10)
assert chart["image/svg+xml"].startswith("<svg") and chart["image/svg+xml"].count("<circle") >= 4000
assert chart["text/html"].startswith('<img src="data:image/svg+xml;base64,')
print("outputs: %d code cells, tables in cells 2 3 5 6 7 9, the chart in cell 10 (%d points)" %
      (len(code), chart["image/svg+xml"].count("<circle")))
PYEOF
if ! jupyter nbconvert --to html tour.executed.ipynb --output-dir "$T" > html.log 2>&1; then
  tail -n 20 html.log
  echo "FAIL: jupyter nbconvert --to html"
  exit 1
fi
grep -c '<table class="wb">' tour.executed.html | grep -qx 6 || { echo "FAIL: the HTML has $(grep -c '<table class="wb">' tour.executed.html) tables, wanted 6"; exit 1; }
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
  echo "SKIP: chromium is not installed: the HTML is not rendered"
  exit 77
fi
timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$T/chrome" --hide-scrollbars \
  --window-size=1200,4000 --screenshot="$T/tour.png" "file://$T/tour.executed.html" > chrome.log 2>&1
[ -s "$T/tour.png" ] || { cat chrome.log; echo "FAIL: no screenshot"; exit 1; }
if [ -n "${WB_KERNEL_SHOTS:-}" ]; then
  mkdir -p "$WB_KERNEL_SHOTS" && cp tour.executed.ipynb tour.executed.html tour.png "$WB_KERNEL_SHOTS/"
fi
"$PY" - "$T/tour.png" <<'PYEOF' || { echo "FAIL: the rendered page"; exit 1; }
import sys
try:
    from PIL import Image
except ImportError:
    print("SKIP: python3-pil is not installed: the screenshot is not checked")
    sys.exit(0)
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = im.load()
# the chart's first ten colours (wb.plot's palette), each drawn by many points
palette = ["1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf"]
want = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in palette]
count = [0] * len(want)
dark = stripe = 0
for y in range(0, h, 2):
    for x in range(0, w, 2):
        p = px[x, y]
        if sum(p) < 150: dark += 1
        if p == (242, 246, 250): stripe += 1 # the tables' odd rows (#f2f6fa in lua/wb/kernel.lua)
        for k, c in enumerate(want):
            if abs(p[0] - c[0]) + abs(p[1] - c[1]) + abs(p[2] - c[2]) < 30:
                count[k] += 1
print("screenshot %dx%d (every 2nd pixel): dark (text) %d, table stripes %d, chart colours %s" % (w, h, dark, stripe, count))
assert dark > 3000, "hardly any text"
assert stripe > 10000, "no striped rows: the tables are not drawn"
assert all(c >= 20 for c in count), "a colour of the chart is missing: the SVG is not drawn"
PYEOF
echo "kernel_notebook: all passed"
