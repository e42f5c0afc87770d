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

# shellcheck source=bench/identity/measure.sh
source "$here/measure.sh"

# shellcheck disable=SC2119 # default port
keystone_start
rss_idle="$(proc_tree_rss_kb "$KS_PID")"
bench_warn_if_busy
identity_measure keystone "$KS_URL" "$KS_ADMIN_USER" "$KS_ADMIN_PASSWORD" "$KS_ADMIN_PROJECT"
echo "RESULT name=identity.rss.keystone rss_kb=$(proc_tree_rss_kb "$KS_PID") rss_kb_idle=$rss_idle processes=$(proc_tree_pids "$KS_PID" | wc -l)"
keystone_stop
