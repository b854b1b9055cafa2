"""The generated project's metrics and logs, as CloudWatch would read them: EMF records from real gunicorn with
uvicorn workers, JSON log lines with the request id, and log shipping to CloudWatch Logs (moto, over HTTP) from a
forked process.
"""

import json
import re
import shutil
import sqlite3
import threading
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

import boto3
import cloudwatch_harness as cw
import pytest
import terraform_harness as tf
from project import DEFAULT, make_venv, require, run
from services import aws_env, moto_server, served_app

STAND_IN = Path(__file__).parent / "stand_ins" / "forked_logging.py"
STATUS_METRICS = {"2xx": "Status2xx", "3xx": "Status3xx", "4xx": "Status4xx", "5xx": "Status5xx"}
UNKNOWN_PATHS = 10_000


@pytest.fixture(scope="module")
def project(generated):
    return generated()


@pytest.fixture(scope="module")
def venv(project):
    return make_venv(project, DEFAULT["python_version"])


@pytest.fixture(scope="module")
def database(project, venv, tmp_path_factory):
    """A migrated SQLite database whose notes table is then dropped: the notes views fail with a real 5xx."""
    path = tmp_path_factory.mktemp("db") / "db.sqlite3"
    run([venv / "bin/python", "manage.py", "migrate", "-v0"], cwd=project, env=cw.server_env(project, path))
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE notes_note")
    return path


@pytest.fixture(scope="module")
def served(project, venv, database, tmp_path_factory):
    log = tmp_path_factory.mktemp("served") / "stdout"
    with served_app(project, venv, cw.server_env(project, database, WEB_CONCURRENCY="2"), log) as url:
        yield cw.Server(url, log)


@pytest.fixture(scope="module")
def exchanges(served):
    """Requests with known ids and the status each got; the records are read once they have all been answered."""
    paths = ["/admin/login/", "/admin/", "/notes/", "/notes", "/no/such/page", "/healthz", "/readyz"]
    answered = {}
    for path in paths:
        request_id = f"req-{uuid.uuid4().hex}"
        connection = HTTPConnection("127.0.0.1", urllib.parse.urlsplit(served.url).port, timeout=30)
        connection.request("GET", path, headers={"X-Request-ID": request_id})
        response = connection.getresponse()
        response.read()
        answered[path] = (request_id, response.status, response.getheader("X-Request-ID"))
        connection.close()
    return answered


def records_by_request(served):
    records, _, _ = cw.parse_stdout(served.stdout())
    found = {}
    for record in records:
        found.setdefault(record.get("RequestId"), []).append(record)
    return found


def test_validator_rejects_what_the_specification_forbids():
    valid = {
        "_aws": {
            "Timestamp": 1_795_838_000_000,
            "CloudWatchMetrics": [{"Namespace": "app", "Dimensions": [["Service"]], "Metrics": [{"Name": "Requests"}]}],
        },
        "Service": "web",
        "Requests": 1,
    }
    assert cw.emf_problems(valid) == []
    broken = json.loads(json.dumps(valid))
    broken["_aws"]["Timestamp"] = 1_795_838_000  # seconds, not milliseconds
    broken["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = [[f"D{n}" for n in range(31)]]
    broken["_aws"]["CloudWatchMetrics"][0]["Metrics"] = [{"Name": f"M{n}", "Unit": "Count"} for n in range(101)]
    broken["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Requests"
    problems = "\n".join(cw.emf_problems(broken))
    for expected in ("milliseconds", "31 keys", "101 metrics", "'Requests' is not a CloudWatch unit", "'D0'", "'M5'"):
        assert expected in problems
    assert cw.emf_problems({"Requests": 1}) == ["_aws is missing or not an object"]


def test_each_request_yields_exactly_one_valid_record_with_its_route_and_status_class(served, exchanges):
    found = records_by_request(served)
    expected_routes = {
        "/admin/login/": "admin:login",
        "/admin/": "admin:index",
        "/notes/": "notes:list",
        "/notes": "unmatched",
        "/no/such/page": "unmatched",
    }
    for path, route in expected_routes.items():
        request_id, status, echoed = exchanges[path]
        assert echoed == request_id
        [record] = found.get(request_id, [None])
        assert record is not None, f"no record for {path}"
        assert cw.emf_problems(record) == [], path
        status_class = f"{status // 100}xx"
        assert (record["Route"], record["StatusCode"]) == (route, status), path
        assert {name: record[name] for name in STATUS_METRICS.values()} == {
            metric: int(label == status_class) for label, metric in STATUS_METRICS.items()
        }, path
        assert record["Requests"] == 1
        assert (record["Service"], record["Environment"]) == ("web", "test")


def test_a_failing_view_is_counted_as_5xx(served, exchanges):
    request_id, status, _ = exchanges["/notes/"]
    assert status // 100 == 5  # the missing table: 503 from the database-outage middleware, else 500
    [record] = records_by_request(served)[request_id]
    assert record["Status5xx"] == 1


def test_health_checks_yield_no_record(served, exchanges):
    found = records_by_request(served)
    for path in ("/healthz", "/readyz"):
        request_id, status, _ = exchanges[path]
        assert status == 200
        assert request_id not in found, path


def test_every_stdout_line_is_a_json_object_and_error_lines_carry_the_request_id(served, exchanges):
    _, logs, other = cw.parse_stdout(served.stdout())
    assert other == []
    assert logs
    for line in logs:
        assert {"time", "level", "logger", "message"} <= line.keys()
        # gunicorn's master too: terraform's metric filter counts ERROR lines per service and environment.
        assert (line["service"], line["environment"]) == ("web", "test"), line
    request_id, _, _ = exchanges["/notes/"]
    errors = [line for line in logs if line.get("request_id") == request_id and line["level"] == "ERROR"]
    assert errors, "the 500's error line does not carry the request id"
    assert errors[0]["route"] == "notes:list"


def test_ten_thousand_unknown_paths_share_one_route_value(served):
    port = urllib.parse.urlsplit(served.url).port
    prefix = f"unknown-{uuid.uuid4().hex[:8]}"
    local = threading.local()

    def get(number):
        if not hasattr(local, "connection"):
            local.connection = HTTPConnection("127.0.0.1", port, timeout=60)
        local.connection.request("GET", f"/{prefix}/{number}", headers={"X-Request-ID": f"{prefix}-{number}"})
        response = local.connection.getresponse()
        response.read()
        return response.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = set(pool.map(get, range(UNKNOWN_PATHS)))
    assert statuses == {404}
    records = [r for r in cw.parse_stdout(served.stdout())[0] if str(r.get("RequestId")).startswith(prefix)]
    assert len(records) == UNKNOWN_PATHS
    assert {record["Route"] for record in records} == {"unmatched"}


def test_logs_and_metric_records_reach_cloudwatch_logs_from_a_forked_process(project, venv, tmp_path):
    group = f"/test/{uuid.uuid4().hex[:8]}"
    with moto_server() as endpoint:
        logs = boto3.client("logs", endpoint_url=endpoint, **boto_credentials())
        logs.create_log_group(logGroupName=group)
        # As the README asks of a server outside AWS: AWS_REGION only, which boto3 alone would not read.
        aws = {name: value for name, value in aws_env(endpoint).items() if name != "AWS_DEFAULT_REGION"}
        env = cw.server_env(
            project, tmp_path / "db.sqlite3", CLOUDWATCH_LOG_GROUP=group, PYTHONPATH=str(project), **aws
        )
        result = run([venv / "bin/python", STAND_IN, project.name], cwd=project, env=env, timeout=120)
        child = result.stdout.strip().splitlines()[-1]
        events = logs.filter_log_events(logGroupName=group)["events"]
        streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
    by_message = {}
    for event in events:
        body = json.loads(event["message"])
        by_message[body.get("message", "emf")] = (body, event["logStreamName"])
    assert {"parent before fork", "child after fork", "parent after fork", "emf"} <= by_message.keys()
    line, stream = by_message["child after fork"]
    assert line["request_id"] == "forked-child-request"
    assert stream.endswith(f"/{child}")  # the child ships through its own stream
    record, _ = by_message["emf"]
    assert cw.emf_problems(record) == []
    assert record["ForkedChildren"] == 1
    assert len(streams) == 2


def boto_credentials():
    return {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


# Cross-layer: the names the app writes, the names terraform alarms on and draws, the README's alarm table.

MONITORING = "terraform/modules/monitoring"
STACK = "terraform/modules/stack"
LOCAL_METRIC = re.compile(r"local\.metric\.([a-z0-9_]+)")


def app_names(project):
    """The constants of the app's observability/names.py, evaluated from its source."""
    [path] = project.glob("*/observability/names.py")
    values = {}
    exec(compile(path.read_text(), str(path), "exec"), values)  # the generated project's own constants
    return values


def monitoring_locals(project):
    return tf.locals_of(tf.load_dir(project / MONITORING))


def alarms(project):
    return {name: body for kind, name, body in tf.blocks(tf.load_dir(project / MONITORING), "resource")
            if kind == "aws_cloudwatch_metric_alarm"}  # fmt: skip


def test_terraform_metric_and_dimension_names_are_the_apps(project):
    names = app_names(project)
    local_values = monitoring_locals(project)
    assert set(local_values["metric"].values()) == {*names["REQUEST_METRICS"], names["ERROR_LOG_LINES"]}
    assert set(local_values["dimension"].values()) == {names["SERVICE"], names["ENVIRONMENT"], names["ROUTE"]}
    # The alarms' series is one of the dimension sets every request record carries.
    assert tuple(local_values["web_dimensions"]) in names["REQUEST_DIMENSION_SETS"]


def test_every_app_metric_an_alarm_or_the_dashboard_uses_is_in_the_records_the_app_writes(project, served, exchanges):
    records, _, _ = cw.parse_stdout(served.stdout())
    written = {
        (d["Namespace"], m["Name"]) for r in records for d in r["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    }
    written_dimension_sets = {
        tuple(keys) for r in records for d in r["_aws"]["CloudWatchMetrics"] for keys in d["Dimensions"]
    }
    metric = monitoring_locals(project)["metric"]
    config = tf.load_dir(project / MONITORING)
    used = {match for text in tf.strings(config) for match in LOCAL_METRIC.findall(text)}
    assert used, "the monitoring module names no app metric"
    namespace = "my-project"  # deploy.json's project for the default answers, the settings' default namespace
    app_written = {name for space, name in written if space == namespace}
    # ErrorLogLines comes from terraform's own metric filter, not from a record.
    assert {metric[key] for key in used} - app_written == {metric["error_log_lines"]}
    assert tuple(monitoring_locals(project)["web_dimensions"]) in written_dimension_sets
    for name, body in alarms(project).items():
        for text in tf.strings(body):
            if "metrics_namespace" in text:
                break
        else:
            continue
        assert "local.web_dimensions" in json.dumps(body), f"alarm {name} is not on the whole-service series"


def test_the_stack_gives_the_app_and_the_module_one_namespace_and_environment(project):
    stack = tf.load_dir(project / STACK)
    environment = tf.locals_of(stack)["app_environment"]
    call = tf.labelled(stack, "module")["monitoring"]
    assert call["metrics_namespace"] == "${local.app_environment.METRICS_NAMESPACE}"
    assert call["environment"] == environment["METRICS_ENVIRONMENT"] == "${var.environment}"
    # METRICS_SERVICE is each role's own (task_environment); the alarms watch the web role's, which is also the
    # settings' default.
    assert "METRICS_SERVICE" not in environment
    assert "{METRICS_SERVICE = role}" in tf.locals_of(stack)["task_environment"]
    assert call["web_role"] == app_names(project)["DEFAULT_SERVICE"] == "web"


def test_web_deployments_roll_back_on_the_5xx_rate_and_latency_alarms(project):
    stack = tf.load_dir(project / STACK)
    assert tf.labelled(stack, "module")["ecs"]["deployment_alarm_names"] == (
        "${module.monitoring.deployment_alarm_names}"
    )
    outputs = tf.labelled(tf.load_dir(project / MONITORING), "output")
    assert outputs["deployment_alarm_names"]["value"] == [
        "${aws_cloudwatch_metric_alarm.error_rate.alarm_name}",
        "${aws_cloudwatch_metric_alarm.latency_p99.alarm_name}",
    ]
    [(_, _, service)] = [b for b in tf.blocks(tf.load_dir(project / "terraform/modules/ecs"), "resource")
                         if b[0] == "aws_ecs_service"]  # fmt: skip
    [dynamic] = [entry["alarms"] for entry in service["dynamic"] if "alarms" in entry]
    [content] = dynamic["content"]
    assert (content["enable"], content["rollback"]) == (True, True)


def test_readme_says_what_to_look_at_first_for_every_alarm(project):
    readme = (project / "README.md").read_text()
    table = readme.split("## When an alarm fires")[1].split("\n## ")[0]
    rows = set(re.findall(r"^\| `([a-z0-9<>-]+)` \|", table, flags=re.MULTILINE))
    suffixes = {value.removeprefix("${var.name}-") for value in monitoring_locals(project)["alarm_names"].values()}
    suffixes = {s + "<role>" if s.endswith("-") else s for s in suffixes}
    assert rows == suffixes


DASHBOARD_VARIABLES = {
    "name": "my-project-staging",
    "environment": "staging",
    "metrics_namespace": "my-project",
    "cluster_name": "my-project-staging",
    "service_names": {"web": "my-project-staging-web", "worker": "my-project-staging-worker"},
    "min_running_tasks": 1,
    "load_balancer_resource_label": "app/my-project-staging/0123/targetgroup/my-project-staging-web/4567",
    "db_instance_arn": "arn:aws:rds:us-east-1:123456789012:db:my-project-staging",
    "container_log_group_names": ["/ecs/my-project-staging"],
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/placeholder",
    "queue_name": "my-project-staging-tasks",
    "dead_letter_queue_name": "my-project-staging-tasks-dlq",
}
# What AWS publishes, by namespace: metric names and the dimension names the dashboard may use with them.
AWS_METRICS = {
    "AWS/ApplicationELB": {"HTTPCode_ELB_5XX_Count": {("LoadBalancer",)}},
    "ECS/ContainerInsights": {"RunningTaskCount": {("ClusterName", "ServiceName")}},
    "AWS/RDS": {
        name: {("DBInstanceIdentifier",)} for name in ("CPUUtilization", "DatabaseConnections", "FreeStorageSpace")
    },
    "AWS/SQS": {
        name: {("QueueName",)} for name in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage")
    },
}


@pytest.fixture(scope="module")
def dashboard(project, tmp_path_factory):
    terraform = shutil.which("terraform")
    require(terraform is not None, "terraform is not installed (it evaluates the dashboard body)")
    scratch = tmp_path_factory.mktemp("dashboard")
    return cw.evaluate_locals(
        project / MONITORING, "{ widgets = local.widgets }", DASHBOARD_VARIABLES, scratch, terraform
    )


def test_dashboard_body_is_one_put_dashboard_accepts(dashboard):
    assert cw.dashboard_problems(dashboard) == []
    titles = [widget["properties"]["title"] for widget in dashboard["widgets"]]
    assert len(titles) == len(set(titles))
    assert any(title.startswith("Queue") for title in titles)  # a queue was given


def test_dashboard_validator_rejects_what_the_body_structure_forbids():
    body = {
        "widgets": [
            {"type": "metric", "width": 30, "properties": {"region": "us-east-1", "metrics": [["ns", "M", "odd"]]}},
            {"type": "metric", "properties": {"metrics": [["ns", "M", {"stat": "Median", "colour": "red"}]]}},
            {"type": "graph", "properties": {}},
        ]
    }
    problems = "\n".join(cw.dashboard_problems(body))
    for expected in (
        "'graph' is not a widget type",
        "width",
        "name, value pairs",
        "needs its region",
        "'Median'",
        "colour",
    ):
        assert expected in problems


def test_every_metric_the_dashboard_draws_is_one_the_app_or_aws_writes(project, dashboard, served, exchanges):
    records, _, _ = cw.parse_stdout(served.stdout())
    app = {
        (directive["Namespace"], metric["Name"], tuple(keys))
        for record in records
        for directive in record["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        for keys in directive["Dimensions"]
    }
    names = app_names(project)
    # The metric filter's ErrorLogLines, per Service and Environment, from the JSON lines' fields.
    app.add(("my-project", names["ERROR_LOG_LINES"], (names["SERVICE"], names["ENVIRONMENT"])))
    for namespace, metric, dimensions in cw.dashboard_metrics(dashboard):
        if namespace in AWS_METRICS:
            assert dimensions in AWS_METRICS[namespace].get(metric, set()), (namespace, metric, dimensions)
        else:
            assert (namespace, metric, dimensions) in app, (namespace, metric, dimensions)
