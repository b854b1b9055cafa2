#!/usr/bin/env bash
# Accept only a full commit SHA (the tag CI pushes for every commit on main), or the word "previous" when the
# caller passes --allow-previous (rollbacks). Anything else stops the workflow before it reaches AWS.
set -euo pipefail

value="${1-}"
allow_previous="${2-}"

if [ "$allow_previous" = "--allow-previous" ] && [ "$value" = "previous" ]; then
  exit 0
fi
if [[ "$value" =~ ^[0-9a-f]{40}$ ]]; then
  exit 0
fi
expected="a full 40-character lowercase commit SHA"
[ "$allow_previous" = "--allow-previous" ] && expected="$expected, or \"previous\""
printf '::error::image SHA %q is not %s (git log --format=%%H, or the README'"'"'s ECR query)\n' "$value" "$expected"
exit 1
