#!/bin/sh
# Installs the Debian packages wb needs (when missing) and builds it in ./build.
#   --test   also what scripts/test.sh uses: valgrind, and the tools some
#            tests drive wb with (tmux and util-linux's script for terminals,
#            chromium to render charts and the dashboard, python3 for raw
#            network peers and PNG checks, groff for the man page, iproute2
#            for network namespaces); without them those tests are skipped
#   --fuzz   also what the fuzz build uses: clang and its libFuzzer runtime
#            (libclang-rt-dev); installed only when asked for
set -e
cd "$(dirname "$0")/.."
PKGS="build-essential cmake pkg-config liblua5.4-dev libopenblas-dev liblapacke-dev libreadline-dev libuv1-dev libcmocka-dev libssl-dev"
for a in "$@"; do
  case "$a" in
  --test) PKGS="$PKGS valgrind tmux util-linux chromium python3 groff-base iproute2" ;;
  --fuzz) PKGS="$PKGS clang libclang-rt-dev" ;;
  *) echo "setup.sh: unknown option $a (--test, --fuzz)" >&2; exit 2 ;;
  esac
done
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
