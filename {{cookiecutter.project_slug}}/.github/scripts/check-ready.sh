#!/usr/bin/env bash
# Ask the live site whether it is ready: GET https://HOST/readyz through the load balancer, with the real host
# name (so TLS, DNS, the listener rules and ALLOWED_HOSTS are all on the path). /readyz answers 200 only when the
# database and the cache answer. Tries READY_ATTEMPTS times, READY_POLL_SECONDS apart (a new target takes a
# moment to pass the load balancer's health checks); the last failure stops the workflow.
# Usage: check-ready.sh HOST     (needs curl)
set -euo pipefail

host="${1-}"
attempts="${READY_ATTEMPTS:-10}"
poll_seconds="${READY_POLL_SECONDS:-6}"
fail() { echo "::error::$*" >&2; exit 1; }

[[ "$host" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$ ]] \
  || fail "DOMAIN_NAME \"$host\" is not a host name: set the environment's DOMAIN_NAME variable to the site's host" \
    "(terraform's domain_name, e.g. staging.example.com)"
url="https://$host/readyz"
answer=""
for ((attempt = 1; attempt <= attempts; attempt++)); do
  if answer="$(curl --silent --show-error --fail-with-body --max-time 10 "$url" 2>&1)"; then
    answer="${answer//$'\n'/ }"
    echo "$url is ready: $answer"
    [ -z "${GITHUB_STEP_SUMMARY-}" ] || echo "- \`$url\`: ready" >>"$GITHUB_STEP_SUMMARY"
    exit 0
  fi
  answer="${answer//$'\n'/ }"
  echo "$url, attempt $attempt of $attempts: $answer" >&2
  [ "$attempt" -eq "$attempts" ] || sleep "$poll_seconds"
done
fail "$url is not ready after $attempts attempts (last answer: $answer): nothing after this environment runs"
