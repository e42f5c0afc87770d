# shellcheck shell=bash
# Debian's Keystone (package keystone) as a private peer, served the way Debian serves it:
# uwsgi_python3 --http-socket ... --ini <copy of /etc/keystone/keystone-uwsgi.ini> running
# /usr/bin/keystone-wsgi-public, as the keystone user. Everything (keystone.conf, SQLite database,
# Fernet and credential key repositories, logs) lives in a private temp dir; /etc/keystone, the
# system service and /var/lib/keystone are not used.
#
#   keystone_start [PORT]      start on 127.0.0.1:PORT (default: a free port); exports
#                              KS_URL (identity endpoint, http://127.0.0.1:PORT/v3),
#                              KS_ADMIN_USER, KS_ADMIN_PASSWORD, KS_ADMIN_PROJECT,
#                              KS_PID (uwsgi master), KS_DIR (private dir)
#   keystone_stop              stop it (also done at exit)
#   keystone_token [URL [USER [PASSWORD [PROJECT]]]]
#                              print a project-scoped token (password method, domain "default");
#                              defaults: $KS_URL admin $KS_ADMIN_PASSWORD admin
#   keystone_app_cred [URL [TOKEN]]
#                              create an application credential for TOKEN's user and project and
#                              print "ID SECRET" (default TOKEN: keystone_token URL)
# keystone_token and keystone_app_cred only speak the Keystone v3 API, so they work against any
# compatible server (Ciel included) given its /v3 URL.
#
# Knobs (environment): KS_PROCESSES (uwsgi processes, default 2; Debian's ini says 8),
# KS_THREADS (threads per process, default 32 as in Debian's ini), KS_CACHE=1 to turn on
# Keystone's in-process cache (dogpile.cache.memory; Debian's default config has caching off).
#
# Departures from Debian's setup, each forced by this machine or by SQLite:
#  - no apparmor plugin/profile (no AppArmor in containers);
#  - the SQLite database is switched to WAL: in rollback-journal mode a uwsgi worker keeps a
#    SHARED lock after a password token issue, and every later write (application credential
#    create) fails with "database is locked" after 5 s.

# shellcheck source=bench/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_ks_manage() {
  keystone-manage --config-file "$KS_DIR/keystone.conf" "$@" >>"$KS_DIR/log/manage.log" 2>&1 || {
    bench_log "keystone-manage $1 failed; log:"; tail -30 "$KS_DIR/log/manage.log" >&2
    return 1
  }
}

_ks_uwsgi_binary() {
  local i bin=""
  # as Debian's init script: the most specific uwsgi_pythonNN there is
  for i in /usr/bin/uwsgi_python3 /usr/bin/uwsgi_python3[0-9]*; do [[ -x "$i" ]] && bin="$i"; done
  [[ -n "$bin" ]] || return 1
  echo "$bin"
}

keystone_start() {
  local port="${1:-}" dir user group uwsgi
  command -v keystone-manage >/dev/null && _ks_uwsgi_binary >/dev/null || bench_install_packages ||
    bench_die "keystone_start: cannot install the packages of bench/packages.txt"
  uwsgi="$(_ks_uwsgi_binary)" || bench_die "keystone_start: no uwsgi_python3 binary"
  [[ -n "$port" ]] || port="$(free_port)"
  dir="$(bench_tmpdir keystone)"
  KS_DIR="$dir"
  mkdir -p "$dir/log" "$dir/fernet-keys" "$dir/credential-keys"
  chmod 700 "$dir/fernet-keys" "$dir/credential-keys"
  if id keystone >/dev/null 2>&1; then user=keystone; group="$(id -gn keystone)"; else user=root; group=root; fi

  KS_URL="http://127.0.0.1:$port/v3"
  KS_ADMIN_USER="admin"
  KS_ADMIN_PROJECT="admin"
  KS_ADMIN_PASSWORD="${KS_ADMIN_PASSWORD:-$("$BENCH_PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))')}"
  export KS_URL KS_ADMIN_USER KS_ADMIN_PROJECT KS_ADMIN_PASSWORD KS_DIR

  cat >"$dir/keystone.conf" <<EOF
[DEFAULT]
log_dir = $dir/log
log_file = keystone.log

[database]
connection = sqlite:///$dir/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = $dir/fernet-keys

[fernet_receipts]
key_repository = $dir/fernet-keys

[credential]
key_repository = $dir/credential-keys
EOF
  if [[ "${KS_CACHE:-0}" == 1 ]]; then
    printf '\n[cache]\nenabled = true\nbackend = dogpile.cache.memory\n' >>"$dir/keystone.conf"
  fi

  # Debian's /etc/keystone/keystone-uwsgi.ini with paths moved into $dir (see the header)
  cat >"$dir/keystone-uwsgi.ini" <<EOF
[uwsgi]
buffer-size = 65535
rem-header = Content-Length
master = true
thunder-lock = true
plugins = python3
lazy-apps = true
paste-logger = true
no-orphans = true
die-on-term = true
enable-threads = true
processes = ${KS_PROCESSES:-2}
threads = ${KS_THREADS:-32}
listen = 100
logto = $dir/log/keystone.log
name = keystone-api
uid = $user
gid = $group
chdir = $dir
wsgi-file = /usr/bin/keystone-wsgi-public
EOF

  # keystone-manage *_setup switch to the keystone user before writing keys and logs
  chown -R "$user:$group" "$dir"
  _ks_manage fernet_setup --keystone-user "$user" --keystone-group "$group" || return 1
  _ks_manage credential_setup --keystone-user "$user" --keystone-group "$group" || return 1
  _ks_manage db_sync || return 1
  sqlite3 "$dir/keystone.db" 'PRAGMA journal_mode=WAL;' >/dev/null || return 1
  _ks_manage bootstrap --bootstrap-username "$KS_ADMIN_USER" \
    --bootstrap-password "$KS_ADMIN_PASSWORD" --bootstrap-project-name "$KS_ADMIN_PROJECT" \
    --bootstrap-role-name admin --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KS_URL" --bootstrap-internal-url "$KS_URL" \
    --bootstrap-public-url "$KS_URL" || return 1
  chown -R "$user:$group" "$dir"

  OS_KEYSTONE_CONFIG_FILES="$dir/keystone.conf" \
    "$uwsgi" --http-socket "127.0.0.1:$port" --ini "$dir/keystone-uwsgi.ini" \
    </dev/null >>"$dir/log/uwsgi-stdout.log" 2>&1 &
  KS_PID=$!
  export KS_PID
  bench_on_exit keystone_stop
  if ! wait_http "$KS_URL" 90; then
    bench_log "keystone_start: keystone did not come up; log:"; tail -30 "$dir/log/keystone.log" >&2
    keystone_stop
    return 1
  fi
}

keystone_stop() {
  [[ -n "${KS_PID:-}" ]] || return 0
  # die-on-term: the master exits on TERM and takes its workers along (no-orphans)
  bench_stop_pid "$KS_PID" 30
  KS_PID=""
}

keystone_token() {
  local url="${1:-$KS_URL}" user="${2:-${KS_ADMIN_USER:-admin}}" pass="${3:-$KS_ADMIN_PASSWORD}"
  local project="${4:-${KS_ADMIN_PROJECT:-admin}}" body hdr code
  body="$(BT_USER="$user" BT_PASS="$pass" BT_PROJECT="$project" "$BENCH_PYTHON" -c '
import json, os
print(json.dumps({"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": os.environ["BT_USER"], "domain": {"id": "default"},
        "password": os.environ["BT_PASS"]}}},
    "scope": {"project": {"name": os.environ["BT_PROJECT"], "domain": {"id": "default"}}}}}))')"
  hdr="$(mktemp "$BENCH_TMP/hdr.XXXXXX")"
  code="$(curl -s -o /dev/null -D "$hdr" -w '%{http_code}' --max-time 30 \
    -H 'Content-Type: application/json' --data-binary @- "$url/auth/tokens" <<<"$body")" || true
  if [[ "$code" != 201 ]]; then
    bench_log "keystone_token: POST $url/auth/tokens answered ${code:-nothing}"; rm -f "$hdr"; return 1
  fi
  awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }' "$hdr"
  rm -f "$hdr"
}

keystone_app_cred() {
  local url="${1:-$KS_URL}" token="${2:-}" user_id out code
  [[ -n "$token" ]] || token="$(keystone_token "$url")" || return 1
  out="$(mktemp "$BENCH_TMP/appcred.XXXXXX")"
  code="$(curl -s -o "$out" -w '%{http_code}' --max-time 30 -H "X-Auth-Token: $token" \
    -H "X-Subject-Token: $token" "$url/auth/tokens")" || true
  [[ "$code" == 200 ]] || { bench_log "keystone_app_cred: token lookup answered ${code:-nothing}"; rm -f "$out"; return 1; }
  user_id="$("$BENCH_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"]["user"]["id"])' "$out")"
  code="$(curl -s -o "$out" -w '%{http_code}' --max-time 30 -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/json' \
    --data-binary "{\"application_credential\": {\"name\": \"bench-$$-$RANDOM$RANDOM\"}}" \
    "$url/users/$user_id/application_credentials")" || true
  if [[ "$code" != 201 ]]; then
    bench_log "keystone_app_cred: create answered ${code:-nothing}: $(head -c 300 "$out")"; rm -f "$out"; return 1
  fi
  "$BENCH_PYTHON" -c 'import json, sys
a = json.load(open(sys.argv[1]))["application_credential"]; print(a["id"], a["secret"])' "$out"
  rm -f "$out"
}
