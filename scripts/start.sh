#!/usr/bin/env bash
# The first README command: installs what is missing, builds Ciel in Release and starts
# `ciel serve` with the embedded default (SQLite + local disk) in ./var. Extra arguments go to
# `ciel serve` (for example --listen 0.0.0.0:8080).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-deps.sh
bash scripts/build.sh release
exec ./build/ciel serve --data-dir "${CIEL_DATA_DIR:-$root/var}" "$@"
