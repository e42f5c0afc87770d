#!/usr/bin/env bash
# bench/box: Ciel's WebDAV (the box, {base}/remote.php/dav/files/admin/) beside Debian's Apache 2
# with mod_dav / mod_dav_fs (bench/lib/apache.sh), on 127.0.0.1, in the same run, with the same
# clients and parameters, $ROUNDS rounds alternating the systems (the order is reversed every
# other round). Both sides use HTTP Basic auth on every request: Ciel with its admin user and the
# password from DATA/openrc, Apache with an htpasswd user.
#   1. PUT of $PUT_FILES files of 4 KiB with unique names into a fresh folder (MKCOL, one a
#      round), $PUT_CONC at a time: one curl --parallel process; files/s = files / wall time.
#      A sync(1) before it (and before the 1 GiB PUT) keeps the writeback of earlier data out.
#      The folder is then listed (untimed) to check that every file is there with its size.
#   2. PROPFIND Depth 1 on a folder of $LIST_FILES files of 4 KiB (uploaded once per system by
#      curl --parallel before the rounds), asking for getetag, getcontentlength,
#      getlastmodified and resourcetype; curl, one request at a time, $LIST_REQUESTS a round:
#      median ms per request (and requests/s = 1000 / ms). Every answer is a 207; the first one
#      of each system is parsed (davcheck.py) to check that it lists all files with those
#      properties.
#   3. GET of one 4 KiB file, wrk at concurrency $GET_CONC for $DURATION (basic_auth.lua adds
#      the Authorization header): requests/s (successful responses only) and p99.
#   4. one PUT and one GET of a $BIG_BYTES file (1 GiB from /dev/urandom) with curl, the GET to
#      /dev/null; MB/s = 10^6 bytes/s. The GET must bring back the file's size; an untimed
#      second GET is piped to md5sum and compared with the file. The file is deleted after each
#      round, so every PUT creates it.
#   5. the machine's limits, each round beside scenario 4: disk sequential write with fdatasync
#      (dd bs=1M count=1024 conv=fdatasync in the same temp dir) and loopback TCP (one stream of
#      $LOOPBACK_BYTES, bench/objstore/loopback.py). PHYS=0 skips them.
# Prints RESULT lines while it runs, then a table with the medians and the ratios, labelled so
# that > 1 means Ciel is better (Ciel/Apache for rates, Apache/Ciel for times), the machine's
# limits and both systems' memory (RSS of the whole process tree, sampled after each measurement).
# Knobs (environment, defaults): ROUNDS 5, SYSTEMS "ciel apache" (one of them runs one side
# only), PUT_FILES 1000, PUT_CONC 16, LIST_FILES 10000, LIST_REQUESTS 5, GET_CONC 16,
# DURATION 10s, BIG_BYTES 1 GiB, LOOPBACK_BYTES 2 GiB, PHYS 1, CIEL_BINARY build/ciel,
# WRK_THREADS nproc.
# Needs build/ciel with the box (bash scripts/build.sh release) unless SYSTEMS=apache. Run as
# root (Apache's workers then run as www-data, as Debian runs them). Self-cleaning. About 5
# minutes with the defaults on 2 cores.
# Full run: bash bench/box/run.sh
# Smoke run: ROUNDS=1 DURATION=3s PUT_FILES=200 LIST_FILES=1000 BIG_BYTES=104857600 \
#              LOOPBACK_BYTES=268435456 bash bench/box/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=bench/lib/apache.sh
source "$here/../lib/apache.sh"

ROUNDS="${ROUNDS:-5}"
SYSTEMS="${SYSTEMS:-ciel apache}"
PUT_FILES="${PUT_FILES:-1000}"
PUT_CONC="${PUT_CONC:-16}"
LIST_FILES="${LIST_FILES:-10000}"
LIST_REQUESTS="${LIST_REQUESTS:-5}"
GET_CONC="${GET_CONC:-16}"
DURATION="${DURATION:-10s}"
BIG_BYTES="${BIG_BYTES:-1073741824}"          # 1 GiB
LOOPBACK_BYTES="${LOOPBACK_BYTES:-2147483648}" # 2 GiB
PHYS="${PHYS:-1}"
CIEL="${CIEL_BINARY:-$root/build/ciel}"
for s in $SYSTEMS; do
  [[ "$s" == ciel || "$s" == apache ]] || bench_die "SYSTEMS: '$s' is neither ciel nor apache"
done
has() { [[ " $SYSTEMS " == *" $1 "* ]]; }
if has ciel; then [[ -x "$CIEL" ]] || bench_die "no $CIEL: run bash scripts/build.sh release first"; fi
bench_install_packages

declare -A PID URL USR PASS RSS_MAX
declare -A RATE P99 MS MBS BYTES   # "value value ..." per key, one value a round
PHYS_DISK="" PHYS_LOOP=""

# --- the systems -----------------------------------------------------------------------------
PROPFIND_BODY="$BENCH_TMP/propfind.xml"
cat >"$PROPFIND_BODY" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontentlength/><d:getlastmodified/><d:resourcetype/></d:prop></d:propfind>
EOF

if has apache; then
  # shellcheck disable=SC2119 # a free port
  apache_start || bench_die "apache2 did not start"
  PID[apache]="$APACHE_PID" URL[apache]="$APACHE_URL" USR[apache]="$APACHE_USER" PASS[apache]="$APACHE_PASS"
fi
if has ciel; then
  data="$(bench_tmpdir ciel)"
  port="$(free_port)"
  help="$("$CIEL" serve --help)"   # (not piped to grep -q: with pipefail an early exit is a failure)
  extra=()
  # no quota: the run stores about 1.1 GiB for the admin user
  if grep -q '^  box\.default_quota (' <<<"$help"; then extra+=(--set box.default_quota=0); fi
  "$CIEL" serve --data-dir "$data" --listen "127.0.0.1:$port" "${extra[@]}" >"$data.out" 2>&1 &
  PID[ciel]=$!
  bench_on_exit "bench_stop_pid ${PID[ciel]} 30"
  CIEL_BASE="http://127.0.0.1:$port"
  wait_http "$CIEL_BASE/healthz" 60 || bench_die "ciel did not start: $(cat "$data.out")"
  # shellcheck disable=SC1091
  (source "$data/openrc" && printf '%s %s\n' "$OS_USERNAME" "$OS_PASSWORD") >"$data.creds"
  read -r 'USR[ciel]' 'PASS[ciel]' <"$data.creds"
  URL[ciel]="$CIEL_BASE/remote.php/dav/files/${USR[ciel]}/"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PROPFIND -H 'Depth: 0' \
    -u "${USR[ciel]}:${PASS[ciel]}" "${URL[ciel]}")" || true
  [[ "$code" == 207 ]] || bench_die "ciel: PROPFIND ${URL[ciel]} answered ${code:-nothing}, not 207: this build has no box yet (SYSTEMS=apache runs Apache alone)"
fi

# tree_kb SYS FIELD: summed FIELD (VmRSS, VmHWM) of SYS's process tree
tree_kb() {
  local total=0 p kb
  for p in $(proc_tree_pids "${PID[$1]}"); do
    kb="$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)"
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
rss_sample() {  # after each measurement: remember the largest RSS seen
  local kb
  kb="$(tree_kb "$1" VmRSS)"
  ((kb > ${RSS_MAX[$1]:-0})) && RSS_MAX[$1]="$kb"
  return 0
}

# call SYS EXPECT_REGEX CURL_ARGS... : one request with SYS's Basic auth; on an unexpected status,
# log the exact request and response (head and the start of the body) and return 1
CALL_HDR="$BENCH_TMP/call.hdr" CALL_BODY="$BENCH_TMP/call.body"
call() {
  local sys="$1" want="$2" code
  shift 2
  code="$(curl -s -o "$CALL_BODY" -D "$CALL_HDR" -w '%{http_code}' --max-time 120 \
    -u "${USR[$sys]}:${PASS[$sys]}" -H 'Expect:' "$@")" || true
  [[ "$code" =~ ^($want)$ ]] && return 0
  bench_log "$sys: unexpected status ${code:-none} (wanted $want) for: curl $*"
  bench_log "  response head:"; sed 's/^/    /' "$CALL_HDR" >&2
  bench_log "  response body (first 500 bytes):"; head -c 500 "$CALL_BODY" | sed 's/^/    /' >&2; echo >&2
  return 1
}
propfind1() {  # propfind1 SYS URL: PROPFIND Depth 1 with the four properties, into $CALL_BODY
  call "$1" 207 -X PROPFIND -H 'Depth: 1' -H 'Content-Type: application/xml; charset=utf-8' \
    --data-binary "@$PROPFIND_BODY" "$2"
}
# dav_check SYS URL FILES: PROPFIND Depth 1 lists FILES files of 4 KiB with the four properties
dav_check() {
  local out
  propfind1 "$1" "$2" || return 1
  out="$("$BENCH_PYTHON" "$here/davcheck.py" "$CALL_BODY" "$3" 4096)" || {
    bench_log "$1: PROPFIND Depth 1 of $2: $out"; return 1; }
}

# put_many SYS URL_PREFIX COUNT FILE PARALLEL: PUT FILE as URL_PREFIX0 .. URL_PREFIX<COUNT-1>
# with one curl process, PARALLEL transfers at a time; prints the seconds taken; returns 1 (and
# logs the status codes seen) unless every PUT answered 201 or 204
put_many() {
  local sys="$1" prefix="$2" count="$3" file="$4" par="$5" cfg codes start ok
  cfg="$(mktemp "$BENCH_TMP/putmany.XXXXXX")"
  codes="$cfg.codes"
  awk -v p="$prefix" -v n="$count" -v f="$file" 'BEGIN {
    for (i = 0; i < n; i++) printf "url = \"%s%d\"\nupload-file = \"%s\"\noutput = \"/dev/null\"\n", p, i, f }' >"$cfg"
  start="$(date +%s.%N)"
  curl -s --no-progress-meter --parallel --parallel-max "$par" --max-time 60 \
    -u "${USR[$sys]}:${PASS[$sys]}" -H 'Expect:' -w '%{http_code}\n' -K "$cfg" \
    >"$codes" 2>"$cfg.err" || true
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", e - s }'
  ok="$(grep -cE '^(201|204)$' "$codes" || true)"
  if ((ok != count)); then
    bench_log "$sys: put_many: $ok of $count PUTs to ${prefix}N answered 201 or 204; status codes seen:"
    sort "$codes" | uniq -c >&2
    head -5 "$cfg.err" >&2
    rm -f "$cfg" "$codes" "$cfg.err"; return 1
  fi
  rm -f "$cfg" "$codes" "$cfg.err"
}

# --- checks --------------------------------------------------------------------------------
small="$(bench_tmpdir small)/4k"
head -c 4096 /dev/urandom >"$small"
for sys in $SYSTEMS; do
  u="${URL[$sys]}"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PROPFIND -H 'Depth: 0' "$u")" || true
  [[ "$code" == 401 ]] || bench_die "$sys: PROPFIND without credentials answered ${code:-nothing}, not 401"
  call "$sys" '2[0-9][0-9]' -X OPTIONS "$u" || bench_die "$sys: OPTIONS failed"
  grep -qi '^dav:.*1' "$CALL_HDR" || bench_die "$sys: OPTIONS has no DAV: 1 header"
  for d in bench-check bench-get bench-list bench-big; do
    call "$sys" 201 -X MKCOL "$u$d/" || bench_die "$sys: cannot MKCOL $d/"
  done
  call "$sys" 201 -T "$small" "${u}bench-check/4k" || bench_die "$sys: cannot PUT a 4 KiB file"
  call "$sys" 200 "${u}bench-check/4k" || bench_die "$sys: cannot GET the 4 KiB file"
  cmp -s "$CALL_BODY" "$small" || bench_die "$sys: GET returned other bytes than were PUT"
  dav_check "$sys" "${u}bench-check/" 1 || bench_die "$sys: PROPFIND Depth 1 of a folder of one file is wrong"
  call "$sys" 204 -X DELETE "${u}bench-check/" || bench_die "$sys: cannot DELETE a folder"
  call "$sys" 404 "${u}bench-check/4k" || bench_die "$sys: the file is still there after its folder's DELETE"
  call "$sys" 201 -T "$small" "${u}bench-get/4k" || bench_die "$sys: cannot PUT the GET scenario's file"
done

# the GET scenario's file and the listing's folder, once per system
for sys in $SYSTEMS; do
  secs="$(put_many "$sys" "${URL[$sys]}bench-list/f" "$LIST_FILES" "$small" 16)" ||
    bench_die "$sys: cannot upload the $LIST_FILES files of the listing scenario"
  echo "RESULT name=box.populate_list.$sys files=$LIST_FILES seconds=$secs parallel=16"
  dav_check "$sys" "${URL[$sys]}bench-list/" "$LIST_FILES" || bench_die "$sys: the listing of $LIST_FILES files is wrong"
  rss_sample "$sys"
done

ciel_default() {  # ciel_default KEY: the default of a setting, from ciel serve --help
  "$CIEL" serve --help | awk -v k="  $1 (" 'index($0, k) == 1 && match($0, /default "[^"]*"/) {
    print substr($0, RSTART + 9, RLENGTH - 10) }'
}
{
  echo "INFO machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
  if has ciel; then
    echo "INFO ciel: $CIEL (HEAD of its repository $(git -C "$(dirname "$CIEL")" rev-parse --short HEAD 2>/dev/null || echo '?'), built $(date -r "$CIEL" '+%F %T')), ${URL[ciel]}, defaults: server.threads=$(ciel_default server.threads) (0 = one I/O thread per core), server.blocking_threads=$(ciel_default server.blocking_threads), log.access=$(ciel_default log.access)"
  fi
  if has apache; then
    echo "INFO apache: Apache $(apache_version) (Debian) mod_dav_fs, mpm_event as Debian sets it (2 servers x 25 threads at start, 150 workers at most), KeepAlive 100 requests / 5 s, access log on, Basic auth (htpasswd $(cut -d'$' -f2 "$APACHE_DIR/htpasswd" | head -c 8) hash, checked on every request), ${URL[apache]}"
  fi
  echo "INFO data: $BENCH_TMP on $(df --output=source "$BENCH_TMP" | tail -1) ($(findmnt -no FSTYPE -T "$BENCH_TMP" 2>/dev/null || echo '?')), both systems"
  echo "INFO rounds=$ROUNDS systems=$SYSTEMS put=${PUT_FILES}x4KiB c$PUT_CONC list=$LIST_FILES files get c$GET_CONC $DURATION wrk threads=${WRK_THREADS:-$(nproc)} big=$BIG_BYTES bytes"
}

bench_warn_if_busy

# --- the measurements ------------------------------------------------------------------------
big_dir="$(bench_tmpdir big)"
big="$big_dir/big"
head -c "$BIG_BYTES" /dev/urandom >"$big"
big_md5="$(md5sum "$big" | cut -d' ' -f1)"
declare -A MD5_OK
size_name() { if (($1 % (1 << 30) == 0)); then echo "$(($1 >> 30)) GiB"; else echo "$(($1 >> 20)) MiB"; fi; }
BIG_NAME="$(size_name "$BIG_BYTES")"
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f\n", (s > 0) ? b / s / 1e6 : 0 }'; }
ms_of() { awk -v s="$1" 'BEGIN { printf "%.3f", s * 1000 }'; }
BENCH_BASIC=""
export BENCH_BASIC

put_measure() {  # put_measure SYS ROUND: scenario 1
  local sys="$1" r="$2" dir secs v
  dir="${URL[$sys]}put-r$r/"
  call "$sys" 201 -X MKCOL "$dir" || bench_die "$sys: cannot MKCOL $dir"
  sync   # no writeback of earlier data (the last round's 1 GiB) during the measurement
  secs="$(put_many "$sys" "${dir}f" "$PUT_FILES" "$small" "$PUT_CONC")" || bench_die "$sys: PUT of $PUT_FILES files failed"
  v="$(awk -v n="$PUT_FILES" -v s="$secs" 'BEGIN { printf "%.1f\n", (s > 0) ? n / s : 0 }')"
  RATE[put.$sys]+="$v "
  echo "RESULT name=box.put4k.c$PUT_CONC.$sys files_s=$v files=$PUT_FILES seconds=$secs conc=$PUT_CONC round=$r"
  rss_sample "$sys"
  dav_check "$sys" "$dir" "$PUT_FILES" || bench_die "$sys: the folder of round $r does not list the $PUT_FILES files PUT"
}

propfind_measure() {  # propfind_measure SYS ROUND: scenario 2
  local sys="$1" r="$2" i out code secs size times="" v
  for ((i = 0; i < LIST_REQUESTS; i++)); do
    out="$(curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}' --max-time 120 \
      -u "${USR[$sys]}:${PASS[$sys]}" -X PROPFIND -H 'Depth: 1' -H 'Content-Type: application/xml; charset=utf-8' \
      --data-binary "@$PROPFIND_BODY" "${URL[$sys]}bench-list/")" || true
    read -r code secs size <<<"$out"
    [[ "$code" == 207 ]] || bench_die "$sys: PROPFIND Depth 1 of bench-list/ answered ${code:-nothing}"
    times+="$(ms_of "$secs") "
  done
  # shellcheck disable=SC2086
  v="$(median $times)"
  MS[propfind.$sys]+="$v "
  BYTES[propfind.$sys]="$size"
  echo "RESULT name=box.propfind${LIST_FILES}.$sys median_ms=$v rps=$(awk -v m="$v" 'BEGIN { printf "%.2f", (m > 0) ? 1000 / m : 0 }') requests_ms=\"${times% }\" files=$LIST_FILES body_bytes=$size round=$r"
  rss_sample "$sys"
}

get_measure() {  # get_measure SYS ROUND: scenario 3
  local sys="$1" r="$2" ok_rps
  BENCH_BASIC="$(printf '%s:%s' "${USR[$sys]}" "${PASS[$sys]}" | base64 -w0)"
  WRK_QUIET=1 WRK_NAME="box.get4k.c$GET_CONC.$sys" wrk_run "${URL[$sys]}bench-get/4k" "$GET_CONC" "$DURATION" \
    -s "$here/basic_auth.lua" || bench_die "$sys: wrk failed for the 4 KiB GET"
  ok_rps="$(awk -v r="$WRK_RPS" -v n="$WRK_REQUESTS" -v e="$WRK_NON2XX" 'BEGIN { printf "%.2f\n", (n > 0) ? r * (n - e) / n : 0 }')"
  wrk_result "ok_rps=$ok_rps" "round=$r"
  RATE[get.$sys]+="$ok_rps "
  P99[get.$sys]+="$WRK_P99_MS "
  if ((WRK_NON2XX > 0 || WRK_SOCK_CONNECT + WRK_SOCK_READ + WRK_SOCK_WRITE + WRK_SOCK_TIMEOUT > 0)); then
    bench_log "$sys: get4k: $WRK_NON2XX error responses, socket errors connect $WRK_SOCK_CONNECT read $WRK_SOCK_READ write $WRK_SOCK_WRITE timeout $WRK_SOCK_TIMEOUT; one request by curl:"
    call "$sys" 200 "${URL[$sys]}bench-get/4k" || true
  fi
  rss_sample "$sys"
}

big_measure() {  # big_measure SYS ROUND: scenario 4
  local sys="$1" r="$2" url="${URL[$1]}bench-big/big" out code secs size v md5
  sync
  out="$(curl -s -o "$CALL_BODY" -D "$CALL_HDR" -w '%{http_code} %{time_total}' --max-time 600 \
    -u "${USR[$sys]}:${PASS[$sys]}" -H 'Expect:' -T "$big" "$url")" || true
  read -r code secs <<<"$out"
  if [[ "$code" != 201 ]]; then
    bench_log "$sys: $BIG_NAME PUT answered ${code:-nothing}: curl -T <$BIG_NAME file> $url"
    sed 's/^/    /' "$CALL_HDR" >&2; head -c 500 "$CALL_BODY" >&2; echo >&2
    bench_die "$sys: $BIG_NAME PUT failed"
  fi
  v="$(mbs "$BIG_BYTES" "$secs")"
  MBS[put.$sys]+="$v "
  echo "RESULT name=box.put1g.$sys mb_s=$v bytes=$BIG_BYTES seconds=$secs round=$r"
  rss_sample "$sys"

  out="$(curl -s -o /dev/null -D "$CALL_HDR" -w '%{http_code} %{time_total} %{size_download}' --max-time 600 \
    -u "${USR[$sys]}:${PASS[$sys]}" "$url")" || true
  read -r code secs size <<<"$out"
  [[ "$code" == 200 && "$size" == "$BIG_BYTES" ]] || {
    bench_log "$sys: $BIG_NAME GET answered ${code:-nothing} with $size bytes: curl $url"
    sed 's/^/    /' "$CALL_HDR" >&2
    bench_die "$sys: $BIG_NAME GET failed"
  }
  v="$(mbs "$BIG_BYTES" "$secs")"
  MBS[get.$sys]+="$v "
  rss_sample "$sys"
  # untimed: the bytes themselves
  md5="$(curl -s --max-time 600 -u "${USR[$sys]}:${PASS[$sys]}" "$url" | md5sum | cut -d' ' -f1)"
  if [[ "$md5" == "$big_md5" ]]; then
    MD5_OK[$sys]="${MD5_OK[$sys]:-yes}"
  else
    MD5_OK[$sys]=no
    bench_log "$sys: the $BIG_NAME GET brought back MD5 $md5, not the file's $big_md5"
  fi
  echo "RESULT name=box.get1g.$sys mb_s=$v bytes=$size seconds=$secs md5_ok=$([[ "$md5" == "$big_md5" ]] && echo 1 || echo 0) round=$r"
  call "$sys" 204 -X DELETE "$url" || bench_die "$sys: cannot DELETE the $BIG_NAME file"
}

phys_measure() {  # phys_measure ROUND: dd with fdatasync, then loopback TCP
  local out bytes secs v
  out="$(dd if=/dev/zero of="$big_dir/dd" bs=1M count=1024 conv=fdatasync 2>&1)" || bench_die "dd failed: $out"
  rm -f "$big_dir/dd"
  # "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 2.1 s, 511 MB/s"
  bytes="$(awk '/copied/ { print $1 }' <<<"$out")"
  secs="$(awk -F', ' '/copied/ { split($(NF - 1), a, " "); print a[1] }' <<<"$out")"
  v="$(mbs "$bytes" "$secs")"
  PHYS_DISK+="$v "
  echo "RESULT name=box.disk_fdatasync mb_s=$v bytes=$bytes seconds=$secs round=$1"
  read -r bytes secs < <("$BENCH_PYTHON" "$here/../objstore/loopback.py" "$LOOPBACK_BYTES") || bench_die "loopback.py failed"
  v="$(mbs "$bytes" "$secs")"
  PHYS_LOOP+="$v "
  echo "RESULT name=box.loopback_tcp mb_s=$v bytes=$bytes seconds=$secs round=$1"
}

for ((r = 1; r <= ROUNDS; r++)); do
  order="$SYSTEMS"
  ((r % 2 == 0)) && order="$(tr ' ' '\n' <<<"$SYSTEMS" | grep . | tac | tr '\n' ' ')"
  for sys in $order; do put_measure "$sys" "$r"; done
  for sys in $order; do propfind_measure "$sys" "$r"; done
  for sys in $order; do get_measure "$sys" "$r"; done
  ((PHYS)) && phys_measure "$r"
  for sys in $order; do big_measure "$sys" "$r"; done
done
rm -f "$big"

# --- table -----------------------------------------------------------------------------------
# shellcheck disable=SC2086 # word splitting wanted
med() { if [[ -n "${1// /}" ]]; then median $1; fi; }   # median of a "v v v" list, empty if none
f() { [[ -n "$2" && "$2" != nan ]] && printf "%.${1}f" "$2" || printf -- '-'; }   # f DECIMALS VALUE
kib() { [[ -n "$1" && "$1" != 0 ]] && awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' || printf -- '-'; }
row() {  # row LABEL UNIT DECIMALS CIEL APACHE HIGHER_IS_BETTER(1|0)
  local rt
  if (($6)); then rt="$(ratio "$4" "$5")"; else rt="$(ratio "$5" "$4")"; fi
  echo "| $1 | $2 | $(f "$3" "$4") | $(f "$3" "$5") | $(f 2 "$rt") |"
  echo "RATIO name=box.$7 value=$rt" >>"$BENCH_TMP/ratios"
}
: >"$BENCH_TMP/ratios"
echo
echo "## Box (WebDAV): Ciel beside Apache $(has apache && apache_version || echo '(not run)') mod_dav_fs"
echo "$ROUNDS round(s) alternating the systems, medians; HTTP Basic auth on every request; the ratio is"
echo "labelled so that > 1 means Ciel is better (Ciel/Apache for rates, Apache/Ciel for times)"
echo
echo "| case | unit | Ciel | Apache | ratio |"
echo "|---|---|---|---|---|"
row "1. PUT $PUT_FILES files of 4 KiB into a fresh folder, $PUT_CONC at a time (curl --parallel)" "files/s" 0 \
  "$(med "${RATE[put.ciel]:-}")" "$(med "${RATE[put.apache]:-}")" 1 put4k
pc="$(med "${MS[propfind.ciel]:-}")" pa="$(med "${MS[propfind.apache]:-}")"
row "2. PROPFIND Depth 1, folder of $LIST_FILES files, 4 properties (curl, one at a time)" "ms/request" 1 \
  "$pc" "$pa" 0 propfind
rps_of() { [[ -n "$1" ]] && awk -v m="$1" 'BEGIN { if (m > 0) printf "%.2f", 1000 / m }'; }
echo "| 2. the same, as a rate | requests/s | $(f 2 "$(rps_of "$pc")") | $(f 2 "$(rps_of "$pa")") | $(f 2 "$(ratio "$pa" "$pc")") |"
row "3. GET of a 4 KiB file, concurrency $GET_CONC (wrk, $(_bench_seconds "$DURATION") s)" "requests/s" 0 \
  "$(med "${RATE[get.ciel]:-}")" "$(med "${RATE[get.apache]:-}")" 1 get4k
row "3. the same, p99 latency" "ms" 2 "$(med "${P99[get.ciel]:-}")" "$(med "${P99[get.apache]:-}")" 0 get4k_p99
row "4. one $BIG_NAME PUT (curl)" "MB/s" 0 "$(med "${MBS[put.ciel]:-}")" "$(med "${MBS[put.apache]:-}")" 1 put1g
row "4. one $BIG_NAME GET (curl, to /dev/null)" "MB/s" 0 "$(med "${MBS[get.ciel]:-}")" "$(med "${MBS[get.apache]:-}")" 1 get1g
echo
echo "PROPFIND answer: Ciel ${BYTES[propfind.ciel]:--} bytes, Apache ${BYTES[propfind.apache]:--} bytes; $BIG_NAME GET MD5 = the file's: Ciel ${MD5_OK[ciel]:--}, Apache ${MD5_OK[apache]:--}"
if ((PHYS)); then
  echo
  echo "| limit of this machine (same run) | MB/s |"
  echo "|---|---|"
  echo "| disk sequential write, dd bs=1M count=1024 conv=fdatasync | $(f 0 "$(med "$PHYS_DISK")") |"
  echo "| loopback TCP, one stream of $(size_name "$LOOPBACK_BYTES") (python3 sockets) | $(f 0 "$(med "$PHYS_LOOP")") |"
fi
echo
echo "| memory | Ciel | Apache (parent + children) |"
echo "|---|---|---|"
ch="" ah=""
has ciel && ch="$(tree_kb ciel VmHWM)"
has apache && ah="$(tree_kb apache VmHWM)"
echo "| peak RSS (largest sample, taken after each measurement) | $(kib "${RSS_MAX[ciel]:-}") | $(kib "${RSS_MAX[apache]:-}") |"
echo "| sum of the processes' peak RSS (VmHWM) at the end | $(kib "$ch") | $(kib "$ah") |"
for sys in $SYSTEMS; do
  echo "RESULT name=box.rss.$sys peak_rss_kb=${RSS_MAX[$sys]:-0} vmhwm_sum_kb=$(tree_kb "$sys" VmHWM) processes=$(proc_tree_pids "${PID[$sys]}" | wc -l)"
done
echo
cat "$BENCH_TMP/ratios"
