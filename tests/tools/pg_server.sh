#!/bin/bash
# pg_server.sh — a throwaway PostgreSQL server for the tests and benchmarks
# (Debian's postgresql package: initdb, pg_ctl, postgres).
#
#   pg_server.sh start DIR   initdb in DIR/data, start on a free port of
#                            127.0.0.1 and the socket folder DIR/sock; prints
#                            "PORT" and writes DIR/env (PGHOST, PGPORT, ...)
#   pg_server.sh stop DIR    stop it (immediate) and remove DIR
#
# The cluster's superuser is "wb" with the password of DIR/pw (made here);
# the socket trusts local connections, TCP on 127.0.0.1 asks the password
# (scram-sha-256), so a test can get a password wrong. No autovacuum: a
# table loaded in order keeps its rows in that order on disk (a vacuum while
# it loads lets later rows fill earlier pages), which is the order a scan
# returns them in, so tests can name the order they expect. Connections and
# statements are logged with the client's application_name (DIR/data/log).
# Run as root, the server runs as the user postgres (DIR is given to it, so
# its parent folders must let that user in: /tmp/X from mktemp -d does).
# Every wait is bounded (pg_ctl -t).
set -u
cmd=${1:?usage: pg_server.sh start|stop DIR}
dir=${2:?usage: pg_server.sh start|stop DIR}
bin=${WB_PG_BIN:-}
if [ -z "$bin" ]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do bin=$d; break; done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg_server.sh: no PostgreSQL server found (Debian: apt-get install postgresql, or set WB_PG_BIN)" >&2
  exit 77
fi
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
  mkdir -p "$dir/sock" || exit 1
  head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/pw"
  [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U wb --pwfile="$dir/pw" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/log" -w -t 60 -o \
      "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c autovacuum=off -c synchronous_commit=off -c full_page_writes=off -c log_connections=on -c log_statement=all -c log_line_prefix='%m [%p] app=%a: '" \
      start >"$dir/pg_ctl.log" 2>&1; then
      break
    fi
    port=
  done
  if [ -z "$port" ]; then cat "$dir/pg_ctl.log" "$dir/data/log" >&2 2>/dev/null; exit 1; fi
  as_pg "$bin/createdb" -h "$dir/sock" -p "$port" -U wb test >>"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" >&2; exit 1; }
  chmod 755 "$dir" "$dir/sock"
  chmod 644 "$dir/pw"
  printf 'PGHOST=%s\nPGPORT=%s\nPGUSER=wb\nPGDATABASE=test\n' "$dir/sock" "$port" > "$dir/env"
  echo "$port"
  ;;
stop)
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg_server.sh start|stop DIR" >&2
  exit 2
  ;;
esac
