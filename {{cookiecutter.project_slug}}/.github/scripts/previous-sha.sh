#!/usr/bin/env bash
# Print the commit SHA of the image the web service ran before the one it runs now, for "rollback to previous".
# Walks the web task definition's revisions newest first, from the one in service, and takes the first image that
# differs from the current one (a revision registered for a configuration change only keeps the same image).
# Usage: previous-sha.sh ENVIRONMENT     (needs aws and jq, and AWS credentials)
set -euo pipefail
shopt -s inherit_errexit

environment="${1:?usage: previous-sha.sh ENVIRONMENT}"
config="${DEPLOY_CONFIG:-deploy.json}"
fail() { echo "::error::$*" >&2; exit 1; }

cluster="$(jq -er --arg env "$environment" '.environments[$env].cluster' "$config")"
service="$(jq -er --arg env "$environment" '.environments[$env].services.web' "$config")"
image_of() {
  aws ecs describe-task-definition --task-definition "$1" --output json \
    | jq -er '.taskDefinition.containerDefinitions[] | select(.name == "web") | .image'
}

current="$(aws ecs describe-services --cluster "$cluster" --services "$service" --output json \
  | jq -er '.services[0].taskDefinition')"
current_image="$(image_of "$current")"
family="${current%:*}"
current_revision="${current##*:}"

revisions="$(aws ecs list-task-definitions --family-prefix "${family##*/}" --sort DESC --output json \
  | jq -r '.taskDefinitionArns[]')"
while read -r arn; do
  # --family-prefix also lists longer family names that start the same way; keep this family only.
  if [ -z "$arn" ] || [ "${arn%:*}" != "$family" ] || [ "${arn##*:}" -ge "$current_revision" ]; then
    continue
  fi
  image="$(image_of "$arn")"
  tag="${image##*:}"
  if [ "$image" != "$current_image" ] && [[ "$tag" =~ ^[0-9a-f]{40}$ ]]; then
    echo "rolling $service back from ${current_image##*:} (revision $current_revision) to $tag (revision ${arn##*:})" >&2
    echo "$tag"
    exit 0
  fi
done <<<"$revisions"
fail "no earlier revision of $family runs an image other than $current_image: give the SHA explicitly"
