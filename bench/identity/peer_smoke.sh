#!/usr/bin/env bash
# Identity peer smoke: Debian's Keystone (uwsgi, as Debian runs it, in a private dir), measured with
# wrk at concurrency 16 for 10 s on
#   token_validate          GET  /v3/auth/tokens  (X-Auth-Token + X-Subject-Token)
#   token_issue_password    POST /v3/auth/tokens  password method, project scope
#   token_issue_app_cred    POST /v3/auth/tokens  application_credential method
# plus the RSS of Keystone's process tree. Prints RESULT lines only (see bench/lib/common.sh).
# Self-cleaning; bounded (about a minute).
#
# The measured side is identity_measure SERVER URL USER PASSWORD PROJECT: it speaks only the
# Keystone v3 API, so Ciel's run is identity_measure ciel "$CIEL_URL/v3" admin "$pw" admin.
#
# Extra RESULT fields: ok = responses with status < 400; sock_read_excess = read errors beyond
# one per response. Debian's uwsgi config strips Content-Length (rem-header) and closes every
# connection, so wrk reads each body to EOF and logs one read error per completed response:
# for such a server sock_read ~ requests is expected, and only the excess is a real failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/keystone.sh
source "$here/../lib/keystone.sh"

CONC="${CONC:-16}"
DURATION="${DURATION:-10s}"

# _identity_check NAME EXPECTED_CODE curl-args...: one request by curl must answer EXPECTED_CODE
_identity_check() {
  local name="$1" want="$2" code
  shift 2
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@")" || true
  [[ "$code" == "$want" ]] || bench_die "$name: a single request answered ${code:-nothing}, not $want"
}

# _identity_wrk CASE SERVER URL SCRIPT
_identity_wrk() {
  local case="$1" server="$2" url="$3" script="$4" excess
  WRK_QUIET=1 WRK_NAME="identity.$case.$server" wrk_run "$url/auth/tokens" "$CONC" "$DURATION" \
    -s "$here/$script"
  excess=$((WRK_SOCK_READ - WRK_REQUESTS))
  ((excess < 0)) && excess=0
  wrk_result "ok=$((WRK_REQUESTS - WRK_NON2XX))" "sock_read_excess=$excess"
}

# identity_measure SERVER URL USER PASSWORD PROJECT   (URL: the /v3 endpoint)
identity_measure() {
  local server="$1" url="$2" user="$3" pass="$4" project="$5" token cred
  token="$(keystone_token "$url" "$user" "$pass" "$project")" || bench_die "$server: no token"
  cred="$(keystone_app_cred "$url" "$token")" || bench_die "$server: no application credential"
  export BENCH_TOKEN="$token" BENCH_USER="$user" BENCH_PASSWORD="$pass" BENCH_PROJECT="$project"
  read -r BENCH_APP_CRED_ID BENCH_APP_CRED_SECRET <<<"$cred"
  export BENCH_APP_CRED_ID BENCH_APP_CRED_SECRET

  _identity_check "$server validate" 200 -H "X-Auth-Token: $token" -H "X-Subject-Token: $token" \
    "$url/auth/tokens"
  _identity_check "$server app cred" 201 -H 'Content-Type: application/json' --data-binary \
    "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"], \"application_credential\": {\"id\": \"$BENCH_APP_CRED_ID\", \"secret\": \"$BENCH_APP_CRED_SECRET\"}}}}" \
    "$url/auth/tokens"

  _identity_wrk token_validate "$server" "$url" token_validate.lua
  _identity_wrk token_issue_password "$server" "$url" token_issue_password.lua
  _identity_wrk token_issue_app_cred "$server" "$url" token_issue_app_cred.lua
}

# shellcheck disable=SC2119 # default port
keystone_start
rss_idle="$(proc_tree_rss_kb "$KS_PID")"
bench_warn_if_busy
identity_measure keystone "$KS_URL" "$KS_ADMIN_USER" "$KS_ADMIN_PASSWORD" "$KS_ADMIN_PROJECT"
echo "RESULT name=identity.rss.keystone rss_kb=$(proc_tree_rss_kb "$KS_PID") rss_kb_idle=$rss_idle processes=$(proc_tree_pids "$KS_PID" | wc -l)"
keystone_stop
