#!/bin/bash
# deps_cycles.sh — no dependency cycles between the files of libwbcore, of the
# Lua binding, of the shell and of each plugin (file A uses a global symbol
# file B defines; read from the object files with nm by tests/tools/depcycles.py),
# except the head and its dashboard. A new cycle fails with the files and the
# symbols that make it.
WB=${1:?usage: $0 path/to/wb}
SRC=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${WB_BUILD_DIR:-$(dirname "$WB")}
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (sh scripts/setup.sh --test)"; exit 1; }
command -v nm >/dev/null || { echo "FAIL: nm (binutils) is needed"; exit 1; }
python3 "$SRC/tests/tools/depcycles.py" "$BUILD"
