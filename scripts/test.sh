#!/bin/sh
# Builds wb (installing its Debian packages if needed) and runs everything CI
# checks, each stage timed, a summary at the end (exit 1 if any failed):
#   normal    the whole suite (ctest) in ./build
#   asan      the whole suite again in ./build-asan (AddressSanitizer and
#             UndefinedBehaviorSanitizer; LeakSanitizer checks every process
#             at exit: a leak fails the test)
#   valgrind  valgrind memcheck over the unit tests and the fuzz corpora
#             replays (./build): no memory error and no leak (definite,
#             indirect or possible) allowed
#   fuzz      each fuzz target for WB_FUZZ_SECONDS (6) in ./build-fuzz
#             (clang's libFuzzer, ASan+UBSan). Without clang it is skipped with
#             a message: `sh scripts/setup.sh --fuzz` installs it, and
#             WB_FUZZ=1 makes this script install it and fail without it.
#             The corpora are replayed in the other stages either way.
# WB_TEST_STAGES="normal asan valgrind fuzz" chooses stages; WB_TEST_JOBS
# (default 2) the parallel tests.
cd "$(dirname "$0")/.."
root=$(pwd)
stages=${WB_TEST_STAGES:-normal asan valgrind fuzz}
jobs=${WB_TEST_JOBS:-2}
setup_opts="--test"
[ "${WB_FUZZ:-0}" = 1 ] && setup_opts="$setup_opts --fuzz"
sh ./scripts/setup.sh $setup_opts || exit 1

summary=""
failed=0
note() { summary="$summary
$1"; }
run_stage() { # name command...
  name=$1
  shift
  echo "=== $name"
  t0=$(date +%s)
  if "$@"; then r=ok; else r=FAILED; failed=1; fi
  note "$(printf '%-9s %-7s %4d s' "$name" "$r" $(($(date +%s) - t0)))"
}

stage_normal() {
  (cd build && ctest --output-on-failure -j"$jobs")
}

stage_asan() {
  cmake -S . -B build-asan -DWB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-asan -j"$jobs" >/dev/null &&
    (cd build-asan &&
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1" \
        ctest --output-on-failure -j"$jobs")
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
    if [ "${WB_FUZZ:-0}" = 1 ]; then
      echo "fuzz: clang with libFuzzer is required (WB_FUZZ=1) but cannot build a fuzz target"
      return 1
    fi
    echo "fuzz: SKIPPED: clang with libFuzzer is not installed (sh scripts/setup.sh --fuzz installs it);"
    echo "      the fuzz corpora were still replayed in the other stages"
    note "          (fuzz skipped: no clang/libFuzzer)"
    return 0
  fi
  CC=clang cmake -S . -B build-fuzz -DWB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DWB_FUZZ_SECONDS="${WB_FUZZ_SECONDS:-6}" >/dev/null &&
    cmake --build build-fuzz -j"$jobs" --target fuzz >/dev/null &&
    (cd build-fuzz && rm -f fuzz-ci/execs.log && ctest --output-on-failure -L fuzz -j"$jobs") &&
    awk '{e[$1]+=$2} END {for (t in e) printf "fuzz %-14s %9d executions\n", t, e[t]}' build-fuzz/fuzz-ci/execs.log
}

for s in $stages; do
  case "$s" in
  normal | asan | valgrind | fuzz) run_stage "$s" "stage_$s" ;;
  *) echo "test.sh: unknown stage $s"; failed=1 ;;
  esac
done
echo "=== summary$summary"
exit $failed
