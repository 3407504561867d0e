#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, for jobrun's tests, benchmarks and CI.
#
#   bench/pg-cluster.sh start DIR PORT   # initdb DIR (once) and start; prints the URL
#   bench/pg-cluster.sh restart DIR      # fast restart (open connections are cut)
#   bench/pg-cluster.sh stop DIR         # fast shutdown; succeeds if it is not running
#
# The server listens on 127.0.0.1 only, with its socket in DIR, and trusts local connections
# (a throwaway cluster: nothing else can reach it); it offers TLS with a certificate for
# `localhost` signed by DIR/root.crt (when openssl is there). As root, initdb and the server run as the
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

# TLS for the tests of `sslmode`: a CA of the cluster's own (DIR/root.crt, what a client
# gives as `sslrootcert`) and a server certificate it signed for the name `localhost` only, so
# that `verify-full` to 127.0.0.1 fails on the name. Without openssl the server has no TLS.
make_certificates() {
  command -v openssl >/dev/null || return 0
  local tmp
  tmp=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=jobrun test CA" -keyout "$tmp/ca.key" -out "$dir/root.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout "$dir/data/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" >"$tmp/ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$dir/root.crt" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 3650 -extfile "$tmp/ext" -out "$dir/data/server.crt" 2>/dev/null
  rm -rf "$tmp"
  chmod 600 "$dir/data/server.key"
  chmod 644 "$dir/root.crt"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir/data/server.key" "$dir/data/server.crt"
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
    make_certificates
  fi
  tls=""
  if [ -f "$dir/data/server.crt" ]; then
    tls="-c ssl=on"
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 $tls" \
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
