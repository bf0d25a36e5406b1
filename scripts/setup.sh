#!/bin/sh
# Installs the Debian packages wb needs (when missing) and builds it in ./build.
#   --test   also what scripts/test.sh uses: valgrind, and the tools some
#            tests drive wb with (tmux and util-linux's script for terminals,
#            chromium to render charts and the dashboard, python3 for raw
#            network peers and PNG checks, groff for the man page, iproute2
#            for network namespaces), the real servers and clients the tests
#            start (PostgreSQL, Open MPI's launcher, Slurm + munge, Jupyter's
#            client and nbconvert, tshark for traffic captures), Debian's
#            Python packages the tests compare wb with (scikit-learn, pandas,
#            Dask, XGBoost, SQLAlchemy, psycopg2), the Debian packages whose
#            CSV files tables_pandas reads (R's r-base-core and
#            r-cran-palmerpenguins, python3-sklearn, python-matplotlib-data),
#            and clang's libFuzzer for the fuzz stage
#   --fuzz   also what the fuzz build uses: clang and its libFuzzer runtime
#            (libclang-rt-dev); installed only when asked for
set -e
cd "$(dirname "$0")/.."
PKGS="build-essential cmake pkg-config liblua5.4-dev libopenblas-dev liblapacke-dev libreadline-dev libuv1-dev libcmocka-dev libssl-dev zlib1g-dev libzstd-dev libisal-dev libsqlite3-dev libpq-dev libopenmpi-dev openmpi-bin libzmq3-dev libjansson-dev"
for a in "$@"; do
  case "$a" in
  --test) PKGS="$PKGS valgrind tmux util-linux chromium python3 groff-base iproute2 postgresql slurm-wlm munge python3-jupyter-client jupyter-nbconvert python3-ipykernel tshark sqlite3 python3-numpy python3-scipy python3-sklearn python3-pandas python3-dask python3-distributed python3-xgboost python3-sqlalchemy python3-psycopg2 r-base-core r-cran-palmerpenguins python-matplotlib-data clang libclang-rt-dev" ;;
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
