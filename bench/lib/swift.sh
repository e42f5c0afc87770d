# shellcheck shell=bash
# Debian's OpenStack Swift (packages swift, swift-proxy, swift-account, swift-container,
# swift-object) as a private peer: one proxy, account, container and object server each, started
# as `swift-<type>-server <conf>` the way swift-init does it (without daemonizing), a one-device
# ring with one replica on 127.0.0.1, tempauth with user bench:bench (key bench, .admin), and a
# private memcached for tempauth's tokens and the proxy's account/container info cache.
# Everything (configs, rings, the device under srv/, the memcached) lives in a private temp dir.
#
#   swift_start                start on free 127.0.0.1 ports; exports
#                              SWIFT_URL (proxy root, http://127.0.0.1:PORT),
#                              SWIFT_AUTH_URL (tempauth v1, $SWIFT_URL/auth/v1.0),
#                              SWIFT_PIDS (proxy, account, container, object, memcached parents),
#                              SWIFT_DIR (private dir), SWIFT_WORKERS
#   swift_stop                 stop it (also done at exit)
#   swift_token                print "TOKEN STORAGE_URL" for bench:bench (tempauth, v1 auth)
#   swift_version              print the installed Swift version
#
# Knobs (environment): SWIFT_WORKERS (workers of each server, default 2 = the cores of these
# machines; Debian's sample configs say "auto", i.e. one per core), SWIFT_PART_POWER (ring
# partition power, default 10), SWIFT_S3API (1: serve the S3 API too, below; default 0).
#
# With SWIFT_S3API=1 the proxy also serves the S3 API through Swift's own s3api middleware
# (package python3-swift, `egg:swift#s3api`), placed just before tempauth as its sample config
# says ("with tempauth: put s3api just before your auth filter(s)"):
#   catch_errors proxy-logging cache s3api tempauth proxy-logging proxy-server
# with location = us-east-1 (the SigV4 region), path-style requests (no storage_domain), s3_acl
# off (Swift ACLs, the default) and multipart uploads off (they need the slo middleware, which
# this pipeline, like the Swift-only one, leaves out). tempauth checks the signatures: access key
# "bench:bench" (account:user), secret "bench" (the user's key); a bucket is a container of
# AUTH_bench. Swift requests pass s3api untouched (it finds no S3 signature on them).
#
# Departures from Debian's setup, each forced by the private setup:
#  - the hash path prefix/suffix and storage policies come from Debian's shipped
#    /etc/swift/swift.conf, read-only: Swift 2.30 reads them from that path only. Nothing is
#    written under /etc or /srv;
#  - mount_check = false, devices = <dir>/srv, swift_dir = <dir> (rings), bind_ip 127.0.0.1;
#  - logging: Swift logs to syslog (/dev/log); where there is none (containers) it falls back,
#    as shipped, to UDP syslog on localhost:514. The proxy logs every request (proxy-logging).
#  - no replicators, auditors, updaters or reapers: one replica, short runs.
# fsync is as Swift ships it: the object server fsyncs each object before renaming it into place,
# the account and container servers use SQLite with its default (synchronous) settings.

# shellcheck source=bench/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SWIFT_CONF=/etc/swift/swift.conf

swift_version() {
  "$BENCH_PYTHON" -c 'import swift; print(swift.__version__)' 2>/dev/null || echo unknown
}

_swift_ring() {  # _swift_ring TYPE PORT: a one-device, one-replica ring in $SWIFT_DIR
  local b="$SWIFT_DIR/$1.builder"
  {
    swift-ring-builder "$b" create "${SWIFT_PART_POWER:-10}" 1 1 &&
      swift-ring-builder "$b" add "r1z1-127.0.0.1:$2/d1" 100 &&
      swift-ring-builder "$b" rebalance
  } >>"$SWIFT_DIR/log/ring.log" 2>&1 || {
    # rebalance exits 1 with a warning and still writes the ring; only a missing ring is fatal
    [[ -s "$SWIFT_DIR/$1.ring.gz" ]] || {
      bench_log "swift-ring-builder $1 failed:"; tail -20 "$SWIFT_DIR/log/ring.log" >&2; return 1
    }
  }
}

_swift_server_conf() {  # _swift_server_conf TYPE PORT USER: account/container/object server config
  cat >"$SWIFT_DIR/$1-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = $SWIFT_WORKERS
user = $3
swift_dir = $SWIFT_DIR
devices = $SWIFT_DIR/srv
mount_check = false
log_name = $1-server

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
EOF
}

_swift_run() {  # _swift_run NAME COMMAND...: start in the background, remember the pid
  local name="$1"
  shift
  "$@" </dev/null >>"$SWIFT_DIR/log/$name.log" 2>&1 &
  SWIFT_PIDS+="$! "
}

swift_start() {
  local user aport cport oport pport mport t pipeline
  [[ -r "$SWIFT_CONF" ]] ||
    bench_die "swift_start: $SWIFT_CONF is missing: it comes with Debian's swift package (Swift 2.30 reads the hash path prefix/suffix only from there); reinstall the swift package"
  command -v swift-proxy-server >/dev/null && command -v swift-object-server >/dev/null &&
    command -v memcached >/dev/null || bench_install_packages ||
    bench_die "swift_start: cannot install the packages of bench/packages.txt"
  SWIFT_DIR="$(bench_tmpdir swift)"
  SWIFT_WORKERS="${SWIFT_WORKERS:-2}"
  SWIFT_PIDS=""
  pipeline="catch_errors proxy-logging cache tempauth proxy-logging proxy-server"
  [[ "${SWIFT_S3API:-0}" == 1 ]] && pipeline="catch_errors proxy-logging cache s3api tempauth proxy-logging proxy-server"
  mkdir -p "$SWIFT_DIR/srv/d1" "$SWIFT_DIR/log" "$SWIFT_DIR/cache"
  if id swift >/dev/null 2>&1; then user=swift; else user=root; fi
  aport="$(free_port)"; cport="$(free_port)"; oport="$(free_port)"; pport="$(free_port)"; mport="$(free_port)"
  SWIFT_URL="http://127.0.0.1:$pport"
  SWIFT_AUTH_URL="$SWIFT_URL/auth/v1.0"
  export SWIFT_URL SWIFT_AUTH_URL SWIFT_DIR SWIFT_WORKERS

  _swift_ring account "$aport" || return 1
  _swift_ring container "$cport" || return 1
  _swift_ring object "$oport" || return 1
  _swift_server_conf account "$aport" "$user"
  _swift_server_conf container "$cport" "$user"
  _swift_server_conf object "$oport" "$user"
  cat >"$SWIFT_DIR/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $pport
workers = $SWIFT_WORKERS
user = $user
swift_dir = $SWIFT_DIR
log_name = proxy-server

[pipeline:main]
pipeline = $pipeline

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mport

[filter:tempauth]
use = egg:swift#tempauth
user_bench_bench = bench .admin
EOF
  [[ "${SWIFT_S3API:-0}" == 1 ]] && cat >>"$SWIFT_DIR/proxy-server.conf" <<EOF

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
allow_multipart_uploads = false
EOF
  chown -R "$user:" "$SWIFT_DIR"

  # tempauth keeps its tokens in memcache only ("Memcache required"), and every Swift deployment
  # runs one for the proxy's account/container info cache: a private one, 64 MiB, one thread
  _swift_run memcached memcached -u "${user}" -l 127.0.0.1 -p "$mport" -U 0 -m 64 -t 1
  for t in account container object; do
    _swift_run "$t-server" "swift-$t-server" "$SWIFT_DIR/$t-server.conf"
  done
  _swift_run proxy-server swift-proxy-server "$SWIFT_DIR/proxy-server.conf"
  export SWIFT_PIDS
  bench_on_exit swift_stop
  for t in "$aport" "$cport" "$oport" "$pport"; do
    wait_http "http://127.0.0.1:$t/healthcheck" 60 || {
      bench_log "swift_start: a Swift server on port $t did not come up; logs:"
      tail -n 20 "$SWIFT_DIR"/log/*.log >&2
      swift_stop
      return 1
    }
  done
  swift_token >/dev/null || { bench_log "swift_start: tempauth gives no token"; tail -n 20 "$SWIFT_DIR"/log/*.log >&2; return 1; }
}

swift_stop() {
  local pid
  [[ -n "${SWIFT_PIDS:-}" ]] || return 0
  # each server's parent stops its workers on TERM
  for pid in $SWIFT_PIDS; do bench_stop_pid "$pid" 15; done
  SWIFT_PIDS=""
}

swift_token() {
  local hdr code
  hdr="$(mktemp "$BENCH_TMP/hdr.XXXXXX")"
  code="$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' --max-time 30 \
    -H 'X-Auth-User: bench:bench' -H 'X-Auth-Key: bench' "$SWIFT_AUTH_URL")" || true
  if [[ "$code" != 200 ]]; then
    bench_log "swift_token: GET $SWIFT_AUTH_URL answered ${code:-nothing}"; rm -f "$hdr"; return 1
  fi
  awk 'tolower($1) == "x-auth-token:" { sub(/\r$/, "", $2); t = $2 }
       tolower($1) == "x-storage-url:" { sub(/\r$/, "", $2); u = $2 }
       END { if (t == "" || u == "") exit 1; print t, u }' "$hdr"
  local rc=$?
  rm -f "$hdr"
  return "$rc"
}

# --- Swift v1 client helpers (any Swift API: Debian's Swift, Ciel) ----------------------------

# swift_v3_token V3_URL USER PASSWORD PROJECT: a project-scoped Keystone v3 token (password method,
# domain "default"); prints "TOKEN PROJECT_ID" (the project id from the body's token.project.id,
# for the storage URL <public_url>/v1/AUTH_<project_id>).
swift_v3_token() {
  local url="$1" body hdr out code
  body="$(BT_USER="$2" BT_PASS="$3" BT_PROJECT="$4" "$BENCH_PYTHON" -c '
import json, os
print(json.dumps({"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": os.environ["BT_USER"], "domain": {"id": "default"},
        "password": os.environ["BT_PASS"]}}},
    "scope": {"project": {"name": os.environ["BT_PROJECT"], "domain": {"id": "default"}}}}}))')"
  hdr="$(mktemp "$BENCH_TMP/hdr.XXXXXX")"
  out="$(mktemp "$BENCH_TMP/body.XXXXXX")"
  code="$(curl -s -o "$out" -D "$hdr" -w '%{http_code}' --max-time 30 \
    -H 'Content-Type: application/json' --data-binary @- "$url/auth/tokens" <<<"$body")" || true
  if [[ "$code" != 201 ]]; then
    bench_log "swift_v3_token: POST $url/auth/tokens answered ${code:-nothing}: $(head -c 300 "$out")"
    rm -f "$hdr" "$out"; return 1
  fi
  printf '%s %s\n' \
    "$(awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }' "$hdr")" \
    "$("$BENCH_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"]["project"]["id"])' "$out")"
  rm -f "$hdr" "$out"
}

# swift_put_many URL_PREFIX COUNT FILE TOKEN [PARALLEL]: PUT FILE as URL_PREFIX0 .. URL_PREFIX<COUNT-1>
# with one curl process, PARALLEL (default 16) transfers at a time. Prints the seconds taken;
# returns 1 (and logs the status codes seen) unless every PUT answered 201.
swift_put_many() {
  local prefix="$1" count="$2" file="$3" token="$4" par="${5:-16}" cfg codes start ok
  cfg="$(mktemp "$BENCH_TMP/putmany.XXXXXX")"
  codes="$cfg.codes"
  awk -v p="$prefix" -v n="$count" -v f="$file" 'BEGIN {
    for (i = 0; i < n; i++) printf "url = \"%s%d\"\nupload-file = \"%s\"\noutput = \"/dev/null\"\n", p, i, f }' >"$cfg"
  start="$(date +%s.%N)"
  curl -s --no-progress-meter --parallel --parallel-max "$par" --max-time 60 -H "X-Auth-Token: $token" \
    -H 'Expect:' -H 'Content-Type: application/octet-stream' -w '%{http_code}\n' -K "$cfg" \
    >"$codes" 2>"$cfg.err" || true
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", e - s }'
  ok="$(grep -c '^201$' "$codes" || true)"
  if ((ok != count)); then
    bench_log "swift_put_many: $ok of $count PUTs to ${prefix}N answered 201; status codes seen:"
    sort "$codes" | uniq -c >&2
    head -5 "$cfg.err" >&2
    rm -f "$cfg" "$codes" "$cfg.err"; return 1
  fi
  rm -f "$cfg" "$codes" "$cfg.err"
}
