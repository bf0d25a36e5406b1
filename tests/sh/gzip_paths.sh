#!/bin/bash
# gzip_paths.sh WB -- gzip input is inflated by ISA-L when the build has it
# and by zlib with WB_GZIP=zlib (core/src/io/stream.c): both must give the
# same datasets and the same errors. The files (made here by Python's gzip
# and zlib modules): several members cut inside quoted fields that span the
# reader's 1 MB reads, a member with a name in its header, levels 1 and 9, a
# zlib stream after a gzip member, trailing garbage and zeros, truncations,
# a wrong CRC, a wrong length, damaged deflate data; and the same through
# standard input. The good files' row counts come from Python's csv module.
set -uo pipefail
WB=$(realpath "${1:?usage: gzip_paths.sh path/to/wb}")
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$PY" - "$T" <<'PYEOF' || fail "making the files"
import csv, gzip, io, random, sys, zlib
t = sys.argv[1]
rng = random.Random(14)
lines = ["id,x,note,city,y"]
for i in range(60000):
    k = rng.randrange(6)
    note = '"a ""quoted"", field\nover %d\nlines, %s"' % (k, "z" * rng.randrange(40)) if k else "NA"
    lines.append("%d,%.6g,%s,%s,%d" % (i, rng.random() * 100, note, rng.choice(["Paris", '"Lyon, FR"', ""]), i % 3))
text = ("\n".join(lines) + "\n").encode()
rows = sum(1 for _ in csv.reader(io.StringIO(text.decode()))) - 1
open(t + "/rows", "w").write("%d\n" % rows)
def w(name, data): open("%s/%s" % (t, name), "wb").write(data)
one = gzip.compress(text, 6)
w("one.csv.gz", one)
w("fast.csv.gz", gzip.compress(text, 1))
w("best.csv.gz", gzip.compress(text, 9))
cuts = [0, 777777, 777778, 2000003, len(text)]  # members end inside quoted fields
w("members.csv.gz", b"".join(gzip.compress(text[a:b], 5) for a, b in zip(cuts, cuts[1:])))
w("empty_member.csv.gz", gzip.compress(b"") + one + gzip.compress(b""))
b = io.BytesIO()
with gzip.GzipFile(filename="people.csv", mode="wb", fileobj=b, mtime=0) as g: g.write(text)
w("named.csv.gz", b.getvalue())
half = len(text) // 2
w("then_zlib.csv.gz", gzip.compress(text[:half]) + zlib.compress(text[half:]))
w("garbage.csv.gz", one + b"garbage\n")
w("zeros.csv.gz", one + bytes(16))
w("trailing_byte.csv.gz", one + b"\x1f")
rf = bytearray(one); rf[3] |= 0x20; w("reserved_flag.csv.gz", one + bytes(rf))  # zlib refuses reserved flags
w("trunc_end.csv.gz", one[:-3])
w("trunc_mid.csv.gz", one[: len(one) // 2])
w("trunc_member.csv.gz", one + one[:100])
crc = bytearray(one); crc[-8] ^= 0x55; w("crc.csv.gz", bytes(crc))
ln = bytearray(one); ln[-1] ^= 0x01; w("length.csv.gz", bytes(ln))
for j, pos in enumerate([20, 5000, len(one) // 3, len(one) - 40]):
    bad = bytearray(one)
    for d in range(8): bad[pos + d] ^= 0xA5
    w("damaged%d.csv.gz" % j, bytes(bad))
PYEOF

# each file: the dataset written as CSV, or the error message
cat > "$T/read.lua" <<'LEOF'
local dir, out, name = arg[1], arg[2], arg[3]
local ok, d = pcall(wb.load, name == "-" and "-" or dir .. "/" .. name, {format = "csv"})
local f = assert(io.open(out .. ".err", "w"))
if ok then
  wb.save(d, out .. ".csv")
  f:write("rows ", d:rows(), "\n")
else
  f:write(tostring(d):gsub(dir .. "/", ""), "\n")
end
f:close()
LEOF

files=$(cd "$T" && ls *.csv.gz)
for mode in zlib default; do
  mkdir -p "$T/$mode"
  for f in $files; do
    if [ $mode = zlib ]; then env WB_GZIP=zlib "$WB" "$T/read.lua" "$T" "$T/$mode/$f" "$f"
    else env -u WB_GZIP "$WB" "$T/read.lua" "$T" "$T/$mode/$f" "$f"; fi
    [ -f "$T/$mode/$f.err" ] || fail "$mode $f: wb did not run"
    # standard input: the same file through a pipe
    if [ $mode = zlib ]; then cat "$T/$f" | env WB_GZIP=zlib "$WB" "$T/read.lua" "$T" "$T/$mode/$f.stdin" -
    else cat "$T/$f" | env -u WB_GZIP "$WB" "$T/read.lua" "$T" "$T/$mode/$f.stdin" -; fi
  done
done

rows=$(cat "$T/rows")
for f in one fast best members empty_member named then_zlib; do
  [ "$(cat "$T/zlib/$f.csv.gz.err")" = "rows $rows" ] || fail "$f.csv.gz (zlib): $(cat "$T/zlib/$f.csv.gz.err"), expected rows $rows"
done
for f in garbage zeros trailing_byte reserved_flag trunc_end trunc_mid trunc_member crc length damaged0 damaged1 damaged2 damaged3; do
  grep -q "^rows" "$T/zlib/$f.csv.gz.err" && fail "$f.csv.gz was read without an error"
  grep -q "$f.csv.gz" "$T/zlib/$f.csv.gz.err" || fail "$f.csv.gz: the message does not name the file: $(cat "$T/zlib/$f.csv.gz.err")"
done
n=0
for f in $files; do
  for e in "" .stdin; do
    a="$T/zlib/$f$e" b="$T/default/$f$e"
    if [ -f "$a.csv" ] || [ -f "$b.csv" ]; then
      cmp -s "$a.csv" "$b.csv" || fail "$f$e: the datasets differ (zlib vs default)"
    fi
    if [ -z "$e" ]; then
      cmp -s "$a.err" "$b.err" || fail "$f: zlib says '$(cat "$a.err")', default says '$(cat "$b.err")'"
    else
      # read once: after an ISA-L fault standard input gets zlib's words for it,
      # so only the text before the decoder's detail must match
      [ "$(sed 's/ after [0-9]* compressed bytes (.*//' "$a.err")" = "$(sed 's/ after [0-9]* compressed bytes (.*//' "$b.err")" ] ||
        fail "$f (standard input): zlib says '$(cat "$a.err")', default says '$(cat "$b.err")'"
    fi
    n=$((n + 1))
  done
done
echo "ok: $n reads equal through zlib and the default inflate ($(ldd "$WB" 2>/dev/null | grep -q libisal && echo ISA-L || echo zlib))"
