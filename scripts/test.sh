#!/usr/bin/env bash
# The second README command: installs what is missing, builds, and runs every test suite
# (unit tests under ASan/UBSan, the store suite against a private PostgreSQL and a private Ceph
# cluster, integration tests with the real clients, and short fuzz runs). Ends with "N passed, N failed"; exits non-zero on
# any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/build-test-results"
rm -rf "$results" && mkdir -p "$results"
export CIEL_TEST_RESULTS="$results"
fatal=0
# Commands run on exit (stopping the private test servers), last started first stopped.
cleanups=()
run_cleanups() {
  local i
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[i]}"; done
}
trap run_cleanups EXIT

step() { printf '\n== %s\n' "$*"; }

step "install"
bash scripts/install-deps.sh || { echo "package installation failed"; exit 1; }

step "build (release, for integration tests)"
bash scripts/build.sh release || fatal=1
step "build (asan+ubsan, unit tests)"
bash scripts/build.sh asan || fatal=1
if [[ $fatal -ne 0 ]]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# PostgreSQL for the store suite: a private server on a loopback port, stopped on exit.
if [[ -x scripts/pg-test-server.sh ]]; then
  step "postgresql (private test server)"
  # Directly under /tmp: PostgreSQL runs as the postgres user, which may not be able to enter the
  # checkout (a clone in a private directory, say).
  pg_dir="$(mktemp -u /tmp/ciel-pg.XXXXXX)"
  eval "$(bash scripts/pg-test-server.sh start "$pg_dir")" || { echo "could not start PostgreSQL"; echo "0 passed, 1 failed"; exit 1; }
  cleanups+=('bash scripts/pg-test-server.sh stop "$pg_dir" >/dev/null 2>&1; rm -rf "$pg_dir"')
fi

# Ceph for the RADOS blob store suite: one monitor and one OSD (BlueStore in a sparse file) on
# 127.0.0.1, about 15 s to start, stopped on exit. If it cannot start, the RADOS tests fail (their
# environment is missing), they never skip.
if [[ -x scripts/ceph-test-cluster.sh ]]; then
  step "ceph (private test cluster)"
  ceph_dir="$(mktemp -d /tmp/ciel-ceph.XXXXXX)"
  cleanups+=('bash scripts/ceph-test-cluster.sh stop "$ceph_dir" >/dev/null 2>&1; rm -rf "$ceph_dir"')
  if ! eval "$(bash scripts/ceph-test-cluster.sh start "$ceph_dir")"; then
    echo "could not start the Ceph test cluster; the RADOS blob store tests will fail"
  fi
fi

step "unit tests"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --timeout 300 -j 2 --output-junit "$results/unit.xml") || true

if compgen -G "tests/integration/test_*.py" >/dev/null; then
  step "integration tests"
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration --junitxml="$results/integration.xml" || true
fi

if [[ -f tests/fuzz/CMakeLists.txt ]]; then
  step "fuzz smoke runs"
  bash tests/fuzz/run.sh "$results/fuzz.xml" || true
fi

step "summary"
/usr/bin/python3 scripts/summarize.py "$results"
