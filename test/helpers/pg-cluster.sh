#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the state-store tests: initdb into a temp dir, trust
# auth, listening on 127.0.0.1:<free port> and a unix socket in that dir.
#   pg-cluster.sh start   prints `export DESKSET_TEST_PG=postgres://…; export DESKSET_TEST_PG_DIR=…`
#   pg-cluster.sh stop DIR
# initdb refuses to run as root: as root, the cluster belongs to the `postgres` user.
set -euo pipefail
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || { echo "pg-cluster: no initdb under /usr/lib/postgresql/*/bin" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/deskset-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U deskset --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U deskset deskset_test
    echo "export DESKSET_TEST_PG=postgres://deskset@127.0.0.1:$port/deskset_test; export DESKSET_TEST_PG_DIR=$dir"
    ;;
  stop)
    dir=${2:?usage: pg-cluster.sh stop DIR}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-cluster.sh start | stop DIR" >&2
    exit 2
    ;;
esac
