"""The generated GitHub Actions: linted, schema-valid, least-privilege, pinned, named from deploy.json, and the
deploy/rollback scripts exercised against a fake AWS CLI (AWS is never reachable here)."""

import json
import os
import re
import shlex
import shutil

import docker_harness
import pytest
from project import COMBOS, DEFAULT, combo_id, require, run, tool
from runner_harness import Runner
from services import on_test_servers, require_shared_services
from workflows_harness import (
    actionlint,
    load_workflow,
    shell_of_run,
    step,
    steps,
    workflows,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
ALL = pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
AWS_ACTION = re.compile(r"^aws-actions/")
AWS_COMMAND = re.compile(r"(^|[\s;(|&])aws\s|\.github/scripts/deploy\.sh|\bterraform\b.*\b(init|plan|apply)\b")


def github_files(project):
    return sorted(p for p in (project / ".github").rglob("*") if p.is_file())


def local_actions(project):
    """{"./.github/actions/<name>": action.yml as loaded} for every composite action of the project."""
    return {
        f"./.github/actions/{p.parent.name}": load_workflow(p)
        for p in sorted((project / ".github" / "actions").glob("*/action.yml"))
    }


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
    jobs = [(name, job_name, job) for name, job_name, job in all_jobs(project)]
    jobs += [(uses.rsplit("/", 1)[1], "action", action["runs"]) for uses, action in local_actions(project).items()]
    for name, job_name, job in jobs:
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
    assert len(first) == 10
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
    local = [u for u in uses if re.search(r"uses: \./\.github/(workflows/[\w-]+\.yml|actions/[\w-]+)$", u)]
    assert {u.split("uses: ")[1] for u in local if "/actions/" in u} == set(local_actions(project))
    remote = [u for u in uses if u not in local]
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
        "terraform.yml:release-plan",
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
def test_every_role_arn_comes_from_the_one_aws_role_action(generated, combo):
    project = generated(**combo)
    (action,) = local_actions(project)
    configured = 0
    for name, job_name, job in all_jobs(project):
        for s in steps(job):
            if "configure-aws-credentials" in s.get("uses", ""):
                configured += 1
                assert s["with"]["role-to-assume"] == "${{ steps.names.outputs.role_arn }}"
                assert s["with"]["aws-region"] == "${{ steps.names.outputs.aws_region }}"
                names = step(job, "names")
                assert names["uses"] == action, f"{name}:{job_name}"
                assert names["with"]["account-id"] == "${{ vars.AWS_ACCOUNT_ID }}"
        # Nothing builds a role ARN by hand any more.
        assert not any("arn:aws:iam::" in s.get("run", "") for s in steps(job)), f"{name}:{job_name}"
    assert configured == 5


def run_aws_role_action(project, tmp_path, **given):
    job = {"steps": [{"id": "names", "uses": "./.github/actions/aws-role", "with": given}]}
    runner = Runner(project, dict(os.environ), scratch=tmp_path / f"runner-{len(list(tmp_path.iterdir()))}")
    return runner.run_job({"on": {}, "jobs": {"names": {**job}}}, "names")


@pytest.mark.parametrize(
    ("role", "environment", "key"),
    [
        ("deploy_role", "staging", ("environments", "staging", "deploy_role")),
        ("deploy_role", "production", ("environments", "production", "deploy_role")),
        ("terraform_role", "production", ("environments", "production", "terraform_role")),
        ("terraform_plan_role", "", ("terraform_plan_role",)),
    ],
    ids=["the staging deploy role", "the production deploy role", "the production terraform role", "the plan role"],
)
def test_the_aws_role_action_names_from_deploy_json(generated, tmp_path, role, environment, key):
    project = generated(**DEFAULT)
    deploy = deploy_json(project)
    expected = deploy
    for part in key:
        expected = expected[part]
    given = {"account-id": "123456789012", "role": role, "environment": environment}
    job = run_aws_role_action(project, tmp_path, **given)
    assert job.ok, job.output
    assert job.outputs["names"] == {
        "aws_region": deploy["aws_region"],
        "ecr_repository": deploy["ecr_repository"],
        "role_arn": f"arn:aws:iam::123456789012:role/{expected}",
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"account-id": "", "role": "terraform_role"}, 'AWS_ACCOUNT_ID is "": set the repository variable'),
        ({"account-id": "12345", "role": "terraform_role"}, 'AWS_ACCOUNT_ID is "12345"'),
        ({"account-id": "123456789012", "role": "admin"}, 'role "admin": use deploy_role'),
        ({"account-id": "123456789012", "role": "deploy_role", "environment": "qa"}, "deploy.json has no"),
    ],
    ids=["an unset account", "a short account", "an unknown role", "an unknown environment"],
)
def test_the_aws_role_action_refuses_with_one_line_naming_the_field(generated, tmp_path, given, message):
    job = run_aws_role_action(generated(**DEFAULT), tmp_path, **given)
    assert not job.ok
    errors = [line for line in job.output.splitlines() if line.startswith("::error::")]
    assert len(errors) == 1, job.output
    assert message in errors[0]


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
    # Before bootstrap (no AWS_ACCOUNT_ID) there is no registry: the push, and so the deploy, are skipped.
    assert push["if"] == main_only + " && vars.AWS_ACCOUNT_ID != ''"
    assert push["needs"] == ["lint", "image"]
    assert "docker load --input image.tar" in [s.get("run", "").strip() for s in steps(push)]
    assert not any("build-push-action" in s.get("uses", "") for s in steps(push))
    uploads = [s for s in steps(ci["jobs"]["image"]) if s.get("if") == main_only]
    assert len(uploads) == 2
    assert "docker save" in uploads[0]["run"]
    deploy = ci["jobs"]["deploy"]
    assert deploy["needs"] == "push"
    assert deploy["uses"] == "./.github/workflows/deploy.yml"
    assert deploy["with"] == {"image_sha": "${{ github.sha }}", "unless_superseded": True}
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
            environment["deployed_sha_parameter"],
            environment["terraform_role"],
            *environment["services"].values(),
            *environment["one_off_tasks"].values(),
        }
    for path in github_files(project):
        text = path.read_text()
        assert [n for n in names if n in text] == [], path.name
    # Every fixed jq lookup the workflows and actions make exists in deploy.json, for every environment (the
    # role lookups are run by the aws-role action tests above).
    lookups = set()
    for path in [*(project / ".github" / "workflows").glob("*.yml"), *(project / ".github" / "actions").rglob("*.yml")]:
        lookups |= set(re.findall(r"jq -er (?:--arg env \"\$ENVIRONMENT\" )?'([^']+)' deploy\.json", path.read_text()))
    assert lookups >= {".aws_region", ".ecr_repository"}
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
    assert "needs" not in jobs["staging"]  # the SHA is validated inside deploy-environment.yml
    assert jobs["production"]["with"]["environment"] == "production"
    assert jobs["production"]["needs"] == "staging"
    # Only CI's calls (unless_superseded: true) may meet a newer commit and step aside; by hand, older is an error.
    assert deploy["on"]["workflow_call"]["inputs"]["unless_superseded"]["default"] is False
    assert "unless_superseded" not in deploy["on"]["workflow_dispatch"]["inputs"]
    for job in (jobs["staging"], jobs["production"]):
        assert job["with"]["unless_superseded"] == "${{ inputs.unless_superseded == true }}"
        assert "rollback" not in job["with"]
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


@pytest.mark.parametrize("rollback", [False, True], ids=["for a deploy", "for a rollback"])
def test_the_image_sha_input_is_validated_in_one_place_before_anything_else(generated, rollback):
    """deploy-environment.yml's validation step, run with bash as the runner would, on good and bad input; it is the
    only place a workflow validates the SHA (deploy.yml and rollback.yml both go through it)."""
    project = generated(**DEFAULT)
    places = [(n, j) for n, j, job in all_jobs(project) for s in steps(job) if "validate-sha.sh" in s.get("run", "")]
    assert places == [("deploy-environment.yml", "deploy")]
    job = load_workflow(project / ".github" / "workflows" / "deploy-environment.yml")["jobs"]["deploy"]
    validate = step(job, "validate")
    env_value = {**job.get("env", {}), **validate.get("env", {})}["IMAGE_SHA"]
    assert env_value == "${{ inputs.image_sha }}", "the input reaches the shell only through the environment"
    assert job["env"]["ROLLBACK"] == "${{ inputs.rollback }}"
    assert "${{" not in validate["run"]
    # Validation is the first step after checkout: nothing reaches AWS with an unchecked value.
    assert [s.get("id") for s in steps(job)][1] == "validate"
    expected = {value: True for value in GOOD} | {value: False for value in BAD} | {"previous": rollback}
    for value, ok in expected.items():
        result = subprocess_bash(validate["run"], project, {"IMAGE_SHA": value, "ROLLBACK": str(rollback).lower()})
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
    assert job["with"]["rollback"] is True
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
    # Pull requests (code anyone with push access writes) only ever get the read-only plan role.
    roles = {job: step(jobs[job], "names")["with"]["role"] for job in ("plan", "release-plan", "apply")}
    assert roles == {"plan": "terraform_plan_role", "release-plan": "terraform_plan_role", "apply": "terraform_role"}
    # Each environment applies with its own role, which trusts only that GitHub environment.
    assert step(jobs["apply"], "names")["with"]["environment"] == "${{ inputs.environment }}"


@ALL
def test_terraform_applies_exactly_the_plan_published_before_the_approval(generated, combo):
    project = generated(**combo)
    jobs = load_workflow(project / ".github" / "workflows" / "terraform.yml")["jobs"]
    plan, apply = jobs["release-plan"], jobs["apply"]
    by_hand = "github.event_name == 'workflow_dispatch'"
    assert plan["if"] == apply["if"] == by_hand
    # The plan job runs before any approval (no environment) and cannot change anything (the plan role).
    assert "environment" not in plan
    assert apply["environment"] == "${{ inputs.environment }}"
    assert apply["needs"] == "release-plan"
    plan_runs = [s.get("run", "") for s in steps(plan)]
    assert 'terraform -chdir="terraform/environments/$ENVIRONMENT" plan -lock=false -out=tfplan' in plan_runs
    summary = step(plan, "summary")["run"]
    assert "show -no-color tfplan" in summary
    assert '>>"$GITHUB_STEP_SUMMARY"' in summary
    (upload,) = [s for s in steps(plan) if "upload-artifact" in s.get("uses", "")]
    (download,) = [s for s in steps(apply) if "download-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == download["with"]["name"] == "tfplan-${{ inputs.environment }}"
    assert upload["with"]["path"] == download["with"]["path"] + "/tfplan"
    assert download["with"]["path"] == "terraform/environments/${{ inputs.environment }}"
    # The apply job plans nothing itself: it applies the downloaded file, after downloading it.
    apply_runs = [s.get("run", "") for s in steps(apply)]
    assert not any(" plan" in r for r in apply_runs)
    assert apply_runs[-1] == 'terraform -chdir="terraform/environments/$ENVIRONMENT" apply tfplan'
    assert steps(apply).index(download) < len(steps(apply)) - 1


TINY_ROOT = """
variable "size" {
  type    = string
  default = "%s"
}

resource "terraform_data" "size" {
  input = var.size
}
"""


def test_the_apply_job_applies_the_published_plan_and_refuses_it_once_the_state_moved(generated, tmp_path):
    """terraform.yml's release-plan and apply jobs, their steps run with a real terraform on a root that needs no
    provider download (terraform_data is built in), the plan file passed between them as an artifact."""
    terraform = shutil.which("terraform")
    require(terraform, "terraform is not installed")
    project = generated(**DEFAULT)
    world = tmp_path / "project"
    shutil.copytree(project / ".github", world / ".github")
    shutil.copy(project / "deploy.json", world / "deploy.json")
    root = world / "terraform" / "environments" / "staging"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(TINY_ROOT % "small")
    workflow = load_workflow(world / ".github" / "workflows" / "terraform.yml")
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": "/dev/null"}
    runner = Runner(
        world, env, github={"event_name": "workflow_dispatch"}, variables={"AWS_ACCOUNT_ID": "123456789012"}
    )

    def fresh_machine():
        # Each job starts from a clean checkout: no plan file, no .terraform directory.
        (root / "tfplan").unlink(missing_ok=True)
        shutil.rmtree(root / ".terraform", ignore_errors=True)

    def state():
        resources = json.loads((root / "terraform.tfstate").read_text())["resources"]
        return [r["instances"][0]["attributes"]["input"]["value"] for r in resources]

    planned = runner.run_job(workflow, "release-plan", {"environment": "staging"})
    assert planned.ok, planned.output
    assert "### terraform plan for staging" in planned.summary
    assert "terraform_data.size will be created" in planned.summary
    fresh_machine()
    applied = runner.run_job(workflow, "apply", {"environment": "staging"})
    assert applied.ok, applied.output
    assert state() == ["small"]
    # A reviewed plan, then someone else changes the state before the approval: the old plan is refused.
    (root / "main.tf").write_text(TINY_ROOT % "medium")
    fresh_machine()
    assert runner.run_job(workflow, "release-plan", {"environment": "staging"}).ok
    plan_file = runner.artifacts / "tfplan-staging" / "tfplan"
    assert plan_file.is_file()
    run([terraform, f"-chdir={root}", "init", "-input=false"], env=env)
    run([terraform, f"-chdir={root}", "apply", "-input=false", "-auto-approve", "-var", "size=large"], env=env)
    fresh_machine()
    stale = runner.run_job(workflow, "apply", {"environment": "staging"})
    assert not stale.ok
    assert "can no longer be applied because the state was changed" in stale.output.replace("\n", " ")
    assert state() == ["large"]


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
# CI's image steps, run as written against the real images


SERVICE_URLS = {"DATABASE_URL", "REDIS_URL"}


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
            # CI's service containers stand on TEST_POSTGRES_URL's and TEST_REDIS_URL's servers here.
            given = {k: on_test_servers(str(v)) if k in SERVICE_URLS else str(v) for k, v in s.get("env", {}).items()}
            env = {**docker.env, **given, **names}
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
    text = "\n".join(
        [s.get("run", "") for s in steps(job)] + [str(s.get("with", {}).get("role", "")) for s in steps(job)]
    )
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
