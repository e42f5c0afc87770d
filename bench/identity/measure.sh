# shellcheck shell=bash
# identity_measure SERVER URL USER PASSWORD PROJECT: the measured side of bench/identity, shared
# by peer_smoke.sh (Keystone alone) and run.sh (Ciel beside Keystone). Needs common.sh and
# keystone.sh (keystone_token, keystone_app_cred speak plain Keystone v3), $here and $CONC/$DURATION.

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

