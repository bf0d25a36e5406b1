#!/bin/sh
# Builds wb (installing its Debian packages if needed) and runs everything CI
# checks, each stage timed, a summary at the end (exit 1 if any failed):
#   normal    the whole suite (ctest) in ./build
#   asan      the whole suite again in ./build-asan (AddressSanitizer and
#             UndefinedBehaviorSanitizer; LeakSanitizer checks every process
#             at exit: a leak fails the test; tests/lsan.supp skips only
#             what the MPI library keeps for itself)
#   valgrind  valgrind memcheck over the unit tests and the fuzz corpora
#             replays (./build): no memory error and no leak (definite,
#             indirect or possible) allowed
#   fuzz      each fuzz target for WB_FUZZ_SECONDS (6) in ./build-fuzz
#             (clang's libFuzzer, ASan+UBSan; `sh scripts/setup.sh --test`
#             or --fuzz installs it, WB_FUZZ=1 makes this script install it),
#             the executions of every target printed; each must have run.
#             The corpora are replayed in the other stages either way.
#   mutate    (not in the default stages) scripts/mutate.sh: deliberate bugs
#             in critical code, one at a time, each must fail a test
# WB_TEST_STAGES="normal asan valgrind fuzz" chooses stages; WB_TEST_JOBS
# (default 2) the parallel tests.
#
# Nothing is skipped silently: the number of tests each build registers is
# checked against the test sources (a missing library or plugin cannot make
# tests vanish), and a test that did not run (a shell test's exit 77 for a
# missing tool, root or namespaces; a missing executable) or a fuzz stage
# without libFuzzer fails the run. WB_ALLOW_SKIPS=1 (never set by CI) lets
# them pass, still counted and named in the summary.
cd "$(dirname "$0")/.."
root=$(pwd)
stages=${WB_TEST_STAGES:-normal asan valgrind fuzz}
jobs=${WB_TEST_JOBS:-2}
setup_opts="--test"
[ "${WB_FUZZ:-0}" = 1 ] && setup_opts="$setup_opts --fuzz"
sh ./scripts/setup.sh $setup_opts || exit 1

summary=""
failed=0
skips=0
allow_skips=${WB_ALLOW_SKIPS:-0}
note() { summary="$summary
$1"; }
run_stage() { # name command...
  name=$1
  shift
  echo "=== $name"
  t0=$(date +%s)
  stage_skipped=0
  before=$summary
  if "$@"; then r=ok; else r=FAILED; failed=1; fi
  [ "$r" = ok ] && [ "$stage_skipped" = 1 ] && r=SKIPPED
  added=${summary#"$before"} # the stage's own notes go under its line
  summary=$before
  note "$(printf '%-9s %-7s %4d s' "$name" "$r" $(($(date +%s) - t0)))"
  summary="$summary$added"
}

# a skip: counted and named; a failure unless WB_ALLOW_SKIPS=1
skipped() { # count what
  skips=$((skips + $1))
  note "          skipped: $2"
  if [ "$allow_skips" = 1 ]; then
    echo "test.sh: skipped ($2); allowed by WB_ALLOW_SKIPS=1"
    return 0
  fi
  echo "test.sh: FAILED: skipped ($2); install what is missing (sh scripts/setup.sh --test) or set WB_ALLOW_SKIPS=1 to let skips pass"
  return 1
}

# the tests a build registered, by label, against the test sources: one unit
# test per tests/unit/test_*.c, one per tests/lua/*.lua and tests/sh/*.sh,
# one fuzz target per tests/fuzz/fuzz_*.c (label replay, or fuzz in the fuzz
# build). A missing cmocka, a lost glob or target shows as a difference.
check_registered() { # build-dir label...
  dir=$1
  shift
  bad=0
  for label in "$@"; do
    case "$label" in
    unit) want=$(ls tests/unit/test_*.c | wc -l) ;;
    lua) want=$(ls tests/lua/*.lua | wc -l) ;;
    sh) want=$(ls tests/sh/*.sh | wc -l) ;;
    replay | fuzz) want=$(ls tests/fuzz/fuzz_*.c | wc -l) ;;
    esac
    got=$(cd "$dir" && ctest -N -L "^$label\$" | sed -n 's/^Total Tests: //p')
    if [ "$got" != "$want" ]; then
      echo "test.sh: $dir registers $got tests labelled $label, the sources have $want"
      bad=1
    fi
  done
  total=$(cd "$dir" && ctest -N | sed -n 's/^Total Tests: //p')
  echo "test.sh: $dir registers $total tests (labels $*), as the sources have"
  [ "$bad" = 0 ]
}

# after a ctest run with --output-junit: the tests that did not run (skipped
# with exit 77, disabled, or not found), named
check_ran() { # build-dir junit-file
  names=$(sed -n 's/.*<testcase name="\([^"]*\)".*status="\(notrun\|disabled\)".*/\1/p' "$1/$2" | tr '\n' ' ')
  n=$(echo $names | wc -w)
  echo "test.sh: $1: $n tests did not run${names:+: $names}"
  [ "$n" = 0 ] || skipped "$n" "$1: $names"
}

run_ctest() { # build-dir [env...]
  dir=$1
  shift
  rm -f "$dir/ctest-junit.xml"
  (cd "$dir" && env "$@" ctest --output-on-failure -j"$jobs" --output-junit ctest-junit.xml)
  r=$?
  [ -f "$dir/ctest-junit.xml" ] || { echo "test.sh: ctest wrote no $dir/ctest-junit.xml"; return 1; }
  check_ran "$dir" ctest-junit.xml || r=1
  return $r
}

stage_normal() {
  check_registered build unit lua sh replay || return 1
  run_ctest build
}

stage_asan() {
  cmake -S . -B build-asan -DWB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-asan -j"$jobs" >/dev/null &&
    check_registered build-asan unit lua sh replay &&
    run_ctest build-asan "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" "UBSAN_OPTIONS=print_stacktrace=1" \
      "LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0"
}

stage_valgrind() {
  if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (sh scripts/setup.sh --test installs it)"
    return 1
  fi
  out="$root/build/valgrind"
  rm -rf "$out"
  mkdir -p "$out"
  {
    for t in build/tests/test_*; do [ -x "$t" ] && echo "$t"; done
    for r in build/tests/fuzz/fuzz_replay_*; do
      [ -x "$r" ] && echo "$r tests/fuzz/corpus/${r##*/fuzz_replay_}"
    done
  } >"$out/list"
  # each command under memcheck; a log per command, a line per result
  xargs -P "$jobs" -I{} sh -c '
    set -- {}
    log="$0/$(basename "$1").log"
    if valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible "$@" >"$log" 2>&1; then
      echo "clean   $(basename "$1")"
    else
      echo "FAILED  $(basename "$1")  (see $log)"
    fi' "$out" <"$out/list" | tee "$out/results"
  n=$(wc -l <"$out/results")
  bad=$(grep -c '^FAILED' "$out/results")
  echo "valgrind: $n programs, $bad with errors or leaks"
  [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]
}

have_libfuzzer() {
  command -v clang >/dev/null || return 1
  d=$(mktemp -d)
  printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return (int)(d && n) * 0; }\n' >"$d/t.c"
  clang -fsanitize=fuzzer,address "$d/t.c" -o "$d/t" >/dev/null 2>&1
  r=$?
  rm -rf "$d"
  return $r
}

stage_fuzz() {
  if ! have_libfuzzer; then
    echo "fuzz: clang with libFuzzer cannot build a fuzz target (sh scripts/setup.sh --fuzz installs"
    echo "      clang and libclang-rt-dev); the fuzz corpora were still replayed in the other stages"
    [ "${WB_FUZZ:-0}" = 1 ] && return 1
    stage_skipped=1
    skipped "$(ls tests/fuzz/fuzz_*.c | wc -l)" "the fuzz stage: no clang/libFuzzer"
    return
  fi
  CC=clang cmake -S . -B build-fuzz -DWB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DWB_FUZZ_SECONDS="${WB_FUZZ_SECONDS:-6}" >/dev/null &&
    cmake --build build-fuzz -j"$jobs" --target fuzz >/dev/null &&
    check_registered build-fuzz fuzz || return 1
  rm -f build-fuzz/fuzz-ci/execs.log
  (cd build-fuzz && ctest --output-on-failure -L '^fuzz$' -j"$jobs") || return 1
  # every target ran, with executions
  r=0
  for src in tests/fuzz/fuzz_*.c; do
    t=${src##*/fuzz_}
    t=${t%.c}
    e=$(awk -v t="$t" '$1 == t {e += $2; s += $3} END {printf "%d %d", e, s}' build-fuzz/fuzz-ci/execs.log 2>/dev/null)
    set -- $e
    printf 'fuzz %-14s %9d executions in %d s\n' "$t" "${1:-0}" "${2:-0}"
    note "$(printf '          fuzz %-14s %9d executions' "$t" "${1:-0}")"
    [ "${1:-0}" -gt 0 ] || { echo "fuzz: target $t did not run"; r=1; }
  done
  return $r
}

stage_mutate() {
  sh ./scripts/mutate.sh
}

for s in $stages; do
  case "$s" in
  normal | asan | valgrind | fuzz | mutate) run_stage "$s" "stage_$s" ;;
  *) echo "test.sh: unknown stage $s"; failed=1 ;;
  esac
done
note "skipped tests: $skips$([ "$skips" -gt 0 ] && [ "$allow_skips" = 1 ] && echo " (allowed by WB_ALLOW_SKIPS=1)")"
echo "=== summary$summary"
exit $failed
