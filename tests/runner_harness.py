"""Run a workflow job's steps the way the GitHub runner does, here: every `run:` block with
`bash --noprofile --norc -eo pipefail`, local composite actions (`uses: ./.github/actions/...`) step by step,
`if:` conditions and `${{ }}` expressions evaluated against inputs, vars, steps, github and env, step outputs
through $GITHUB_OUTPUT and the run summary through $GITHUB_STEP_SUMMARY.

Remote actions cannot run here. `actions/checkout` is the directory the job runs in (a git repository the test
made); `aws-actions/configure-aws-credentials` is checked (a role ARN and a region) and exports the region as the
real action does, the fake AWS CLI on PATH standing in for the credentials; `hashicorp/setup-terraform` is the
`terraform` on PATH; `actions/upload-artifact` and `actions/download-artifact` copy files through the runner's
artifact directory, shared by the jobs of one Runner. Any other remote action is an error, so a job cannot pass by
skipping what it needs.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<call>[A-Za-z_]\w*)\(\)|(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))"
)
RUNNABLE_REMOTE = (
    "actions/checkout@",
    "aws-actions/configure-aws-credentials@",
    "hashicorp/setup-terraform@",
    "actions/upload-artifact@",
    "actions/download-artifact@",
)


def lookup(contexts, path):
    value = contexts
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def evaluate(expression, contexts, status_ok=True):
    """The subset of GitHub's expression language the workflows use: literals, context paths, ==, !=, &&, ||, !,
    parentheses, and success()/failure()/always()."""
    python, position = [], 0
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot evaluate {expression!r} at {expression[position:]!r}")
        position = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "string":
            python.append(repr(text[1:-1].replace("''", "'")))
        elif kind == "number":
            python.append(text)
        elif kind == "op":
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(text, f" {text} "))
        elif kind == "call":
            python.append(repr({"success": status_ok, "failure": not status_ok, "always": True}[text]))
        elif text in ("true", "false", "null"):
            python.append({"true": "True", "false": "False", "null": "None"}[text])
        else:
            python.append(repr(lookup(contexts, text)))
    return eval("".join(python), {"__builtins__": {}})  # built above from literals and context values only


def as_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def interpolate(text, contexts):
    if not isinstance(text, str):
        return text
    whole = EXPRESSION.fullmatch(text.strip())
    if whole:
        return evaluate(whole.group(1), contexts)
    return EXPRESSION.sub(lambda m: as_text(evaluate(m.group(1), contexts)), text)


def condition(step, contexts, status_ok):
    if "if" not in step:
        return status_ok
    expression = str(step["if"]).strip()
    whole = EXPRESSION.fullmatch(expression)
    expression = whole.group(1) if whole else expression
    if not re.search(r"\b(success|failure|always)\(\)", expression):
        expression = f"success() && ({expression})"
    return bool(evaluate(expression, contexts, status_ok))


def read_outputs(path):
    outputs, lines = {}, Path(path).read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[key] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        key, _, value = line.partition("=")
        outputs[key] = value
        index += 1
    return outputs


@dataclass
class StepRun:
    id: str | None
    name: str
    outcome: str  # success, failure or skipped
    stdout: str = ""
    stderr: str = ""


@dataclass
class JobRun:
    steps: list = field(default_factory=list)
    summary: str = ""
    credentials: list = field(default_factory=list)  # the role ARNs configure-aws-credentials was given
    outputs: dict = field(default_factory=dict)  # step id -> that step's outputs

    @property
    def ok(self):
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, step_id):
        (found,) = [s for s in self.steps if s.id == step_id]
        return found

    @property
    def output(self):
        return "\n".join(f"--- {s.name} ({s.outcome})\n{s.stdout}{s.stderr}" for s in self.steps)


class Runner:
    """One job's run in `workdir` (the checkout) with `env` (PATH with the fake aws on it, for one)."""

    def __init__(self, workdir, env, github=None, variables=None, scratch=None):
        self.workdir = Path(workdir)
        self.base_env = {k: v for k, v in env.items() if not k.startswith("GITHUB_")}
        self.github = {"sha": "0" * 40, "run_id": "1", "event_name": "workflow_dispatch", **(github or {})}
        self.vars = variables or {}
        self.scratch = Path(scratch or self.workdir.parent / "runner")
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.summary_path = self.scratch / "summary.md"
        self.summary_path.write_text("")
        self.artifacts = self.scratch / "artifacts"
        self.counter = 0

    def run_job(self, workflow, job_name, inputs=None):
        job = workflow["jobs"][job_name]
        declared = workflow["on"].get("workflow_call", workflow["on"].get("workflow_dispatch") or {})
        given = dict(inputs or {})
        for name, spec in (declared.get("inputs") or {}).items():
            if name not in given:
                assert not spec.get("required"), f"input {name} is required"
                given[name] = spec.get("default")
        contexts = {"inputs": given, "vars": self.vars, "github": self.github, "steps": {}, "env": {}}
        contexts["env"] = {k: as_text(interpolate(v, contexts)) for k, v in (workflow.get("env") or {}).items()}
        contexts["env"].update({k: as_text(interpolate(v, contexts)) for k, v in (job.get("env") or {}).items()})
        result = JobRun()
        self.run_steps(job["steps"], contexts, dict(contexts["env"]), result)
        result.summary = self.summary_path.read_text()
        result.outputs = {step_id: ran["outputs"] for step_id, ran in contexts["steps"].items()}
        return result

    def run_steps(self, steps, contexts, job_env, result):
        status_ok = all(s.outcome != "failure" for s in result.steps)
        for index, step in enumerate(steps):
            name = step.get("name") or step.get("uses") or f"step {index}"
            if not condition(step, contexts, status_ok):
                result.steps.append(StepRun(step.get("id"), name, "skipped"))
                if step.get("id"):
                    contexts["steps"][step["id"]] = {"outputs": {}, "outcome": "skipped"}
                continue
            if "run" in step:
                outcome, outputs = self.run_script(step, name, contexts, job_env, result)
            else:
                outcome, outputs = self.use_action(step, name, contexts, job_env, result)
            if step.get("id"):
                contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": outcome}
            status_ok = status_ok and outcome != "failure"

    def run_script(self, step, name, contexts, job_env, result):
        self.counter += 1
        output_path = self.scratch / f"output-{self.counter}"
        output_path.write_text("")
        script = self.scratch / f"step-{self.counter}.sh"
        script.write_text(interpolate(step["run"], contexts))
        step_env = {k: as_text(interpolate(v, contexts)) for k, v in (step.get("env") or {}).items()}
        env = {
            **self.base_env,
            **job_env,
            **step_env,
            "GITHUB_OUTPUT": str(output_path),
            "GITHUB_STEP_SUMMARY": str(self.summary_path),
            "GITHUB_SHA": self.github["sha"],
            "GITHUB_RUN_ID": self.github["run_id"],
            "GITHUB_ACTIONS": "true",
        }
        if "action_path" in contexts:
            env["GITHUB_ACTION_PATH"] = contexts["action_path"]
        assert step.get("shell", "bash") == "bash", f"{name}: only bash steps run here"
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outcome = "success" if completed.returncode == 0 else "failure"
        result.steps.append(StepRun(step.get("id"), name, outcome, completed.stdout, completed.stderr))
        return outcome, read_outputs(output_path)

    def use_action(self, step, name, contexts, job_env, result):
        uses = step["uses"]
        given = {k: interpolate(v, contexts) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("./"):
            return self.composite(uses, given, name, contexts, job_env, result)
        assert uses.startswith(RUNNABLE_REMOTE), f"{name}: {uses} cannot run here"
        if uses.startswith("aws-actions/configure-aws-credentials@"):
            role, region = given.get("role-to-assume", ""), given.get("aws-region", "")
            ok = bool(re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", role or "")) and bool(region)
            result.credentials.append(role)
            result.steps.append(StepRun(step.get("id"), name, "success" if ok else "failure", "", f"{role} {region}"))
            if ok:
                job_env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
            return ("success" if ok else "failure"), {}
        if uses.startswith("actions/upload-artifact@"):
            source = self.workdir / given["path"]
            if not source.is_file():
                result.steps.append(StepRun(step.get("id"), name, "failure", "", f"no file {given['path']}"))
                return "failure", {}
            (self.artifacts / given["name"]).mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, self.artifacts / given["name"] / source.name)
        if uses.startswith("actions/download-artifact@"):
            stored = self.artifacts / given["name"]
            if not stored.is_dir():
                result.steps.append(StepRun(step.get("id"), name, "failure", "", f"no artifact {given['name']}"))
                return "failure", {}
            shutil.copytree(stored, self.workdir / given.get("path", "."), dirs_exist_ok=True)
        result.steps.append(StepRun(step.get("id"), name, "success"))
        return "success", {}

    def composite(self, uses, given, name, contexts, job_env, result):
        path = self.workdir / uses / "action.yml"
        action = yaml.safe_load(path.read_text())
        assert action["runs"]["using"] == "composite"
        inputs = {}
        for input_name, spec in (action.get("inputs") or {}).items():
            if input_name in given:
                inputs[input_name] = given[input_name]
            else:
                assert not spec.get("required"), f"{name}: the action needs input {input_name}"
                inputs[input_name] = spec.get("default")
        unknown = set(given) - set(inputs)
        assert not unknown, f"{name}: {uses} has no inputs {unknown}"
        inner = {**contexts, "inputs": inputs, "steps": {}, "action_path": str(path.parent)}
        before = len(result.steps)
        self.run_steps(action["runs"]["steps"], inner, job_env, result)
        outcome = "failure" if any(s.outcome == "failure" for s in result.steps[before:]) else "success"
        outputs = {k: as_text(interpolate(spec["value"], inner)) for k, spec in (action.get("outputs") or {}).items()}
        return outcome, outputs


def job_environment(extra_path, **env):
    """The job's process environment: this one's, with `extra_path` first on PATH."""
    return {**os.environ, "PATH": f"{extra_path}:{os.environ['PATH']}", **env}
