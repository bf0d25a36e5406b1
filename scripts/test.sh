#!/bin/sh
# Builds wb (installing its Debian packages if needed) and runs the whole test suite.
set -e
cd "$(dirname "$0")/.."
sh ./scripts/setup.sh
cd build && ctest --output-on-failure -j2
