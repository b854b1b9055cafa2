"""The generated GitHub Actions: linted, schema-valid, least-privilege, pinned, named from deploy.json, and the
deploy/rollback scripts exercised against a fake AWS CLI (AWS is never reachable here)."""

import json
import os
import re
import shlex
import shutil

import docker_harness
import pytest
from project import COMBOS, DEFAULT, combo_id, make_venv, require, run, tool
from services import on_test_servers, require_shared_services
from workflows_harness import (
    OLD_SHA,
    FakeAws,
    actionlint,
    fake_aws_state,
    load_workflow,
    shell_of_run,
    step,
    steps,
    workflows,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
ALL = pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
AWS_ACTION = re.compile(r"^aws-actions/")
AWS_COMMAND = re.compile(
    r"(^|[\s;(|&])aws\s|\.github/scripts/(deploy|previous-sha)\.sh|\bterraform\b.*\b(init|plan|apply)\b"
)


def github_files(project):
    return sorted(p for p in (project / ".github").rglob("*") if p.is_file())


def deploy_json(project):
    return json.loads((project / "deploy.json").read_text())


def touches_aws(job):
    """A job reaches AWS if a step uses an aws-actions action or runs the aws CLI, a deploy script or terraform."""
    for s in steps(job):
        if AWS_ACTION.match(s.get("uses", "")):
            return True
        script = s.get("run", "")
        if AWS_COMMAND.search(script) and "init -backend=false" not in script:
            return True
    return False


def all_jobs(project):
    return [(name, job_name, job) for name, wf in workflows(project).items() for job_name, job in wf["jobs"].items()]


# ---------------------------------------------------------------------------------------------------------------
# Linters and schemas


@ALL
def test_actionlint_reports_nothing(generated, combo):
    project = generated(**combo)
    files = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert len(files) == 5
    problems = actionlint(files)
    assert problems == {str(f): [] for f in files}


def test_actionlint_does_catch_mistakes(tmp_path):
    """Guards the test above: the WASM build really lints (an unknown context, an unpinned action)."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n")
    (problem,) = actionlint([bad])[str(bad)]
    assert 'undefined variable "nope"' in problem["message"]


@ALL
def test_workflows_and_dependabot_pass_schemastore_schemas(generated, combo):
    project = generated(**combo)
    checker = tool("check-jsonschema")
    run([checker, "--builtin-schema", "vendor.github-workflows", *(project / ".github" / "workflows").glob("*.yml")])
    run([checker, "--builtin-schema", "vendor.dependabot", project / ".github" / "dependabot.yml"])


@ALL
def test_every_shell_step_and_script_passes_shellcheck(generated, combo, tmp_path):
    require(shutil.which("shellcheck"), "shellcheck is not installed (Debian: shellcheck)")
    project = generated(**combo)
    targets = list((project / ".github" / "scripts").glob("*.sh"))
    for name, job_name, job in all_jobs(project):
        for index, s in enumerate(steps(job)):
            if "run" in s:
                target = tmp_path / f"{name}-{job_name}-{index}.sh"
                target.write_text(shell_of_run(s["run"]))
                targets.append(target)
    assert len(targets) > 20
    run(["shellcheck", "--external-sources", *targets], cwd=project)


def test_github_files_are_the_same_for_every_combination(generated):
    """.github/ is copied without rendering (names come from deploy.json), which is why the behaviour tests of
    its scripts below run on one combination."""
    contents = {
        combo_id(combo): {
            str(p.relative_to(generated(**combo))): (p.read_bytes(), p.stat().st_mode)
            for p in github_files(generated(**combo))
        }
        for combo in COMBOS
    }
    first = contents[combo_id(DEFAULT)]
    assert len(first) == 9
    assert all(files == first for files in contents.values())
    assert all(mode & 0o111 for path, (_, mode) in first.items() if path.endswith(".sh"))


# ---------------------------------------------------------------------------------------------------------------
# Supply chain and privileges


@ALL
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(generated, combo):
    project = generated(**combo)
    uses = [
        line.strip()
        for path in (project / ".github" / "workflows").glob("*.yml")
        for line in path.read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    assert len(uses) > 20
    remote = [u for u in uses if not re.search(r"uses: \./\.github/workflows/[\w-]+\.yml$", u)]
    unpinned = [u for u in remote if not re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", u)]
    assert unpinned == []
    # One version of each action everywhere, so Dependabot bumps them together.
    versions = {}
    for u in remote:
        action, ref = u.split("uses: ")[1].split("@")
        versions.setdefault(action, set()).add(ref)
    assert {a: refs for a, refs in versions.items() if len(refs) > 1} == {}


@ALL
def test_permissions_are_empty_at_the_top_and_granted_per_job(generated, combo):
    project = generated(**combo)
    for name, workflow in workflows(project).items():
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            granted = job.get("permissions")
            assert isinstance(granted, dict), f"{name}:{job_name} declares no permissions"
            writes = {scope for scope, level in granted.items() if level == "write"}
            assert writes <= {"id-token", "pull-requests"}, f"{name}:{job_name}: {writes}"
            # Only the terraform plan writes to pull requests (its comment).
            if "pull-requests" in writes:
                assert (name, job_name) == ("terraform.yml", "plan")


@ALL
def test_every_job_that_touches_aws_assumes_a_role_through_oidc(generated, combo):
    project = generated(**combo)
    aws_jobs = []
    for name, job_name, job in all_jobs(project):
        if "uses" in job:  # a reusable workflow: its own jobs are checked where they are defined
            continue
        if not touches_aws(job):
            assert job["permissions"].get("id-token") is None, f"{name}:{job_name} needs no OIDC token"
            continue
        aws_jobs.append(f"{name}:{job_name}")
        assert job["permissions"].get("id-token") == "write", f"{name}:{job_name}"
        configure = [i for i, s in enumerate(steps(job)) if "configure-aws-credentials" in s.get("uses", "")]
        assert len(configure) == 1, f"{name}:{job_name}"
        credentials = steps(job)[configure[0]]["with"]
        assert set(credentials) >= {"role-to-assume", "aws-region"}
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials)
        # No step reaches AWS before the credentials are in place (terraform init with a backend included).
        first_aws = min(i for i, s in enumerate(steps(job)) if touches_aws({"steps": [s]}))
        assert configure[0] == first_aws, f"{name}:{job_name}"
    assert sorted(aws_jobs) == [
        "ci.yml:push",
        "deploy-environment.yml:deploy",
        "terraform.yml:apply",
        "terraform.yml:plan",
    ]


@ALL
def test_no_workflow_references_aws_access_keys_or_any_secret(generated, combo):
    project = generated(**combo)
    for path in github_files(project):
        text = path.read_text()
        for forbidden in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id", "aws-secret-access-key"):
            assert forbidden not in text, f"{path.name}: {forbidden}"
        # OIDC needs no stored secret at all.
        assert not re.search(r"\$\{\{[^}]*\bsecrets\b", text), path.name


@ALL
def test_role_arns_are_built_from_the_account_variable_and_deploy_json(generated, combo):
    project = generated(**combo)
    for name, job_name, job in all_jobs(project):
        for s in steps(job):
            if "configure-aws-credentials" in s.get("uses", ""):
                assert s["with"]["role-to-assume"] == "${{ steps.names.outputs.role_arn }}"
                names = step(job, "names")
                assert names["env"] == {"AWS_ACCOUNT_ID": "${{ vars.AWS_ACCOUNT_ID }}"}
                assert "role_arn=arn:aws:iam::$AWS_ACCOUNT_ID:role/$" in names["run"], f"{name}:{job_name}"


# ---------------------------------------------------------------------------------------------------------------
# Images: built once, tested inside, pushed by SHA only


@ALL
def test_images_are_tagged_with_the_commit_sha_and_never_latest(generated, combo):
    project = generated(**combo)
    for path in github_files(project):
        text = path.read_text()
        assert not re.search(r":latest\b|tags:.*\blatest\b|imageTag=latest", text), path.name
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    assert ci["env"] == {"IMAGE": "app:${{ github.sha }}", "TEST_IMAGE": "app-test:${{ github.sha }}"}
    builds = {
        s["with"]["target"]: s["with"] for s in steps(ci["jobs"]["image"]) if "build-push-action" in s.get("uses", "")
    }
    assert builds["runtime"]["tags"] == "${{ env.IMAGE }}"
    assert builds["test"]["tags"] == "${{ env.TEST_IMAGE }}"
    for build in builds.values():
        assert build["push"] is False
        assert build["load"] is True
        assert "type=gha,scope=runtime" in build["cache-from"]
    # Only the production image is saved for the push job.
    (save,) = [s["run"] for s in steps(ci["jobs"]["image"]) if "docker save" in s.get("run", "")]
    assert save == 'docker save --output image.tar "$IMAGE"'
    push = next(s for s in steps(ci["jobs"]["push"]) if "docker push" in s.get("run", ""))
    pushed = [shlex.split(line)[2:] for line in push["run"].splitlines() if line.strip().startswith("docker push")]
    assert pushed == [["$REGISTRY/$REPOSITORY:$GITHUB_SHA"]]
    assert 'docker tag "$IMAGE" "$REGISTRY/$REPOSITORY:$GITHUB_SHA"' in push["run"]


@ALL
def test_ci_builds_once_and_pushes_the_tested_image_only_from_main(generated, combo):
    project = generated(**combo)
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    assert ci["on"]["push"]["branches"] == ["main"]
    builds = [(j, s) for j, job in ci["jobs"].items() for s in steps(job) if "build-push-action" in s.get("uses", "")]
    # One job builds; its two targets share every layer up to the application (see the Dockerfile test below).
    assert [(j, s["with"]["target"]) for j, s in builds] == [("image", "runtime"), ("image", "test")]
    main_only = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    push = ci["jobs"]["push"]
    assert push["if"] == main_only
    assert push["needs"] == ["lint", "image"]
    assert "docker load --input image.tar" in [s.get("run", "").strip() for s in steps(push)]
    assert not any("build-push-action" in s.get("uses", "") for s in steps(push))
    uploads = [s for s in steps(ci["jobs"]["image"]) if s.get("if") == main_only]
    assert len(uploads) == 2
    assert "docker save" in uploads[0]["run"]
    deploy = ci["jobs"]["deploy"]
    assert deploy["needs"] == "push"
    assert deploy["uses"] == "./.github/workflows/deploy.yml"
    assert deploy["with"] == {"image_sha": "${{ github.sha }}"}
    # Superseded pull-request runs are cancelled, runs on main never.
    assert ci["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    services = ci["jobs"]["image"]["services"]
    assert services["postgres"]["image"] == "postgres:17"
    assert services["redis"]["image"] == "redis:7"


def in_image_commands(project):
    """(step, variables passed, command) for every `docker run ... "$IMAGE"|"$TEST_IMAGE" ...` of ci.yml's image
    job, the command as it runs inside: the production image's `manage` role is `python manage.py`, while the test
    image (no entrypoint) runs its command as given."""
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    found = []
    for s in steps(ci["jobs"]["image"]):
        for line in s.get("run", "").splitlines():
            if "docker run " not in line:
                continue
            words = shlex.split(line.split("docker run ", 1)[1], posix=False)
            at = next(i for i, w in enumerate(words) if w in ('"$IMAGE"', '"$TEST_IMAGE"'))
            passed = [words[i + 1] for i, w in enumerate(words[:at]) if w == "--env"]
            command = words[at + 1 :]
            if words[at] == '"$IMAGE"':
                assert command[0] == "manage", "the production image runs roles: web, migrate, manage"
                command = ["python", "manage.py", *command[1:]]
            found.append((s, passed, command))
    assert len(found) == 3
    return found


def makefile_recipes(project):
    recipes = {}
    target = None
    for line in (project / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-z-]+):", line)
        if match:
            target = match.group(1)
        elif line.startswith("\t") and target:
            recipes.setdefault(target, []).append(line.strip())
    return recipes


@ALL
def test_commands_ci_runs_are_the_ones_the_makefile_and_readme_document(generated, combo):
    project = generated(**combo)
    recipes = makefile_recipes(project)
    readme = (project / "README.md").read_text()
    in_image = {}
    for _, _, command in in_image_commands(project):
        # Inside the image there is no .venv: `$(BIN)/python` is the image's python.
        assert command[0] == "python"
        as_recipe = "$(BIN)/" + " ".join(command)
        target = next((t for t, lines in recipes.items() if as_recipe in lines), None)
        if target is None and command[:3] == ["python", "-m", "pytest"]:
            # `make test ARGS=...`: the image's root filesystem is read-only for the app user, hence no cache.
            assert "$(BIN)/python -m pytest $(ARGS)" in recipes["test"]
            assert command[3:] == ["-p", "no:cacheprovider"]
            target = "test"
        assert target, f"no Makefile target runs {' '.join(command)}"
        in_image[target] = command
    assert set(in_image) == {"test", "migrations-check", "check-deploy"}
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    lint_runs = [s["run"] for s in steps(ci["jobs"]["lint"]) if "run" in s]
    assert lint_runs == ["make install PYTHON=python", "make lint"]
    for target in (*in_image, "lint"):
        assert f"make {target}" in readme, f"README does not document make {target}"
    assert "python -m pytest" in readme


@pytest.mark.parametrize("python", ["3.12", "3.13"], ids=lambda v: f"python={v}")
def test_the_checks_ci_runs_in_the_image_pass_with_its_environment(generated, python):
    """Each in-image command, with exactly the variables CI passes, run on the test PostgreSQL and Redis
    (TEST_POSTGRES_URL and TEST_REDIS_URL stand in for CI's service containers)."""
    require_shared_services()
    project = generated(**{**DEFAULT, "python_version": python})
    venv = make_venv(project, python)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "REDIS", "SECRET"))}
    for s, passed, command in in_image_commands(project):
        env = {**base, "DOTENV_PATH": "/nonexistent", "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
        for name in passed:
            value = s["env"].get(name) if name != "SECRET_KEY" else None
            if name == "SECRET_KEY":
                assert "secrets.token_urlsafe(50)" in s["run"]
                value = "ci-" + "k3y-" * 15
            assert value is not None, f"{s['name']}: --env {name} has no value in the step"
            env[name] = on_test_servers(value) if name in ("DATABASE_URL", "REDIS_URL") else str(value)
        result = run(command, cwd=project, env=env, check=False, timeout=600)
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


# ---------------------------------------------------------------------------------------------------------------
# Names, reusable workflows, concurrency


@ALL
def test_names_come_from_deploy_json_only(generated, combo):
    project = generated(**combo)
    deploy = deploy_json(project)
    names = {deploy["ecr_repository"], deploy["terraform_plan_role"], deploy["project"]}
    for environment in deploy["environments"].values():
        names |= {
            environment["cluster"],
            environment["deploy_role"],
            environment["terraform_role"],
            *environment["services"].values(),
            *environment["one_off_tasks"].values(),
        }
    for path in github_files(project):
        text = path.read_text()
        assert [n for n in names if n in text] == [], path.name
    # Every jq lookup the workflows make exists in deploy.json, for every environment.
    lookups = set()
    for path in (project / ".github" / "workflows").glob("*.yml"):
        lookups |= set(re.findall(r"jq -er (?:--arg env \"\$ENVIRONMENT\" )?'([^']+)' deploy\.json", path.read_text()))
    assert lookups >= {
        ".aws_region",
        ".ecr_repository",
        ".environments[$env].terraform_role",
        ".terraform_plan_role",
        ".environments[$env].deploy_role",
    }
    for lookup in lookups:
        for environment in deploy["environments"]:
            run(["jq", "-er", "--arg", "env", environment, lookup, project / "deploy.json"])


def test_terraform_reads_the_same_deploy_json(generated):
    """The other half of "names from one place": terraform decodes this very file."""
    project = generated(**DEFAULT)
    tf_files = list((project / "terraform").rglob("*.tf"))
    assert tf_files
    readers = [p for p in tf_files if re.search(r"jsondecode\(\s*file\([^)]*deploy\.json", p.read_text())]
    assert readers, "no terraform file reads deploy.json"
    # The root modules terraform.yml plans and Dependabot watches are the ones that exist.
    roots = ["bootstrap", *(f"environments/{e}" for e in deploy_json(project)["environments"])]
    assert [r for r in roots if not list((project / "terraform" / r).glob("*.tf"))] == []


def test_the_build_args_and_dockerfile_ci_uses_exist(generated):
    project = generated(**DEFAULT)
    dockerfile = project / "Dockerfile"
    assert dockerfile.is_file()
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    build = next(s for s in steps(ci["jobs"]["image"]) if "build-push-action" in s.get("uses", ""))
    passed = {line.split("=", 1)[0] for line in build["with"]["build-args"].splitlines()}
    declared = set(re.findall(r"^\s*ARG\s+(\w+)", dockerfile.read_text(), flags=re.MULTILINE))
    assert passed <= declared
    hadolint = next(s for s in steps(ci["jobs"]["lint"]) if "hadolint" in s.get("uses", ""))
    assert (project / hadolint["with"]["dockerfile"]).is_file()
    # The targets CI builds exist, and both start from the same application stage.
    parents = {}
    for parent, stage in re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", dockerfile.read_text(), flags=re.M | re.I):
        parents[stage] = parent
    targets = {s["with"]["target"] for s in steps(ci["jobs"]["image"]) if "build-push-action" in s.get("uses", "")}
    assert targets <= set(parents)
    assert len({parents[t] for t in targets}) == 1
    # The production image's entrypoint has the `manage` role CI's checks use.
    entrypoint = re.search(r'^ENTRYPOINT \["/app/([\w.-]+)"\]', dockerfile.read_text(), flags=re.MULTILINE).group(1)
    assert re.search(r"^\s*manage\)", (project / entrypoint).read_text(), flags=re.MULTILINE)
    # And CI's test command is the one `make test-in-docker` runs.
    (test_command,) = [c for _, _, c in in_image_commands(project) if "pytest" in c]
    assert any(" ".join(test_command) in line for line in makefile_recipes(project)["test-in-docker"])


@ALL
def test_reusable_workflow_calls_pass_declared_inputs_and_enough_permissions(generated, combo):
    project = generated(**combo)
    flows = workflows(project)
    calls = 0
    for name, job_name, job in all_jobs(project):
        if "uses" not in job:
            continue
        calls += 1
        called = flows[job["uses"].removeprefix("./.github/workflows/")]
        declared = called["on"]["workflow_call"]["inputs"]
        given = job.get("with", {})
        assert set(given) <= set(declared), f"{name}:{job_name}"
        assert {i for i, spec in declared.items() if spec.get("required")} <= set(given), f"{name}:{job_name}"
        for called_job in called["jobs"].values():
            for scope, level in called_job.get("permissions", {}).items():
                assert job["permissions"].get(scope) == level, f"{name}:{job_name} must grant {scope}: {level}"
    assert calls == 4


@ALL
def test_deploys_and_rollbacks_of_an_environment_queue_and_never_overlap(generated, combo):
    project = generated(**combo)
    flows = workflows(project)
    runners = [
        (name, job_name, job)
        for name, job_name, job in all_jobs(project)
        if any(".github/scripts/deploy.sh" in s.get("run", "") for s in steps(job))
    ]
    assert [(n, j) for n, j, _ in runners] == [("deploy-environment.yml", "deploy")]
    job = runners[0][2]
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    assert job["environment"] == "${{ inputs.environment }}"
    # Deploys and rollbacks both go through that one job, so they share its group.
    for caller in ("deploy.yml", "rollback.yml"):
        assert any(
            j.get("uses") == "./.github/workflows/deploy-environment.yml" for j in flows[caller]["jobs"].values()
        )
    apply = flows["terraform.yml"]["jobs"]["apply"]
    assert apply["concurrency"]["cancel-in-progress"] is False


@ALL
def test_production_deploys_only_after_staging(generated, combo):
    project = generated(**combo)
    deploy = load_workflow(project / ".github" / "workflows" / "deploy.yml")
    assert set(deploy["on"]) == {"workflow_call", "workflow_dispatch"}
    for trigger in ("workflow_call", "workflow_dispatch"):
        assert deploy["on"][trigger]["inputs"]["image_sha"]["required"] is True
    jobs = deploy["jobs"]
    assert jobs["staging"]["with"]["environment"] == "staging"
    assert jobs["staging"]["needs"] == "validate"
    assert jobs["production"]["with"]["environment"] == "production"
    assert jobs["production"]["needs"] == "staging"
    assert set(deploy_json(project)["environments"]) == {"staging", "production"}


# ---------------------------------------------------------------------------------------------------------------
# Input validation, run for real


GOOD = [SHA, "f" * 40]
BAD = [
    "",
    "latest",
    SHA.upper(),
    SHA[:39],
    SHA + "0",
    f"{SHA}\n",
    f" {SHA}",
    "g" * 40,
    SHA[:20] + ";touch pwned;"[:20],
    "$(touch pwned)",
    "previous\n",
    "Previous",
]


def validation_step(project, workflow, job_name):
    job = load_workflow(project / ".github" / "workflows" / workflow)["jobs"][job_name]
    return job, step(job, "validate")


@pytest.mark.parametrize(
    ("workflow", "job_name", "previous_allowed"),
    [("rollback.yml", "validate", True), ("deploy.yml", "validate", False), ("deploy-environment.yml", "deploy", True)],
    ids=["rollback", "deploy", "deploy-environment"],
)
def test_the_image_sha_input_is_validated_before_anything_else(generated, workflow, job_name, previous_allowed):
    """The workflow's own validation step, run with bash as the runner would, on good and bad input."""
    project = generated(**DEFAULT)
    job, validate = validation_step(project, workflow, job_name)
    env_value = {**job.get("env", {}), **validate.get("env", {})}["IMAGE_SHA"]
    assert env_value == "${{ inputs.image_sha }}", "the input reaches the shell only through the environment"
    assert "${{" not in validate["run"]
    # Validation is the first step after checkout: nothing reaches AWS with an unchecked value.
    assert [s.get("id") for s in steps(job)][1] == "validate"
    expected = {value: True for value in GOOD} | {value: False for value in BAD} | {"previous": previous_allowed}
    for value, ok in expected.items():
        result = subprocess_bash(validate["run"], project, {"IMAGE_SHA": value})
        assert (result.returncode == 0) == ok, f"{value!r}: {result.stdout}{result.stderr}"
        if not ok:
            assert "::error::" in result.stdout + result.stderr
    assert not (project / "pwned").exists()


def subprocess_bash(script, cwd, env):
    # GitHub runs `run:` steps as `bash --noprofile --norc -eo pipefail {0}`.
    return run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        check=False,
    )


@ALL
def test_rollback_is_manual_redeploys_without_building_or_migrating(generated, combo):
    project = generated(**combo)
    rollback = load_workflow(project / ".github" / "workflows" / "rollback.yml")
    assert set(rollback["on"]) == {"workflow_dispatch"}
    inputs = rollback["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == list(deploy_json(project)["environments"])
    job = rollback["jobs"]["rollback"]
    assert job["needs"] == "validate"
    assert job["with"]["run_migrations"] is False
    text = (project / ".github" / "workflows" / "rollback.yml").read_text()
    assert "build-push-action" not in text
    assert "docker build" not in text
    readme = (project / "README.md").read_text()
    assert "sort_by(imageDetails,&imagePushedAt)" in readme
    assert "git log" in readme


# ---------------------------------------------------------------------------------------------------------------
# terraform.yml and Dependabot


@ALL
def test_terraform_plans_on_pull_requests_and_applies_only_by_hand(generated, combo):
    project = generated(**combo)
    terraform = load_workflow(project / ".github" / "workflows" / "terraform.yml")
    assert "terraform/**" in terraform["on"]["pull_request"]["paths"]
    assert set(terraform["on"]) == {"pull_request", "workflow_dispatch"}
    jobs = terraform["jobs"]
    check = "\n".join(s.get("run", "") for s in steps(jobs["check"]))
    assert "terraform fmt -check -recursive" in check
    assert "validate" in check
    assert "init -backend=false" in check
    assert jobs["check"]["if"] == jobs["plan"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["plan"]["strategy"]["matrix"]["environment"] == list(deploy_json(project)["environments"])
    assert any(
        "github-script" in s.get("uses", "") and "createComment" in s["with"]["script"] for s in steps(jobs["plan"])
    )
    assert "plan -lock=false" in "\n".join(s.get("run", "") for s in steps(jobs["plan"]))
    assert "apply" not in "\n".join(s.get("run", "") for s in steps(jobs["plan"]))
    assert jobs["apply"]["if"] == "github.event_name == 'workflow_dispatch'"
    assert jobs["apply"]["environment"] == "${{ inputs.environment }}"
    assert steps(jobs["apply"])[-1]["run"].endswith("apply tfplan")
    # Pull requests (code anyone with push access writes) only ever get the read-only plan role.
    roles = {job: "\n".join(s.get("run", "") for s in steps(jobs[job])) for job in ("plan", "apply")}
    assert "'.terraform_plan_role'" in roles["plan"]
    assert "terraform_role'" not in roles["plan"]
    # Each environment applies with its own role, which trusts only that GitHub environment.
    assert "'.environments[$env].terraform_role'" in roles["apply"]


@ALL
def test_dependabot_watches_pip_docker_actions_and_every_terraform_root(generated, combo):
    import yaml

    project = generated(**combo)
    config = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"pip", "docker", "github-actions", "terraform"}
    roots = ["/terraform/bootstrap"] + [f"/terraform/environments/{e}" for e in deploy_json(project)["environments"]]
    assert updates["terraform"]["directories"] == roots


# ---------------------------------------------------------------------------------------------------------------
# deploy.sh and previous-sha.sh against the fake AWS CLI


@pytest.fixture
def deploy_world(generated, tmp_path):
    """A generated project whose deploy.json has a second service and a Lambda function, as later issues add,
    and a fake AWS in which terraform created everything on OLD_SHA and CI pushed SHA."""
    project = generated(**DEFAULT)
    world = tmp_path / "project"
    shutil.copytree(project / ".github", world / ".github")
    deploy = deploy_json(project)
    staging = deploy["environments"]["staging"]
    staging["services"]["worker"] = staging["cluster"] + "-worker"
    staging["functions"] = {"consumer": staging["cluster"] + "-consumer"}
    (world / "deploy.json").write_text(json.dumps(deploy))
    fake = FakeAws(tmp_path / "aws", fake_aws_state(deploy, images=[OLD_SHA, SHA]))
    return world, deploy, fake


def script(world, fake, *args):
    return fake.run(["bash", world / ".github" / "scripts" / args[0], *args[1:]], cwd=world)


# What AWS fills in on registration, and the containers (compared on their own): everything else of a task
# definition must survive a deploy unchanged.
NOT_CARRIED_OVER = {
    "containerDefinitions",
    "revision",
    "taskDefinitionArn",
    "registeredAt",
    "registeredBy",
    "requiresAttributes",
}


def without_registration_fields(task_definition):
    return {k: v for k, v in task_definition.items() if k not in NOT_CARRIED_OVER}


def test_deploy_migrates_then_rolls_every_service_and_function_to_the_sha(deploy_world):
    world, deploy, fake = deploy_world
    staging = deploy["environments"]["staging"]
    result = script(world, fake, "deploy.sh", "staging", SHA)
    assert result.returncode == 0, result.stderr
    state = fake.state
    image = f"{state['repository_uri']}:{SHA}"
    ops = fake.ops()
    assert ops[0] == "ecr describe-images"
    # The migration ran, on the new image, in the web service's network, before any service changed.
    (task,) = state["tasks"].values()
    assert task["taskDefinitionArn"].endswith(f"/{staging['one_off_tasks']['migrate']}:2")
    assert task["image"] == image
    assert task["network"] == state["clusters"][staging["cluster"]][staging["services"]["web"]]["networkConfiguration"]
    assert ops.index("ecs run-task") < ops.index("ecs update-service")
    # Every service in the map, the added worker included, runs a new revision that differs only by image.
    for role, service in staging["services"].items():
        current = state["clusters"][staging["cluster"]][service]["taskDefinition"]
        assert current.endswith(f"/{service}:2")
        old, new = state["task_definitions"][service]
        assert new["containerDefinitions"][0] == {**old["containerDefinitions"][0], "image": image}
        assert new["containerDefinitions"][1:] == old["containerDefinitions"][1:]  # the sidecar is untouched
        assert without_registration_fields(new) == without_registration_fields(old)
        assert state["registered_tags"][current] == [{"key": "Project", "value": deploy["project"]}]
        assert role in ("web", "worker")
    assert state["functions"] == {staging["functions"]["consumer"]: image}
    # Production was not touched.
    production = deploy["environments"]["production"]
    assert state["task_definitions"][production["services"]["web"]][-1]["revision"] == 1


def test_a_failed_migration_stops_the_deploy_before_any_service_changes(deploy_world):
    world, _, fake = deploy_world
    state = fake.state
    state["migrate_exit_code"] = 1
    fake.state_path.write_text(json.dumps(state))
    result = script(world, fake, "deploy.sh", "staging", SHA)
    assert result.returncode != 0
    assert "migrations failed (exit code 1" in result.stderr
    assert "ecs update-service" not in fake.ops()
    assert "lambda update-function-code" not in fake.ops()


def test_a_sha_without_an_image_in_ecr_stops_before_anything_changes(deploy_world):
    world, _, fake = deploy_world
    missing = "a" * 40
    result = script(world, fake, "deploy.sh", "staging", missing)
    assert result.returncode != 0
    assert f"no image tagged {missing}" in result.stderr
    assert fake.ops() == ["ecr describe-images"]


def test_an_invalid_sha_never_reaches_aws(deploy_world):
    world, _, fake = deploy_world
    for value in ("previous", "latest", SHA[:12]):
        assert script(world, fake, "deploy.sh", "staging", value).returncode != 0
    assert fake.calls == []


def test_a_circuit_breaker_rollback_fails_the_deploy(deploy_world):
    world, deploy, fake = deploy_world
    state = fake.state
    state["circuit_breaker_rolls_back"] = [deploy["environments"]["staging"]["services"]["worker"]]
    fake.state_path.write_text(json.dumps(state))
    result = script(world, fake, "deploy.sh", "staging", SHA)
    assert result.returncode != 0
    assert "is not running" in result.stderr


def test_a_deploy_waits_out_the_deployment_alarms_bake_time(deploy_world):
    world, deploy, fake = deploy_world
    web = deploy["environments"]["staging"]["services"]["web"]
    state = fake.state
    state["deployment_alarms"] = [web]
    fake.state_path.write_text(json.dumps(state))
    result = fake.run(
        ["bash", world / ".github/scripts/deploy.sh", "staging", SHA], cwd=world, extra_env={"DEPLOY_POLL_SECONDS": "0"}
    )
    assert result.returncode == 0, result.stderr
    assert f"{web} is stable" in result.stdout


def test_a_deployment_alarm_rollback_fails_the_deploy(deploy_world):
    world, deploy, fake = deploy_world
    web = deploy["environments"]["staging"]["services"]["web"]
    state = fake.state
    state["deployment_alarms"] = state["alarm_rolls_back"] = [web]
    fake.state_path.write_text(json.dumps(state))
    result = fake.run(
        ["bash", world / ".github/scripts/deploy.sh", "staging", SHA], cwd=world, extra_env={"DEPLOY_POLL_SECONDS": "0"}
    )
    assert result.returncode != 0
    assert "is not running" in result.stderr
    assert "deployment alarm" in result.stderr


def test_rollback_to_previous_finds_the_last_different_image_and_skips_migrations(deploy_world):
    world, deploy, fake = deploy_world
    staging = deploy["environments"]["staging"]
    assert script(world, fake, "deploy.sh", "staging", SHA).returncode == 0
    # A later configuration-only revision (same image) must not count as "previous".
    state = fake.state
    web = staging["services"]["web"]
    config_change = {
        **state["task_definitions"][web][-1],
        "revision": 3,
        "cpu": "512",
        "taskDefinitionArn": state["task_definitions"][web][-1]["taskDefinitionArn"][:-2] + ":3",
    }
    state["task_definitions"][web].append(config_change)
    # A longer family name that shares the prefix must be ignored too.
    state["task_definitions"][web + "-canary"] = [
        {
            **config_change,
            "family": web + "-canary",
            "revision": 9,
            "taskDefinitionArn": config_change["taskDefinitionArn"].replace(web + ":3", web + "-canary:9"),
            "containerDefinitions": [{"name": "web", "image": "elsewhere:" + "9" * 40}],
        }
    ]
    state["clusters"][staging["cluster"]][web]["taskDefinition"] = config_change["taskDefinitionArn"]
    fake.state_path.write_text(json.dumps(state))
    found = script(world, fake, "previous-sha.sh", "staging")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == OLD_SHA
    before = len(fake.calls)
    result = script(world, fake, "deploy.sh", "staging", OLD_SHA, "--skip-migrations")
    assert result.returncode == 0, result.stderr
    assert "ecs run-task" not in fake.ops()[before:]
    state = fake.state
    current = state["clusters"][staging["cluster"]][web]["taskDefinition"]
    (definition,) = [d for d in state["task_definitions"][web] if d["taskDefinitionArn"] == current]
    assert definition["containerDefinitions"][0]["image"].endswith(":" + OLD_SHA)
    assert definition["cpu"] == "512"  # the rollback changes the image, not terraform's configuration


def test_previous_fails_clearly_when_there_is_no_earlier_image(deploy_world):
    world, _, fake = deploy_world
    result = script(world, fake, "previous-sha.sh", "staging")
    assert result.returncode != 0
    assert "give the SHA explicitly" in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# CI's image steps, run as written against the real images


@pytest.mark.docker
def test_ci_image_steps_pass_in_the_real_images(generated):
    """ci.yml's in-image `docker run` lines, verbatim but for the image names, against the runtime and test
    targets built by a real engine, on the host's PostgreSQL and Redis (the addresses ci.yml gives its steps)."""
    project = generated(**DEFAULT)
    assert (project / "Dockerfile").is_file()
    require_shared_services()
    ci = load_workflow(project / ".github" / "workflows" / "ci.yml")
    with docker_harness.engine() as docker:
        docker_harness.ensure_base_image(docker, DEFAULT["python_version"])
        names = {}
        for s in steps(ci["jobs"]["image"]):
            if "build-push-action" not in s.get("uses", ""):
                continue
            options = s["with"]
            tag = f"dat-ci-{options['target']}:{SHA[:12]}"
            args = [arg for pair in (options.get("build-args") or "").splitlines() for arg in ("--build-arg", pair)]
            # Host network: the stand-in engine has no bridge (see docker_harness).
            docker("build", "--network", "host", "--target", options["target"], *args, "--tag", tag, project)
            names[options["tags"].removeprefix("${{ env.").removesuffix(" }}")] = tag
        assert set(names) == {"IMAGE", "TEST_IMAGE"}
        for s in steps(ci["jobs"]["image"]):
            if "docker run" not in s.get("run", ""):
                continue
            env = {**docker.env, **{k: str(v) for k, v in s.get("env", {}).items()}, **names}
            result = run(["bash", "-eo", "pipefail", "-c", s["run"]], cwd=project, env=env, check=False, timeout=900)
            assert result.returncode == 0, f"{s['name']}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


# Credentials outlast the jobs that use them

# `aws ecs wait tasks-stopped` polls 100 times, 6 seconds apart.
ECS_WAITER_MINUTES = 10


def bootstrap_session_limits(project):
    """Bootstrap role (deploy, terraform, terraform_plan) => its max_session_duration in seconds."""
    import terraform_harness as tf

    config = tf.load_dir(project / "terraform" / "bootstrap")
    return {n: b["max_session_duration"] for t, n, b in tf.blocks(config, "resource") if t == "aws_iam_role"}


def role_of(job):
    """Which bootstrap role a job's credentials step assumes, from the deploy.json key it looks the name up by."""
    text = "\n".join(s.get("run", "") for s in steps(job))
    if "terraform_plan_role" in text:
        return "terraform_plan"
    if "terraform_role" in text:
        return "terraform"
    if "deploy_role" in text:
        return "deploy"
    raise AssertionError("the job assumes a role it does not look up in deploy.json")


def migration_wait_minutes(project):
    script = (project / ".github" / "scripts" / "deploy.sh").read_text()
    match = re.search(r"for _ in ((?:\d+ )*\d+); do\s+if aws ecs wait tasks-stopped", script)
    assert match, "deploy.sh waits for the migration task in rounds of `aws ecs wait tasks-stopped`"
    return len(match.group(1).split()) * ECS_WAITER_MINUTES


def test_sessions_last_as_long_as_their_jobs_and_the_migration_wait(generated):
    """A job may run until its timeout; its role session must last that long (the role allowing it), and the
    migration wait must end before the deploy job's timeout. One-hour sessions under a 90-minute job fail late."""
    project = generated()
    limits = bootstrap_session_limits(project)
    assert set(limits) == {"deploy", "terraform", "terraform_plan"}
    checked = []
    for name, job_name, job in all_jobs(project):
        for s in steps(job):
            if not s.get("uses", "").startswith("aws-actions/configure-aws-credentials"):
                continue
            duration = int(s["with"]["role-duration-seconds"])
            timeout = job["timeout-minutes"] * 60
            role = role_of(job)
            assert timeout <= duration <= limits[role], (name, job_name, timeout, duration, role, limits[role])
            checked.append(f"{name}:{job_name}")
    assert {"deploy-environment.yml:deploy", "terraform.yml:apply", "terraform.yml:plan"} <= set(checked)
    deploy_job = load_workflow(project / ".github" / "workflows" / "deploy-environment.yml")["jobs"]["deploy"]
    # The migration wait leaves the job time to roll the services out (a waiter round per service).
    assert migration_wait_minutes(project) + ECS_WAITER_MINUTES <= deploy_job["timeout-minutes"]
