#!/usr/bin/env bash
# Install the Debian packages listed in .ci/apt-packages.txt that are not installed yet (needs root for that).
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t wanted < <(grep -Ev '^\s*(#|$)' apt-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; install them as root (make system-deps, or apt-get install)," \
    "or do without: outside CI the tests that need them skip, naming what is missing" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
