"""Background-task infrastructure per consumer, and its names agreeing across terraform, deploy.json, the image's
entry point and the Django settings."""

import json
import re

import pytest
import terraform_harness as tf
from project import CHOICES

STACK = "terraform/modules/stack"
TASK_ENVIRONMENT = {
    "TASKS_QUEUE_URL",
    "TASKS_DEAD_LETTER_QUEUE_URL",
    "TASKS_VISIBILITY_TIMEOUT_SECONDS",
    "TASKS_TIME_LIMIT_SECONDS",
}
FILES = {
    "lambda": {"tasks_queue.tf", "tasks_lambda.tf"},
    "celery": {"tasks_queue.tf", "tasks_celery.tf"},
    "none": {"tasks_none.tf"},
}


@pytest.fixture(scope="module", params=CHOICES["async_consumer"], ids=lambda c: f"consumer={c}")
def rendered(request, generated):
    project = generated(async_consumer=request.param)
    return {
        "consumer": request.param,
        "path": project,
        "stack": tf.load_dir(project / STACK),
        "deploy": json.loads((project / "deploy.json").read_text()),
    }


def settings_read(project):
    text = (project / "config" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|int|bool|list|choice)\("([A-Z0-9_]+)"', text))


def test_each_consumer_keeps_only_its_own_task_files(rendered):
    present = {p.name for p in (rendered["path"] / STACK).glob("tasks_*.tf")}
    assert present == FILES[rendered["consumer"]]
    modules = {p.name for p in (rendered["path"] / "terraform/modules").iterdir()}
    assert ("queue" in modules) == (rendered["consumer"] != "none")
    assert ("lambda_consumer" in modules) == (rendered["consumer"] == "lambda")


def test_the_task_environment_names_are_the_ones_the_settings_read(rendered):
    environment = tf.locals_of(rendered["stack"])["app_environment"]
    assert set(environment) >= TASK_ENVIRONMENT
    assert settings_read(rendered["path"]) >= TASK_ENVIRONMENT
    assert environment["TASKS_QUEUE_URL"] == "${local.tasks_queue_url}"


def test_the_queue_url_comes_from_the_queue_module_when_there_is_a_consumer(rendered):
    url = tf.locals_of(rendered["stack"])["tasks_queue_url"]
    assert url == ("" if rendered["consumer"] == "none" else "${module.tasks_queue.url}")


def test_deploy_json_names_the_consumer_the_stack_runs(rendered):
    entrypoint = (rendered["path"] / "docker-entrypoint.sh").read_text()
    for environment in rendered["deploy"]["environments"].values():
        has_worker = "worker" in environment["services"]
        has_function = "tasks" in environment.get("functions", {})
        assert has_worker == (rendered["consumer"] == "celery")
        assert has_function == (rendered["consumer"] == "lambda")
    # Every ECS service runs its role as the command: the worker role must exist in the entry point.
    for role in rendered["deploy"]["environments"]["staging"]["services"]:
        assert f"\n  {role})" in entrypoint


def test_the_lambda_function_runs_the_lambda_role_and_reports_partial_failures(generated):
    project = generated(async_consumer="lambda")
    stack = tf.load_dir(project / STACK)
    call = tf.labelled(stack, "module")["tasks_lambda"]
    assert call["function_name"] == "${local.names.functions.tasks}"
    environment = "${merge(local.app_environment, local.service_environment, local.tasks_function_environment)}"
    assert call["environment"] == environment
    module = tf.load_dir(project / "terraform/modules/lambda_consumer")
    variables = tf.labelled(module, "variable")
    assert variables["command"]["default"] == ["lambda"]
    assert "\n  lambda)" in (project / "docker-entrypoint.sh").read_text()
    [mapping] = [body for type_, _, body in tf.blocks(module, "resource") if type_ == "aws_lambda_event_source_mapping"]
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]


def test_the_queue_hides_a_message_six_times_as_long_as_a_consumer_may_take(generated):
    module = tf.load_dir(generated(async_consumer="celery") / "terraform/modules/queue")
    [queue] = [body for type_, name, body in tf.blocks(module, "resource") if name == "this"]
    assert queue["visibility_timeout_seconds"] == "${6 * var.consumer_timeout_seconds}"
    assert "maxReceiveCount" in queue["redrive_policy"]


def test_the_web_role_may_only_send_to_the_queue(generated):
    stack = tf.load_dir(generated(async_consumer="lambda") / STACK)
    [document] = [body for type_, name, body in tf.blocks(stack, "data") if name == "tasks_send"]
    statements = document["statement"]
    sqs_actions = {a for s in statements for a in s["actions"] if a.startswith("sqs:")}
    assert sqs_actions == {"sqs:SendMessage"}


def test_the_lambda_function_reads_the_secrets_ecs_injects_and_connects_as_the_app_role(generated):
    """Lambda cannot inject secrets: the function gets <NAME>_SECRET_ARN for each secret ECS injects, the settings
    read every one of them through env_secret, and the function's role may read exactly those and connect to the
    database as the app's user."""
    project = generated(async_consumer="lambda")
    stack = tf.load_dir(project / STACK)
    app_secrets = next(block["app_secrets"] for block in stack["locals"] if "app_secrets" in block)
    settings = (project / "config" / "settings.py").read_text()
    assert set(re.findall(r'env_secret\(\s*"(\w+)"', settings)) == set(app_secrets)
    lambda_locals = next(block for block in stack["locals"] if "tasks_function_environment" in block)
    assert "_SECRET_ARN" in lambda_locals["tasks_function_environment"]
    call = tf.labelled(stack, "module")["tasks_lambda"]
    assert call["secret_arns"] == "${values(local.app_secrets)}"
    assert call["database_connect_arn"] == "${module.iam.database_connect_arn}"
    assert call["permissions_boundary_arn"] == "${local.permissions_boundary_arn}"
    module = tf.load_dir(project / "terraform/modules/lambda_consumer")
    [document] = [body for type_, name, body in tf.blocks(module, "data") if name == "consume"]
    granted = {action: statement["resources"] for statement in document["statement"] for action in statement["actions"]}
    assert granted["rds-db:connect"] == ["${var.database_connect_arn}"]
    assert granted["secretsmanager:GetSecretValue"] == "${var.secret_arns}"


def test_monitoring_alarms_on_the_queue_the_stack_creates(rendered):
    call = tf.labelled(rendered["stack"], "module")["monitoring"]
    assert call["queue_name"] == "${local.tasks_queue_name}"
    assert call["dead_letter_queue_name"] == "${local.tasks_dead_letter_queue_name}"
    names = next(block for block in rendered["stack"]["locals"] if "tasks_queue_name" in block)
    if rendered["consumer"] == "none":
        assert (names["tasks_queue_name"], names["tasks_dead_letter_queue_name"]) == (None, None)
    else:
        assert names["tasks_queue_name"] == "${module.tasks_queue.name}"
        assert names["tasks_dead_letter_queue_name"] == "${module.tasks_queue.dead_letter_name}"


def actions_granted_to(stack, role):
    """Every action the stack's role policies on ROLE (an expression) grant, through its policy documents."""
    documents = {name: body for type_, name, body in tf.blocks(stack, "data") if type_ == "aws_iam_policy_document"}
    actions = set()
    for type_, _, body in tf.blocks(stack, "resource"):
        if type_ == "aws_iam_role_policy" and body["role"] == role:
            document = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", body["policy"]).group(1)
            actions |= {action for statement in documents[document]["statement"] for action in statement["actions"]}
    return actions


def test_the_web_role_may_only_enqueue_and_only_the_worker_consumes(rendered):
    stack, deploy = rendered["stack"], rendered["deploy"]
    web = {action for action in actions_granted_to(stack, "${local.names.task_role}") if action.startswith("sqs:")}
    assert web <= {"sqs:SendMessage"}
    service_roles = tf.locals_of(stack)["service_task_role_arns"]
    environments = deploy["environments"].values()
    if rendered["consumer"] != "celery":
        assert service_roles == {}
        assert not any("worker_task_role" in names for names in environments)
        return
    # The worker service runs as a role of its own, named in deploy.json, which alone may consume the queue.
    assert service_roles == {"worker": "${module.iam.worker_task_role_arn}"}
    assert (
        tf.labelled(stack, "module")["iam"]["worker_task_role_name"]
        == '${lookup(local.names, "worker_task_role", null)}'
    )
    worker = actions_granted_to(stack, "${module.iam.worker_task_role_name}")
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:SendMessage"} <= worker
    for names in environments:
        assert names["worker_task_role"] == f"{names['cluster']}-worker-task"
    iam = tf.load_dir(rendered["path"] / "terraform/modules/iam")
    roles = {name: body for type_, name, body in tf.blocks(iam, "resource") if type_ == "aws_iam_role"}
    assert roles["worker_task"]["name"] == "${var.worker_task_role_name}"
    assert roles["worker_task"]["permissions_boundary"] == "${var.permissions_boundary_arn}"
    ecs = (rendered["path"] / "terraform/modules/ecs/main.tf").read_text()
    assert "task_role_arn = lookup(var.service_task_role_arns, role, var.task_role_arn)" in ecs
