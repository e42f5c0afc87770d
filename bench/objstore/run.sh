#!/usr/bin/env bash
# bench/objstore: Ciel's Swift API beside Debian's OpenStack Swift (bench/lib/swift.sh), and Ciel's
# S3 API beside Swift's own S3 API (the s3api middleware of the same Swift), in the same run, with
# the same clients and parameters, $ROUNDS rounds alternating the systems.
# Swift API (API=swift or both):
#   1. PUT 4 KiB objects with unique names   wrk put4k.lua, concurrency $CONCS, $DURATION each
#   2. GET 4 KiB objects, random pick of $GET_OBJECTS pre-uploaded ones   wrk get4k.lua
#   3. one 1 GiB PUT and one 1 GiB GET with curl (GET to /dev/null); ETag checked against MD5
#   4. a full listing of a container of $LIST_OBJECTS objects, ?format=json&limit=N, by curl
#      ($LIST_REQUESTS requests a round)
#   5. the machine's limits, in each round beside scenario 3: disk sequential write with
#      fdatasync (dd bs=1M count=1024 conv=fdatasync) and loopback TCP (loopback.py, 2 GiB)
# S3 API (API=s3 or both): Ciel's S3 listener (s3.listen, a free port) with an EC2 credential of
# the admin user, beside Swift's s3api (access key bench:bench, secret bench, via tempauth); every
# request goes on a SigV4 presigned URL (bench/lib/s3.sh, s3tool.py: host signed, UNSIGNED-PAYLOAD,
# valid one hour, path style, region us-east-1) made before the measurement, so no client signs
# while it is timed; buckets bench-s3-put, -get, -list and -big:
#   S3 1. PutObject 4 KiB, each key once   wrk s3put4k.lua over $S3_PUT_KEYS_PER_S * DURATION
#         presigned URLs per run, split between the wrk threads (a thread that runs out starts its
#         list again: overwrites, counted as reused_keys in the RESULT line)
#   S3 2. GetObject 4 KiB, random pick of $GET_OBJECTS pre-uploaded objects   wrk s3get4k.lua
#   S3 3. one 1 GiB PutObject and one GetObject with curl; ETag (PUT, HEAD, GET) = MD5 of the file
#   S3 4. full ListObjectsV2 listings of $LIST_OBJECTS objects, pages of $S3_LIST_MAX_KEYS (10
#         requests a listing with the defaults) on one keep-alive connection (s3tool.py list,
#         python3 http.client; each page presigned with its continuation-token), $LIST_REQUESTS
#         listings a round
# The S3 scenarios share the rounds of scenario 5 with the Swift ones.
# Prints RESULT lines while it runs, then one table per scenario with the medians, the ratios
# (each labelled so that > 1 means Ciel is better), the targets (met / not met) and both systems'
# memory: the Swift API section first (as with API=swift alone), then the S3 section.
# SYSTEMS="ciel" or SYSTEMS="swift" runs one side only.
# PEER=radosgw (API=s3 only) puts Ciel with its bytes in Ceph RADOS (store.blob_backend = rados,
# pool `ciel`, stripe_size $RADOS_STRIPE, default 4MiB as radosgw's rgw_obj_stripe_size) beside
# Debian's radosgw (bench/lib/radosgw.sh: beast frontend, S3 user bench), both over one private
# single-node Ceph cluster (scripts/ceph-test-cluster.sh: one monitor, one OSD on BlueStore in a
# sparse file, size-1 pools of 8 PGs each; radosgw creates its own pools), with the S3 scenarios
# 1 to 4 above; SYSTEMS "ciel radosgw". Ciel's metadata stays in SQLite in its data dir. Ciel
# runs with object.inline_max = $CIEL_INLINE_MAX (default 0): every object's bytes go to RADOS,
# as radosgw's do (Ciel's own default, 16KiB, keeps a 4 KiB object's bytes in its metadata row
# and the 4 KiB scenarios would not touch the cluster). The memory table adds the cluster's
# monitor and OSD, which serve both.
# Knobs (environment, defaults): API both (swift, s3 or both), ROUNDS 3, DURATION 10s,
# SYSTEMS "ciel swift", CONCS "16 64", GET_OBJECTS 1000, LIST_OBJECTS 10000, LIST_REQUESTS 5,
# BIG_BYTES 1 GiB, LOOPBACK_BYTES 2 GiB, S3_PUT_KEYS_PER_S 15000, S3_LIST_MAX_KEYS 1000,
# SWIFT_WORKERS 2 (bench/lib/swift.sh), CIEL_BINARY build/ciel, WRK_THREADS nproc.
# With API=s3 or both the Swift proxy runs with s3api before tempauth (SWIFT_S3API=1,
# bench/lib/swift.sh): Swift API requests pass through it too. API=swift keeps the pipeline
# without it.
# Needs build/ciel (bash scripts/build.sh release). Self-cleaning. With the defaults and
# API=swift 10 to 15 minutes on 2 cores: ROUNDS * (8 * DURATION + about a minute of 1 GiB
# transfers), plus the uploads of the GET and listing objects (Swift takes about two minutes for
# the 10,000); API=both about twice that.
# Full run: bash scripts/build.sh release && bash bench/objstore/run.sh
# Smoke run: ROUNDS=1 DURATION=3s GET_OBJECTS=200 LIST_OBJECTS=1000 BIG_BYTES=104857600 \
#              API=s3 bash bench/objstore/run.sh
# Beside radosgw: PEER=radosgw bash bench/objstore/run.sh (about 10 minutes with the defaults)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/swift.sh
source "$here/../lib/swift.sh"
# shellcheck source=bench/lib/s3.sh
source "$here/../lib/s3.sh"
# shellcheck source=bench/lib/radosgw.sh
source "$here/../lib/radosgw.sh"

PEER="${PEER:-swift}"
case "$PEER" in
  swift) API="${API:-both}" ;;
  radosgw)
    API="${API:-s3}"
    [[ "$API" == s3 ]] || bench_die "PEER=radosgw: API=s3 only (Ciel's S3 API beside radosgw's)" ;;
  *) bench_die "PEER: '$PEER' is neither swift nor radosgw" ;;
esac
RADOS_STRIPE="${RADOS_STRIPE:-4MiB}"
CIEL_INLINE_MAX="${CIEL_INLINE_MAX:-0}"   # PEER=radosgw only
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
SYSTEMS="${SYSTEMS:-ciel $PEER}"
CONCS="${CONCS:-16 64}"
GET_OBJECTS="${GET_OBJECTS:-1000}"
LIST_OBJECTS="${LIST_OBJECTS:-10000}"
LIST_REQUESTS="${LIST_REQUESTS:-5}"
BIG_BYTES="${BIG_BYTES:-1073741824}"          # 1 GiB
LOOPBACK_BYTES="${LOOPBACK_BYTES:-2147483648}" # 2 GiB
S3_PUT_KEYS_PER_S="${S3_PUT_KEYS_PER_S:-15000}"
S3_LIST_MAX_KEYS="${S3_LIST_MAX_KEYS:-1000}"
CIEL="${CIEL_BINARY:-$root/build/ciel}"
case "$API" in
  swift) APIS="swift" ;;
  s3) APIS="s3" ;;
  both) APIS="swift s3" ;;
  *) bench_die "API: '$API' is none of swift, s3, both" ;;
esac
has_api() { [[ " $APIS " == *" $1 "* ]]; }
for s in $SYSTEMS; do
  [[ "$s" == ciel || "$s" == "$PEER" ]] || bench_die "SYSTEMS: '$s' is neither ciel nor $PEER"
done
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }
if has ciel; then [[ -x "$CIEL" ]] || bench_die "no $CIEL: run bash scripts/build.sh release first"; fi
bench_install_packages
if has_api s3; then s3_check_presigner >&2 || bench_die "s3tool.py's presigned URLs differ from botocore's"; fi

declare -A PID TOKEN STORAGE RSS_MAX S3_EP S3_AK S3_SK
RSS_PREFIX=""   # "" during the Swift API scenarios, "s3." during the S3 ones (keys of RSS_MAX)
declare -A OPS P99 MBS LIST_MS   # "value value ..." per key, one value a round
PHYS_DISK="" PHYS_LOOP=""

# --- the systems -----------------------------------------------------------------------------
if has swift; then
  if has_api s3; then SWIFT_S3API=1; else SWIFT_S3API=0; fi
  SWIFT_S3API="$SWIFT_S3API" swift_start
  PID[swift]="$SWIFT_PIDS"
  S3_EP[swift]="$SWIFT_URL" S3_AK[swift]="bench:bench" S3_SK[swift]="bench"
fi
if [[ "$PEER" == radosgw ]]; then
  ceph_start   # Ciel's bytes go there too
  PID[cluster]="$CEPH_PIDS"
  if has radosgw; then
    radosgw_start
    PID[radosgw]="$RGW_PID"
    S3_EP[radosgw]="$RGW_URL" S3_AK[radosgw]="bench" S3_SK[radosgw]="bench"
  fi
fi
if has ciel; then
  data="$(bench_tmpdir ciel)"
  port="$(free_port)"
  s3_args=()   # the S3 listener on a free port of its own (its default, port + 1, may be taken)
  help="$("$CIEL" serve --help)"   # (not piped to grep -q: with pipefail an early exit is a failure)
  if grep -q '^  s3\.listen (' <<<"$help"; then s3_args=(--set "s3.listen=127.0.0.1:$(free_port)"); fi
  has_api s3 && ((${#s3_args[@]} == 0)) && bench_die "$CIEL has no S3 listener (setting s3.listen): build a newer one"
  if [[ "$PEER" == radosgw ]]; then
    s3_args+=(--set store.blob_backend=rados --set "store.rados.conf=$CEPH_CONF_FILE" --set "store.rados.user=$RADOS_USER"
              --set "store.rados.pool=$RADOS_POOL" --set "store.rados.stripe_size=$RADOS_STRIPE"
              --set "object.inline_max=$CIEL_INLINE_MAX")
  fi
  "$CIEL" serve --data-dir "$data" --listen "127.0.0.1:$port" "${s3_args[@]}" >"$data.out" 2>&1 &
  PID[ciel]=$!
  bench_on_exit "bench_stop_pid ${PID[ciel]} 30"
  CIEL_URL="http://127.0.0.1:$port"
  wait_http "$CIEL_URL/healthz" 60 || bench_die "ciel did not start: $(cat "$data.out")"
  # shellcheck disable=SC1091
  (source "$data/openrc" && printf '%s %s %s\n' "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME") >"$data.creds"
  read -r CIEL_USER CIEL_PASS CIEL_PROJECT <"$data.creds"
  CIEL_STORAGE_TEMPLATE="$("$BENCH_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["object-store"])' "$data/endpoints.json")" ||
    bench_die "ciel: no object-store entry in $data/endpoints.json"
  if has_api s3; then
    S3_EP[ciel]="$("$BENCH_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["s3"])' "$data/endpoints.json")" ||
      bench_die "ciel: no s3 entry in $data/endpoints.json"
    wait_http "${S3_EP[ciel]}/" 30 || bench_die "ciel: the S3 listener ${S3_EP[ciel]} does not answer"
    read -r ak sk < <(s3_ec2_credential "$CIEL_URL/v3" "$CIEL_USER" "$CIEL_PASS" "$CIEL_PROJECT") || true
    [[ -n "${sk:-}" ]] || bench_die "ciel: cannot create an EC2 credential"
    S3_AK[ciel]="$ak" S3_SK[ciel]="$sk"
  fi
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
rss_sample() {  # after each measurement: remember the largest RSS seen (per API: RSS_PREFIX)
  local kb k="$RSS_PREFIX$1"
  kb="$(tree_kb "$1" VmRSS)"
  ((kb > ${RSS_MAX[$k]:-0})) && RSS_MAX[$k]="$kb"
  if [[ "$1" != cluster && -n "${PID[cluster]:-}" ]]; then rss_sample cluster; fi   # PEER=radosgw
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

s3() { s3_use "${S3_EP[$1]}" "${S3_AK[$1]}" "${S3_SK[$1]}"; }   # s3 SYS: the S3 helpers' target
# s3call SYS EXPECT_REGEX METHOD /BUCKET[/KEY] [CURL_ARGS...]: one S3 request on a fresh presigned
# URL; on an unexpected status, log it as call does and return 1
s3call() {
  local sys="$1" want="$2" method="$3" path="$4" url code m
  shift 4
  s3 "$sys"
  url="$(s3_url "$method" "$path")" || bench_die "s3_url $method $path failed"
  if [[ "$method" == HEAD ]]; then m=(-I); else m=(-X "$method"); fi
  code="$(curl -s -o "$CALL_BODY" -D "$CALL_HDR" -w '%{http_code}' --max-time 120 -H 'Expect:' \
    "${m[@]}" "$@" "$url")" || true
  [[ "$code" =~ ^($want)$ ]] && return 0
  bench_log "$sys: S3 $method $path: unexpected status ${code:-none} (wanted $want) for: curl ${m[*]} $* $url"
  bench_log "  response head:"; sed 's/^/    /' "$CALL_HDR" >&2
  bench_log "  response body (first 500 bytes):"; head -c 500 "$CALL_BODY" | sed 's/^/    /' >&2; echo >&2
  return 1
}
S3_BUCKETS="bench-s3-put bench-s3-get bench-s3-list bench-s3-big"

# --- checks --------------------------------------------------------------------------------
small="$(bench_tmpdir small)/4k"
head -c 4096 /dev/urandom >"$small"
small_md5="$(md5sum "$small" | cut -d' ' -f1)"
if has_api swift; then for sys in $SYSTEMS; do
  auth "$sys"
  u="${STORAGE[$sys]}"
  for c in bench-put bench-get bench-list bench-big; do call "$sys" '201|202' -X PUT "$u/$c" || bench_die "$sys: cannot create container $c"; done
  call "$sys" 201 -X PUT -H 'Content-Type: application/octet-stream' -T "$small" "$u/bench-get/check" ||
    bench_die "$sys: cannot PUT a 4 KiB object"
  [[ "$(etag_of)" == "$small_md5" ]] || bench_die "$sys: PUT ETag $(etag_of) is not the MD5 $small_md5"
  call "$sys" 200 "$u/bench-get/check" || bench_die "$sys: cannot GET the 4 KiB object"
  cmp -s "$CALL_BODY" "$small" || bench_die "$sys: GET returned other bytes than were PUT"
  call "$sys" 204 -X DELETE "$u/bench-get/check" || bench_die "$sys: cannot DELETE the 4 KiB object"
done; fi
if has_api s3; then for sys in $SYSTEMS; do
  for b in $S3_BUCKETS; do s3call "$sys" 200 PUT "/$b" || bench_die "$sys: S3: cannot create bucket $b"; done
  s3call "$sys" 200 PUT /bench-s3-get/check -H 'Content-Type: application/octet-stream' -T "$small" ||
    bench_die "$sys: S3: cannot PUT a 4 KiB object"
  [[ "$(etag_of)" == "$small_md5" ]] || bench_die "$sys: S3: PUT ETag $(etag_of) is not the MD5 $small_md5"
  s3call "$sys" 200 GET /bench-s3-get/check || bench_die "$sys: S3: cannot GET the 4 KiB object"
  cmp -s "$CALL_BODY" "$small" || bench_die "$sys: S3: GET returned other bytes than were PUT"
  s3call "$sys" 204 DELETE /bench-s3-get/check || bench_die "$sys: S3: cannot DELETE the 4 KiB object"
done; fi

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
  if has_api s3; then
    has ciel && echo "INFO s3 ciel: Ciel's S3 listener ${S3_EP[ciel]} with an EC2 credential of its admin user"
    has swift && echo "INFO s3 swift: Swift's s3api middleware before tempauth in the same proxy (location us-east-1, s3_acl false, multipart off), access key bench:bench"
    if [[ "$PEER" == radosgw ]]; then
      echo "INFO ceph: Ceph $(ceph_version) (Debian), private cluster $CEPH_DIR: one monitor, one OSD (BlueStore in a sparse file, osd_op_num_shards 2), size-1 pools of 8 PGs; $(_ceph osd pool ls 2>/dev/null | tr '\n' ' ')"
      has ciel && echo "INFO s3 ciel: bytes in RADOS pool $RADOS_POOL (user client.$RADOS_USER), stripe_size $RADOS_STRIPE, up to 4 stripes written and 3 read ahead in flight per transfer; object.inline_max=$CIEL_INLINE_MAX (0: every object's bytes in RADOS); metadata in SQLite (store.fsync=$(ciel_default store.fsync))"
      has radosgw && echo "INFO s3 radosgw: radosgw $RGW_URL (beast), rgw_obj_stripe_size=$(radosgw_config rgw_obj_stripe_size) rgw_max_chunk_size=$(radosgw_config rgw_max_chunk_size) rgw_put_obj_min_window_size=$(radosgw_config rgw_put_obj_min_window_size) rgw_get_obj_window_size=$(radosgw_config rgw_get_obj_window_size) rgw_thread_pool_size=$(radosgw_config rgw_thread_pool_size) debug_rgw=$(radosgw_config debug_rgw), access key bench"
    fi
    echo "INFO s3: api=$API; requests on SigV4 presigned URLs (host signed, UNSIGNED-PAYLOAD), path style, made before each measurement; put4k keys ${S3_PUT_KEYS_PER_S}/s x duration per run; ListObjectsV2 max-keys=$S3_LIST_MAX_KEYS"
  fi
  echo "INFO data: $BENCH_TMP on $(df --output=source "$BENCH_TMP" | tail -1) ($(findmnt -no FSTYPE -T "$BENCH_TMP" 2>/dev/null || echo '?')), both systems"
  echo "INFO rounds=$ROUNDS duration=$DURATION concurrency=$CONCS wrk threads=${WRK_THREADS:-$(nproc)} systems=$SYSTEMS"
}

bench_warn_if_busy

# --- 1 and 2: small objects ------------------------------------------------------------------------
# wrk_measure SYS CASE CONC ROUND URL SCRIPT: one wrk run; ops/s counts successful requests only
wrk_measure() {
  local sys="$1" case="$2" conc="$3" round="$4" url="$5" script="$6" ok_rps key reused
  WRK_QUIET=1 WRK_NAME="objstore.$case.c$conc.$sys" wrk_run "$url" "$conc" "$DURATION" -s "$here/$script" ||
    bench_die "$sys: wrk failed for $case"
  ok_rps="$(awk -v r="$WRK_RPS" -v n="$WRK_REQUESTS" -v e="$WRK_NON2XX" 'BEGIN { printf "%.2f\n", (n > 0) ? r * (n - e) / n : 0 }')"
  reused="$(awk '/^reused_keys:/ { print $2 }' "$WRK_LAST_OUT")"   # s3put4k.lua only
  if [[ -n "$reused" ]]; then
    wrk_result "ok_rps=$ok_rps" "round=$round" "reused_keys=$reused"
    ((reused == 0)) || bench_log "$sys: $case c$conc: $reused PUTs overwrote keys (raise S3_PUT_KEYS_PER_S)"
  else
    wrk_result "ok_rps=$ok_rps" "round=$round"
  fi
  key="$case.$conc.$sys"
  OPS[$key]+="$ok_rps "
  P99[$key]+="$WRK_P99_MS "
  if ((WRK_NON2XX > 0 || WRK_SOCK_CONNECT + WRK_SOCK_READ + WRK_SOCK_WRITE + WRK_SOCK_TIMEOUT > 0)); then
    bench_log "$sys: $case c$conc: $WRK_NON2XX error responses, socket errors connect $WRK_SOCK_CONNECT read $WRK_SOCK_READ write $WRK_SOCK_WRITE timeout $WRK_SOCK_TIMEOUT; one request by curl:"
    case "$case" in
      put4k) call "$sys" 201 -X PUT -H 'Content-Type: application/octet-stream' -T "$small" "$url/repro-$RANDOM$RANDOM" || true ;;
      get4k) call "$sys" 200 "$url/get-0" || true ;;
      s3.put4k) s3call "$sys" 200 PUT "/bench-s3-put/repro-$RANDOM$RANDOM" -H 'Content-Type: application/octet-stream' -T "$small" || true ;;
      s3.get4k) s3call "$sys" 200 GET /bench-s3-get/get-0 || true ;;
    esac
  fi
  rss_sample "$sys"
}

if has_api swift; then
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
fi

# S3 1 and 2
if has_api s3; then
RSS_PREFIX="s3."
for sys in $SYSTEMS; do
  s3 "$sys"
  secs="$(s3_put_many /bench-s3-get/get- "$GET_OBJECTS" "$small" 16)" ||
    bench_die "$sys: S3: cannot upload the $GET_OBJECTS objects of the GET scenario"
  echo "RESULT name=objstore.s3.populate_get.$sys objects=$GET_OBJECTS seconds=$secs parallel=16"
done
urls_dir="$(bench_tmpdir urls)"
put_keys=$((S3_PUT_KEYS_PER_S * $(_bench_seconds "$DURATION")))
((put_keys >= 1000)) || put_keys=1000
export BENCH_URLS
for ((r = 1; r <= ROUNDS; r++)); do
  for conc in $CONCS; do
    threads="${WRK_THREADS:-$(nproc)}"   # as wrk_run: one list of keys per wrk thread
    ((threads > conc)) && threads="$conc"
    for sys in $SYSTEMS; do
      s3 "$sys"
      BENCH_URLS="$urls_dir/put"
      s3_paths PUT "/bench-s3-put/$(printf '%04x%04x' $RANDOM $RANDOM)-r$r-c$conc-" "$put_keys" "$BENCH_URLS" "$threads" ||
        bench_die "$sys: S3: cannot presign the PUT URLs"
      wrk_measure "$sys" s3.put4k "$conc" "$r" "${S3_EP[$sys]}" s3put4k.lua
      rm -f "$BENCH_URLS".*
    done
  done
done
for ((r = 1; r <= ROUNDS; r++)); do
  for conc in $CONCS; do
    for sys in $SYSTEMS; do
      s3 "$sys"
      BENCH_URLS="$urls_dir/get"
      s3_paths GET /bench-s3-get/get- "$GET_OBJECTS" "$BENCH_URLS" || bench_die "$sys: S3: cannot presign the GET URLs"
      wrk_measure "$sys" s3.get4k "$conc" "$r" "${S3_EP[$sys]}" s3get4k.lua
    done
  done
done
RSS_PREFIX=""
fi

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

# big_measure SYS ROUND [API]: PUT then GET the 1 GiB object over the Swift API (default) or
# over S3 (API s3: presigned URLs, made just before each request)
big_measure() {
  local sys="$1" round="$2" api="${3:-swift}" url out code secs size etag v ok=1 p="" put_ok=201 auth_h
  if [[ "$api" == s3 ]]; then
    p="s3." put_ok=200 auth_h=()
    s3 "$sys"
    url="$(s3_url PUT /bench-s3-big/big)" || bench_die "s3_url failed"
  else
    url="${STORAGE[$sys]}/bench-big/big" auth_h=(-H "X-Auth-Token: ${TOKEN[$sys]}")
  fi
  out="$(curl -s -o "$CALL_BODY" -D "$CALL_HDR" -w '%{http_code} %{time_total}' --max-time 600 \
    "${auth_h[@]}" -H 'Expect:' -H 'Content-Type: application/octet-stream' \
    -T "$big" "$url")" || true
  read -r code secs <<<"$out"
  if [[ "$code" != "$put_ok" ]]; then
    bench_log "$sys: ${p}1 GiB PUT answered ${code:-nothing}: curl -X PUT -T <1 GiB file> $url"
    sed 's/^/    /' "$CALL_HDR" >&2; head -c 500 "$CALL_BODY" >&2; echo >&2
    bench_die "$sys: ${p}1 GiB PUT failed"
  fi
  etag="$(etag_of)"
  [[ "$etag" == "$big_md5" ]] || { ok=0; bench_log "$sys: ${p}1 GiB PUT ETag $etag is not the file's MD5 $big_md5"; }
  v="$(mbs "$BIG_BYTES" "$secs")"
  MBS[${p}put.$sys]+="$v "
  echo "RESULT name=objstore.${p}put1g.$sys mb_s=$v bytes=$BIG_BYTES seconds=$secs etag_ok=$ok round=$round"
  rss_sample "$sys"

  if [[ "$api" == s3 ]]; then
    s3call "$sys" 200 HEAD /bench-s3-big/big || bench_die "$sys: S3 HEAD of the 1 GiB object failed"
    url="$(s3_url GET /bench-s3-big/big)" || bench_die "s3_url failed"
  else
    call "$sys" 200 -I "$url" || bench_die "$sys: HEAD of the 1 GiB object failed"
  fi
  etag="$(etag_of)"
  [[ "$etag" == "$big_md5" ]] || { ok=0; bench_log "$sys: ${p}1 GiB HEAD ETag $etag is not the file's MD5 $big_md5"; }

  out="$(curl -s -o /dev/null -D "$CALL_HDR" -w '%{http_code} %{time_total} %{size_download}' --max-time 600 \
    "${auth_h[@]}" "$url")" || true
  read -r code secs size <<<"$out"
  [[ "$code" == 200 && "$size" == "$BIG_BYTES" ]] || {
    bench_log "$sys: ${p}1 GiB GET answered ${code:-nothing} with $size bytes: curl $url"
    sed 's/^/    /' "$CALL_HDR" >&2
    bench_die "$sys: ${p}1 GiB GET failed"
  }
  etag="$(etag_of)"
  [[ "$etag" == "$big_md5" ]] || { ok=0; bench_log "$sys: ${p}1 GiB GET ETag $etag is not the file's MD5 $big_md5"; }
  v="$(mbs "$BIG_BYTES" "$secs")"
  MBS[${p}get.$sys]+="$v "
  echo "RESULT name=objstore.${p}get1g.$sys mb_s=$v bytes=$BIG_BYTES seconds=$secs etag_ok=$ok round=$round"
  ((ok)) && ETAG_OK[$p$sys]="${ETAG_OK[$p$sys]:-yes}" || ETAG_OK[$p$sys]=no
  rss_sample "$sys"
}

for ((r = 1; r <= ROUNDS; r++)); do
  phys_measure "$r"
  if has_api swift; then
    for sys in $SYSTEMS; do
      auth "$sys"
      big_measure "$sys" "$r"
    done
  fi
  if has_api s3; then
    RSS_PREFIX="s3."
    for sys in $SYSTEMS; do big_measure "$sys" "$r" s3; done
    RSS_PREFIX=""
  fi
done
rm -f "$big"

# --- 4: listing ------------------------------------------------------------------------------------
if has_api swift; then
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
fi

# S3 4: full ListObjectsV2 listings, page after page (continuation-token), on one connection
if has_api s3; then
RSS_PREFIX="s3."
for sys in $SYSTEMS; do
  s3 "$sys"
  secs="$(s3_put_many /bench-s3-list/obj- "$LIST_OBJECTS" "$small" 16)" ||
    bench_die "$sys: S3: cannot upload the $LIST_OBJECTS objects of the listing scenario"
  echo "RESULT name=objstore.s3.populate_list.$sys objects=$LIST_OBJECTS seconds=$secs parallel=16"
  s3_list /bench-s3-list "$LIST_OBJECTS" 1 "$S3_LIST_MAX_KEYS" >/dev/null || bench_die "$sys: S3: listing failed"
done
for ((r = 1; r <= ROUNDS; r++)); do
  for sys in $SYSTEMS; do
    s3 "$sys"
    out="$(s3_list /bench-s3-list "$LIST_OBJECTS" "$LIST_REQUESTS" "$S3_LIST_MAX_KEYS")" || bench_die "$sys: S3: listing failed"
    times="${out% *}" pages="${out##* }"
    # shellcheck disable=SC2086
    v="$(median $times)"
    LIST_MS[s3.$sys]+="$v "
    echo "RESULT name=objstore.s3.list10k.$sys median_ms=$v requests_ms=\"$times\" objects=$LIST_OBJECTS pages=$pages max_keys=$S3_LIST_MAX_KEYS round=$r"
    rss_sample "$sys"
  done
done
RSS_PREFIX=""
fi

# --- tables ------------------------------------------------------------------------------------------
# shellcheck disable=SC2086 # word splitting wanted
med() { if [[ -n "${1// /}" ]]; then median $1; fi; }   # median of a "v v v" list, empty if none
f() { [[ -n "$2" && "$2" != nan ]] && printf "%.${1}f" "$2" || printf -- '-'; }   # f DECIMALS VALUE
mark() {  # mark VALUE THRESHOLD: "met"/"not met" for VALUE >= THRESHOLD
  [[ -n "$1" && "$1" != nan ]] || { printf -- '-'; return; }
  awk -v v="$1" -v t="$2" 'BEGIN { printf "%s", (v + 0 >= t + 0) ? "met" : "not met" }'
}
kib() { [[ -n "$1" && "$1" != 0 ]] && awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' || printf -- '-'; }
disk="$(med "$PHYS_DISK")"; loop="$(med "$PHYS_LOOP")"
phys_table() {
  echo "| limit | MB/s |"
  echo "|---|---|"
  echo "| disk sequential write, dd bs=1M count=1024 conv=fdatasync | $(f 0 "$disk") |"
  echo "| loopback TCP, one stream of $(size_name "$LOOPBACK_BYTES") (python3 sockets) | $(f 0 "$loop") |"
}

if has_api swift; then
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
phys_table

echo
echo "### Memory"
echo "| | Ciel | Swift (4 servers × (1 + ${SWIFT_WORKERS:-2} workers) + memcached) |"
echo "|---|---|---|"
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
fi

# --- S3 tables -----------------------------------------------------------------------------------
if has_api s3; then
if [[ "$PEER" == radosgw ]]; then
  PL="radosgw" small_need=1   # the peer's label; the 4 KiB target: Ciel at least as fast
else
  PL="s3api" small_need=10
fi
echo
if [[ "$PEER" == radosgw ]]; then
  echo "## Object storage over S3 on Ceph RADOS: Ciel (store.blob_backend = rados, stripe $RADOS_STRIPE, object.inline_max $CIEL_INLINE_MAX) beside Ceph $(ceph_version)'s radosgw, one cluster"
else
  echo "## Object storage over S3: Ciel beside OpenStack Swift $(has swift && swift_version || echo '(not run)')'s s3api"
fi
targets=""
echo "$ROUNDS round(s) alternating the systems, medians; ratios are labelled so that > 1 means Ciel is better;"
echo "every request on a SigV4 presigned URL (host signed, UNSIGNED-PAYLOAD), path style, region us-east-1"
for case in put4k get4k; do
  echo
  if [[ "$case" == put4k ]]; then echo "### S3 1. 4 KiB PutObject, each key once (wrk, $(_bench_seconds "$DURATION") s a run)"
  else echo "### S3 2. 4 KiB GetObject, random pick of $GET_OBJECTS objects (wrk, $(_bench_seconds "$DURATION") s a run)"; fi
  echo "| concurrency | Ciel ops/s | $PL ops/s | Ciel/$PL | target ≥ $small_need× | Ciel p99 ms | $PL p99 ms | $PL/Ciel p99 |"
  echo "|---|---|---|---|---|---|---|---|"
  for conc in $CONCS; do
    co="$(med "${OPS[s3.$case.$conc.ciel]:-}")"; so="$(med "${OPS[s3.$case.$conc.$PEER]:-}")"
    cp="$(med "${P99[s3.$case.$conc.ciel]:-}")"; sp="$(med "${P99[s3.$case.$conc.$PEER]:-}")"
    ro="$(ratio "$co" "$so")"; rp="$(ratio "$sp" "$cp")"
    echo "| $conc | $(f 0 "$co") | $(f 0 "$so") | $(f 2 "$ro") | $(mark "$ro" "$small_need") | $(f 2 "$cp") | $(f 2 "$sp") | $(f 2 "$rp") |"
    targets+="TARGET s3.small_ops.$case.c$conc ciel/$PL=$ro need=$small_need status=$(mark "$ro" "$small_need" | tr " " _)"$'\n'
  done
done

echo
echo "### S3 3. $BIG_NAME object, one curl transfer (GET to /dev/null), MB/s = 10^6 bytes/s"
echo "| transfer | Ciel MB/s | $PL MB/s | Ciel/$PL | limit MB/s | Ciel/limit | $PL/limit | target |"
echo "|---|---|---|---|---|---|---|---|"
for d in put get; do
  c="$(med "${MBS[s3.$d.ciel]:-}")"; s="$(med "${MBS[s3.$d.$PEER]:-}")"
  if [[ "$d" == put ]]; then lim="$disk" need=0.8 lname="disk fdatasync"; else lim="$loop" need=0.6 lname="loopback TCP"; fi
  rl="$(ratio "$c" "$lim")"
  echo "| $BIG_NAME ${d^^} | $(f 0 "$c") | $(f 0 "$s") | $(f 2 "$(ratio "$c" "$s")") | $lname $(f 0 "$lim") | $(f 3 "$rl") | $(f 3 "$(ratio "$s" "$lim")") | Ciel ≥ $need × limit: $(mark "$rl" "$need") |"
  targets+="TARGET s3.${d}1g ciel/limit=$rl need=$need status=$(mark "$rl" "$need" | tr " " _)"$'\n'
done
echo "ETag of the $BIG_NAME object = MD5 of the file (PUT, HEAD, GET): Ciel ${ETAG_OK[s3.ciel]:--}, $PL ${ETAG_OK[s3.$PEER]:--}"

echo
pages=$(((LIST_OBJECTS + S3_LIST_MAX_KEYS - 1) / S3_LIST_MAX_KEYS))
echo "### S3 4. Full listing of a bucket of $LIST_OBJECTS objects (ListObjectsV2, max-keys=$S3_LIST_MAX_KEYS: $pages request$( ((pages == 1)) || echo s) a listing, one connection, median of $LIST_REQUESTS listings a round)"
echo "| | Ciel ms | $PL ms | $PL/Ciel | target |"
echo "|---|---|---|---|---|"
c="$(med "${LIST_MS[s3.ciel]:-}")"; s="$(med "${LIST_MS[s3.$PEER]:-}")"
rl="$(ratio "$s" "$c")"
echo "| full listing | $(f 1 "$c") | $(f 1 "$s") | $(f 2 "$rl") | Ciel faster: $(mark "$rl" 1) |"
targets+="TARGET s3.list $PL/ciel=$rl need=1 status=$(mark "$rl" 1 | tr " " _)"$'\n'

if ! has_api swift; then
  echo
  echo "### S3 5. Physical limits of this machine (same run)"
  phys_table
fi

echo
echo "### S3 memory"
ch="" sh=""
has ciel && ch="$(tree_kb ciel VmHWM)"
has "$PEER" && sh="$(tree_kb "$PEER" VmHWM)"
if [[ "$PEER" == radosgw ]]; then
  echo "| | Ciel | radosgw (one process) | the cluster both use (monitor + OSD) |"
  echo "|---|---|---|---|"
  echo "| peak RSS (largest sample, taken after each S3 measurement) | $(kib "${RSS_MAX[s3.ciel]:-}") | $(kib "${RSS_MAX[s3.radosgw]:-}") | $(kib "${RSS_MAX[s3.cluster]:-}") |"
  echo "| sum of the processes' peak RSS (VmHWM) at the end of the run | $(kib "$ch") | $(kib "$sh") | $(kib "$(tree_kb cluster VmHWM)") |"
else
  echo "| | Ciel | Swift with s3api (4 servers × (1 + ${SWIFT_WORKERS:-2} workers) + memcached) |"
  echo "|---|---|---|"
  echo "| peak RSS (largest sample, taken after each S3 measurement) | $(kib "${RSS_MAX[s3.ciel]:-}") | $(kib "${RSS_MAX[s3.swift]:-}") |"
  echo "| sum of the processes' peak RSS (VmHWM) at the end of the run | $(kib "$ch") | $(kib "$sh") |"
fi
rl="$(ratio "${RSS_MAX[s3.$PEER]:-}" "${RSS_MAX[s3.ciel]:-}")"
targets+="TARGET s3.rss $PL/ciel=$rl need=1 status=$(mark "$rl" 1 | tr " " _)"$'\n'
for sys in $SYSTEMS; do
  echo "RESULT name=objstore.s3.rss.$sys peak_rss_kb=${RSS_MAX[s3.$sys]:-0} vmhwm_sum_kb=$(tree_kb "$sys" VmHWM) processes=$(for p in ${PID[$sys]}; do proc_tree_pids "$p"; done | wc -l)"
done
if [[ "$PEER" == radosgw ]]; then
  # where the bytes went: the RADOS objects of Ciel's pool and of radosgw's data pool at the end
  # (listed: this cluster has no manager daemon, which `rados df` needs)
  for pool in "$RADOS_POOL" default.rgw.buckets.data; do
    n="$(timeout 120 rados --conf "$CEPH_CONF_FILE" -p "$pool" --all ls 2>/dev/null | wc -l)" || n="?"
    echo "RESULT name=objstore.s3.rados_pool pool=$pool objects=$n"
  done
fi
echo
printf '%s' "$targets"
fi
