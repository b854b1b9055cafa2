#!/usr/bin/env bash
# Roll one environment to an image that is already in ECR, without building anything:
#   1. the tag must exist in ECR, and (unless this is a rollback) the commit must not be older than the one the
#      environment runs: deploys of one environment queue, but nothing orders them, so an older commit's run can
#      come last;
#   2. the image gets a second tag `<environment>-<sha>`, which the ECR lifecycle policy never expires;
#   3. every one-off task definition (deploy.json `one_off_tasks`) gets a revision on the new image, and the
#      `migrate` one runs to completion first: a non-zero exit stops the deploy before any service changes;
#   4. every service in deploy.json `services` gets a revision on the new image and is updated, then waited on
#      until that deployment is PRIMARY and COMPLETED; a FAILED rollout (a deployment alarm or the circuit breaker
#      rolled it back) fails the deploy and prints the alarms in ALARM and the service's latest events;
#   5. every Lambda function in deploy.json `functions` (if any) is pointed at the same image;
#   6. the SHA is written to the environment's SSM parameter `deployed_sha_parameter`: its history is the
#      deploy history ("previous" reads it), and terraform registers its revisions with that image.
# Names come only from deploy.json, the file terraform reads too. New revisions copy the current one and change
# only the image, so terraform keeps owning everything else in the task definition.
#
# Usage: deploy.sh ENVIRONMENT SHA [--unless-superseded]
#        deploy.sh ENVIRONMENT SHA|previous --rollback
#   --unless-superseded  when the environment already runs a newer commit, say so and succeed without deploying
#                        (CI's deploys of main); without it, an older commit is an error
#   --rollback           any SHA that was built, older ones included, and no migrations (older code runs on the
#                        newer schema); "previous" is the SHA deployed before the current one
# Needs aws, jq, git (the repository's history, for the ancestry check) and AWS credentials.
set -euo pipefail
shopt -s inherit_errexit

usage="usage: deploy.sh ENVIRONMENT SHA [--unless-superseded] | deploy.sh ENVIRONMENT SHA|previous --rollback"
environment="${1:?$usage}"
sha="${2:?$usage}"
mode=deploy
case "${3-}" in
  "") ;;
  --rollback) mode=rollback ;;
  --unless-superseded) mode=unless-superseded ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
[ "$#" -le 3 ] || { echo "$usage" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="${DEPLOY_CONFIG:-deploy.json}"
# ECS rollouts take minutes: poll every DEPLOY_POLL_SECONDS, at most DEPLOY_POLLS times (30 minutes).
poll_seconds="${DEPLOY_POLL_SECONDS:-15}"
polls="${DEPLOY_POLLS:-120}"
if [ "$mode" = rollback ]; then
  bash "$here/validate-sha.sh" "$sha" --allow-previous
else
  bash "$here/validate-sha.sh" "$sha"
fi

fail() { echo "::error::$*" >&2; exit 1; }
summary() { [ -z "${GITHUB_STEP_SUMMARY-}" ] || echo "$*" >>"$GITHUB_STEP_SUMMARY"; }
# A value from this environment's block of deploy.json; -e makes a missing key an error, not "null".
env_json() { jq -ec --arg env "$environment" ".environments[\$env]$1" "$config"; }
env_value() { jq -er --arg env "$environment" ".environments[\$env]$1" "$config"; }

env_json '' >/dev/null || fail "no environment \"$environment\" in $config: use one of its environments' keys"
repository="$(jq -er '.ecr_repository' "$config")"
cluster="$(env_value '.cluster')"
web_service="$(env_value '.services.web')"
parameter="$(env_value '.deployed_sha_parameter')"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

# The deploy history: every version of the parameter, oldest first (empty before the first deploy).
deploy_history() {
  aws ssm get-parameter-history --name "$parameter" --output json 2>"$workdir/history.err" \
    | jq -r '.Parameters | sort_by(.Version) | .[].Value' && return 0
  grep -q ParameterNotFound "$workdir/history.err" || { cat "$workdir/history.err" >&2; return 1; }
}
deployed="$(deploy_history)" || fail "cannot read the deploy history in the SSM parameter $parameter"
running="$(tail -n 1 <<<"$deployed")"

# 1. Which SHA, and may it replace the running one?
if [ "$sha" = previous ]; then
  sha="$(grep -vxF "${running:-none}" <<<"$deployed" | tail -n 1)" || true
  [ -n "$sha" ] || fail "no earlier deployed SHA in the history of $parameter (it holds: ${running:-nothing}):" \
    "give the SHA explicitly"
  echo "rolling $environment back from $running to $sha, the SHA deployed before it"
fi
if [ "$mode" != rollback ] && [ -n "$running" ] && [ "$running" != "$sha" ]; then
  if git merge-base --is-ancestor "$running" "$sha" 2>/dev/null; then
    echo "$sha is a descendant of $running, which $environment runs now"
  elif git merge-base --is-ancestor "$sha" "$running" 2>/dev/null; then
    if [ "$mode" = unless-superseded ]; then
      echo "::notice::$environment already runs $running, a newer commit than $sha: nothing to deploy"
      summary "Skipped **$environment**: it already runs \`$running\`, a newer commit than \`$sha\`."
      exit 0
    fi
    fail "$sha is older than $running, which $environment runs now: to go back, run the rollback workflow"
  else
    fail "cannot order $sha after $running, which $environment runs now (not one of its descendants in this" \
      "repository's history): deploy a commit of main, or run the rollback workflow"
  fi
fi

aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$sha" --output json >/dev/null \
  || fail "no image tagged $sha in the ECR repository $repository: CI pushes one for every commit on main"
repository_uri="$(aws ecr describe-repositories --repository-names "$repository" --output json \
  | jq -er '.repositories[0].repositoryUri')"
image="$repository_uri:$sha"
echo "image: $image"

# 2. Tag the image for this environment (tags are immutable: a redeploy finds its tag already there).
kept="$environment-$sha"
if ! aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$kept" --output json \
  >/dev/null 2>&1; then
  manifest="$(aws ecr batch-get-image --repository-name "$repository" --image-ids "imageTag=$sha" --output json \
    | jq -er '.images[0].imageManifest')"
  aws ecr put-image --repository-name "$repository" --image-tag "$kept" --image-manifest "$manifest" \
    --output json >/dev/null
  echo "tagged $sha as $kept"
fi

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

# 3. One-off tasks: all move to the new image; only migrate runs now, and it must succeed.
one_off_tasks="$(env_json '.one_off_tasks' | jq -r 'to_entries[] | "\(.key)\t\(.value)"')"
migrate_arn=""
while IFS=$'\t' read -r role family; do
  [ -n "$role" ] || continue
  arn="$(register "$family" "$role")"
  echo "registered $arn"
  [ "$role" != migrate ] || migrate_arn="$arn"
done <<<"$one_off_tasks"

if [ "$mode" = rollback ]; then
  echo "rollback: no migrations (the schema stays as the newer code left it)"
else
  [ -n "$migrate_arn" ] || fail "deploy.json has no one_off_tasks.migrate for $environment: add the migrate task family"
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
  [ "$(jq -r '.lastStatus' <<<"$task")" = STOPPED ] \
    || fail "the migration task $task_arn did not finish in time (still $(jq -r '.lastStatus' <<<"$task")):" \
      "nothing was deployed; stop it with aws ecs stop-task once you know why"
  exit_code="$(jq -r '[.containers[] | select(.name == "migrate")][0].exitCode // "none"' <<<"$task")"
  if [ "$exit_code" != 0 ]; then
    fail "migrations failed (exit code $exit_code, $(jq -r '.stoppedReason // "no reason given"' <<<"$task")):" \
      "nothing was deployed; the task's logs are in CloudWatch"
  fi
  echo "migrations applied"
  summary "- migrations: applied by \`$task_arn\`"
fi

# 4. Services: update every one, then wait for each new deployment to finish.
services="$(env_json '.services' | jq -r 'to_entries[] | "\(.key)\t\(.value)"')"
declare -A revision_of=() deployment_of=()
while IFS=$'\t' read -r role service; do
  [ -n "$role" ] || continue
  revision_of[$service]="$(register "$service" "$role")"
  deployment_of[$service]="$(aws ecs update-service --cluster "$cluster" --service "$service" \
      --task-definition "${revision_of[$service]}" --output json \
    | jq -er '.service.deployments[] | select(.status == "PRIMARY") | .id')"
  echo "updating $service to ${revision_of[$service]} (deployment ${deployment_of[$service]})"
done <<<"$services"

# Why a rollout failed: the service's alarms that are in ALARM, and what ECS said last.
explain() {
  local described="$1" alarms
  alarms="$(jq -r '.deploymentConfiguration.alarms.alarmNames // [] | .[]' <<<"$described")"
  if [ -n "$alarms" ]; then
    mapfile -t names <<<"$alarms"
    aws cloudwatch describe-alarms --alarm-names "${names[@]}" --state-value ALARM --output json \
      | jq -r '.MetricAlarms[] | "alarm \(.AlarmName): \(.StateReason)"' >&2 || true
  fi
  jq -r '.events // [] | .[:5][] | "event \(.createdAt) \(.message)"' <<<"$described" >&2
}

for service in "${!revision_of[@]}"; do
  id="${deployment_of[$service]}"
  state=""
  for ((poll = 0; poll < polls; poll++)); do
    described="$(aws ecs describe-services --cluster "$cluster" --services "$service" --output json \
      | jq -c '.services[0]')"
    state="$(jq -r --arg id "$id" \
      '[.deployments[] | select(.id == $id) | "\(.status) \(.rolloutState)"][0] // "GONE"' <<<"$described")"
    case "$state" in
      "PRIMARY COMPLETED") break ;;
      *FAILED | GONE)
        explain "$described"
        fail "service $service: deployment $id of ${revision_of[$service]} did not complete" \
          "(${state/GONE/replaced}): ECS keeps or restores the previous revision; the alarms and events above say why" ;;
    esac
    sleep "$poll_seconds"
  done
  if [ "$state" != "PRIMARY COMPLETED" ]; then
    explain "$described"
    fail "service $service: deployment $id of ${revision_of[$service]} is still rolling out after $polls polls" \
      "($state): ECS goes on with it; the deploy stops here"
  fi
  echo "$service runs ${revision_of[$service]}"
  summary "- service \`$service\`: \`${revision_of[$service]}\`"
done

# 5. Lambda functions that run this same image (none until an async consumer adds a `functions` map).
functions="$(jq -r --arg env "$environment" '.environments[$env].functions // {} | .[]' "$config")"
while read -r function; do
  [ -n "$function" ] || continue
  aws lambda update-function-code --function-name "$function" --image-uri "$image" --output json >/dev/null
  aws lambda wait function-updated-v2 --function-name "$function" \
    || fail "function $function did not update to $image (aws lambda get-function --function-name $function)"
  echo "function $function runs $image"
  summary "- function \`$function\`: \`$image\`"
done <<<"$functions"

# 6. The deploy history, and the image terraform's own revisions use from now on.
aws ssm put-parameter --name "$parameter" --value "$sha" --type String --overwrite --output json >/dev/null
summary "Deployed \`$sha\` to **$environment**$([ "$mode" != rollback ] || echo " (rollback, no migrations)")."
echo "deployed $sha to $environment"
