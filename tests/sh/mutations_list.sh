#!/bin/bash
# mutations_list.sh — the deliberate bugs of scripts/mutate.sh stay pointed at
# real code: every snippet of tests/mutations/list is found exactly once where
# the list says (code that moved or changed fails here, naming the mutation,
# instead of silently dropping out of the mutation check). No build, no run:
# scripts/mutate.sh does that.
set -u
src=${WB_SOURCE_DIR:?WB_SOURCE_DIR is not set}
py=$(command -v python3 || echo /usr/bin/python3)
"$py" "$src/tests/tools/mutation.py" check "$src/tests/mutations/list" "$src" || exit 1
n=$("$py" "$src/tests/tools/mutation.py" names "$src/tests/mutations/list" | wc -l)
[ "$n" -ge 25 ] || { echo "FAIL: $n mutations in the list, at least 25 expected"; exit 1; }
echo "mutations_list: $n mutations, all found"
