#!/bin/sh
# bench/io.sh [N [D [DIR [REPEATS]]]] -- file format speed and memory (bench/io.lua)
# with the wb of the build folder (WB=path/to/wb to choose another).
here=$(cd "$(dirname "$0")/.." && pwd)
WB=${WB:-$here/build/wb}
[ -x "$WB" ] || { echo "io.sh: no wb at $WB (build first, or set WB=)"; exit 1; }
exec "$WB" "$here/bench/io.lua" "$@"
