#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, for jobrun's tests, benchmarks and CI.
#
#   bench/pg-cluster.sh start DIR PORT   # initdb DIR (once) and start; prints the URL
#   bench/pg-cluster.sh restart DIR      # fast restart (open connections are cut)
#   bench/pg-cluster.sh stop DIR         # fast shutdown; succeeds if it is not running
#
# The server listens on 127.0.0.1 only, with its socket in DIR, and trusts local connections
# (a throwaway cluster: nothing else can reach it). As root, initdb and the server run as the
# `postgres` user, since PostgreSQL refuses to run as root. The binaries come from
# `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin (Debian's layout).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | restart DIR | stop DIR" >&2
  exit 2
}

bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then
      echo "$dir"
      return
    fi
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  echo "$0: no PostgreSQL server binaries (initdb); on Debian: apt-get install postgresql" >&2
  exit 1
}

# Runs a server binary as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

[ $# -ge 2 ] || usage
action=$1
dir=$(realpath -m "$2")
bin=$(bindir)

case "$action" in
start)
  [ $# -eq 3 ] || usage
  port=$3
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
    # The owner must reach DIR through its parents (a test's temporary directory is 0700).
    parent=$(dirname "$dir")
    while [ "$parent" != / ]; do
      if [ "$(stat -c %u "$parent")" = 0 ] && ! runuser -u postgres -- test -x "$parent"; then
        chmod o+x "$parent"
      fi
      parent=$(dirname "$parent")
    done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
  ;;
restart)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >/dev/null
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null
  fi
  ;;
*)
  usage
  ;;
esac
