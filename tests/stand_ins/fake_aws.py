#!/usr/bin/env python3
"""A stand-in for the AWS CLI: the calls the deploy scripts make, against a JSON state file.

FAKE_AWS_STATE names the state (ECR images, ECS task definitions and services, Lambda functions) and
FAKE_AWS_LOG a file that gets every call's arguments as one JSON line. It rejects what the real CLI or API
would reject for those calls, and prints errors the way the CLI does.
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
        baking = current.get("baking")
        if baking:
            # Deployment alarms: the first look sees the bake time, the next its outcome.
            current["deployments"] = [
                {"status": "PRIMARY", "taskDefinition": baking["new"], "rolloutState": "IN_PROGRESS"}
            ]
            outcome = baking["old"] if name in state.get("alarm_rolls_back", []) else baking["new"]
            current["taskDefinition"] = outcome
            current["baking"] = None
            services.append(
                {
                    "serviceName": name,
                    "taskDefinition": baking["new"],
                    "networkConfiguration": current["networkConfiguration"],
                    "deployments": current["deployments"],
                }
            )
            current["deployments"] = [{"status": "PRIMARY", "taskDefinition": outcome, "rolloutState": "COMPLETED"}]
            save()
            continue
        services.append(
            {
                "serviceName": name,
                "taskDefinition": current["taskDefinition"],
                "networkConfiguration": current["networkConfiguration"],
                "deployments": current["deployments"],
            }
        )
    out({"services": services, "failures": []})
if service == "ecs" and operation == "update-service":
    current = service_state(one("cluster"), one("service"))
    new = find_definition(one("task-definition"))["taskDefinitionArn"]
    if one("service") in state["circuit_breaker_rolls_back"]:
        # The new tasks never turn healthy; the circuit breaker puts the old revision back as PRIMARY.
        current["deployments"] = [
            {"status": "PRIMARY", "taskDefinition": current["taskDefinition"], "rolloutState": "COMPLETED"}
        ]
    elif one("service") in state.get("deployment_alarms", []):
        current["baking"] = {"old": current["taskDefinition"], "new": new}
    else:
        current["taskDefinition"] = new
        current["deployments"] = [{"status": "PRIMARY", "taskDefinition": new, "rolloutState": "COMPLETED"}]
    save()
    out({"service": {"serviceName": one("service")}})
if service == "ecs" and operation == "run-task":
    cluster = one("cluster")
    if cluster not in state["clusters"]:
        fail("ClusterNotFoundException", "Cluster not found.")
    definition = find_definition(one("task-definition"))
    if one("launch-type") != "FARGATE":
        fail("InvalidParameterException", "launch type")
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
if service == "ecs" and operation == "wait" and args[""] in (["tasks-stopped"], ["services-stable"]):
    sys.exit(0)
if service == "ecs" and operation == "describe-tasks":
    task = state["tasks"][one("tasks")]
    containers = [
        {"name": name, "exitCode": state["migrate_exit_code"] if name == "migrate" else 0}
        for name in task["containers"]
    ]
    out(
        {
            "tasks": [
                {
                    "taskArn": one("tasks"),
                    "lastStatus": "STOPPED",
                    "containers": containers,
                    "stoppedReason": "Essential container in task exited",
                }
            ],
            "failures": [],
        }
    )
if service == "lambda" and operation == "update-function-code":
    state["functions"][one("function-name")] = one("image-uri")
    save()
    out({"FunctionName": one("function-name")})
if service == "lambda" and operation == "wait" and args[""] == ["function-updated-v2"]:
    sys.exit(0)
fail("FakeAwsUnsupported", f"the fake aws does not implement {service} {operation}")
