# mpi_common.bash — helpers for the MPI executor's shell tests (sourced):
# Open MPI's mpirun as root on a small machine, a temp folder, bounded runs.
set -u
WB=${1:?usage: $0 path/to/wb}
WB=$(readlink -f "$WB")
# the test-only kernels (cluster.pid, cluster.fill ...): a test plugin the
# driver loads with wb.plugin.load(os.getenv("WB_TEST_KERNELS")), sent to the ranks
export WB_TEST_KERNELS=${WB_TEST_PLUGIN_DIR:-$(dirname "$WB")/tests/plugins}/cluster_kernels.so
SRC=${WB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
T=$(mktemp -d /tmp/wbmpi.XXXXXX)
cleanup_t() { rm -rf "$T"; }
trap cleanup_t EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
if ! command -v mpirun >/dev/null; then echo "SKIP: no mpirun (Debian: openmpi-bin)"; exit 77; fi
if out=$("$WB" --mpi -e 1 2>&1); [[ "$out" == *"this build of wb has no MPI"* ]]; then
  echo "SKIP: this wb was built without MPI: $out"; exit 77
fi
# Open MPI refuses root unless told; 2 cores run 3 ranks only oversubscribed
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# no warnings about the shared-memory or network set-up of a container
export OMPI_MCA_btl_base_warn_component_unused=0
MPIRUN=(mpirun --oversubscribe)
# under ASan: Open MPI's components (dlopen'ed, closed at MPI_Finalize, no
# frame pointers) leave what they keep until exit with allocation stacks that
# reach the MPI library frames tests/lsan.supp names only through the slow
# unwinder (mpirun passes the environment on to the ranks)
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}fast_unwind_on_malloc=0"
# run CMD with a time limit; sets RC, OUT (stdout+stderr) and SECS
run_bounded() {
  local limit=$1; shift
  local t0=$(date +%s.%N)
  OUT=$(timeout -k 5 "$limit" "$@" 2>&1)
  RC=$?
  # Open MPI's rsh launcher warns when a daemon it started has already
  # exec'd before it could set its process group (a race of the launcher,
  # harmless): not part of what wb printed
  OUT=$(printf '%s\n' "$OUT" | grep -v '^\[[^]]*\] plm:rsh: Warning: setpgid(.*) failed in parent')
  SECS=$(echo "$(date +%s.%N) - $t0" | bc)
}
