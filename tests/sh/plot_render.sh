#!/bin/bash
# The SVG charts render in a real browser: wb writes a line chart, a speedup
# chart and a scatter plot; headless Chromium screenshots each one; a small PNG
# decoder (python3 + zlib) checks the picture is not blank and that the series
# colours are drawn. Skips (exit 77) when chromium or python3 is missing.
set -u
WB=$(realpath "${1:?usage: plot_render.sh path/to/wb}")
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
  echo "SKIP: chromium is not installed (apt-get install -y chromium) -- SVG rendering not checked"
  exit 77
fi
PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
  echo "SKIP: python3 is not installed -- cannot decode the screenshots"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

"$WB" -e '
wb.plot.line({{name = "one", x = {1, 2, 3, 4}, y = {1, 3, 2, 4}},
              {name = "two", x = {1, 2, 3, 4}, y = {4, 2, 3, 1}}},
             {file = "line.svg", title = "line", xlabel = "x", ylabel = "y"})
local rows = {
  {workload = "w", n = 1000, executor = "local:1", kind = "local", units = 1, median_s = 2.0, speedup = 1.0},
  {workload = "w", n = 1000, executor = "local:2", kind = "local", units = 2, median_s = 1.1, speedup = 1.82},
  {workload = "w", n = 1000, executor = "local:4", kind = "local", units = 4, median_s = 0.6, speedup = 3.33},
  {workload = "w", n = 100000, executor = "local:1", kind = "local", units = 1, median_s = 150, speedup = 1.0},
  {workload = "w", n = 100000, executor = "local:2", kind = "local", units = 2, median_s = 80, speedup = 1.9},
  {workload = "w", n = 100000, executor = "local:4", kind = "local", units = 4, median_s = 42, speedup = 3.6},
}
wb.plot.speedup(rows, {file = "speedup.svg"})
wb.plot.time_vs_size(rows, {file = "time.svg"})
local b = wb.datagen.blobs{n = 5000, features = 2, centers = 2, seed = 3}
wb.plot.scatter(b, {color = true, file = "scatter.svg", title = "blobs", size = 3})
' || { echo "FAIL: wb could not write the charts"; exit 1; }

# decode a PNG (8-bit RGB/RGBA, non-interlaced) and count pixels:
# non-white, and near each wanted colour (hex)
cat > count.py <<'EOF'
import struct, sys, zlib
def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4]); kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]; pos += 12 + n
        if kind == b"IHDR": w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT": idat += body
    assert depth == 8 and ctype in (2, 6) and inter == 0, "unsupported PNG %d/%d/%d" % (depth, ctype, inter)
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    out, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line); prev = line
    return w, h, bpp, out
w, h, bpp, rows = decode(sys.argv[1])
want = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in sys.argv[2:]]
nonwhite, near = 0, [0] * len(want)
for r in rows:
    for x in range(0, w * bpp, bpp):
        p = (r[x], r[x + 1], r[x + 2])
        if p != (255, 255, 255): nonwhite += 1
        for k, c in enumerate(want):
            if abs(p[0] - c[0]) + abs(p[1] - c[1]) + abs(p[2] - c[2]) < 40: near[k] += 1
print(w, h, nonwhite, *near)
EOF

fail=0
check() { # file min_nonwhite colours...
  local f=$1 min=$2; shift 2
  rm -f shot.png
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --hide-scrollbars --user-data-dir="$dir/profile" --screenshot="$dir/shot.png" \
    --window-size=800,600 "file://$dir/$f" >chrome.log 2>&1
  if [ ! -s shot.png ]; then
    echo "FAIL: chromium wrote no screenshot of $f"; tail -5 chrome.log; fail=1; return
  fi
  read -r w h nonwhite rest < <("$PY" count.py shot.png "$@")
  echo "$f: ${w}x${h}, $nonwhite non-white pixels, near the series colours: $rest"
  if [ "$w" != 800 ] || [ "$h" != 600 ]; then echo "FAIL: $f screenshot is ${w}x${h}"; fail=1; fi
  if [ "$nonwhite" -lt "$min" ]; then echo "FAIL: $f looks blank ($nonwhite non-white pixels, want >= $min)"; fail=1; fi
  local k=0
  for n in $rest; do
    k=$((k + 1))
    if [ "$n" -lt 50 ]; then echo "FAIL: $f: colour #$k (${!k}) drawn on only $n pixels"; fail=1; fi
  done
}
check line.svg 5000 1f77b4 ff7f0e
check speedup.svg 5000 1f77b4 555555
check time.svg 5000 1f77b4 ff7f0e
# the checker itself: an empty chart must be seen as blank
echo '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><rect width="800" height="600" fill="#ffffff"/></svg>' > blank.svg
saved=$fail
check blank.svg 5000 1f77b4 >blank.out
if [ $fail = $saved ]; then echo "FAIL: a blank picture was not detected"; cat blank.out; fail=1; else fail=$saved; echo "blank.svg: detected as blank (as it should)"; fi
check scatter.svg 20000 1f77b4 ff7f0e
[ $fail = 0 ] && echo "plot_render: ok"
exit $fail
