#!/usr/bin/env bash
# Raw HTTP peer smoke: nginx serving one 4096-byte static file, wrk at concurrency 64 for 10 s.
# Prints RESULT lines only (see bench/lib/common.sh). Self-cleaning; bounded (~30 s).
#
# The measured side is http_measure SERVER URL: it knows nothing about nginx, so Ciel's run is
# http_measure ciel "$CIEL_URL/<path of a 4096-byte object>" beside the nginx one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/nginx.sh
source "$here/../lib/nginx.sh"

CONC="${CONC:-64}"
DURATION="${DURATION:-10s}"

# http_measure SERVER URL: GET URL at $CONC connections for $DURATION; prints a RESULT line.
http_measure() {
  local name="http.get_4k.$1" url="$2" code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url")" || true
  [[ "$code" == 200 ]] || bench_die "$name: GET $url answered $code, not 200"
  WRK_NAME="$name" wrk_run "$url" "$CONC" "$DURATION"
}

www="$(bench_tmpdir www)"
chmod 755 "$www"
head -c 4096 /dev/urandom >"$www/file4k"
chmod 644 "$www/file4k"

nginx_start "$www"
bench_warn_if_busy
http_measure nginx "$NGINX_URL/file4k"
echo "RESULT name=http.rss.nginx rss_kb=$(proc_tree_rss_kb "$NGINX_PID")"
nginx_stop
