# kernel_common.bash — what the Jupyter kernel's tests share (sourced):
# Debian's Python with jupyter_client (else the test is skipped, exit 77),
# a temporary folder $T that holds HOME, Jupyter's folders and the kernelspec
# (`wb kernel install --prefix $T/prefix`, found through JUPYTER_PATH), and
# at exit the kernels started from $T stopped (SIGTERM, then SIGKILL) and
# $T removed.
WB=$(realpath "${1:?usage: $0 path/to/wb}")
PY=/usr/bin/python3
if ! "$PY" -c 'import jupyter_client, zmq' 2>/dev/null; then
  echo "SKIP: Debian's python3-jupyter-client is not installed (sh scripts/setup.sh --test)"
  exit 77
fi
T=$(mktemp -d)
# the kernels whose connection file is under $T (and what they started)
kernel_pids() {
  local p
  for p in /proc/[0-9]*; do
    { tr "\0" " " < "$p/cmdline"; } 2>/dev/null | grep -q -- "kernel -f $T/" && echo "${p#/proc/}"
  done
}
kernel_cleanup() {
  local pids p i
  pids=$(kernel_pids)
  if [ -n "$pids" ]; then
    echo "cleanup: stopping kernels left running: $pids"
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 50); do [ -z "$(kernel_pids)" ] && break; sleep 0.1; done
    for p in $(kernel_pids); do kill -KILL "$p" 2>/dev/null; done
  fi
  rm -rf "$T"
}
trap kernel_cleanup EXIT
export HOME=$T/home JUPYTER_PATH=$T/prefix/share/jupyter JUPYTER_RUNTIME_DIR=$T/runtime
export JUPYTER_DATA_DIR=$T/data JUPYTER_CONFIG_DIR=$T/config IPYTHONDIR=$T/ipython
export PYDEVD_DISABLE_FILE_VALIDATION=1 JUPYTER_PLATFORM_DIRS=0
mkdir -p "$HOME" "$JUPYTER_RUNTIME_DIR"
"$WB" kernel install --prefix "$T/prefix" > "$T/install.out" 2>&1 || { cat "$T/install.out"; echo "FAIL: wb kernel install"; exit 1; }
