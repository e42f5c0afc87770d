#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each one for a bounded time from its seed corpus.
# usage: tests/fuzz/run.sh RESULTS_XML    (FUZZ_SECONDS=20 per target by default)
# Writes a JUnit XML file with one testcase per target: a failure when the target crashed, leaked,
# timed out on one input or broke an invariant (the reproducer is kept in build-fuzz/artifacts/).
# New inputs found go to build-fuzz/corpus/<target>/; the committed seeds are never modified.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:?usage: $0 RESULTS_XML}"
seconds="${FUZZ_SECONDS:-20}"
targets=(http_request_fuzz path_fuzz range_fuzz settings_fuzz codec_fuzz router_fuzz keystone_body_fuzz
         swift_acl_fuzz slo_manifest_fuzz tempurl_fuzz multipart_fuzz tar_fuzz bulk_body_fuzz object_name_fuzz
         s3_sigv4_fuzz s3_chunked_fuzz s3_xml_fuzz dav_fuzz box_link_path_fuzz activity_query_fuzz share_params_fuzz)
work="$root/build-fuzz"
mkdir -p "$(dirname "$out")"

xml_escape() { /usr/bin/python3 -c 'import sys, html; sys.stdout.write(html.escape(sys.stdin.read()))'; }

cases=()
failures=0
add_case() {  # name seconds failure-message-or-empty log-file
  local name="$1" secs="$2" message="$3" log="$4"
  local body=""
  if [[ -n "$message" ]]; then
    failures=$((failures + 1))
    local detail=""
    [[ -f "$log" ]] && detail="$(tail -n 60 "$log" | xml_escape)"
    body="<failure message=\"$(printf '%s' "$message" | xml_escape)\">${detail}</failure>"
  fi
  cases+=("<testcase classname=\"fuzz\" name=\"$name\" time=\"$secs\">$body</testcase>")
}

write_xml() {
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites><testsuite name=\"fuzz\" tests=\"${#cases[@]}\" failures=\"$failures\">"
    printf '%s\n' "${cases[@]}"
    echo "</testsuite></testsuites>"
  } > "$out"
}

build_log="$(mktemp)"
if ! bash scripts/build.sh fuzz > "$build_log" 2>&1; then
  tail -n 40 "$build_log"
  add_case build 0 "the fuzz targets did not build" "$build_log"
  write_xml
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"

mkdir -p "$work/artifacts" "$work/logs"
for t in "${targets[@]}"; do
  bin="$work/tests/fuzz/$t"
  corpus="$work/corpus/$t"
  seeds="$root/tests/fuzz/corpus/$t"
  log="$work/logs/$t.log"
  mkdir -p "$corpus"
  if [[ ! -x "$bin" ]]; then
    add_case "$t" 0 "$bin was not built" ""
    continue
  fi
  start=$(date +%s)
  # -max_total_time bounds the run; -timeout flags one slow input; the corpus dir comes first so
  # new inputs land there and not among the committed seeds.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$t-" "$corpus" "$seeds" > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [[ $rc -ne 0 ]]; then
    echo "fuzz $t: FAILED (exit $rc) after ${took}s; see $log"
    add_case "$t" "$took" "$t failed with exit status $rc; reproducer in $work/artifacts/" "$log"
  else
    echo "fuzz $t: ok, ${runs:-?} inputs in ${took}s"
    add_case "$t" "$took" "" ""
  fi
done
write_xml
[[ $failures -eq 0 ]]
