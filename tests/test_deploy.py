"""Deploys and rollbacks, run: .github/scripts/deploy.sh and deploy-environment.yml's steps (through the runner
harness) against the fake AWS CLI, in a git repository with real commits (deploy.sh orders SHAs by ancestry)."""

import json
import re
import shutil
from dataclasses import dataclass

import pytest
import terraform_harness as tf
from project import DEFAULT, SOURCE, run
from runner_harness import Runner, job_environment
from services import https_site
from workflows_harness import FakeAws, fake_aws_state, load_workflow

ACCOUNT = "123456789012"
HOST = "staging.example.test"


@dataclass
class World:
    path: object
    deploy: dict
    fake: FakeAws
    sha: dict  # commit name -> SHA: first (terraform's first apply), a, b, c on main; side branches off a

    def script(self, name, *args, env=None):
        return self.fake.run(["bash", self.path / ".github" / "scripts" / name, *args], cwd=self.path, extra_env=env)

    def deploy_sh(self, *args, env=None):
        return self.script("deploy.sh", *args, env=env)

    def environment(self, name="staging"):
        return self.deploy["environments"][name]

    def running(self, role="web", environment="staging"):
        """The image tag the service of `role` runs now."""
        block = self.environment(environment)
        state = self.fake.state
        current = state["clusters"][block["cluster"]][block["services"][role]]["taskDefinition"]
        family, revision = current.rsplit("/", 1)[1].split(":")
        (definition,) = [d for d in state["task_definitions"][family] if str(d["revision"]) == revision]
        (container,) = [c for c in definition["containerDefinitions"] if c["name"] == role]
        return container["image"].rsplit(":", 1)[1]

    def history(self, environment="staging"):
        return self.fake.state["parameters"][self.environment(environment)["deployed_sha_parameter"]]

    def name_of(self, sha):
        return next(name for name, value in self.sha.items() if value == sha)

    def terraform_registers(self, family, role, **changes):
        """What `terraform apply` does to a task definition: a new revision with terraform's settings and the image
        terraform reads from the environment's deployed-SHA parameter (see the terraform test that checks it)."""
        parameter = self.environment()["deployed_sha_parameter"]

        def register(state):
            revisions = state["task_definitions"][family]
            latest = revisions[-1]
            image = f"{state['repository_uri']}:{state['parameters'][parameter][-1]}"
            containers = [{**c, "image": image} if c["name"] == role else c for c in latest["containerDefinitions"]]
            revision = latest["revision"] + 1
            arn = latest["taskDefinitionArn"].rsplit(":", 1)[0] + f":{revision}"
            changes.update(revision=revision, taskDefinitionArn=arn, containerDefinitions=containers)
            revisions.append({**latest, **changes})

        self.fake.change(state=register)


def git(path, *args):
    return run(["git", "-C", path, *args]).stdout.strip()


def commit(path, message):
    git(path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--allow-empty", "-q", "-m", message)
    return git(path, "rev-parse", "HEAD")


@pytest.fixture
def world(generated, tmp_path):
    """A generated project whose staging has a second service and a Lambda function, as later issues add; a git
    history first → a → b → c on main and a side branch off a; a fake AWS in which terraform created everything on
    `first` (the deployed-SHA parameters hold it) and CI pushed an image for every commit."""
    project = generated(**DEFAULT)
    path = tmp_path / "project"
    shutil.copytree(project / ".github", path / ".github")
    deploy = json.loads((project / "deploy.json").read_text())
    staging = deploy["environments"]["staging"]
    staging["services"]["worker"] = staging["cluster"] + "-worker"
    staging["functions"] = {"consumer": staging["cluster"] + "-consumer"}
    (path / "deploy.json").write_text(json.dumps(deploy))
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    sha = {"first": commit(path, "first")}
    sha["a"] = commit(path, "a")
    sha["b"] = commit(path, "b")
    sha["c"] = commit(path, "c")
    git(path, "checkout", "-q", "-b", "side", sha["a"])
    sha["side"] = commit(path, "side")
    git(path, "checkout", "-q", "main")
    fake = FakeAws(tmp_path / "aws", fake_aws_state(deploy, images=list(sha.values()), first=sha["first"]))
    return World(path, deploy, fake, sha)


# ---------------------------------------------------------------------------------------------------------------
# What a deploy does


def test_a_deploy_migrates_then_rolls_every_service_and_function_to_the_sha(world):
    staging = world.environment()
    result = world.deploy_sh("staging", world.sha["a"])
    assert result.returncode == 0, result.stderr
    state = world.fake.state
    image = f"{state['repository_uri']}:{world.sha['a']}"
    ops = world.fake.ops()
    # The migration ran, on the new image, in the web service's network, before any service changed.
    (task,) = state["tasks"].values()
    assert task["taskDefinitionArn"].endswith(f"/{staging['one_off_tasks']['migrate']}:2")
    assert task["image"] == image
    assert task["network"] == state["clusters"][staging["cluster"]][staging["services"]["web"]]["networkConfiguration"]
    assert ops.index("ecs run-task") < ops.index("ecs update-service")
    for role, service in staging["services"].items():
        assert world.running(role) == world.sha["a"]
        old, new = state["task_definitions"][service]
        assert new["containerDefinitions"][0] == {**old["containerDefinitions"][0], "image": image}
        assert new["containerDefinitions"][1:] == old["containerDefinitions"][1:]  # the sidecar is untouched
        changed = {"containerDefinitions", "revision", "taskDefinitionArn", "registeredAt", "registeredBy"}
        changed |= {"requiresAttributes"}
        assert {k: v for k, v in new.items() if k not in changed} == {k: v for k, v in old.items() if k not in changed}
        tags = state["registered_tags"][new["taskDefinitionArn"]]
        assert tags == [{"key": "Project", "value": world.deploy["project"]}]
    assert state["functions"] == {staging["functions"]["consumer"]: image}
    # Production was not touched.
    production = world.environment("production")
    assert state["task_definitions"][production["services"]["web"]][-1]["revision"] == 1
    assert world.history("production") == [world.sha["first"]]


def test_a_deploy_is_recorded_in_the_environments_history_and_tags_the_image_to_keep_it(world):
    assert world.deploy_sh("staging", world.sha["a"]).returncode == 0
    assert world.history() == [world.sha["first"], world.sha["a"]]
    state = world.fake.state
    kept = f"staging-{world.sha['a']}"
    assert kept in state["images"]
    # The same image: the environment tag carries the manifest of the SHA tag.
    assert state["manifests"][kept] == json.dumps({"schemaVersion": 2, "built": world.sha["a"]})
    # The history is written last, once every service runs the SHA.
    ops = world.fake.ops()
    assert ops[-1] == "ssm put-parameter"
    assert ops.index("ecr put-image") < ops.index("ecs run-task")


def test_a_redeploy_of_the_running_sha_finds_its_environment_tag_and_succeeds(world):
    assert world.deploy_sh("staging", world.sha["a"]).returncode == 0
    result = world.deploy_sh("staging", world.sha["a"])
    assert result.returncode == 0, result.stderr
    assert world.fake.ops().count("ecr put-image") == 1
    assert world.history()[-2:] == [world.sha["a"], world.sha["a"]]


def test_the_deploy_waits_until_each_new_deployment_is_primary_and_completed(world):
    world.fake.change(state=lambda s: s.update(rollout_polls=4))
    result = world.deploy_sh("staging", world.sha["a"])
    assert result.returncode == 0, result.stderr
    # Each service's rollout took four polls; the function and the history come only after both finished.
    ops = world.fake.ops()
    after_updates = ops[len(ops) - 1 - ops[::-1].index("ecs update-service") :]
    assert after_updates.count("ecs describe-services") == 8
    for service in world.environment()["services"].values():
        deployments = world.fake.state["clusters"][world.environment()["cluster"]][service]["deployments"]
        assert [(d["status"], d["rolloutState"]) for d in deployments] == [("PRIMARY", "COMPLETED")]


def test_a_waiter_that_times_out_is_retried_and_the_tasks_own_status_decides(world):
    world.fake.change(waiter_times_out=["TasksStopped"])
    result = world.deploy_sh("staging", world.sha["a"])
    assert result.returncode == 0, result.stderr
    assert world.fake.ops().count("ecs wait") == 6
    assert world.running() == world.sha["a"]


# ---------------------------------------------------------------------------------------------------------------
# Rollbacks and the deploy history


def test_deploy_a_then_a_terraform_change_then_b_then_rollback_previous_runs_a_again(world):
    staging = world.environment()
    web = staging["services"]["web"]
    assert world.deploy_sh("staging", world.sha["a"]).returncode == 0
    # terraform apply changes the web task's CPU: it registers a revision with the image it reads.
    world.terraform_registers(web, "web", cpu="512")
    assert world.fake.state["task_definitions"][web][-1]["containerDefinitions"][0]["image"].endswith(world.sha["a"])
    assert world.deploy_sh("staging", world.sha["b"]).returncode == 0
    assert world.running() == world.sha["b"]
    before = len(world.fake.calls)
    result = world.deploy_sh("staging", "previous", "--rollback")
    assert result.returncode == 0, result.stderr
    assert world.name_of(world.running()) == "a"
    assert world.name_of(world.running("worker")) == "a"
    assert world.history()[-3:] == [world.sha["a"], world.sha["b"], world.sha["a"]]
    # No migration: older code runs on the newer schema; terraform's CPU change stays.
    assert "ecs run-task" not in world.fake.ops()[before:]
    assert world.fake.state["task_definitions"][web][-1]["cpu"] == "512"


def test_rollback_previous_fails_clearly_when_nothing_was_deployed_before(world):
    result = world.deploy_sh("staging", "previous", "--rollback")
    assert result.returncode != 0
    assert "no earlier deployed SHA" in result.stderr
    assert "give the SHA explicitly" in result.stderr


def test_previous_is_a_rollback_word_only(world):
    result = world.deploy_sh("staging", "previous")
    assert result.returncode != 0
    assert world.fake.calls == []


def test_an_invalid_sha_never_reaches_aws(world):
    for value in ("latest", world.sha["a"][:12], world.sha["a"].upper()):
        assert world.deploy_sh("staging", value).returncode != 0
        assert world.deploy_sh("staging", value, "--rollback").returncode != 0
    assert world.fake.calls == []


# ---------------------------------------------------------------------------------------------------------------
# Ordering: an older commit never replaces a newer one, except by a rollback


def test_an_older_commit_does_not_replace_a_newer_one(world):
    assert world.deploy_sh("staging", world.sha["c"]).returncode == 0
    before = len(world.fake.calls)
    result = world.deploy_sh("staging", world.sha["b"])
    assert result.returncode != 0
    assert f"{world.sha['b']} is older than {world.sha['c']}" in result.stderr
    assert "rollback workflow" in result.stderr
    assert world.fake.ops()[before:] == ["ssm get-parameter-history"]
    assert world.running() == world.sha["c"]


def test_ci_deploying_an_older_commit_after_a_newer_one_succeeds_without_deploying(world):
    assert world.deploy_sh("staging", world.sha["c"]).returncode == 0
    before = len(world.fake.calls)
    result = world.deploy_sh("staging", world.sha["b"], "--unless-superseded")
    assert result.returncode == 0, result.stderr
    assert f"already runs {world.sha['c']}, a newer commit" in result.stdout
    assert world.fake.ops()[before:] == ["ssm get-parameter-history"]
    assert world.running() == world.sha["c"]
    # A newer one still deploys with the same flag.
    world.fake.change(state=lambda s: s["images"].append(commit(world.path, "d")))
    assert world.deploy_sh("staging", git(world.path, "rev-parse", "HEAD"), "--unless-superseded").returncode == 0


def test_a_commit_off_the_running_line_is_refused(world):
    assert world.deploy_sh("staging", world.sha["b"]).returncode == 0
    result = world.deploy_sh("staging", world.sha["side"], "--unless-superseded")
    assert result.returncode != 0
    assert f"cannot order {world.sha['side']} after {world.sha['b']}" in result.stderr


def test_a_rollback_may_put_an_older_commit_in_place(world):
    assert world.deploy_sh("staging", world.sha["c"]).returncode == 0
    result = world.deploy_sh("staging", world.sha["a"], "--rollback")
    assert result.returncode == 0, result.stderr
    assert world.running() == world.sha["a"]


# ---------------------------------------------------------------------------------------------------------------
# Every `fail` of deploy.sh, reached


def drop_migrate(world):
    del world.environment()["one_off_tasks"]["migrate"]
    (world.path / "deploy.json").write_text(json.dumps(world.deploy))


def no_network(world):
    block = world.environment()
    world.fake.change(
        state=lambda s: s["clusters"][block["cluster"]][block["services"]["web"]].update(networkConfiguration=None)
    )


def deployed(name):
    def deploy(world):
        assert world.deploy_sh("staging", world.sha[name]).returncode == 0

    return deploy


def failing(**modes):
    """Switch on failure modes of the fake AWS; with a callable value, the value is computed from the world."""
    return lambda world: world.fake.change(**{k: v(world) if callable(v) else v for k, v in modes.items()})


def no_image(world):
    world.fake.change(state=lambda s: s["images"].remove(world.sha["a"]))


def worker(world):
    return world.environment()["services"]["worker"]


# (id, how to break the world, deploy.sh arguments, a piece of that fail's message as deploy.sh spells it)
FAILURES = [
    ("an unknown environment", None, ("qa", "a"), "no environment"),
    ("an unreadable deploy history", failing(ssm_denied=True), ("staging", "a"), "cannot read the deploy history"),
    ("previous with one deploy only", None, ("staging", "previous", "--rollback"), "no earlier deployed SHA"),
    ("an older commit", deployed("c"), ("staging", "b"), "is older than"),
    ("a commit off the running line", deployed("b"), ("staging", "side"), "cannot order"),
    ("a sha with no image", no_image, ("staging", "a"), "no image tagged"),
    ("no migrate task in deploy.json", drop_migrate, ("staging", "a"), "has no one_off_tasks.migrate"),
    ("a web service without a network", no_network, ("staging", "a"), "cannot read the network configuration"),
    ("a migration task that cannot start", failing(run_task_fails=True), ("staging", "a"),
     "could not start the migration task"),
    ("a migration task that stays running", failing(task_stays_running=True), ("staging", "a"),
     "did not finish in time"),
    ("a migration container with no exit code", failing(container_without_exit_code=True), ("staging", "a"),
     "migrations failed (exit code"),
    ("a rollout that fails", failing(rollout_fails=lambda w: {worker(w): f"{worker(w)}-5xx"}), ("staging", "a"),
     "did not complete"),
    ("a rollout that never finishes", failing(rollout_never_finishes=lambda w: [worker(w)]), ("staging", "a"),
     "still rolling out after"),
    ("a function update that fails",
     failing(function_update_fails=lambda w: list(w.environment()["functions"].values())), ("staging", "a"),
     "did not update"),
]  # fmt: skip


@pytest.mark.parametrize(("breakage", "args", "message"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_deploy_fails_with_one_clear_line_on(world, breakage, args, message):
    if breakage:
        breakage(world)
    before = world.history("staging")
    result = world.deploy_sh(*(world.sha.get(a, a) for a in args), env={"DEPLOY_POLLS": "3"})
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("::error::")]
    assert message in line
    if message.startswith("migrations failed"):
        assert "exit code none, CannotPullContainerError" in line
    # A failed deploy is not history: "previous" and terraform keep seeing what ran before.
    assert world.history("staging") == before


def test_every_fail_of_deploy_sh_is_reached_by_a_case_above():
    """Guards the cases above: each `fail` call of deploy.sh holds exactly one case's message, and the other way
    round, so a new `fail` without a test makes this one fail."""
    lines = [line for line in (SOURCE / ".github" / "scripts" / "deploy.sh").read_text().splitlines()
             if re.search(r'\bfail "', line) and not line.lstrip().startswith("fail()")]  # fmt: skip
    assert len(lines) == len(FAILURES) == 14
    for line in lines:
        assert len([f for f in FAILURES if f[3] in line]) == 1, line
    for case in FAILURES:
        assert len([line for line in lines if case[3] in line]) == 1, case[0]


def test_a_failed_rollout_prints_the_alarms_in_alarm_and_the_latest_events(world):
    worker = world.environment()["services"]["worker"]
    world.fake.change(rollout_fails={worker: f"{worker}-5xx"})
    result = world.deploy_sh("staging", world.sha["a"])
    assert result.returncode == 1
    assert f"alarm {worker}-5xx: Threshold Crossed" in result.stderr
    assert re.search(rf"event \S+ \(service {worker}\) rolling back to deployment", result.stderr)
    # The alarm of the service that rolled out fine is OK and is not printed.
    assert f"alarm {world.environment()['services']['web']}-5xx" not in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# deploy-environment.yml's steps, run


def deploy_job(world, inputs, variables, env=None):
    workflow = load_workflow(world.path / ".github" / "workflows" / "deploy-environment.yml")
    runner = Runner(
        world.path,
        job_environment(world.fake.bin, **world.fake.env, DEPLOY_POLL_SECONDS="0", **(env or {})),
        github={"sha": world.sha["c"], "event_name": "push"},
        variables=variables,
        scratch=world.path.parent / "runner",
    )
    return runner.run_job(workflow, "deploy", inputs)


PROVISIONED = {"AWS_ACCOUNT_ID": ACCOUNT, "DOMAIN_NAME": HOST}


def test_the_deploy_job_deploys_then_asks_the_live_site_whether_it_is_ready(world, tmp_path):
    with https_site(tmp_path / "site", HOST) as site:
        job = deploy_job(world, {"environment": "staging", "image_sha": world.sha["a"]}, PROVISIONED,
                         env={"CURL_HOME": site.curl_home})  # fmt: skip
    assert job.ok, job.output
    assert job.credentials == [f"arn:aws:iam::{ACCOUNT}:role/{world.environment()['deploy_role']}"]
    assert world.running() == world.sha["a"]
    assert "ecs run-task" in world.fake.ops()
    assert site.paths == [(HOST, "/readyz")]
    assert f"Deployed `{world.sha['a']}` to **staging**" in job.summary
    assert f"https://{HOST}/readyz" in job.summary


def test_a_live_site_that_is_not_ready_fails_the_job_so_production_does_not_start(world, tmp_path):
    with https_site(tmp_path / "site", HOST, status=503, body=b'{"database": "error"}') as site:
        env = {"CURL_HOME": site.curl_home, "READY_ATTEMPTS": "2", "READY_POLL_SECONDS": "0"}
        job = deploy_job(world, {"environment": "staging", "image_sha": world.sha["a"]}, PROVISIONED, env=env)
    assert not job.ok
    assert job.step("ready").outcome == "failure"
    assert '{"database": "error"}' in job.step("ready").stderr
    assert len(site.paths) == 2
    deploy = load_workflow(world.path / ".github" / "workflows" / "deploy.yml")
    assert deploy["jobs"]["production"]["needs"] == "staging"


def test_the_rollback_job_with_previous_puts_back_the_sha_before_and_runs_no_migration(world, tmp_path):
    assert world.deploy_sh("staging", world.sha["a"]).returncode == 0
    assert world.deploy_sh("staging", world.sha["b"]).returncode == 0
    before = len(world.fake.calls)
    with https_site(tmp_path / "site", HOST) as site:
        job = deploy_job(world, {"environment": "staging", "image_sha": "previous", "rollback": True}, PROVISIONED,
                         env={"CURL_HOME": site.curl_home})  # fmt: skip
    assert job.ok, job.output
    assert world.running() == world.sha["a"]
    ops = world.fake.ops()[before:]
    assert "ecs run-task" not in ops
    assert "ecs register-task-definition" in ops
    assert "(rollback, no migrations)" in job.summary


def test_the_rollback_workflow_calls_the_job_as_a_rollback():
    """The inputs rollback.yml gives deploy-environment.yml are the ones the test above runs with."""
    rollback = load_workflow(SOURCE / ".github" / "workflows" / "rollback.yml")
    assert rollback["jobs"]["rollback"]["with"]["rollback"] is True
    assert rollback["on"]["workflow_dispatch"]["inputs"]["image_sha"]["default"] == "previous"


def test_ci_deploys_of_main_leave_a_newer_commit_in_place(world, tmp_path):
    assert world.deploy_sh("staging", world.sha["c"]).returncode == 0
    with https_site(tmp_path / "site", HOST) as site:
        job = deploy_job(world, {"environment": "staging", "image_sha": world.sha["b"], "unless_superseded": True},
                         PROVISIONED, env={"CURL_HOME": site.curl_home})  # fmt: skip
    assert job.ok, job.output
    assert world.running() == world.sha["c"]
    assert f"already runs `{world.sha['c']}`" in job.summary


@pytest.mark.parametrize(
    "variables",
    [{}, {"AWS_ACCOUNT_ID": ACCOUNT}, {"DOMAIN_NAME": HOST}],
    ids=["with no variables", "with the account only", "with the domain only"],
)
def test_an_environment_not_yet_provisioned_succeeds_without_deploying_and_says_so(world, variables):
    job = deploy_job(world, {"environment": "staging", "image_sha": world.sha["a"]}, variables)
    assert job.ok, job.output
    assert world.fake.calls == []
    assert job.credentials == []
    assert "staging is not provisioned yet: nothing was deployed" in job.summary
    assert "first day" in job.summary


def test_an_invalid_sha_fails_the_job_even_before_the_environment_exists(world):
    job = deploy_job(world, {"environment": "staging", "image_sha": "previous"}, {})
    assert not job.ok
    assert job.step("validate").outcome == "failure"
    assert world.fake.calls == []


# ---------------------------------------------------------------------------------------------------------------
# The layers agree: the parameter deploy.sh writes is the one terraform reads and the deploy role may use


def test_terraform_registers_revisions_with_the_sha_the_deploy_history_holds(generated):
    """The other half of the rollback scenario above: terraform's revisions take their image from the parameter
    named by deploy.json's deployed_sha_parameter, the one deploy.sh writes, and never overwrite it."""
    project = generated(**DEFAULT)
    stack = tf.load_dir(project / "terraform" / "modules" / "stack")
    assert tf.locals_of(stack)["names"] == "${local.deploy.environments[var.environment]}"
    (parameter,) = [b for t, n, b in tf.blocks(stack, "resource") if t == "aws_ssm_parameter" and n == "deployed_sha"]
    assert parameter["name"] == "${local.names.deployed_sha_parameter}"
    assert parameter["type"] == "String"
    assert parameter["insecure_value"] == "${var.image_tag}"
    assert parameter["lifecycle"][0]["ignore_changes"] == ["insecure_value"]
    ecs = tf.labelled(stack, "module")["ecs"]
    assert (
        ecs["image"] == "${data.aws_ecr_repository.app.repository_url}:${aws_ssm_parameter.deployed_sha.insecure_value}"
    )
    # The ECS module puts that image in every container definition of its task definitions.
    module = (project / "terraform" / "modules" / "ecs" / "main.tf").read_text()
    assert re.search(r"^\s+image\s+= var\.image$", module, flags=re.MULTILINE)
    # The deploy role of each environment may read the history and write it, for its own parameter only.
    bootstrap = tf.load_dir(project / "terraform" / "bootstrap")
    policy = next(b for t, n, b in tf.blocks(bootstrap, "data") if n == "deploy")
    (history,) = [s for s in policy["statement"] if s.get("sid") == "DeployHistory"]
    assert set(history["actions"]) == {"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter"}
    assert history["resources"] == [
        "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${each.value.deployed_sha_parameter}"
    ]
    deploy = json.loads((project / "deploy.json").read_text())
    for name, environment in deploy["environments"].items():
        assert environment["deployed_sha_parameter"].startswith("/")  # the ARN above puts no slash before it
        assert name in environment["deployed_sha_parameter"]


def test_the_tag_a_deploy_adds_is_one_the_ecr_lifecycle_keeps(generated):
    """deploy.sh tags <environment>-<sha>; bootstrap gives the ECR module those prefixes, whose rules come first."""
    project = generated(**DEFAULT)
    bootstrap = tf.load_dir(project / "terraform" / "bootstrap")
    ecr = tf.labelled(bootstrap, "module")["ecr"]
    assert ecr["deployed_tag_prefixes"] == '${[for environment in keys(local.deploy.environments) : "${environment}-"]}'
    script = (SOURCE / ".github" / "scripts" / "deploy.sh").read_text()
    assert 'kept="$environment-$sha"' in script
