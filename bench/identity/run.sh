#!/usr/bin/env bash
# bench/identity: Ciel's identity service beside Debian's Keystone (SQLite, Fernet tokens, uwsgi
# as Debian runs it), in the same run, at concurrency $CONC (16) for $DURATION each:
#   token_validate        GET  /v3/auth/tokens
#   token_issue_password  POST /v3/auth/tokens, password method, project scope
#   token_issue_app_cred  POST /v3/auth/tokens, application_credential method
# Each server runs alone while it is measured. Prints RESULT lines, the ratios Ciel/Keystone,
# Ciel's configured argon2id cost and both servers' RSS under load.
# Needs build/ciel (bash scripts/build.sh release). Self-cleaning; a few minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/keystone.sh
source "$here/../lib/keystone.sh"
# shellcheck source=bench/identity/measure.sh
source "$here/measure.sh"

CONC="${CONC:-16}"
DURATION="${DURATION:-10s}"
CIEL="${CIEL_BINARY:-$root/build/ciel}"
[[ -x "$CIEL" ]] || bench_die "no $CIEL: run bash scripts/build.sh release first"
bench_install_packages

declare -A rps
collect() {  # collect SERVER: remember the three rates just measured (from the RESULT lines)
  local line
  while read -r line; do
    echo "$line"
    if [[ "$line" =~ name=identity\.([a-z_]+)\.$1\ rps=([0-9.]+) ]]; then rps["${BASH_REMATCH[1]}.$1"]="${BASH_REMATCH[2]}"; fi
  done
}

# --- Keystone --------------------------------------------------------------------------------
# shellcheck disable=SC2119 # default port
keystone_start
bench_warn_if_busy
identity_measure keystone "$KS_URL" "$KS_ADMIN_USER" "$KS_ADMIN_PASSWORD" "$KS_ADMIN_PROJECT" > "$BENCH_TMP/keystone.out"
collect keystone < "$BENCH_TMP/keystone.out"
echo "RESULT name=identity.rss.keystone rss_kb=$(proc_tree_rss_kb "$KS_PID") processes=$(proc_tree_pids "$KS_PID" | wc -l)"
keystone_stop

# --- Ciel ------------------------------------------------------------------------------------
data="$(bench_tmpdir ciel)"
port="$(free_port)"
"$CIEL" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$data.out" 2>&1 &
ciel_pid=$!
bench_on_exit "bench_stop_pid $ciel_pid"
wait_http "http://127.0.0.1:$port/healthz" 60 || bench_die "ciel did not start: $(cat "$data.out")"
# shellcheck disable=SC1091
(source "$data/openrc" && printf '%s %s %s\n' "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME") > "$data.creds"
read -r user pass project < "$data.creds"
identity_measure ciel "http://127.0.0.1:$port/v3" "$user" "$pass" "$project" > "$BENCH_TMP/ciel.out"
collect ciel < "$BENCH_TMP/ciel.out"
echo "RESULT name=identity.rss.ciel rss_kb=$(proc_tree_rss_kb "$ciel_pid") peak_rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$ciel_pid/status")"
"$CIEL" serve --help | grep -A1 -E '^  identity\.argon2' | sed 's/^/ARGON2 /' || true

for c in token_validate token_issue_password token_issue_app_cred; do
  echo "RATIO $c ciel/keystone=$(ratio "${rps[$c.ciel]:-0}" "${rps[$c.keystone]:-0}")"
done
