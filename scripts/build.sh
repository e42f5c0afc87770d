#!/usr/bin/env bash
# Builds Ciel. usage: scripts/build.sh [release|asan|fuzz|web]   (default: release)
#   release  build/ciel, optimised, no tests       (what `ciel serve` runs)
#   asan     build-asan/, Debug with AddressSanitizer + UBSan, with the unit tests
#   fuzz     build-fuzz/, clang with libFuzzer, the fuzz targets only
#   web      web/dist, the web console (npm ci from the committed lock file, then Vite); release
#            builds it too
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
kind="${1:-release}"
jobs="$(nproc)"
build_web() {
  # npm ci only when the lock file changed since the last install (a copy is kept beside the packages).
  if ! cmp -s web/package-lock.json web/node_modules/.ciel-installed-lock.json; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.ciel-installed-lock.json)
  fi
  (cd web && npm run --silent build)
}
case "$kind" in
  release)
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCIEL_TESTS=OFF >/dev/null
    cmake --build build -j "$jobs"
    build_web ;;
  web)
    build_web ;;
  asan)
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCIEL_SANITIZE=ON -DCIEL_TESTS=ON >/dev/null
    cmake --build build-asan -j "$jobs" ;;
  fuzz)
    CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIEL_TESTS=OFF -DCIEL_FUZZ=ON >/dev/null
    cmake --build build-fuzz -j "$jobs" --target ciel_fuzzers ;;
  *) echo "usage: $0 [release|asan|fuzz|web]" >&2; exit 2 ;;
esac
