#!/bin/sh
# mutate.sh — a mutation check: deliberate bugs in critical code (the
# handshake, the optimizers' updates, k-means assignment, gbdt histograms and
# split finding, the readers' indices, splits and folds, the tree sum; the
# list is tests/mutations/list), put in one at a time; after each, wb is
# rebuilt and the tests that guard that code run. Every mutation must make a
# test fail ("caught"); the table names the tests that did.
#
#   sh scripts/mutate.sh                 all mutations
#   sh scripts/mutate.sh NAME...         only these
#   sh scripts/mutate.sh --check         only check that every snippet is in
#                                        the code exactly once (no build)
#   sh scripts/mutate.sh --list          the mutations' names
#
# The work is done on a copy of the source tree (the files git knows, as they
# are now) in $WB_MUTATE_DIR (default ./build-mutate: src/, build/), never in
# the tree itself. First the guarding tests of all the mutations run on the
# copy unchanged: they must pass. Exit status 1 when a mutation survived, its
# snippet is not found exactly once, or its build failed. WB_MUTATE_JOBS
# (default 2) sets the build's and ctest's parallel jobs; WB_MUTATE_TIMEOUT
# (default 900 s) bounds each mutation's test run (a hang counts as caught).
cd "$(dirname "$0")/.."
root=$(pwd)
list=$root/tests/mutations/list
tool="python3 $root/tests/tools/mutation.py"
jobs=${WB_MUTATE_JOBS:-2}
tmo=${WB_MUTATE_TIMEOUT:-900}
work=${WB_MUTATE_DIR:-$root/build-mutate}

case "${1:-}" in
--check) exec $tool check "$list" "$root" ;;
--list) exec $tool names "$list" ;;
-*) echo "mutate.sh: unknown option $1 (--check, --list, or mutation names)" >&2; exit 2 ;;
esac

# the snippets first: a missing one stops the run before any build
$tool check "$list" "$root" || exit 1
if [ $# -gt 0 ]; then
  names="$*"
  for n in $names; do
    $tool names "$list" | grep -qx "$n" || { echo "mutate.sh: no mutation named $n" >&2; exit 2; }
  done
else
  names=$($tool names "$list")
fi

# a copy of the tree (tracked and new files, without ignored ones); a file
# already there with the same content is left alone (its time too), so the
# build after the copy compiles only what changed, and a file a stopped run
# left mutated is copied again (new time: rebuilt)
mkdir -p "$work"
src=$work/src
bld=$work/build
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | xargs -0 sh -c '
  for f; do
    [ -f "$f" ] || continue
    cmp -s "$f" "$0/$f" && continue
    mkdir -p "$0/$(dirname "$f")" && cp "$f" "$0/$f" || exit 1
  done' "$src" || { echo "mutate.sh: could not copy the source tree to $src" >&2; exit 1; }
echo "mutate.sh: source copied to $src"
cmake -S "$src" -B "$bld" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" 2>&1 ||
  { echo "mutate.sh: configure failed (see $work/configure.log)" >&2; exit 1; }
build() { cmake --build "$bld" -j"$jobs" >"$work/build.log" 2>&1; }
build || { echo "mutate.sh: the unmutated copy does not build (see $work/build.log)" >&2; exit 1; }

regex_of() { # test names -> ^(a|b)$
  printf '^(%s)$' "$(echo "$1" | tr -s ' ' '\n' | sed 's/[.]/\\./g' | paste -sd'|')"
}
# the tests of a mutation, run; sets FAILED (the failing ones) and RUN (how many ran)
run_tests() { # regex log
  rm -f "$bld/mutate-junit.xml"
  (cd "$bld" && timeout "$tmo" ctest -j"$jobs" -R "$1" --output-junit mutate-junit.xml >"$2" 2>&1)
  rc=$?
  FAILED=$(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' "$2" | sort -u | paste -sd' ')
  RUN=$(sed -n 's/^[0-9]*% tests passed, [0-9]* tests* failed out of \([0-9]*\)$/\1/p' "$2")
  [ "$rc" = 124 ] && FAILED="${FAILED:+$FAILED }(timeout after $tmo s)"
  return $rc
}

# baseline: every guarding test passes without a mutation
all=""
for n in $names; do all="$all $($tool field "$list" "$n" tests)"; done
all=$(echo "$all" | tr -s ' ' '\n' | sed '/^$/d' | sort -u | paste -sd' ')
echo "mutate.sh: baseline: $(echo "$all" | wc -w) tests on the unmutated copy"
if ! run_tests "$(regex_of "$all")" "$work/baseline.log"; then
  echo "mutate.sh: the tests fail without a mutation: $FAILED (see $work/baseline.log)" >&2
  exit 1
fi
want=$(echo "$all" | wc -w)
if [ "${RUN:-0}" != "$want" ]; then
  echo "mutate.sh: the baseline ran ${RUN:-0} tests, the list names $want (a name that is not a test?)" >&2
  exit 1
fi

results=$work/results.txt
: >"$results"
bad=0
i=0
total=$(echo "$names" | wc -w)
for n in $names; do
  i=$((i + 1))
  tests=$($tool field "$list" "$n" tests)
  log=$work/$n.log
  save=$work/$n.orig
  if ! rel=$($tool apply "$list" "$n" "$src" "$save"); then
    line=$(printf '%-32s %-9s %s' "$n" "NOT-FOUND" "the snippet is not in the code exactly once")
    bad=1
  else
    t0=$(date +%s)
    if ! build; then
      cp "$work/build.log" "$log"
      line=$(printf '%-32s %-9s %s' "$n" "NO-BUILD" "the mutated code does not compile (see $log)")
      bad=1
    elif run_tests "$(regex_of "$tests")" "$log"; then
      line=$(printf '%-32s %-9s %s' "$n" "SURVIVED" "$tests all passed ($rel)")
      bad=1
    else
      line=$(printf '%-32s %-9s %s' "$n" "caught" "by $FAILED ($rel, $(($(date +%s) - t0)) s)")
    fi
    $tool restore "$src" "$save" "$rel"
    rm -f "$save"
  fi
  echo "[$i/$total] $line"
  echo "$line" >>"$results"
done
build || { echo "mutate.sh: the restored copy does not build (see $work/build.log)" >&2; bad=1; }

caught=$(grep -c ' caught ' "$results")
echo "=== mutations: $caught of $total caught"
cat "$results"
exit $bad
