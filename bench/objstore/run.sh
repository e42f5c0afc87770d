#!/usr/bin/env bash
# bench/objstore: Ciel's Swift API beside Debian's OpenStack Swift (bench/lib/swift.sh), in the
# same run, with the same clients and parameters, $ROUNDS rounds alternating the systems:
#   1. PUT 4 KiB objects with unique names   wrk put4k.lua, concurrency $CONCS, $DURATION each
#   2. GET 4 KiB objects, random pick of $GET_OBJECTS pre-uploaded ones   wrk get4k.lua
#   3. one 1 GiB PUT and one 1 GiB GET with curl (GET to /dev/null); ETag checked against MD5
#   4. a full listing of a container of $LIST_OBJECTS objects, ?format=json&limit=N, by curl
#      ($LIST_REQUESTS requests a round)
#   5. the machine's limits, in each round beside scenario 3: disk sequential write with
#      fdatasync (dd bs=1M count=1024 conv=fdatasync) and loopback TCP (loopback.py, 2 GiB)
# Prints RESULT lines while it runs, then one table per scenario with the medians, the ratios
# (each labelled so that > 1 means Ciel is better), the targets (met / not met) and both systems'
# memory. SYSTEMS="ciel" or SYSTEMS="swift" runs one side only.
# Knobs (environment, defaults): ROUNDS 3, DURATION 10s, SYSTEMS "ciel swift", CONCS "16 64",
# GET_OBJECTS 1000, LIST_OBJECTS 10000, LIST_REQUESTS 5, BIG_BYTES 1 GiB, LOOPBACK_BYTES 2 GiB,
# SWIFT_WORKERS 2 (bench/lib/swift.sh), CIEL_BINARY build/ciel, WRK_THREADS nproc.
# Needs build/ciel (bash scripts/build.sh release). Self-cleaning. With the defaults 10 to 15
# minutes on 2 cores: ROUNDS * (8 * DURATION + about a minute of 1 GiB transfers), plus the
# uploads of the GET and listing objects (Swift takes about two minutes for the 10,000).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/swift.sh
source "$here/../lib/swift.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
SYSTEMS="${SYSTEMS:-ciel swift}"
CONCS="${CONCS:-16 64}"
GET_OBJECTS="${GET_OBJECTS:-1000}"
LIST_OBJECTS="${LIST_OBJECTS:-10000}"
LIST_REQUESTS="${LIST_REQUESTS:-5}"
BIG_BYTES="${BIG_BYTES:-1073741824}"          # 1 GiB
LOOPBACK_BYTES="${LOOPBACK_BYTES:-2147483648}" # 2 GiB
CIEL="${CIEL_BINARY:-$root/build/ciel}"
for s in $SYSTEMS; do
  [[ "$s" == ciel || "$s" == swift ]] || bench_die "SYSTEMS: '$s' is neither ciel nor swift"
done
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }
if has ciel; then [[ -x "$CIEL" ]] || bench_die "no $CIEL: run bash scripts/build.sh release first"; fi
bench_install_packages

declare -A PID TOKEN STORAGE RSS_MAX
declare -A OPS P99 MBS LIST_MS   # "value value ..." per key, one value a round
PHYS_DISK="" PHYS_LOOP=""

# --- the systems -----------------------------------------------------------------------------
if has swift; then
  swift_start
  PID[swift]="$SWIFT_PIDS"
fi
if has ciel; then
  data="$(bench_tmpdir ciel)"
  port="$(free_port)"
  "$CIEL" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$data.out" 2>&1 &
  PID[ciel]=$!
  bench_on_exit "bench_stop_pid ${PID[ciel]} 30"
  CIEL_URL="http://127.0.0.1:$port"
  wait_http "$CIEL_URL/healthz" 60 || bench_die "ciel did not start: $(cat "$data.out")"
  # shellcheck disable=SC1091
  (source "$data/openrc" && printf '%s %s %s\n' "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME") >"$data.creds"
  read -r CIEL_USER CIEL_PASS CIEL_PROJECT <"$data.creds"
  CIEL_STORAGE_TEMPLATE="$("$BENCH_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["object-store"])' "$data/endpoints.json")" ||
    bench_die "ciel: no object-store entry in $data/endpoints.json"
fi

# auth SYS: a fresh token and the storage URL (one per scenario, so no token expires mid-run)
auth() {
  local t p
  case "$1" in
    ciel)
      read -r t p < <(swift_v3_token "$CIEL_URL/v3" "$CIEL_USER" "$CIEL_PASS" "$CIEL_PROJECT") ||
        bench_die "ciel: no token"
      TOKEN[ciel]="$t"
      STORAGE[ciel]="${CIEL_STORAGE_TEMPLATE/<project_id>/$p}" ;;
    swift)
      read -r t p < <(swift_token) || bench_die "swift: no token"
      TOKEN[swift]="$t"
      STORAGE[swift]="$p" ;;
  esac
}

# tree_kb SYS FIELD: summed FIELD (VmRSS, VmHWM) of all of SYS's processes (Swift: four servers
# with their workers, and memcached)
tree_kb() {
  local total=0 root p kb
  for root in ${PID[$1]}; do
    for p in $(proc_tree_pids "$root"); do
      kb="$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)"
      total=$((total + ${kb:-0}))
    done
  done
  echo "$total"
}
rss_sample() {  # after each measurement: remember the largest RSS seen
  local kb
  kb="$(tree_kb "$1" VmRSS)"
  ((kb > ${RSS_MAX[$1]:-0})) && RSS_MAX[$1]="$kb"
  return 0
}

# call SYS EXPECT_REGEX CURL_ARGS... : one request; on an unexpected status, log the exact
# request and response (head and the start of the body) and return 1
CALL_HDR="$BENCH_TMP/call.hdr" CALL_BODY="$BENCH_TMP/call.body"
call() {
  local sys="$1" want="$2" code
  shift 2
  code="$(curl -s -o "$CALL_BODY" -D "$CALL_HDR" -w '%{http_code}' --max-time 120 \
    -H "X-Auth-Token: ${TOKEN[$sys]}" -H 'Expect:' "$@")" || true
  [[ "$code" =~ ^($want)$ ]] && return 0
  bench_log "$sys: unexpected status ${code:-none} (wanted $want) for: curl $*"
  bench_log "  response head:"; sed 's/^/    /' "$CALL_HDR" >&2
  bench_log "  response body (first 500 bytes):"; head -c 500 "$CALL_BODY" | sed 's/^/    /' >&2; echo >&2
  return 1
}
etag_of() { awk 'tolower($1) == "etag:" { sub(/\r$/, "", $2); gsub(/"/, "", $2); print $2 }' "$CALL_HDR"; }

# --- checks --------------------------------------------------------------------------------
small="$(bench_tmpdir small)/4k"
head -c 4096 /dev/urandom >"$small"
small_md5="$(md5sum "$small" | cut -d' ' -f1)"
for sys in $SYSTEMS; do
  auth "$sys"
  u="${STORAGE[$sys]}"
  for c in bench-put bench-get bench-list bench-big; do call "$sys" '201|202' -X PUT "$u/$c" || bench_die "$sys: cannot create container $c"; done
  call "$sys" 201 -X PUT -H 'Content-Type: application/octet-stream' -T "$small" "$u/bench-get/check" ||
    bench_die "$sys: cannot PUT a 4 KiB object"
  [[ "$(etag_of)" == "$small_md5" ]] || bench_die "$sys: PUT ETag $(etag_of) is not the MD5 $small_md5"
  call "$sys" 200 "$u/bench-get/check" || bench_die "$sys: cannot GET the 4 KiB object"
  cmp -s "$CALL_BODY" "$small" || bench_die "$sys: GET returned other bytes than were PUT"
  call "$sys" 204 -X DELETE "$u/bench-get/check" || bench_die "$sys: cannot DELETE the 4 KiB object"
done

ciel_default() {  # ciel_default KEY: the default of a setting, from ciel serve --help
  "$CIEL" serve --help | awk -v k="  $1 (" 'index($0, k) == 1 && match($0, /default "[^"]*"/) {
    print substr($0, RSTART + 9, RLENGTH - 10) }'
}
{
  echo "INFO machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
  if has ciel; then
    echo "INFO ciel: $CIEL ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), defaults: server.threads=$(ciel_default server.threads) (0 = one I/O thread per core), server.blocking_threads=$(ciel_default server.blocking_threads), log.access=$(ciel_default log.access)"
  fi
  if has swift; then
    echo "INFO swift: OpenStack Swift $(swift_version) (Debian), proxy + account + container + object servers with workers=$SWIFT_WORKERS each (this machine has $(nproc) cores), tempauth, memcached, 1 replica, part power ${SWIFT_PART_POWER:-10}, fsync as shipped, proxy logs each request"
  fi
  echo "INFO data: $BENCH_TMP on $(df --output=source "$BENCH_TMP" | tail -1) ($(findmnt -no FSTYPE -T "$BENCH_TMP" 2>/dev/null || echo '?')), both systems"
  echo "INFO rounds=$ROUNDS duration=$DURATION concurrency=$CONCS wrk threads=${WRK_THREADS:-$(nproc)} systems=$SYSTEMS"
}

bench_warn_if_busy

# --- 1 and 2: small objects ------------------------------------------------------------------------
# wrk_measure SYS CASE CONC ROUND URL SCRIPT: one wrk run; ops/s counts successful requests only
wrk_measure() {
  local sys="$1" case="$2" conc="$3" round="$4" url="$5" script="$6" ok_rps key
  WRK_QUIET=1 WRK_NAME="objstore.$case.c$conc.$sys" wrk_run "$url" "$conc" "$DURATION" -s "$here/$script" ||
    bench_die "$sys: wrk failed for $case"
  ok_rps="$(awk -v r="$WRK_RPS" -v n="$WRK_REQUESTS" -v e="$WRK_NON2XX" 'BEGIN { printf "%.2f\n", (n > 0) ? r * (n - e) / n : 0 }')"
  wrk_result "ok_rps=$ok_rps" "round=$round"
  key="$case.$conc.$sys"
  OPS[$key]+="$ok_rps "
  P99[$key]+="$WRK_P99_MS "
  if ((WRK_NON2XX > 0 || WRK_SOCK_CONNECT + WRK_SOCK_READ + WRK_SOCK_WRITE + WRK_SOCK_TIMEOUT > 0)); then
    bench_log "$sys: $case c$conc: $WRK_NON2XX error responses, socket errors connect $WRK_SOCK_CONNECT read $WRK_SOCK_READ write $WRK_SOCK_WRITE timeout $WRK_SOCK_TIMEOUT; one request by curl:"
    if [[ "$case" == put4k ]]; then
      call "$sys" 201 -X PUT -H 'Content-Type: application/octet-stream' -T "$small" "$url/repro-$RANDOM$RANDOM" || true
    else
      call "$sys" 200 "$url/get-0" || true
    fi
  fi
  rss_sample "$sys"
}

for sys in $SYSTEMS; do
  auth "$sys"
  secs="$(swift_put_many "${STORAGE[$sys]}/bench-get/get-" "$GET_OBJECTS" "$small" "${TOKEN[$sys]}" 16)" ||
    bench_die "$sys: cannot upload the $GET_OBJECTS objects of the GET scenario"
  echo "RESULT name=objstore.populate_get.$sys objects=$GET_OBJECTS seconds=$secs parallel=16"
done

export BENCH_TOKEN BENCH_RUN_ID BENCH_OBJECTS="$GET_OBJECTS" BENCH_PREFIX="get-"
for ((r = 1; r <= ROUNDS; r++)); do
  for conc in $CONCS; do
    for sys in $SYSTEMS; do
      auth "$sys"
      BENCH_TOKEN="${TOKEN[$sys]}"
      BENCH_RUN_ID="$(printf '%04x%04x' $RANDOM $RANDOM)-r$r-c$conc"
      wrk_measure "$sys" put4k "$conc" "$r" "${STORAGE[$sys]}/bench-put" put4k.lua
    done
  done
done
for ((r = 1; r <= ROUNDS; r++)); do
  for conc in $CONCS; do
    for sys in $SYSTEMS; do
      auth "$sys"
      BENCH_TOKEN="${TOKEN[$sys]}"
      wrk_measure "$sys" get4k "$conc" "$r" "${STORAGE[$sys]}/bench-get" get4k.lua
    done
  done
done

# --- 3 and 5: 1 GiB transfers beside the disk and loopback limits ---------------------------------
big_dir="$(bench_tmpdir big)"
big="$big_dir/big"
head -c "$BIG_BYTES" /dev/urandom >"$big"
big_md5="$(md5sum "$big" | cut -d' ' -f1)"
declare -A ETAG_OK
size_name() { if (($1 % (1 << 30) == 0)); then echo "$(($1 >> 30)) GiB"; else echo "$(($1 >> 20)) MiB"; fi; }
BIG_NAME="$(size_name "$BIG_BYTES")"
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f\n", (s > 0) ? b / s / 1e6 : 0 }'; }

phys_measure() {  # phys_measure ROUND: dd with fdatasync, then loopback TCP
  local out bytes secs v
  out="$(dd if=/dev/zero of="$big_dir/dd" bs=1M count=1024 conv=fdatasync 2>&1)" || bench_die "dd failed: $out"
  rm -f "$big_dir/dd"
  # "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 2.1 s, 511 MB/s"
  bytes="$(awk '/copied/ { print $1 }' <<<"$out")"
  secs="$(awk -F', ' '/copied/ { split($(NF - 1), a, " "); print a[1] }' <<<"$out")"
  v="$(mbs "$bytes" "$secs")"
  PHYS_DISK+="$v "
  echo "RESULT name=objstore.disk_fdatasync mb_s=$v bytes=$bytes seconds=$secs round=$1"
  read -r bytes secs < <("$BENCH_PYTHON" "$here/loopback.py" "$LOOPBACK_BYTES") || bench_die "loopback.py failed"
  v="$(mbs "$bytes" "$secs")"
  PHYS_LOOP+="$v "
  echo "RESULT name=objstore.loopback_tcp mb_s=$v bytes=$bytes seconds=$secs round=$1"
}

big_measure() {  # big_measure SYS ROUND: PUT then GET the 1 GiB object
  local sys="$1" round="$2" url out code secs size etag v ok=1
  url="${STORAGE[$sys]}/bench-big/big"
  out="$(curl -s -o "$CALL_BODY" -D "$CALL_HDR" -w '%{http_code} %{time_total}' --max-time 600 \
    -H "X-Auth-Token: ${TOKEN[$sys]}" -H 'Expect:' -H 'Content-Type: application/octet-stream' \
    -T "$big" "$url")" || true
  read -r code secs <<<"$out"
  if [[ "$code" != 201 ]]; then
    bench_log "$sys: 1 GiB PUT answered ${code:-nothing}: curl -X PUT -T <1 GiB file> $url"
    sed 's/^/    /' "$CALL_HDR" >&2; head -c 500 "$CALL_BODY" >&2; echo >&2
    bench_die "$sys: 1 GiB PUT failed"
  fi
  etag="$(etag_of)"
  [[ "$etag" == "$big_md5" ]] || { ok=0; bench_log "$sys: 1 GiB PUT ETag $etag is not the file's MD5 $big_md5"; }
  v="$(mbs "$BIG_BYTES" "$secs")"
  MBS[put.$sys]+="$v "
  echo "RESULT name=objstore.put1g.$sys mb_s=$v bytes=$BIG_BYTES seconds=$secs etag_ok=$ok round=$round"
  rss_sample "$sys"

  call "$sys" 200 -I "$url" || bench_die "$sys: HEAD of the 1 GiB object failed"
  etag="$(etag_of)"
  [[ "$etag" == "$big_md5" ]] || { ok=0; bench_log "$sys: 1 GiB HEAD ETag $etag is not the file's MD5 $big_md5"; }

  out="$(curl -s -o /dev/null -D "$CALL_HDR" -w '%{http_code} %{time_total} %{size_download}' --max-time 600 \
    -H "X-Auth-Token: ${TOKEN[$sys]}" "$url")" || true
  read -r code secs size <<<"$out"
  [[ "$code" == 200 && "$size" == "$BIG_BYTES" ]] || {
    bench_log "$sys: 1 GiB GET answered ${code:-nothing} with $size bytes: curl $url"
    sed 's/^/    /' "$CALL_HDR" >&2
    bench_die "$sys: 1 GiB GET failed"
  }
  etag="$(etag_of)"
  [[ "$etag" == "$big_md5" ]] || { ok=0; bench_log "$sys: 1 GiB GET ETag $etag is not the file's MD5 $big_md5"; }
  v="$(mbs "$BIG_BYTES" "$secs")"
  MBS[get.$sys]+="$v "
  echo "RESULT name=objstore.get1g.$sys mb_s=$v bytes=$BIG_BYTES seconds=$secs etag_ok=$ok round=$round"
  ((ok)) && ETAG_OK[$sys]="${ETAG_OK[$sys]:-yes}" || ETAG_OK[$sys]=no
  rss_sample "$sys"
}

for ((r = 1; r <= ROUNDS; r++)); do
  phys_measure "$r"
  for sys in $SYSTEMS; do
    auth "$sys"
    big_measure "$sys" "$r"
  done
done
rm -f "$big"

# --- 4: listing ------------------------------------------------------------------------------------
for sys in $SYSTEMS; do
  auth "$sys"
  secs="$(swift_put_many "${STORAGE[$sys]}/bench-list/obj-" "$LIST_OBJECTS" "$small" "${TOKEN[$sys]}" 16)" ||
    bench_die "$sys: cannot upload the $LIST_OBJECTS objects of the listing scenario"
  echo "RESULT name=objstore.populate_list.$sys objects=$LIST_OBJECTS seconds=$secs parallel=16"
  call "$sys" 200 "${STORAGE[$sys]}/bench-list?format=json&limit=$LIST_OBJECTS" || bench_die "$sys: listing failed"
  n="$("$BENCH_PYTHON" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$CALL_BODY")"
  ((n == LIST_OBJECTS)) || bench_log "$sys: the listing has $n objects, not $LIST_OBJECTS"
done
for ((r = 1; r <= ROUNDS; r++)); do
  for sys in $SYSTEMS; do
    auth "$sys"
    times=""
    for ((i = 0; i < LIST_REQUESTS; i++)); do
      out="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 60 -H "X-Auth-Token: ${TOKEN[$sys]}" \
        "${STORAGE[$sys]}/bench-list?format=json&limit=$LIST_OBJECTS")" || true
      read -r code secs <<<"$out"
      [[ "$code" == 200 ]] || bench_die "$sys: listing answered ${code:-nothing}"
      times+="$(awk -v s="$secs" 'BEGIN { printf "%.3f", s * 1000 }') "
    done
    # shellcheck disable=SC2086
    v="$(median $times)"
    LIST_MS[$sys]+="$v "
    echo "RESULT name=objstore.list10k.$sys median_ms=$v requests_ms=\"${times% }\" objects=$LIST_OBJECTS round=$r"
    rss_sample "$sys"
  done
done

# --- tables ------------------------------------------------------------------------------------------
# shellcheck disable=SC2086 # word splitting wanted
med() { if [[ -n "${1// /}" ]]; then median $1; fi; }   # median of a "v v v" list, empty if none
f() { [[ -n "$2" && "$2" != nan ]] && printf "%.${1}f" "$2" || printf -- '-'; }   # f DECIMALS VALUE
mark() {  # mark VALUE THRESHOLD: "met"/"not met" for VALUE >= THRESHOLD
  [[ -n "$1" && "$1" != nan ]] || { printf -- '-'; return; }
  awk -v v="$1" -v t="$2" 'BEGIN { printf "%s", (v + 0 >= t + 0) ? "met" : "not met" }'
}

echo
echo "## Object storage: Ciel beside OpenStack Swift $(has swift && swift_version || echo '(not run)')"
targets=""
echo "$ROUNDS round(s) alternating the systems, medians; ratios are labelled so that > 1 means Ciel is better"
for case in put4k get4k; do
  echo
  if [[ "$case" == put4k ]]; then echo "### 1. 4 KiB PUT, unique names (wrk, $(_bench_seconds "$DURATION") s a run)"
  else echo "### 2. 4 KiB GET, random pick of $GET_OBJECTS objects (wrk, $(_bench_seconds "$DURATION") s a run)"; fi
  echo "| concurrency | Ciel ops/s | Swift ops/s | Ciel/Swift | target ≥ 10× | Ciel p99 ms | Swift p99 ms | Swift/Ciel p99 |"
  echo "|---|---|---|---|---|---|---|---|"
  for conc in $CONCS; do
    co="$(med "${OPS[$case.$conc.ciel]:-}")"; so="$(med "${OPS[$case.$conc.swift]:-}")"
    cp="$(med "${P99[$case.$conc.ciel]:-}")"; sp="$(med "${P99[$case.$conc.swift]:-}")"
    ro="$(ratio "$co" "$so")"; rp="$(ratio "$sp" "$cp")"
    echo "| $conc | $(f 0 "$co") | $(f 0 "$so") | $(f 2 "$ro") | $(mark "$ro" 10) | $(f 2 "$cp") | $(f 2 "$sp") | $(f 2 "$rp") |"
    targets+="TARGET small_ops.$case.c$conc ciel/swift=$ro need=10 status=$(mark "$ro" 10 | tr " " _)"$'\n'
  done
done

disk="$(med "$PHYS_DISK")"; loop="$(med "$PHYS_LOOP")"
echo
echo "### 3. $BIG_NAME object, one curl transfer (GET to /dev/null), MB/s = 10^6 bytes/s"
echo "| transfer | Ciel MB/s | Swift MB/s | Ciel/Swift | limit MB/s | Ciel/limit | Swift/limit | target |"
echo "|---|---|---|---|---|---|---|---|"
for d in put get; do
  c="$(med "${MBS[$d.ciel]:-}")"; s="$(med "${MBS[$d.swift]:-}")"
  if [[ "$d" == put ]]; then lim="$disk" need=0.8 lname="disk fdatasync"; else lim="$loop" need=0.6 lname="loopback TCP"; fi
  rl="$(ratio "$c" "$lim")"
  echo "| $BIG_NAME ${d^^} | $(f 0 "$c") | $(f 0 "$s") | $(f 2 "$(ratio "$c" "$s")") | $lname $(f 0 "$lim") | $(f 3 "$rl") | $(f 3 "$(ratio "$s" "$lim")") | Ciel ≥ $need × limit: $(mark "$rl" "$need") |"
  targets+="TARGET ${d}1g ciel/limit=$rl need=$need status=$(mark "$rl" "$need" | tr " " _)"$'\n'
done
echo "ETag of the $BIG_NAME object = MD5 of the file (PUT, HEAD, GET): Ciel ${ETAG_OK[ciel]:--}, Swift ${ETAG_OK[swift]:--}"

echo
echo "### 4. Listing a container of $LIST_OBJECTS objects (GET ?format=json&limit=$LIST_OBJECTS, curl, median of $LIST_REQUESTS requests a round)"
echo "| | Ciel ms | Swift ms | Swift/Ciel |"
echo "|---|---|---|---|"
c="$(med "${LIST_MS[ciel]:-}")"; s="$(med "${LIST_MS[swift]:-}")"
echo "| full listing | $(f 1 "$c") | $(f 1 "$s") | $(f 2 "$(ratio "$s" "$c")") |"

echo
echo "### 5. Physical limits of this machine (same run)"
echo "| limit | MB/s |"
echo "|---|---|"
echo "| disk sequential write, dd bs=1M count=1024 conv=fdatasync | $(f 0 "$disk") |"
echo "| loopback TCP, one stream of $(size_name "$LOOPBACK_BYTES") (python3 sockets) | $(f 0 "$loop") |"

echo
echo "### Memory"
echo "| | Ciel | Swift (4 servers × (1 + ${SWIFT_WORKERS:-2} workers) + memcached) |"
echo "|---|---|---|"
kib() { [[ -n "$1" && "$1" != 0 ]] && awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' || printf -- '-'; }
ch="" sh=""
has ciel && ch="$(tree_kb ciel VmHWM)"
has swift && sh="$(tree_kb swift VmHWM)"
echo "| peak RSS (largest sample, taken after each measurement) | $(kib "${RSS_MAX[ciel]:-}") | $(kib "${RSS_MAX[swift]:-}") |"
echo "| sum of the processes' peak RSS (VmHWM) at the end | $(kib "$ch") | $(kib "$sh") |"
for sys in $SYSTEMS; do
  echo "RESULT name=objstore.rss.$sys peak_rss_kb=${RSS_MAX[$sys]:-0} vmhwm_sum_kb=$(tree_kb "$sys" VmHWM) processes=$(for p in ${PID[$sys]}; do proc_tree_pids "$p"; done | wc -l)"
done
echo
printf '%s' "$targets"
