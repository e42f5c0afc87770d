#!/usr/bin/env bash
# A private PostgreSQL server for the store test suite.
#   scripts/pg-test-server.sh start DIR   initdb into DIR (once), start a server on a free
#                                         127.0.0.1 port, create the database ciel_test, and print
#                                         one line on stdout:
#                                           export CIEL_TEST_POSTGRES_URL=postgresql://...
#                                         so the caller can `eval "$(... start DIR)"`.
#   scripts/pg-test-server.sh stop DIR    stop that server; succeeds if it is not running.
# Everything else goes to stderr. PostgreSQL refuses to run as root, so under root the server
# runs as Debian's `postgres` system user (created if missing) and DIR is chown'ed to it.
#
# Layout: DIR/data (cluster; its socket goes in DIR), DIR/server.log, DIR/password (the
# superuser's random password; the server takes only password logins over 127.0.0.1).
# Test server only: fsync=off and full_page_writes=off make it fast and give up crash safety of
# the *test* cluster, which is thrown away; Ciel's durability is tested against SQLite and the
# blob store, whose fsyncs are real.
set -euo pipefail

die() { echo "pg-test-server: $*" >&2; exit 1; }
log() { echo "pg-test-server: $*" >&2; }

cmd="${1:-}"
dir="${2:-}"
[[ ( "$cmd" == start || "$cmd" == stop ) && -n "$dir" ]] || die "usage: $0 start|stop DIR"

# The newest installed server binaries (Debian: /usr/lib/postgresql/<major>/bin).
bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [[ -x "$d/pg_ctl" ]] && bindir="$d"
done
if [[ -z "$bindir" ]]; then
  [[ "$cmd" == stop ]] && exit 0
  die "PostgreSQL server binaries not found under /usr/lib/postgresql (install the Debian package postgresql)"
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
data="$dir/data"

# Runs a command as the server's owner.
if [[ $(id -u) -eq 0 ]]; then
  if ! id -u postgres >/dev/null 2>&1; then
    [[ "$cmd" == stop ]] && exit 0
    log "creating the postgres system user"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres >&2 \
      || die "cannot create the postgres user"
  fi
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi

server_running() {
  [[ -f "$data/postmaster.pid" ]] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

if [[ "$cmd" == stop ]]; then
  if server_running; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop >&2 \
      || as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >&2 \
      || die "could not stop the server in $data"
  fi
  exit 0
fi

# --- start ---------------------------------------------------------------------------------
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  chmod 700 "$dir"
  as_owner test -w "$dir" || die "the postgres user cannot write to $dir (a parent directory is not searchable by it); use a DIR under /tmp"
fi
# Unix socket paths are limited to 107 bytes.
(( ${#dir} <= 90 )) || die "DIR is too long for a socket path: $dir"

if [[ ! -f "$data/PG_VERSION" ]]; then
  rm -rf "$data"
  password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  (umask 077 && printf '%s\n' "$password" >"$dir/password")
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/password"
  log "initdb $data"
  as_owner "$bindir/initdb" -D "$data" -U postgres --pwfile="$dir/password" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
fi
[[ -f "$dir/password" ]] || die "$dir/password is missing; remove $dir and start again"
password="$(head -n1 "$dir/password")"

free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

if server_running && [[ -f "$dir/port" ]]; then
  port="$(cat "$dir/port")"
  log "already running on 127.0.0.1:$port"
else
  started=0
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    log "starting on 127.0.0.1:$port (attempt $attempt)"
    if as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >&2; then
      started=1
      break
    fi
    # A port taken between the probe and the bind makes the server exit; try another one.
    as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  done
  if [[ $started -ne 1 ]]; then
    tail -n 20 "$dir/server.log" >&2 || true
    die "could not start the server (log: $dir/server.log)"
  fi
  echo "$port" >"$dir/port"
fi

export PGPASSWORD="$password" PGCONNECT_TIMEOUT=10
if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XAtqc \
    "SELECT 1 FROM pg_database WHERE datname = 'ciel_test'" | grep -q 1; then
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres -E UTF8 --locale=C -T template0 ciel_test >&2 \
    || die "createdb ciel_test failed"
fi

echo "export CIEL_TEST_POSTGRES_URL=postgresql://postgres:$password@127.0.0.1:$port/ciel_test"
