#!/usr/bin/env bash
# Builds Ciel. usage: scripts/build.sh [release|asan|fuzz]   (default: release)
#   release  build/ciel, optimised, no tests       (what `ciel serve` runs)
#   asan     build-asan/, Debug with AddressSanitizer + UBSan, with the unit tests
#   fuzz     build-fuzz/, clang with libFuzzer, the fuzz targets only
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
kind="${1:-release}"
jobs="$(nproc)"
case "$kind" in
  release)
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCIEL_TESTS=OFF >/dev/null
    cmake --build build -j "$jobs" ;;
  asan)
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCIEL_SANITIZE=ON -DCIEL_TESTS=ON >/dev/null
    cmake --build build-asan -j "$jobs" ;;
  fuzz)
    CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIEL_TESTS=OFF -DCIEL_FUZZ=ON >/dev/null
    cmake --build build-fuzz -j "$jobs" --target ciel_fuzzers ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
