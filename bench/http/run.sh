#!/usr/bin/env bash
# bench/http: raw HTTP rate of Ciel beside Debian's nginx, in the same run.
#   Ciel  GET /healthz             (a small generated JSON response)
#   Ciel  GET /assets/file4k       (a 4096-byte static file, sendfile)
#   nginx GET /file4k              (the same 4096-byte file, Debian's default settings)
# Both servers log every request to a file. wrk at concurrency $CONC for $DURATION, $REPEAT
# rounds alternating the servers; the medians and the ratios Ciel/nginx are printed last.
# Needs build/ciel (bash scripts/build.sh release). Self-cleaning; about REPEAT*3*DURATION.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/nginx.sh
source "$here/../lib/nginx.sh"

CONC="${CONC:-64}"
DURATION="${DURATION:-10s}"
REPEAT="${REPEAT:-3}"
CIEL="${CIEL_BINARY:-$root/build/ciel}"
[[ -x "$CIEL" ]] || bench_die "no $CIEL: run bash scripts/build.sh release first"
bench_install_packages

www="$(bench_tmpdir www)"
chmod 755 "$www"
mkdir -p "$www/assets"
head -c 4096 /dev/urandom >"$www/file4k"
cp "$www/file4k" "$www/assets/file4k"
chmod 644 "$www/file4k" "$www/assets/file4k"

nginx_start "$www"

data="$(bench_tmpdir ciel)"
port="$(free_port)"
"$CIEL" serve --data-dir "$data" --listen "127.0.0.1:$port" --set web.root="$www" >"$data.out" 2>&1 &
ciel_pid=$!
bench_on_exit "bench_stop_pid $ciel_pid"
CIEL_URL="http://127.0.0.1:$port"
wait_http "$CIEL_URL/healthz" 30 || bench_die "ciel did not start: $(cat "$data.out")"
cmp -s <(curl -s "$CIEL_URL/assets/file4k") "$www/file4k" || bench_die "ciel does not serve the 4 KiB file"
cmp -s <(curl -s "$NGINX_URL/file4k") "$www/file4k" || bench_die "nginx does not serve the 4 KiB file"

declare -A rps p99
measure() {  # measure KEY URL
  WRK_NAME="http.$1" WRK_QUIET=1 wrk_run "$2" "$CONC" "$DURATION"
  ((WRK_NON2XX == 0)) || bench_die "$1: $WRK_NON2XX error responses"
  wrk_result
  rps[$1]+="$WRK_RPS "
  p99[$1]+="$WRK_P99_MS "
}

bench_warn_if_busy
for ((i = 1; i <= REPEAT; i++)); do
  measure nginx_4k "$NGINX_URL/file4k"
  measure ciel_4k "$CIEL_URL/assets/file4k"
  measure ciel_healthz "$CIEL_URL/healthz"
done

for k in nginx_4k ciel_4k ciel_healthz; do
  # shellcheck disable=SC2086
  printf 'MEDIAN %-13s rps=%s p99_ms=%s\n' "$k" "$(median ${rps[$k]})" "$(median ${p99[$k]})"
done
# shellcheck disable=SC2086
n="$(median ${rps[nginx_4k]})"
# shellcheck disable=SC2086
echo "RATIO ciel_4k/nginx_4k=$(ratio "$(median ${rps[ciel_4k]})" "$n") ciel_healthz/nginx_4k=$(ratio "$(median ${rps[ciel_healthz]})" "$n")"
echo "RESULT name=http.rss.ciel rss_kb=$(proc_tree_rss_kb "$ciel_pid")"
echo "RESULT name=http.rss.nginx rss_kb=$(proc_tree_rss_kb "$NGINX_PID")"
