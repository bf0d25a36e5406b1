#!/bin/bash
# bench/studies_charts.sh DIR -- check every SVG chart in a report folder
# (examples/studies.lua, bench/studies_speedup.lua): the file is well-formed
# XML with an <svg> root (python3's XML parser), and headless Chromium renders
# it to an 800x600 picture that is not blank. Prints one line per chart:
# elements, polylines/circles/text, non-white pixels of the screenshot.
set -u
dir=$(realpath "${1:?usage: studies_charts.sh REPORT_DIR}")
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "studies_charts.sh: python3 is needed"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/check.py" <<'EOF'
import struct, sys, zlib, xml.etree.ElementTree as ET
kind, path = sys.argv[1], sys.argv[2]
if kind == "xml":
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    tags = [e.tag.split("}")[1] for e in root.iter()]
    texts = [e.text for e in root.iter() if e.tag.endswith("text") and e.text]
    print("%d elements, %d polylines, %d circles, %d texts; title: %s" % (len(tags), tags.count("polyline"),
          tags.count("circle"), len(texts), texts[0] if texts else "-"))
    sys.exit(0)
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, = struct.unpack(">I", data[pos:pos + 4]); k = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + n]; pos += 12 + n
    if k == b"IHDR": w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
    elif k == b"IDAT": idat += body
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, i, nonwhite, colours = bytearray(stride), 0, 0, set()
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
    for x in range(0, stride, bpp):
        px = (line[x], line[x + 1], line[x + 2])
        if px != (255, 255, 255):
            nonwhite += 1
            colours.add((px[0] >> 4, px[1] >> 4, px[2] >> 4))
    prev = line
print("%dx%d, %d non-white pixels, %d colours" % (w, h, nonwhite, len(colours)))
sys.exit(0 if w == 800 and h == 600 and nonwhite >= 5000 else 1)
EOF
fail=0 n=0
for f in "$dir"/*.svg; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  x=$("$PY" "$tmp/check.py" xml "$f" 2>&1) || { echo "FAIL $f: not a well-formed SVG: $x"; fail=1; continue; }
  if [ -z "$CHROME" ]; then echo "$(basename "$f"): $x; not rendered (no chromium)"; continue; fi
  rm -f "$tmp/shot.png"
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --no-first-run --user-data-dir="$tmp/profile" --screenshot="$tmp/shot.png" --window-size=800,600 \
    "file://$f" > "$tmp/chrome.log" 2>&1
  if [ ! -s "$tmp/shot.png" ]; then echo "FAIL $f: chromium wrote no screenshot"; fail=1; continue; fi
  r=$("$PY" "$tmp/check.py" png "$tmp/shot.png") || { echo "FAIL $f: blank or wrong size: $r"; fail=1; continue; }
  echo "$(basename "$f"): $x; rendered $r"
done
[ $n -gt 0 ] || { echo "studies_charts.sh: no .svg in $dir"; exit 1; }
[ $fail = 0 ] && echo "studies_charts.sh: $n charts ok"
exit $fail
