#!/usr/bin/env bash
# Roll one environment to an image that is already in ECR, without building anything:
#   1. the tag must exist in ECR;
#   2. every one-off task definition (deploy.json `one_off_tasks`) gets a revision on the new image, and the
#      `migrate` one runs to completion first: a non-zero exit stops the deploy before any service changes;
#   3. every service in deploy.json `services` (web today, a Celery worker later) gets a revision on the new image
#      and is updated, then waited on until stable on that revision (a circuit-breaker rollback is a failure);
#   4. every Lambda function in deploy.json `functions` (if any) is pointed at the same image.
# Names come only from deploy.json, the file terraform reads too. New revisions copy the current one and change
# only the image, so terraform keeps owning everything else in the task definition.
# Usage: deploy.sh ENVIRONMENT SHA [--skip-migrations]     (needs aws and jq, and AWS credentials)
set -euo pipefail
shopt -s inherit_errexit

usage="usage: deploy.sh ENVIRONMENT SHA [--skip-migrations]"
environment="${1:?$usage}"
sha="${2:?$usage}"
run_migrations=true
case "${3-}" in
  "") ;;
  --skip-migrations) run_migrations=false ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="${DEPLOY_CONFIG:-deploy.json}"
bash "$here/validate-sha.sh" "$sha"

fail() { echo "::error::$*" >&2; exit 1; }
summary() { [ -z "${GITHUB_STEP_SUMMARY-}" ] || echo "$*" >>"$GITHUB_STEP_SUMMARY"; }
# A value from this environment's block of deploy.json; -e makes a missing key an error, not "null".
env_json() { jq -ec --arg env "$environment" ".environments[\$env]$1" "$config"; }
env_value() { jq -er --arg env "$environment" ".environments[\$env]$1" "$config"; }

env_json '' >/dev/null || fail "no environment \"$environment\" in $config"
repository="$(jq -er '.ecr_repository' "$config")"
cluster="$(env_value '.cluster')"
web_service="$(env_value '.services.web')"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

# 1. Deploys and rollbacks only ever use an image CI already built, tested and pushed.
aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$sha" --output json >/dev/null \
  || fail "no image tagged $sha in the ECR repository $repository: CI pushes one for every commit on main"
repository_uri="$(aws ecr describe-repositories --repository-names "$repository" --output json \
  | jq -er '.repositories[0].repositoryUri')"
image="$repository_uri:$sha"
echo "image: $image"

# A new revision of FAMILY whose container CONTAINER runs $image; prints the revision's ARN.
register() {
  local family="$1" container="$2"
  aws ecs describe-task-definition --task-definition "$family" --include TAGS --output json \
    | jq --arg container "$container" --arg image "$image" '
        (.tags // []) as $tags
        | .taskDefinition
        | if any(.containerDefinitions[]; .name == $container) then .
          else error("task definition \(.family) has no container named \($container)") end
        | .containerDefinitions |= map(if .name == $container then .image = $image else . end)
        | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
              .registeredAt, .registeredBy, .deregisteredAt)
        | if ($tags | length) > 0 then .tags = $tags else . end' >"$workdir/$family.json"
  aws ecs register-task-definition --cli-input-json "file://$workdir/$family.json" --output json \
    | jq -er '.taskDefinition.taskDefinitionArn'
}

# 2. One-off tasks: all move to the new image; only migrate runs now, and it must succeed.
one_off_tasks="$(env_json '.one_off_tasks' | jq -r 'to_entries[] | "\(.key)\t\(.value)"')"
migrate_arn=""
while IFS=$'\t' read -r role family; do
  [ -n "$role" ] || continue
  arn="$(register "$family" "$role")"
  echo "registered $arn"
  [ "$role" != migrate ] || migrate_arn="$arn"
done <<<"$one_off_tasks"

if $run_migrations; then
  [ -n "$migrate_arn" ] || fail "deploy.json has no one_off_tasks.migrate for $environment"
  # The migration task runs where the web service runs: same subnets and security groups.
  network="$(aws ecs describe-services --cluster "$cluster" --services "$web_service" --output json \
    | jq -ec '.services[0].networkConfiguration')" \
    || fail "cannot read the network configuration of service $web_service in cluster $cluster"
  task_arn="$(aws ecs run-task --cluster "$cluster" --task-definition "$migrate_arn" --launch-type FARGATE \
      --network-configuration "$network" --started-by "deploy-${sha:0:12}" --output json \
    | jq -er '.tasks[0].taskArn')" || fail "could not start the migration task $migrate_arn"
  echo "migrating: $task_arn"
  # The waiter gives up after 10 minutes; long migrations get a few more rounds before the deploy fails.
  for _ in 1 2 3 4 5 6; do
    if aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task_arn"; then break; fi
  done
  task="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" --output json | jq -c '.tasks[0]')"
  [ "$(jq -r '.lastStatus' <<<"$task")" = STOPPED ] || fail "the migration task $task_arn did not finish in time"
  exit_code="$(jq -r '[.containers[] | select(.name == "migrate")][0].exitCode // "none"' <<<"$task")"
  if [ "$exit_code" != 0 ]; then
    fail "migrations failed (exit code $exit_code, $(jq -r '.stoppedReason // "no reason given"' <<<"$task")):" \
      "nothing was deployed; the task's logs are in CloudWatch"
  fi
  echo "migrations applied"
  summary "- migrations: applied by \`$task_arn\`"
fi

# 3. Services: update every one, then wait for each to be stable on its new revision.
services="$(env_json '.services' | jq -r 'to_entries[] | "\(.key)\t\(.value)"')"
declare -A revision_of=()
while IFS=$'\t' read -r role service; do
  [ -n "$role" ] || continue
  revision_of[$service]="$(register "$service" "$role")"
  aws ecs update-service --cluster "$cluster" --service "$service" --task-definition "${revision_of[$service]}" \
    --output json >/dev/null
  echo "updating $service to ${revision_of[$service]}"
done <<<"$services"

for service in "${!revision_of[@]}"; do
  aws ecs wait services-stable --cluster "$cluster" --services "$service" \
    || fail "service $service did not become stable on ${revision_of[$service]}"
  # A rollback (the deployment circuit breaker, or a deployment alarm such as the web 5xx rate) also ends "stable":
  # check what is actually primary now. Deployment alarms keep the rollout IN_PROGRESS through a bake time after
  # the new tasks are stable, so wait that out first (DEPLOY_POLL_SECONDS x DEPLOY_POLL_ROUNDS, 15 s x 60).
  for _ in $(seq "${DEPLOY_POLL_ROUNDS:-60}"); do
    primary="$(aws ecs describe-services --cluster "$cluster" --services "$service" --output json \
      | jq -r '.services[0].deployments[] | select(.status == "PRIMARY") | "\(.taskDefinition) \(.rolloutState)"')"
    [ "${primary##* }" = IN_PROGRESS ] || break
    sleep "${DEPLOY_POLL_SECONDS:-15}"
  done
  [ "$primary" = "${revision_of[$service]} COMPLETED" ] \
    || fail "service $service is not running ${revision_of[$service]} (primary deployment: $primary): rolled back by the circuit breaker or a deployment alarm, or still in progress"
  echo "$service is stable on ${revision_of[$service]}"
  summary "- service \`$service\`: \`${revision_of[$service]}\`"
done

# 4. Lambda functions that run this same image (none until an async consumer adds a `functions` map).
functions="$(jq -r --arg env "$environment" '.environments[$env].functions // {} | .[]' "$config")"
while read -r function; do
  [ -n "$function" ] || continue
  aws lambda update-function-code --function-name "$function" --image-uri "$image" --output json >/dev/null
  aws lambda wait function-updated-v2 --function-name "$function" || fail "function $function did not update"
  echo "function $function runs $image"
  summary "- function \`$function\`: \`$image\`"
done <<<"$functions"

summary "Deployed \`$sha\` to **$environment**."
echo "deployed $sha to $environment"
