#!/bin/bash
# kernel_client.sh — Jupyter's client drives `wb kernel` (kernel_client.py:
# execute, rich output, progress, completion, help, history, input,
# interrupts, a local cluster, restart, shutdown, bad messages on a raw
# socket); its transcript is the test's output.
. "$(dirname "$0")/kernel_common.bash"
export WB_KERNEL_LOG=$T/kernel.log WB_KERNEL_TMP=$T
: > "$WB_KERNEL_LOG"
timeout 400 "$PY" -X frozen_modules=off "$(dirname "$0")/kernel_client.py"
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- the kernel's log:"
  tail -n 40 "$WB_KERNEL_LOG"
  echo "FAIL: kernel_client.py exited $rc"
  exit 1
fi
echo "kernel_client: all passed"
