# shellcheck shell=bash
# Helpers sourced by every benchmark under bench/.
#
#   free_port                          print a free 127.0.0.1 TCP port
#   wait_http URL [TIMEOUT_S]          poll URL until any HTTP answer (default 60 s); 1 on time-out
#   wrk_run URL CONCURRENCY DURATION [extra wrk args...]
#                                      run wrk --latency; set WRK_* globals; print a RESULT line
#   wrk_result [KEY=VALUE...]          print the RESULT line of the last wrk_run, plus fields
#   wrk_parse FILE                     parse saved wrk output into the WRK_* globals
#   median N...                        print the median of the numbers
#   ratio A B                          print A/B with 3 decimals ("nan" when B is 0 or empty)
#   proc_tree_pids PID                 print PID and all its descendants, one a line
#   proc_tree_rss_kb PID               print the summed VmRSS (KiB) of PID's process tree
#   bench_tmpdir NAME                  make and print a dir under $BENCH_TMP (removed at exit)
#   bench_on_exit 'COMMAND'            run COMMAND at exit (LIFO), before temp dirs are removed
#   bench_cpu_busy_pct [SECONDS]       print the % of CPU time not idle over SECONDS (default 1)
#   bench_warn_if_busy                 warn on stderr when the machine is busy before a run
#   bench_install_packages             install missing packages from bench/packages.txt
#
# RESULT lines are the machine-readable output, one measurement a line:
#   RESULT name=NAME rps=R p50_ms=X p99_ms=Y requests=N non2xx=N sock_connect=N sock_read=N \
#          sock_write=N sock_timeout=N duration_s=S conc=C
# Everything else a benchmark prints goes to stderr.

[[ -n "${_BENCH_COMMON_SH:-}" ]] && return 0
_BENCH_COMMON_SH=1

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_PYTHON=/usr/bin/python3

bench_log() { printf '%s\n' "$*" >&2; }
bench_die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# --- cleanup ----------------------------------------------------------------
# One private root per benchmark process, made here in the sourcing shell (bench_tmpdir is
# usually called inside $(...), so it cannot register anything itself). Mode 755: nginx workers
# run as www-data and must reach the served directory.
BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ciel-bench.XXXXXX")" || { echo "bench: mktemp failed" >&2; exit 1; }
chmod 755 "$BENCH_TMP"
_BENCH_EXIT_CMDS=()

bench_on_exit() { _BENCH_EXIT_CMDS+=("$1"); }

bench_cleanup() {
  local i
  trap - EXIT INT TERM
  if [[ -n "${_BENCH_WRK_PID:-}" ]]; then
    kill -TERM "$_BENCH_WRK_PID" 2>/dev/null || true   # timeout(1) passes it on to wrk
    wait "$_BENCH_WRK_PID" 2>/dev/null || true
  fi
  for ((i = ${#_BENCH_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
    eval "${_BENCH_EXIT_CMDS[i]}" || true
  done
  _BENCH_EXIT_CMDS=()
  [[ -n "${BENCH_TMP:-}" && -d "$BENCH_TMP" ]] && rm -rf -- "$BENCH_TMP"
  BENCH_TMP=""
}
trap 'bench_cleanup' EXIT
trap 'bench_cleanup; exit 130' INT
trap 'bench_cleanup; exit 143' TERM

bench_tmpdir() { mktemp -d "$BENCH_TMP/$1.XXXXXX"; }

# Stops a process (and, for a master process, its children) by pid: TERM, then KILL after
# TIMEOUT_S seconds (default 10).
bench_stop_pid() {
  local pid="$1" timeout="${2:-10}" i kids
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kids="$(proc_tree_pids "$pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # whatever is left of the tree (including a master that ignored TERM)
  for i in $kids; do kill -KILL "$i" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}

# --- ports and readiness ---------------------------------------------------------
free_port() {
  "$BENCH_PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {
  local url="$1" timeout="${2:-60}" deadline code
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)"
    [[ -n "$code" && "$code" != 000 ]] && return 0
    sleep 0.2
  done
  bench_log "bench: $url did not answer within ${timeout}s"
  return 1
}

# --- wrk ---------------------------------------------------------------------------
# wrk_parse FILE: reads wrk --latency output and sets
#   WRK_RPS WRK_P50_MS WRK_P75_MS WRK_P90_MS WRK_P99_MS WRK_REQUESTS WRK_NON2XX
#   WRK_SOCK_CONNECT WRK_SOCK_READ WRK_SOCK_WRITE WRK_SOCK_TIMEOUT
# Latencies are converted to milliseconds whatever unit wrk chose (us, ms, s, m, h).
# WRK_NON2XX is wrk's "Non-2xx or 3xx responses" count, i.e. status >= 400.
# Returns 1 when the output has no Requests/sec line (wrk failed).
wrk_parse() {
  local out
  out="$(awk '
    function ms(v,   n, u) {
      n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000
      if (u == "ms") return n + 0
      if (u == "s")  return n * 1000
      if (u == "m")  return n * 60000
      if (u == "h")  return n * 3600000
      return n + 0
    }
    BEGIN { rps = ""; p50 = p75 = p90 = p99 = ""; req = 0; non = 0; sc = sr = sw = st = 0; dist = 0 }
    /Latency Distribution/ { dist = 1; next }
    dist && $1 ~ /^[0-9.]+%$/ {
      q = $1; sub(/%$/, "", q)
      if (q + 0 == 50) p50 = ms($2); else if (q + 0 == 75) p75 = ms($2)
      else if (q + 0 == 90) p90 = ms($2); else if (q + 0 == 99) p99 = ms($2)
      next
    }
    dist && $1 !~ /^[0-9.]+%$/ { dist = 0 }
    / requests in / { req = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { non = $NF }
    /Socket errors:/ {
      for (i = 1; i <= NF; i++) {
        k = $i; v = $(i + 1); gsub(/,/, "", v)
        if (k == "connect") sc = v; else if (k == "read") sr = v
        else if (k == "write") sw = v; else if (k == "timeout") st = v
      }
    }
    END {
      printf "%s %s %s %s %s %s %s %s %s %s %s\n", (rps == "" ? "-" : rps), \
        (p50 == "" ? "-" : sprintf("%.3f", p50)), (p75 == "" ? "-" : sprintf("%.3f", p75)), \
        (p90 == "" ? "-" : sprintf("%.3f", p90)), (p99 == "" ? "-" : sprintf("%.3f", p99)), \
        req, non, sc, sr, sw, st
    }' "$1")"
  # shellcheck disable=SC2034 # WRK_P75_MS and WRK_P90_MS are for callers
  read -r WRK_RPS WRK_P50_MS WRK_P75_MS WRK_P90_MS WRK_P99_MS WRK_REQUESTS WRK_NON2XX \
    WRK_SOCK_CONNECT WRK_SOCK_READ WRK_SOCK_WRITE WRK_SOCK_TIMEOUT <<<"$out"
  [[ "$WRK_RPS" != - ]]
}

# wrk's duration syntax (10, 10s, 2m, 1h) in seconds
_bench_seconds() {
  local d="$1"
  case "$d" in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}

# wrk_run URL CONCURRENCY DURATION [extra wrk args...]
# Environment: WRK_NAME (the RESULT name; default: the URL), WRK_QUIET=1 (no RESULT line; call
# wrk_result yourself to add fields), WRK_THREADS (default: min(nproc,
# CONCURRENCY)), WRK_TIMEOUT (per-request time-out, default 30s so slow peers show in p99 rather
# than as time-outs). Must not be called in a subshell if the caller wants the WRK_* globals.
# The raw output stays in WRK_LAST_OUT (a file in a bench temp dir).
wrk_run() {
  local url="$1" conc="$2" dur="$3" threads name
  shift 3
  threads="${WRK_THREADS:-$(nproc)}"
  ((threads > conc)) && threads="$conc"
  name="${WRK_NAME:-$url}"
  if [[ -z "${_WRK_DIR:-}" ]]; then _WRK_DIR="$(bench_tmpdir wrk)" || return 1; fi
  WRK_LAST_OUT="$(mktemp "$_WRK_DIR/wrk.XXXXXX")"
  # wrk's own -d bounds the run; timeout(1) is a guard against a hung peer. wrk runs as a
  # background job waited for, so that a signal runs the cleanup trap at once (bash defers
  # traps until a foreground command ends) and the trap can stop it.
  timeout --kill-after=5 "$(( $(_bench_seconds "$dur") + 60 ))" \
    wrk -t "$threads" -c "$conc" -d "$dur" --timeout "${WRK_TIMEOUT:-30s}" --latency "$@" "$url" \
    >"$WRK_LAST_OUT" 2>&1 </dev/null &
  _BENCH_WRK_PID=$!
  wait "$_BENCH_WRK_PID" || true
  _BENCH_WRK_PID=""
  if ! wrk_parse "$WRK_LAST_OUT"; then
    bench_log "bench: wrk failed for $name:"; sed 's/^/  /' "$WRK_LAST_OUT" >&2
    return 1
  fi
  WRK_NAME_LAST="$name"; WRK_CONC_LAST="$conc"; WRK_DURATION_S_LAST="$(_bench_seconds "$dur")"
  # shellcheck disable=SC2119 # no extra fields here
  [[ "${WRK_QUIET:-0}" == 1 ]] || wrk_result
}

# wrk_result [KEY=VALUE...]: print the RESULT line of the last wrk_run, extra fields appended.
# shellcheck disable=SC2120 # extra fields are optional
wrk_result() {
  printf 'RESULT name=%s rps=%s p50_ms=%s p99_ms=%s requests=%s non2xx=%s sock_connect=%s sock_read=%s sock_write=%s sock_timeout=%s duration_s=%s conc=%s' \
    "$WRK_NAME_LAST" "$WRK_RPS" "$WRK_P50_MS" "$WRK_P99_MS" "$WRK_REQUESTS" "$WRK_NON2XX" \
    "$WRK_SOCK_CONNECT" "$WRK_SOCK_READ" "$WRK_SOCK_WRITE" "$WRK_SOCK_TIMEOUT" \
    "$WRK_DURATION_S_LAST" "$WRK_CONC_LAST"
  if (($#)); then printf ' %s' "$@"; fi
  printf '\n'
}

# --- statistics ----------------------------------------------------------------------
median() {
  (($# > 0)) || { echo nan; return 1; }
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR % 2) printf "%s\n", v[(NR + 1) / 2]
          else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || b + 0 == 0 || a !~ /^[-+0-9.eE]+$/ || b !~ /^[-+0-9.eE]+$/) print "nan"
    else printf "%.3f\n", a / b }'
}

# --- processes -------------------------------------------------------------------------
proc_tree_pids() {
  local root="$1"
  [[ -d /proc/$root ]] || return 0
  # "pid ppid" for every process; the comm field may hold spaces, so cut after the last ')'
  local f line pid rest ppid
  declare -A kids=()
  for f in /proc/[0-9]*/stat; do
    line="$(cat "$f" 2>/dev/null)" || continue
    [[ -n "$line" ]] || continue
    pid="${line%% *}"
    rest="${line##*) }"
    read -r _ ppid _ <<<"$rest"
    kids[$ppid]+="$pid "
  done
  local queue=("$root") p
  while ((${#queue[@]})); do
    p="${queue[0]}"; queue=("${queue[@]:1}")
    echo "$p"
    for f in ${kids[$p]:-}; do queue+=("$f"); done
  done
}

proc_tree_rss_kb() {
  local total=0 p kb
  for p in $(proc_tree_pids "$1"); do
    kb="$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)"
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# bench_cpu_busy_pct [SECONDS]: percent of all CPU time not idle over SECONDS (default 1)
bench_cpu_busy_pct() {
  local a b
  a="$(head -1 /proc/stat)"; sleep "${1:-1}"; b="$(head -1 /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN {
    n = split(a, x); split(b, y); tot = 0
    for (i = 2; i <= n; i++) tot += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%d\n", (tot > 0) ? 100 * (tot - idle) / tot : 0 }'
}

# bench_warn_if_busy: before a measurement, warn on stderr when something else keeps the CPUs
# busy (a build, another benchmark): the figures of such a run are not comparable.
bench_warn_if_busy() {
  local pct
  pct="$(bench_cpu_busy_pct 1)"
  if ((pct > ${BENCH_BUSY_PCT:-15})); then
    bench_log "bench: warning: the machine is ${pct}% busy before the run; figures are unreliable"
  fi
}

# --- packages ---------------------------------------------------------------------------
# Installs the packages of bench/packages.txt that are missing. Debian's keystone, swift,
# memcached and apache2 packages would start their services on install: a policy-rc.d that
# answers 101 ("do not start") is put in place only if the machine has none, and only the one put
# here is removed afterwards.
bench_install_packages() {
  local wanted missing=() pkg status made_policy=0
  wanted="$(grep -v '^\s*#' "$BENCH_DIR/packages.txt" | grep -v '^\s*$')"
  for pkg in $wanted; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == installed ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  bench_log "bench: installing Debian packages: ${missing[*]}"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/dev/null || rc=$?
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d
  return "$rc"
}
