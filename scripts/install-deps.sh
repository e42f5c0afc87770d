#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are missing.
# Idempotent: when every package is present it makes no apt call at all.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Groups whose name ends in "-guest" list packages unpacked into guest images (tools/build-test-image), not host packages.
wanted=$(awk '/^# group:/ { guest = ($3 ~ /-guest$/) } !guest && !/^[[:space:]]*(#|$)/' "$here/packages.txt")
missing=()
for pkg in $wanted; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done
# The web console is built with Node.js and npm: the machine's own when it has them (a newer
# Node.js than Debian's may be installed from elsewhere, with its own npm), else Debian's.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "ciel: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql package starts a cluster service; Ciel's tests start their own private server,
# so keep the packaged service from starting (policy-rc.d exit 101 = "do not start").
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
