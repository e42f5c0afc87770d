# shellcheck shell=bash
# S3 client helpers for any S3 endpoint (Ciel's S3 listener, Swift's s3api): requests are sent
# on SigV4 presigned URLs (X-Amz-SignedHeaders=host, UNSIGNED-PAYLOAD, valid $S3_EXPIRES s,
# default 3600) made by bench/lib/s3tool.py, so curl and wrk need no signing of their own.
#
#   s3_use ENDPOINT ACCESS SECRET       the endpoint (http://HOST:PORT) and keys of what follows
#   s3_check_presigner                  s3tool.py's presigner against botocore's (0 when equal)
#   s3_url METHOD /BUCKET[/KEY] [NAME=VALUE...]
#                                       print one presigned URL (extra query parameters signed)
#   s3_paths METHOD /BUCKET/PREFIX COUNT OUT [PARTS]
#                                       write the path?query of COUNT presigned URLs
#                                       (PREFIX0 .. PREFIX<COUNT-1>) to OUT, or to OUT.1 ..
#                                       OUT.PARTS in consecutive slices (one per wrk thread)
#   s3_put_many /BUCKET/PREFIX COUNT FILE [PARALLEL]
#                                       PUT FILE as PREFIX0 .. PREFIX<COUNT-1> with one curl
#                                       process, PARALLEL (default 16) at a time; prints seconds;
#                                       1 unless every PUT answered 200
#   s3_list /BUCKET EXPECTED REQUESTS [MAX_KEYS]
#                                       REQUESTS full ListObjectsV2 listings (pages of MAX_KEYS,
#                                       default 1000, on one keep-alive connection); prints each
#                                       listing's ms, then the pages of one listing; 1 unless each
#                                       lists EXPECTED keys
#   s3_ec2_credential V3_URL USER PASSWORD PROJECT
#                                       a new EC2 credential (Keystone v3 OS-EC2 API): "ACCESS SECRET"
#
# The region is S3_REGION (default us-east-1); addressing is path style.

# shellcheck source=bench/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

S3TOOL="$BENCH_DIR/lib/s3tool.py"

s3_use() {
  export S3_ENDPOINT="$1" S3_ACCESS_KEY="$2" S3_SECRET_KEY="$3" S3_REGION="${S3_REGION:-us-east-1}"
}

s3_check_presigner() { "$BENCH_PYTHON" "$S3TOOL" check; }
s3_url() { "$BENCH_PYTHON" "$S3TOOL" url "$@"; }
s3_paths() { "$BENCH_PYTHON" "$S3TOOL" paths "$@"; }
s3_list() { "$BENCH_PYTHON" "$S3TOOL" list "$@"; }
s3_ec2_credential() { "$BENCH_PYTHON" "$S3TOOL" ec2 "$@"; }

s3_put_many() {
  local prefix="$1" count="$2" file="$3" par="${4:-16}" cfg codes start ok
  cfg="$(mktemp "$BENCH_TMP/s3putmany.XXXXXX")"
  codes="$cfg.codes"
  "$BENCH_PYTHON" "$S3TOOL" curlcfg PUT "$prefix" "$count" "$file" >"$cfg" || { rm -f "$cfg"; return 1; }
  start="$(date +%s.%N)"
  curl -s --no-progress-meter --parallel --parallel-max "$par" --max-time 60 -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' -w '%{http_code}\n' -K "$cfg" >"$codes" 2>"$cfg.err" || true
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", e - s }'
  ok="$(grep -c '^200$' "$codes" || true)"
  if ((ok != count)); then
    bench_log "s3_put_many: $ok of $count PUTs to $S3_ENDPOINT${prefix}N answered 200; status codes seen:"
    sort "$codes" | uniq -c >&2
    head -5 "$cfg.err" >&2
    rm -f "$cfg" "$codes" "$cfg.err"; return 1
  fi
  rm -f "$cfg" "$codes" "$cfg.err"
}
