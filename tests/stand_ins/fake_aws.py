#!/usr/bin/env python3
"""A stand-in for the AWS CLI: the calls the deploy scripts make, against a JSON state file.

FAKE_AWS_STATE names the state (ECR images, ECS task definitions and services, Lambda functions, SSM
parameters, CloudWatch alarms) and FAKE_AWS_LOG a file that gets every call's arguments as one JSON line. It
rejects what the real CLI or API would reject for those calls, and prints errors the way the CLI does.

`state["failures"]` switches on the ways AWS lets a deploy down:
  waiter_times_out: ["tasks-stopped", ...]  those waiters give up ("Max attempts exceeded", exit 255);
  task_stays_running: true                  a started task never stops;
  container_without_exit_code: true         the stopped task's containers report no exit code;
  run_task_fails: true                      run-task answers with a failure instead of a task;
  ssm_denied: true                          every SSM call is refused (AccessDenied);
  function_update_fails: [name, ...]        those functions' updates end in LastUpdateStatus Failed;
  rollout_fails: {service: alarm name}      the new deployment fails (a deployment-alarm rollback): that
                                            alarm goes to ALARM and the previous revision is PRIMARY again;
  rollout_never_finishes: [service, ...]    the new deployment stays IN_PROGRESS.
A deployment goes IN_PROGRESS -> COMPLETED over `rollout_polls` describe-services calls (ECS takes minutes).
"""

import json
import os
import sys
from pathlib import Path

state_path, log_path = os.environ["FAKE_AWS_STATE"], os.environ["FAKE_AWS_LOG"]
state = json.loads(Path(state_path).read_text())
argv = sys.argv[1:]
with open(log_path, "a") as log:
    log.write(json.dumps(argv) + "\n")


def fail(code, message):
    print(f"\nAn error occurred ({code}): {message}", file=sys.stderr)
    sys.exit(254)


def save():
    Path(state_path).write_text(json.dumps(state))


def out(value):
    print(json.dumps(value))
    sys.exit(0)


service, operation, rest = argv[0], argv[1], argv[2:]
args = {"": []}  # "" holds positional words, e.g. the waiter's name in `aws ecs wait tasks-stopped`
key = ""
for token in rest:
    if token.startswith("--"):
        key = token[2:]
        args[key] = []
    else:
        args[key].append(token)


def one(name):
    return args[name][0]


failures = state.setdefault("failures", {})


def waiter_fails(name):
    """The CLI's waiters exit 255 when they give up."""
    if name in failures.get("waiter_times_out", []):
        print(f"\nWaiter {name} failed: Max attempts exceeded", file=sys.stderr)
        sys.exit(255)


if "output" in args and one("output") != "json":
    fail("Unsupported", "the scripts parse JSON with jq, so they always ask for --output json")

# Fields register-task-definition accepts; the CLI refuses anything else in --cli-input-json.
REGISTER_FIELDS = {
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "tags",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
}


def find_definition(ref):
    name = ref.split("/")[-1]
    family, _, revision = name.partition(":")
    revisions = state["task_definitions"].get(family)
    if not revisions:
        fail("ClientException", f"Unable to describe task definition {ref}.")
    if revision:
        for definition in revisions:
            if str(definition["revision"]) == revision:
                return definition
        fail("ClientException", f"Unable to describe task definition {ref}.")
    return revisions[-1]


def advance_rollout(name, current):
    """One poll's worth of an ECS rolling deployment of the PRIMARY deployment."""
    (primary,) = [d for d in current["deployments"] if d["status"] == "PRIMARY"]
    if primary["rolloutState"] != "IN_PROGRESS" or name in failures.get("rollout_never_finishes", []):
        return
    primary["polls"] = primary.get("polls", 0) + 1
    if primary["polls"] < state.get("rollout_polls", 2):
        return
    events = current.setdefault("events", [])
    if name not in failures.get("rollout_fails", {}):
        primary["rolloutState"] = "COMPLETED"
        current["taskDefinition"] = primary["taskDefinition"]
        current["deployments"] = [primary]
        events.append({"createdAt": "2026-01-01T00:10:00Z", "message": f"(service {name}) has reached a steady state."})
        return
    # A deployment alarm fired (or, with no alarm named, the circuit breaker tripped): ECS marks this deployment
    # FAILED and rolls back to the previous revision.
    alarm = failures["rollout_fails"][name]
    if alarm:
        state["alarms"][alarm]["StateValue"] = "ALARM"
    cause = f"alarm {alarm} is in ALARM" if alarm else "the deployment circuit breaker tripped"
    primary["rolloutState"] = "FAILED"
    primary["status"] = "ACTIVE"
    rollback = {
        "id": f"ecs-svc/{len(events) + 9000}",
        "status": "PRIMARY",
        "taskDefinition": current["taskDefinition"],
        "rolloutState": "COMPLETED",
    }
    current["deployments"] = [rollback, primary]
    events.append(
        {
            "createdAt": "2026-01-01T00:05:00Z",
            "message": f"(service {name}) rolling back to deployment {rollback['id']}: {cause}.",
        }
    )


def service_state(cluster, name):
    if cluster not in state["clusters"]:
        fail("ClusterNotFoundException", "Cluster not found.")
    if name not in state["clusters"][cluster]:
        fail("ServiceNotFoundException", "Service not found.")
    return state["clusters"][cluster][name]


if service == "ecr" and operation == "describe-images":
    if one("repository-name") != state["repository"]:
        fail("RepositoryNotFoundException", "The repository does not exist")
    tag = one("image-ids").removeprefix("imageTag=")
    if tag not in state["images"]:
        fail("ImageNotFoundException", f"The image with imageId {{imageTag:'{tag}'}} does not exist")
    out({"imageDetails": [{"imageTags": [tag]}]})
if service == "ecr" and operation == "batch-get-image":
    if one("repository-name") != state["repository"]:
        fail("RepositoryNotFoundException", "The repository does not exist")
    tag = one("image-ids").removeprefix("imageTag=")
    if tag not in state["images"]:
        out({"images": [], "failures": [{"imageId": {"imageTag": tag}, "failureCode": "ImageNotFound"}]})
    manifest = state.setdefault("manifests", {}).get(tag, json.dumps({"schemaVersion": 2, "built": tag}))
    out({"images": [{"imageId": {"imageTag": tag}, "imageManifest": manifest}], "failures": []})
if service == "ecr" and operation == "put-image":
    if one("repository-name") != state["repository"]:
        fail("RepositoryNotFoundException", "The repository does not exist")
    tag, manifest = one("image-tag"), one("image-manifest")
    manifests = state.setdefault("manifests", {})
    if tag in state["images"]:
        if manifests.get(tag) == manifest:
            fail("ImageAlreadyExistsException", f"Image with digest and tag '{tag}' already exists")
        fail("ImageTagAlreadyExistsException", f"The image tag '{tag}' already exists and cannot be overwritten")
    state["images"].append(tag)
    manifests[tag] = manifest
    save()
    out({"image": {"imageId": {"imageTag": tag}, "imageManifest": manifest}})
if service == "ecr" and operation == "describe-repositories":
    if one("repository-names") != state["repository"]:
        fail("RepositoryNotFoundException", "The repository does not exist")
    out({"repositories": [{"repositoryName": state["repository"], "repositoryUri": state["repository_uri"]}]})
if service == "ecs" and operation == "describe-task-definition":
    definition = find_definition(one("task-definition"))
    result = {"taskDefinition": definition}
    if args.get("include") == ["TAGS"]:
        result["tags"] = state["tags"].get(definition["family"], [])
    out(result)
if service == "ecs" and operation == "register-task-definition":
    source = one("cli-input-json")
    if not source.startswith("file://"):
        fail("ParamValidation", f"the scripts pass --cli-input-json file://..., got {source}")
    request = json.loads(Path(source.removeprefix("file://")).read_text())
    unknown = sorted(set(request) - REGISTER_FIELDS)
    if unknown:
        print(f'Parameter validation failed:\nUnknown parameter in input: "{unknown[0]}"', file=sys.stderr)
        sys.exit(252)
    family = request["family"]
    revisions = state["task_definitions"].setdefault(family, [])
    revision = revisions[-1]["revision"] + 1 if revisions else 1
    arn = f"arn:aws:ecs:{state['region']}:{state['account']}:task-definition/{family}:{revision}"
    definition = {
        **request,
        "taskDefinitionArn": arn,
        "revision": revision,
        "status": "ACTIVE",
        "compatibilities": ["EC2", "FARGATE"],
        "requiresAttributes": [],
        "registeredAt": "2026-01-01",
    }
    definition.pop("tags", None)
    revisions.append(definition)
    state["registered_tags"][arn] = request.get("tags", [])
    save()
    out({"taskDefinition": definition})
if service == "ecs" and operation == "list-task-definitions":
    prefix = one("family-prefix")
    arns = [
        d["taskDefinitionArn"]
        for family, revisions in state["task_definitions"].items()
        if family.startswith(prefix)
        for d in revisions
    ]
    arns.sort(key=lambda arn: int(arn.rsplit(":", 1)[1]), reverse=one("sort") == "DESC")
    out({"taskDefinitionArns": arns})
if service == "ecs" and operation == "describe-services":
    cluster = one("cluster")
    services = []
    for name in args["services"]:
        current = service_state(cluster, name)
        advance_rollout(name, current)
        services.append(
            {
                "serviceName": name,
                "taskDefinition": current["taskDefinition"],
                "networkConfiguration": current["networkConfiguration"],
                "deployments": current["deployments"],
                "deploymentConfiguration": current.get("deploymentConfiguration", {}),
                "events": list(reversed(current.get("events", []))),  # newest first, as ECS lists them
            }
        )
    save()
    out({"services": services, "failures": []})
if service == "ecs" and operation == "update-service":
    current = service_state(one("cluster"), one("service"))
    new = find_definition(one("task-definition"))["taskDefinitionArn"]
    state["deployment_count"] = state.get("deployment_count", 0) + 1
    deployment = {
        "id": f"ecs-svc/{state['deployment_count']:04d}",
        "status": "PRIMARY",
        "taskDefinition": new,
        "rolloutState": "IN_PROGRESS",
    }
    for old in current["deployments"]:
        old["status"] = "ACTIVE"
    current["deployments"] = [deployment, *current["deployments"]]
    save()
    out({"service": {"serviceName": one("service"), "deployments": current["deployments"]}})
if service == "ecs" and operation == "run-task":
    cluster = one("cluster")
    if cluster not in state["clusters"]:
        fail("ClusterNotFoundException", "Cluster not found.")
    definition = find_definition(one("task-definition"))
    if one("launch-type") != "FARGATE":
        fail("InvalidParameterException", "launch type")
    if failures.get("run_task_fails"):
        out({"tasks": [], "failures": [{"arn": definition["taskDefinitionArn"], "reason": "RESOURCE:MEMORY"}]})
    network = json.loads(one("network-configuration"))
    if not network.get("awsvpcConfiguration", {}).get("subnets"):
        fail("InvalidParameterException", "Network Configuration must be provided for awsvpc tasks.")
    arn = f"arn:aws:ecs:{state['region']}:{state['account']}:task/{cluster}/{len(state['tasks']) + 1:032x}"
    state["tasks"][arn] = {
        "taskDefinitionArn": definition["taskDefinitionArn"],
        "network": network,
        "containers": [c["name"] for c in definition["containerDefinitions"]],
        "image": definition["containerDefinitions"][0]["image"],
    }
    save()
    out({"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []})
if service == "ecs" and operation == "wait" and args[""] == ["tasks-stopped"]:
    waiter_fails("TasksStopped")
    if failures.get("task_stays_running"):
        print("\nWaiter TasksStopped failed: Max attempts exceeded", file=sys.stderr)
        sys.exit(255)
    sys.exit(0)
if service == "ecs" and operation == "describe-tasks":
    task = state["tasks"][one("tasks")]
    if failures.get("task_stays_running"):
        containers = [{"name": name, "lastStatus": "RUNNING"} for name in task["containers"]]
        out({"tasks": [{"taskArn": one("tasks"), "lastStatus": "RUNNING", "containers": containers}], "failures": []})
    containers = []
    for name in task["containers"]:
        container = {"name": name, "lastStatus": "STOPPED"}
        # A container that never started (image pull failed, say) stops without an exit code.
        if not failures.get("container_without_exit_code"):
            container["exitCode"] = state["migrate_exit_code"] if name == "migrate" else 0
        containers.append(container)
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
        if failures.get("container_without_exit_code")
        else "Essential container in task exited"
    )
    out(
        {
            "tasks": [
                {"taskArn": one("tasks"), "lastStatus": "STOPPED", "containers": containers, "stoppedReason": reason}
            ],
            "failures": [],
        }
    )
if service == "lambda" and operation == "update-function-code":
    state["functions"][one("function-name")] = one("image-uri")
    save()
    out({"FunctionName": one("function-name")})
if service == "lambda" and operation == "wait" and args[""] == ["function-updated-v2"]:
    if one("function-name") in failures.get("function_update_fails", []):
        print(
            "\nWaiter FunctionUpdatedV2 failed: Waiter encountered a terminal failure state: For expression "
            '"Configuration.LastUpdateStatus" we matched expected path: "Failed"',
            file=sys.stderr,
        )
        sys.exit(255)
    sys.exit(0)
if service == "cloudwatch" and operation == "describe-alarms":
    names = args.get("alarm-names", list(state["alarms"]))
    wanted = args.get("state-value", [None])[0]
    alarms = [
        {"AlarmName": name, **state["alarms"][name]}
        for name in names
        if name in state["alarms"] and wanted in (None, state["alarms"][name]["StateValue"])
    ]
    out({"MetricAlarms": alarms, "CompositeAlarms": []})
if service == "ssm" and failures.get("ssm_denied"):
    fail("AccessDeniedException", f"User is not authorized to perform: ssm:{operation} on the parameter")
if service == "ssm" and operation == "get-parameter":
    history = state["parameters"].get(one("name"))
    if not history:
        fail("ParameterNotFound", "")
    out({"Parameter": {"Name": one("name"), "Type": "String", "Value": history[-1], "Version": len(history)}})
if service == "ssm" and operation == "get-parameter-history":
    history = state["parameters"].get(one("name"))
    if not history:
        fail("ParameterNotFound", "")
    out({"Parameters": [{"Name": one("name"), "Value": v, "Version": i + 1} for i, v in enumerate(history)]})
if service == "ssm" and operation == "put-parameter":
    history = state["parameters"].setdefault(one("name"), [])
    if history and "overwrite" not in args:
        fail("ParameterAlreadyExists", "The parameter already exists. To overwrite the value, set the overwrite option")
    if one("type") != "String":
        fail("ValidationException", "the deployed SHA is a plain String parameter")
    history.append(one("value"))
    save()
    out({"Version": len(history), "Tier": "Standard"})
fail("FakeAwsUnsupported", f"the fake aws does not implement {service} {operation}")
